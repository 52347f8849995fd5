// Validation as the API answers it: parse and check the task text, then check
// it against the latest health snapshot, never against a cluster. The whole
// answer comes within DEADLINES.validation whatever the cluster does.

import type { TaskEndpoint, ValidateResponse } from '../../shared/api.ts';
import { DEADLINES } from '../../shared/constants.ts';
import { checkAgainstSnapshot, type PortPlan } from '../../shared/task/cluster-check.ts';
import { parseInfra } from '../../shared/task/fields.ts';
import { parseTask } from '../../shared/task/parse.ts';
import type { TaskSpec } from '../../shared/task/schema.ts';
import type { SnapshotCache } from './snapshot-cache.ts';

/** A snapshot older than this is refreshed before a cluster check reads it. */
export const MAX_SNAPSHOT_AGE_MS = 30_000;

export interface Validated extends ValidateResponse {
  task?: TaskSpec;
  plan?: PortPlan[];
}

export function endpointsOf(plan: readonly PortPlan[]): TaskEndpoint[] {
  return plan.map((p) => ({
    port: p.port,
    ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
    ...(p.url !== undefined ? { url: p.url } : {}),
    reachable: p.reachable === 'yes',
    how: p.how,
  }));
}

export async function validateTask(
  text: string,
  cache: SnapshotCache,
  opts: { usedNodePorts?: number[]; infra?: string; deadlineMs?: number } = {},
): Promise<Validated> {
  const started = Date.now();
  const deadline = opts.deadlineMs ?? DEADLINES.validation;
  const parsed = parseTask(text);
  if (!parsed.task) return { ok: false, errors: parsed.errors, warnings: parsed.warnings };
  const infra = opts.infra !== undefined ? parseInfra(opts.infra) : {};
  if ('error' in infra) return { ok: false, errors: [{ path: 'infra', message: `--infra: ${infra.error}` }], warnings: parsed.warnings };
  const task: TaskSpec = infra.context ? { ...parsed.task, resources: { ...parsed.task.resources, context: infra.context } } : parsed.task;
  // Leave a margin under the deadline for the check itself and the answer.
  const fresh = await cache.fresh({ maxAgeMs: MAX_SNAPSHOT_AGE_MS, waitMs: Math.max(0, deadline - (Date.now() - started) - 150) });
  if (!fresh) {
    return {
      ok: false,
      task,
      errors: [{ path: 'resources', message: 'cluster state unknown: Kindtray has not finished its first look at Docker and the clusters; try again in a moment' }],
      warnings: parsed.warnings,
    };
  }
  const check = checkAgainstSnapshot(task, fresh.snapshot, {
    snapshotAgeMs: fresh.ageMs,
    maxAgeMs: MAX_SNAPSHOT_AGE_MS,
    usedNodePorts: opts.usedNodePorts ?? [],
    positions: parsed.positions,
  });
  const errors = [...parsed.errors, ...check.errors];
  return {
    ok: errors.length === 0,
    task,
    plan: check.ports,
    errors,
    warnings: [...parsed.warnings, ...check.warnings],
    ...(check.target ? { target: check.target } : {}),
    endpoints: endpointsOf(check.ports),
    snapshotAgeMs: fresh.ageMs,
  };
}
