// The dashboard's reading of task log events: each event's id is kept (the
// cursor a reconnect sends back), however the text is cut into chunks.

import { describe, expect, it } from 'vitest';
import { LogEventParser } from './TaskLogs.tsx';

describe('LogEventParser', () => {
  it('gives events with their ids, whatever the chunks, and skips keep-alive comments', () => {
    const wire = 'event: nodes\ndata: {"nodes":[0,1]}\n\n: keep-alive\n\nid: 0:3,1:0\nevent: log\ndata: {"node":0,"text":"a\\n"}\n\nid: 0:3,1:2\nevent: log\ndata: {"node":1,"text":"b\\n"}\n\n';
    const p = new LogEventParser();
    const events = [];
    for (let i = 0; i < wire.length; i += 7) events.push(...p.push(wire.slice(i, i + 7)));
    expect(events).toEqual([
      { event: 'nodes', data: '{"nodes":[0,1]}' },
      { event: 'log', id: '0:3,1:0', data: '{"node":0,"text":"a\\n"}' },
      { event: 'log', id: '0:3,1:2', data: '{"node":1,"text":"b\\n"}' },
    ]);
  });
});
