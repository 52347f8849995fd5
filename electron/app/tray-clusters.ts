// What the tray's cluster submenu does that is not a fix or a page: Stop. It
// asks our own server's cluster route (POST /api/clusters/NAME/stop, with the
// server's token), exactly as the dashboard and the CLI do, so the operation
// is the cluster room's one record, streamed to every window. The answer comes
// at once (202: started); how it goes is on /api/events and in the tray's menu.

import { routePath } from '../../shared/contracts/clusters.ts';
import type { FixOutcome } from '../../shared/ipc.ts';

/** Starting an operation answers at once; longer means the server is in trouble. */
export const TRAY_CLUSTER_CALL_MS = 5_000;

export interface OwnServer {
  url: string;
  token: string;
}

/** Starts `stop` on a cluster; answers as a fix does, so a failure is told like one. */
export async function stopClusterFromTray(server: OwnServer, cluster: string, fetchImpl: typeof fetch = fetch): Promise<FixOutcome> {
  const started = Date.now();
  const fixId = `stop:${cluster}`;
  try {
    const res = await fetchImpl(`${server.url}${routePath('stop', { name: cluster })}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      signal: AbortSignal.timeout(TRAY_CLUSTER_CALL_MS),
    });
    const body = (await res.json().catch(() => ({}))) as { error?: unknown };
    if (res.ok) return { ok: true, fixId, message: `stopping ${cluster}`, durationMs: Date.now() - started };
    const why = typeof body.error === 'string' ? body.error : `the server answered ${res.status}`;
    return { ok: false, fixId, message: why, durationMs: Date.now() - started };
  } catch (e) {
    return { ok: false, fixId, message: `the Kindtray server did not answer: ${(e as Error).message}`, durationMs: Date.now() - started };
  }
}
