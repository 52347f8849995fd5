// The HTTP contract, typed once for the worker, the supervisor, the CLI and
// the dashboard: what each route answers and what the event stream carries.

import type { FixStep } from './fixes.ts';
import type { HealthSnapshot, ServerHealth } from './snapshot.ts';
import type { ValidationIssue } from './task/issues.ts';

export const TASK_STATES = ['waiting', 'pending', 'launching', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: readonly TaskState[] = ['succeeded', 'failed', 'cancelled'];
export const isFinalTaskState = (s: TaskState): boolean => FINAL_TASK_STATES.includes(s);

/** How a task's port is reached from the host. */
export interface TaskEndpoint {
  /** The port the task listens on (the Service's targetPort). */
  port: number;
  nodePort?: number;
  /** `http://127.0.0.1:8080` when a published port reaches the NodePort; absent otherwise. */
  url?: string;
  reachable: boolean;
  /** In words: "published by dev-control-plane as 127.0.0.1:8080", or "kubectl port-forward svc/NAME 8080". */
  how: string;
  /** With a readiness probe (service.readiness_probe): whether the Pod is Ready (false: starting); absent without one. */
  ready?: boolean;
}

export const TASK_NODE_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskNodeState = (typeof TASK_NODE_STATES)[number];

/** One node (Pod) of a task, as SkyPilot numbers them: rank 0 is the head. */
export interface TaskNode {
  rank: number;
  podName: string;
  state: TaskNodeState;
  /** The Pod's IP once it has one (SKYPILOT_NODE_IPS lists them, head first). */
  ip?: string;
  exitCode?: number;
  /** Why it ended, or what it waits for. */
  reason?: string;
}

/** One stage of a pipeline (a multi-document task file); stages run in order, each after the previous one succeeded. */
export interface TaskStage {
  index: number;
  name: string;
  numNodes: number;
  /** `pending`: not started yet; `cancelled`: never started (an earlier stage failed) or cancelled while it ran. */
  state: 'pending' | 'launching' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  reason?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface TaskRecord {
  id: string;
  name: string;
  state: TaskState;
  /** Why it is in this state: the failure, the cancel, or what a waiting task waits for. */
  reason?: string;
  context: string;
  cluster?: string;
  namespace: string;
  podName?: string;
  serviceName?: string;
  exitCode?: number;
  /** The Pods of the current stage, one a node (num_nodes), head first; absent before they are planned. */
  nodes?: TaskNode[];
  /** A pipeline's stages, in order; absent for a single task. */
  stages?: TaskStage[];
  /** The index in `stages` of the stage running (or last run). */
  stage?: number;
  endpoints: TaskEndpoint[];
  /** The task as submitted (YAML or JSON text). */
  source: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface TaskEvent {
  taskId: string;
  at: string;
  state: TaskState;
  message: string;
}

export interface ValidateResponse {
  /** No errors. Warnings (fields with no meaning on a local cluster, choices made) never make it false. */
  ok: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Where it would run, and how each port would be reached. */
  target?: { context: string; cluster?: string };
  endpoints?: TaskEndpoint[];
  /** Age of the health snapshot the cluster checks read. */
  snapshotAgeMs?: number;
  /** With any_of / ordered: the resource set the cluster check chose (the first it can satisfy), by its place in the list. */
  chosenResources?: { mode: 'any_of' | 'ordered'; index: number; summary: string };
  /** envs and secrets the file leaves null: a launch must be given their values (names only, never values). */
  requiredAtLaunch?: { envs: string[]; secrets: string[] };
  /** A multi-document file (a pipeline): how many tasks it holds. */
  pipelineTasks?: number;
}

/**
 * POST /api/tasks with this content type carries a LaunchRequest (JSON): the
 * task text and the values the launch gives. Any other type is the task text
 * alone, as before.
 */
export const LAUNCH_REQUEST_TYPE = 'application/vnd.kindtray.launch+json';

export interface LaunchRequest {
  /** The task as written (YAML or JSON text). */
  task: string;
  /** `--env NAME=value`: fill the file's null envs, or override its values. */
  envs?: Record<string, string>;
  /** `--secret NAME=value`: go to the task's Kubernetes Secret; never stored in clear, never answered. */
  secrets?: Record<string, string>;
  /** The task file's folder (absolute): relative workdir and file_mounts sources are read from it. Only the CLI knows it. */
  folder?: string;
}

export interface LaunchRequestOptions {
  /** Keep the task as `waiting` when its target is down, and launch it once healthy. */
  whenReady?: boolean;
}

export interface HealthResponse {
  status: 'ok' | 'degraded';
  pid: number;
  uptimeMs: number;
  version: string;
  port: number;
  worker: ServerHealth & { pid?: number };
}

/** Errors from every route: a message, and when it is about input, the field. */
export interface ApiError {
  error: string;
  field?: string;
  errors?: ValidationIssue[];
  fix?: { id: string; label: string };
}

export type ServerEvent =
  | { type: 'snapshot'; snapshot: HealthSnapshot }
  | { type: 'task'; task: TaskRecord }
  /** With `step`: a step of the fix's chain began or ended (the fix itself is still running). */
  | { type: 'fix'; fixId: string; state: 'running' | 'done' | 'failed'; message?: string; step?: FixStep };
