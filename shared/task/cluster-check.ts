// The cluster-aware half of validation, pure: it reads only a HealthSnapshot
// and its age (design principle 3: validation reads; probes refresh). It picks
// the target context (cluster-target.ts), says why that target cannot run
// tasks now, root cause first, with the fix that helps (target-problems.ts),
// checks cpus, memory and accelerators against the nodes, choosing among
// any_of / ordered sets (resource-choice.ts), and plans how
// each task port will be reached from this machine (port-plan.ts).
//
// Issue paths: problems with the target's health are on `resources` (the fault
// table's "error on resources with cause"), whatever the task wrote; problems
// with a value the task wrote are on that field (`resources.infra` for an
// unknown context, `resources.cpus`, `resources.ports`).

import type { HealthSnapshot } from '../snapshot.ts';
import { issue } from './issues.ts';
import type { IssueFix, SourcePositions, ValidationIssue } from './issues.ts';
import { findTarget } from './cluster-target.ts';
import { chooseResources, describeResources } from './resource-choice.ts';
import type { ChosenResources } from './resource-choice.ts';
import { planPorts } from './port-plan.ts';
import type { PortPlan } from './port-plan.ts';
import type { TaskSpec } from './schema.ts';
import { FIX, contextProblem, kindTargetProblem } from './target-problems.ts';

export type { PortPlan } from './port-plan.ts';
export type { ChosenResources } from './resource-choice.ts';

export interface ClusterCheckOptions {
  /** How old the snapshot is now. */
  snapshotAgeMs: number;
  /** Older than this, the snapshot says nothing: the answer is "cluster state unknown". */
  maxAgeMs: number;
  /** Mapped NodePorts already taken by other tasks on the target. */
  usedNodePorts?: readonly number[];
  /** parseTask's positions, so issues point into the text. */
  positions?: SourcePositions;
  /** The Service the launcher will create, for `kubectl port-forward svc/NAME` hints. Default: the task's name. */
  serviceName?: string;
}

export interface TaskTarget {
  context: string;
  /** The KinD cluster's name (`dev` for context `kind-dev`), when the target is a KinD cluster. */
  cluster?: string;
}

export interface ClusterCheckResult {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  target?: TaskTarget;
  ports: PortPlan[];
  /** The task with the resources chosen here (any_of / ordered, accelerators), when the target's nodes were checked. */
  task?: TaskSpec;
  chosen?: ChosenResources;
}

export function checkAgainstSnapshot(task: TaskSpec, snap: HealthSnapshot, opts: ClusterCheckOptions): ClusterCheckResult {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const at = (path: string) => opts.positions?.[path];
  const error = (path: string, message: string, fix?: IssueFix, waitable?: true) => errors.push({ ...issue(path, message, at(path), fix), ...(waitable && { waitable }) });
  const warn = (path: string, message: string) => warnings.push(issue(path, message, at(path)));

  const found = findTarget(task, snap);
  const target = 'error' in found ? undefined : found;
  let chosen: { task: TaskSpec; chosen?: ChosenResources } | undefined;
  const result = (ports: PortPlan[]): ClusterCheckResult => {
    const out: ClusterCheckResult = { errors, warnings, ports, ...(chosen && { task: chosen.task }), ...(chosen?.chosen && { chosen: chosen.chosen }) };
    if (target) out.target = { context: target.context, ...(target.kind && { cluster: target.kind.name }) };
    return out;
  };

  if (opts.snapshotAgeMs > opts.maxAgeMs) {
    const subject = target ? `, so ${target.context} cannot be confirmed ready` : '';
    error('resources', `cluster state unknown (last checked ${formatAge(opts.snapshotAgeMs)} ago)${subject}`, FIX.refresh);
    return result([]);
  }
  if ('error' in found) {
    error(found.path, found.error, found.fix);
    return result([]);
  }

  const t = found;
  if (task.resources.cloud !== undefined) {
    // On the field that named the cloud: infra, or the older cloud.
    const field = opts.positions?.['resources.cloud'] && !opts.positions['resources.infra'] ? 'resources.cloud' : 'resources.infra';
    error(field, `infra ${task.resources.cloud} is a cloud, and Kindtray launches on Kubernetes: run it on cluster ${t.context} (write infra: k8s/${t.context}, or launch with --infra k8s/${t.context})`);
  }
  const blocked = t.kind ? kindTargetProblem(t.context, t.kind, t.contextHealth, snap) : contextProblem(t.context, t.contextHealth);
  if (blocked?.severity === 'error') error('resources', blocked.message, blocked.fix, blocked.waitable);
  else if (blocked) warn('resources', blocked.message);

  let effective = task;
  if (t.kind?.health && blocked?.severity !== 'error') {
    const answer = chooseResources(task, t.context, t.kind.health);
    for (const e of answer.errors) error(e.path, e.message);
    for (const w of answer.warnings) warn(w.path, w.message);
    if (answer.errors.length === 0) {
      effective = { ...task, resources: answer.resources };
      chosen = { task: effective, ...(answer.chosen && { chosen: answer.chosen }) };
    }
  }

  const choice = task.resourceChoice;
  if (!t.kind && choice && choice.sets[0]) {
    // A context that is not KinD: its nodes are not in the snapshot, so the first set is the answer from what is known.
    const first = choice.sets[0];
    effective = { ...task, resources: first };
    chosen = { task: effective, chosen: { mode: choice.mode, index: 0, summary: describeResources(first) } };
    warn(`resources.${choice.mode}`, `the nodes of ${t.context} are not known here: the first set is used, unchecked`);
  }

  const plan = planPorts(effective, t, new Set(opts.usedNodePorts ?? []), opts.serviceName ?? effective.name);
  if (plan.warning && blocked?.severity !== 'error') warn('resources.ports', plan.warning);
  return result(plan.ports);
}

/**
 * A later stage of a pipeline: it runs where the first stage was checked to
 * run (`target`), so its resources are checked against the same nodes, any_of
 * and ordered chosen the same way. Its issues are on its own fields; the
 * caller says which stage they belong to.
 */
export function checkStageResources(task: TaskSpec, snap: HealthSnapshot, target: TaskTarget): { errors: { path: string; message: string }[]; warnings: { path: string; message: string }[]; task: TaskSpec } {
  const warnings: { path: string; message: string }[] = [];
  const named = task.resources.context;
  if (named !== undefined && named !== target.context) warnings.push({ path: 'resources.infra', message: `a pipeline runs where its first task runs: this task runs on ${target.context}, not ${named}` });
  const health = target.cluster !== undefined ? snap.clusters.find((c) => c.name === target.cluster) : undefined;
  if (health) {
    const answer = chooseResources(task, target.context, health);
    const chosen = answer.errors.length === 0 ? { ...task, resources: answer.resources } : task;
    return { errors: answer.errors, warnings: [...warnings, ...answer.warnings], task: chosen };
  }
  const first = task.resourceChoice?.sets[0];
  if (!first) return { errors: [], warnings, task };
  warnings.push({ path: `resources.${task.resourceChoice?.mode ?? 'any_of'}`, message: `the nodes of ${target.context} are not known here: the first set is used, unchecked` });
  return { errors: [], warnings, task: { ...task, resources: first } };
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
