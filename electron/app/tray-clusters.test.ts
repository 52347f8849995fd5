import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { stopClusterFromTray } from './tray-clusters.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A stand-in for our own server's cluster route: records what it was asked, answers as told. */
function ownServer(answer: (req: IncomingMessage) => [number, object]): Promise<{ url: string; seen: { method?: string; url?: string; auth?: string }[] }> {
  const seen: { method?: string; url?: string; auth?: string }[] = [];
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const [status, body] = answer(req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server!.address() as { port: number }).port}`, seen })));
}

describe('Stop from the tray', () => {
  it('asks the server’s stop route for that cluster, with the token; 202 is ok', async () => {
    const s = await ownServer(() => [202, { operation: { id: 'op-1' } }]);
    const outcome = await stopClusterFromTray({ url: s.url, token: 'tok' }, 'dev.1');
    expect(s.seen).toEqual([{ method: 'POST', url: '/api/clusters/dev.1/stop', auth: 'Bearer tok' }]);
    expect(outcome).toMatchObject({ ok: true, message: 'stopping dev.1' });
  });

  it('a refusal is told in the server’s words (409: something already runs on it)', async () => {
    const s = await ownServer(() => [409, { error: 'cluster dev is being created', operation: 'op-2' }]);
    expect(await stopClusterFromTray({ url: s.url, token: 'tok' }, 'dev')).toMatchObject({ ok: false, message: 'cluster dev is being created' });
  });

  it('a server that does not answer is a failure, not a hang', async () => {
    const outcome = await stopClusterFromTray({ url: 'http://127.0.0.1:1', token: 'tok' }, 'dev');
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/did not answer/);
  });
});
