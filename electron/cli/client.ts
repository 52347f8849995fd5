// How CLI commands reach the running server: server.json gives the port and
// token; every request has a deadline; commands that need a server start one
// in the background when none runs (as SkyPilot's CLI does) and say so.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '../../shared/deadline.ts';
import { answersHealth, isAlive, kindtrayPaths, readServerFile, type ServerFile } from '../supervisor/index.ts';

export class NoServerError extends Error {
  override readonly name = 'NoServerError';
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface RequestOptions {
  method?: string;
  body?: string;
  contentType?: string;
  deadlineMs?: number;
}

export function serverInfo(env: NodeJS.ProcessEnv): ServerFile | undefined {
  const info = readServerFile(kindtrayPaths(env).serverFile);
  return info && isAlive(info.pid) ? info : undefined;
}

export async function apiRequest<T = unknown>(info: ServerFile, path: string, opts: RequestOptions = {}): Promise<ApiAnswer<T>> {
  const ms = opts.deadlineMs ?? 15_000;
  return withDeadline(`Kindtray server on port ${info.port}`, ms, (signal) =>
    new Promise<ApiAnswer<T>>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: info.port,
          path,
          method: opts.method ?? 'GET',
          signal,
          headers: {
            authorization: `Bearer ${info.token}`,
            ...(opts.body !== undefined ? { 'content-type': opts.contentType ?? 'application/yaml', 'content-length': Buffer.byteLength(opts.body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // Not JSON (a log); the caller knows what it asked for.
            }
            resolve({ status: res.statusCode ?? 0, body: body as T });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    }),
  );
}

export const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

/** Starts `kindtray serve` detached, its output in the app log folder; resolves when it answers health. */
export async function startServerInBackground(env: NodeJS.ProcessEnv, opts: { port?: number; deadlineMs?: number } = {}): Promise<ServerFile> {
  const paths = kindtrayPaths(env);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const out = openSync(`${paths.logs}/serve.log`, 'a', 0o600);
  const args = [BIN, 'serve', ...(opts.port ? ['--port', String(opts.port)] : [])];
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', out, out] });
  child.unref();
  closeSync(out);
  const until = Date.now() + (opts.deadlineMs ?? 30_000);
  while (Date.now() < until) {
    const info = readServerFile(paths.serverFile);
    // Ready means its API worker is up too, not only its port.
    if (info && info.pid === child.pid) {
      const health = await apiRequest<{ status?: string }>(info, '/api/health', { deadlineMs: 1_000 }).catch(() => undefined);
      if (health?.status === 200 && health.body.status === 'ok') return info;
    }
    if (child.exitCode !== null || (child.pid !== undefined && !isAlive(child.pid))) {
      throw new Error(`kindtray serve exited at start; see ${paths.logs}/serve.log`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kindtray serve did not answer within ${(opts.deadlineMs ?? 30_000) / 1000} s; see ${paths.logs}/serve.log`);
}

/** The running server, or one started now (said on stderr). */
export async function ensureServer(env: NodeJS.ProcessEnv, err: (line: string) => void): Promise<ServerFile> {
  const info = serverInfo(env);
  if (info && (await answersHealth(info.port, 2_000))) return info;
  if (info) throw new NoServerError(`the Kindtray server (pid ${info.pid}, port ${info.port}) does not answer; run \`kindtray server restart\``);
  err('kindtray: no server running; starting one in the background (kindtray serve)…');
  const started = await startServerInBackground(env);
  err(`kindtray: server started on http://127.0.0.1:${started.port} (pid ${started.pid})`);
  return started;
}
