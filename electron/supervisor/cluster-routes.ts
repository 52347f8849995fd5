// The supervisor's cluster routes (CLUSTER_ROUTES in shared/contracts/clusters.ts)
// and the fixes that are cluster operations (load-image, delete-cluster): the
// cluster room's manager, given what it needs of this process (the monitor,
// Docker, settings, fixes, and the worker's tasks over our own API with our
// token, as any client asks). Behind the same token as every /api route.

import { request } from 'node:http';
import { join } from 'node:path';
import type { TaskRecord } from '../../shared/api.ts';
import { CLUSTER_ROUTES, LoadImageRequestSchema, type ClusterOperation, type OperationEvent } from '../../shared/contracts/clusters.ts';
import { withDeadline } from '../../shared/deadline.ts';
import { formatFixId, parseFixId, type FixResult } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { ClusterManager, ClusterRequestError, type ClusterHost } from '../clusters/index.ts';
import { readJson, sendJson, type Handler, type Router } from '../http/index.ts';
import { dockerClientFor } from '../monitor/index.ts';
import type { Supervisor } from './supervisor.ts';

export interface ClusterRouteHooks {
  env: NodeJS.ProcessEnv;
  /** Our own port, for the worker's tasks through our API. */
  port: () => number;
  publish: (e: OperationEvent) => void;
  note: (subject: string, state: string, cause: string) => void;
}

/** Our own /api on loopback, with our token: the worker's tasks as any client sees them. */
function ownApi<T>(sup: Supervisor, port: number, method: string, path: string): Promise<{ status: number; body: T }> {
  return withDeadline(`${method} ${path}`, 10_000, (signal) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, signal, headers: { authorization: `Bearer ${sup.auth.token}`, host: `127.0.0.1:${port}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as T });
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
  );
}

function waitForSnapshot(sup: Supervisor, done: (s: HealthSnapshot) => boolean, ms: number): Promise<boolean> {
  if (done(sup.monitor.current().snapshot)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, ms);
    const off = sup.monitor.subscribe((s) => {
      if (!done(s)) return;
      clearTimeout(timer);
      off();
      resolve(true);
    });
  });
}

/** Registers the routes, and runs the cluster fixes itself before the fix runner is asked. Answers the manager. */
export function attachClusters(sup: Supervisor, router: Router, hooks: ClusterRouteHooks): ClusterManager {
  const baseRunFix = sup.runFix.bind(sup);
  const host: ClusterHost = {
    env: hooks.env,
    kindPath: () => sup.settings.kindPath,
    snapshot: () => sup.monitor.current().snapshot,
    refresh: () => sup.monitor.refresh(),
    waitFor: (done, ms) => waitForSnapshot(sup, done, ms),
    docker: () => dockerClientFor(sup.monitor.dockerEndpoint),
    runFix: baseRunFix,
    tasks: {
      list: async () => (await ownApi<{ tasks?: TaskRecord[] }>(sup, hooks.port(), 'GET', '/api/tasks?limit=1000')).body.tasks ?? [],
      cancel: async (id, reason) => {
        const r = await ownApi<{ error?: string }>(sup, hooks.port(), 'DELETE', `/api/tasks/${encodeURIComponent(id)}?reason=${encodeURIComponent(reason)}`);
        if (r.status !== 200) throw new Error(r.body.error ?? `the worker answered ${r.status}`);
      },
    },
    tmpDir: join(sup.paths.home, 'tmp'),
    log: (l) => sup.log(l),
    note: hooks.note,
    setBusy: (busy) => sup.monitor.setBusy(busy),
    markStarting: (what) => sup.monitor.markStarting(what),
  };
  const manager = new ClusterManager(host);
  manager.operations.subscribe(hooks.publish);
  // A kind still running when Kindtray stops is ended with its process group, never left behind.
  const baseStop = sup.stop.bind(sup);
  sup.stop = () => {
    manager.shutdown();
    return baseStop();
  };

  sup.runFix = (text: string): Promise<FixResult> => {
    const parsed = parseFixId(text);
    if (!parsed.ok || (parsed.fix.kind !== 'load-image' && parsed.fix.kind !== 'delete-cluster')) return baseRunFix(text);
    const fix = parsed.fix;
    const started = fix.kind === 'load-image' ? manager.loadImage(fix.cluster, fix.image) : manager.delete(fix.cluster);
    return asFixResult(manager, formatFixId(fix), started);
  };

  const on = (route: keyof typeof CLUSTER_ROUTES, handler: Handler) => router.on(CLUSTER_ROUTES[route].method, CLUSTER_ROUTES[route].path, guarded(handler));
  const started = (res: Parameters<Handler>[1], op: ClusterOperation) => sendJson(res, 202, { operation: op }, { location: `/api/operations/${op.id}` });

  on('list', (req, res) => {
    req.resume();
    sendJson(res, 200, manager.list());
  });
  on('check', async (req, res) => sendJson(res, 200, (await manager.check(await readJson(req, 300 * 1024, 'cluster request'))).answer));
  on('create', async (req, res) => started(res, await manager.create(await readJson(req, 300 * 1024, 'cluster request'))));
  on('deletePlan', async (req, res, { name = '' }) => {
    req.resume();
    sendJson(res, 200, await manager.deletePlan(name));
  });
  on('delete', async (req, res, { name = '' }) => {
    req.resume();
    started(res, await manager.delete(name));
  });
  on('start', async (req, res, { name = '' }) => {
    req.resume();
    started(res, await manager.start(name));
  });
  on('stop', async (req, res, { name = '' }) => {
    req.resume();
    started(res, await manager.stop(name));
  });
  on('loadImage', async (req, res, { name = '' }) => {
    const body = LoadImageRequestSchema.safeParse(await readJson(req, 16 * 1024, 'image request'));
    if (!body.success) throw new ClusterRequestError(400, { error: `image: ${body.error.issues[0]?.message ?? 'a local image name is needed'}`, field: 'image' });
    started(res, await manager.loadImage(name, body.data.image));
  });
  on('operation', (req, res, { id = '' }) => {
    req.resume();
    sendJson(res, 200, { operation: manager.operation(id) });
  });
  on('cancel', (req, res, { id = '' }) => {
    req.resume();
    sendJson(res, 200, { operation: manager.cancel(id) });
  });
  return manager;
}

/** The room's refusals as their status and body; anything else is the router's 500. */
function guarded(handler: Handler): Handler {
  return async (req, res, params, url) => {
    try {
      await handler(req, res, params, url);
    } catch (e) {
      if (!(e instanceof ClusterRequestError)) throw e;
      req.resume();
      sendJson(res, e.status, e.body);
    }
  };
}

/** A cluster operation run as a fix (a button, `kindtray fix`): its end, in a fix's words. */
async function asFixResult(manager: ClusterManager, fixId: string, started: Promise<ClusterOperation>): Promise<FixResult> {
  const t0 = Date.now();
  try {
    const op = await started;
    const done = (await manager.operations.get(op.id)?.done) ?? op;
    const ok = done.state === 'succeeded';
    const what = done.kind === 'load-image' ? `image ${done.image ?? ''} loaded into cluster ${done.cluster}` : `cluster ${done.cluster} deleted`;
    return { ok, fixId, message: ok ? what : `${done.error?.message ?? done.state}${done.error?.step ? ` (in: ${done.error.step})` : ''}`, durationMs: Date.now() - t0 };
  } catch (e) {
    return { ok: false, fixId, message: e instanceof Error ? e.message : String(e), durationMs: Date.now() - t0 };
  }
}
