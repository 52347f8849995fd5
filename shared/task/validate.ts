// Validation as the API worker and the CLI run it: parse the text, then check
// the task against the latest health snapshot, with every issue placed in the text.

import { checkAgainstSnapshot } from './cluster-check.ts';
import type { ClusterCheckOptions, PortPlan, TaskTarget } from './cluster-check.ts';
import type { ValidationIssue } from './issues.ts';
import { parseTask } from './parse.ts';
import type { ParseTaskOptions } from './parse.ts';
import type { TaskSpec } from './schema.ts';
import type { HealthSnapshot } from '../snapshot.ts';

export interface ValidateTaskOptions extends Omit<ClusterCheckOptions, 'positions'> {
  parse?: ParseTaskOptions;
}

export interface ValidateTaskResult {
  ok: boolean;
  task?: TaskSpec;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  target?: TaskTarget;
  ports: PortPlan[];
}

/** A task that does not parse is not checked against the cluster: its errors come alone. */
export function validateTask(text: string, snap: HealthSnapshot, opts: ValidateTaskOptions): ValidateTaskResult {
  const { parse, ...checkOpts } = opts;
  const parsed = parseTask(text, parse);
  if (parsed.task === undefined) return { ok: false, errors: parsed.errors, warnings: parsed.warnings, ports: [] };
  const checked = checkAgainstSnapshot(parsed.task, snap, { ...checkOpts, positions: parsed.positions });
  const out: ValidateTaskResult = {
    ok: checked.errors.length === 0,
    task: parsed.task,
    errors: checked.errors,
    warnings: [...parsed.warnings, ...checked.warnings],
    ports: checked.ports,
  };
  if (checked.target) out.target = checked.target;
  return out;
}
