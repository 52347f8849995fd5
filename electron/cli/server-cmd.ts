// `kindtray server status|start|stop|restart`. These work when the server is
// hung: they read server.json, confirm the process is Kindtray, ask it to stop,
// and stop it by force when it does not answer. A foreign process is never touched.

import type { HealthResponse } from '../../shared/api.ts';
import {
  isAlive,
  isKindtrayProcess,
  kindtrayPaths,
  processState,
  readServerFile,
  removeServerFile,
  stopProcess,
  type ServerFile,
} from '../supervisor/index.ts';
import { apiRequest, startServerInBackground } from './client.ts';
import { EXIT, UsageError, type CommandContext } from './context.ts';
import { parsePort } from './serve.ts';

interface ServerStatus {
  state: 'running' | 'degraded' | 'hung' | 'stopped';
  pid?: number;
  port?: number;
  url?: string;
  detail: string;
  health?: HealthResponse;
}

async function serverStatus(env: NodeJS.ProcessEnv): Promise<ServerStatus> {
  const info = readServerFile(kindtrayPaths(env).serverFile);
  if (!info || !isAlive(info.pid)) return { state: 'stopped', detail: 'no Kindtray server is running' };
  const base = { pid: info.pid, port: info.port, url: `http://127.0.0.1:${info.port}` };
  try {
    const answer = await apiRequest<HealthResponse>(info, '/api/health', { deadlineMs: 2_000 });
    const h = answer.body;
    if (answer.status === 200 && h.status === 'ok') return { ...base, state: 'running', detail: `API worker ${h.worker.state}, ${h.worker.restarts ?? 0} restarts`, health: h };
    return { ...base, state: 'degraded', detail: `API worker ${h.worker.state}${h.worker.cause ? `: ${h.worker.cause}` : ''}`, health: h };
  } catch {
    const frozen = processState(info.pid) === 'T' ? ' (the process is stopped by a signal)' : '';
    return { ...base, state: 'hung', detail: `pid ${info.pid} holds port ${info.port} but does not answer${frozen}` };
  }
}

/** Stops the server named by server.json: politely, then by force. Never signals a non-Kindtray process. */
async function stopServer(ctx: CommandContext, info: ServerFile): Promise<void> {
  if (isKindtrayProcess(info.pid) === false) {
    ctx.err(`kindtray: server.json names pid ${info.pid}, which is not Kindtray; leaving it alone and removing the stale server.json`);
    removeServerFile(kindtrayPaths(ctx.env).serverFile, info.pid);
    return;
  }
  const asked = await apiRequest(info, '/control/shutdown', { method: 'POST', deadlineMs: 1_500 }).then(
    (a) => a.status === 202,
    () => false,
  );
  if (asked) {
    const until = Date.now() + 5_000;
    while (Date.now() < until && isAlive(info.pid)) await new Promise((r) => setTimeout(r, 50));
  }
  if (isAlive(info.pid)) {
    ctx.err(`kindtray: pid ${info.pid} did not stop when asked; stopping it by force`);
    await stopProcess(info.pid, 1_500);
  }
  removeServerFile(kindtrayPaths(ctx.env).serverFile, info.pid);
}

export async function serverCommand(ctx: CommandContext, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const action = positionals[0] ?? 'status';
  const port = parsePort(values.port);
  const print = (s: ServerStatus, verb?: string) => {
    if (ctx.json) ctx.out(JSON.stringify({ ...s, ...(verb ? { action: verb } : {}) }, null, 2));
    else ctx.out(s.state === 'stopped' ? `Server: stopped (${s.detail})` : `Server: ${s.state} on ${s.url} (pid ${s.pid}); ${s.detail}`);
  };
  switch (action) {
    case 'status': {
      const s = await serverStatus(ctx.env);
      print(s);
      return s.state === 'running' ? EXIT.ok : EXIT.notOk;
    }
    case 'start': {
      const s = await serverStatus(ctx.env);
      if (s.state === 'running' || s.state === 'degraded') {
        print(s);
        return EXIT.ok;
      }
      if (s.state === 'hung') {
        ctx.err(`kindtray: ${s.detail}; use \`kindtray server restart\``);
        print(s);
        return EXIT.notOk;
      }
      await startServerInBackground(ctx.env, port !== undefined ? { port } : {});
      print(await serverStatus(ctx.env), 'started');
      return EXIT.ok;
    }
    case 'stop': {
      const info = readServerFile(kindtrayPaths(ctx.env).serverFile);
      if (info && isAlive(info.pid)) await stopServer(ctx, info);
      else if (info) removeServerFile(kindtrayPaths(ctx.env).serverFile, info.pid);
      print(await serverStatus(ctx.env), 'stopped');
      return EXIT.ok;
    }
    case 'restart': {
      const info = readServerFile(kindtrayPaths(ctx.env).serverFile);
      if (info && isAlive(info.pid)) await stopServer(ctx, info);
      await startServerInBackground(ctx.env, port !== undefined ? { port } : info ? { port: info.port } : {});
      const s = await serverStatus(ctx.env);
      print(s, 'restarted');
      return s.state === 'running' ? EXIT.ok : EXIT.notOk;
    }
    default:
      throw new UsageError(`unknown server action "${action}": use status, start, stop or restart`);
  }
}

