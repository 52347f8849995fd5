import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, readBody, readJson, Router, sameSecret, sendJson, sendNoRoute } from './index.ts';

let server: Server;
let port = 0;

beforeAll(async () => {
  const router = new Router()
    .on('GET', '/things/:id', (_req, res, { id }) => sendJson(res, 200, { id }))
    .on('DELETE', '/things/:id', () => {
      throw new HttpError(409, { error: 'busy', field: 'id' });
    })
    .on('POST', '/echo', async (req, res) => sendJson(res, 200, { text: await readBody(req, 16) }))
    .on('PUT', '/json', async (req, res) => sendJson(res, 200, { value: await readJson(req, 1024, 'the body') }))
    .on('GET', '/boom', () => {
      throw new Error('kaput');
    });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    void router.handle(req, res, url).then((matched) => matched || sendNoRoute(res, req.method, url.pathname));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function ask(method: string, path: string, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the HTTP room', () => {
  it('routes by method and path, with decoded params, as JSON that is never cached or sniffed', async () => {
    const r = await ask('GET', '/things/a%20b');
    expect(r).toMatchObject({ status: 200, body: { id: 'a b' } });
    expect(r.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-type': 'application/json; charset=utf-8' });
  });

  it('a known path with another method is a 405 that says which are allowed; an unknown path is the caller\'s 404', async () => {
    const r = await ask('PUT', '/things/1');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, DELETE');
    expect(await ask('GET', '/nowhere')).toMatchObject({ status: 404, body: { error: 'no route GET /nowhere' } });
  });

  it('a malformed %-escape is a 400, an HttpError its own answer, anything else a 500: never a crash', async () => {
    expect((await ask('GET', '/things/%E0%A4%A')).status).toBe(400);
    expect(await ask('DELETE', '/things/1')).toMatchObject({ status: 409, body: { error: 'busy', field: 'id' } });
    expect(await ask('GET', '/boom')).toMatchObject({ status: 500, body: { error: 'internal error: kaput' } });
  });

  it('bodies are read under a limit (413 beyond it); JSON that does not parse is a 400', async () => {
    expect(await ask('POST', '/echo', 'short')).toMatchObject({ status: 200, body: { text: 'short' } });
    expect((await ask('POST', '/echo', 'x'.repeat(64))).status).toBe(413);
    expect(await ask('PUT', '/json', '{"a":1}')).toMatchObject({ status: 200, body: { value: { a: 1 } } });
    expect(await ask('PUT', '/json', '{nope')).toMatchObject({ status: 400, body: { error: 'the body must be a JSON object' } });
  });

  it('secrets compare equal only when equal, whatever their lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abd', 'abc')).toBe(false);
    expect(sameSecret('ab', 'abc')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
  });
});
