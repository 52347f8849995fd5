// Browser or Electron: the same calls reach the same server, with a cookie in
// one and a bearer token in the other; failures come back as values.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { labelled } from './fixes.ts';
import { Api, browserTransport, electronTransport, findBridge, isWorkerTrouble, parseServerAddress } from './transport.ts';

afterEach(() => vi.unstubAllGlobals());

const answer = (status: number, body: unknown) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('which transport', () => {
  it('uses the preload’s bridge when there is one, and only a well-formed one', () => {
    expect(findBridge({})).toBeUndefined();
    expect(findBridge({ kindtray: { getServer: 'no' } })).toBeUndefined();
    const bridge = { getServer: async () => ({ result: { url: 'http://127.0.0.1:1', token: 't', version: '0.1.0' } }) };
    expect(findBridge({ kindtray: bridge })).toBe(bridge);
  });

  it('reads the server address plain or wrapped as {result}, and fails on {error}', () => {
    expect(parseServerAddress({ url: 'http://127.0.0.1:46590/', token: 'abc' })).toEqual({ url: 'http://127.0.0.1:46590', token: 'abc' });
    expect(parseServerAddress({ result: { url: 'http://127.0.0.1:1', token: 'x' } })).toEqual({ url: 'http://127.0.0.1:1', token: 'x' });
    expect(() => parseServerAddress({ error: 'server not started' })).toThrow('server not started');
    expect(() => parseServerAddress({ error: { code: 'failed', message: 'no supervisor yet' } })).toThrow('no supervisor yet');
    expect(() => parseServerAddress({ url: 1 })).toThrow();
  });
});

describe('requests', () => {
  it('in a browser: same origin, the session cookie, no token', async () => {
    const fetch = vi.fn(async () => answer(200, { tasks: [] }));
    vi.stubGlobal('fetch', fetch);
    const r = await new Api(browserTransport()).json('/api/tasks');
    expect(r).toEqual({ ok: true, status: 200, data: { tasks: [] } });
    expect(fetch).toHaveBeenCalledWith('/api/tasks', expect.objectContaining({ credentials: 'same-origin' }));
  });

  it('in Electron: the server’s URL and a bearer token, asked for once', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => answer(200, {}));
    vi.stubGlobal('fetch', fetch);
    const getServer = vi.fn(async () => ({ result: { url: 'http://127.0.0.1:46590', token: 'tok', version: '0.1.0' } }));
    const api = new Api(electronTransport({ getServer }));
    await api.json('/api/status');
    await api.json('/api/tasks');
    expect(getServer).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[1] ?? [];
    expect(url).toBe('http://127.0.0.1:46590/api/tasks');
    expect(new Headers(init?.headers).get('authorization')).toBe('Bearer tok');
    expect(init?.credentials).toBe('omit');
  });

  it('asks for the address again after a failure (the server may have moved)', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const getServer = vi.fn(async () => ({ result: { url: 'http://127.0.0.1:1', token: 't', version: '0.1.0' } }));
    const api = new Api(electronTransport({ getServer }));
    const r = await api.json('/api/status');
    expect(r).toMatchObject({ ok: false, status: 0 });
    await api.json('/api/status');
    expect(getServer).toHaveBeenCalledTimes(2);
  });

  it('a hung worker’s 503 is a value with its fix; the fix gets its label from shared/problems', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => answer(503, { error: 'the API worker did not answer', fix: { id: 'restart-server' } })));
    const r = await new Api(browserTransport()).json('/api/tasks');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(isWorkerTrouble(r.failure)).toBe(true);
    expect(r.failure.error.fix && labelled(r.failure.error.fix)).toEqual({ id: 'restart-server', label: 'Restart server' });
  });

  it('a 422 from validate still carries its body, for the errors it lists', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => answer(422, { ok: false, errors: [{ path: 'name', message: 'bad' }], warnings: [] })));
    const r = await new Api(browserTransport()).json<{ errors: unknown[] }>('/api/validate', { method: 'POST', okStatuses: [422] });
    expect(r).toMatchObject({ ok: false, status: 422, data: { errors: [{ path: 'name' }] } });
  });

  it('a 401 says how to sign in again; another non-JSON error keeps its text', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => answer(401, '')));
    const r = await new Api(browserTransport()).json('/api/status');
    expect(!r.ok && r.failure.error.error).toMatch(/kindtray dashboard/);
    vi.stubGlobal('fetch', vi.fn(async () => answer(502, 'Bad gateway')));
    const r2 = await new Api(browserTransport()).json('/api/status');
    expect(!r2.ok && r2.failure.error.error).toBe('Bad gateway');
  });

  it('streams text as it comes', async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('line 1\n'));
        c.enqueue(new TextEncoder().encode('line 2\n'));
        c.close();
      },
    });
    vi.stubGlobal('fetch', vi.fn(async () => new Response(body, { status: 200 })));
    const chunks: string[] = [];
    const failure = await new Api(browserTransport()).stream('/api/tasks/t/logs', (t) => chunks.push(t), new AbortController().signal);
    expect(failure).toBeUndefined();
    expect(chunks.join('')).toBe('line 1\nline 2\n');
  });
});
