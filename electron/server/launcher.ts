// The launcher: takes a recorded task through its life on the cluster, in the
// background. pending → launching (Pod `kt-NAME-ID` labelled with the task id,
// then a NodePort Service for its ports) → running → succeeded / failed from
// the container's exit. The Pod's log is copied into logsDir/<id>.log as it
// comes, so it outlives the Pod and the cluster. Every cluster call goes
// through KubeOps (a child process, each call under a deadline), and no task
// is left `launching` for longer than a bound: it is failed with the cause.
//
// After a restart, reconcile() looks at what the cluster has for every task
// the store says is in flight, and corrects the store.

import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { appendFile, open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { V1Container, V1EnvVar, V1Pod, V1Service } from '@kubernetes/client-node';
import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskEndpoint, TaskRecord, TaskState } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { defaultKubeconfigPaths } from './kube-ops.ts';
import type { KubeOpError, KubeOpResult, KubeOps, KubeTarget, PodInfo } from './kube-ops.ts';
import type { TaskStore } from './store.ts';
import { TaskStoreError, taskNotFound, toTaskRecord } from './task-model.ts';
import type { StoredTask, TaskPatch, TransitionOptions } from './task-model.ts';

/** What the launcher needs of KubeOps (a fake in unit tests). */
export type TaskKubeOps = Pick<KubeOps, 'createPod' | 'createService' | 'deletePod' | 'deleteService' | 'getPod' | 'listTaskPods' | 'readLog'>;

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

/** The image a task runs in when it names none. */
export const DEFAULT_TASK_IMAGE = 'busybox';

export interface LauncherOptions {
  store: TaskStore;
  ops: TaskKubeOps;
  logsDir: string;
  /** Told after every change of a task (state, endpoints). */
  onChange?: (task: TaskRecord) => void;
  /** Default DEFAULT_TASK_IMAGE; tests give the testbed's image. */
  defaultImage?: string;
  /** Kubeconfig files to use. Default: KUBECONFIG, else ~/.kube/config, read at each use. */
  kubeconfigPaths?: () => string[];
  timings?: Partial<LauncherTimings>;
}

export type CancelResult =
  | { ok: true; task: TaskRecord; /** The Pod or Service could not be confirmed deleted. */ leftovers?: string }
  | { ok: false; code: 'not-found' | 'illegal'; message: string; task?: TaskRecord };

// ---------------------------------------------------------------------------
// What a task becomes on Kubernetes (pure)

const POD_NAME_MAX = 63;

/** `kt-<name>-<id without "t-">`, at most 63 characters: a valid Pod and Service (DNS-1035) name. */
export function podNameFor(task: Pick<TaskRecord, 'id' | 'name'>): string {
  const suffix = task.id.replace(/^t-/, '');
  const room = POD_NAME_MAX - 'kt-'.length - 1 - suffix.length;
  const name = task.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return name ? `kt-${name}-${suffix}` : `kt-${suffix}`;
}

/**
 * Runs setup, then (if setup succeeded) run, each in its own `sh -c`, as
 * SkyPilot does. The scripts are passed as positional parameters, so no
 * quoting of user text is ever needed.
 */
export const TASK_ENTRYPOINT = 'if [ -n "$1" ]; then sh -c "$1" || exit $?; fi; exec sh -c "$2"';

export function imageFor(task: StoredTask, defaultImage: string): string {
  const image = task.spec.resources.image?.trim();
  if (!image) return defaultImage;
  return image.startsWith('docker:') ? image.slice('docker:'.length) : image;
}

export function buildPod(task: StoredTask, defaultImage: string): V1Pod {
  const r = task.spec.resources;
  const env: V1EnvVar[] = Object.entries(task.spec.envs).map(([name, value]) => ({ name, value }));
  if (!('KINDTRAY_TASK_ID' in task.spec.envs)) env.push({ name: 'KINDTRAY_TASK_ID', value: task.id });
  const requests: Record<string, string> = {};
  if (r.cpus) requests.cpu = String(r.cpus.amount);
  if (r.memory) requests.memory = `${r.memory.amount}Gi`;
  const container: V1Container = {
    name: 'task',
    image: imageFor(task, defaultImage),
    command: ['sh', '-c', TASK_ENTRYPOINT, 'kindtray-task', task.spec.setup ?? '', task.spec.run ?? ''],
    env,
  };
  if (Object.keys(requests).length > 0) container.resources = { requests };
  if (r.ports.length > 0) container.ports = r.ports.map((p) => ({ containerPort: p, protocol: 'TCP' }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podNameFor(task),
      namespace: task.namespace,
      labels: { [TASK_LABEL]: task.id, 'app.kubernetes.io/managed-by': 'kindtray' },
      annotations: { 'kindtray.dev/task-name': task.name },
    },
    spec: { restartPolicy: 'Never', containers: [container] },
  };
}

/** A NodePort Service for the task's ports, asking for the planned NodePorts; undefined without ports. */
export function buildService(task: StoredTask): V1Service | undefined {
  const ports = task.spec.resources.ports;
  if (ports.length === 0) return undefined;
  const planned = new Map(task.portPlan.map((p) => [p.port, p.nodePort]));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: podNameFor(task),
      namespace: task.namespace,
      labels: { [TASK_LABEL]: task.id, 'app.kubernetes.io/managed-by': 'kindtray' },
    },
    spec: {
      type: 'NodePort',
      selector: { [TASK_LABEL]: task.id },
      ports: ports.map((port) => {
        const nodePort = planned.get(port);
        return { name: `p${port}`, protocol: 'TCP', port, targetPort: port, ...(nodePort !== undefined ? { nodePort } : {}) };
      }),
    },
  };
}

/** What a Pod's status means for its task. */
export type PodVerdict =
  | { kind: 'starting'; detail?: string }
  | { kind: 'running' }
  | { kind: 'succeeded'; exitCode: number }
  | { kind: 'failed'; reason: string; exitCode?: number }
  /** Still Pending, with a waiting reason that will not resolve itself. */
  | { kind: 'stuck'; reason: string; permanent: boolean };

const PERMANENT_WAITING = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
const PULL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff']);

export function podVerdict(pod: PodInfo): PodVerdict {
  const c = pod.container;
  if (pod.phase === 'Succeeded') return { kind: 'succeeded', exitCode: c?.exitCode ?? 0 };
  if (pod.phase === 'Failed' || (c?.state === 'terminated' && c.exitCode !== undefined && c.exitCode !== 0)) {
    if (c?.state === 'terminated' && c.exitCode !== undefined) {
      const why = c.reason && c.reason !== 'Error' ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : c.message ? ` (${c.message})` : '';
      return { kind: 'failed', exitCode: c.exitCode, reason: `exited with code ${c.exitCode}${why}` };
    }
    const why = [pod.reason, pod.message].filter(Boolean).join(': ');
    return { kind: 'failed', reason: why ? `the pod failed: ${why}` : 'the pod failed' };
  }
  if (c?.state === 'terminated' && c.exitCode === 0) return { kind: 'succeeded', exitCode: 0 };
  if (pod.phase === 'Running' && c?.state === 'running') return { kind: 'running' };
  if (c?.state === 'waiting' && c.reason) {
    const detail = `${c.reason}${c.message ? `: ${c.message}` : ''}`;
    if (PERMANENT_WAITING.has(c.reason)) return { kind: 'stuck', reason: `the container cannot start: ${detail}`, permanent: true };
    if (PULL_WAITING.has(c.reason)) return { kind: 'stuck', reason: `the image cannot be pulled: ${detail}`, permanent: false };
    return { kind: 'starting', detail };
  }
  if (pod.unschedulable) return { kind: 'starting', detail: `not scheduled: ${pod.unschedulable}` };
  return { kind: 'starting' };
}

/** Endpoints from the plan, with the NodePorts the Service really got. */
export function endpointsWith(task: StoredTask, nodePorts: ReadonlyMap<number, number>): TaskEndpoint[] {
  return task.endpoints.map((e) => {
    const nodePort = nodePorts.get(e.port);
    if (nodePort === undefined || nodePort === e.nodePort) return e;
    // Kubernetes chose another NodePort than planned: a published host port no longer reaches it.
    const planned = e.nodePort !== undefined;
    return {
      port: e.port,
      nodePort,
      reachable: planned ? false : e.reachable,
      how: planned ? `NodePort ${nodePort}, not the planned ${e.nodePort}: kubectl port-forward svc/${podNameFor(task)} ${e.port}` : e.how,
    };
  });
}

// ---------------------------------------------------------------------------
// The launcher

interface Watch {
  id: string;
  abort: AbortController;
  /** A cancel is deleting the Pod: the watcher must not record the Pod's end as the task's. */
  cancelling: boolean;
  done: Promise<void>;
}

/** One log read: the log's whole size, or why it could not be read. */
interface LogReadOutcome {
  size?: number;
  error?: KubeOpError['kind'] | 'stopped' | 'write';
}

/** How a reason says that something may be left on the cluster, and the note once it is gone. */
const LEFTOVER_WORDS = 'may still exist on';
const LEFTOVERS_DELETED = 'what this task left on the cluster was deleted after a restart';

const TRANSIENT: ReadonlySet<KubeOpError['kind']> = new Set(['deadline', 'unreachable', 'client-crashed', 'api']);
const isTransient = (e: KubeOpError): boolean => TRANSIENT.has(e.kind) && !(e.kind === 'api' && e.status !== undefined && e.status < 500);

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class Launcher {
  private readonly store: TaskStore;
  private readonly ops: TaskKubeOps;
  private readonly logsDir: string;
  private readonly onChange: (task: TaskRecord) => void;
  private readonly defaultImage: string;
  private readonly kubeconfigPaths: () => string[];
  readonly timings: LauncherTimings;
  private readonly watches = new Map<string, Watch>();
  /** Wakes log followers: emits the task id on each append and each change. */
  private readonly logWake = new EventEmitter();
  /** Where each task's Pod log has been read up to (its file's size, unless the log was reset). */
  private readonly logOffsets = new Map<string, number>();
  /** The log read in progress per task, so reads never overlap. */
  private readonly logReads = new Map<string, Promise<void>>();
  private closed = false;

  constructor(opts: LauncherOptions) {
    this.store = opts.store;
    this.ops = opts.ops;
    this.logsDir = opts.logsDir;
    this.onChange = opts.onChange ?? (() => undefined);
    this.defaultImage = opts.defaultImage ?? DEFAULT_TASK_IMAGE;
    this.kubeconfigPaths = opts.kubeconfigPaths ?? (() => defaultKubeconfigPaths());
    this.timings = { ...DEFAULT_LAUNCHER_TIMINGS, ...opts.timings };
    this.logWake.setMaxListeners(0);
    // Task logs are what the task printed, secrets included: the owner's alone, as the supervisor's logs folder is.
    mkdirSync(this.logsDir, { recursive: true, mode: 0o700 });
  }

  logPath(id: string): string {
    return path.join(this.logsDir, `${id}.log`);
  }

  /** Tasks being watched now (ids). */
  watching(): string[] {
    return [...this.watches.keys()];
  }

  /** Starts (or resumes) a task's life in the background. Does nothing for a task already watched or final. */
  launch(id: string): void {
    if (this.closed || this.watches.has(id)) return;
    const task = this.store.get(id);
    if (!task || task.state === 'waiting' || isFinalTaskState(task.state)) return;
    const abort = new AbortController();
    const watch: Watch = { id, abort, cancelling: false, done: Promise.resolve() };
    this.watches.set(id, watch);
    watch.done = this.drive(watch)
      .catch((err: unknown) => {
        // A bug, or the store failing: the task must not stay in flight without a watcher.
        const message = err instanceof Error ? err.message : String(err);
        try {
          this.move(id, 'failed', { reason: `Kindtray stopped watching this task: ${message}` });
        } catch {
          // The store is gone too (shutting down): reconcile() takes the task up on the next start.
        }
      })
      .finally(() => {
        if (this.watches.get(id) === watch) this.watches.delete(id);
        this.logWake.emit('wake', id);
      });
  }

  /** Waiting tasks whose target is ready move to pending and launch. Returns the ids launched. */
  launchWaiting(isReady: (context: string) => boolean): string[] {
    const launched: string[] = [];
    for (const task of this.store.waiting()) {
      if (!isReady(task.context)) continue;
      const moved = this.move(task.id, 'pending', { message: `${task.context} is ready: launching` });
      if (moved) {
        this.launch(task.id);
        launched.push(task.id);
      }
    }
    return launched;
  }

  /**
   * Cancels a task: deletes its Pod and Service (each under the deadline) and
   * records it cancelled, even when the cluster does not answer; the reason
   * then says what may be left, and reconcile() deletes it later.
   */
  async cancel(id: string, why = 'cancelled by the user'): Promise<CancelResult> {
    const task = this.store.get(id);
    if (!task) return { ok: false, code: 'not-found', message: taskNotFound(id) };
    if (isFinalTaskState(task.state)) {
      return { ok: false, code: 'illegal', message: `task ${id} is already ${task.state}: nothing to cancel`, task: toTaskRecord(task) };
    }
    const watch = this.watches.get(id);
    if (watch) {
      watch.cancelling = true;
      watch.abort.abort();
    }
    let leftovers: string | undefined;
    if (task.state === 'launching' || task.state === 'running') {
      leftovers = await this.deleteResources(task);
    }
    const reason = leftovers ? `${why}; ${leftovers}` : why;
    const r = this.move(id, 'cancelled', { reason });
    await watch?.done;
    if (!r) {
      const now = this.store.get(id);
      return { ok: false, code: 'illegal', message: `task ${id} is already ${now?.state ?? 'gone'}: nothing to cancel`, ...(now ? { task: toTaskRecord(now) } : {}) };
    }
    return leftovers ? { ok: true, task: toTaskRecord(r), leftovers } : { ok: true, task: toTaskRecord(r) };
  }

  /**
   * On worker start: for every task in flight, look at the cluster and correct
   * the store, then resume watching. Pods left behind by cancelled tasks are
   * deleted. Never throws; a cluster that does not answer leaves its tasks to
   * their watchers (and their bounds).
   */
  async reconcile(): Promise<void> {
    const inFlight = this.store.inFlight();
    await Promise.all(
      inFlight.map(async (task) => {
        if (this.watches.has(task.id)) return;
        if (task.state === 'pending') {
          this.launch(task.id);
          return;
        }
        const found = await this.ops.listTaskPods(this.target(task), `${TASK_LABEL}=${task.id}`, { namespace: task.namespace });
        if (!found.ok) {
          this.store.note(task.id, `after a restart, ${task.context} could not be asked about this task: ${found.error.message}`);
          this.launch(task.id);
          return;
        }
        const pod = found.value.find((p) => p.labels[TASK_LABEL] === task.id);
        if (!pod) {
          if (task.podName === undefined) {
            // Never confirmed created: the worker stopped between the decision and the Pod. Create it now.
            this.launch(task.id);
          } else {
            await this.deleteResources(task);
            this.move(task.id, 'failed', { reason: `pod ${task.podName} disappeared while Kindtray was not watching` });
          }
          return;
        }
        const verdict = podVerdict(pod);
        if (verdict.kind === 'succeeded' || verdict.kind === 'failed') {
          await this.drainLog(task, pod.name);
          await this.finish(task, verdict, pod.name);
          return;
        }
        this.launch(task.id);
      }),
    );
    // Tasks that ended while their Pod or Service could not be deleted.
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

  /** Stops every watcher; tasks keep their state, for reconcile() on the next start. */
  async close(): Promise<void> {
    this.closed = true;
    const watches = [...this.watches.values()];
    for (const w of watches) w.abort.abort();
    await Promise.all(watches.map((w) => w.done));
  }

  /**
   * The task's log from the file, in chunks. With `follow`, waits for more
   * until the task is final and the file is drained, or `signal` aborts.
   */
  async *openLogs(id: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
    if (!this.store.get(id)) throw new TaskStoreError(taskNotFound(id));
    const signal = opts.signal ?? new AbortController().signal;
    const file = this.logPath(id);
    const buffer = Buffer.alloc(64 * 1024);
    let position = 0;
    let handle: FileHandle | undefined;
    try {
      while (!signal.aborted) {
        // Read the state before draining: a task final before the drain has nothing more coming.
        const state = this.store.get(id)?.state;
        const ended = !opts.follow || state === undefined || (isFinalTaskState(state) && !this.watches.has(id));
        handle ??= await open(file, 'r').catch(() => undefined);
        if (handle) {
          for (;;) {
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
            if (bytesRead === 0 || signal.aborted) break;
            position += bytesRead;
            yield Buffer.from(buffer.subarray(0, bytesRead));
          }
        }
        if (ended || signal.aborted) return;
        await this.waitForLog(id, signal, 1_000);
      }
    } finally {
      await handle?.close();
    }
  }

  private waitForLog(id: string, signal: AbortSignal, maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxMs);
      const onWake = (woken: string) => {
        if (woken === id) done();
      };
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wake.off('wake', onWake);
        resolve();
      }
      const wake = this.logWake;
      wake.on('wake', onWake);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  // -------------------------------------------------------------------------
  // A task's life

  private target(task: Pick<TaskRecord, 'context'>): KubeTarget {
    return { context: task.context, kubeconfigPaths: this.kubeconfigPaths() };
  }

  private async drive(watch: Watch): Promise<void> {
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
      const created = await this.createResources(task, launchingSince, signal);
      if (signal.aborted || !created) return;
      task = created;
    }

    // Status and log loops run side by side until the task is final or the watch stops.
    const logStop = new AbortController();
    const stopLogs = () => logStop.abort();
    signal.addEventListener('abort', stopLogs, { once: true });
    const podName = task.podName ?? podNameFor(task);
    const logs = this.followLog(task, podName, logStop.signal);
    try {
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
  private async createResources(task: StoredTask, since: number, signal: AbortSignal): Promise<StoredTask | undefined> {
    const pod = buildPod(task, this.defaultImage);
    const podName = pod.metadata?.name ?? podNameFor(task);
    let current: StoredTask | undefined = task;
    // A Pod confirmed created before a restart is not created again.
    if (task.podName === undefined) {
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
      current = this.update(task.id, { podName });
      if (!current || current.state !== 'launching' || signal.aborted) {
        // Cancelled (or shut down) while the create was in flight: a cancelled task's Pod must go too.
        if (!current || current.state === 'cancelled' || this.watches.get(task.id)?.cancelling) await this.deleteResources({ ...task, podName });
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
        if (this.watches.get(task.id)?.cancelling) await this.deleteResources(current);
        return undefined;
      }
      const nodePorts = new Map<number, number>();
      for (const p of createdService.ports) if (p.nodePort !== undefined) nodePorts.set(p.port, p.nodePort);
      current = this.update(task.id, { serviceName: name, endpoints: endpointsWith(current, nodePorts) });
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
          await this.drainLog(task, podName);
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
  private async finish(task: StoredTask, verdict: PodVerdict & { kind: 'succeeded' | 'failed' }, podName: string): Promise<void> {
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
  private async deleteResources(task: Pick<StoredTask, 'id' | 'name' | 'context' | 'namespace' | 'podName' | 'serviceName' | 'spec'>): Promise<string | undefined> {
    const podName = task.podName ?? podNameFor(task);
    const serviceName = task.serviceName ?? (task.spec.resources.ports.length > 0 ? podName : undefined);
    const [pod, svc] = await Promise.all([
      this.ops.deletePod(this.target(task), task.namespace, podName, { gracePeriodSeconds: this.timings.cancelGraceSeconds }),
      serviceName ? this.ops.deleteService(this.target(task), task.namespace, serviceName) : Promise.resolve(undefined),
    ]);
    const left: string[] = [];
    if (!pod.ok) left.push(`pod ${podName}`);
    if (svc && !svc.ok) left.push(`service ${serviceName}`);
    if (left.length === 0) return undefined;
    const cause = (!pod.ok ? pod.error.message : svc && !svc.ok ? svc.error.message : '') || 'no answer';
    return `${left.join(' and ')} ${LEFTOVER_WORDS} ${task.context} (${cause}): Kindtray deletes ${left.length > 1 ? 'them' : 'it'} on its next start`;
  }

  // -------------------------------------------------------------------------
  // Logs

  /** Copies the Pod's log into the task's file while the Pod runs; polls, so each read is one bounded request. */
  private async followLog(task: StoredTask, podName: string, signal: AbortSignal): Promise<void> {
    const t = this.timings;
    let wait = t.logPollMs;
    let troubleNoted = false;
    while (!signal.aborted) {
      let read: LogReadOutcome;
      try {
        read = await this.captureLog(task, podName, false, signal);
      } catch (err) {
        // The file cannot be written (disk full, folder gone): the task goes on; say so once.
        if (!troubleNoted) this.store.note(task.id, `the log cannot be saved to ${this.logPath(task.id)}: ${(err as Error).message}`);
        troubleNoted = true;
        read = { error: 'write' };
      }
      if (read.size !== undefined) {
        // The API sends the whole log each time: read a big one less often.
        wait = Math.min(t.logPollMs + Math.floor(read.size / (1024 * 1024)) * 250, t.logPollMaxMs);
      } else if (read.error === 'not-started') {
        wait = t.logPollMs;
      } else {
        wait = Math.min(wait * 2, t.logPollMaxMs);
      }
      await sleep(wait, signal);
    }
  }

  /** The last read, once the container has ended: all of it, partial line included. Never throws. */
  private async drainLog(task: StoredTask, podName: string): Promise<void> {
    try {
      const r = await this.captureLog(task, podName, true, new AbortController().signal);
      if (r.error && r.error !== 'not-started') this.store.note(task.id, `the end of the log could not be read`);
    } catch (err) {
      this.store.note(task.id, `the end of the log could not be saved: ${(err as Error).message}`);
    }
  }

  /**
   * One read of the Pod's log from where the file ends; appends what is new.
   * `final`: the container has ended, take everything (no partial line is
   * left to complete). Returns the log's whole size, or undefined when it
   * could not be read.
   */
  private captureLog(task: Pick<StoredTask, 'id' | 'context' | 'namespace'>, podName: string, final: boolean, signal: AbortSignal): Promise<LogReadOutcome> {
    // One read at a time per task: two reads from the same offset would append the same bytes twice.
    const before = this.logReads.get(task.id) ?? Promise.resolve();
    const next = before.then(() => this.readLogOnce(task, podName, final, signal));
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.logReads.set(task.id, settled);
    void settled.then(() => {
      if (this.logReads.get(task.id) === settled) this.logReads.delete(task.id);
    });
    return next;
  }

  private async readLogOnce(task: Pick<StoredTask, 'id' | 'context' | 'namespace'>, podName: string, final: boolean, signal: AbortSignal): Promise<LogReadOutcome> {
    const file = this.logPath(task.id);
    const have =
      this.logOffsets.get(task.id) ??
      (await stat(file).then(
        (s) => s.size,
        () => 0,
      ));
    if (signal.aborted) return { error: 'stopped' };
    const r = await this.ops.readLog(this.target(task), task.namespace, podName, { sinceBytes: have, stableTail: !final });
    if (!r.ok) return { error: r.error.kind };
    if (r.value.reset) {
      // The log restarted (rotated): keep what we have, and say so in the file.
      await appendFile(file, `\n[kindtray: the pod's log was rotated or restarted; continuing from its new start]\n`, { mode: 0o600 });
    }
    if (r.value.data.length > 0) await appendFile(file, r.value.data, { mode: 0o600 });
    this.logOffsets.set(task.id, r.value.nextOffset);
    if (r.value.data.length > 0 || r.value.reset) this.logWake.emit('wake', task.id);
    return { size: r.value.totalBytes };
  }

  // -------------------------------------------------------------------------
  // Store helpers

  /** A transition, told to onChange and log followers; undefined when it was not legal (a race lost). */
  private move(id: string, to: TaskState, opts: TransitionOptions): StoredTask | undefined {
    const r = this.store.transition(id, to, opts);
    if (!r.ok) return undefined;
    this.changed(r.task);
    return r.task;
  }

  private update(id: string, patch: TaskPatch): StoredTask | undefined {
    return this.store.update(id, patch);
  }

  private changed(task: StoredTask): void {
    if (isFinalTaskState(task.state)) this.logOffsets.delete(task.id);
    this.logWake.emit('wake', task.id);
    try {
      this.onChange(toTaskRecord(task));
    } catch {
      // A listener's failure is its own.
    }
  }
}

function fail<T>(kind: KubeOpError['kind'], message: string): KubeOpResult<T> {
  return { ok: false, error: { kind, message } };
}
