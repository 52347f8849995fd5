// The cluster room's door: creating, deleting, starting, stopping KinD
// clusters and loading images into them, with pre-flight checks and the
// operation record each answers (shared/contracts/clusters.ts).
export { ClusterManager } from './manager.ts';
export { ClusterRequestError, type ClusterHost, type TaskPort } from './host.ts';
export { findKind, installAdvice, runKind, type KindLocation, type KindRunResult } from './kind-cli.ts';
export { kindConfigFor, planFromConfig, ConfigError } from './config.ts';
export { parseKindStatusLine, StepList } from './steps.ts';
export { preflight, MEMORY_PER_NODE_BYTES, type PreflightResult } from './preflight.ts';
export { firstFreeRange, clusterHostPorts, portIsFree } from './ports.ts';
