// Starting and restarting a KinD cluster: its node containers (control plane
// first), marked as starting so no Restart is offered while its API comes up,
// then waiting for the API under a deadline.

import type Docker from 'dockerode';
import { KIND_CLUSTER_LABEL, KIND_ROLE_LABEL, kindContextName, RECOVERY_DEADLINES } from '../../shared/constants.ts';
import { formatMs, withDeadline } from '../../shared/deadline.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { FixError, type FixContext } from './context.ts';
import { repairable, repairContext } from './kubeconfig-edit.ts';

async function nodeContainers(ctx: FixContext, cluster: string, signal: AbortSignal): Promise<Docker.ContainerInfo[]> {
  const list = await ctx.docker().listContainers({ all: true, filters: JSON.stringify({ label: [`${KIND_CLUSTER_LABEL}=${cluster}`] }), abortSignal: signal } as Docker.ContainerListOptions);
  if (list.length === 0) throw new FixError(`no node containers for cluster ${cluster}`);
  // The control plane first: workers join it.
  return list.sort((a, b) => Number(b.Labels[KIND_ROLE_LABEL] === 'control-plane') - Number(a.Labels[KIND_ROLE_LABEL] === 'control-plane'));
}

/** Starts (or restarts) the node containers; answers how many it started. The cluster is `starting` from here on. */
export async function startNodeContainers(ctx: FixContext, cluster: string, restart: boolean): Promise<number> {
  ctx.markStarting?.({ cluster });
  return withDeadline(`${restart ? 'restarting' : 'starting'} cluster ${cluster}`, RECOVERY_DEADLINES.clusterUp, async (signal) => {
    let started = 0;
    for (const c of await nodeContainers(ctx, cluster, signal)) {
      const container = ctx.docker().getContainer(c.Id);
      const opts = { abortSignal: signal } as object;
      if (restart) await container.restart({ ...opts, t: 5 });
      else if (c.State !== 'running') await container.start(opts);
      else continue;
      started++;
    }
    return started;
  });
}

/** The cluster's API answers (running, or degraded: up, some node not Ready). */
export const clusterUp = (s: HealthSnapshot, cluster: string): boolean =>
  s.clusters.some((c) => c.name === cluster && (c.state === 'running' || c.state === 'degraded'));

/** What became of a just-started cluster's context: repaired (the message), not needed (why), or a repair that failed. */
export type ContextAfterStart = { repaired: string } | { skipped: string } | { failed: string };

/**
 * The context of a cluster just started, repaired when its kubeconfig names a
 * port the node container no longer publishes (the engine may give a started
 * container its API port anew). Done before the API is waited for: the probe
 * dials the kubeconfig's port.
 */
export async function repairMovedContext(ctx: FixContext, context: string): Promise<ContextAfterStart> {
  const c = (await ctx.refresh()).contexts.find((x) => x.name === context);
  if (!repairable(c)) return { skipped: c ? `not needed: it points at ${c.server ?? 'the cluster'}` : 'no such context in kubeconfig' };
  try {
    const repaired = repairContext(ctx, context);
    await ctx.refresh();
    return { repaired };
  } catch (e) {
    return { failed: e instanceof Error ? e.message : String(e) };
  }
}

export async function startCluster(ctx: FixContext, cluster: string, restart: boolean): Promise<string> {
  // Docker may have come up a moment ago (started outside Kindtray): look again before saying no.
  const docker = ctx.snapshot().docker.state === 'running' ? 'running' : (await ctx.refresh()).docker.state;
  if (docker !== 'running') throw new FixError('Docker is not running; start Docker first');
  const context = ctx.snapshot().clusters.find((c) => c.name === cluster)?.context || kindContextName(cluster);
  await startNodeContainers(ctx, cluster, restart);
  const after = await repairMovedContext(ctx, context);
  if ('failed' in after) throw new FixError(`the node containers of ${cluster} started, but its context ${context} names a port they do not publish, and repairing it failed: ${after.failed}`);
  const ms = RECOVERY_DEADLINES.clusterUp;
  const up = await ctx.waitFor((s) => clusterUp(s, cluster), ms);
  if (!up) throw new FixError(`the node containers of ${cluster} started, but its API did not answer within ${formatMs(ms)}`);
  return `cluster ${cluster} is ${restart ? 'restarted' : 'running'}${'repaired' in after ? ` (${after.repaired})` : ''}`;
}
