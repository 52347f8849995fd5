// Task operations on Kubernetes: what callers get back (typed values and
// typed errors) and how the operations cross to the Kubernetes child process.
// Objects sent to the API (a Pod, a Service) travel as plain records; the child
// hands them to the client as they are.

import { z } from 'zod';

/** Which cluster to talk to: a kubeconfig context, read from these files (KUBECONFIG's list). */
export interface KubeTarget {
  context: string;
  kubeconfigPaths: string[];
}

export const KUBE_OP_ERROR_KINDS = [
  /** No answer within the deadline (authentication included). */
  'deadline',
  /** The API could not be reached: refused, reset, TLS failure, DNS. */
  'unreachable',
  /** The object asked about does not exist. */
  'not-found',
  'namespace-not-found',
  'already-exists',
  /** The API refused the object as written (422, 400). */
  'invalid',
  'unauthorized',
  'forbidden',
  /** The kubeconfig cannot be used for this context. */
  'config',
  /** The log cannot be read yet: the container has not started. */
  'not-started',
  /** The child process died or was replaced while this request was in it. */
  'client-crashed',
  /** Anything else the API answered. */
  'api',
] as const;
export type KubeOpErrorKind = (typeof KUBE_OP_ERROR_KINDS)[number];

export interface KubeOpError {
  kind: KubeOpErrorKind;
  /** In words, naming the context: "kind-dev: no answer from its API in 2 s", "pod kt-web-1 already exists". */
  message: string;
  /** The HTTP status when the API answered. */
  status?: number;
}

export type KubeOpResult<T> = { ok: true; value: T } | { ok: false; error: KubeOpError };

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ContainerInfo {
  name: string;
  state: 'waiting' | 'running' | 'terminated' | 'unknown';
  /** `ContainerCreating`, `ErrImagePull`, `Completed`, `Error`, `OOMKilled`, ... */
  reason?: string;
  message?: string;
  exitCode?: number;
  signal?: number;
  startedAt?: string;
  finishedAt?: string;
  restartCount: number;
  /** The kubelet's `started`: running, and past its startupProbe when it has one (a multi-node task's setup). */
  started?: boolean;
}

export interface PodInfo {
  name: string;
  namespace: string;
  uid?: string;
  phase: PodPhase;
  labels: Record<string, string>;
  /** Kindtray's own annotations on it (`kindtray.dev/…`): what the launcher told the Pod, read back after a restart. */
  annotations?: Record<string, string>;
  /** Deletion has been asked for (the Pod is terminating). */
  deleting: boolean;
  /** The Pod's own reason and message (`Evicted`, `DeadlineExceeded`, ...). */
  reason?: string;
  message?: string;
  /** The first container: a task's Pod has one. */
  container?: ContainerInfo;
  /** Why it is not scheduled, from the PodScheduled condition, when it is not. */
  unschedulable?: string;
  /** The Pod's IP once it has one (status.podIP): the nodes of a multi-node task are told each other's. */
  podIP?: string;
  /** The Pod's Ready condition (its readiness probe passing), when the Pod reports one. */
  ready?: boolean;
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  ports: { port: number; targetPort?: number; nodePort?: number }[];
}

export interface DeleteInfo {
  /** False when it was already gone (a 404, which is fine). */
  existed: boolean;
}

export interface LogRead {
  /** The log's bytes from `sinceBytes`, up to `nextOffset`. */
  data: Uint8Array;
  /** The offset to ask from next time. */
  nextOffset: number;
  /** Bytes the log has now, whole. */
  totalBytes: number;
  /** The log is shorter than `sinceBytes`: it was rotated or the container restarted. Data is then from 0. */
  reset: boolean;
}

export interface ReadLogOptions {
  sinceBytes?: number;
  container?: string;
  /** The container still writes: hold back a UTF-8 character cut in two at the end (see logSlice). */
  stableTail?: boolean;
}

/** The child gives up on the HTTP request this much before the parent's deadline, so it can answer in time. */
export const CHILD_ANSWER_MARGIN_MS = 150;

/** Where a request is in the child: the parent names what hung by it. */
export type OpPhase = 'authenticating' | 'requesting';

/** A Kubernetes object as JSON (a V1Pod, a V1Service). */
export type KubeObject = Record<string, unknown>;

export type KubeOp =
  | { kind: 'createPod'; namespace: string; pod: KubeObject }
  | { kind: 'createService'; namespace: string; service: KubeObject }
  | { kind: 'deletePod'; namespace: string; name: string; gracePeriodSeconds?: number }
  | { kind: 'deleteService'; namespace: string; name: string }
  | { kind: 'createSecret'; namespace: string; secret: KubeObject }
  | { kind: 'deleteSecret'; namespace: string; name: string }
  | { kind: 'getPod'; namespace: string; name: string }
  /** Merges annotations into a Pod's (a merge patch); the Pod's downward-API files follow them. */
  | { kind: 'annotatePod'; namespace: string; name: string; annotations: Record<string, string> }
  | { kind: 'listPods'; namespace?: string; labelSelector: string }
  | { kind: 'readLog'; namespace: string; name: string; container?: string; sinceBytes: number; stableTail: boolean }
  /** Runs a command in the Pod's container (the exec API) with `stdin` sent whole (electron/kube/exec.ts). */
  | { kind: 'exec'; namespace: string; name: string; container?: string; command: string[]; stdin?: Uint8Array };

/** What an exec answers: the command's exit code, and the end of its output. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface OpRequest {
  type: 'op';
  id: number;
  target: KubeTarget;
  /** The child answers on its own within this, less CHILD_ANSWER_MARGIN_MS. */
  deadlineMs: number;
  op: KubeOp;
}

const targetSchema = z.object({ context: z.string().min(1), kubeconfigPaths: z.array(z.string()) });
const objectSchema = z.record(z.string(), z.unknown());
export const opRequestSchema = z.object({
  type: z.literal('op'),
  id: z.number().int(),
  target: targetSchema,
  deadlineMs: z.number().positive(),
  op: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('createPod'), namespace: z.string(), pod: objectSchema }),
    z.object({ kind: z.literal('createService'), namespace: z.string(), service: objectSchema }),
    z.object({ kind: z.literal('deletePod'), namespace: z.string(), name: z.string(), gracePeriodSeconds: z.number().int().min(0).optional() }),
    z.object({ kind: z.literal('deleteService'), namespace: z.string(), name: z.string() }),
    z.object({ kind: z.literal('createSecret'), namespace: z.string(), secret: objectSchema }),
    z.object({ kind: z.literal('deleteSecret'), namespace: z.string(), name: z.string() }),
    z.object({ kind: z.literal('getPod'), namespace: z.string(), name: z.string() }),
    z.object({ kind: z.literal('annotatePod'), namespace: z.string(), name: z.string(), annotations: z.record(z.string(), z.string()) }),
    z.object({ kind: z.literal('listPods'), namespace: z.string().optional(), labelSelector: z.string() }),
    z.object({
      kind: z.literal('readLog'),
      namespace: z.string(),
      name: z.string(),
      container: z.string().optional(),
      sinceBytes: z.number().int().min(0),
      stableTail: z.boolean(),
    }),
    z.object({ kind: z.literal('exec'), namespace: z.string(), name: z.string(), container: z.string().optional(), command: z.array(z.string()).min(1), stdin: z.instanceof(Uint8Array).optional() }),
  ]),
});

const containerInfoSchema = z.object({
  name: z.string(),
  state: z.enum(['waiting', 'running', 'terminated', 'unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  exitCode: z.number().int().optional(),
  signal: z.number().int().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  restartCount: z.number().int(),
  started: z.boolean().optional(),
}) satisfies z.ZodType<ContainerInfo>;

export const podInfoSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  uid: z.string().optional(),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).optional(),
  deleting: z.boolean(),
  reason: z.string().optional(),
  message: z.string().optional(),
  container: containerInfoSchema.optional(),
  unschedulable: z.string().optional(),
  podIP: z.string().optional(),
  ready: z.boolean().optional(),
}) satisfies z.ZodType<PodInfo>;

const serviceInfoSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  ports: z.array(z.object({ port: z.number().int(), targetPort: z.number().int().optional(), nodePort: z.number().int().optional() })),
}) satisfies z.ZodType<ServiceInfo>;

const logReadSchema = z.object({
  data: z.instanceof(Uint8Array),
  nextOffset: z.number().int().min(0),
  totalBytes: z.number().int().min(0),
  reset: z.boolean(),
}) satisfies z.ZodType<LogRead>;

/** What each operation answers with. */
export const OP_VALUE_SCHEMAS = {
  createPod: podInfoSchema,
  createService: serviceInfoSchema,
  deletePod: z.object({ existed: z.boolean() }),
  deleteService: z.object({ existed: z.boolean() }),
  // A Secret's answer is its name only: its values never come back.
  createSecret: z.object({ name: z.string() }),
  deleteSecret: z.object({ existed: z.boolean() }),
  getPod: podInfoSchema,
  annotatePod: podInfoSchema,
  listPods: z.array(podInfoSchema),
  readLog: logReadSchema,
  exec: z.object({ exitCode: z.number().int(), stdout: z.string(), stderr: z.string() }) satisfies z.ZodType<ExecResult>,
} as const satisfies Record<KubeOp['kind'], z.ZodType>;


export const opErrorSchema = z.object({ kind: z.enum(KUBE_OP_ERROR_KINDS), message: z.string(), status: z.number().int().optional() }) satisfies z.ZodType<KubeOpError>;
