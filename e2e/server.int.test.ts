// The supervisor and its API worker as users meet them: `kindtray serve` as a
// real process. These need no cluster: Docker points at a socket that does not
// exist, which is itself one of the states Kindtray must answer well in.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthResponse } from '../shared/api.ts';
import { call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';

const running: Served[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  for (const c of cleanups.splice(0)) await c();
});

function envFor(home: string): NodeJS.ProcessEnv {
  return { KINDTRAY_HOME: home, DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}`, KUBECONFIG: join(home, 'kubeconfig') };
}

async function start(opts: { port?: number; settings?: object } = {}): Promise<Served> {
  const home = tempHome();
  if (opts.settings) writeSettings(home, opts.settings);
  const s = await serve(envFor(home), { port: opts.port ?? (await freePort()) });
  running.push(s);
  return s;
}

function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, setHost: !('host' in headers) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('who may talk to the server', () => {
  it('health needs no token; everything else needs the bearer token from server.json', async () => {
    const s = await start();
    expect((await call(`${s.url}/api/health`)).status).toBe(200);
    expect((await call(`${s.url}/api/status`)).status).toBe(401);
    expect((await call(`${s.url}/api/status`, { token: 'wrong-token-wrong-token' })).status).toBe(401);
    expect((await call(`${s.url}/api/tasks`)).status).toBe(401);
    expect((await call(`${s.url}/control/fixes/start-docker`, { method: 'POST' })).status).toBe(401);
    const ok = await call<{ docker: { state: string } }>(`${s.url}/api/status`, { token: s.token });
    expect(ok.status).toBe(200);
    expect(ok.body.docker.state).toBe('stopped');
  });

  it('refuses a Host that is not a loopback name (DNS rebinding), and a foreign Origin', async () => {
    const s = await start();
    const rebound = await rawGet(s.port, '/api/health', { host: `evil.example:${s.port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('not a loopback name');
    const foreign = await call(`${s.url}/api/status`, { token: s.token, headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    const own = await call(`${s.url}/api/status`, { token: s.token, headers: { origin: `http://127.0.0.1:${s.port}` } });
    expect(own.status).toBe(200);
    expect((await rawGet(s.port, '/api/health', { host: `localhost:${s.port}` })).status).toBe(200);
  });

  it('refuses an oversize body with the limit, before the worker sees it', async () => {
    const s = await start();
    const big = 'x'.repeat(300 * 1024);
    const r = await call<{ error: string }>(`${s.url}/api/validate`, { method: 'POST', token: s.token, body: big });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/limit/);
  });

  it('writes server.json with mode 0600 while it runs and removes it on a clean exit', async () => {
    const s = await start();
    const file = join(s.home, 'server.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await s.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('a one-time dashboard token becomes an HttpOnly SameSite=Strict cookie and leaves the URL', async () => {
    const s = await start();
    const link = await kindtray(['dashboard', '--json'], envFor(s.home));
    const { url } = JSON.parse(link.stdout) as { url: string };
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await call(`${s.url}/api/status`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(withCookie.status).toBe(200);
    const again = await fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(401);
  });
});

describe('a hung API worker costs a restart, not the app', () => {
  it('worker frozen (SIGSTOP) → marked hung and replaced; health stays fast; the next request works', async () => {
    const s = await start();
    const before = (await call<HealthResponse>(`${s.url}/api/health`)).body;
    const workerPid = before.worker.pid;
    expect(workerPid).toBeGreaterThan(0);
    process.kill(workerPid ?? 0, 'SIGSTOP');
    cleanups.push(() => {
      try {
        process.kill(workerPid ?? 0, 'SIGKILL');
      } catch {
        // Already replaced and gone.
      }
    });
    const frozenAt = Date.now();
    // A request to the frozen worker ends with a clear error, not a hang.
    const during = call<{ error: string }>(`${s.url}/api/tasks`, { token: s.token, timeoutMs: 30_000 });
    let replacedAfterMs = 0;
    let slowestHealthMs = 0;
    while (Date.now() - frozenAt < 30_000) {
      const h = await call<HealthResponse>(`${s.url}/api/health`, { timeoutMs: 2_000 });
      slowestHealthMs = Math.max(slowestHealthMs, h.ms);
      if (h.body.worker.pid !== workerPid && h.body.worker.state === 'healthy') {
        replacedAfterMs = Date.now() - frozenAt;
        expect(h.body.worker.restarts).toBe(1);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Replaced by itself, in seconds (bench/ measures how many); health answered throughout.
    expect(replacedAfterMs).toBeGreaterThan(0);
    expect(slowestHealthMs).toBeLessThan(1_500);
    const interrupted = await during;
    expect([503, 504]).toContain(interrupted.status);
    expect(interrupted.body.error).toMatch(/worker/);
    expect((await call(`${s.url}/api/tasks`, { token: s.token })).status).toBe(200);
  });

  it('restart on demand: POST /control/server/restart gives a new worker', async () => {
    const s = await start();
    const before = (await call<HealthResponse>(`${s.url}/api/health`)).body.worker.pid;
    const r = await call<HealthResponse>(`${s.url}/control/server/restart`, { method: 'POST', token: s.token, timeoutMs: 30_000 });
    expect(r.status).toBe(200);
    expect(r.body.worker.pid).not.toBe(before);
    expect(r.body.worker.restarts).toBe(1);
  });
});

describe('the port', () => {
  it('held by another program: that program is not touched; Kindtray names it and moves to the next port', async () => {
    const port = await freePort();
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1'); setInterval(() => {}, 1000)`], { stdio: 'ignore' });
    cleanups.push(() => void holder.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 500));
    const home = tempHome();
    const s = await serve(envFor(home), { port });
    running.push(s);
    expect(s.port).not.toBe(port);
    expect(s.port).toBeGreaterThan(port);
    expect(holder.exitCode).toBeNull();
    expect(holder.signalCode).toBeNull();
    const status = await call<{ server: { state: string; cause?: string } }>(`${s.url}/api/status`, { token: s.token });
    expect(status.body.server.cause).toContain(`pid ${holder.pid}`);
  });

  it('a second serve on the same home refuses to start while the first answers', async () => {
    const s = await start();
    const second = await kindtray(['serve', '--port', String(s.port)], envFor(s.home), 20_000);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`already runs (pid ${s.pid})`);
  });

  it('held by a stale Kindtray (frozen, server.json present): `kindtray server restart` recovers', async () => {
    const s = await start();
    process.kill(s.pid, 'SIGSTOP');
    const env = envFor(s.home);
    const status = await kindtray(['server', 'status', '--json'], env);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'hung', pid: s.pid });
    const restarted = await kindtray(['server', 'restart', '--json'], env, 60_000);
    expect(restarted.code).toBe(0);
    const after = JSON.parse(restarted.stdout) as { state: string; pid: number; port: number };
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(s.pid);
    expect(after.port).toBe(s.port);
    expect((await call(`http://127.0.0.1:${after.port}/api/health`)).status).toBe(200);
    cleanups.push(async () => void (await kindtray(['server', 'stop'], env)));
  });
});
