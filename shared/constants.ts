// One place for each fact the whole app agrees on.

export const APP_NAME = 'kindtray';

/** KinD's container labels: which cluster a node belongs to, and its role. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const KIND_ROLE_LABEL = 'io.x-k8s.kind.role';
/** The API server's port inside a KinD control-plane container. */
export const KIND_API_CONTAINER_PORT = 6443;
/** KinD names its kubeconfig context, cluster and user `kind-NAME`. */
export const KIND_CONTEXT_PREFIX = 'kind-';
export const kindContextName = (cluster: string): string => `${KIND_CONTEXT_PREFIX}${cluster}`;

/** Label put on every Pod and Service Kindtray creates. */
export const TASK_LABEL = 'kindtray.dev/task';

export const DEFAULT_PORT = 46590;

/** Deadlines and intervals, in milliseconds. Settings may override the intervals. */
export const DEADLINES = {
  /** A Docker ping or list. */
  docker: 1_500,
  /**
   * The liveness ping while Docker is up: an engine that does not answer a
   * `_ping` in this long is unresponsive now (a frozen dockerd accepts and
   * never answers). With INTERVALS.dockerLiveness this bounds "noticed
   * within 1 s" (design's fault table).
   */
  dockerLiveness: 500,
  /** One Kubernetes probe of one context, authentication included. */
  kubeProbe: 2_000,
  /** A task validation, whatever the cluster does. */
  validation: 2_500,
} as const;

export const INTERVALS = {
  /** Docker ping when the event stream is up (a backstop; events carry the news). */
  dockerPingIdle: 15_000,
  /** Docker ping while the engine is down or the event stream is broken. */
  dockerPingDown: 500,
  /** Between liveness pings while Docker is up (a `_ping` only: no list, no version). */
  dockerLiveness: 400,
  /** Kubernetes probe of a healthy context. */
  kubeProbe: 5_000,
  /** Longest wait between probes of a dead context (backoff ceiling). */
  kubeProbeMaxBackoff: 30_000,
} as const;

/** A Kubernetes child process with nothing to do for this long is ended; the next request starts another. */
export const KUBE_CHILD_IDLE_MS = 3 * 60_000;

/**
 * How long a thing that was asked to start (or was seen starting) is shown as
 * `starting`, with no Restart offered, before its silence counts as a fault.
 * Probe results that began before the start never count after it.
 */
export const GRACE = {
  /** From a cluster's start or restart (or its node containers starting) until its API must have answered. */
  clusterStart: 60_000,
  /** From Docker's start or restart (or its socket appearing) until the engine must answer. */
  dockerStart: 90_000,
} as const;

/** Deadlines of one-click recovery (the start-docker chain): each step's own, so the chain as a whole is bounded too. */
export const RECOVERY_DEADLINES = {
  /** The engine's start or restart command, then its first answer. */
  dockerUp: 90_000,
  /** One cluster's node containers started and its API answering. */
  clusterUp: 60_000,
  /** A platform restart command (systemctl restart, colima restart, ...). */
  restartCommand: 120_000,
} as const;

/**
 * The API worker is hung when it has not answered the watchdog for this long
 * (or missed `missesBeforeRestart` pings in a row, whichever comes first): the
 * design's 3 s to notice a blocked event loop, less the time to tell.
 */
export const WORKER_HUNG_AFTER_MS = 2_750;
