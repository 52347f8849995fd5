// What each thing Kindtray watches means as a Problem, one subject at a time:
// Docker, a cluster, a context, a kubeconfig file, the server. The ids and
// texts are stable (views keep their place across snapshots); how problems
// relate to each other (roots, followers, the overall state) is problems.ts's.

import { DEADLINES, KIND_CONTEXT_PREFIX } from './constants.ts';
import { formatMs } from './deadline.ts';
import { FIXES, formatFixId } from './fixes.ts';
import type { ClusterHealth, ContextHealth, DockerHealth, HealthSnapshot, KubeconfigHealth, Problem, ServerHealth, Severity } from './snapshot.ts';

type KubeconfigFile = KubeconfigHealth['files'][number];

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

/** A state to know of, with nothing to do about it (no fix): info severity. */
const info = (id: string, title: string, detail: string): Problem => ({ id, severity: 'info', title, detail });

/** True for problems that say something is in progress (a fix running, the server restarting, Docker or a cluster starting, a context's first answer awaited). */
export function isInProgress(p: Problem): boolean {
  return (
    p.id === problemIds.server('restarting') ||
    p.id === problemIds.docker('starting') ||
    (p.id.startsWith('cluster:') && p.id.endsWith(':starting')) ||
    // Its first answer is on its way (within a probe's deadline): not known yet, so not green.
    (p.id.startsWith('context:') && p.id.endsWith(':checking')) ||
    p.id === problemIds.someFixRunning ||
    (p.id.startsWith('fix:') && p.id.endsWith(':running'))
  );
}

export const isRoot = (p: Problem): boolean => p.causedBy === undefined;

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
export const join = (...parts: (string | undefined | false)[]): string =>
  parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '').map(sentence).join(' ');
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const list = (items: readonly string[]): string => items.join(', ');

export const isKindContextName = (name: string): boolean => name.startsWith(KIND_CONTEXT_PREFIX);

/**
 * Contexts a user can switch to now: probed ok, and not belonging to a cluster
 * that is down. Those of running KinD clusters come first, in cluster order.
 */
export function healthyContexts(s: Pick<HealthSnapshot, 'clusters' | 'contexts'>): string[] {
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

export function dockerProblem(d: DockerHealth): Problem | undefined {
  const where = d.endpointSource ? `${d.endpoint} (${d.endpointSource})` : d.endpoint;
  const id = problemIds.docker(d.state);
  switch (d.state) {
    case 'running':
      return undefined;
    case 'starting':
      // No fix while it starts: a second start (or a restart) now would only make it slower.
      return info(id, 'Docker is starting…', join(d.cause ?? `waiting for the engine at ${where} to answer`));
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

/**
 * KinD's known multi-node failure: after Docker restarts, the node containers
 * come back with new addresses and the workers' kubelets no longer reach the
 * API server; the workers stay NotReady (their containers running, the control
 * plane Ready) until the cluster restarts. The workers lost this way; empty
 * when the cluster does not look like that.
 */
export function workersLost(c: Pick<ClusterHealth, 'nodes'>): string[] {
  const planes = c.nodes.filter((n) => n.role === 'control-plane');
  const workers = c.nodes.filter((n) => n.role !== 'control-plane');
  if (planes.length === 0 || workers.length === 0 || c.nodes.some((n) => n.state !== 'running')) return [];
  if (!planes.every((n) => n.ready === true)) return [];
  return workers.filter((n) => n.ready === false).map((n) => n.name);
}

/** The cause of workersLost, in words: what happened and what brings them back. */
export const WORKERS_LOST_CAUSE = 'KinD multi-node clusters come back this way after a Docker restart, when the node addresses change; restarting the cluster brings the workers back';

export function clusterProblem(c: ClusterHealth, dockerDown: boolean, switchTo: string | undefined): Problem | undefined {
  const id = problemIds.cluster(c.name, c.state);
  const stoppedNodes = c.nodes.filter((n) => n.state !== 'running');
  switch (c.state) {
    case 'running':
      return undefined;
    case 'starting':
      // No Restart while it starts: its API not answering yet is what starting looks like.
      return info(id, `Cluster ${c.name} is starting…`, join(c.cause ?? 'waiting for its API to answer'));
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
      const lost = workersLost(c);
      if (lost.length > 0) {
        return {
          id,
          severity: 'warn',
          title: `Cluster ${c.name}: ${lost.length === 1 ? 'its worker is' : 'workers are'} not Ready`,
          detail: join(`${list(lost)} not Ready while the control plane is, ${lost.length === 1 ? 'its container' : 'their containers'} running`, WORKERS_LOST_CAUSE),
          fix: FIXES.restartCluster(c.name),
        };
      }
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
          switchTo !== undefined && `meanwhile you can switch to the healthy context ${switchTo} (fix ${formatFixId({ kind: 'use-context', context: switchTo })})`,
        ),
        fix: FIXES.restartCluster(c.name),
      };
    case 'unknown':
      return info(id, `Cluster ${c.name}: state unknown`, dockerDown ? 'Its containers cannot be seen while Docker is unavailable.' : join(c.cause ?? 'not checked yet'));
  }
}

export interface ContextRole {
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

export function contextProblem(ctx: ContextHealth, role: ContextRole): Problem | undefined {
  const id = problemIds.context(ctx.name, ctx.state);
  const severity = contextSeverity(ctx, role);
  const inFile = ctx.file ? ` in ${ctx.file}` : '';
  const switchFix = ctx.current && role.switchTo !== undefined ? { fix: FIXES.useContext(role.switchTo) } : {};
  const switchAdvice = ctx.current && role.switchTo !== undefined && `switch to ${role.switchTo}, which is healthy`;
  switch (ctx.state) {
    case 'ok':
      return undefined;
    case 'checking':
      return info(id, `Context ${ctx.name}: checking…`, join(ctx.cause ?? 'its first probe has not answered yet'));
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
      return info(id, `Context ${ctx.name}: state unknown`, join(ctx.cause ?? 'not checked yet'));
  }
}

/** Whether a `down` server is simply not running (no pid, no port) rather than failed. */
export const serverNotRunning = (s: ServerHealth): boolean => s.state === 'down' && s.pid === undefined && s.port === undefined;

export function serverProblem(s: ServerHealth): Problem | undefined {
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
      return info(id, 'Server is restarting', join(s.cause, s.restarts !== undefined && `restart ${s.restarts}`));
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

/** A kubeconfig file that cannot be used; `defaultSource` when it is the default path, not one the user listed. */
export function kubeconfigProblem(f: KubeconfigFile, defaultSource: boolean): Problem | undefined {
  const id = problemIds.kubeconfig(f.path, f.state);
  if (f.state === 'ok') return undefined;
  // No kubeconfig yet is where everyone starts: `kind create cluster` writes it.
  if (f.state === 'missing' && defaultSource) return { id, severity: 'info', title: 'No kubeconfig yet', detail: `${f.path} does not exist; kind writes it when it creates a cluster.` };
  if (f.state === 'missing') return { id, severity: 'warn', title: 'Kubeconfig file not found', detail: join(`${f.path} is listed in KUBECONFIG but does not exist`, f.cause) };
  return {
    id,
    severity: 'error',
    title: f.state === 'malformed' ? 'Kubeconfig file is malformed' : 'Kubeconfig file cannot be read',
    detail: join(`${f.path}: ${f.cause ?? (f.state === 'malformed' ? 'not valid kubeconfig YAML' : 'permission denied')}`, 'contexts it defines are ignored until it is fixed'),
  };
}
