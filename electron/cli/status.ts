// `kindtray status`: the snapshot, at a glance or as JSON. Works before any
// server exists: it then looks once by itself, as `docker info` does. Asking a
// running server loads only server-link.ts; the monitor is loaded for a look of our own.

import { renderStatus, statusExitCode } from '../../shared/status-text.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { apiRequest, serverInfo } from './server-link.ts';
import type { CommandContext } from './context.ts';

/** One full look at Docker, KinD and kubeconfig, every part under its deadline. */
export async function lookOnce(env: NodeJS.ProcessEnv): Promise<{ snapshot: HealthSnapshot; ageMs: number }> {
  const { Monitor } = await import('../monitor/index.ts');
  const monitor = new Monitor({ env, watch: false });
  try {
    await monitor.start();
    return monitor.current();
  } finally {
    monitor.stop();
  }
}

/** The running server's snapshot when one answers quickly; otherwise one look of our own. */
async function snapshotForStatus(env: NodeJS.ProcessEnv): Promise<{ snapshot: HealthSnapshot; ageMs: number }> {
  const info = serverInfo(env);
  if (info) {
    const answer = await apiRequest<HealthSnapshot & { ageMs: number }>(info, '/api/status', { deadlineMs: 1_500 }).catch(() => undefined);
    if (answer?.status === 200) {
      const { ageMs, ...snapshot } = answer.body;
      return { snapshot, ageMs };
    }
  }
  return lookOnce(env);
}

export async function statusCommand(ctx: CommandContext): Promise<number> {
  const { snapshot, ageMs } = await snapshotForStatus(ctx.env);
  if (ctx.json) ctx.out(JSON.stringify({ ...snapshot, ageMs }, null, 2));
  else ctx.out(renderStatus(snapshot, { color: ctx.color, snapshotAgeMs: ageMs }));
  return statusExitCode(snapshot);
}
