import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../shared/api.ts';
import type { OperationEvent } from '../../shared/contracts/clusters.ts';
import { followServerEvents, parseSse } from './server-events.ts';

describe('parseSse', () => {
  it('splits events, joins data lines, skips comments, keeps the unfinished rest', () => {
    const seen: [string, string][] = [];
    const rest = parseSse(': keep-alive\n\nevent: task\ndata: {"a":\ndata: 1}\n\nevent: fix\ndata: {"b"', (e, d) => seen.push([e, d]));
    expect(seen).toEqual([['task', '{"a":\n1}']]);
    expect(rest).toBe('event: fix\ndata: {"b"');
  });
});

describe('following the supervisor’s event stream', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? (server.closeAllConnections(), server.close(() => r())) : r())));

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('sends the token, parses events, and reconnects when the stream ends', async () => {
    let connections = 0;
    const auths: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      connections++;
      auths.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const task = { id: `t-${connections}`, state: 'succeeded' };
      res.write(`event: task\ndata: ${JSON.stringify({ type: 'task', task })}\n\n`);
      res.write('event: junk\ndata: not json\n\n');
      if (connections === 2) res.write(`event: operation\ndata: ${JSON.stringify({ type: 'operation', operation: { id: 'op-1', kind: 'create', cluster: 'dev', state: 'running', steps: [], startedAt: 'x' } })}\n\n`);
      if (connections === 1) res.end();
    });
    const events: (ServerEvent | OperationEvent)[] = [];
    const follower = followServerEvents({ url, token: 's3cret', onEvent: (e) => events.push(e), retryMs: 20 });
    await expect.poll(() => events.length, { timeout: 3_000 }).toBe(3);
    follower.stop();
    // Cluster operations come through too, for the tray's progress line.
    expect(events.map((e) => (e.type === 'task' ? e.task.id : e.type === 'operation' ? e.operation.id : e.type))).toEqual(['t-1', 't-2', 'op-1']);
    expect(auths).toEqual(['Bearer s3cret', 'Bearer s3cret']);
  });

  it('keeps trying, with backoff, while the server refuses; stop() ends it', async () => {
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      res.writeHead(401).end();
    });
    const lines: string[] = [];
    const follower = followServerEvents({ url, token: 'x', onEvent: () => undefined, retryMs: 10, maxRetryMs: 40, log: (l) => lines.push(l) });
    await expect.poll(() => hits, { timeout: 3_000 }).toBeGreaterThanOrEqual(3);
    follower.stop();
    const after = hits;
    await new Promise((r) => setTimeout(r, 100));
    expect(hits).toBe(after);
    expect(lines[0]).toBe('event stream: answered 401; again in 10 ms');
  });
});
