// A task's life on its cluster, driven by one watcher: pending → launching (the
// Pod, then a NodePort Service for its ports, each retried while the cluster
// does not answer, up to a bound) → running → succeeded / failed from the
// container's exit, the log copied alongside. No task is left `launching`
// longer than its bounds: it is failed with the cause, and what it left on the
// cluster is deleted (or the reason says what may remain).

import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskRecord, TaskState } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { copyFilesBeforeSetup, withFilesWait } from './file-sync-copy.ts';
import { fail, isTransient, sleep } from './launcher-kube.ts';
import type { KubeOpResult, KubeTarget, TaskKubeOps } from './launcher-kube.ts';
import { buildPod, buildSecret, buildService, endpointsWith, podNameFor, podVerdict, secretNameFor } from './pod-plan.ts';
import type { PodVerdict } from './pod-plan.ts';
import { endpointsReadiness } from './readiness.ts';
import { SECRET_FORGOTTEN } from './store.ts';
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

/** How a reason says that something may be left on the cluster, and the note once it is gone. */
const LEFTOVER_WORDS = 'may still exist on';
const LEFTOVERS_DELETED = 'what this task left on the cluster was deleted after a restart';

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

  private changed(task: StoredTask): void {
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
    const signal = abort.signal;
    let task = this.store.get(id);
    if (!task) return;
    if (task.state === 'pending') {
      const podName = podNameFor(task);
      const serviceName = task.spec.resources.ports.length > 0 ? podName : undefined;
      const moved = this.move(id, 'launching', { message: `creating pod ${podName} on ${task.context}`, patch: serviceName ? { serviceName } : {} });
      if (!moved) return;
      task = moved;
    }
    if (task.state !== 'launching' && task.state !== 'running') return;
    const launchingSince = this.launchingSince(task);

    if (task.state === 'launching') {
      const created = await this.createResources(watch, task, launchingSince);
      if (signal.aborted || !created) return;
      task = created;
    }

    // Status and log loops run side by side until the task is final or the watch stops.
    const logStop = new AbortController();
    const stopLogs = () => logStop.abort();
    signal.addEventListener('abort', stopLogs, { once: true });
    const podName = task.podName ?? podNameFor(task);
    const logs = this.logs.follow(task, podName, logStop.signal);
    try {
      // workdir and file_mounts go in before setup runs (file-sync-copy.ts): the Pods' scripts wait for them.
      const taskId = task.id;
      const files = { ops: this.ops, target: this.target(task), namespace: task.namespace, note: (m: string) => this.store.note(taskId, m), waitMs: this.timings.createBoundMs + this.timings.startBoundMs };
      const filesFailed = await copyFilesBeforeSetup(files, task, [podName], signal);
      if (filesFailed !== undefined) {
        const left = await this.deleteResources(task);
        this.move(task.id, 'failed', { reason: left ? `${filesFailed}; ${left}` : filesFailed });
        return;
      }
      await this.watchPod(watch, task, podName, launchingSince, logStop);
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

  /** Creates the Pod, then the Service, retrying what did not answer until createBoundMs. The task as updated, or undefined when it ended. */
  private async createResources(watch: Watch, task: StoredTask, since: number): Promise<StoredTask | undefined> {
    const signal = watch.abort.signal;
    const pod = withFilesWait(buildPod(task, this.defaultImage), task.spec, task.id);
    const podName = pod.metadata?.name ?? podNameFor(task);
    let current: StoredTask | undefined = task;
    // A Pod confirmed created before a restart is not created again.
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
      const createdPod = await this.retrying(task, since, signal, `create pod ${podName}`, async () => {
        const r = await this.ops.createPod(this.target(task), task.namespace, pod);
        if (r.ok || r.error.kind !== 'already-exists') return r;
        // Ours from an earlier attempt whose answer was lost, or someone else's?
        const existing = await this.ops.getPod(this.target(task), task.namespace, podName);
        if (existing.ok && existing.value.labels[TASK_LABEL] === task.id) return existing;
        if (existing.ok) return fail('already-exists', `${task.context}: a pod named ${podName} already exists and is not this task's`);
        if (existing.error.kind === 'not-found') return fail('api', `${task.context}: pod ${podName} was being deleted`);
        return existing;
      });
      if (!createdPod) return undefined;
      current = this.store.update(task.id, { podName });
      if (!current || current.state !== 'launching' || signal.aborted) {
        // Cancelled (or shut down) while the create was in flight: a cancelled task's Pod must go too.
        if (!current || current.state === 'cancelled' || watch.cancelling) await this.deleteResources({ ...task, podName });
        return undefined;
      }
      this.store.note(task.id, `pod ${podName} created`);
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

  private async watchPod(watch: Watch, initial: StoredTask, podName: string, launchingSince: number, logStop: AbortController): Promise<void> {
    const t = this.timings;
    const signal = watch.abort.signal;
    let task = initial;
    let interval = task.state === 'running' ? t.runningPollMs : t.launchingPollMs;
    let errorWait = 0;
    let lostContactNoted = false;
    let pullTroubleSince: number | undefined;
    while (!signal.aborted) {
      const r = await this.ops.getPod(this.target(task), task.namespace, podName);
      if (signal.aborted || watch.cancelling) return;
      const now = this.store.get(task.id);
      if (!now || isFinalTaskState(now.state)) return;
      task = now;

      if (!r.ok) {
        if (r.error.kind === 'not-found') {
          logStop.abort();
          await this.deleteResources(task);
          this.move(task.id, 'failed', { reason: `pod ${podName} disappeared (deleted outside Kindtray, or its node went away)` });
          return;
        }
        if (task.state === 'launching' && Date.now() - launchingSince > t.createBoundMs + t.startBoundMs) {
          const leftovers = await this.deleteResources(task);
          this.move(task.id, 'failed', { reason: `could not confirm that pod ${podName} started: ${r.error.message}${leftovers ? `; ${leftovers}` : ''}` });
          return;
        }
        if (!lostContactNoted) {
          this.store.note(task.id, `lost contact with ${task.context}: ${r.error.message}; still trying`);
          lostContactNoted = true;
        }
        errorWait = Math.min(Math.max(errorWait * 2, interval), t.errorBackoffMaxMs);
        await sleep(errorWait, signal);
        continue;
      }
      if (lostContactNoted) {
        this.store.note(task.id, `${task.context} answers again`);
        lostContactNoted = false;
      }
      errorWait = 0;
      const readied = endpointsReadiness(task, r.value);
      if (readied) this.changed((task = this.store.update(task.id, { endpoints: readied }) ?? task));
      const verdict = podVerdict(r.value);
      switch (verdict.kind) {
        case 'running':
          if (task.state === 'launching') {
            const moved = this.move(task.id, 'running', { message: `pod ${podName} is running` });
            if (moved) task = moved;
            interval = t.runningPollMs;
          } else {
            interval = Math.min(Math.round(interval * 1.5), t.runningPollMaxMs);
          }
          break;
        case 'succeeded':
        case 'failed':
          logStop.abort();
          await this.logs.drain(task, podName);
          await this.finish(task, verdict, podName);
          return;
        case 'stuck':
          pullTroubleSince ??= Date.now();
          if (verdict.permanent || Date.now() - pullTroubleSince > t.imagePullGraceMs) {
            logStop.abort();
            const leftovers = await this.deleteResources(task);
            this.move(task.id, 'failed', { reason: `${verdict.reason}${leftovers ? `; ${leftovers}` : ''}` });
            return;
          }
          break;
        case 'starting':
          pullTroubleSince = undefined;
          if (Date.now() - launchingSince > t.createBoundMs + t.startBoundMs) {
            logStop.abort();
            const leftovers = await this.deleteResources(task);
            const detail = verdict.detail ? ` (${verdict.detail})` : '';
            this.move(task.id, 'failed', { reason: `pod ${podName} did not start within ${formatMs(t.startBoundMs)}${detail}${leftovers ? `; ${leftovers}` : ''}` });
            return;
          }
          break;
      }
      await sleep(interval, signal);
    }
  }

  /** Records the end the Pod reached. The Service goes (its NodePorts are free again); the Pod stays for `kubectl describe`. */
  async finish(task: StoredTask, verdict: PodVerdict & { kind: 'succeeded' | 'failed' }, podName: string): Promise<void> {
    if (task.serviceName) {
      const r = await this.ops.deleteService(this.target(task), task.namespace, task.serviceName);
      if (!r.ok) this.store.note(task.id, `service ${task.serviceName} could not be deleted: ${r.error.message}`);
    }
    if (verdict.kind === 'succeeded') {
      this.move(task.id, 'succeeded', { reason: `pod ${podName} completed`, patch: { exitCode: verdict.exitCode } });
    } else {
      this.move(task.id, 'failed', { reason: verdict.reason, patch: verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {} });
    }
  }

  /**
   * Deletes the task's Pod and Service, each under the deadline; a 404 is fine.
   * Returns undefined when both are gone, else words for the task's reason.
   */
  async deleteResources(task: Pick<StoredTask, 'id' | 'name' | 'context' | 'namespace' | 'podName' | 'serviceName' | 'spec'>): Promise<string | undefined> {
    const podName = task.podName ?? podNameFor(task);
    const serviceName = task.serviceName ?? (task.spec.resources.ports.length > 0 ? podName : undefined);
    const secretName = Object.keys(task.spec.secrets ?? {}).length > 0 ? secretNameFor(task) : undefined;
    const [pod, svc, sec] = await Promise.all([
      this.ops.deletePod(this.target(task), task.namespace, podName, { gracePeriodSeconds: this.timings.cancelGraceSeconds }),
      serviceName ? this.ops.deleteService(this.target(task), task.namespace, serviceName) : Promise.resolve(undefined),
      secretName ? this.ops.deleteSecret(this.target(task), task.namespace, secretName) : Promise.resolve(undefined),
    ]);
    const left: string[] = [];
    if (!pod.ok) left.push(`pod ${podName}`);
    if (svc && !svc.ok) left.push(`service ${serviceName}`);
    if (sec && !sec.ok) left.push(`secret ${secretName}`);
    if (left.length === 0) return undefined;
    const cause = (!pod.ok ? pod.error.message : svc && !svc.ok ? svc.error.message : sec && !sec.ok ? sec.error.message : '') || 'no answer';
    return `${left.join(' and ')} ${LEFTOVER_WORDS} ${task.context} (${cause}): Kindtray deletes ${left.length > 1 ? 'them' : 'it'} on its next start`;
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
