// How CLI commands that need a server get one: the running server when it
// answers, else one started in the background (as SkyPilot's CLI does), said on
// stderr. Asking the server is server-link.ts's job; the supervisor's door is
// loaded only when a server has to be started.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { answersHealth, apiRequest, isAlive, NoServerError, serverInfo, type ServerFile } from './server-link.ts';

export { apiRequest, NoServerError, serverInfo, type ApiAnswer, type RequestOptions, type ServerFile } from './server-link.ts';

export const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

/** Starts `kindtray serve` detached, its output in the app log folder; resolves when it answers health. */
export async function startServerInBackground(env: NodeJS.ProcessEnv, opts: { port?: number; deadlineMs?: number } = {}): Promise<ServerFile> {
  const { kindtrayPaths, readServerFile } = await import('../supervisor/index.ts');
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
  if (info && (await answersHealth(info, 2_000))) return info;
  if (info) throw new NoServerError(`the Kindtray server (pid ${info.pid}, port ${info.port}) does not answer; run \`kindtray server restart\``);
  err('kindtray: no server running; starting one in the background (kindtray serve)…');
  const started = await startServerInBackground(env);
  err(`kindtray: server started on http://127.0.0.1:${started.port} (pid ${started.pid})`);
  return started;
}
