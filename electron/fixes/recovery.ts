// One-click recovery: the chain Start Docker (and Restart Docker) carries.
// Before the engine comes back it is planned from the snapshot (which clusters
// were running); after, each of those clusters is started, its kubeconfig
// context repaired if the restart moved its API port, and its API waited for,
// all under deadlines, each step told as it goes. A multi-node cluster whose
// workers the restart left NotReady (KinD's known failure) is restarted.

import { kindContextName, RECOVERY_DEADLINES } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { workersLost } from '../../shared/problems.ts';
import type { ClusterHealth, HealthSnapshot } from '../../shared/snapshot.ts';
import { clusterUp, repairMovedContext, startNodeContainers } from './cluster.ts';
import type { FixContext, StepLog } from './context.ts';

export interface PlannedStep {
  id: string;
  label: string;
}

export interface RecoveryPlan {
  /** The clusters to bring back after the engine, with their contexts. */
  clusters: { name: string; context: string }[];
  /** Every step the chain will report, in order. */
  steps: PlannedStep[];
}

/**
 * Whether the cluster was running before Docker went away: what Docker last
 * said of its control plane (kept as lastSeenState while Docker is down), or
 * its state while Docker still answers.
 */
export function wasRunning(c: ClusterHealth): boolean {
  if (c.state === 'stopped') return false;
  if (c.state !== 'unknown') return true;
  return c.nodes.some((n) => n.role === 'control-plane' && (n.lastSeenState ?? n.state) === 'running');
}

/** The chain for Start Docker (or, `restart`, Restart Docker) from the snapshot before it runs. Pure. */
export function planRecovery(s: Pick<HealthSnapshot, 'clusters'>, opts: { restart: boolean; restartClusters: boolean }): RecoveryPlan {
  const clusters = opts.restartClusters ? s.clusters.filter(wasRunning).map((c) => ({ name: c.name, context: c.context || kindContextName(c.name) })) : [];
  return {
    clusters,
    steps: [
      { id: 'docker', label: opts.restart ? 'Restart Docker' : 'Start Docker' },
      ...clusters.flatMap((c) => [
        { id: `cluster:${c.name}`, label: `Start cluster ${c.name}` },
        { id: `context:${c.context}`, label: `Repair context ${c.context}` },
      ]),
    ],
  };
}

const labelOf = (plan: RecoveryPlan, id: string): string => plan.steps.find((s) => s.id === id)?.label ?? id;

/** What one cluster's recovery came to, for the fix's message. */
interface Outcome {
  name: string;
  ok: boolean;
  text: string;
}

async function recoverCluster(ctx: FixContext, plan: RecoveryPlan, c: RecoveryPlan['clusters'][number], log: StepLog): Promise<Outcome> {
  const started = Date.now();
  const step = log.begin(`cluster:${c.name}`, labelOf(plan, `cluster:${c.name}`));
  if (!ctx.snapshot().clusters.some((x) => x.name === c.name)) {
    step.skipped('it no longer exists');
    return { name: c.name, ok: true, text: `cluster ${c.name} no longer exists` };
  }
  let repaired = '';
  try {
    const n = await startNodeContainers(ctx, c.name, false);
    const ctxStep = log.begin(`context:${c.context}`, labelOf(plan, `context:${c.context}`));
    const after = await repairMovedContext(ctx, c.context);
    if ('repaired' in after) {
      repaired = after.repaired;
      ctxStep.done(after.repaired);
    } else if ('failed' in after) ctxStep.failed(after.failed);
    else ctxStep.skipped(after.skipped);
    const left = Math.max(0, started + RECOVERY_DEADLINES.clusterUp - Date.now());
    const up = await ctx.waitFor((s) => clusterUp(s, c.name) && s.contexts.every((x) => x.name !== c.context || x.state === 'ok'), left);
    const took = formatMs(Date.now() - started);
    if (!up) {
      const now = ctx.snapshot();
      const cl = now.clusters.find((x) => x.name === c.name);
      const cx = now.contexts.find((x) => x.name === c.context);
      const why = `not answering within ${formatMs(RECOVERY_DEADLINES.clusterUp)} (cluster ${cl?.state ?? 'gone'}, context ${cx?.state ?? 'missing'})`;
      step.failed(why);
      return { name: c.name, ok: false, text: `cluster ${c.name} ${why}` };
    }
    step.done(`${n > 0 ? `started ${n === 1 ? '1 node container' : `${n} node containers`}; ` : ''}API answered after ${took}`);
    const workers = await recoverWorkers(ctx, c.name, log);
    if (!workers.ok) return { name: c.name, ok: false, text: `cluster ${c.name}: ${workers.text}` };
    return { name: c.name, ok: true, text: `cluster ${c.name} running${repaired ? ` (${repaired})` : ''}${workers.text ? `; ${workers.text}` : ''}` };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    step.failed(why);
    return { name: c.name, ok: false, text: `cluster ${c.name}: ${why}` };
  }
}

/**
 * How long workers may take to say Ready once the API answers, before the chain judges them lost.
 * On a real KinD node the control plane may still show a lost worker Ready from before the restart
 * until its node-monitor grace (40 s) runs out: the chain then passes, and the snapshot's rule
 * (workersLost) offers Restart cluster once the worker turns NotReady.
 */
export const WORKERS_SETTLE_MS = 15_000;

const allReady = (s: HealthSnapshot, cluster: string): boolean => s.clusters.some((c) => c.name === cluster && c.state === 'running');

/**
 * A multi-node cluster just brought back: its workers Ready, or, when the
 * restart left them NotReady with the control plane Ready (KinD's known
 * failure), the cluster restarted once and its workers waited for.
 */
async function recoverWorkers(ctx: FixContext, name: string, log: StepLog): Promise<{ ok: boolean; text: string }> {
  const cluster = ctx.snapshot().clusters.find((x) => x.name === name);
  const workers = cluster?.nodes.filter((n) => n.role !== 'control-plane') ?? [];
  if (workers.length === 0) return { ok: true, text: '' };
  const step = log.begin(`workers:${name}`, `Workers of ${name} Ready`);
  if (await ctx.waitFor((s) => allReady(s, name), WORKERS_SETTLE_MS)) {
    step.done(`${workers.length === 1 ? 'its worker is' : `all ${workers.length} workers are`} Ready`);
    return { ok: true, text: '' };
  }
  const now = ctx.snapshot().clusters.find((x) => x.name === name);
  const lost = now ? workersLost(now) : [];
  if (lost.length === 0) {
    // Not the failure a restart mends: say what is there, and leave the cluster as it is.
    const notReady = now?.nodes.filter((n) => n.ready !== true).map((n) => n.name) ?? [];
    step.skipped(`not all Ready after ${formatMs(WORKERS_SETTLE_MS)}${notReady.length ? ` (${notReady.join(', ')})` : ''}: kubectl --context ${now?.context ?? kindContextName(name)} describe nodes says why`);
    return { ok: true, text: '' };
  }
  const started = Date.now();
  try {
    await startNodeContainers(ctx, name, true);
    const left = Math.max(0, started + RECOVERY_DEADLINES.clusterUp - Date.now());
    if (!(await ctx.waitFor((s) => allReady(s, name), left))) {
      const why = `${lost.join(', ')} still not Ready ${formatMs(RECOVERY_DEADLINES.clusterUp)} after restarting the cluster`;
      step.failed(why);
      return { ok: false, text: why };
    }
  } catch (e) {
    const why = `restarting it for its workers failed: ${e instanceof Error ? e.message : String(e)}`;
    step.failed(why);
    return { ok: false, text: why };
  }
  const text = `the Docker restart left ${lost.join(', ')} NotReady; the cluster was restarted and ${lost.length === 1 ? 'it is' : 'they are'} Ready again`;
  step.done(`${text} (${formatMs(Date.now() - started)})`);
  return { ok: true, text };
}

/** After the engine answers: every planned cluster back, in parallel; answers one sentence per cluster and whether all came back. */
export async function recoverClusters(ctx: FixContext, plan: RecoveryPlan, log: StepLog): Promise<{ ok: boolean; text: string }> {
  if (plan.clusters.length === 0) return { ok: true, text: '' };
  await ctx.refresh();
  const outcomes = await Promise.all(plan.clusters.map((c) => recoverCluster(ctx, plan, c, log)));
  return { ok: outcomes.every((o) => o.ok), text: outcomes.map((o) => o.text).join('; ') };
}
