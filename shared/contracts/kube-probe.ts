// What a Kubernetes probe finds, and how the prober asks for one. The probe
// runs in a child process; both sides parse what they receive with these
// schemas: the process boundary is a boundary like any other.

import { z } from 'zod';
import type { ContextState } from '../snapshot.ts';

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
  /** `nvidia.com/gpu` capacity, and the GPU type labels SkyPilot reads (GPU_TYPE_LABELS) the node has: for the cluster check. */
  gpus?: number;
  labels?: Record<string, string>;
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
        gpus: z.number().optional(),
        labels: z.record(z.string(), z.string()).optional(),
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

export type ProbePhase = 'authenticating' | 'requesting';
