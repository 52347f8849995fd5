// The API worker process: serves /api/* (validate, tasks, logs) on an
// ephemeral loopback port for the supervisor's proxy only, keeps tasks in
// SQLite, and launches them. It holds no public port, so when it hangs the
// supervisor kills it and starts another, and nothing but a request is lost.

import { createServer } from 'node:http';
import { flushCompileCache } from 'node:module';
import { INTERNAL_SECRET_HEADER, supervisorMessageSchema, type WorkerMessage } from '../../shared/contracts/worker.ts';
import { parentChannel } from '../process/index.ts';
import { sameSecret, sendError, sendJson, sendNoRoute } from '../http/index.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { workerRoutes } from './routes.ts';
import { openTaskService } from './tasks.ts';

async function main(): Promise<void> {
  const secret = process.env.KINDTRAY_INTERNAL_SECRET;
  const database = process.env.KINDTRAY_DB;
  const logsDir = process.env.KINDTRAY_LOGS;
  if (!secret || !database || !logsDir) throw new Error('the API worker needs KINDTRAY_INTERNAL_SECRET, KINDTRAY_DB and KINDTRAY_LOGS');
  const channel = parentChannel();
  const parent = { send: (m: WorkerMessage) => channel.send(m) };

  const cache = new SnapshotCache((requestId, context) => parent.send({ type: 'refresh', requestId, ...(context ? { context } : {}) }));
  const tasks = await openTaskService({
    database,
    logsDir,
    ...(process.env.KINDTRAY_TASK_IMAGE ? { defaultImage: process.env.KINDTRAY_TASK_IMAGE } : {}),
    snapshot: () => cache.current()?.snapshot,
    onChange: (task) => parent.send({ type: 'task', task }),
  });
  cache.onChange((s) => tasks.snapshotChanged(s));

  channel.onMessage((raw) => {
    const parsed = supervisorMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.type === 'shutdown') shutdown();
    else cache.accept(m);
  });

  const router = workerRoutes(cache, tasks);
  const server = createServer(async (req, res) => {
    // Only the supervisor may call: it authenticated the user and passes our shared secret.
    if (!sameSecret(String(req.headers[INTERNAL_SECRET_HEADER] ?? ''), secret)) {
      sendJson(res, 403, { error: 'the API worker answers only its supervisor' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      if (!(await router.handle(req, res, url))) sendNoRoute(res, req.method, url.pathname);
    } catch (e) {
      // One bad request costs its own 500, not the worker (and every request in flight with it).
      sendError(res, e);
    }
  });
  server.keepAliveTimeout = 30_000;

  function shutdown(): void {
    server.close();
    server.closeAllConnections();
    // Bounded: the supervisor kills us 2 s after asking anyway.
    setTimeout(() => process.exit(0), 1_500).unref();
    void tasks.close().finally(() => process.exit(0));
  }
  process.on('SIGTERM', shutdown);
  channel.onDisconnect(() => shutdown());

  server.listen({ port: 0, host: '127.0.0.1' }, () => {
    const address = server.address();
    if (typeof address === 'object' && address) parent.send({ type: 'listening', port: address.port });
    // A worker is ended with SIGKILL when it hangs, which writes no compile cache: write it now, so the next one skips type stripping.
    flushCompileCache?.();
  });
  void tasks.reconcile();
}

main().catch((e: unknown) => {
  process.stderr.write(`kindtray API worker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
