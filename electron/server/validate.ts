// Validation as the API answers it: shared/task's validateTask, run in its two
// steps around the wait for a fresh snapshot (a text that does not parse is
// answered at once), never against a cluster. An answer that is only "not yet"
// (a context's first probe not back, Docker or the cluster starting) is judged
// again on each new snapshot. The whole answer comes within
// DEADLINES.validation whatever the cluster does.

import { DEADLINES } from '../../shared/constants.ts';
import { checkPreparedTask, MAX_SNAPSHOT_AGE_MS, prepareTask, type LaunchValues, type ValidateTaskResult } from '../../shared/task/index.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import type { SnapshotCache } from './snapshot-cache.ts';
import { withImageCheck } from './image-check.ts';

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
  const fresh = await cache.fresh({ maxAgeMs: MAX_SNAPSHOT_AGE_MS, waitMs: Math.max(0, deadline - (Date.now() - started) - ANSWER_MARGIN_MS) });
  if (!fresh) {
    return {
      ok: false,
      task: prepared.task,
      errors: [{ path: 'resources', message: 'cluster state unknown: Kindtray has not finished its first look at Docker and the clusters; try again in a moment' }],
      warnings: prepared.warnings,
      ports: [],
    };
  }
  const check = (at: { snapshot: HealthSnapshot; ageMs: number }) =>
    checkPreparedTask(prepared, at.snapshot, { snapshotAgeMs: at.ageMs, maxAgeMs: MAX_SNAPSHOT_AGE_MS, usedNodePorts: opts.usedNodePorts ?? [] });
  let result = check(fresh);
  // Only "not yet" (a first probe not back, something starting): judge again on each new snapshot
  // until the deadline, so the first command after a server starts just works.
  while (!result.ok && result.errors.length > 0 && result.errors.every((e) => e.waitable === true)) {
    const left = deadline - (Date.now() - started) - ANSWER_MARGIN_MS;
    if (left <= 0) break;
    const next = await nextSnapshot(cache, left);
    if (!next) break;
    result = check(next);
  }
  // A local image the cluster's nodes lack (image-check.ts), within what is left of the deadline.
  return withImageCheck(result, cache.current()?.snapshot, { deadlineMs: deadline - (Date.now() - started) - ANSWER_MARGIN_MS, positions: prepared.positions });
}

/** Kept under the deadline for the check itself and the answer. */
const ANSWER_MARGIN_MS = 150;

function nextSnapshot(cache: SnapshotCache, waitMs: number): Promise<{ snapshot: HealthSnapshot; ageMs: number } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, waitMs);
    const stop = cache.onChange(() => {
      clearTimeout(timer);
      stop();
      resolve(cache.current());
    });
  });
}
