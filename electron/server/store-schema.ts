// The task database: its tables and their migrations, how a file is opened
// (owner-only, WAL, fsynced commits; someone else's database or a newer
// Kindtray's refused), and how a row maps to a task and a patch to columns.

import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue } from 'node:sqlite';
import { TASK_STATES } from '../../shared/api.ts';
import type { TaskEndpoint, TaskNode, TaskState } from '../../shared/api.ts';
import type { PortPlan, TaskSpec } from '../../shared/task/index.ts';
import { TaskStoreError } from './task-model.ts';
import type { StoredStage, StoredTask, TaskPatch } from './task-model.ts';

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
  // Multi-node tasks and pipelines: the nodes (Pods) of the current stage, the stage's index, and the
  // pipeline's stages (each one's spec and times). Old rows read as one node, no pipeline.
  `
  ALTER TABLE tasks ADD COLUMN nodes TEXT;
  ALTER TABLE tasks ADD COLUMN stage INTEGER;
  ALTER TABLE tasks ADD COLUMN stage_plan TEXT;
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

export interface TaskRow {
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
  nodes: string | null;
  stage: number | null;
  stage_plan: string | null;
}

export function isTaskState(s: string): s is TaskState {
  return (TASK_STATES as readonly string[]).includes(s);
}

export function rowToTask(row: TaskRow): StoredTask {
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
  if (row.nodes !== null) task.nodes = JSON.parse(row.nodes) as TaskNode[];
  if (row.stage !== null) task.stage = Number(row.stage);
  if (row.stage_plan !== null) task.stagePlan = JSON.parse(row.stage_plan) as StoredStage[];
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
  nodes: { column: 'nodes', encode: (v) => (v === undefined ? null : JSON.stringify(v)) },
  stage: { column: 'stage', encode: (v) => (v as number | undefined) ?? null },
  spec: { column: 'spec', encode: (v) => JSON.stringify(v) },
  stagePlan: { column: 'stage_plan', encode: (v) => (v === undefined ? null : JSON.stringify(v)) },
};

/** The `SET` assignments and values for a patch: `column = ?` each. */
export function patchAssignments(patch: TaskPatch): { sets: string[]; values: SQLInputValue[] } {
  const sets: string[] = [];
  const values: SQLInputValue[] = [];
  for (const [key, value] of Object.entries(patch) as [keyof TaskPatch, unknown][]) {
    const col = PATCH_COLUMNS[key];
    if (!col) continue;
    sets.push(`${col.column} = ?`);
    values.push(col.encode(value));
  }
  return { sets, values };
}

/**
 * Opens (creating when needed) the database at `path` and brings its schema
 * up to date. Throws TaskStoreError when the file is not a Kindtray database
 * or was written by a newer Kindtray.
 */
export function openTaskDatabase(path: string): DatabaseSync {
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
  return db;
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
