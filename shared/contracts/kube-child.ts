// What a Kubernetes child process and its parent say to each other. One child
// module answers both probes (asked by the supervisor's prober) and task
// operations (asked by the API worker); each parent sends only its own kind of
// request and ignores answers that are not its own.

import { z } from 'zod';
import { opErrorSchema, opRequestSchema, type KubeOpError, type OpRequest } from './kube-ops.ts';
import { kubeProbeResultSchema, probeRequestSchema, type KubeProbeResult, type ProbePhase, type ProbeRequest } from './kube-probe.ts';
import { logFollowRequestSchema, logStopRequestSchema, logStreamMessageSchemas, type LogFollowRequest, type LogStopRequest, type LogStreamMessage } from './kube-log.ts';

/** Set in the child's environment by its parent: the child module starts its message loop only then. */
export const KUBE_CHILD_ENV = 'KINDTRAY_KUBE_CHILD';
/** Set to '1' by a parent whose requests all need the Kubernetes client: the child loads it before it says ready. */
export const KUBE_CHILD_PRELOAD_ENV = 'KINDTRAY_KUBE_CHILD_PRELOAD';

export type KubeChildRequest = ProbeRequest | OpRequest | LogFollowRequest | LogStopRequest;

export const kubeChildRequestSchema = z.discriminatedUnion('type', [probeRequestSchema, opRequestSchema, logFollowRequestSchema, logStopRequestSchema]);

export type KubeChildMessage =
  /** Sent once, when the child can take requests (the Kubernetes client loaded, if the parent asked for it at start). */
  | { type: 'ready'; pid: number }
  /** Where a request is, so that the parent can say what hung if the child stops answering. */
  | { type: 'phase'; id: number; phase: ProbePhase }
  /**
   * A credential plugin started (running: true) or ended, in its own process
   * group `pgid`. The parent ends those groups too when it kills the child.
   */
  | { type: 'plugin'; pgid: number; running: boolean }
  | { type: 'probe-result'; id: number; result: KubeProbeResult }
  | { type: 'op-result'; id: number; ok: true; value: unknown }
  | { type: 'op-result'; id: number; ok: false; error: KubeOpError }
  /** A followed log (kube-log.ts): opened, its lines, its end. */
  | LogStreamMessage;

export const kubeChildMessageSchema = z.union([
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('phase'), id: z.number().int(), phase: z.enum(['authenticating', 'requesting']) }),
  z.object({ type: z.literal('plugin'), pgid: z.number().int(), running: z.boolean() }),
  z.object({ type: z.literal('probe-result'), id: z.number().int(), result: kubeProbeResultSchema }),
  z.object({ type: z.literal('op-result'), id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ type: z.literal('op-result'), id: z.number().int(), ok: z.literal(false), error: opErrorSchema }),
  ...logStreamMessageSchemas,
]) satisfies z.ZodType<KubeChildMessage>;
