// A task's log: copied from each of its Pods (one per node) into the node's
// file in logsDir while the Pod runs, so it outlives the Pod and the cluster,
// and read back from those files, in chunks, by whoever follows it.
//
// The copy follows the Pod's log API as a stream (log-streams.ts): one
// request per Pod, lines as they are printed, resumed from its cursor when it
// breaks or goes silent (task-log-files.ts keeps the cursor). An ops without
// followLog (the unit tests' fake, or KINDTRAY_LOG_FOLLOW=poll) copies the old
// way: bounded whole-log reads, each sending only the new bytes across.

import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { appendFile, open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskRecord } from '../../shared/api.ts';
import { sleep } from './launcher-kube.ts';
import type { KubeOpError, KubeTarget, TaskKubeOps } from './launcher-kube.ts';
import type { LogStreamSource } from './log-streams.ts';
import { NodeLogFile, nodeLogPath } from './task-log-files.ts';
import type { TaskStore } from './store.ts';
import { TaskStoreError, taskNotFound } from './task-model.ts';
import type { StoredTask } from './task-model.ts';

export interface TaskLogsOptions {
  dir: string;
  /** With followLog (StreamingKubeOps), logs stream; without, they are polled. */
  ops: Pick<TaskKubeOps, 'readLog'> & Partial<LogStreamSource>;
  store: Pick<TaskStore, 'get' | 'note'>;
  target: (task: Pick<TaskRecord, 'context'>) => KubeTarget;
  /** Whether a watcher still copies the task's log: a follower waits until it stops. */
  isWatched: (id: string) => boolean;
  /** Log reads while the Pod runs: the first interval, and the longest (big logs, a silent cluster). Streams wait as long between tries. */
  pollMs: number;
  pollMaxMs: number;
}

/** One log read: the log's whole size, or why it could not be read. */
interface LogReadOutcome {
  size?: number;
  error?: KubeOpError['kind'] | 'stopped' | 'write';
}

/** A piece of one node's log, and the offset in that node's file just after it. */
export interface TaskLogChunk {
  node: number;
  data: Buffer;
  end: number;
}

export interface OpenLogOptions {
  follow?: boolean;
  signal?: AbortSignal;
  /** The nodes to read (ranks); default all of the task's. */
  nodes?: number[];
  /** Where the reader was, per node: a byte offset in that node's file. */
  from?: Record<number, number>;
}

/** The last read of an ended Pod may take this long. */
const DRAIN_DEADLINE_MS = 10_000;

export class TaskLogs {
  private readonly opts: TaskLogsOptions;
  private readonly streams: LogStreamSource | undefined;
  /** Wakes log followers: emits the task id on each append and each change. */
  private readonly wakeup = new EventEmitter();
  /** Where each node's Pod log has been read up to by polls (its file's size, unless the log was reset), by `id/rank`. */
  private readonly offsets = new Map<string, number>();
  /** The log read in progress per node, so polls never overlap. */
  private readonly reads = new Map<string, Promise<void>>();
  /** Streamed nodes' files, by `id/rank`. */
  private readonly files = new Map<string, NodeLogFile>();

  constructor(opts: TaskLogsOptions) {
    this.opts = opts;
    const ops = opts.ops;
    this.streams = typeof ops.followLog === 'function' ? { followLog: ops.followLog.bind(ops) } : undefined;
    this.wakeup.setMaxListeners(0);
    // Task logs are what the task printed, secrets included: the owner's alone, as the supervisor's logs folder is.
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  /** The file of node `rank` (default 0, the file a one-node task has). */
  path(id: string, rank = 0): string {
    return nodeLogPath(this.opts.dir, id, rank);
  }

  /** Whether logs stream (else they are polled). */
  get streaming(): boolean {
    return this.streams !== undefined;
  }

  /** Tells followers of `id` to look again (more log, or a change of state). */
  wake(id: string): void {
    this.wakeup.emit('wake', id);
  }

  /** A task changed: once it is final, nothing more is copied, so its read state goes. */
  changed(task: Pick<StoredTask, 'id' | 'state'>): void {
    if (isFinalTaskState(task.state)) {
      for (const map of [this.offsets, this.files]) for (const key of [...map.keys()]) if (key.startsWith(`${task.id}/`)) map.delete(key);
    }
    this.wake(task.id);
  }

  /** Copies the Pod's log into the node's file while the Pod runs. */
  async follow(task: StoredTask, podName: string, signal: AbortSignal, rank = 0): Promise<void> {
    if (this.streams) return this.stream(this.streams, task, podName, signal, rank);
    const { pollMs, pollMaxMs } = this.opts;
    let wait = pollMs;
    let troubleNoted = false;
    while (!signal.aborted) {
      let read: LogReadOutcome;
      try {
        read = await this.captureLog(task, podName, false, signal, rank);
      } catch (err) {
        // The file cannot be written (disk full, folder gone): the task goes on; say so once.
        if (!troubleNoted) this.opts.store.note(task.id, `the log cannot be saved to ${this.path(task.id, rank)}: ${(err as Error).message}`);
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
  async drain(task: StoredTask, podName: string, rank = 0): Promise<void> {
    if (this.streams) return this.drainStream(this.streams, task, podName, rank);
    try {
      const r = await this.captureLog(task, podName, true, new AbortController().signal, rank);
      if (r.error && r.error !== 'not-started') this.opts.store.note(task.id, `the end of the log could not be read`);
    } catch (err) {
      this.opts.store.note(task.id, `the end of the log could not be saved: ${(err as Error).message}`);
    }
  }

  private fileOf(id: string, rank: number): NodeLogFile {
    const key = `${id}/${rank}`;
    let f = this.files.get(key);
    if (!f) {
      f = new NodeLogFile(this.opts.dir, id, rank);
      this.files.set(key, f);
    }
    return f;
  }

  /** Follows the Pod's log stream from the file's cursor; opens it again whenever it ends, until `signal`. */
  private async stream(streams: LogStreamSource, task: StoredTask, podName: string, signal: AbortSignal, rank: number): Promise<void> {
    const { pollMs, pollMaxMs } = this.opts;
    const file = this.fileOf(task.id, rank);
    let wait = pollMs;
    let noted: string | undefined;
    while (!signal.aborted) {
      let got = 0;
      const end = await streams.followLog(
        this.opts.target(task),
        { namespace: task.namespace, pod: podName, ...(file.since ? { since: file.since } : {}), follow: true, final: false },
        (data, since) => {
          got += data.length;
          // Readers read the file: wake them once the lines are in it.
          void file.append(data, since).then(() => this.wake(task.id));
        },
        signal,
      );
      this.noteWriteError(task.id, file);
      if (end.outcome === 'stopped') break;
      if (end.outcome === 'error' && end.error.kind !== 'not-started') {
        // Said once per kind of trouble; the stream is opened again from its cursor.
        if (noted !== end.error.kind) this.opts.store.note(task.id, `the log stream of pod ${podName} broke: ${end.error.message}; resuming`);
        noted = end.error.kind;
        wait = Math.min(Math.max(wait * 2, pollMs), pollMaxMs);
      } else {
        if (noted && got > 0) this.opts.store.note(task.id, `the log stream of pod ${podName} flows again`);
        if (got > 0) noted = undefined;
        // idle: at once (the heartbeat); eof after lines: at once; not started: a little later; an eof with nothing new
        // (the container has ended; the watcher stops this soon): less and less often.
        if (end.outcome === 'idle' || (end.outcome === 'eof' && got > 0)) wait = 0;
        else if (end.outcome === 'eof') wait = Math.min(Math.max(wait * 2, pollMs), pollMaxMs);
        else wait = pollMs;
      }
      if (wait > 0) await sleep(wait, signal);
    }
    await file.settled();
  }

  private async drainStream(streams: LogStreamSource, task: StoredTask, podName: string, rank: number): Promise<void> {
    const file = this.fileOf(task.id, rank);
    await file.settled();
    const end = await streams.followLog(
      this.opts.target(task),
      { namespace: task.namespace, pod: podName, ...(file.since ? { since: file.since } : {}), follow: false, final: true },
      (data, since) => void file.append(data, since).then(() => this.wake(task.id)),
      AbortSignal.timeout(DRAIN_DEADLINE_MS),
    );
    await file.settled();
    this.noteWriteError(task.id, file);
    if (end.outcome === 'error' && end.error.kind !== 'not-started') this.opts.store.note(task.id, `the end of the log of pod ${podName} could not be read: ${end.error.message}`);
    else if (end.outcome === 'stopped') this.opts.store.note(task.id, `the end of the log of pod ${podName} could not be read within ${DRAIN_DEADLINE_MS / 1000} s`);
    this.wake(task.id);
  }

  /** A file that cannot be written (disk full, folder gone): the task goes on; said once. */
  private noteWriteError(id: string, file: NodeLogFile): void {
    const error = file.takeError();
    if (error) this.opts.store.note(id, `the log cannot be saved to ${file.file}: ${error.message}`);
  }

  /**
   * One poll of the Pod's log from where the file ends; appends what is new.
   * `final`: the container has ended, take everything (no partial line is
   * left to complete). Returns the log's whole size, or why it could not be read.
   */
  private captureLog(task: Pick<StoredTask, 'id' | 'context' | 'namespace'>, podName: string, final: boolean, signal: AbortSignal, rank: number): Promise<LogReadOutcome> {
    // One read at a time per node: two reads from the same offset would append the same bytes twice.
    const key = `${task.id}/${rank}`;
    const before = this.reads.get(key) ?? Promise.resolve();
    const next = before.then(() => this.readLogOnce(task, podName, final, signal, rank));
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.reads.set(key, settled);
    void settled.then(() => {
      if (this.reads.get(key) === settled) this.reads.delete(key);
    });
    return next;
  }

  private async readLogOnce(task: Pick<StoredTask, 'id' | 'context' | 'namespace'>, podName: string, final: boolean, signal: AbortSignal, rank: number): Promise<LogReadOutcome> {
    const file = this.path(task.id, rank);
    const key = `${task.id}/${rank}`;
    const have =
      this.offsets.get(key) ??
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
    this.offsets.set(key, r.value.nextOffset);
    if (r.value.data.length > 0 || r.value.reset) this.wake(task.id);
    return { size: r.value.totalBytes };
  }

  /** The task's nodes, by rank: as many as its num_nodes. */
  nodesOf(id: string): number[] {
    const asked = this.opts.store.get(id)?.spec.numNodes ?? 1;
    return Array.from({ length: Math.max(1, asked) }, (_, i) => i);
  }

  /** One node's log from the files, in chunks (node 0 by default): what a one-node task's readers always had. */
  async *open(id: string, opts: { follow?: boolean; signal?: AbortSignal; node?: number } = {}): AsyncGenerator<Buffer> {
    for await (const c of this.openNodes(id, { ...opts, nodes: [opts.node ?? 0] })) yield c.data;
  }

  /**
   * The task's logs from the files, node by node, each chunk with its node
   * and where it ends in that node's file (a reader's cursor). With `follow`,
   * waits for more until the task is final and the files are drained, or
   * `signal` aborts.
   */
  async *openNodes(id: string, opts: OpenLogOptions = {}): AsyncGenerator<TaskLogChunk> {
    if (!this.opts.store.get(id)) throw new TaskStoreError(taskNotFound(id));
    const signal = opts.signal ?? new AbortController().signal;
    const nodes = opts.nodes ?? this.nodesOf(id);
    const buffer = Buffer.alloc(64 * 1024);
    const readers = nodes.map((node) => ({ node, position: opts.from?.[node] ?? 0, handle: undefined as FileHandle | undefined }));
    try {
      while (!signal.aborted) {
        // Read the state before draining: a task final before the drain has nothing more coming.
        const state = this.opts.store.get(id)?.state;
        const ended = !opts.follow || state === undefined || (isFinalTaskState(state) && !this.opts.isWatched(id));
        for (const r of readers) {
          r.handle ??= await open(this.path(id, r.node), 'r').catch(() => undefined);
          if (!r.handle) continue;
          for (;;) {
            const { bytesRead } = await r.handle.read(buffer, 0, buffer.length, r.position);
            if (bytesRead === 0 || signal.aborted) break;
            r.position += bytesRead;
            yield { node: r.node, data: Buffer.from(buffer.subarray(0, bytesRead)), end: r.position };
          }
        }
        if (ended || signal.aborted) return;
        await this.waitForLog(id, signal, 1_000);
      }
    } finally {
      await Promise.all(readers.map((r) => r.handle?.close()));
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
