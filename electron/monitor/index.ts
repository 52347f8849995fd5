// The monitor room's door: what other rooms may use.
export { Monitor, type MonitorOptions, type SnapshotListener } from './monitor.ts';
export { resolveDockerEndpoint, type DockerEndpoint } from './docker-endpoint.ts';
export { dockerClient as dockerClientFor } from './docker-api.ts';
export { KubeProber } from './kube-probe.ts';
