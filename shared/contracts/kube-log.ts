// A Pod's log followed from the Kubernetes log API (`GET …/pods/NAME/log?
// follow=true&timestamps=true&sinceTime=…`), as the API worker asks the
// Kubernetes child for it and the child relays it: one request opens a
// stream, chunks of whole lines come back, one end says why it ended.
//
// Where a stream is is a LogSince: the timestamp of the last line taken and
// how many lines carried that timestamp. The API's sinceTime is at best that
// timestamp (a server may cut it to the second), so a resumed stream starts a
// little early and the child drops what the cursor says was taken: nothing is
// lost, nothing comes twice.

import { z } from 'zod';
import { opErrorSchema, type KubeOpError, type KubeTarget } from './kube-ops.ts';

/** Where a followed log is: the last line taken, by its API timestamp (normalized: 9 fraction digits, UTC), and how many lines had it. */
export interface LogSince {
  time: string;
  seen: number;
}

/** A stream that brings nothing for this long is ended by the child and opened again from its cursor: a hung API cannot hold it, a quiet one costs one request per period. */
export const LOG_STREAM_IDLE_MS = 30_000;
/** The stream's answer (the HTTP headers) must come within this, authentication included. */
export const LOG_STREAM_OPEN_MS = 5_000;
/** The child sends what it has at least this often while lines come. */
export const LOG_CHUNK_FLUSH_MS = 50;
/** …or as soon as it holds this much. */
export const LOG_CHUNK_MAX_BYTES = 256 * 1024;

export interface LogFollowRequest {
  type: 'log-follow';
  id: number;
  target: KubeTarget;
  namespace: string;
  pod: string;
  container?: string;
  /** Start after this line; absent: from the log's start. */
  since?: LogSince;
  /** Keep the stream open for new lines (follow=true); false: what the log has now, then end. */
  follow: boolean;
  /** The container has ended: a last line without its newline is taken too (else it is left for the next read, whole). */
  final: boolean;
  openDeadlineMs: number;
  idleMs: number;
}

export interface LogStopRequest {
  type: 'log-stop';
  id: number;
}

export type LogEndOutcome = 'eof' | 'idle' | 'stopped' | 'error';

export type LogStreamMessage =
  /** The API answered 200: lines may come. */
  | { type: 'log-open'; id: number }
  /** Whole lines, timestamps taken off, and the cursor after the last of them (absent while no line had a timestamp). */
  | { type: 'log-chunk'; id: number; data: Uint8Array; since?: LogSince; lines: number }
  | { type: 'log-end'; id: number; outcome: LogEndOutcome; error?: KubeOpError };

const sinceSchema = z.object({ time: z.string().min(1), seen: z.number().int().min(0) }) satisfies z.ZodType<LogSince>;
const targetSchema = z.object({ context: z.string().min(1), kubeconfigPaths: z.array(z.string()) });

export const logFollowRequestSchema = z.object({
  type: z.literal('log-follow'),
  id: z.number().int(),
  target: targetSchema,
  namespace: z.string().min(1),
  pod: z.string().min(1),
  container: z.string().optional(),
  since: sinceSchema.optional(),
  follow: z.boolean(),
  final: z.boolean(),
  openDeadlineMs: z.number().positive(),
  idleMs: z.number().positive(),
}) satisfies z.ZodType<LogFollowRequest>;

export const logStopRequestSchema = z.object({ type: z.literal('log-stop'), id: z.number().int() }) satisfies z.ZodType<LogStopRequest>;

export const logStreamMessageSchemas = [
  z.object({ type: z.literal('log-open'), id: z.number().int() }),
  z.object({ type: z.literal('log-chunk'), id: z.number().int(), data: z.instanceof(Uint8Array), since: sinceSchema.optional(), lines: z.number().int().min(0) }),
  z.object({ type: z.literal('log-end'), id: z.number().int(), outcome: z.enum(['eof', 'idle', 'stopped', 'error']), error: opErrorSchema.optional() }),
] as const;
