// Task text (YAML or JSON) → a TaskSpec, or the issues that stop it, each with
// its path and, when the text shows it, line and column. Pure and bounded: the
// answer for any text up to the size limit comes in milliseconds.

import { capIssues } from './issues.ts';
import type { SourcePositions, ValidationIssue } from './issues.ts';
import { MAX_TASK_PORTS } from './ports.ts';
import { validateTaskSource } from './schema.ts';
import type { TaskSpec } from './schema.ts';
import { SOURCE_LIMITS, readTaskDocuments } from './source.ts';
import type { SourceLimits, SourceValue } from './source.ts';

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
  /** A multi-document file (a SkyPilot pipeline): every task in order; `task` is the first. */
  pipeline?: { name?: string; tasks: TaskSpec[] };
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
  const source = readTaskDocuments(text, limits);
  if (source.roots === undefined) {
    return { errors: capIssues(source.errors, maxIssues, 'error'), warnings: capIssues(source.warnings, maxIssues, 'warning'), positions: {} };
  }
  // The tree was read (perhaps with a duplicate key left out): check it, to list every problem at once.
  const maxPorts = opts.maxPorts ?? TASK_LIMITS.maxPorts;
  const pipeline = source.roots.length > 1 ? readPipeline(source.roots, maxPorts) : undefined;
  const schema = pipeline ?? validateTaskSource(source.roots[0] ?? { kind: 'scalar', value: null, text: '' }, { maxPorts });
  const errors = capIssues(inTextOrder([...source.errors, ...schema.errors]), maxIssues, 'error');
  const warnings = capIssues(inTextOrder([...source.warnings, ...schema.warnings]), maxIssues, 'warning');
  if (schema.task === undefined || errors.length > 0) return { errors, warnings, positions: schema.positions };
  return { task: schema.task, errors, warnings, positions: schema.positions, ...(pipeline?.pipeline && { pipeline: pipeline.pipeline }) };
}

/**
 * A pipeline, as SkyPilot reads one: documents run in order, the first one a
 * header when it holds only a name. Issues of task N say so; positions are the
 * first task's (the cluster check places issues of the task it checks).
 */
function readPipeline(roots: SourceValue[], maxPorts: number) {
  const first = roots[0];
  const header = first?.kind === 'map' && first.entries.length === 1 && first.entries[0]?.key === 'name' ? first.entries[0] : undefined;
  const docs = header ? roots.slice(1) : roots;
  const results = docs.map((root) => validateTaskSource(root, { maxPorts }));
  const label = (i: number, list: ValidationIssue[]) => list.map((e) => ({ ...e, message: `task ${i + 1} of ${docs.length}: ${e.message}` }));
  const errors = results.flatMap((r, i) => label(i, r.errors));
  const warnings = results.flatMap((r, i) => label(i, r.warnings));
  const tasks = results.flatMap((r) => (r.task ? [r.task] : []));
  const name = header?.value.kind === 'scalar' && typeof header.value.value === 'string' ? header.value.value : undefined;
  return {
    ...(tasks.length === docs.length && tasks[0] ? { task: tasks[0] } : {}),
    errors,
    warnings,
    positions: results[0]?.positions ?? {},
    pipeline: { ...(name !== undefined && { name }), tasks },
  };
}

/** Issues in the order their places appear in the text, so a reader goes down the file once; unplaced ones last. */
function inTextOrder(list: ValidationIssue[]): ValidationIssue[] {
  const key = (i: ValidationIssue): number => (i.line === undefined ? Number.MAX_SAFE_INTEGER : i.line * 1e6 + (i.column ?? 0));
  return [...list].sort((a, b) => key(a) - key(b));
}
