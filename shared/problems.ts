// The one place that knows every problem Kindtray can name: it turns what the
// monitor observed into Problems, each with its fix and its root cause, and
// decides the overall state. The tray, the dashboard and `kindtray status` only
// display what this file derives (design principles 5 and 6).
//
// Problem ids are stable strings, so views keep their place across snapshots:
//   docker:STATE               docker:stopped, docker:no-permission, ...
//   clusters:none              Docker runs, but there is no KinD cluster
//   cluster:NAME:STATE         cluster:dev:stopped, cluster:dev:degraded, ...
//   context:NAME:STATE         context:kind-dev:stale-endpoint, ...
//   kubeconfig:PATH:STATE      kubeconfig:/home/me/.kube/extra:malformed
//   server:STATE               server:hung, server:port-conflict, ...
//   fix:FIX_ID:running         a fix in progress (makes the overall state busy)
//   fixes:running              some fix in progress, when the caller cannot say which
//
// A problem that follows from another (a cluster whose Docker is down, the
// kind-NAME context of a stopped cluster) has `causedBy` set to the root's id,
// always the root itself, never an intermediate. Followers are `info` and carry
// no fix: their weight and their fix are the root's, so nothing is counted twice
// and no view offers "Start cluster" before "Start Docker".

import {
  clusterProblem,
  contextProblem,
  dockerProblem,
  healthyContexts,
  isInProgress,
  isKindContextName,
  isRoot,
  join,
  kubeconfigProblem,
  plural,
  problemIds,
  serverProblem,
} from './problem-rules.ts';
import { labelledFix } from './fixes.ts';
import type { ClusterHealth, ContextHealth, HealthSnapshot, OverallState, Problem, Severity } from './snapshot.ts';

export { healthyContexts, isInProgress, isRoot, problemIds, serverNotRunning, workersLost, WORKERS_LOST_CAUSE } from './problem-rules.ts';

/** What the monitor observed, before problems and the overall state are derived. */
export type SnapshotInput = Omit<HealthSnapshot, 'problems' | 'overall'>;

export interface DeriveOptions {
  /**
   * Something is in progress: the ids of the fixes running now (`start-docker`,
   * `start-cluster:dev`, ...), each shown as a `fix:ID:running` problem, or just
   * `true` when the caller does not know which (shown as `fixes:running`).
   * Either makes the overall state busy.
   */
  busy?: boolean | readonly string[];
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warn: 1, info: 2 };

/** Cluster states in which its context cannot work either (a starting one: not yet). */
const CLUSTER_DOWN: ReadonlySet<ClusterHealth['state']> = new Set(['starting', 'stopped', 'unreachable', 'unknown']);

/** Context states that follow from their cluster (or Docker) being down or starting, rather than from kubeconfig. */
const FOLLOWS_FROM_CLUSTER: ReadonlySet<ContextHealth['state']> = new Set(['checking', 'unreachable', 'unknown']);

/** Context states said only when a root explains them: alone, they are no news. */
const QUIET_ALONE: ReadonlySet<ContextHealth['state']> = new Set(['checking', 'unknown']);

/** "2 clusters and 1 context affected", from a root's followers. */
export function affectedSummary(followers: readonly Problem[]): string {
  const clusters = new Set(followers.filter((p) => p.id.startsWith('cluster:')).map((p) => p.id));
  const contexts = new Set(followers.filter((p) => p.id.startsWith('context:')).map((p) => p.id));
  const others = followers.length - clusters.size - contexts.size;
  const parts = [
    clusters.size > 0 && plural(clusters.size, 'cluster'),
    contexts.size > 0 && plural(contexts.size, 'context'),
    others > 0 && plural(others, 'other problem'),
  ].filter((p): p is string => typeof p === 'string');
  if (parts.length === 0) return '';
  const last = parts.pop() as string;
  return `${parts.length > 0 ? `${parts.join(', ')} and ${last}` : last} affected`;
}

/** The problems that follow from `root`. */
export const followersOf = (root: Problem, problems: readonly Problem[]): Problem[] =>
  problems.filter((p) => p.causedBy === root.id);

/** What every view leads with: "Docker is not running: 2 clusters and 1 context affected". */
export function headline(p: Problem, problems: readonly Problem[]): string {
  const summary = affectedSummary(followersOf(p, problems));
  return summary ? `${p.title}: ${summary}` : p.title;
}

function follow(p: Problem, rootId: string): Problem {
  const { fix: _fix, ...rest } = p;
  return { ...rest, severity: 'info', causedBy: rootId };
}

/** Every problem in the observations, roots first, then by severity (stable otherwise). */
export function deriveProblems(s: SnapshotInput, opts: DeriveOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const healthy = healthyContexts(s);
  const otherHealthy = (name: string): string | undefined => healthy.find((h) => h !== name);

  const docker = dockerProblem(s.docker);
  if (docker) problems.push(docker);

  // Which root explains trouble with a cluster's context: the cluster's own root.
  const rootOfContext = new Map<string, string>();
  const clusterContexts = new Set(s.clusters.map((c) => c.context));
  for (const c of s.clusters) {
    const p = clusterProblem(c, docker !== undefined, otherHealthy(c.context));
    if (!p) continue;
    const placed = docker ? follow(p, docker.id) : p;
    problems.push(placed);
    if (CLUSTER_DOWN.has(c.state)) rootOfContext.set(c.context, placed.causedBy ?? placed.id);
  }
  if (!docker && s.clusters.length === 0) {
    problems.push({
      id: problemIds.noClusters,
      severity: 'info',
      title: 'No KinD clusters',
      detail: 'Docker is running, but no KinD cluster exists. Create one with: kind create cluster --name dev',
    });
  }

  const known = new Set(s.contexts.map((c) => c.name));
  const contexts: ContextHealth[] = [...s.contexts];
  const current = s.kubeconfig?.currentContext;
  if (current !== undefined && current !== '' && !known.has(current)) {
    // current-context names a context that no file defines.
    contexts.push({ name: current, current: true, state: 'dangling', cause: `no kubeconfig file defines a context named ${current}` });
  }
  for (const ctx of contexts) {
    const role = { kind: clusterContexts.has(ctx.name) || isKindContextName(ctx.name), switchTo: otherHealthy(ctx.name) };
    const p = contextProblem(ctx, role);
    if (!p) continue;
    const root = FOLLOWS_FROM_CLUSTER.has(ctx.state)
      ? (rootOfContext.get(ctx.name) ?? (docker && role.kind ? docker.id : undefined))
      : undefined;
    if (root !== undefined) problems.push(follow(p, root));
    else if (!QUIET_ALONE.has(ctx.state)) problems.push(p);
  }

  for (const f of s.kubeconfig?.files ?? []) {
    const p = kubeconfigProblem(f, s.kubeconfig?.source === 'default');
    if (p) problems.push(p);
  }

  const server = serverProblem(s.server);
  if (server) problems.push(server);

  if (opts.busy === true) {
    problems.push({ id: problemIds.someFixRunning, severity: 'info', title: 'A fix is running…', detail: 'Kindtray is working on it.' });
  }
  for (const fixId of Array.isArray(opts.busy) ? opts.busy : []) {
    const label = problems.find((p) => p.fix?.id === fixId)?.fix?.label ?? labelledFix({ id: fixId }).label;
    problems.push({ id: problemIds.fixRunning(fixId), severity: 'info', title: `${label}: running…`, detail: `Fix ${fixId} is in progress.` });
  }

  // Roots name what they affect.
  const withCounts = problems.map((p) => {
    if (!isRoot(p)) return p;
    const summary = affectedSummary(followersOf(p, problems));
    return summary ? { ...p, detail: join(summary, p.detail) } : p;
  });

  return withCounts
    .map((p, i) => ({ p, i }))
    .sort((a, b) => Number(!isRoot(a.p)) - Number(!isRoot(b.p)) || SEVERITY_RANK[a.p.severity] - SEVERITY_RANK[b.p.severity] || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * busy when something is in progress (the user pressed a fix, or the server is
 * restarting: the icon says "working on it" even while the root is an error);
 * else error if any root is an error, warn if any root warns, else ok.
 */
export function overallOf(problems: readonly Problem[], s: Pick<SnapshotInput, 'server'>, opts: DeriveOptions = {}): OverallState {
  const busy = opts.busy === true || (Array.isArray(opts.busy) && opts.busy.length > 0);
  if (busy || s.server.state === 'restarting' || problems.some(isInProgress)) return 'busy';
  const roots = problems.filter(isRoot);
  if (roots.some((p) => p.severity === 'error')) return 'error';
  if (roots.some((p) => p.severity === 'warn')) return 'warn';
  return 'ok';
}

/** The full snapshot: observations plus derived problems and overall state. */
export function withProblems(input: SnapshotInput, opts: DeriveOptions = {}): HealthSnapshot {
  const problems = deriveProblems(input, opts);
  return { ...input, overall: overallOf(problems, input, opts), problems };
}

/** True when a root problem is an error: `kindtray status` exits 1 (even while a fix is running). */
export const hasRootError = (problems: readonly Problem[]): boolean =>
  problems.some((p) => isRoot(p) && p.severity === 'error');

/**
 * The root problem that stops work on a context now, if any: what a launch or a
 * validation names as its cause, with the root's fix ("Start Docker"). Reads the
 * snapshot only; never asks the cluster.
 */
export function rootCauseFor(s: Pick<HealthSnapshot, 'problems' | 'clusters'>, context: string): Problem | undefined {
  const byId = new Map(s.problems.map((p) => [p.id, p]));
  const cluster = s.clusters.find((c) => c.context === context);
  const candidates = [
    ...(['stale-endpoint', 'dangling', 'unreachable', 'auth-failed', 'checking', 'unknown'] as const).map((st) => problemIds.context(context, st)),
    ...(cluster ? (['starting', 'stopped', 'unreachable', 'unknown'] as const).map((st) => problemIds.cluster(cluster.name, st)) : []),
  ];
  for (const id of candidates) {
    const p = byId.get(id);
    if (!p) continue;
    return p.causedBy !== undefined ? (byId.get(p.causedBy) ?? p) : p;
  }
  // A KinD context with no problem of its own still cannot work while Docker is down.
  if (cluster || isKindContextName(context)) return s.problems.find((p) => p.id.startsWith('docker:') && isRoot(p));
  return undefined;
}