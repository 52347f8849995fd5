// The task store: every task and what happened to it, in SQLite (node:sqlite,
// no native module). A task acknowledged to a client is on disk before the
// answer (WAL + synchronous=FULL, each write its own committed transaction),
// and the state machine is enforced here, in the same transaction that writes
// the event, so two writers (the launcher finishing a task, a user cancelling
// it) can never both win.

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue } from 'node:sqlite';
import { TASK_STATES, isFinalTaskState } from '../../shared/api.ts';
import type { TaskEndpoint, TaskEvent, TaskRecord, TaskState } from '../../shared/api.ts';
import type { PortPlan, TaskSpec } from '../../shared/task/index.ts';

/** A task as the store keeps it: the API record, plus what the launcher needs. */
export interface StoredTask extends TaskRecord {
  /** The normalized task, as parseTask gave it. */
  spec: TaskSpec;
  /** The port plan made by validation against the target cluster. */
  portPlan: PortPlan[];
}

export interface NewTask {
  name: string;
  context: string;
  cluster?: string;
  /** Default `default`. */
  namespace?: string;
  /** The task as submitted (YAML or JSON text). */
  source: string;
  spec: TaskSpec;
  portPlan?: PortPlan[];
  /** Default: derived from the port plan. */
  endpoints?: TaskEndpoint[];
  /** When set, the task is kept as `waiting`, and this says what for ("cluster kind-dev to be running"). */
  waitingFor?: string;
}

/** Fields a transition may set besides state and reason. */
export type TaskPatch = Partial<Pick<TaskRecord, 'podName' | 'serviceName' | 'exitCode' | 'endpoints' | 'startedAt' | 'finishedAt'>>;

export interface TransitionOptions {
  reason?: string;
  patch?: TaskPatch;
  /** The event's message; default: the reason, or "<from> → <to>". */
  message?: string;
}

export type TransitionResult =
  | { ok: true; task: StoredTask; from: TaskState }
  | { ok: false; code: 'not-found'; message: string }
  | { ok: false; code: 'illegal'; message: string; task: StoredTask };

export interface ListOptions {
  /** Default 100, at most 1000. */
  limit?: number;
  states?: readonly TaskState[];
}

/** The legal moves. Final states (succeeded, failed, cancelled) go nowhere. */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  waiting: ['pending', 'cancelled'],
  pending: ['launching', 'failed', 'cancelled'],
  launching: ['running', 'succeeded', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export const canTransition = (from: TaskState, to: TaskState): boolean => TASK_TRANSITIONS[from].includes(to);

export const IN_FLIGHT_STATES: readonly TaskState[] = ['pending', 'launching', 'running'];

/** `t-` + milliseconds in base36 (8 digits until 2059, so ids sort by time) + 4 random base36 digits. */
export function newTaskId(now = Date.now()): string {
  const time = now.toString(36).padStart(8, '0');
  const bytes = randomBytes(4);
  let rand = '';
  for (const b of bytes) rand += (b % 36).toString(36);
  return `t-${time}${rand}`;
}

const TASK_ID = /^t-[0-9a-z]{12}$/;
export const isTaskId = (id: string): boolean => TASK_ID.test(id);

/** The answer for an id that names no task, worded for the user. */
export function taskNotFound(id: string): string {
  if (!isTaskId(id)) return `"${id.length > 40 ? `${id.slice(0, 39)}…` : id}" is not a task id: ids look like t-m5x2k8q0a1b2 (see \`kindtray tasks\`)`;
  return `task ${id} not found (see \`kindtray tasks\`)`;
}

/** Strips what only the worker needs, for the HTTP answer. */
export function toTaskRecord(task: StoredTask): TaskRecord {
  const { spec: _spec, portPlan: _plan, ...record } = task;
  return record;
}

export function endpointsFromPlan(plan: readonly PortPlan[]): TaskEndpoint[] {
  return plan.map((p) => {
    const e: TaskEndpoint = { port: p.port, reachable: p.reachable === 'yes', how: p.how };
    if (p.nodePort !== undefined) e.nodePort = p.nodePort;
    if (p.url !== undefined) e.url = p.url;
    return e;
  });
}

// ---------------------------------------------------------------------------
// Schema and migrations

/** Migration n brings user_version from n to n+1. Append only; never edit a released one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tasks (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    state         TEXT NOT NULL,
    reason        TEXT,
    context       TEXT NOT NULL,
    cluster       TEXT,
    namespace     TEXT NOT NULL,
    pod_name      TEXT,
    service_name  TEXT,
    exit_code     INTEGER,
    endpoints     TEXT NOT NULL,
    source        TEXT NOT NULL,
    spec          TEXT NOT NULL,
    port_plan     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT
  );
  CREATE INDEX tasks_state ON tasks(state);
  CREATE TABLE task_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id  TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    state    TEXT NOT NULL,
    message  TEXT NOT NULL
  );
  CREATE INDEX task_events_task ON task_events(task_id, seq);
  `,
];

export const STORE_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The database keeps each task's source, whose envs may hold secrets: only its
 * owner may read it, whatever the umask or the folder's mode. SQLite gives the
 * -wal and -shm files it creates the database file's mode; older ones are
 * tightened too.
 */
function ownerOnly(path: string): void {
  if (path === ':memory:' || path.startsWith('file:')) return;
  try {
    closeSync(openSync(path, 'a', 0o600));
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  } catch {
    // Opening it says what is wrong, in TaskStoreError's words.
  }
}

/** How long a writer waits for another connection's write lock before giving up. */
const BUSY_TIMEOUT_MS = 5_000;

interface TaskRow {
  id: string;
  name: string;
  state: string;
  reason: string | null;
  context: string;
  cluster: string | null;
  namespace: string;
  pod_name: string | null;
  service_name: string | null;
  exit_code: number | null;
  endpoints: string;
  source: string;
  spec: string;
  port_plan: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function isTaskState(s: string): s is TaskState {
  return (TASK_STATES as readonly string[]).includes(s);
}

function rowToTask(row: TaskRow): StoredTask {
  const state = isTaskState(row.state) ? row.state : 'failed';
  const task: StoredTask = {
    id: row.id,
    name: row.name,
    state,
    context: row.context,
    namespace: row.namespace,
    endpoints: JSON.parse(row.endpoints) as TaskEndpoint[],
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    spec: JSON.parse(row.spec) as TaskSpec,
    portPlan: JSON.parse(row.port_plan) as PortPlan[],
  };
  if (row.reason !== null) task.reason = row.reason;
  else if (state !== row.state) task.reason = `stored in an unknown state "${row.state}"`;
  if (row.cluster !== null) task.cluster = row.cluster;
  if (row.pod_name !== null) task.podName = row.pod_name;
  if (row.service_name !== null) task.serviceName = row.service_name;
  if (row.exit_code !== null) task.exitCode = Number(row.exit_code);
  if (row.started_at !== null) task.startedAt = row.started_at;
  if (row.finished_at !== null) task.finishedAt = row.finished_at;
  return task;
}

/** Patch field → column, and how its value is stored. */
const PATCH_COLUMNS: Record<keyof TaskPatch, { column: string; encode: (v: unknown) => SQLInputValue }> = {
  podName: { column: 'pod_name', encode: (v) => (v as string | undefined) ?? null },
  serviceName: { column: 'service_name', encode: (v) => (v as string | undefined) ?? null },
  exitCode: { column: 'exit_code', encode: (v) => (v as number | undefined) ?? null },
  endpoints: { column: 'endpoints', encode: (v) => JSON.stringify(v ?? []) },
  startedAt: { column: 'started_at', encode: (v) => (v as string | undefined) ?? null },
  finishedAt: { column: 'finished_at', encode: (v) => (v as string | undefined) ?? null },
};

export class TaskStoreError extends Error {
  override readonly name = 'TaskStoreError';
}

export class TaskStore {
  private readonly db: DatabaseSync;
  readonly path: string;
  private closed = false;

  private constructor(db: DatabaseSync, path: string) {
    this.db = db;
    this.path = path;
  }

  /**
   * Opens (creating when needed) the database at `path` and brings its schema
   * up to date. Throws TaskStoreError when the file is not a Kindtray database
   * or was written by a newer Kindtray.
   */
  static open(path: string): TaskStore {
    ownerOnly(path);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    } catch (err) {
      throw new TaskStoreError(`cannot open the task database ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      db.exec('PRAGMA journal_mode = WAL');
      // FULL: a commit is fsynced (WAL included) before it returns, so an answered launch survives a crash or power loss.
      db.exec('PRAGMA synchronous = FULL');
      migrate(db, path);
    } catch (err) {
      db.close();
      if (err instanceof TaskStoreError) throw err;
      throw new TaskStoreError(`cannot use the task database ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new TaskStore(db, path);
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
          `INSERT INTO tasks (id, name, state, reason, context, cluster, namespace, endpoints, source, spec, port_plan, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      const sets = ['state = ?', 'reason = ?', 'updated_at = ?'];
      const values: SQLInputValue[] = [to, opts.reason ?? null, now];
      const patch: TaskPatch = { ...opts.patch };
      if (to === 'running' && patch.startedAt === undefined && current.startedAt === undefined) patch.startedAt = now;
      if (isFinalTaskState(to) && patch.finishedAt === undefined) patch.finishedAt = now;
      for (const [key, value] of Object.entries(patch) as [keyof TaskPatch, unknown][]) {
        const col = PATCH_COLUMNS[key];
        if (!col) continue;
        sets.push(`${col.column} = ?`);
        values.push(col.encode(value));
      }
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
      const sets = ['updated_at = ?'];
      const values: SQLInputValue[] = [now];
      for (const [key, value] of Object.entries(patch) as [keyof TaskPatch, unknown][]) {
        const col = PATCH_COLUMNS[key];
        if (!col) continue;
        sets.push(`${col.column} = ?`);
        values.push(col.encode(value));
      }
      const changed = this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
      return changed.changes > 0 ? this.get(id) : undefined;
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

function migrate(db: DatabaseSync, path: string): void {
  const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (version > MIGRATIONS.length) {
    throw new TaskStoreError(
      `the task database ${path} is schema version ${version}, written by a newer Kindtray (this one knows up to ${MIGRATIONS.length}): update Kindtray, or move the file away to start afresh`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated while this one waited for the lock.
      const now = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
      if (now === 0 && v === 0) refuseForeignDatabase(db, path);
      if (now === v) {
        db.exec(MIGRATIONS[v] ?? '');
        db.exec(`PRAGMA user_version = ${v + 1}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
}

/** A version-0 file with tables of its own is someone else's database, not an empty one. */
function refuseForeignDatabase(db: DatabaseSync, path: string): void {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[];
  if (tables.length > 0) {
    throw new TaskStoreError(
      `${path} is not a Kindtray task database (it has tables ${tables.map((t) => t.name).join(', ')}): move it away or point KINDTRAY_HOME elsewhere`,
    );
  }
}
