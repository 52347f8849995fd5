// Start Docker and Restart Docker. Start runs the engine's start command;
// Restart, for an engine that runs but does not answer, the platform's own
// restart (shared/docker-start.ts), or says plainly why Kindtray cannot. Both
// then carry the chain (recovery.ts): the clusters that were running come back
// with their contexts repaired. Every wait has a deadline.

import { existsSync } from 'node:fs';
import { RECOVERY_DEADLINES } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { defaultDockerStartCommand, dockerRestartPlan } from '../../shared/docker-start.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { runCommand } from './command.ts';
import { FixError, type FixContext, type StepLog } from './context.ts';
import { planRecovery, recoverClusters, type RecoveryPlan } from './recovery.ts';

const dockerUp = (s: HealthSnapshot): boolean => s.docker.state === 'running';

/** Whether systemd runs here and knows a docker.service: then `systemctl restart docker` is the engine's restart. */
export async function systemdManagesDocker(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!existsSync('/run/systemd/system')) return false;
  try {
    const { code, output } = await runCommand('systemctl show --property=LoadState --value docker.service', 3_000, env);
    return code === 0 && output.trim() === 'loaded';
  } catch {
    return false;
  }
}

/** Waits for the engine under what is left of `deadlineAt`; the step fails with why, in words. */
async function waitForEngine(ctx: FixContext, what: string, startedAt: number): Promise<void> {
  const ms = RECOVERY_DEADLINES.dockerUp;
  const left = Math.max(0, startedAt + ms - Date.now());
  await ctx.refresh();
  if (!(await ctx.waitFor(dockerUp, left))) {
    const s = ctx.snapshot().docker;
    throw new FixError(`${what}, but Docker did not answer within ${formatMs(ms)} (${s.state}${s.cause ? `: ${s.cause}` : ''})`);
  }
}

/** The engine is up: bring back what the plan names; one sentence for the fix's answer. */
async function thenClusters(ctx: FixContext, plan: RecoveryPlan, log: StepLog, engine: string): Promise<string> {
  const clusters = await recoverClusters(ctx, plan, log);
  const text = clusters.text ? `${engine}; ${clusters.text}` : engine;
  if (!clusters.ok) throw new FixError(text);
  return text;
}

export async function startDocker(ctx: FixContext, log: StepLog): Promise<string> {
  const before = ctx.snapshot();
  if (before.docker.state === 'running') return 'Docker is already running';
  // Up but silent: its start command would do nothing, and the wait would end in a timeout. Restart it.
  if (before.docker.state === 'unresponsive') return restartDocker(ctx, log);
  const plan = planRecovery(before, { restart: false, restartClusters: ctx.restartClustersWithDocker ?? true });
  const step = log.begin('docker', plan.steps[0]?.label ?? 'Start Docker');
  const startedAt = Date.now();
  const command = ctx.dockerStartCommand || defaultDockerStartCommand(ctx.platform ?? process.platform, before.docker.endpointSource);
  try {
    // Already starting (its socket appeared, or another start): wait for it rather than start it twice.
    if (before.docker.state !== 'starting') {
      ctx.markStarting?.({ docker: true });
      const { code, output } = await runCommand(command, RECOVERY_DEADLINES.dockerUp, ctx.env);
      if (code !== 0) throw new FixError(`"${command}" failed (exit ${code})${output ? `: ${output}` : ''}`);
    }
    await waitForEngine(ctx, `ran "${command}"`, startedAt);
  } catch (e) {
    step.failed(e instanceof Error ? e.message : String(e));
    throw e;
  }
  step.done(`answered after ${formatMs(Date.now() - startedAt)}`);
  return thenClusters(ctx, plan, log, `Docker is running (started with "${command}")`);
}

export async function restartDocker(ctx: FixContext, log: StepLog): Promise<string> {
  const before = ctx.snapshot();
  const d = before.docker;
  // Nothing runs to restart: starting it is the restart.
  if (d.state === 'stopped' || d.state === 'starting') return startDocker(ctx, log);
  if (d.state === 'no-permission') throw new FixError('Docker refuses this user; a restart does not change that. See the fix "How to get access to Docker".');
  if (d.state === 'not-installed') throw new FixError('there is no Docker engine to restart; install one (Docker Desktop, Colima, Rancher Desktop, Podman or docker.io), then start it');
  const platform = ctx.platform ?? process.platform;
  const how = dockerRestartPlan(platform, d.endpointSource, d.endpoint, platform === 'linux' && (await systemdManagesDocker(ctx.env)));
  // Said at once, not after a wait that cannot succeed.
  if (how.kind === 'advice') throw new FixError(how.message);
  const plan = planRecovery(before, { restart: true, restartClusters: ctx.restartClustersWithDocker ?? true });
  const step = log.begin('docker', plan.steps[0]?.label ?? 'Restart Docker');
  const startedAt = Date.now();
  try {
    const { code, output } = await runCommand(how.command, RECOVERY_DEADLINES.restartCommand, ctx.env);
    if (code !== 0) throw new FixError(`"${how.command}" failed (exit ${code})${output ? `: ${output}` : ''}`);
    ctx.markStarting?.({ docker: true });
    await waitForEngine(ctx, `restarted ${how.engine} with "${how.command}"`, startedAt);
  } catch (e) {
    step.failed(e instanceof Error ? e.message : String(e));
    throw e;
  }
  step.done(`answered after ${formatMs(Date.now() - startedAt)}`);
  return thenClusters(ctx, plan, log, `Docker is running again (restarted ${how.engine} with "${how.command}")`);
}
