// The Clusters page's rows, as plain data: every cluster the monitor sees
// (live, from the snapshot), with what only the cluster list knows (its
// NodePort range) and the operation running on it; plus clusters that exist
// only as an operation so far (being created). Each row's state is said
// truthfully: a running cluster whose context has not answered yet is
// "checking", never green; one Docker cannot be asked about is "unknown".

import { isFinalTaskState, type TaskRecord } from '../../../shared/api.ts';
import type { ClusterListItem, ClusterOperation, PortRange } from '../../../shared/contracts/clusters.ts';
import type { ClusterHealth, ContextHealth, HealthSnapshot } from '../../../shared/snapshot.ts';
import { CLUSTER_WORDS, CONTEXT_WORDS, nodesReady } from '../../../shared/view-words.ts';
import { CLUSTER_TONE, type Tone } from '../format.ts';
import { OPERATION_VERBS, runningOn, type FollowedOperation } from './operations.ts';

export interface ClusterRow {
  name: string;
  /** Words for the state: "running", "starting…", "creating…", "running, context checking…". */
  words: string;
  tone: Tone;
  /** The monitor's state, or `creating` for a cluster that exists only as a running create. */
  state: ClusterHealth['state'] | 'creating';
  health?: ClusterHealth;
  context?: ContextHealth;
  /** "1/1" nodes ready, when there are nodes. */
  ready?: string;
  kubernetesVersion?: string;
  nodePorts?: PortRange;
  operation?: ClusterOperation;
  /** What may be pressed now (nothing while an operation runs on it, or while Docker cannot be asked). */
  canStart: boolean;
  canStop: boolean;
  canLoadImage: boolean;
}

function stateOf(c: ClusterHealth, context: ContextHealth | undefined): { words: string; tone: Tone } {
  if (c.state === 'running' && context?.state === 'checking') return { words: `running, context ${CONTEXT_WORDS.checking}`, tone: 'unknown' };
  if (c.state === 'running' && context && context.state !== 'ok') return { words: `running, context ${CONTEXT_WORDS[context.state]}`, tone: 'warn' };
  return { words: CLUSTER_WORDS[c.state], tone: CLUSTER_TONE[c.state] };
}

export function clusterRows(
  snapshot: Pick<HealthSnapshot, 'clusters' | 'contexts'> | undefined,
  list: readonly ClusterListItem[] | undefined,
  operations: Readonly<Record<string, FollowedOperation>>,
): ClusterRow[] {
  const rows: ClusterRow[] = [];
  const byName = new Map((list ?? []).map((c) => [c.name, c]));
  for (const c of snapshot?.clusters ?? []) {
    const context = snapshot?.contexts.find((x) => x.name === c.context);
    const operation = runningOn(operations, c.name);
    const listed = byName.get(c.name);
    const shown = operation ? { words: `${OPERATION_VERBS[operation.kind].doing.toLowerCase()}…`, tone: 'busy' as Tone } : stateOf(c, context);
    rows.push({
      name: c.name,
      ...shown,
      state: c.state,
      health: c,
      ...(context ? { context } : {}),
      ...(c.nodes.length > 0 ? { ready: nodesReady(c) } : {}),
      ...(c.kubernetesVersion ? { kubernetesVersion: c.kubernetesVersion } : {}),
      ...(listed?.nodePorts ? { nodePorts: listed.nodePorts } : {}),
      ...(operation ? { operation } : {}),
      canStart: !operation && c.state === 'stopped',
      canStop: !operation && (c.state === 'running' || c.state === 'degraded' || c.state === 'unreachable' || c.state === 'starting'),
      canLoadImage: !operation && c.state === 'running',
    });
  }
  // Being created: not a cluster the monitor sees yet.
  const seen = new Set(rows.map((r) => r.name));
  for (const f of Object.values(operations)) {
    const o = f.operation;
    if (o.kind !== 'create' || o.state !== 'running' || seen.has(o.cluster)) continue;
    seen.add(o.cluster);
    rows.push({ name: o.cluster, words: 'creating…', tone: 'busy', state: 'creating', operation: o, ...(o.plan?.nodePorts ? { nodePorts: o.plan.nodePorts } : {}), canStart: false, canStop: false, canLoadImage: false });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/** "30000-30099". */
export const formatRange = (r: PortRange): string => `${r.from}-${r.to}`;

/**
 * What stopping cluster `name` ends: its unfinished tasks (their processes die
 * with the nodes; the stop cancels them with the reason first), in words for
 * the confirmation; undefined when nothing runs on it.
 */
export function stopWarning(name: string, context: string | undefined, tasks: readonly Pick<TaskRecord, 'name' | 'state' | 'cluster' | 'context'>[]): string | undefined {
  const on = tasks.filter((t) => (t.cluster === name || (context !== undefined && t.context === context)) && !isFinalTaskState(t.state));
  if (on.length === 0) return undefined;
  const names = on.slice(0, 3).map((t) => t.name).join(', ') + (on.length > 3 ? ` and ${on.length - 3} more` : '');
  return `Stopping ${name} cancels ${on.length === 1 ? 'its task' : `its ${on.length} tasks`} (${names}): ${on.length === 1 ? 'it' : 'they'} cannot go on without the nodes.`;
}

