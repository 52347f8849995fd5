// A task's log: copied from its Pod into logsDir/<id>.log while the Pod runs,
// so it outlives the Pod and the cluster, and read back from that file, in
// chunks, by whoever follows it. Each copy is one bounded KubeOps read (the
// API re-sends the whole log each time, so a big log is read less often).

import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { appendFile, open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskRecord } from '../../shared/api.ts';
import { sleep } from './launcher-kube.ts';
import type { KubeOpError, KubeTarget, TaskKubeOps } from './launcher-kube.ts';
import type { TaskStore } from './store.ts';
import { TaskStoreError, taskNotFound } from './task-model.ts';
import type { StoredTask } from './task-model.ts';

export interface TaskLogsOptions {
  dir: string;
  ops: Pick<TaskKubeOps, 'readLog'>;
  store: Pick<TaskStore, 'get' | 'note'>;
  target: (task: Pick<TaskRecord, 'context'>) => KubeTarget;
  /** Whether a watcher still copies the task's log: a follower waits until it stops. */
  isWatched: (id: string) => boolean;
  /** Log reads while the Pod runs: the first interval, and the longest (big logs, a silent cluster). */
  pollMs: number;
  pollMaxMs: number;
}

/** One log read: the log's whole size, or why it could not be read. */
interface LogReadOutcome {
  size?: number;
  error?: KubeOpError['kind'] | 'stopped' | 'write';
}

export class TaskLogs {
  private readonly opts: TaskLogsOptions;
  /** Wakes log followers: emits the task id on each append and each change. */
  private readonly wakeup = new EventEmitter();
  /** Where each task's Pod log has been read up to (its file's size, unless the log was reset). */
  private readonly offsets = new Map<string, number>();
  /** The log read in progress per task, so reads never overlap. */
  private readonly reads = new Map<string, Promise<void>>();

  constructor(opts: TaskLogsOptions) {
    this.opts = opts;
    this.wakeup.setMaxListeners(0);
    // Task logs are what the task printed, secrets included: the owner's alone, as the supervisor's logs folder is.
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  path(id: string): string {
    return path.join(this.opts.dir, `${id}.log`);
  }

  /** Tells followers of `id` to look again (more log, or a change of state). */
  wake(id: string): void {
    this.wakeup.emit('wake', id);
  }

  /** A task changed: once it is final, nothing more is copied, so its read offset goes. */
  changed(task: Pick<StoredTask, 'id' | 'state'>): void {
    if (isFinalTaskState(task.state)) this.offsets.delete(task.id);
    this.wake(task.id);
  }

  /** Copies the Pod's log into the task's file while the Pod runs; polls, so each read is one bounded request. */
  async follow(task: StoredTask, podName: string, signal: AbortSignal): Promise<void> {
    const { pollMs, pollMaxMs } = this.opts;
    let wait = pollMs;
    let troubleNoted = false;
    while (!signal.aborted) {
      let read: LogReadOutcome;
      try {
        read = await this.captureLog(task, podName, false, signal);
      } catch (err) {
        // The file cannot be written (disk full, folder gone): the task goes on; say so once.
        if (!troubleNoted) this.opts.store.note(task.id, `the log cannot be saved to ${this.path(task.id)}: ${(err as Error).message}`);
        troubleNoted = true;
        read = { error: 'write' };
      }
      if (read.size !== undefined) {
        // The API sends the whole log each time: read a big one less often.
        wait = Math.min(pollMs + Math.floor(read.size / (1024 * 1024)) * 250, pollMaxMs);
      } else if (read.error === 'not-started') {
        wait = pollMs;
      } else {
        wait = Math.min(wait * 2, pollMaxMs);
      }
      await sleep(wait, signal);
    }
  }

  /** The last read, once the container has ended: all of it, partial line included. Never throws. */
  async drain(task: StoredTask, podName: string): Promise<void> {
    try {
      const r = await this.captureLog(task, podName, true, new AbortController().signal);
      if (r.error && r.error !== 'not-started') this.opts.store.note(task.id, `the end of the log could not be read`);
    } catch (err) {
      this.opts.store.note(task.id, `the end of the log could not be saved: ${(err as Error).message}`);
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
    const before = this.reads.get(task.id) ?? Promise.resolve();
    const next = before.then(() => this.readLogOnce(task, podName, final, signal));
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.reads.set(task.id, settled);
    void settled.then(() => {
      if (this.reads.get(task.id) === settled) this.reads.delete(task.id);
    });
    return next;
  }

  private async readLogOnce(task: Pick<StoredTask, 'id' | 'context' | 'namespace'>, podName: string, final: boolean, signal: AbortSignal): Promise<LogReadOutcome> {
    const file = this.path(task.id);
    const have =
      this.offsets.get(task.id) ??
      (await stat(file).then(
        (s) => s.size,
        () => 0,
      ));
    if (signal.aborted) return { error: 'stopped' };
    const r = await this.opts.ops.readLog(this.opts.target(task), task.namespace, podName, { sinceBytes: have, stableTail: !final });
    if (!r.ok) return { error: r.error.kind };
    if (r.value.reset) {
      // The log restarted (rotated): keep what we have, and say so in the file.
      await appendFile(file, `\n[kindtray: the pod's log was rotated or restarted; continuing from its new start]\n`, { mode: 0o600 });
    }
    if (r.value.data.length > 0) await appendFile(file, r.value.data, { mode: 0o600 });
    this.offsets.set(task.id, r.value.nextOffset);
    if (r.value.data.length > 0 || r.value.reset) this.wake(task.id);
    return { size: r.value.totalBytes };
  }

  /**
   * The task's log from the file, in chunks. With `follow`, waits for more
   * until the task is final and the file is drained, or `signal` aborts.
   */
  async *open(id: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
    if (!this.opts.store.get(id)) throw new TaskStoreError(taskNotFound(id));
    const signal = opts.signal ?? new AbortController().signal;
    const file = this.path(id);
    const buffer = Buffer.alloc(64 * 1024);
    let position = 0;
    let handle: FileHandle | undefined;
    try {
      while (!signal.aborted) {
        // Read the state before draining: a task final before the drain has nothing more coming.
        const state = this.opts.store.get(id)?.state;
        const ended = !opts.follow || state === undefined || (isFinalTaskState(state) && !this.opts.isWatched(id));
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
      const wake = this.wakeup;
      wake.on('wake', onWake);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
