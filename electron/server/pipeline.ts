// Pipelines: a multi-document task file runs as one task whose stages run in
// order, each after the previous one succeeded, as SkyPilot runs a chain DAG
// (`sky jobs launch` of a multi-document YAML: an optional first document
// holding only `name:`, then one task a document). A failing stage stops the
// pipeline; the stages after it never start. The store keeps the current
// stage's index and each stage's spec and times; the stages' states are
// derived from those and the task's state (stage-records.ts), so they can
// never disagree. Pure.

import { parseTask } from '../../shared/task/index.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import { launchPatch, podNameFor } from './pod-plan.ts';
import { endpointsFromPlan } from './task-model.ts';
import type { StoredStage, StoredTask, TaskPatch } from './task-model.ts';

/** A stage's name: its task's, or `stage-N` (from 1). */
export const stageName = (spec: TaskSpec, index: number): string => spec.name ?? `stage-${index + 1}`;

/**
 * The stages of a pipeline as validation made them (`specs`: the launch's
 * values given, resources chosen, files resolved), named from the text; the
 * pipeline's own name from its header. Undefined when the text is not a
 * pipeline.
 */
export function pipelineStages(text: string, specs: readonly TaskSpec[]): { name?: string; stages: { name: string; spec: TaskSpec }[] } | undefined {
  if (specs.length < 2) return undefined;
  const name = parseTask(text).pipeline?.name;
  return { ...(name !== undefined && { name }), stages: specs.map((spec, index) => ({ name: stageName(spec, index), spec })) };
}

/** The stage after the current one, or undefined when the current one is the last (or the task is no pipeline). */
export function nextStage(task: Pick<StoredTask, 'stagePlan' | 'stage'>): { index: number; stage: StoredStage } | undefined {
  const index = (task.stage ?? 0) + 1;
  const stage = task.stagePlan?.[index];
  return stage ? { index, stage } : undefined;
}

/**
 * What the task becomes when it moves on to `next`: its spec, nodes, no Pods
 * yet, and endpoints. The next stage asks for the NodePorts this one planned,
 * for the ports they share (this stage's Service is gone by then).
 */
export function nextStagePatch(task: StoredTask, next: { index: number; stage: StoredStage }, now: string): TaskPatch {
  const after = { ...task, stage: next.index, spec: next.stage.spec };
  const ports = next.stage.spec.resources.ports;
  const endpoints = endpointsFromPlan(task.portPlan.filter((p) => ports.includes(p.port)));
  for (const port of ports.filter((p) => !endpoints.some((e) => e.port === p))) {
    endpoints.push({ port, reachable: false, how: `kubectl port-forward svc/${podNameFor(after)} ${port}` });
  }
  return {
    ...launchPatch(after),
    stage: next.index,
    spec: next.stage.spec,
    stagePlan: planAdvanced(task.stagePlan ?? [], task.stage ?? 0, now),
    podName: undefined,
    exitCode: undefined,
    endpoints,
  };
}

/** The plan with the current stage finished and the next one started at `now`. */
export function planAdvanced(plan: readonly StoredStage[], from: number, now: string): StoredStage[] {
  return plan.map((s, i) => (i === from ? { ...s, finishedAt: now } : i === from + 1 ? { ...s, startedAt: now } : s));
}
