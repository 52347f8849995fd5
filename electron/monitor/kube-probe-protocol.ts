// What the Kubernetes probe process and its parent say to each other, and what
// a probe finds. Both sides parse what they receive with these schemas: the
// process boundary is a boundary like any other.

import { z } from 'zod';
import type { ContextState } from '../../shared/snapshot.ts';

/** A probe's verdict on a context. Every value is a ContextState, so it can stand in a snapshot as is. */
export const KUBE_PROBE_STATES = ['ok', 'unreachable', 'auth-failed', 'dangling', 'unknown'] as const satisfies readonly ContextState[];
export type KubeProbeState = (typeof KUBE_PROBE_STATES)[number];

export interface KubeNodeInfo {
  name: string;
  /** The node's Ready condition is True. */
  ready: boolean;
  /** From `node-role.kubernetes.io/ROLE` labels, e.g. `control-plane`. */
  roles: string[];
  /** Capacity, in cores (fractions for millicores). */
  cpus?: number;
  memoryBytes?: number;
}

export interface KubeProbeResult {
  context: string;
  state: KubeProbeState;
  /** Why the state is not ok, in words, naming the context: "context kind-dev: no answer from https://127.0.0.1:41234 in 2 s". */
  cause?: string;
  /** The server the probe dialled, as the kubeconfig gives it. */
  server?: string;
  /** The API server's gitVersion, e.g. `v1.33.1`. */
  version?: string;
  /** /readyz (or /livez, /healthz) answered ok. Absent when it did not answer. */
  ready?: boolean;
  /** Absent when the node list could not be read (see `cause` or `degraded`). */
  nodes?: KubeNodeInfo[];
  /** With state ok: the API answers, but not all is well (nodes not Ready, /readyz failing, a request without answer). */
  degraded?: string;
  /** How long the caller waited, from probe() to its answer. */
  latencyMs: number;
  /** When the answer came (epoch ms). */
  finishedAt: number;
}

export const kubeProbeResultSchema = z.object({
  context: z.string(),
  state: z.enum(KUBE_PROBE_STATES),
  cause: z.string().optional(),
  server: z.string().optional(),
  version: z.string().optional(),
  ready: z.boolean().optional(),
  nodes: z
    .array(
      z.object({
        name: z.string(),
        ready: z.boolean(),
        roles: z.array(z.string()),
        cpus: z.number().optional(),
        memoryBytes: z.number().optional(),
      }),
    )
    .optional(),
  degraded: z.string().optional(),
  latencyMs: z.number(),
  finishedAt: z.number(),
}) satisfies z.ZodType<KubeProbeResult>;

// ---------------------------------------------------------------------------
// Parent -> child

/** Probe one context from these kubeconfig files; answer within deadlineMs, authentication included. */
export interface ProbeRequest {
  type: 'probe';
  id: number;
  context: string;
  kubeconfigPaths: string[];
  deadlineMs: number;
}

export const probeRequestSchema = z.object({
  type: z.literal('probe'),
  id: z.number().int(),
  context: z.string().min(1),
  kubeconfigPaths: z.array(z.string()),
  deadlineMs: z.number().positive(),
}) satisfies z.ZodType<ProbeRequest>;

// ---------------------------------------------------------------------------
// Child -> parent

export type ProbePhase = 'authenticating' | 'requesting';

export type ProbeChildMessage =
  /** Sent once, when the child can take probes (the Kubernetes client is loaded). */
  | { type: 'ready'; pid: number }
  /** Where a probe is, so that the parent can say what hung if the child stops answering. */
  | { type: 'phase'; id: number; phase: ProbePhase }
  | { type: 'result'; id: number; result: KubeProbeResult }
  /**
   * A credential plugin started (running: true) or ended, in its own process
   * group `pgid`. The parent ends those groups too when it kills the child.
   */
  | { type: 'plugin'; pgid: number; running: boolean };

export const probeChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('phase'), id: z.number().int(), phase: z.enum(['authenticating', 'requesting']) }),
  z.object({ type: z.literal('result'), id: z.number().int(), result: kubeProbeResultSchema }),
  z.object({ type: z.literal('plugin'), pgid: z.number().int(), running: z.boolean() }),
]) satisfies z.ZodType<ProbeChildMessage>;

/** Set in the child's environment by the parent: the child module starts its message loop only then. */
export const PROBE_CHILD_ENV = 'KINDTRAY_KUBE_PROBE_CHILD';
