// The task store: every task and what happened to it, in SQLite (node:sqlite,
// no native module). A task acknowledged to a client is on disk before the
// answer (WAL + synchronous=FULL, each write its own committed transaction),
// and the state machine is enforced here, in the same transaction that writes
// the event, so two writers (the launcher finishing a task, a user cancelling
// it) can never both win. The tables are in store-schema.ts, the task and its
// rules in task-model.ts.

import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskEvent, TaskState } from '../../shared/api.ts';
import type { PortPlan } from '../../shared/task/index.ts';
import { isTaskState, openTaskDatabase, patchAssignments, rowToTask } from './store-schema.ts';
import type { TaskRow } from './store-schema.ts';
import { IN_FLIGHT_STATES, TaskStoreError, canTransition, endpointsFromPlan, newTaskId, taskNotFound } from './task-model.ts';
import type { ListOptions, NewTask, StoredTask, TaskPatch, TransitionOptions, TransitionResult } from './task-model.ts';

// The API worker's task service reads records through the store.
export { toTaskRecord } from './task-model.ts';

/** What a secret's value becomes in the stored spec once its Secret is made. */
export const SECRET_FORGOTTEN = '<in the task\'s Kubernetes Secret>';

export class TaskStore {
  private readonly db: DatabaseSync;
  readonly path: string;
  private closed = false;

  private constructor(db: DatabaseSync, path: string) {
    this.db = db;
    this.path = path;
  }

  /** Opens (creating when needed) the database at `path`; throws TaskStoreError when it cannot be Kindtray's (see openTaskDatabase). */
  static open(path: string): TaskStore {
    return new TaskStore(openTaskDatabase(path), path);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Records a new task, `pending` (or `waiting` with what it waits for), and its first event. */
  create(input: NewTask): StoredTask {
    const now = new Date().toISOString();
    const id = newTaskId();
    const state: TaskState = input.waitingFor !== undefined ? 'waiting' : 'pending';
    const portPlan = input.portPlan ?? [];
    const endpoints = input.endpoints ?? endpointsFromPlan(portPlan);
    this.write(() => {
      this.db
        .prepare(
          `INSERT INTO tasks (id, name, state, reason, context, cluster, namespace, endpoints, source, spec, port_plan, created_at, updated_at, stage, stage_plan)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.name,
          state,
          input.waitingFor ?? null,
          input.context,
          input.cluster ?? null,
          input.namespace ?? 'default',
          JSON.stringify(endpoints),
          input.source,
          JSON.stringify(input.spec),
          JSON.stringify(portPlan),
          now,
          now,
          input.stages ? 0 : null,
          input.stages ? JSON.stringify(input.stages.map((s, i) => (i === 0 ? { name: s.name, spec: input.spec } : s))) : null,
        );
      this.addEvent(id, now, state, input.waitingFor !== undefined ? `waiting: ${input.waitingFor}` : `submitted for ${input.context}`);
    });
    const task = this.get(id);
    if (!task) throw new TaskStoreError(`task ${id} vanished right after it was written`);
    return task;
  }

  get(id: string): StoredTask | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return row ? rowToTask(row) : undefined;
  }

  /** Newest first. */
  list(opts: ListOptions = {}): StoredTask[] {
    const limit = Math.max(1, Math.min(1000, Math.floor(opts.limit ?? 100)));
    const states = opts.states;
    if (states !== undefined && states.length === 0) return [];
    const where = states ? `WHERE state IN (${states.map(() => '?').join(', ')})` : '';
    const rows = this.db.prepare(`SELECT * FROM tasks ${where} ORDER BY seq DESC LIMIT ?`).all(...(states ?? []), limit) as unknown as TaskRow[];
    return rows.map(rowToTask);
  }

  /** Tasks that need watching: pending, launching or running, oldest first. */
  inFlight(): StoredTask[] {
    return this.byStates(IN_FLIGHT_STATES);
  }

  /** Tasks kept until their cluster is ready, oldest first. */
  waiting(): StoredTask[] {
    return this.byStates(['waiting']);
  }

  private byStates(states: readonly TaskState[]): StoredTask[] {
    const rows = this.db
      .prepare(`SELECT * FROM tasks WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY seq ASC`)
      .all(...states) as unknown as TaskRow[];
    return rows.map(rowToTask);
  }

  /**
   * Moves a task to `to` when the state machine allows it, with its event, in
   * one transaction. An illegal move (a finished task cancelled, a race lost)
   * changes nothing and says why.
   */
  transition(id: string, to: TaskState, opts: TransitionOptions = {}): TransitionResult {
    const now = new Date().toISOString();
    return this.write((): TransitionResult => {
      const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
      if (!row) return { ok: false, code: 'not-found', message: taskNotFound(id) };
      const current = rowToTask(row);
      const from = current.state;
      if (!canTransition(from, to)) {
        const why = isFinalTaskState(from) ? `it has already ${from === 'cancelled' ? 'been cancelled' : from}` : `${from} cannot become ${to}`;
        return { ok: false, code: 'illegal', message: `task ${id} is ${from}: ${why}`, task: current };
      }
      const patch: TaskPatch = { ...opts.patch };
      if (to === 'running' && patch.startedAt === undefined && current.startedAt === undefined) patch.startedAt = now;
      if (isFinalTaskState(to) && patch.finishedAt === undefined) patch.finishedAt = now;
      const patched = patchAssignments(patch);
      const sets = ['state = ?', 'reason = ?', 'updated_at = ?', ...patched.sets];
      const values: SQLInputValue[] = [to, opts.reason ?? null, now, ...patched.values];
      this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
      this.addEvent(id, now, to, opts.message ?? opts.reason ?? `${from} → ${to}`);
      const task = this.get(id);
      if (!task) throw new TaskStoreError(`task ${id} vanished during its transition`);
      return { ok: true, task, from };
    });
  }

  /** Sets fields without a state change (an endpoint learned, a pod name), with no event. */
  update(id: string, patch: TaskPatch): StoredTask | undefined {
    const now = new Date().toISOString();
    return this.write(() => {
      const patched = patchAssignments(patch);
      const sets = ['updated_at = ?', ...patched.sets];
      const values: SQLInputValue[] = [now, ...patched.values];
      const changed = this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
      return changed.changes > 0 ? this.get(id) : undefined;
    });
  }

  /**
   * Replaces the values of the task's secrets in its stored spec by a marker,
   * names kept: once its Kubernetes Secret exists, the database need not hold them.
   */
  forgetSecrets(id: string): StoredTask | undefined {
    return this.write(() => {
      const task = this.get(id);
      if (!task?.spec.secrets) return task;
      const secrets = Object.fromEntries(Object.keys(task.spec.secrets).map((k) => [k, SECRET_FORGOTTEN]));
      const spec = { ...task.spec, secrets };
      // A pipeline's plan holds the current stage's spec too: forgotten there as well.
      const current = task.stage ?? 0;
      const plan = task.stagePlan?.map((s, i) => (i === current ? { ...s, spec } : s));
      this.db.prepare('UPDATE tasks SET spec = ?, stage_plan = ? WHERE id = ?').run(JSON.stringify(spec), plan ? JSON.stringify(plan) : null, id);
      return this.get(id);
    });
  }

  /** Adds a note to a task's history without changing its state (a retry, a cleanup). */
  note(id: string, message: string): boolean {
    return this.write(() => {
      const row = this.db.prepare('SELECT state FROM tasks WHERE id = ?').get(id) as { state: string } | undefined;
      if (!row || !isTaskState(row.state)) return false;
      this.addEvent(id, new Date().toISOString(), row.state, message);
      return true;
    });
  }

  /** Oldest first. Undefined when the task does not exist. */
  events(id: string): TaskEvent[] | undefined {
    const exists = this.db.prepare('SELECT 1 AS one FROM tasks WHERE id = ?').get(id);
    if (!exists) return undefined;
    const rows = this.db.prepare('SELECT task_id, at, state, message FROM task_events WHERE task_id = ? ORDER BY seq ASC').all(id) as unknown as {
      task_id: string;
      at: string;
      state: string;
      message: string;
    }[];
    return rows.map((r) => ({ taskId: r.task_id, at: r.at, state: isTaskState(r.state) ? r.state : 'failed', message: r.message }));
  }

  /**
   * NodePorts claimed by tasks that are not final (waiting ones included: they
   * will claim theirs when they launch), so validation can avoid them.
   */
  usedNodePorts(context?: string): Set<number> {
    const rows = this.db
      .prepare(`SELECT context, port_plan FROM tasks WHERE state IN ('waiting', 'pending', 'launching', 'running')`)
      .all() as unknown as { context: string; port_plan: string }[];
    const used = new Set<number>();
    for (const r of rows) {
      if (context !== undefined && r.context !== context) continue;
      for (const p of JSON.parse(r.port_plan) as PortPlan[]) if (p.nodePort !== undefined) used.add(p.nodePort);
    }
    return used;
  }

  private addEvent(id: string, at: string, state: TaskState, message: string): void {
    this.db.prepare('INSERT INTO task_events (task_id, at, state, message) VALUES (?, ?, ?, ?)').run(id, at, state, message);
  }

  /**
   * One write transaction. IMMEDIATE takes the write lock up front, so a
   * read-then-write (the state check in transition) cannot be overtaken by
   * another connection between the read and the write.
   */
  private write<T>(work: () => T): T {
    if (this.closed) throw new TaskStoreError('the task store is closed');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = work();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
