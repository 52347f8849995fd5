// The event stream, read from a fetch body in whatever chunks the network gives.

import { describe, expect, it } from 'vitest';
import { SseParser, backoffMs, toServerEvent } from './sse.ts';

describe('SSE parser', () => {
  it('reads events split across chunks, and skips keep-alive comments', () => {
    const p = new SseParser();
    expect(p.push('event: fix\ndata: {"type":"fix","fixId":"start-')).toEqual([]);
    expect(p.push('docker","state":"running"}\n\n: keep-alive\n\nevent: task\r\ndata: {"a"')).toEqual([
      { event: 'fix', data: '{"type":"fix","fixId":"start-docker","state":"running"}' },
    ]);
    expect(p.push(':1}\r\n\r\n')).toEqual([{ event: 'task', data: '{"a":1}' }]);
  });

  it('joins multi-line data', () => {
    expect(new SseParser().push('data: a\ndata: b\n\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });
});

describe('server events', () => {
  it('accepts the three kinds the server sends', () => {
    expect(toServerEvent({ event: 'fix', data: '{"type":"fix","fixId":"start-docker","state":"done","message":"ok"}' })).toEqual({
      type: 'fix',
      fixId: 'start-docker',
      state: 'done',
      message: 'ok',
    });
    expect(toServerEvent({ event: 'snapshot', data: '{"type":"snapshot","snapshot":{"overall":"ok"}}' })?.type).toBe('snapshot');
    expect(toServerEvent({ event: 'task', data: '{"type":"task","task":{"id":"t1"}}' })?.type).toBe('task');
  });

  it('ignores what it does not know, and broken JSON', () => {
    expect(toServerEvent({ event: 'other', data: '{"type":"other"}' })).toBeUndefined();
    expect(toServerEvent({ event: 'fix', data: '{"type":"fix","fixId":"x","state":"weird"}' })).toBeUndefined();
    expect(toServerEvent({ event: 'snapshot', data: '{not json' })).toBeUndefined();
  });
});

describe('reconnect backoff', () => {
  it('doubles from half a second and stops at ten', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

describe('fix steps on the stream', () => {
  it('a step is carried when it is well formed, dropped when not', () => {
    const step = { id: 'cluster:dev', label: 'Start cluster dev', state: 'done', at: 5, message: 'API answered after 3 s' };
    expect(toServerEvent({ event: 'fix', data: JSON.stringify({ type: 'fix', fixId: 'start-docker', state: 'running', step }) })).toEqual({
      type: 'fix',
      fixId: 'start-docker',
      state: 'running',
      step,
    });
    const bad = toServerEvent({ event: 'fix', data: JSON.stringify({ type: 'fix', fixId: 'start-docker', state: 'running', step: { ...step, state: 'weird' } }) });
    expect(bad).toEqual({ type: 'fix', fixId: 'start-docker', state: 'running' });
  });
});
