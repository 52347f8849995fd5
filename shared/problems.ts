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

import { DEADLINES, KIND_CONTEXT_PREFIX } from './constants.ts';
import { formatMs } from './deadline.ts';
import type {
  ClusterHealth,
  ContextHealth,
  DockerHealth,
  Fix,
  HealthSnapshot,
  OverallState,
  Problem,
  ServerHealth,
  Severity,
} from './snapshot.ts';

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

// ---------------------------------------------------------------------------
// Fixes: ids and labels in one place. The fixes room and the CLI's `fix ID`
// parse the same ids with parseFixId.

export const FIX_KINDS = [
  'start-docker',
  'restart-docker',
  'docker-permission-help',
  'install-docker-help',
  'start-cluster',
  'restart-cluster',
  'repair-context',
  'use-context',
  'restart-server',
  'refresh-status',
] as const;
export type FixKind = (typeof FIX_KINDS)[number];

/** Fix kinds that act on a named cluster or context: `KIND:NAME`. */
const TARGETED_FIX_KINDS: readonly FixKind[] = ['start-cluster', 'restart-cluster', 'repair-context', 'use-context'];

export const FIXES = {
  startDocker: { id: 'start-docker', label: 'Start Docker' },
  restartDocker: { id: 'restart-docker', label: 'Restart Docker' },
  /** Advice, not an action: how to be allowed to use Docker's socket. */
  dockerPermissionHelp: { id: 'docker-permission-help', label: 'How to get access to Docker' },
  /** Advice, not an action: where to get Docker. */
  installDockerHelp: { id: 'install-docker-help', label: 'How to install Docker' },
  startCluster: (cluster: string): Fix => ({ id: `start-cluster:${cluster}`, label: `Start cluster ${cluster}` }),
  restartCluster: (cluster: string): Fix => ({ id: `restart-cluster:${cluster}`, label: `Restart cluster ${cluster}` }),
  repairContext: (context: string): Fix => ({ id: `repair-context:${context}`, label: `Repair context ${context}` }),
  useContext: (context: string): Fix => ({ id: `use-context:${context}`, label: `Switch to context ${context}` }),
  restartServer: { id: 'restart-server', label: 'Restart server' },
  /** Look again at Docker and every cluster now, instead of at the next turn. */
  refreshStatus: { id: 'refresh-status', label: 'Check again' },
  /** The same fix as restartServer, worded for a server that is not running at all. */
  startServer: { id: 'restart-server', label: 'Start server' },
} as const satisfies Record<string, Fix | ((name: string) => Fix)>;

export interface ParsedFixId {
  kind: FixKind;
  /** The cluster or context a targeted fix acts on. */
  target?: string;
}

/** `start-cluster:dev` → `{ kind: 'start-cluster', target: 'dev' }`; undefined for an unknown or malformed id. */
export function parseFixId(id: string): ParsedFixId | undefined {
  const colon = id.indexOf(':');
  // Split at the first colon only: context names may contain colons (EKS ARNs).
  const kind = (colon < 0 ? id : id.slice(0, colon)) as FixKind;
  if (!FIX_KINDS.includes(kind)) return undefined;
  const targeted = TARGETED_FIX_KINDS.includes(kind);
  if (colon < 0) return targeted ? undefined : { kind };
  const target = id.slice(colon + 1);
  return targeted && target !== '' ? { kind, target } : undefined;
}

// ---------------------------------------------------------------------------
// Ids

export const problemIds = {
  docker: (state: DockerHealth['state']) => `docker:${state}`,
  noClusters: 'clusters:none',
  cluster: (name: string, state: ClusterHealth['state']) => `cluster:${name}:${state}`,
  context: (name: string, state: ContextHealth['state']) => `context:${name}:${state}`,
  kubeconfig: (path: string, state: string) => `kubeconfig:${path}:${state}`,
  server: (state: ServerHealth['state']) => `server:${state}`,
  fixRunning: (fixId: string) => `fix:${fixId}:running`,
  someFixRunning: 'fixes:running',
} as const;

/** True for problems that say something is in progress (a fix running, the server restarting). */
export function isInProgress(p: Problem): boolean {
  return (
    p.id === problemIds.server('restarting') ||
    p.id === problemIds.someFixRunning ||
    (p.id.startsWith('fix:') && p.id.endsWith(':running'))
  );
}

export const isRoot = (p: Problem): boolean => p.causedBy === undefined;

// ---------------------------------------------------------------------------
// Derivation

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warn: 1, info: 2 };

/** Context states that follow from their cluster (or Docker) being down, rather than from kubeconfig. */
/** Cluster states in which its context cannot work either. */
const CLUSTER_DOWN: ReadonlySet<ClusterHealth['state']> = new Set(['stopped', 'unreachable', 'unknown']);

const FOLLOWS_FROM_CLUSTER: ReadonlySet<ContextHealth['state']> = new Set(['unreachable', 'unknown']);

/** Words that stay lowercase at the start of a sentence: they are names and commands, not prose. */
const LOWERCASE_TERMS = new Set(['uid', 'gid', 'pid', 'kubectl', 'kind', 'docker', 'dockerd', 'podman', 'colima', 'http', 'https', 'unix', 'tcp']);

/** Causes arrive as phrases ("no Docker socket at ..."); details are sentences. */
const sentence = (s: string): string => {
  const t = s.trim();
  if (t === '') return '';
  const first = /^[a-z]+\b/.exec(t)?.[0];
  const prose = first !== undefined && !LOWERCASE_TERMS.has(first) && !/^[a-z]+[\w-]*[\d_/.:-]/.test(t.split(/\s/)[0] ?? '');
  const text = prose ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  return /[.!?…]$/.test(text) ? text : `${text}.`;
};
const join = (...parts: (string | undefined | false)[]): string =>
  parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '').map(sentence).join(' ');
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const list = (items: readonly string[]): string => items.join(', ');

const isKindContextName = (name: string): boolean => name.startsWith(KIND_CONTEXT_PREFIX);

/**
 * Contexts a user can switch to now: probed ok, and not belonging to a cluster
 * that is down. Those of running KinD clusters come first, in cluster order.
 */
export function healthyContexts(s: Pick<SnapshotInput, 'clusters' | 'contexts'>): string[] {
  const clusterOf = new Map(s.clusters.map((c) => [c.context, c]));
  const ok = s.contexts.filter((c) => {
    if (c.state !== 'ok') return false;
    const cluster = clusterOf.get(c.name);
    return cluster === undefined || cluster.state === 'running' || cluster.state === 'degraded';
  });
  const ofRunningClusters = s.clusters
    .filter((c) => c.state === 'running')
    .map((c) => c.context)
    .filter((name) => ok.some((c) => c.name === name));
  const rest = ok.map((c) => c.name).filter((n) => !ofRunningClusters.includes(n));
  return [...ofRunningClusters, ...rest];
}

function dockerProblem(d: DockerHealth): Problem | undefined {
  const where = d.endpointSource ? `${d.endpoint} (${d.endpointSource})` : d.endpoint;
  const id = problemIds.docker(d.state);
  switch (d.state) {
    case 'running':
      return undefined;
    case 'stopped':
      return {
        id,
        severity: 'error',
        title: 'Docker is not running',
        detail: join(d.cause ?? `nothing answers at ${where}`),
        fix: FIXES.startDocker,
      };
    case 'no-permission': {
      const socket = d.endpoint.replace(/^unix:\/\//, '');
      return {
        id,
        severity: 'error',
        title: 'No permission to use Docker',
        // The monitor's cause names the user and the socket's owner and mode.
        detail: join(
          d.cause ?? `this user cannot open ${socket}`,
          !/log in again/.test(d.cause ?? '') && 'join the group that owns the socket (usually "docker"), then log in again',
        ),
        fix: FIXES.dockerPermissionHelp,
      };
    }
    case 'unresponsive':
      return {
        id,
        severity: 'error',
        title: 'Docker is not responding',
        detail: join(d.cause ?? `the engine at ${where} did not answer in ${formatMs(DEADLINES.docker)}`),
        fix: FIXES.restartDocker,
      };
    case 'not-installed':
      return {
        id,
        severity: 'error',
        title: 'Docker is not installed',
        detail: join(d.cause ?? `no Docker engine at ${where}`, 'install Docker Engine or Docker Desktop, then reopen Kindtray'),
        fix: FIXES.installDockerHelp,
      };
  }
}

function clusterProblem(c: ClusterHealth, dockerDown: boolean, switchTo: string | undefined): Problem | undefined {
  const id = problemIds.cluster(c.name, c.state);
  const stoppedNodes = c.nodes.filter((n) => n.state !== 'running');
  switch (c.state) {
    case 'running':
      return undefined;
    case 'stopped':
      return {
        id,
        severity: 'error',
        title: `Cluster ${c.name} is stopped`,
        detail: join(
          stoppedNodes.length > 0
            ? `its node containers are not running: ${list(stoppedNodes.map((n) => `${n.name} ${n.state}`))}`
            : (c.cause ?? 'its node containers are not running'),
        ),
        fix: FIXES.startCluster(c.name),
      };
    case 'degraded': {
      const notReady = c.nodes.filter((n) => n.ready === false);
      return {
        id,
        severity: 'warn',
        title: `Cluster ${c.name} is degraded`,
        detail: join(
          notReady.length > 0 && `${notReady.length} of ${plural(c.nodes.length, 'node')} not Ready: ${list(notReady.map((n) => n.name))}`,
          stoppedNodes.length > 0 && `node containers not running: ${list(stoppedNodes.map((n) => `${n.name} ${n.state}`))}`,
          // The monitor's cause repeats these facts; it speaks only when they are missing.
          notReady.length === 0 && stoppedNodes.length === 0 && c.cause,
          stoppedNodes.length === 0 && `see why with: kubectl --context ${c.context} describe nodes`,
        ),
        // Starting the cluster starts its stopped node containers; a node that is
        // up but not Ready has no fix Kindtray can promise.
        ...(stoppedNodes.length > 0 ? { fix: FIXES.startCluster(c.name) } : {}),
      };
    }
    case 'unreachable':
      return {
        id,
        severity: 'error',
        title: `Cluster ${c.name} is not answering`,
        detail: join(
          `its containers are up, but the API at ${c.apiEndpoint ?? 'its endpoint'} did not answer${c.cause ? `: ${c.cause}` : ''}`,
          switchTo !== undefined && `meanwhile you can switch to the healthy context ${switchTo} (fix use-context:${switchTo})`,
        ),
        fix: FIXES.restartCluster(c.name),
      };
    case 'unknown':
      return {
        id,
        severity: 'info',
        title: `Cluster ${c.name}: state unknown`,
        detail: dockerDown ? 'Its containers cannot be seen while Docker is unavailable.' : join(c.cause ?? 'not checked yet'),
      };
  }
}

interface ContextRole {
  /** Belongs to a known KinD cluster, or is named like one. */
  kind: boolean;
  switchTo: string | undefined;
}

/**
 * How much a broken context matters: the current one breaks kubectl and launches
 * (error); a KinD one breaks its cluster's use (warn); any other context in the
 * user's kubeconfig is theirs to keep (info).
 */
const contextSeverity = (ctx: ContextHealth, role: ContextRole): Severity =>
  ctx.current ? 'error' : role.kind ? 'warn' : 'info';

function contextProblem(ctx: ContextHealth, role: ContextRole): Problem | undefined {
  const id = problemIds.context(ctx.name, ctx.state);
  const severity = contextSeverity(ctx, role);
  const inFile = ctx.file ? ` in ${ctx.file}` : '';
  const switchFix = ctx.current && role.switchTo !== undefined ? { fix: FIXES.useContext(role.switchTo) } : {};
  const switchAdvice = ctx.current && role.switchTo !== undefined && `switch to ${role.switchTo}, which is healthy`;
  switch (ctx.state) {
    case 'ok':
      return undefined;
    case 'stale-endpoint':
      return {
        id,
        severity,
        title: `Context ${ctx.name} points at an old port`,
        detail: join(
          ctx.expectedServer
            ? `kubeconfig${inFile} has ${ctx.server ?? 'another server'}, but the cluster's API is now at ${ctx.expectedServer}`
            : `kubeconfig${inFile} has ${ctx.server ?? 'a server'} that the cluster's container no longer publishes`,
          ctx.cause,
        ),
        fix: FIXES.repairContext(ctx.name),
      };
    case 'dangling':
      return {
        id,
        severity,
        title: ctx.current ? `Current context ${ctx.name} names nothing` : `Context ${ctx.name} names a missing cluster or user`,
        detail: join(
          ctx.cause ??
            (ctx.cluster || ctx.user
              ? `its cluster "${ctx.cluster ?? ''}" or user "${ctx.user ?? ''}" is not in kubeconfig${inFile}`
              : `there is no such context, cluster or user in kubeconfig${inFile}`),
          ctx.current
            ? switchAdvice || 'no healthy context to switch to; create a cluster with: kind create cluster'
            : `remove it with: kubectl config delete-context ${ctx.name}`,
        ),
        ...switchFix,
      };
    case 'unreachable':
      return {
        id,
        severity,
        title: `Context ${ctx.name} is unreachable`,
        detail: join(`${ctx.server ?? 'its server'} did not answer${ctx.cause ? `: ${ctx.cause}` : ''}`, switchAdvice),
        ...switchFix,
      };
    case 'auth-failed': {
      const timedOut = /time|deadline|no answer/i.test(ctx.cause ?? '');
      return {
        id,
        severity,
        title: timedOut ? `Context ${ctx.name}: authentication timed out` : `Context ${ctx.name}: authentication failed`,
        detail: join(
          ctx.cause ??
            `the server refused the credentials of user ${ctx.user ?? 'in kubeconfig'} (or its credential plugin did not answer in ${formatMs(DEADLINES.kubeProbe)})`,
          'log in again with your provider\'s tool; Kindtray cannot renew credentials',
          switchAdvice,
        ),
        // Deliberately no fix: credentials are the user's to renew.
      };
    }
    case 'unknown':
      // Not probed yet, or not worth probing: nothing to say unless a root explains it.
      return {
        id,
        severity: 'info',
        title: `Context ${ctx.name}: state unknown`,
        detail: join(ctx.cause ?? 'not checked yet'),
      };
  }
}

/** Whether a `down` server is simply not running (no pid, no port) rather than failed. */
export const serverNotRunning = (s: ServerHealth): boolean => s.state === 'down' && s.pid === undefined && s.port === undefined;

function serverProblem(s: ServerHealth): Problem | undefined {
  const id = problemIds.server(s.state);
  const pid = s.pid !== undefined ? ` (pid ${s.pid})` : '';
  switch (s.state) {
    case 'healthy':
      return undefined;
    case 'slow':
      return {
        id,
        severity: 'warn',
        title: 'Server is slow',
        detail: join(s.latencyMs !== undefined ? `the API answered in ${formatMs(s.latencyMs)}` : 'the API answers slowly', s.cause),
      };
    case 'hung':
      return {
        id,
        severity: 'error',
        title: 'Server is not answering',
        detail: join(
          s.cause ?? `the API worker${pid} stopped answering`,
          s.autoRestart === false ? 'automatic restarts are off in settings' : 'it is restarted automatically after repeated misses',
        ),
        fix: FIXES.restartServer,
      };
    case 'down':
      // No pid and no port: no Kindtray server runs at all (e.g. `kindtray status`
      // before anything started one). That is a fact, not a failure.
      if (serverNotRunning(s)) {
        return {
          id,
          severity: 'info',
          title: 'Kindtray server is not running',
          detail: join(s.cause, 'commands that need it start one in the background'),
          fix: FIXES.startServer,
        };
      }
      return {
        id,
        severity: 'error',
        title: 'Server is down',
        detail: join(s.cause ?? `the API worker${pid} exited`),
        fix: FIXES.restartServer,
      };
    case 'restarting':
      return {
        id,
        severity: 'info',
        title: 'Server is restarting',
        detail: join(s.cause, s.restarts !== undefined && `restart ${s.restarts}`),
      };
    case 'port-conflict':
      return {
        id,
        severity: 'warn',
        title: s.port !== undefined ? `Port ${s.port} is held by another program` : "The server's port is held by another program",
        // The supervisor's cause names the holder (program and pid) and the port moved to.
        detail: join(s.cause ?? 'another program holds it', 'Kindtray never stops a program it did not start'),
      };
  }
}

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
    else if (ctx.state !== 'unknown') problems.push(p);
  }

  for (const f of s.kubeconfig?.files ?? []) {
    if (f.state === 'ok') continue;
    const id = problemIds.kubeconfig(f.path, f.state);
    if (f.state === 'missing' && s.kubeconfig?.source === 'default') {
      // No kubeconfig yet is where everyone starts: `kind create cluster` writes it.
      problems.push({ id, severity: 'info', title: 'No kubeconfig yet', detail: `${f.path} does not exist; kind writes it when it creates a cluster.` });
    } else if (f.state === 'missing') {
      problems.push({ id, severity: 'warn', title: 'Kubeconfig file not found', detail: join(`${f.path} is listed in KUBECONFIG but does not exist`, f.cause) });
    } else {
      problems.push({
        id,
        severity: 'error',
        title: f.state === 'malformed' ? 'Kubeconfig file is malformed' : 'Kubeconfig file cannot be read',
        detail: join(`${f.path}: ${f.cause ?? (f.state === 'malformed' ? 'not valid kubeconfig YAML' : 'permission denied')}`, 'contexts it defines are ignored until it is fixed'),
      });
    }
  }

  const server = serverProblem(s.server);
  if (server) problems.push(server);

  if (opts.busy === true) {
    problems.push({ id: problemIds.someFixRunning, severity: 'info', title: 'A fix is running…', detail: 'Kindtray is working on it.' });
  }
  for (const fixId of Array.isArray(opts.busy) ? opts.busy : []) {
    const label = problems.find((p) => p.fix?.id === fixId)?.fix?.label ?? fixId;
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
    ...(['stale-endpoint', 'dangling', 'unreachable', 'auth-failed', 'unknown'] as const).map((st) => problemIds.context(context, st)),
    ...(cluster ? (['stopped', 'unreachable', 'unknown'] as const).map((st) => problemIds.cluster(cluster.name, st)) : []),
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
