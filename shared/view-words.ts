// Words the views share, so the tray, the dashboard and `kindtray status` name
// each state and summary the same way. Display only: health is decided in
// problems.ts.

import type { TaskEndpoint, TaskState } from './api.ts';
import type { ClusterHealth, ContextHealth, DockerHealth, HealthSnapshot } from './snapshot.ts';

export const DOCKER_WORDS: Record<DockerHealth['state'], string> = {
  running: 'running',
  starting: 'starting…',
  stopped: 'not running',
  'no-permission': 'no permission',
  unresponsive: 'not responding',
  'not-installed': 'not installed',
};

export const CLUSTER_WORDS: Record<ClusterHealth['state'], string> = {
  running: 'running',
  starting: 'starting…',
  stopped: 'stopped',
  degraded: 'degraded',
  unreachable: 'not answering',
  unknown: 'state unknown',
};

export const CONTEXT_WORDS: Record<ContextHealth['state'], string> = {
  ok: 'ok',
  checking: 'checking…',
  'stale-endpoint': 'stale endpoint',
  dangling: 'dangling',
  unreachable: 'unreachable',
  'auth-failed': 'auth failed',
  unknown: 'unknown',
};

/** "2/3": nodes whose Kubernetes Ready condition is true, of all node containers. */
export function nodesReady(c: ClusterHealth): string {
  return `${c.nodes.filter((n) => n.ready === true).length}/${c.nodes.length}`;
}

/** "Docker 27.3.1, 2 clusters running": what all-good looks like. */
export function allGoodSummary(s: Pick<HealthSnapshot, 'docker' | 'clusters'>): string {
  const docker = s.docker.version ? `Docker ${s.docker.version}` : 'Docker running';
  const running = s.clusters.filter((c) => c.state === 'running').length;
  const clusters = s.clusters.length === 0 ? 'no KinD clusters' : `${running} ${running === 1 ? 'cluster' : 'clusters'} running`;
  return `${docker}, ${clusters}`;
}

/**
 * An endpoint's readiness in words, for a task with a readiness probe
 * (service.readiness_probe): 'ready' once the probe passes, 'starting' before;
 * undefined without a probe, or once the task no longer runs.
 */
export function endpointReadiness(e: TaskEndpoint, state: TaskState): 'ready' | 'starting' | undefined {
  if (e.ready === undefined || !['pending', 'launching', 'running'].includes(state)) return undefined;
  return e.ready ? 'ready' : 'starting';
}
