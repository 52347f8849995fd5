// What a stored task is, and the rules it lives by: its fields, the legal moves
// between states, its id, and how it reads to the user. Pure; the database
// (store.ts) enforces the moves in the same transaction that writes them.

import { randomBytes } from 'node:crypto';
import type { TaskEndpoint, TaskRecord, TaskState } from '../../shared/api.ts';
import type { PortPlan, TaskSpec } from '../../shared/task/index.ts';
import { stageRecords } from './stage-records.ts';

/** A task as the store keeps it: the API record, plus what the launcher needs. */
export interface StoredTask extends TaskRecord {
  /** The normalized task, as parseTask gave it. */
  spec: TaskSpec;
  /** The port plan made by validation against the target cluster. */
  portPlan: PortPlan[];
  /** A pipeline's stages (the first is `spec` when it starts); `spec` is always the current stage's. */
  stagePlan?: StoredStage[];
}

/** One stage of a pipeline as the store keeps it: its task, and when it ran. */
export interface StoredStage {
  name: string;
  spec: TaskSpec;
  startedAt?: string;
  finishedAt?: string;
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
  /** A pipeline: every stage in order, the first being `spec`. */
  stages?: { name: string; spec: TaskSpec }[];
}

/** Fields a transition may set besides state and reason (`spec` and `stagePlan` when a pipeline moves to its next stage). */
export type TaskPatch = Partial<Pick<TaskRecord, 'podName' | 'serviceName' | 'exitCode' | 'endpoints' | 'startedAt' | 'finishedAt' | 'nodes' | 'stage'>> &
  Partial<Pick<StoredTask, 'spec' | 'stagePlan'>>;

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
  // launching → launching and running → launching: a pipeline's next stage (with its own event).
  launching: ['launching', 'running', 'succeeded', 'failed', 'cancelled'],
  running: ['launching', 'succeeded', 'failed', 'cancelled'],
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

/** Strips what only the worker needs, for the HTTP answer; a pipeline's stages as the user sees them. */
export function toTaskRecord(task: StoredTask): TaskRecord {
  const { spec: _spec, portPlan: _plan, stagePlan, ...record } = task;
  return stagePlan ? { ...record, stages: stageRecords(stagePlan, task) } : record;
}

export function endpointsFromPlan(plan: readonly PortPlan[]): TaskEndpoint[] {
  return plan.map((p) => {
    const e: TaskEndpoint = { port: p.port, reachable: p.reachable === 'yes', how: p.how };
    if (p.nodePort !== undefined) e.nodePort = p.nodePort;
    if (p.url !== undefined) e.url = p.url;
    return e;
  });
}

export class TaskStoreError extends Error {
  override readonly name = 'TaskStoreError';
}
