// What the supervisor and its API worker say to each other over the child
// process's channel. Each side parses what it receives with these schemas.

import { z } from 'zod';
import type { TaskRecord } from '../api.ts';
import type { HealthSnapshot } from '../snapshot.ts';

/** The header that carries the secret shared by the supervisor and its worker only. */
export const INTERNAL_SECRET_HEADER = 'x-kindtray-internal';

// Worker -> supervisor

export type WorkerMessage =
  /** The handshake: the worker listens on this loopback port. */
  | { type: 'listening'; port: number }
  /** Validation wants a fresher snapshot (of one context, or all). */
  | { type: 'refresh'; requestId: number; context?: string }
  /** A task changed. */
  | { type: 'task'; task: TaskRecord };

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
// The supervisor only passes a task on to the dashboard; its shape is the worker's (same code, same version).
const taskRecord = z.custom<TaskRecord>(isObject);
const snapshot = z.custom<HealthSnapshot>(isObject);

export const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('listening'), port: z.number().int().min(1).max(65_535) }),
  z.object({ type: z.literal('refresh'), requestId: z.number().int(), context: z.string().optional() }),
  z.object({ type: z.literal('task'), task: taskRecord }),
]) satisfies z.ZodType<WorkerMessage>;

// Supervisor -> worker

export interface SnapshotMessage {
  type: 'snapshot';
  snapshot: HealthSnapshot;
  /** Age of the newest observation when the supervisor sent it. */
  ageMs: number;
}

export interface RefreshedMessage {
  type: 'refreshed';
  requestId: number;
  snapshot: HealthSnapshot;
  ageMs: number;
}

export type SupervisorMessage = SnapshotMessage | RefreshedMessage | { type: 'shutdown' };

export const supervisorMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), snapshot, ageMs: z.number() }),
  z.object({ type: z.literal('refreshed'), requestId: z.number().int(), snapshot, ageMs: z.number() }),
  z.object({ type: z.literal('shutdown') }),
]) satisfies z.ZodType<SupervisorMessage>;
