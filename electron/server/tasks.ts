// The worker's task service: the SQLite store and the launcher behind the
// routes, and what ties them to health (waiting tasks launch by themselves
// once their cluster is healthy).

import type { TaskRecord } from '../../shared/api.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { HttpError } from '../http/index.ts';
import { taskKubeOps } from './log-streams.ts';
import { Launcher } from './launcher.ts';
import { pipelineStages } from './pipeline.ts';
import type { TaskService } from './routes.ts';
import { TaskStore, toTaskRecord } from './store.ts';
import { endpointsFromPlan } from './task-model.ts';
import { initialEndpoints } from './readiness.ts';

export interface OpenTaskServiceOptions {
  database: string;
  logsDir: string;
  defaultImage?: string;
  snapshot: () => HealthSnapshot | undefined;
  onChange: (task: TaskRecord) => void;
}

export interface WorkerTasks extends TaskService {
  snapshotChanged(s: HealthSnapshot): void;
  reconcile(): Promise<void>;
  close(): Promise<void>;
}

/** Whether a task aimed at `context` can be launched now, from the snapshot alone. */
export function contextReady(s: HealthSnapshot, context: string): boolean {
  const cluster = s.clusters.find((c) => c.context === context);
  if (cluster) return s.docker.state === 'running' && (cluster.state === 'running' || cluster.state === 'degraded');
  return s.contexts.find((c) => c.name === context)?.state === 'ok';
}

export async function openTaskService(opts: OpenTaskServiceOptions): Promise<WorkerTasks> {
  const store = TaskStore.open(opts.database);
  // Task operations, and Pod logs streamed (KINDTRAY_LOG_FOLLOW=poll: read whole, as before).
  const ops = taskKubeOps();
  const launcher = new Launcher({
    store,
    ops,
    logsDir: opts.logsDir,
    onChange: opts.onChange,
    ...(opts.defaultImage ? { defaultImage: opts.defaultImage } : {}),
  });
  return {
    create: (input) => {
      // A pipeline: every stage planned now, as validation checked it, so none is lost.
      const pipeline = input.pipeline ? pipelineStages(input.pipeline.text, input.pipeline.stages) : undefined;
      const task = store.create({
        name: pipeline?.name ?? input.name,
        context: input.context,
        ...(input.cluster ? { cluster: input.cluster } : {}),
        source: input.source,
        spec: input.spec,
        portPlan: input.plan,
        endpoints: initialEndpoints(input.spec, endpointsFromPlan(input.plan)),
        ...(input.waitingFor ? { waitingFor: input.waitingFor } : {}),
        ...(pipeline && { stages: pipeline.stages }),
      });
      const record = toTaskRecord(task);
      opts.onChange(record);
      return record;
    },
    get: (id) => {
      const t = store.get(id);
      return t ? toTaskRecord(t) : undefined;
    },
    list: (limit) => store.list({ limit }).map(toTaskRecord),
    usedNodePorts: () => [...store.usedNodePorts()],
    launch: (id) => launcher.launch(id),
    cancel: async (id, why) => {
      const r = await launcher.cancel(id, why);
      if (r.ok) return r.task;
      throw new HttpError(r.code === 'not-found' ? 404 : 409, { error: r.message, field: 'id' });
    },
    openLogs: (id, o) => launcher.openLogStream(id, o),
    snapshotChanged: (s) => {
      launcher.launchWaiting((context) => contextReady(s, context));
    },
    reconcile: async () => {
      await launcher.reconcile();
      const s = opts.snapshot();
      if (s) launcher.launchWaiting((context) => contextReady(s, context));
    },
    close: async () => {
      await launcher.close();
      ops.close();
      store.close();
    },
  };
}
