// A task's life on its cluster, driven by one watcher: pending → launching (its
// Pods, one a node, then a headless Service for more than one node and a
// NodePort Service for its ports, each retried while the cluster does not
// answer, up to a bound) → running → succeeded / failed from the nodes' exits
// (node-watch.ts), the logs copied alongside. A pipeline goes from launching
// (or running) back to launching for each next stage (pipeline.ts). No task is
// left `launching` longer than its bounds: it is failed with the cause, and
// what it left on the cluster is deleted (or the reason says what may remain).

import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskNode, TaskRecord, TaskState } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { copyFilesBeforeSetup, withFilesWait } from './file-sync-copy.ts';
import { fail, isTransient, sleep } from './launcher-kube.ts';
import type { KubeOpResult, KubeTarget, TaskKubeOps } from './launcher-kube.ts';
import { plannedNodes } from './node-plan.ts';
import { watchNodes } from './node-watch.ts';
import { nextStage, nextStagePatch } from './pipeline.ts';
import { buildNodesService, buildPod, buildSecret, buildService, endpointsWith, launchPatch, nodesServiceNameFor, podNameFor } from './pod-plan.ts';
import type { PodVerdict } from './pod-plan.ts';
import { SECRET_FORGOTTEN } from './store.ts';
import { deleteTaskResources, LEFTOVER_WORDS, LEFTOVERS_DELETED } from './task-cleanup.ts';
import type { CleanupTask } from './task-cleanup.ts';
import type { TaskStore } from './store.ts';
import type { TaskLogs } from './task-logs.ts';
import { toTaskRecord } from './task-model.ts';
import type { StoredTask, TransitionOptions } from './task-model.ts';

export interface LauncherTimings {
  /** Pod status polls while launching. */
  launchingPollMs: number;
  /** First poll interval once running; it grows by half each poll up to runningPollMaxMs. */
  runningPollMs: number;
  runningPollMaxMs: number;
  /** After a failed poll (cluster silent or refusing), waits double up to this. */
  errorBackoffMaxMs: number;
  /** Log reads while the Pod runs; longer for big logs (the API re-sends the whole log each time). */
  logPollMs: number;
  logPollMaxMs: number;
  /** How long creating the Pod and Service may keep failing (no answer, refused) before the task fails. */
  createBoundMs: number;
  /** How long a created Pod may take to start (scheduling, image pull) before the task fails. */
  startBoundMs: number;
  /** Image pull errors are retried by the kubelet; after this long they fail the task. */
  imagePullGraceMs: number;
  /** The Pod's grace period when a task is cancelled. */
  cancelGraceSeconds: number;
}

export const DEFAULT_LAUNCHER_TIMINGS: LauncherTimings = {
  launchingPollMs: 1_000,
  runningPollMs: 1_000,
  runningPollMaxMs: 5_000,
  errorBackoffMaxMs: 30_000,
  logPollMs: 500,
  logPollMaxMs: 5_000,
  createBoundMs: 10_000,
  startBoundMs: 5 * 60_000,
  imagePullGraceMs: 60_000,
  cancelGraceSeconds: 5,
};

/** One task being driven; the launcher keeps one per task at most. */
export interface Watch {
  id: string;
  abort: AbortController;
  /** A cancel is deleting the Pod: the watcher must not record the Pod's end as the task's. */
  cancelling: boolean;
  done: Promise<void>;
}


export interface TaskLifeOptions {
  store: TaskStore;
  ops: TaskKubeOps;
  logs: TaskLogs;
  timings: LauncherTimings;
  defaultImage: string;
  kubeconfigPaths: () => string[];
  /** Told after every change of a task (state, endpoints). */
  onChange: (task: TaskRecord) => void;
}

export class TaskLife {
  private readonly store: TaskStore;
  private readonly ops: TaskKubeOps;
  private readonly logs: TaskLogs;
  private readonly timings: LauncherTimings;
  private readonly defaultImage: string;
  private readonly kubeconfigPaths: () => string[];
  private readonly onChange: (task: TaskRecord) => void;

  constructor(opts: TaskLifeOptions) {
    this.store = opts.store;
    this.ops = opts.ops;
    this.logs = opts.logs;
    this.timings = opts.timings;
    this.defaultImage = opts.defaultImage;
    this.kubeconfigPaths = opts.kubeconfigPaths;
    this.onChange = opts.onChange;
  }

  target(task: Pick<TaskRecord, 'context'>): KubeTarget {
    return { context: task.context, kubeconfigPaths: this.kubeconfigPaths() };
  }

  /** A transition, told to onChange and log followers; undefined when it was not legal (a race lost). */
  move(id: string, to: TaskState, opts: TransitionOptions): StoredTask | undefined {
    const r = this.store.transition(id, to, opts);
    if (!r.ok) return undefined;
    this.changed(r.task);
    return r.task;
  }

  changed(task: StoredTask): void {
    this.logs.changed(task);
    try {
      this.onChange(toTaskRecord(task));
    } catch {
      // A listener's failure is its own.
    }
  }

  /** Takes the task from where the store has it to its end, or until the watch stops. */
  async drive(watch: Watch): Promise<void> {
    const { id, abort } = watch;
    let task = this.store.get(id);
    if (!task) return;
    if (task.state === 'pending') {
      const moved = this.move(id, 'launching', { message: `creating ${podsWords(task)} on ${task.context}`, patch: launchPatch(task) });
      if (!moved) return;
      task = moved;
    }
    // One turn a stage: a pipeline's next stage comes back launching.
    while (!abort.signal.aborted && (task.state === 'launching' || task.state === 'running')) {
      const stage = task.stage ?? 0;
      await this.runStage(watch, task);
      const now = this.store.get(id);
      if (!now || (now.stage ?? 0) === stage) return;
      task = now;
    }
  }

  private async runStage(watch: Watch, initial: StoredTask): Promise<void> {
    const signal = watch.abort.signal;
    let task = initial;
    const launchingSince = this.launchingSince(task);
    if (task.state === 'launching') {
      const created = await this.createResources(watch, task, launchingSince);
      if (signal.aborted || !created) return;
      task = created;
    }
    // Status and log loops run side by side until the stage ends or the watch stops.
    const logStop = new AbortController();
    const stopLogs = () => logStop.abort();
    signal.addEventListener('abort', stopLogs, { once: true });
    const nodes = task.nodes ?? plannedNodes(task, (rank) => (rank === 0 && task.podName) || podNameFor(task, rank));
    const current = task;
    const logs = Promise.all(nodes.map((n) => this.logs.follow(current, n.podName, logStop.signal, n.rank)));
    try {
      // workdir and file_mounts go in before setup runs (file-sync-copy.ts): the Pods' scripts wait for them.
      const taskId = task.id;
      const files = { ops: this.ops, target: this.target(task), namespace: task.namespace, note: (m: string) => this.store.note(taskId, m), waitMs: this.timings.createBoundMs + this.timings.startBoundMs };
      const filesFailed = await copyFilesBeforeSetup(files, task, nodes.map((n) => n.podName), signal);
      if (filesFailed !== undefined) {
        const left = await this.deleteResources(task);
        this.move(task.id, 'failed', { reason: left ? `${filesFailed}; ${left}` : filesFailed });
        return;
      }
      await watchNodes(
        {
          store: this.store,
          ops: this.ops,
          timings: this.timings,
          target: (t) => this.target(t),
          move: (id, to, opts) => this.move(id, to, opts),
          changed: (t) => this.changed(t),
          deleteResources: (t) => this.deleteResources(t),
          finish: (t, verdict, podName) => this.finish(t, verdict, podName),
          drain: (t, n: TaskNode) => this.logs.drain(t, n.podName, n.rank),
        },
        watch,
        task,
        nodes,
        launchingSince,
        logStop,
      );
    } finally {
      logStop.abort();
      signal.removeEventListener('abort', stopLogs);
      await logs;
    }
  }

  /** When the task entered launching, from its events (so a bound survives a restart). */
  private launchingSince(task: StoredTask): number {
    const events = this.store.events(task.id) ?? [];
    const at = [...events].reverse().find((e) => e.state === 'launching')?.at;
    return at ? Date.parse(at) : Date.now();
  }

  /** Creates the Secret, the Pods, then the Services, retrying what did not answer until createBoundMs. The task as updated, or undefined when it ended. */
  private async createResources(watch: Watch, task: StoredTask, since: number): Promise<StoredTask | undefined> {
    const signal = watch.abort.signal;
    const nodes = task.nodes ?? plannedNodes(task, (rank) => podNameFor(task, rank));
    const podName = nodes[0]?.podName ?? podNameFor(task);
    let current: StoredTask | undefined = task;
    // Pods confirmed created before a restart (podName is set once all are) are not created again.
    if (task.podName === undefined) {
      // The Secret first: a Pod whose secretKeyRef names no Secret cannot start its container.
      // Values already forgotten: the Secret was made by an earlier try (before a restart).
      const secret = Object.values(task.spec.secrets ?? {}).includes(SECRET_FORGOTTEN) ? undefined : buildSecret(task);
      if (secret) {
        const name = secret.metadata?.name ?? podName;
        const createdSecret = await this.retrying(task, since, signal, `create secret ${name}`, async () => {
          const r = await this.ops.createSecret(this.target(task), task.namespace, secret);
          // Ours from an earlier attempt whose answer was lost: made from the same spec.
          return r.ok || r.error.kind !== 'already-exists' ? r : { ok: true as const, value: { name } };
        });
        if (!createdSecret) return undefined;
        if (signal.aborted) {
          // Cancelled while it was being made: the cancel's delete may have come first.
          if (watch.cancelling) await this.deleteResources(task);
          return undefined;
        }
        this.store.note(task.id, `secret ${name} created (${Object.keys(task.spec.secrets ?? {}).length} values, never shown)`);
        // From here the values live in the Secret only; a later try finds it already there.
        this.store.forgetSecrets(task.id);
      }
      const created = await Promise.all(nodes.map((n) => this.createPod(task, n, since, signal)));
      current = created.every(Boolean) ? this.store.update(task.id, { podName, nodes }) : this.store.get(task.id);
      if (!current || current.state !== 'launching' || signal.aborted || !created.every(Boolean)) {
        // Cancelled (or shut down, or one Pod failed for good) while creates were in flight: a task that ended must not leave Pods.
        if (!current || isFinalTaskState(current.state) || watch.cancelling) await this.deleteResources({ ...task, nodes });
        return undefined;
      }
      this.store.note(task.id, nodes.length > 1 ? `pods ${nodes.map((n) => n.podName).join(', ')} created` : `pod ${podName} created`);
    }

    const headless = buildNodesService(current);
    if (headless) {
      const name = headless.metadata?.name ?? nodesServiceNameFor(current);
      const made = await this.retrying(current, since, signal, `create service ${name}`, async () => {
        const r = await this.ops.createService(this.target(task), task.namespace, headless);
        return r.ok || r.error.kind !== 'already-exists' ? r : { ok: true as const, value: { name, namespace: task.namespace, ports: [] } };
      });
      if (!made) return undefined;
      if (signal.aborted) {
        if (watch.cancelling) await this.deleteResources(current);
        return undefined;
      }
    }

    const service = buildService(current);
    if (service) {
      const name = service.metadata?.name ?? podName;
      const createdService = await this.retrying(current, since, signal, `create service ${name}`, async () => {
        const r = await this.ops.createService(this.target(task), task.namespace, service);
        if (r.ok || r.error.kind !== 'already-exists') return r;
        // Ours from an earlier attempt: its NodePorts are whatever they are; keep the plan's.
        return { ok: true as const, value: { name, namespace: task.namespace, ports: [] } };
      });
      if (!createdService) return undefined;
      if (signal.aborted) {
        if (watch.cancelling) await this.deleteResources(current);
        return undefined;
      }
      const nodePorts = new Map<number, number>();
      for (const p of createdService.ports) if (p.nodePort !== undefined) nodePorts.set(p.port, p.nodePort);
      current = this.store.update(task.id, { serviceName: name, endpoints: endpointsWith(current, nodePorts) });
      if (!current) return undefined;
      this.store.note(task.id, `service ${name} created${nodePorts.size ? ` (NodePorts ${[...nodePorts.values()].join(', ')})` : ''}`);
      this.changed(current);
    }
    return current;
  }

  /** Creates one node's Pod (ours from an earlier try counts as created). False when the task failed meanwhile or the watch stopped. */
  private async createPod(task: StoredTask, node: TaskNode, since: number, signal: AbortSignal): Promise<boolean> {
    const pod = withFilesWait(buildPod(task, this.defaultImage, node.rank), task.spec, task.id);
    const podName = node.podName;
    const made = await this.retrying(task, since, signal, `create pod ${podName}`, async () => {
      const r = await this.ops.createPod(this.target(task), task.namespace, pod);
      if (r.ok || r.error.kind !== 'already-exists') return r;
      // Ours from an earlier attempt whose answer was lost, or someone else's?
      const existing = await this.ops.getPod(this.target(task), task.namespace, podName);
      if (existing.ok && existing.value.labels[TASK_LABEL] === task.id) return existing;
      if (existing.ok) return fail('already-exists', `${task.context}: a pod named ${podName} already exists and is not this task's`);
      if (existing.error.kind === 'not-found') return fail('api', `${task.context}: pod ${podName} was being deleted`);
      return existing;
    });
    return made !== undefined;
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or the create bound
   * passes; then fails the task with the cause (and cleans up what may exist).
   */
  private async retrying<T>(task: StoredTask, since: number, signal: AbortSignal, what: string, attempt: () => Promise<KubeOpResult<T>>): Promise<T | undefined> {
    let wait = Math.min(500, this.timings.createBoundMs / 8);
    for (;;) {
      if (signal.aborted) return undefined;
      const r = await attempt();
      // A success is returned even when the watch stopped meanwhile: the caller must clean up what it made.
      if (r.ok) return r.value;
      if (signal.aborted) return undefined;
      const elapsed = Date.now() - since;
      if (!isTransient(r.error) || elapsed + wait >= this.timings.createBoundMs) {
        const tried = isTransient(r.error) ? ` (kept trying for ${formatMs(Math.max(elapsed, 1))})` : '';
        const leftovers = await this.deleteResources(task);
        this.move(task.id, 'failed', { reason: `could not ${what}: ${r.error.message}${tried}${leftovers ? `; ${leftovers}` : ''}` });
        return undefined;
      }
      this.store.note(task.id, `${what}: ${r.error.message}; trying again`);
      await sleep(wait, signal);
      wait = Math.min(wait * 2, 4_000);
    }
  }

  /**
   * Records the end the stage reached. Its Services go (their NodePorts are
   * free again); its Pods stay for `kubectl describe`. A pipeline's stage that
   * succeeded hands over to the next stage (launching again); a failing stage
   * ends the pipeline, the stages after it never start.
   */
  async finish(task: StoredTask, verdict: PodVerdict & { kind: 'succeeded' | 'failed' }, podName: string): Promise<void> {
    const services = [task.serviceName, task.spec.numNodes > 1 ? nodesServiceNameFor(task) : undefined].filter((n): n is string => n !== undefined);
    for (const name of services) {
      const r = await this.ops.deleteService(this.target(task), task.namespace, name);
      if (!r.ok) this.store.note(task.id, `service ${name} could not be deleted: ${r.error.message}`);
    }
    const stage = task.stagePlan ? `stage ${(task.stage ?? 0) + 1} (${task.stagePlan[task.stage ?? 0]?.name ?? '?'}): ` : '';
    const pods = task.spec.numNodes > 1 ? `the ${task.spec.numNodes} nodes completed` : `pod ${podName} completed`;
    if (verdict.kind === 'failed') {
      this.move(task.id, 'failed', { reason: `${stage}${verdict.reason}`, patch: verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {} });
      return;
    }
    const next = nextStage(task);
    if (!next) {
      this.move(task.id, 'succeeded', { reason: task.stagePlan ? `all ${task.stagePlan.length} stages succeeded` : pods, patch: { exitCode: verdict.exitCode } });
      return;
    }
    const message = `${stage}${pods}; launching stage ${next.index + 1} of ${task.stagePlan?.length ?? 0} (${next.stage.name})`;
    this.move(task.id, 'launching', { message, patch: nextStagePatch(task, next, new Date().toISOString()) });
  }

  /** Deletes the task's Pods, Services and Secret (task-cleanup.ts): undefined when all are gone, else words for the task's reason. */
  deleteResources(task: CleanupTask): Promise<string | undefined> {
    return deleteTaskResources(this.ops, this.target(task), this.timings.cancelGraceSeconds, task);
  }

  /** Deletes what tasks that ended (cancelled, failed) left on their cluster when it did not answer; each is noted once gone. */
  async deleteLeftovers(): Promise<void> {
    const leftovers = this.store
      .list({ limit: 200, states: ['cancelled', 'failed'] })
      .filter((t) => t.reason?.includes(LEFTOVER_WORDS) && !(this.store.events(t.id) ?? []).some((e) => e.message === LEFTOVERS_DELETED));
    await Promise.all(
      leftovers.map(async (t) => {
        const left = await this.deleteResources(t);
        if (!left) this.store.note(t.id, LEFTOVERS_DELETED);
      }),
    );
  }
}

/** What a launch creates, in words. */
function podsWords(task: StoredTask): string {
  return task.spec.numNodes > 1 ? `${task.spec.numNodes} pods (one a node)` : `pod ${podNameFor(task)}`;
}
