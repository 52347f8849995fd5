// The dashboard's state and the pure reducer that changes it. Everything the
// pages show comes from here: the latest snapshot (from /api/status, then the
// event stream), the connection to the server, the tasks, and the fixes in
// progress with their outcomes. Side effects live in controller.ts.

import type { ServerEvent, TaskRecord } from '../../../shared/api.ts';
import type { FixStep } from '../../../shared/fixes.ts';
import { problemIds } from '../../../shared/problems.ts';
import type { HealthSnapshot } from '../../../shared/snapshot.ts';
import type { ApiFailure } from '../transport.ts';
import type { ClusterOperation } from '../../../shared/contracts/clusters.ts';
import { followOperation, type FollowedOperation } from '../clusters/operations.ts';

export type Connection =
  /** First contact, not yet answered. */
  | { phase: 'connecting'; attempt: number }
  /** The event stream is open: the snapshot on screen is the server's latest. */
  | { phase: 'live'; since: number }
  /** The stream broke or never opened; the next try is at `retryAt`. */
  | { phase: 'lost'; attempt: number; retryAt: number; since: number; error: string }
  /** The server refused us (401): the session is gone, retrying will not help without a new link. */
  | { phase: 'unauthorized'; since: number; error: string };

export interface SnapshotView {
  snapshot: HealthSnapshot;
  /** When this page got it (Date.now()). */
  receivedAt: number;
  /** How old the server said it was then. */
  ageAtReceiptMs: number;
}

/** A fix here or anywhere (tray, CLI); `steps`: its chain's progress (Start Docker: the engine, each cluster, each context). */
export type FixRun = (
  | { state: 'running'; startedAt: number }
  | { state: 'done' | 'failed'; message: string; finishedAt: number; durationMs?: number }
) & { steps?: FixStep[] };

export type TaskList =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'ok'; at: number }
  | { state: 'error'; failure: ApiFailure; at: number };

export interface DashboardState {
  connection: Connection;
  status?: SnapshotView;
  tasks: Record<string, TaskRecord>;
  taskList: TaskList;
  fixes: Record<string, FixRun>;
  /** Cluster operations (create, delete, start, stop, load image) seen here or streamed, by id. */
  operations: Record<string, FollowedOperation>;
}

export const initialState = (): DashboardState => ({
  connection: { phase: 'connecting', attempt: 0 },
  tasks: {},
  taskList: { state: 'idle' },
  fixes: {},
  operations: {},
});

export type Action =
  | { type: 'status'; snapshot: HealthSnapshot; ageMs?: number; at: number }
  | { type: 'event'; event: ServerEvent; at: number }
  | { type: 'connected'; at: number }
  | { type: 'disconnected'; at: number; error: string; attempt: number; retryAt: number }
  | { type: 'unauthorized'; at: number; error: string }
  | { type: 'tasks-loading' }
  | { type: 'tasks-loaded'; tasks: TaskRecord[]; at: number }
  | { type: 'tasks-failed'; failure: ApiFailure; at: number }
  | { type: 'task'; task: TaskRecord }
  | { type: 'fix-started'; fixId: string; at: number }
  | { type: 'fix-step'; fixId: string; step: FixStep; at: number }
  | { type: 'fix-finished'; fixId: string; ok: boolean; message: string; at: number; durationMs?: number; steps?: FixStep[] }
  /** A cluster operation's record, from the event stream (with kind's new line) or a route's answer. */
  | { type: 'operation'; operation: ClusterOperation; line?: string };

/** A step's news replaces its earlier state; new steps keep their order of arrival. */
function withStep(steps: readonly FixStep[] | undefined, step: FixStep): FixStep[] {
  const list = [...(steps ?? [])];
  const i = list.findIndex((s) => s.id === step.id);
  if (i >= 0) list[i] = step;
  else list.push(step);
  return list;
}

/** How old a snapshot is when it arrives without an age (events): from its checkedAt, never negative. */
export function ageFromCheckedAt(s: HealthSnapshot, at: number): number {
  const checked = Date.parse(s.checkedAt);
  return Number.isFinite(checked) ? Math.max(0, at - checked) : 0;
}

/** Newer wins; a record with the same updatedAt replaces the old one (it may carry more). */
function mergeTask(tasks: Record<string, TaskRecord>, t: TaskRecord): Record<string, TaskRecord> {
  const old = tasks[t.id];
  if (old && Date.parse(old.updatedAt) > Date.parse(t.updatedAt)) return tasks;
  return { ...tasks, [t.id]: t };
}

function withSnapshot(state: DashboardState, snapshot: HealthSnapshot, ageMs: number, at: number): DashboardState {
  return { ...state, status: { snapshot, receivedAt: at, ageAtReceiptMs: Math.max(0, ageMs) } };
}

export function reduce(state: DashboardState, action: Action): DashboardState {
  switch (action.type) {
    case 'status':
      return withSnapshot(state, action.snapshot, action.ageMs ?? ageFromCheckedAt(action.snapshot, action.at), action.at);
    case 'event': {
      const e = action.event;
      if (e.type === 'snapshot') return withSnapshot(state, e.snapshot, ageFromCheckedAt(e.snapshot, action.at), action.at);
      if (e.type === 'task') return { ...state, tasks: mergeTask(state.tasks, e.task) };
      if (e.state === 'running' && e.step) return reduce(state, { type: 'fix-step', fixId: e.fixId, step: e.step, at: action.at });
      if (e.state === 'running') return reduce(state, { type: 'fix-started', fixId: e.fixId, at: action.at });
      return reduce(state, { type: 'fix-finished', fixId: e.fixId, ok: e.state === 'done', message: e.message ?? '', at: action.at });
    }
    case 'connected':
      return state.connection.phase === 'live' ? state : { ...state, connection: { phase: 'live', since: action.at } };
    case 'disconnected': {
      // "since" is when the connection was first lost, so the page can say how long the data has been stale.
      const since = state.connection.phase === 'lost' || state.connection.phase === 'unauthorized' ? state.connection.since : action.at;
      return { ...state, connection: { phase: 'lost', attempt: action.attempt, retryAt: action.retryAt, since, error: action.error } };
    }
    case 'unauthorized':
      return { ...state, connection: { phase: 'unauthorized', since: action.at, error: action.error } };
    case 'tasks-loading':
      return { ...state, taskList: { state: 'loading' } };
    case 'tasks-loaded': {
      let tasks = state.tasks;
      for (const t of action.tasks) tasks = mergeTask(tasks, t);
      return { ...state, tasks, taskList: { state: 'ok', at: action.at } };
    }
    case 'tasks-failed':
      return { ...state, taskList: { state: 'error', failure: action.failure, at: action.at } };
    case 'task':
      return { ...state, tasks: mergeTask(state.tasks, action.task) };
    case 'fix-started': {
      const old = state.fixes[action.fixId];
      if (old?.state === 'running') return state;
      return { ...state, fixes: { ...state.fixes, [action.fixId]: { state: 'running', startedAt: action.at } } };
    }
    case 'fix-step': {
      const old = state.fixes[action.fixId];
      // The stream and our own call's answer race: a step arriving just after the outcome belongs to that run.
      if (old && old.state !== 'running' && action.at - old.finishedAt < 2_000) return state;
      // A step of a run we did not see begin (another window, the tray, the CLI) starts it here.
      const run: FixRun = old?.state === 'running' ? old : { state: 'running', startedAt: action.at };
      return { ...state, fixes: { ...state.fixes, [action.fixId]: { ...run, steps: withStep(old?.state === 'running' ? old.steps : undefined, action.step) } } };
    }
    case 'fix-finished': {
      const old = state.fixes[action.fixId];
      // The event and our own call's answer both report the end: keep the first (they agree), but take the server's measured duration.
      if (old && old.state !== 'running' && action.at - old.finishedAt < 2_000) {
        const more = {
          ...(action.durationMs !== undefined && old.durationMs !== action.durationMs ? { durationMs: action.durationMs } : {}),
          ...(action.steps && !old.steps ? { steps: action.steps } : {}),
        };
        return Object.keys(more).length > 0 ? { ...state, fixes: { ...state.fixes, [action.fixId]: { ...old, ...more } } } : state;
      }
      const durationMs = action.durationMs ?? (old?.state === 'running' ? action.at - old.startedAt : undefined);
      // The answer's steps are the whole chain; the events' are what arrived of it.
      const steps = action.steps ?? (old?.state === 'running' ? old.steps : undefined);
      const run: FixRun = {
        state: action.ok ? 'done' : 'failed',
        message: action.message,
        finishedAt: action.at,
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(steps ? { steps } : {}),
      };
      return { ...state, fixes: { ...state.fixes, [action.fixId]: run } };
    }
    case 'operation': {
      const operations = followOperation(state.operations, action.operation, action.line);
      return operations === state.operations ? state : { ...state, operations };
    }
  }
}

// ---------------------------------------------------------------------------
// Selectors: pure reads the pages share.

/** How old the snapshot on screen is now. */
export function snapshotAgeMs(view: SnapshotView | undefined, now: number): number | undefined {
  return view ? view.ageAtReceiptMs + Math.max(0, now - view.receivedAt) : undefined;
}

/** A fix runs when we or the server say so (another window, the tray, the CLI). */
export function isFixRunning(state: Pick<DashboardState, 'fixes' | 'status'>, fixId: string): boolean {
  if (state.fixes[fixId]?.state === 'running') return true;
  return state.status?.snapshot.problems.some((p) => p.id === problemIds.fixRunning(fixId)) ?? false;
}

/** Tasks, newest first. */
export function taskList(tasks: Record<string, TaskRecord>): TaskRecord[] {
  return Object.values(tasks).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id.localeCompare(a.id));
}

/** Whether the worker came back: the server was not healthy before and is now. */
export function serverRecovered(before: HealthSnapshot | undefined, after: HealthSnapshot): boolean {
  return before !== undefined && before.server.state !== 'healthy' && after.server.state === 'healthy';
}
