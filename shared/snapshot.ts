// The health model: what the monitor observes, in the words and values of the
// design's contract. Every view (tray, dashboard, `kindtray status`) is a pure
// function of a HealthSnapshot; none computes health on its own.

/**
 * `starting`: a start or restart of the engine is under way (asked for by a
 * fix, or its socket just appeared) and it has not answered yet, within
 * GRACE.dockerStart; after that, the real cause.
 */
export const DOCKER_STATES = ['running', 'starting', 'stopped', 'no-permission', 'unresponsive', 'not-installed'] as const;
export type DockerState = (typeof DOCKER_STATES)[number];

/**
 * `starting`: a start or restart is under way, or its node containers just
 * started, and its API has not answered since, within GRACE.clusterStart.
 */
export const CLUSTER_STATES = ['running', 'starting', 'stopped', 'degraded', 'unreachable', 'unknown'] as const;
export type ClusterState = (typeof CLUSTER_STATES)[number];

/** `checking`: worth probing, but no probe has answered yet (or only one that began before its cluster started). */
export const CONTEXT_STATES = ['ok', 'checking', 'stale-endpoint', 'dangling', 'unreachable', 'auth-failed', 'unknown'] as const;
export type ContextState = (typeof CONTEXT_STATES)[number];

export const SERVER_STATES = ['healthy', 'slow', 'hung', 'down', 'restarting', 'port-conflict'] as const;
export type ServerState = (typeof SERVER_STATES)[number];

export const OVERALL_STATES = ['ok', 'warn', 'error', 'busy'] as const;
export type OverallState = (typeof OVERALL_STATES)[number];

export type Severity = 'error' | 'warn' | 'info';

export interface DockerHealth {
  state: DockerState;
  /** Where the engine was looked for, e.g. `unix:///var/run/docker.sock`. */
  endpoint: string;
  /** How the endpoint was chosen: `DOCKER_HOST`, `docker context "colima"`, `default socket`, ... */
  endpointSource?: string;
  version?: string;
  apiVersion?: string;
  /** Why the state is not `running`, in words a person reads. */
  cause?: string;
  /** With state `starting`: since when (epoch ms). */
  startingSince?: number;
}

export interface NodeHealth {
  /** The node container's name, e.g. `dev-control-plane`. */
  name: string;
  role: 'control-plane' | 'worker' | string;
  /**
   * The container's state as Docker reports it: running, exited, paused, ...;
   * `unknown` while Docker cannot be asked (what it said last is lastSeenState).
   */
  state: string;
  /** With state `unknown`: the state Docker last reported, never shown as current. */
  lastSeenState?: string;
  /** Kubernetes' Ready condition for this node, when the API answered. */
  ready?: boolean;
  cpus?: number;
  memoryBytes?: number;
  /** `nvidia.com/gpu` capacity, when the API answered (0: none). */
  gpus?: number;
  /** The node's GPU type labels (those SkyPilot reads), when it has any. */
  labels?: Record<string, string>;
}

export interface PortMapping {
  /** Port inside the node container (a NodePort for kind extraPortMappings). */
  containerPort: number;
  hostPort: number;
  hostIp: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ClusterHealth {
  name: string;
  state: ClusterState;
  /** The kubeconfig context KinD writes for this cluster: `kind-NAME`. */
  context: string;
  /** `https://127.0.0.1:PORT`, from the control-plane container's published 6443. */
  apiEndpoint?: string;
  kubernetesVersion?: string;
  nodes: NodeHealth[];
  /** With state `unknown`: when Docker last answered (epoch ms), for "last seen … ago". */
  lastSeenAt?: number;
  /** Published ports other than the API's: kind `extraPortMappings`. */
  portMappings: PortMapping[];
  /** With state `starting`: since when (epoch ms). */
  startingSince?: number;
  cause?: string;
}

export interface ContextHealth {
  name: string;
  current: boolean;
  state: ContextState;
  cluster?: string;
  user?: string;
  server?: string;
  /** The kubeconfig file that defines this context. */
  file?: string;
  /** For kind-* contexts whose endpoint is stale: the port the container publishes now. */
  expectedServer?: string;
  /** When the last probe of this context finished (ISO time). */
  probedAt?: string;
  latencyMs?: number;
  cause?: string;
}

export interface ServerHealth {
  state: ServerState;
  port?: number;
  pid?: number;
  latencyMs?: number;
  restarts?: number;
  uptimeMs?: number;
  /** Whether the watchdog restarts a hung worker by itself (settings.watchdog.autoRestart). */
  autoRestart?: boolean;
  cause?: string;
}

export interface Fix {
  /** `start-docker`, `start-cluster:NAME`, `repair-context:NAME`, `use-context:NAME`, `restart-server`, ... */
  id: string;
  label: string;
}

export interface Problem {
  /** Stable across snapshots, so views can keep their place: `docker:stopped`, `cluster:dev:stopped`, ... (scheme in problems.ts) */
  id: string;
  severity: Severity;
  title: string;
  detail: string;
  fix?: Fix;
  /** The id of the problem this one follows from (the root cause), when there is one. */
  causedBy?: string;
}

export interface KubeconfigHealth {
  /** Files read, in merge order, with whether each could be read. */
  files: { path: string; state: 'ok' | 'missing' | 'malformed' | 'unreadable'; cause?: string }[];
  /** Whether the files came from KUBECONFIG, or are kubectl's default ~/.kube/config. */
  source?: 'KUBECONFIG' | 'default';
  currentContext?: string;
}

export interface HealthSnapshot {
  overall: OverallState;
  /** When the newest observation in this snapshot was made (ISO time). */
  checkedAt: string;
  docker: DockerHealth;
  clusters: ClusterHealth[];
  contexts: ContextHealth[];
  kubeconfig?: KubeconfigHealth;
  server: ServerHealth;
  problems: Problem[];
}
