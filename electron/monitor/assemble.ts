// Turns what the monitor has observed (Docker, KinD containers, kubeconfig,
// Kubernetes probes, the server) into one HealthSnapshot. Pure: every input is
// plain data, so each state of the design's table is tested without Docker.

import { GRACE } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { withProblems, workersLost, WORKERS_LOST_CAUSE } from '../../shared/problems.ts';
import type { ClusterHealth, ContextHealth, DockerHealth, HealthSnapshot, KubeconfigHealth, NodeHealth, ServerHealth } from '../../shared/snapshot.ts';
import type { DockerObservation } from './docker.ts';
import type { KindClusterView } from './kind.ts';
import type { KubeProbeResult } from './kube-probe.ts';

export interface Observations {
  docker: DockerObservation;
  clusters: KindClusterView[];
  /** Contexts as the kubeconfig analysis sees them, without network. */
  contexts: ContextHealth[];
  kubeconfig?: KubeconfigHealth;
  /** The latest finished probe per context name. */
  probes: ReadonlyMap<string, KubeProbeResult>;
  server: ServerHealth;
  busy?: boolean;
  now: number;
  /** When Docker last answered as running (epoch ms), if it ever did. */
  dockerLastUpAt?: number;
  /**
   * When Docker answered again after being down or silent (epoch ms): probes
   * that began before it are history, as what Docker said while it was away.
   */
  dockerBackAt?: number;
  /**
   * Starts under way (epoch ms of each): Docker's, and each cluster's by name.
   * Within its grace the thing is `starting`; probes that began before it never count.
   */
  starting?: { docker?: number; clusters?: ReadonlyMap<string, number> };
  /** Default GRACE. */
  grace?: { dockerStart: number; clusterStart: number };
}

/** When a probe began (the caller's view): results carry when they finished and how long they took. */
export const probeStartedAt = (p: KubeProbeResult): number => p.finishedAt - p.latencyMs;

/**
 * The probe of `context` that may count: none if it began before the cluster's
 * start, or (a KinD context) before Docker answered again. (Times are whole milliseconds taken
 * from two clocks: a probe begun in the same millisecond may read 1 ms early.)
 */
function countingProbe(o: Observations, context: string, startedAt: number | undefined, kind: boolean): KubeProbeResult | undefined {
  const p = o.probes.get(context);
  const from = Math.max(startedAt ?? -Infinity, kind ? (o.dockerBackAt ?? -Infinity) : -Infinity);
  return p && probeStartedAt(p) >= from - 1 ? p : undefined;
}

const within = (since: number | undefined, graceMs: number, now: number): since is number => since !== undefined && now - since < graceMs;

function dockerHealth(o: Observations): DockerHealth {
  const d = o.docker.health;
  const since = o.starting?.docker;
  // Only an engine that is down or silent can be "starting"; no permission or no install is news a start does not change.
  if ((d.state !== 'stopped' && d.state !== 'unresponsive') || !within(since, (o.grace ?? GRACE).dockerStart, o.now)) return d;
  return { ...d, state: 'starting', startingSince: since, cause: `started ${formatMs(Math.max(0, o.now - since))} ago; waiting for the engine at ${d.endpoint} to answer` };
}

function mergeNodes(nodes: NodeHealth[], probe: KubeProbeResult | undefined): NodeHealth[] {
  if (!probe?.nodes) return nodes;
  return nodes.map((n) => {
    const k = probe.nodes?.find((p) => p.name === n.name);
    if (!k) return n;
    return {
      ...n,
      ready: k.ready,
      ...(k.cpus !== undefined ? { cpus: k.cpus } : {}),
      ...(k.memoryBytes !== undefined ? { memoryBytes: k.memoryBytes } : {}),
      ...(k.gpus !== undefined ? { gpus: k.gpus } : {}),
      ...(k.labels ? { labels: k.labels } : {}),
    };
  });
}

function clusterHealth(c: KindClusterView, o: Observations): ClusterHealth {
  const since = o.starting?.clusters?.get(c.name);
  const graceMs = (o.grace ?? GRACE).clusterStart;
  const probe = countingProbe(o, c.context, since, true);
  const base = {
    name: c.name,
    context: c.context,
    ...(c.apiEndpoint ? { apiEndpoint: c.apiEndpoint } : {}),
    portMappings: c.portMappings,
  };
  if (o.docker.health.state !== 'running') {
    // What Docker said while it was up is history now: shown as such, never as the current state (nor green).
    const nodes = c.nodes.map((n) => ({ name: n.name, role: n.role, state: 'unknown', lastSeenState: n.state }));
    const lastSeen = o.dockerLastUpAt !== undefined ? { lastSeenAt: o.dockerLastUpAt } : {};
    return { ...base, ...lastSeen, state: 'unknown', nodes, cause: o.docker.health.state === 'unresponsive' ? 'Docker is not responding' : 'Docker is not running' };
  }
  // Its start is under way and its API has not said ok since: starting, with no Restart offered.
  if (within(since, graceMs, o.now) && probe?.state !== 'ok') {
    const ago = formatMs(Math.max(0, o.now - since));
    const cause = c.controlPlaneRunning ? `started ${ago} ago; waiting for its API to answer` : `started ${ago} ago; its node containers are starting`;
    return { ...base, state: 'starting', startingSince: since, nodes: c.nodes, cause };
  }
  if (!c.controlPlaneRunning) {
    const stopped = c.nodes.filter((n) => n.role === 'control-plane' && n.state !== 'running').map((n) => n.name);
    return { ...base, state: 'stopped', nodes: c.nodes, cause: `node container ${stopped.join(', ') || 'control-plane'} is not running` };
  }
  const nodes = mergeNodes(c.nodes, probe);
  const version = probe?.version ? { kubernetesVersion: probe.version } : {};
  if (since !== undefined && !probe) {
    // The grace passed and no probe begun since the start has answered: silence is the real cause now.
    return { ...base, state: 'unreachable', nodes, cause: `its API has not answered in the ${formatMs(graceMs)} since it started` };
  }
  if (!probe && o.dockerBackAt !== undefined) {
    // Docker answers again and its containers run, but what the API said before is history: not green until it answers now.
    return { ...base, state: 'unknown', nodes, cause: 'Docker answers again; checking its API' };
  }
  // A probe made against an older API port says nothing about the cluster as it is now.
  const fresh = probe && (!probe.server || !c.apiEndpoint || sameEndpoint(probe.server, c.apiEndpoint));
  if (fresh && probe.state === 'unreachable') {
    return { ...base, ...version, state: 'unreachable', nodes, cause: probe.cause ?? 'the API does not answer' };
  }
  // The probe could not ask (its process was being replaced, probing stopped): unknown is never green.
  if (fresh && probe.state === 'unknown') {
    return { ...base, ...version, state: 'unknown', nodes, cause: `its API could not be checked: ${probe.cause ?? 'no answer from the probe'}` };
  }
  const down = c.nodes.filter((n) => n.state !== 'running').map((n) => n.name);
  const notReady = nodes.filter((n) => n.ready === false).map((n) => n.name);
  if (down.length > 0 || (fresh && (notReady.length > 0 || probe.degraded))) {
    const lost = workersLost({ nodes });
    const why = [
      down.length ? `node containers not running: ${down.join(', ')}` : '',
      lost.length ? `workers not Ready while the control plane is: ${lost.join(', ')}; ${WORKERS_LOST_CAUSE}` : notReady.length ? `nodes not Ready: ${notReady.join(', ')}` : fresh && probe.degraded ? probe.degraded : '',
    ]
      .filter(Boolean)
      .join('; ');
    return { ...base, ...version, state: 'degraded', nodes, cause: why };
  }
  return { ...base, ...version, state: 'running', nodes };
}

function sameEndpoint(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const local = (h: string) => (h === 'localhost' || h === '[::1]' || h === '0.0.0.0' ? '127.0.0.1' : h);
    return local(x.hostname) === local(y.hostname) && x.port === y.port;
  } catch {
    return a === b;
  }
}

function contextHealth(ctx: ContextHealth, o: Observations, kind: KindClusterView | undefined, cluster: ClusterHealth | undefined): ContextHealth {
  // What the file says wrong (dangling, stale port) stands whatever the network does.
  if (ctx.state === 'dangling' || ctx.state === 'stale-endpoint') return ctx;
  if (kind && o.docker.health.state !== 'running') return { ...ctx, state: 'unreachable', cause: 'Docker is not running' };
  if (cluster?.state === 'starting') return { ...ctx, state: 'checking', cause: `cluster ${cluster.name} is starting` };
  if (kind && !kind.controlPlaneRunning) return { ...ctx, state: 'unreachable', cause: `cluster ${kind.name} is stopped` };
  const probe = countingProbe(o, ctx.name, kind ? o.starting?.clusters?.get(kind.name) : undefined, kind !== undefined);
  // Worth probing (its cluster runs, or it is the current context) and nothing has answered yet: checking, not unreachable.
  if (!probe) return kind || ctx.current ? { ...ctx, state: 'checking' } : ctx;
  const stamp = {
    probedAt: new Date(probe.finishedAt).toISOString(),
    ...(probe.latencyMs !== undefined ? { latencyMs: probe.latencyMs } : {}),
  };
  if (probe.state === 'ok') return { ...ctx, ...stamp, state: 'ok' };
  return { ...ctx, ...stamp, state: probe.state, ...(probe.cause ? { cause: probe.cause } : {}) };
}

export function assembleSnapshot(o: Observations): HealthSnapshot {
  const kindByContext = new Map(o.clusters.map((c) => [c.context, c]));
  const clusters = o.clusters.map((c) => clusterHealth(c, o));
  const clusterByContext = new Map(clusters.map((c) => [c.context, c]));
  const contexts = o.contexts.map((ctx) => contextHealth(ctx, o, kindByContext.get(ctx.name), clusterByContext.get(ctx.name)));
  const newest = Math.max(o.docker.observedAt, ...[...o.probes.values()].map((p) => p.finishedAt));
  return withProblems(
    {
      checkedAt: new Date(Math.min(newest, o.now)).toISOString(),
      docker: dockerHealth(o),
      clusters,
      contexts,
      ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
      server: o.server,
    },
    o.busy ? { busy: true } : {},
  );
}
