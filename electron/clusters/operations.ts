// The record of every cluster operation (create, delete, start, stop,
// load-image): one at a time per cluster, each with its steps, outcome and
// duration, told to listeners (the event stream) at each change, and
// cancellable through its AbortController. The last finished ones are kept
// for GET /api/operations/:id after the fact.

import { randomBytes } from 'node:crypto';
import type { ClusterOperation, OperationEvent, OperationKind, OperationState } from '../../shared/contracts/clusters.ts';
import { StepList } from './steps.ts';

const KEEP_FINISHED = 50;

export class BusyError extends Error {
  override readonly name = 'BusyError';
  readonly operation: ClusterOperation;
  constructor(op: ClusterOperation) {
    super(`cluster ${op.cluster} is busy: ${op.kind} ${op.id} is running since ${op.startedAt}`);
    this.operation = op;
  }
}

/** One running operation: its record, its steps, and how to cancel it. */
export class OperationHandle {
  readonly record: ClusterOperation;
  readonly steps: StepList;
  readonly abort = new AbortController();
  private readonly tell: (e: OperationEvent) => void;
  private readonly onEnd: () => void;
  private readonly started = Date.now();
  readonly done: Promise<ClusterOperation>;
  private resolveDone!: (op: ClusterOperation) => void;

  constructor(record: ClusterOperation, tell: (e: OperationEvent) => void, onEnd: () => void) {
    this.record = record;
    this.steps = new StepList();
    this.record.steps = this.steps.steps;
    this.tell = tell;
    this.onEnd = onEnd;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get cancelled(): boolean {
    return this.abort.signal.aborted;
  }

  /** Tells listeners the record changed (a step began or ended), with kind's line when one came. */
  changed(line?: string): void {
    this.tell({ type: 'operation', operation: snapshotOf(this.record), ...(line ? { line } : {}) });
  }

  /** A line of kind's: a step when it is a status line; told as progress either way. */
  line(text: string): void {
    this.steps.feed(text);
    this.changed(text);
  }

  /** Runs `work` as a step of ours: running, then succeeded or failed with the error's words. */
  async step<T>(title: string, work: () => Promise<T>): Promise<T> {
    const s = this.steps.begin(title);
    this.changed();
    try {
      const value = await work();
      this.steps.end(s, 'succeeded');
      this.changed();
      return value;
    } catch (e) {
      this.steps.end(s, this.cancelled ? 'cancelled' : 'failed');
      this.changed();
      throw e;
    }
  }

  finish(state: Exclude<OperationState, 'running'>, error?: { message: string; step?: string }): ClusterOperation {
    if (this.record.state !== 'running') return this.record;
    this.steps.finish(state === 'succeeded' ? 'succeeded' : state === 'cancelled' ? 'cancelled' : 'failed');
    const failedIn = error?.step ?? this.steps.failedStep();
    this.record.state = state;
    this.record.endedAt = new Date().toISOString();
    this.record.durationMs = Date.now() - this.started;
    if (error) this.record.error = { message: error.message, ...(failedIn ? { step: failedIn } : {}) };
    this.onEnd();
    this.changed();
    this.resolveDone(this.record);
    return this.record;
  }
}

/** A copy that later changes do not reach (listeners may keep it). */
const snapshotOf = (op: ClusterOperation): ClusterOperation => structuredClone(op);

export class Operations {
  private readonly all = new Map<string, OperationHandle>();
  private readonly listeners = new Set<(e: OperationEvent) => void>();

  subscribe(l: (e: OperationEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Starts the record of an operation on `cluster`; a BusyError when one already runs on it. */
  begin(kind: OperationKind, cluster: string, extra: Partial<ClusterOperation> = {}): OperationHandle {
    const running = this.runningFor(cluster);
    if (running) throw new BusyError(snapshotOf(running.record));
    const record: ClusterOperation = { id: `op-${randomBytes(5).toString('hex')}`, kind, cluster, state: 'running', steps: [], startedAt: new Date().toISOString(), ...extra };
    const handle = new OperationHandle(record, (e) => this.tell(e), () => this.trim());
    this.all.set(record.id, handle);
    handle.changed();
    return handle;
  }

  get(id: string): OperationHandle | undefined {
    return this.all.get(id);
  }

  runningFor(cluster: string): OperationHandle | undefined {
    return [...this.all.values()].find((h) => h.record.cluster === cluster && h.record.state === 'running');
  }

  /** Running ones and the last finished, newest first, as copies. */
  list(): ClusterOperation[] {
    return [...this.all.values()].map((h) => snapshotOf(h.record)).reverse();
  }

  get busy(): boolean {
    return [...this.all.values()].some((h) => h.record.state === 'running');
  }

  private tell(e: OperationEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure is not the operation's.
      }
    }
  }

  private trim(): void {
    const finished = [...this.all.values()].filter((h) => h.record.state !== 'running');
    for (const h of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.all.delete(h.record.id);
  }
}
