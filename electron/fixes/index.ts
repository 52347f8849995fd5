// The fixes behind every Problem's button, menu item and CLI hint: start or
// restart Docker (with the clusters that were running: one click), start or
// restart a cluster, repair or switch a kube context, restart the API server.
// Each runs under a deadline and answers what happened in words; none waits
// on anything without one.

import { formatFixId, type FixId, type FixResult } from '../../shared/fixes.ts';
import { startCluster } from './cluster.ts';
import { FixError, StepLog, type FixContext } from './context.ts';
import { restartDocker, startDocker } from './docker.ts';
import { repairContext, useContext } from './kubeconfig-edit.ts';

export type { FixResult };
export { FixError, type FixContext, type StartingTarget } from './context.ts';
export { planRecovery, wasRunning, type RecoveryPlan } from './recovery.ts';

/** Runs the fix and says what happened; a fix that fails answers `ok: false` with why, never throws. */
export async function runFix(fix: FixId, ctx: FixContext): Promise<FixResult> {
  const started = Date.now();
  const fixId = formatFixId(fix);
  const log = new StepLog(ctx.onStep);
  const steps = () => (log.steps.length > 0 ? { steps: log.steps.map((s) => ({ ...s })) } : {});
  try {
    const message = await run(fix, ctx, log);
    return { ok: true, fixId, message, durationMs: Date.now() - started, ...steps() };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, fixId, message, durationMs: Date.now() - started, ...steps() };
  }
}

/** One case per kind of FixId; a kind added there and not here fails to compile (the `never` below). */
async function run(fix: FixId, ctx: FixContext, log: StepLog): Promise<string> {
  switch (fix.kind) {
    case 'start-docker':
      return startDocker(ctx, log);
    case 'restart-docker':
      return restartDocker(ctx, log);
    case 'start-cluster':
      return startCluster(ctx, fix.cluster, false);
    case 'restart-cluster':
      return startCluster(ctx, fix.cluster, true);
    case 'repair-context': {
      const message = repairContext(ctx, fix.context);
      await ctx.refresh();
      return message;
    }
    case 'use-context': {
      const message = useContext(ctx, fix.context);
      await ctx.refresh();
      return message;
    }
    case 'refresh-status':
      await ctx.refresh();
      return 'looked again at Docker, the clusters and their contexts';
    case 'docker-permission-help':
      return 'Docker refuses this user. On Linux: `sudo usermod -aG docker $USER`, then log in again (or run `newgrp docker`). With rootless Docker or Podman, point DOCKER_HOST at your own socket.';
    case 'install-docker-help':
      return 'Install Docker Desktop, Colima, Rancher Desktop or Podman (or `apt-get install docker.io` on Debian), then start it; Kindtray finds its socket by itself.';
    case 'restart-server':
      await ctx.restartServer('asked for by the user');
      return 'the API server was restarted';
    case 'load-image':
    case 'delete-cluster':
      // Operations of the cluster room, which the supervisor runs before this runner is asked.
      throw new FixError(`${formatFixId(fix)} is run by the cluster manager, not by the fix runner`);
    default:
      return unhandled(fix);
  }
}

function unhandled(fix: never): never {
  throw new FixError(`no runner for fix ${JSON.stringify(fix)}`);
}
