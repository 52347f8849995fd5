// Security checks against one real `kindtray serve`: who may talk to the port
// (token, Host, Origin) on every route, what the files on disk let other users
// read, how big and how deep a request may be, which methods each route takes,
// the one-time dashboard link and its cookie, and the headers that keep a
// browser from misreading an answer. No cluster is needed: Docker points at a
// socket that does not exist. The threat model is in SECURITY.md.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse } from '../shared/api.ts';
import { CONTENT_SECURITY_POLICY } from '../shared/csp.ts';
import { freePort, serve, tempHome, type Served } from './helpers/serve.ts';

// ---------------------------------------------------------------------------
// One server for the file; `/control/shutdown` is asked for last.

let s: Served;
// A home that does not exist yet, so that Kindtray itself creates it (and picks its mode).
const home = join(tempHome('kt-sec-'), 'kindtray');
const env = { KINDTRAY_HOME: home, DOCKER_HOST: 'unix:///nonexistent', KUBECONFIG: join(home, 'no-kubeconfig') };

beforeAll(async () => {
  s = await serve(env, { port: await freePort() });
}, 60_000);
afterAll(async () => {
  await s?.stop();
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

interface Ask {
  token?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body in pieces with no content-length (chunked), as a streaming client does. */
  chunked?: boolean;
  /** The answer is a stream (events, follow): take the status and headers, then hang up. */
  stream?: boolean;
}

/** One request with node:http, which (unlike fetch) lets a test send any Host header. */
function ask(method: string, path: string, opts: Ask = {}): Promise<Reply> {
  const started = performance.now();
  const headers: Record<string, string> = { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers };
  if (opts.body !== undefined && !opts.chunked) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = request({ host: '127.0.0.1', port: s.port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      const done = (body: string) => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started });
      };
      if (opts.stream && res.statusCode === 200) {
        done('');
        res.destroy();
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done(body));
      res.on('error', () => done(body));
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path}: no answer in 20 s`)));
    // The server may answer (413) and close while the body is still going out.
    req.on('error', (e) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
    if (opts.body !== undefined && opts.chunked) {
      const step = 64 * 1024;
      for (let i = 0; i < opts.body.length; i += step) req.write(opts.body.slice(i, i + step));
      req.end();
    } else req.end(opts.body);
  });
}

const json = <T = { error?: string }>(r: Reply): T => JSON.parse(r.body) as T;

/** The worker is replaced by /control/server/restart; requests it serves wait until the new one answers. */
async function workerHealthy(): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const h = await ask('GET', '/api/health');
    if (h.status === 200 && json<HealthResponse>(h).worker.state === 'healthy') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the API worker did not become healthy within 30 s');
}

// ---------------------------------------------------------------------------
// Every route

const TASK_ID = 't-000000000000';
const TASK = 'name: sec-check\nrun: echo hi\n';

interface Route {
  method: string;
  /** As registered in the source (`/api/tasks/:id`). */
  pattern: string;
  /** What this test sends. */
  path: string;
  /** False for the two answers that need no token: health, and the dashboard's files. */
  auth: boolean;
  body?: string;
  stream?: boolean;
  /** What the right token and our own Origin get: the route working, not refused. */
  ok: number[];
}

const ROUTES: Route[] = [
  { method: 'GET', pattern: '/api/health', path: '/api/health', auth: false, ok: [200] },
  // 503 is the dashboard's "not built yet" page, served with the same headers.
  { method: 'GET', pattern: '/', path: '/', auth: false, ok: [200, 503] },
  { method: 'GET', pattern: '/api/status', path: '/api/status', auth: true, ok: [200] },
  { method: 'GET', pattern: '/api/events', path: '/api/events', auth: true, stream: true, ok: [200] },
  { method: 'GET', pattern: '/api/history', path: '/api/history', auth: true, ok: [200] },
  { method: 'GET', pattern: '/api/settings', path: '/api/settings', auth: true, ok: [200] },
  { method: 'PUT', pattern: '/api/settings', path: '/api/settings', auth: true, body: '{}', ok: [200] },
  { method: 'POST', pattern: '/control/fixes/:id', path: '/control/fixes/refresh-status', auth: true, ok: [200] },
  { method: 'POST', pattern: '/control/server/restart', path: '/control/server/restart', auth: true, ok: [200] },
  { method: 'POST', pattern: '/control/login-token', path: '/control/login-token', auth: true, ok: [200] },
  // Its right-token case runs last of all (below): it ends the server.
  { method: 'POST', pattern: '/control/shutdown', path: '/control/shutdown', auth: true, ok: [202] },
  // Proxied to the API worker. Docker is down, so a launch is refused (422) after validation, and no task exists.
  { method: 'POST', pattern: '/api/validate', path: '/api/validate', auth: true, body: TASK, ok: [422] },
  { method: 'POST', pattern: '/api/tasks', path: '/api/tasks', auth: true, body: TASK, ok: [422] },
  { method: 'GET', pattern: '/api/tasks', path: '/api/tasks', auth: true, ok: [200] },
  { method: 'GET', pattern: '/api/tasks/:id', path: `/api/tasks/${TASK_ID}`, auth: true, ok: [404] },
  { method: 'DELETE', pattern: '/api/tasks/:id', path: `/api/tasks/${TASK_ID}`, auth: true, ok: [404] },
  { method: 'GET', pattern: '/api/tasks/:id/logs', path: `/api/tasks/${TASK_ID}/logs`, auth: true, ok: [404] },
];

describe('the route table is complete', () => {
  it('every route registered in the supervisor and the worker is in the matrix below', () => {
    const registered = new Set<string>();
    for (const file of ['../electron/supervisor/supervisor.ts', '../electron/server/routes.ts']) {
      const text = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
      for (const m of text.matchAll(/\.on\('(GET|POST|PUT|DELETE|PATCH)', '([^']+)'/g)) registered.add(`${m[1]} ${m[2]}`);
    }
    // The worker's liveness ping is not proxied (only /api/* is), and needs the worker's own secret.
    registered.delete('GET /internal/ping');
    registered.add('GET /api/health');
    expect(registered.size).toBeGreaterThan(10);
    expect(new Set(ROUTES.map((r) => `${r.method} ${r.pattern}`).filter((k) => k !== 'GET /'))).toEqual(registered);
  });
});

describe('token, Host and Origin on every route', () => {
  describe.each(ROUTES)('$method $path', (route) => {
    const send = (opts: Ask) => ask(route.method, route.path, { ...(route.body !== undefined ? { body: route.body } : {}), ...(route.stream ? { stream: true } : {}), ...opts });

    it(route.auth ? 'no token → 401' : 'no token → answered (needs none)', async () => {
      const r = await send({});
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      if (!route.auth) {
        expect(route.ok).toContain(r.status);
        return;
      }
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(json(r).error).toMatch(/token/);
    });

    it(route.auth ? 'wrong token → 401' : 'wrong token → answered (needs none)', async () => {
      const r = await send({ token: `${s.token.slice(0, -1)}${s.token.endsWith('A') ? 'B' : 'A'}` });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      if (route.auth) expect(r.status).toBe(401);
      else expect(route.ok).toContain(r.status);
    });

    it('right token, foreign Host (DNS rebinding) → 403', async () => {
      const r = await send({ token: s.token, headers: { host: `rebind.example:${s.port}` } });
      expect(r.status).toBe(403);
      expect(json(r).error).toMatch(/not a loopback name/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    });

    it('right token, foreign Origin → 403', async () => {
      const r = await send({ token: s.token, headers: { origin: 'https://evil.example' } });
      expect(r.status).toBe(403);
      expect(json(r).error).toMatch(/Origin/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    });

    // For shutdown this case is the last test of the file.
    if (route.pattern === '/control/shutdown') return;

    it('right token and our own Origin → the route answers', async () => {
      await workerHealthy();
      const r = await send({ token: s.token, headers: { origin: `http://127.0.0.1:${s.port}` } });
      expect(r.status, r.body.slice(0, 300)).not.toBe(401);
      expect(r.status).not.toBe(403);
      expect(route.ok).toContain(r.status);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      if (route.pattern.startsWith('/api/') || route.pattern.startsWith('/control/')) {
        if (!route.stream) expect(r.headers['content-type']).toMatch(/^application\/json/);
      }
      if (route.pattern === '/control/server/restart') await workerHealthy();
    });
  });
});

describe('the edges of the rules', () => {
  it('only loopback names pass as Host; look-alikes and other addresses do not', async () => {
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `LOCALHOST:${s.port}`, `[::1]:${s.port}`, '127.0.0.1']) {
      expect((await ask('GET', '/api/health', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of [`127.0.0.1.nip.example:${s.port}`, `localhost.evil.example:${s.port}`, `0.0.0.0:${s.port}`, `127.0.0.2:${s.port}`, `[::2]:${s.port}`, `kindtray.local:${s.port}`]) {
      expect((await ask('GET', '/api/health', { headers: { host } })).status, host).toBe(403);
    }
  });

  it("only our own origins pass: not another port of this machine, not https, not 'null'", async () => {
    for (const origin of [`http://127.0.0.1:${s.port}`, `http://localhost:${s.port}`, `http://[::1]:${s.port}`]) {
      expect((await ask('GET', '/api/status', { token: s.token, headers: { origin } })).status, origin).toBe(200);
    }
    for (const origin of [`http://127.0.0.1:${s.port + 1}`, `https://127.0.0.1:${s.port}`, 'null', `http://localhost.evil.example:${s.port}`, `http://127.0.0.1:${s.port}.evil.example`]) {
      expect((await ask('GET', '/api/status', { token: s.token, headers: { origin } })).status, origin).toBe(403);
    }
  });

  it('near-miss credentials are refused: the token in another scheme or case, empty, or as a cookie', async () => {
    const tries: Record<string, string>[] = [
      { authorization: s.token },
      { authorization: `Basic ${s.token}` },
      { authorization: `bearer ${s.token}` },
      { authorization: `Bearer ${s.token.toUpperCase() === s.token ? s.token.toLowerCase() : s.token.toUpperCase()}` },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${s.token}${s.token}` },
      { cookie: `kindtray_session=${s.token}` },
      { cookie: 'kindtray_session=' },
    ];
    for (const headers of tries) expect((await ask('GET', '/api/status', { headers })).status, JSON.stringify(headers)).toBe(401);
  });

  it('a request with no Host at all is refused (HTTP/1.0 style)', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.port, path: '/api/health', setHost: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(r).toBe(400);
  });
});

// ---------------------------------------------------------------------------
// Files

describe('what other users of this machine can read', () => {
  const mode = (file: string) => statSync(file).mode & 0o777;

  it('server.json (the token) is 0600', () => {
    expect(mode(join(home, 'server.json'))).toBe(0o600);
  });

  it('settings.json is 0600 after a PUT', async () => {
    expect((await ask('PUT', '/api/settings', { token: s.token, body: '{"notifications": true}' })).status).toBe(200);
    expect(mode(join(home, 'settings.json'))).toBe(0o600);
  });

  it('the app log is 0600', async () => {
    // Running a fix writes a line to the app log before the answer.
    expect((await ask('POST', '/control/fixes/refresh-status', { token: s.token })).status).toBe(200);
    expect(mode(join(home, 'logs', 'kindtray.log'))).toBe(0o600);
  });

  it('the task database (task sources, env values included) is 0600, with its WAL files', async () => {
    await workerHealthy();
    const files = readdirSync(home).filter((f) => f.startsWith('kindtray.db'));
    expect(files).toContain('kindtray.db');
    for (const f of files) expect(mode(join(home, f)), f).toBe(0o600);
  });

  it('the home and logs folders, made by Kindtray, are its user\'s alone', () => {
    expect(mode(home) & 0o077).toBe(0);
    expect(mode(join(home, 'logs')) & 0o077).toBe(0);
  });

  it('nothing in KINDTRAY_HOME is readable by another user', () => {
    const open: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        if (mode(p) & 0o077) open.push(`${p} ${mode(p).toString(8)}`);
      }
    };
    walk(home);
    expect(open).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Size and shape of what comes in

describe('bodies and YAML are bounded', () => {
  const over = 'x'.repeat(256 * 1024 + 1);

  it.each([
    ['POST', '/api/validate'],
    ['POST', '/api/tasks'],
    ['PUT', '/api/settings'],
  ])('%s %s: a body over 256 KiB → 413 that names the limit, declared or streamed', async (method, path) => {
    for (const chunked of [false, true]) {
      await workerHealthy();
      const r = await ask(method, path, { token: s.token, body: over, chunked });
      expect(r.status, `chunked=${chunked}`).toBe(413);
      expect(json(r).error).toMatch(/limit/);
    }
  });

  it('a "billion laughs" alias bomb → 422 that says aliases, fast', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const r = await ask('POST', '/api/validate', { token: s.token, body: levels.join('\n') });
    expect(r.status).toBe(422);
    const body = json<{ errors: { path: string; message: string }[] }>(r);
    expect(body.errors[0]?.message).toMatch(/alias/);
    // Milliseconds of work; the bound is loose for a loaded machine and only catches a hang.
    expect(r.ms).toBeLessThan(5_000);
  });

  it.each([
    ['flow', '['.repeat(60 * 1024)],
    ['block', `run: ${'- '.repeat(30 * 1024)}x`],
  ])('a %s-nested document → 422 "nested more than", fast, and the worker lives on', async (_style, text) => {
    await workerHealthy();
    const pid = json<HealthResponse>(await ask('GET', '/api/health')).worker.pid;
    const r = await ask('POST', '/api/validate', { token: s.token, body: text });
    expect(r.status).toBe(422);
    expect(json<{ errors: { path: string; message: string }[] }>(r).errors[0]).toMatchObject({ path: '', message: expect.stringMatching(/nested more than/) });
    expect(r.ms).toBeLessThan(5_000);
    expect(json<HealthResponse>(await ask('GET', '/api/health')).worker.pid).toBe(pid);
  });

  it('a task over 64 KiB (but under the body limit) → 422 that names the size', async () => {
    const r = await ask('POST', '/api/validate', { token: s.token, body: `run: ${'x'.repeat(100 * 1024)}` });
    expect(r.status).toBe(422);
    expect(r.body).toMatch(/at most 64 KiB/);
  });
});

describe('paths that are not what they seem', () => {
  it('a malformed %-escape is a 400, with or without a token, and nothing dies', async () => {
    await workerHealthy();
    const before = json<HealthResponse>(await ask('GET', '/api/health'));
    // No token needed for this one: any web page could send it with an <img>.
    expect((await ask('GET', '/%E0%A4%A')).status).toBe(400);
    expect((await ask('GET', '/api/tasks/%E0%A4%A', { token: s.token })).status).toBe(400);
    expect((await ask('DELETE', '/api/tasks/%E0%A4%A', { token: s.token })).status).toBe(400);
    expect((await ask('POST', '/control/fixes/%E0%A4%A', { token: s.token })).status).toBe(400);
    const after = json<HealthResponse>(await ask('GET', '/api/health'));
    expect(after.pid).toBe(before.pid);
    expect(after.worker.pid).toBe(before.worker.pid);
    expect(after.worker.restarts).toBe(before.worker.restarts);
  });

  it('the dashboard serves nothing outside its folder', async () => {
    for (const path of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2f..%2fpackage.json']) {
      const r = await ask('GET', path);
      expect(r.body, path).not.toContain('"name": "kindtray"');
    }
  });
});

// ---------------------------------------------------------------------------
// Methods

describe('methods a route does not take', () => {
  const WRONG: [string, string, string][] = [
    ['PUT', '/api/health', 'GET, HEAD'],
    ['DELETE', '/api/health', 'GET, HEAD'],
    ['DELETE', '/api/status', 'GET'],
    ['PUT', '/api/events', 'GET'],
    ['DELETE', '/api/history', 'GET'],
    ['DELETE', '/api/settings', 'GET, PUT'],
    ['PUT', '/api/validate', 'POST'],
    ['DELETE', '/api/validate', 'POST'],
    ['PUT', '/api/tasks', 'POST, GET'],
    ['DELETE', '/api/tasks', 'POST, GET'],
    ['PUT', `/api/tasks/${TASK_ID}`, 'GET, DELETE'],
    ['PUT', `/api/tasks/${TASK_ID}/logs`, 'GET'],
    ['DELETE', `/api/tasks/${TASK_ID}/logs`, 'GET'],
    ['PUT', '/control/fixes/refresh-status', 'POST'],
    ['DELETE', '/control/fixes/refresh-status', 'POST'],
    // A GET cannot run a fix, restart or stop anything: an <img> on a web page cannot either.
    ['GET', '/control/fixes/start-docker', 'POST'],
    ['GET', '/control/server/restart', 'POST'],
    ['GET', '/control/shutdown', 'POST'],
    ['GET', '/control/login-token', 'POST'],
    ['DELETE', '/control/server/restart', 'POST'],
    ['PUT', '/control/login-token', 'POST'],
    ['DELETE', '/control/shutdown', 'POST'],
    ['PUT', '/', 'GET, HEAD'],
    ['DELETE', '/', 'GET, HEAD'],
  ];

  it.each(WRONG)('%s %s → 405, Allow: %s', async (method, path, allow) => {
    await workerHealthy();
    const r = await ask(method, path, { token: s.token });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe(allow);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });
});

// ---------------------------------------------------------------------------
// The dashboard link and its cookie

describe('the one-time dashboard link', () => {
  async function link(): Promise<string> {
    const r = await ask('POST', '/control/login-token', { token: s.token });
    const url = new URL(json<{ url: string }>(r).url);
    return `${url.pathname}${url.search}`;
  }

  it('works once: the first visit gets an HttpOnly, SameSite=Strict session cookie and a URL without the token; the second is refused', async () => {
    const path = await link();
    expect(path).toMatch(/^\/\?token=[\w-]{20,}$/);
    const first = await ask('GET', path);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = first.headers['set-cookie']?.[0] ?? '';
    const attrs = cookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=strict');
    expect(attrs).toContain('path=/');
    const session = cookie.split(';')[0] ?? '';
    expect(session).toMatch(/^kindtray_session=[\w-]{20,}$/);
    expect(session).not.toContain(s.token);

    expect((await ask('GET', '/api/status', { headers: { cookie: session } })).status).toBe(200);
    // The cookie is no pass for another site's page: its Origin is still refused.
    expect((await ask('POST', '/control/fixes/refresh-status', { headers: { cookie: session, origin: 'https://evil.example' } })).status).toBe(403);

    const again = await ask('GET', path);
    expect(again.status).toBe(401);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.body).toMatch(/Dashboard links work once/);
  });

  it('a login token is not a bearer token, and an unknown one gets no cookie', async () => {
    const path = await link();
    const token = new URLSearchParams(path.slice(2)).get('token') ?? '';
    expect((await ask('GET', '/api/status', { token })).status).toBe(401);
    const forged = await ask('GET', '/?token=not-a-real-login-token');
    expect(forged.status).toBe(401);
    expect(forged.headers['set-cookie']).toBeUndefined();
  });
});

describe('headers that keep a browser from misreading an answer', () => {
  it('every dashboard answer (page, redirect, refusal, error) carries the CSP, nosniff and no framing', async () => {
    const answers = [await ask('GET', '/'), await ask('GET', '/?token=nope'), await ask('DELETE', '/', { token: s.token }), await ask('GET', '/%E0%A4%A')];
    const login = await ask('POST', '/control/login-token', { token: s.token });
    const u = new URL(json<{ url: string }>(login).url);
    answers.push(await ask('GET', `${u.pathname}${u.search}`));
    for (const r of answers) {
      expect(r.headers['content-security-policy'], String(r.status)).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'(;|$)/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/frame-ancestors 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval/);
  });

  it('API answers are JSON (or an event stream) with nosniff, never HTML', async () => {
    for (const path of ['/api/health', '/api/status', '/api/nothing-here', '/control/nothing-here']) {
      const r = await ask('GET', path, { token: s.token });
      expect(r.headers['content-type'], path).toMatch(/^application\/json/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    const events = await ask('GET', '/api/events', { token: s.token, stream: true });
    expect(events.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events.headers['x-content-type-options']).toBe('nosniff');
  });
});

// ---------------------------------------------------------------------------
// Last: the right-token case of /control/shutdown (it ends the server).

describe('shutdown, asked for properly', () => {
  it('with the token and our Origin → 202, the process exits and server.json is gone', async () => {
    const r = await ask('POST', '/control/shutdown', { token: s.token, headers: { origin: `http://127.0.0.1:${s.port}` } });
    expect(r.status).toBe(202);
    await new Promise<void>((resolve, reject) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
      const timer = setTimeout(() => reject(new Error('kindtray serve did not exit within 15 s of /control/shutdown')), 15_000);
      s.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    expect(() => statSync(join(home, 'server.json'))).toThrow();
  });
});
