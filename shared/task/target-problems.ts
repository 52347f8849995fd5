// Can the target run tasks now: the root cause first (Docker, then the
// cluster's containers and API, then its kubeconfig context), each with the fix
// that helps, read from the snapshot alone.

import { FIXES } from '../fixes.ts';
import type { ContextHealth, HealthSnapshot } from '../snapshot.ts';
import { quote } from './issues.ts';
import type { IssueFix } from './issues.ts';
import type { Target } from './cluster-target.ts';

/** The fixes an issue offers: shared/fixes.ts's. `refresh` (refresh-status) asks the monitor to look again. */
export const FIX = { ...FIXES, refresh: FIXES.refreshStatus } as const;

export interface TargetProblem {
  severity: 'error' | 'warn';
  message: string;
  fix?: IssueFix;
  /** It passes by itself (a start under way): no fix is offered, and --when-ready waits. */
  waitable?: true;
}

const problem = (message: string, fix?: IssueFix): TargetProblem => ({ severity: 'error', message, ...(fix && { fix }) });
/** Something is starting: not ready yet, nothing to fix (no Restart while it starts). */
const starting = (message: string): TargetProblem => ({ severity: 'error', message, waitable: true });
const withCause = (message: string, cause: string | undefined): string => (cause ? `${message} (${cause})` : message);

/** Root cause first: Docker, then the cluster's containers and API, then its kubeconfig context. */
export function kindTargetProblem(
  context: string,
  kind: NonNullable<Target['kind']>,
  contextHealth: ContextHealth | undefined,
  snap: HealthSnapshot,
): TargetProblem | undefined {
  const docker = snap.docker;
  const cannot = `so cluster ${context} cannot run tasks`;
  switch (docker.state) {
    case 'running':
      break;
    case 'starting':
      return starting(`Docker is starting, ${cannot} until it answers`);
    case 'stopped':
      return problem(`Docker is not running, ${cannot}`, FIX.startDocker);
    case 'unresponsive':
      return problem(withCause(`Docker does not answer, ${cannot}`, docker.cause), FIX.restartDocker);
    case 'no-permission':
      return problem(withCause(`Kindtray may not use Docker, ${cannot}`, docker.cause), FIX.dockerPermissionHelp);
    case 'not-installed':
      return problem(`Docker is not installed, ${cannot}`, FIX.installDockerHelp);
  }

  const cluster = kind.health;
  if (cluster === undefined) {
    return problem(`cluster ${context} does not exist: Docker has no KinD cluster ${quote(kind.name)} (your kubeconfig still has its context)`);
  }
  switch (cluster.state) {
    case 'starting':
      return starting(withCause(`cluster ${context} is starting: its API has not answered yet`, cluster.cause));
    case 'stopped':
      return problem(`cluster ${context} is stopped`, FIX.startCluster(cluster.name));
    case 'unreachable':
      return problem(withCause(`cluster ${context} does not answer`, cluster.cause), FIX.restartCluster(cluster.name));
    case 'unknown':
      return problem(withCause(`cluster ${context}: state unknown`, cluster.cause), FIX.refresh);
    case 'degraded':
    case 'running':
      break;
  }

  if (contextHealth === undefined) {
    return problem(`cluster ${context} has no context ${quote(context)} in your kubeconfig`, FIX.repairContext(context));
  }
  const ctxProblem = contextProblem(context, contextHealth, cluster.name);
  if (ctxProblem) return ctxProblem;
  if (cluster.state === 'degraded') {
    return { severity: 'warn', message: withCause(`cluster ${context} is degraded: not every node is Ready`, cluster.cause) };
  }
  return undefined;
}

export function contextProblem(context: string, health: ContextHealth | undefined, kindCluster?: string): TargetProblem | undefined {
  if (health === undefined) return undefined;
  switch (health.state) {
    case 'ok':
      return undefined;
    case 'stale-endpoint': {
      const where = health.server && health.expectedServer ? `: it points at ${health.server}, the cluster listens at ${health.expectedServer}` : '';
      return problem(`context ${context} has a stale API address${where}`, FIX.repairContext(context));
    }
    case 'dangling':
      return problem(withCause(`context ${context} names a cluster or user your kubeconfig does not define`, health.cause));
    case 'unreachable': {
      const fix = kindCluster !== undefined ? FIX.restartCluster(kindCluster) : undefined;
      return problem(withCause(`cluster ${context} does not answer`, health.cause), fix);
    }
    case 'auth-failed':
      return problem(withCause(`cannot sign in to context ${context}`, health.cause));
    case 'unknown':
      return problem(withCause(`context ${context}: state unknown`, health.cause), FIX.refresh);
    case 'checking':
      return starting(`context ${context}: its first check has not answered yet`);
  }
}
