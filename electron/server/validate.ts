// Validation as the API answers it: shared/task's validateTask, run in its two
// steps around the wait for a fresh snapshot (a text that does not parse is
// answered at once), never against a cluster. The whole answer comes within
// DEADLINES.validation whatever the cluster does.

import { DEADLINES } from '../../shared/constants.ts';
import { checkPreparedTask, MAX_SNAPSHOT_AGE_MS, prepareTask, type LaunchValues, type ValidateTaskResult } from '../../shared/task/index.ts';
import type { SnapshotCache } from './snapshot-cache.ts';

export async function validateWithFreshSnapshot(
  text: string,
  cache: SnapshotCache,
  opts: { usedNodePorts?: number[]; infra?: string; deadlineMs?: number; launch?: LaunchValues } = {},
): Promise<ValidateTaskResult> {
  const started = Date.now();
  const deadline = opts.deadlineMs ?? DEADLINES.validation;
  const prepared = prepareTask(text, { ...(opts.infra !== undefined ? { infra: opts.infra } : {}), ...(opts.launch ? { launch: opts.launch } : {}) });
  if (!prepared.ok) return prepared.result;
  // Leave a margin under the deadline for the check itself and the answer.
  const fresh = await cache.fresh({ maxAgeMs: MAX_SNAPSHOT_AGE_MS, waitMs: Math.max(0, deadline - (Date.now() - started) - 150) });
  if (!fresh) {
    return {
      ok: false,
      task: prepared.task,
      errors: [{ path: 'resources', message: 'cluster state unknown: Kindtray has not finished its first look at Docker and the clusters; try again in a moment' }],
      warnings: prepared.warnings,
      ports: [],
    };
  }
  return checkPreparedTask(prepared, fresh.snapshot, {
    snapshotAgeMs: fresh.ageMs,
    maxAgeMs: MAX_SNAPSHOT_AGE_MS,
    usedNodePorts: opts.usedNodePorts ?? [],
  });
}
