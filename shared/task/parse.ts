// Task text (YAML or JSON) → a TaskSpec, or the issues that stop it, each with
// its path and, when the text shows it, line and column. Pure and bounded: the
// answer for any text up to the size limit comes in milliseconds.

import { capIssues } from './issues.ts';
import type { SourcePositions, ValidationIssue } from './issues.ts';
import { MAX_TASK_PORTS } from './ports.ts';
import { validateTaskSource } from './schema.ts';
import type { TaskSpec } from './schema.ts';
import { SOURCE_LIMITS, readTaskSource } from './source.ts';
import type { SourceLimits } from './source.ts';

export interface ParseTaskOptions extends Partial<SourceLimits> {
  /** Most ports one task may ask for. Default MAX_TASK_PORTS. */
  maxPorts?: number;
  /** Most errors (and, separately, warnings) listed; the rest are counted in a last issue. Default 50. */
  maxIssues?: number;
}

export interface ParseTaskResult {
  /** Present exactly when there are no errors. */
  task?: TaskSpec;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Where each known field was written (`resources.infra` → line 3, column 10), for checkAgainstSnapshot. */
  positions: SourcePositions;
}

export const TASK_LIMITS = { ...SOURCE_LIMITS, maxPorts: MAX_TASK_PORTS, maxIssues: 50 } as const;

export function parseTask(text: string, opts: ParseTaskOptions = {}): ParseTaskResult {
  const limits: SourceLimits = {
    maxBytes: opts.maxBytes ?? TASK_LIMITS.maxBytes,
    maxDepth: opts.maxDepth ?? TASK_LIMITS.maxDepth,
    maxAliasCount: opts.maxAliasCount ?? TASK_LIMITS.maxAliasCount,
    maxAliasExpansion: opts.maxAliasExpansion ?? TASK_LIMITS.maxAliasExpansion,
    maxValues: opts.maxValues ?? TASK_LIMITS.maxValues,
  };
  const maxIssues = opts.maxIssues ?? TASK_LIMITS.maxIssues;
  const source = readTaskSource(text, limits);
  if (source.root === undefined) {
    return { errors: capIssues(source.errors, maxIssues, 'error'), warnings: capIssues(source.warnings, maxIssues, 'warning'), positions: {} };
  }
  // The tree was read (perhaps with a duplicate key left out): check it, to list every problem at once.
  const schema = validateTaskSource(source.root, { maxPorts: opts.maxPorts ?? TASK_LIMITS.maxPorts });
  const errors = capIssues(inTextOrder([...source.errors, ...schema.errors]), maxIssues, 'error');
  const warnings = capIssues(inTextOrder([...source.warnings, ...schema.warnings]), maxIssues, 'warning');
  return schema.task !== undefined && errors.length === 0
    ? { task: schema.task, errors, warnings, positions: schema.positions }
    : { errors, warnings, positions: schema.positions };
}

/** Issues in the order their places appear in the text, so a reader goes down the file once; unplaced ones last. */
function inTextOrder(list: ValidationIssue[]): ValidationIssue[] {
  const key = (i: ValidationIssue): number => (i.line === undefined ? Number.MAX_SAFE_INTEGER : i.line * 1e6 + (i.column ?? 0));
  return [...list].sort((a, b) => key(a) - key(b));
}
