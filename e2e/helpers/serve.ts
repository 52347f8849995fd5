// Test helpers that run Kindtray as users do: `kindtray serve` and other CLI
// commands as real processes, each with its own KINDTRAY_HOME.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../electron/cli/bin.js', import.meta.url));

export function tempHome(prefix = 'kt-home-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A port that was free a moment ago (the kernel's pick), for tests that need a fixed one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface Served {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  token: string;
  home: string;
  stderr: () => string;
  stop: () => Promise<void>;
}

export function readToken(home: string): string {
  return (JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { token: string }).token;
}

export function writeSettings(home: string, settings: object): void {
  writeFileSync(join(home, 'settings.json'), JSON.stringify(settings));
}

/** Starts `kindtray serve --json` and resolves when it has printed where it listens. */
export function serve(env: NodeJS.ProcessEnv, opts: { port?: number; timeoutMs?: number } = {}): Promise<Served> {
  const home = env.KINDTRAY_HOME;
  if (!home) throw new Error('serve() needs KINDTRAY_HOME in env');
  const args = [BIN, 'serve', '--json', ...(opts.port ? ['--port', String(opts.port)] : [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kindtray serve did not start in time; stderr:\n${err}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kindtray serve exited (${code}); stderr:\n${err}`));
    });
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n')[0];
      if (!out.includes('\n') || !line) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as { port: number; pid: number; url: string };
      resolve({
        child,
        pid: info.pid,
        port: info.port,
        url: info.url,
        token: readToken(home),
        home,
        stderr: () => err,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            try {
              process.kill(child.pid ?? 0, 'SIGCONT');
            } catch {
              // Already gone.
            }
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      });
    });
  });
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  ms: number;
  headers: Headers;
}

/** fetch with a deadline; answers status, parsed body and how long it took. */
export async function call<T = unknown>(
  url: string,
  opts: { method?: string; token?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer<T>> {
  const started = performance.now();
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text
  }
  return { status: res.status, body: body as T, ms: performance.now() - started, headers: res.headers };
}

/** Runs the kindtray CLI to completion. */
export function kindtray(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
