// Validation, the one way everything runs it (the API worker, the dev mock,
// tests): parse the text, apply an `--infra` override, then check the task
// against a health snapshot, with every issue placed in the text. Pure: the
// caller brings the snapshot. The worker, which may have to wait for a fresh
// one, runs the two steps apart (prepareTask, then checkPreparedTask) so that a
// text that does not parse is answered at once.

import type { TaskEndpoint, ValidateResponse } from '../api.ts';
import type { HealthSnapshot } from '../snapshot.ts';
import { checkAgainstSnapshot, checkStageResources } from './cluster-check.ts';
import type { ClusterCheckOptions, PortPlan } from './cluster-check.ts';
import { parseInfra } from './fields.ts';
import { childPath, issue } from './issues.ts';
import type { SourcePositions, ValidationIssue } from './issues.ts';
import { parseTask } from './parse.ts';
import type { ParseTaskOptions } from './parse.ts';
import type { TaskSpec } from './schema.ts';
import { applyLaunchValues } from './launch-values.ts';
import type { LaunchValues } from './launch-values.ts';

/** A snapshot older than this says nothing about a cluster: the worker refreshes it first, and the dashboard says so. */
export const MAX_SNAPSHOT_AGE_MS = 30_000;

export interface ValidateTaskOptions extends Omit<ClusterCheckOptions, 'positions'> {
  /** Where to run (`k8s/CONTEXT`, the CLI's `--infra`, `?infra=`), over the file's own resources.infra. */
  infra?: string;
  parse?: ParseTaskOptions;
  /** Values the launch gives for envs and secrets (`--env`, `--secret`, the Launch page's fields). */
  launch?: LaunchValues;
}

/** The HTTP answer (ValidateResponse), plus what a launch needs of it. */
export interface ValidateTaskResult extends ValidateResponse {
  task?: TaskSpec;
  /** A pipeline: every task as it will run (the first is `task`), each with the launch's values and its resources chosen. */
  stages?: TaskSpec[];
  /** How each port would be reached: the launcher's plan, which `endpoints` shows. */
  ports: PortPlan[];
}

/** A text parsed and ready for the cluster check, or the answer already (it did not parse). */
export type PreparedTask =
  | { ok: true; task: TaskSpec; errors: ValidationIssue[]; warnings: ValidationIssue[]; positions: SourcePositions; pipelineTasks?: number; laterStages?: TaskSpec[] }
  | { ok: false; result: ValidateTaskResult };

export function endpointsOf(plan: readonly PortPlan[]): TaskEndpoint[] {
  return plan.map((p) => ({
    port: p.port,
    ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
    ...(p.url !== undefined ? { url: p.url } : {}),
    reachable: p.reachable === 'yes',
    how: p.how,
  }));
}

/** Step one, which needs no snapshot. A task that does not parse is not checked against the cluster: its errors come alone. */
export function prepareTask(text: string, opts: Pick<ValidateTaskOptions, 'infra' | 'parse' | 'launch'> = {}): PreparedTask {
  const parsed = parseTask(text, opts.parse);
  if (!parsed.task) return { ok: false, result: { ok: false, errors: parsed.errors, warnings: parsed.warnings, ports: [] } };
  const infra = opts.infra !== undefined ? parseInfra(opts.infra) : {};
  if ('error' in infra) {
    return { ok: false, result: { ok: false, errors: [{ path: 'infra', message: `--infra: ${infra.error}` }], warnings: parsed.warnings, ports: [] } };
  }
  if (infra.cloud !== undefined) {
    const message = `--infra: ${infra.cloud} is a cloud; Kindtray launches on Kubernetes: write k8s or k8s/CONTEXT`;
    return { ok: false, result: { ok: false, errors: [{ path: 'infra', message }], warnings: parsed.warnings, ports: [] } };
  }
  // An --infra context replaces where the file says to run, a cloud included.
  const { cloud: _cloud, ...resources } = parsed.task.resources;
  const placed: TaskSpec = infra.context ? { ...parsed.task, resources: { ...resources, context: infra.context } } : parsed.task;
  const given = opts.launch ? applyLaunchValues(placed, opts.launch) : { task: placed, errors: [] };
  // A pipeline's later tasks take the launch's values too (SkyPilot gives --env and --secret to every task); their issues say which task.
  const tasks = parsed.pipeline?.tasks ?? [];
  const laterErrors: ValidationIssue[] = [];
  const laterStages = tasks.slice(1).map((spec, i) => {
    const later = opts.launch ? applyLaunchValues(spec, opts.launch) : { task: spec, errors: [] };
    const which = `task ${i + 2} of ${tasks.length}`;
    laterErrors.push(...[...later.errors, ...requiredIssues(later.task, {})].map((e) => ofStage(which, e)));
    return later.task;
  });
  const pipeline = parsed.pipeline ? { pipelineTasks: tasks.length, laterStages } : {};
  return { ok: true, task: given.task, errors: [...parsed.errors, ...given.errors, ...laterErrors], warnings: parsed.warnings, positions: parsed.positions, ...pipeline };
}

/** An issue of a pipeline's later task: its field, and which task in the message (positions are the first task's). */
function ofStage(which: string, e: { path: string; message: string }): ValidationIssue {
  return { path: e.path, message: `${which}: ${e.message}` };
}

/** Step two: the prepared task against a snapshot `snapshotAgeMs` old. Never asks a cluster. */
export function checkPreparedTask(
  prepared: Extract<PreparedTask, { ok: true }>,
  snap: HealthSnapshot,
  opts: Omit<ValidateTaskOptions, 'infra' | 'parse' | 'launch'>,
): ValidateTaskResult {
  const check = checkAgainstSnapshot(prepared.task, snap, { ...opts, positions: prepared.positions });
  const required = prepared.task.requiredAtLaunch;
  const errors = [...prepared.errors, ...check.errors, ...requiredIssues(prepared.task, prepared.positions)];
  const warnings = [...prepared.warnings, ...check.warnings];
  const first = check.task ?? prepared.task;
  let stages: TaskSpec[] | undefined;
  if (prepared.laterStages) {
    // The later tasks run where the first does: checked against the same nodes, once that target can run tasks at all.
    const target = check.errors.length === 0 ? check.target : undefined;
    const total = prepared.laterStages.length + 1;
    stages = [first];
    for (const [i, spec] of prepared.laterStages.entries()) {
      const which = `task ${i + 2} of ${total}`;
      if (!target) {
        stages.push(spec);
        continue;
      }
      const stage = checkStageResources(spec, snap, target);
      errors.push(...stage.errors.map((e) => ofStage(which, e)));
      warnings.push(...stage.warnings.map((w) => ofStage(which, w)));
      stages.push(stage.task);
    }
  }
  return {
    ok: errors.length === 0,
    task: first,
    ...(stages && { stages }),
    ...(check.chosen && { chosenResources: check.chosen }),
    ...(required && { requiredAtLaunch: required }),
    ...(prepared.pipelineTasks !== undefined && { pipelineTasks: prepared.pipelineTasks }),
    errors,
    warnings,
    ...(check.target ? { target: check.target } : {}),
    ports: check.ports,
    endpoints: endpointsOf(check.ports),
    snapshotAgeMs: opts.snapshotAgeMs,
  };
}

/** A launch cannot run with a value the file leaves null: each is an error on its field until a launch can give it. */
function requiredIssues(task: TaskSpec, positions: SourcePositions): ValidationIssue[] {
  const r = task.requiredAtLaunch;
  if (!r) return [];
  const one = (kind: 'envs' | 'secrets', name: string): ValidationIssue => {
    const path = childPath(kind, name);
    const at = positions[path];
    return issue(path, `${name} is required at launch: the file leaves it null; give it with --${kind === 'envs' ? 'env' : 'secret'} ${name}=… or in the Launch page`, at);
  };
  return [...r.envs.map((n) => one('envs', n)), ...r.secrets.map((n) => one('secrets', n))];
}

export function validateTask(text: string, snap: HealthSnapshot, opts: ValidateTaskOptions): ValidateTaskResult {
  const { infra, parse, launch, ...checkOpts } = opts;
  const prepared = prepareTask(text, { ...(infra !== undefined ? { infra } : {}), ...(parse ? { parse } : {}), ...(launch ? { launch } : {}) });
  return prepared.ok ? checkPreparedTask(prepared, snap, checkOpts) : prepared.result;
}

/** The HTTP body of an answer: what a launch keeps to itself (the spec, the port plan) taken out. */
export function validateResponseOf(v: ValidateTaskResult): ValidateResponse {
  const { task: _task, ports: _ports, stages: _stages, ...body } = v;
  return body;
}
