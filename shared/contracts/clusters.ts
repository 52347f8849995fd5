// Managing KinD clusters (create, delete, start, stop, load an image): what the
// dashboard, the tray, the CLI and HTTP callers send, what the supervisor's
// cluster room answers, and the event it streams on /api/events while an
// operation runs. Requests are parsed with these schemas on arrival.

import { z } from 'zod';
import type { Fix } from '../snapshot.ts';
import { CLUSTER_NAME_MAX, CLUSTER_NAME_RE } from './cluster-routes.ts';

// The plain values (names, port ranges, routes) live beside, without zod, for the dashboard's first load.
export * from './cluster-routes.ts';

const port = z.number().int().min(1).max(65535);

/** Host ports, `from` to `to` inclusive. */
export const PortRangeSchema = z
  .object({ from: z.number().int().min(1024).max(65535), to: z.number().int().min(1024).max(65535) })
  .strict()
  .refine((r) => r.from <= r.to, { message: '`from` must not be past `to`', path: ['to'] })
  .refine((r) => r.to - r.from < 1000, { message: 'at most 1000 ports (each is a Docker port mapping)', path: ['to'] });
export type PortRange = z.infer<typeof PortRangeSchema>;

export const ClusterNameSchema = z
  .string()
  .min(1, 'a cluster needs a name')
  .max(CLUSTER_NAME_MAX, `at most ${CLUSTER_NAME_MAX} characters`)
  .regex(CLUSTER_NAME_RE, 'lower-case letters, digits, "-" and "." only, starting with a letter or digit');

/** The create form, `kindtray cluster create` and POST /api/clusters. Every field but the name is optional. */
export const CreateClusterRequestSchema = z
  .object({
    name: ClusterNameSchema,
    /** Worker nodes besides the control-plane. */
    workers: z.number().int().min(0).max(10).default(0),
    /** Node image (`kindest/node:v1.31.0`): the Kubernetes version. Absent: kind's default. */
    image: z.string().min(1).max(300).optional(),
    /** Host ports publishing NodePorts 30000 onwards (one each, in order). Absent: the first free range of 100 from 30000. */
    nodePorts: PortRangeSchema.optional(),
    /** Host ports mapped to the ingress (80 and 443 on the control-plane). */
    ingress: z.object({ http: port.optional(), https: port.optional() }).strict().optional(),
    /** A kind config for everything else: its text, or a path on this machine. Then workers, image and ports above are not used. */
    config: z.union([z.object({ text: z.string().min(1).max(256 * 1024) }).strict(), z.object({ path: z.string().min(1).max(4096) }).strict()]).optional(),
    /** Make `kind-NAME` the current context (kind's own default). */
    makeCurrent: z.boolean().default(true),
  })
  .strict();
export type CreateClusterRequest = z.infer<typeof CreateClusterRequestSchema>;
export type CreateClusterInput = z.input<typeof CreateClusterRequestSchema>;

export const LoadImageRequestSchema = z.object({ image: z.string().min(1).max(300) }).strict();
export type LoadImageRequest = z.infer<typeof LoadImageRequestSchema>;

// Pre-flight

export type CheckLevel = 'ok' | 'warn' | 'error';
export type CheckId = 'docker' | 'kind' | 'name' | 'node-ports' | 'ingress-ports' | 'memory' | 'config' | 'request';

/** What to do about a check: run a fix (its id, as /control/fixes/:id takes), put a value in the field, or follow advice. */
export interface CheckFix {
  label: string;
  /** A fix to run (`start-docker`). */
  fix?: Fix;
  /** A value for the check's `field` (the next free range `{from,to}`, a free port, a free name). */
  value?: unknown;
  /** A command to run in a terminal (`brew install kind`). */
  command?: string;
  url?: string;
}

export interface PreflightCheck {
  id: CheckId;
  level: CheckLevel;
  message: string;
  /** The request field this is about (`name`, `nodePorts`, `ingress.http`, `config`), when it is about one. */
  field?: string;
  fix?: CheckFix;
}

/** What a create would make: read from the request or from the user's config file. */
export interface ClusterPlan {
  name: string;
  nodes: { role: 'control-plane' | 'worker'; image?: string }[];
  /** Host port → container port on the control-plane (NodePorts and ingress). */
  portMappings: { hostPort: number; containerPort: number; protocol: 'TCP' | 'UDP' | 'SCTP' }[];
  /** The host ports that publish NodePorts. */
  nodePorts?: PortRange;
  /** The kind config that will be passed to `kind create cluster --config`. */
  configText: string;
}

/** POST /api/clusters/check: every check, worst first; `ok` is false when one is an error. */
export interface PreflightAnswer {
  ok: boolean;
  checks: PreflightCheck[];
  /** The first free range of NODE_PORT_RANGE_SIZE host ports. */
  suggestedNodePorts?: PortRange;
  plan?: ClusterPlan;
  /** The `kind` that would run, when found. */
  kindPath?: string;
}

// Operations

export type OperationKind = 'create' | 'delete' | 'start' | 'stop' | 'load-image';
export type OperationState = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface OperationStep {
  /** kind's words (`Ensuring node image (kindest/node:v1.31.0) 🖼`), or ours (`Stopping node dev-worker`). */
  title: string;
  state: StepState;
  startedAt: string;
  endedAt?: string;
}

/** What a delete removed (and what its confirmation names beforehand). */
export interface DeletePlan {
  cluster: string;
  containers: string[];
  context?: string;
  /** Tasks on the cluster's context that are not finished: they end as `cancelled`. */
  tasks: { id: string; name: string; state: string }[];
}

export interface ClusterOperation {
  id: string;
  kind: OperationKind;
  cluster: string;
  /** With `load-image`. */
  image?: string;
  state: OperationState;
  steps: OperationStep[];
  /** kind's own error line when it has one, and the step it failed in. */
  error?: { message: string; step?: string };
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /** With `delete`: what went. */
  removed?: DeletePlan;
  /** With `create`: what was asked to be made. */
  plan?: Omit<ClusterPlan, 'configText'>;
}

/** GET /api/clusters. */
export interface ClusterListItem {
  name: string;
  /** The monitor's state (`running`, `stopped`, ...), or `creating`/`deleting` while an operation runs. */
  state: string;
  context: string;
  nodes: { name: string; role: string; state: string }[];
  /** The host ports that publish its NodePorts. */
  nodePorts?: PortRange;
  kubernetesVersion?: string;
  /** The operation running on it, if one is. */
  operation?: string;
}

export interface ClustersResponse {
  clusters: ClusterListItem[];
  /** Running operations and the last few finished ones, newest first. */
  operations: ClusterOperation[];
  kind: { found: boolean; path?: string; install?: CheckFix };
}

/** 202 answer of create/delete/start/stop/load-image: follow it on /api/events or GET the operation. */
export interface OperationStarted {
  operation: ClusterOperation;
}

/** Streamed on /api/events (`event: operation`) at each change of a record: a step began or ended, it finished. */
export interface OperationEvent {
  type: 'operation';
  operation: ClusterOperation;
  /** A new line kind printed (its stderr), for the CLI's and the tray's progress line. */
  line?: string;
}

/** Errors: 400/422 `{ error, field }` for a bad request, 404 unknown cluster/operation, 409 `{ error, operation }` when one already runs on that cluster. */
export interface ClusterError {
  error: string;
  field?: string;
  /** With 409: the operation already running. */
  operation?: string;
  /** With 422 from create: the pre-flight that refused it. */
  checks?: PreflightCheck[];
}

/** How long each operation may take; the CLI and HTTP callers wait a little longer than these. */
export const CLUSTER_DEADLINES = {
  /** `kind create cluster`: pulling a node image the first time takes minutes. */
  create: 10 * 60_000,
  /** `kind delete cluster`. */
  delete: 2 * 60_000,
  /** Start: the node containers and the API answering (RECOVERY_DEADLINES.clusterUp). */
  start: 90_000,
  /** Stop: `docker stop` of each node container. */
  stop: 60_000,
  /** `kind load docker-image`: saving and importing a large image. */
  loadImage: 5 * 60_000,
  /** `kind get clusters`, `kind version`, one `crictl images` on a node. */
  quick: 10_000,
} as const;
