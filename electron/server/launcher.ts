// The launcher: takes each recorded task through its life on the cluster, in
// the background, one watcher per task (task-life.ts), and answers for the
// tasks as a whole: launch, launch what waited for its cluster, cancel, and
// after a restart reconcile() — look at what the cluster has for every task the
// store says is in flight, and correct the store. Each task's Pod log is copied
// to a file that outlives the Pod (task-logs.ts); the Pod and Service are
// planned in pod-plan.ts; every cluster call goes through KubeOps
// (launcher-kube.ts).

import type { TaskRecord } from '../../shared/api.ts';
import { isFinalTaskState } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import { defaultKubeconfigPaths } from './launcher-kube.ts';
import type { TaskKubeOps } from './launcher-kube.ts';
import { DEFAULT_TASK_IMAGE, podVerdict } from './pod-plan.ts';
import type { TaskStore } from './store.ts';
import { DEFAULT_LAUNCHER_TIMINGS, TaskLife } from './task-life.ts';
import type { LauncherTimings, Watch } from './task-life.ts';
import { TaskLogs } from './task-logs.ts';
import type { OpenLogOptions, TaskLogChunk } from './task-logs.ts';
import { taskNotFound, toTaskRecord } from './task-model.ts';

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

export class Launcher {
  private readonly store: TaskStore;
  private readonly ops: TaskKubeOps;
  readonly timings: LauncherTimings;
  private readonly logs: TaskLogs;
  private readonly life: TaskLife;
  private readonly watches = new Map<string, Watch>();
  private closed = false;

  constructor(opts: LauncherOptions) {
    this.store = opts.store;
    this.ops = opts.ops;
    this.timings = { ...DEFAULT_LAUNCHER_TIMINGS, ...opts.timings };
    const kubeconfigPaths = opts.kubeconfigPaths ?? (() => defaultKubeconfigPaths());
    this.logs = new TaskLogs({
      dir: opts.logsDir,
      ops: this.ops,
      store: this.store,
      target: (task) => this.life.target(task),
      isWatched: (id) => this.watches.has(id),
      pollMs: this.timings.logPollMs,
      pollMaxMs: this.timings.logPollMaxMs,
    });
    this.life = new TaskLife({
      store: this.store,
      ops: this.ops,
      logs: this.logs,
      timings: this.timings,
      defaultImage: opts.defaultImage ?? DEFAULT_TASK_IMAGE,
      kubeconfigPaths,
      onChange: opts.onChange ?? (() => undefined),
    });
  }

  logPath(id: string): string {
    return this.logs.path(id);
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
    watch.done = this.life.drive(watch)
      .catch((err: unknown) => {
        // A bug, or the store failing: the task must not stay in flight without a watcher.
        const message = err instanceof Error ? err.message : String(err);
        try {
          this.life.move(id, 'failed', { reason: `Kindtray stopped watching this task: ${message}` });
        } catch {
          // The store is gone too (shutting down): reconcile() takes the task up on the next start.
        }
      })
      .finally(() => {
        if (this.watches.get(id) === watch) this.watches.delete(id);
        this.logs.wake(id);
      });
  }

  /** Waiting tasks whose target is ready move to pending and launch. Returns the ids launched. */
  launchWaiting(isReady: (context: string) => boolean): string[] {
    const launched: string[] = [];
    for (const task of this.store.waiting()) {
      if (!isReady(task.context)) continue;
      const moved = this.life.move(task.id, 'pending', { message: `${task.context} is ready: launching` });
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
      leftovers = await this.life.deleteResources(task);
    }
    const reason = leftovers ? `${why}; ${leftovers}` : why;
    const r = this.life.move(id, 'cancelled', { reason });
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
        if (task.spec.numNodes > 1 || task.stagePlan) {
          // Several Pods (nodes, a pipeline's stages): the watcher reads each node's by name and takes the task from there.
          this.launch(task.id);
          return;
        }
        const found = await this.ops.listTaskPods(this.life.target(task), `${TASK_LABEL}=${task.id}`, { namespace: task.namespace });
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
            await this.life.deleteResources(task);
            this.life.move(task.id, 'failed', { reason: `pod ${task.podName} disappeared while Kindtray was not watching` });
          }
          return;
        }
        const verdict = podVerdict(pod);
        if (verdict.kind === 'succeeded' || verdict.kind === 'failed') {
          await this.logs.drain(task, pod.name);
          await this.life.finish(task, verdict, pod.name);
          return;
        }
        this.launch(task.id);
      }),
    );
    await this.life.deleteLeftovers();
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
  openLogs(id: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
    return this.logs.open(id, opts);
  }

  /** The task's logs node by node, each chunk with its node and the reader's cursor after it (task-logs.ts). */
  openLogStream(id: string, opts: OpenLogOptions = {}): AsyncGenerator<TaskLogChunk> {
    return this.logs.openNodes(id, opts);
  }
}
