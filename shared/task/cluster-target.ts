// Which context a task runs on: the one it names (`infra: k8s/CONTEXT`), or
// the default target read from the snapshot; and, when there is none or the
// named one is unknown, the message that says which contexts there are.

import { KIND_CONTEXT_PREFIX } from '../constants.ts';
import type { ClusterHealth, ContextHealth, HealthSnapshot } from '../snapshot.ts';
import { editDistance } from './edit-distance.ts';
import { listWords, quote } from './issues.ts';
import type { IssueFix } from './issues.ts';
import type { TaskSpec } from './schema.ts';
import { FIX } from './target-problems.ts';

/** The context a task runs on, with what the snapshot knows of it. */
export interface Target {
  context: string;
  contextHealth?: ContextHealth;
  /** Set when the target is a KinD cluster (by its container, or by its `kind-` context name). */
  kind?: { name: string; health?: ClusterHealth };
}

export type FindTarget = Target | { error: string; path: string; fix?: IssueFix };

/**
 * `infra: k8s/CTX` names it. Otherwise: the only running KinD cluster, else the
 * current context, else the only KinD cluster there is (so a lone cluster with
 * Docker down still reads "Docker is not running, so cluster kind-dev…").
 */
export function findTarget(task: TaskSpec, snap: HealthSnapshot): FindTarget {
  const named = task.resources.context;
  if (named !== undefined) {
    const t = describeTarget(named, snap);
    if (t.contextHealth === undefined && t.kind?.health === undefined) {
      return { path: 'resources.infra', error: unknownContextMessage(named, snap) };
    }
    return t;
  }
  const running = snap.clusters.filter((c) => c.state === 'running');
  if (running.length === 1 && running[0]) return describeTarget(running[0].context, snap);
  const current = snap.contexts.find((c) => c.current);
  if (current) return describeTarget(current.name, snap);
  if (snap.clusters.length === 1 && snap.clusters[0]) return describeTarget(snap.clusters[0].context, snap);

  const why =
    snap.docker.state !== 'running'
      ? `Docker is not running and your kubeconfig has no current context`
      : running.length > 1
        ? `${running.length} KinD clusters run (${listWords(running.map((c) => c.context))}) and your kubeconfig has no current context`
        : `no KinD cluster runs and your kubeconfig has no current context`;
  const fix = snap.docker.state === 'stopped' ? FIX.startDocker : undefined;
  return { path: 'resources', error: `no cluster to launch on: ${why}; ${knownContextsHint(snap)}`, ...(fix && { fix }) };
}

function describeTarget(context: string, snap: HealthSnapshot): Target {
  const contextHealth = snap.contexts.find((c) => c.name === context);
  const health = snap.clusters.find((c) => c.context === context);
  const t: Target = { context };
  if (contextHealth) t.contextHealth = contextHealth;
  if (health) t.kind = { name: health.name, health };
  else if (context.startsWith(KIND_CONTEXT_PREFIX)) t.kind = { name: context.slice(KIND_CONTEXT_PREFIX.length) };
  return t;
}

function knownContexts(snap: HealthSnapshot): string[] {
  return [...new Set([...snap.contexts.map((c) => c.name), ...snap.clusters.map((c) => c.context)])];
}

function knownContextsHint(snap: HealthSnapshot): string {
  const known = knownContexts(snap);
  return known.length === 0
    ? 'there are no contexts in your kubeconfig'
    : `write infra: k8s/CONTEXT with one of ${listWords(known)}`;
}

function unknownContextMessage(named: string, snap: HealthSnapshot): string {
  const known = knownContexts(snap);
  if (known.length === 0) return `there is no context ${quote(named)}: your kubeconfig has no contexts, and no KinD cluster runs`;
  const near =
    known.find((k) => k === `${KIND_CONTEXT_PREFIX}${named}`) ??
    known.find((k) => editDistance(k.toLowerCase(), named.toLowerCase()) <= 2);
  const mean = near !== undefined ? `did you mean k8s/${near}? ` : '';
  return `there is no context ${quote(named)}: ${mean}known contexts are ${listWords(known)}`;
}
