// Cluster operations as the dashboard follows them: the `operation` events of
// /api/events read and checked (they cross a process boundary), the record
// kept per operation with the last lines kind printed, and the small reads the
// pages share (a step's duration, the operation running on a cluster).

import type { ClusterOperation, OperationEvent, OperationKind, OperationState, OperationStep, StepState } from '../../../shared/contracts/clusters.ts';
import { eventObject, type SseMessage } from '../sse.ts';

const OPERATION_KINDS: readonly OperationKind[] = ['create', 'delete', 'start', 'stop', 'load-image'];
const OPERATION_STATES: readonly OperationState[] = ['running', 'succeeded', 'failed', 'cancelled'];
const STEP_STATES: readonly StepState[] = ['running', 'succeeded', 'failed', 'cancelled'];

/** kind's last lines kept per operation: enough to see what it is doing, not its whole log. */
export const KEPT_LINES = 20;

/** An operation and what kind printed during it, as the store keeps it. */
export interface FollowedOperation {
  operation: ClusterOperation;
  lines: string[];
}

const isString = (v: unknown): v is string => typeof v === 'string';
const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T => list.some((x) => x === v);

function asStep(v: unknown): OperationStep | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (!isString(s.title) || !oneOf(STEP_STATES, s.state) || !isString(s.startedAt)) return undefined;
  return { title: s.title, state: s.state, startedAt: s.startedAt, ...(isString(s.endedAt) ? { endedAt: s.endedAt } : {}) };
}

/** A ClusterOperation from the wire, or undefined when it is not one. Fields the pages do not read pass through as sent. */
export function asOperation(v: unknown): ClusterOperation | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!isString(o.id) || !isString(o.cluster) || !isString(o.startedAt) || !oneOf(OPERATION_KINDS, o.kind) || !oneOf(OPERATION_STATES, o.state)) return undefined;
  if (!Array.isArray(o.steps)) return undefined;
  const steps = o.steps.map(asStep);
  if (steps.some((s) => s === undefined)) return undefined;
  const error = typeof o.error === 'object' && o.error !== null && isString((o.error as Record<string, unknown>).message) ? (o.error as ClusterOperation['error']) : undefined;
  const out: ClusterOperation = { ...(o as unknown as ClusterOperation), steps: steps as OperationStep[] };
  if (error) out.error = error;
  else delete out.error;
  return out;
}

/** An `operation` message of the event stream, or undefined for anything else. */
export function toOperationEvent(m: SseMessage): OperationEvent | undefined {
  const o = eventObject(m);
  if (o?.type !== 'operation') return undefined;
  const { e } = o;
  const operation = asOperation(e.operation);
  if (!operation) return undefined;
  return { type: 'operation', operation, ...(isString(e.line) ? { line: e.line } : {}) };
}

const time = (iso: string | undefined): number => (iso ? Date.parse(iso) : Number.NaN);

/**
 * The newer record wins: a finished one over a running one, then more steps,
 * then the later step news. Events and the answers of our own calls race.
 */
export function isNewer(next: ClusterOperation, old: ClusterOperation | undefined): boolean {
  if (!old) return true;
  if (old.state !== 'running' && next.state === 'running') return false;
  if (old.state === 'running' && next.state !== 'running') return true;
  if (next.steps.length !== old.steps.length) return next.steps.length > old.steps.length;
  const last = (o: ClusterOperation) => Math.max(time(o.endedAt) || 0, ...o.steps.map((s) => Math.max(time(s.startedAt) || 0, time(s.endedAt) || 0)));
  return last(next) >= last(old);
}

/** The store's map with this record (and kind's new line) merged in. */
export function followOperation(
  ops: Readonly<Record<string, FollowedOperation>>,
  operation: ClusterOperation,
  line?: string,
): Record<string, FollowedOperation> {
  const old = ops[operation.id];
  const lines = line !== undefined && line.trim() !== '' ? [...(old?.lines ?? []), line].slice(-KEPT_LINES) : (old?.lines ?? []);
  const record = isNewer(operation, old?.operation) ? operation : (old?.operation ?? operation);
  if (old && record === old.operation && lines === old.lines) return ops as Record<string, FollowedOperation>;
  return { ...ops, [operation.id]: { operation: record, lines } };
}

/** How long a step took, or has taken so far. */
export function stepDurationMs(step: OperationStep, now: number): number | undefined {
  const start = time(step.startedAt);
  if (!Number.isFinite(start)) return undefined;
  const end = step.endedAt ? time(step.endedAt) : now;
  return Number.isFinite(end) ? Math.max(0, end - start) : undefined;
}

/** How long the operation took, or has taken so far. */
export function operationDurationMs(op: ClusterOperation, now: number): number | undefined {
  if (op.durationMs !== undefined) return op.durationMs;
  const start = time(op.startedAt);
  if (!Number.isFinite(start)) return undefined;
  const end = op.endedAt ? time(op.endedAt) : now;
  return Number.isFinite(end) ? Math.max(0, end - start) : undefined;
}

/** Operations, newest first. */
export function newestFirst(ops: Readonly<Record<string, FollowedOperation>>): FollowedOperation[] {
  return Object.values(ops).sort((a, b) => time(b.operation.startedAt) - time(a.operation.startedAt) || b.operation.id.localeCompare(a.operation.id));
}

/** The operation running on a cluster now, if one is. */
export function runningOn(ops: Readonly<Record<string, FollowedOperation>>, cluster: string): ClusterOperation | undefined {
  return newestFirst(ops).find((f) => f.operation.cluster === cluster && f.operation.state === 'running')?.operation;
}

/** The newest operation of a kind on a cluster, running or not. */
export function latestOn(ops: Readonly<Record<string, FollowedOperation>>, cluster: string, kind?: OperationKind): FollowedOperation | undefined {
  return newestFirst(ops).find((f) => f.operation.cluster === cluster && (kind === undefined || f.operation.kind === kind));
}

export { OPERATION_VERBS, withoutEmoji } from '../../../shared/operation-words.ts';

/** Errors longer than this are shown cut (their start and their end, where kind puts the cause), whole on request. */
export const ERROR_SHOWN_CHARS = 360;

/** A long error as its start and its end: "failed to create cluster: … bind: address already in use". */
export function shortError(message: string, max = ERROR_SHOWN_CHARS): { text: string; cut: boolean } {
  if (message.length <= max) return { text: message, cut: false };
  const head = Math.floor(max * 0.4);
  return { text: `${message.slice(0, head).trimEnd()} … ${message.slice(message.length - (max - head)).trimStart()}`, cut: true };
}
