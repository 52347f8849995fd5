// A pipeline's stages as the user sees them, derived from what the store keeps
// (each stage's spec and times, the current stage's index) and the task's
// state, so they can never disagree. Pure and light: the store reads it.

import type { TaskRecord, TaskStage } from '../../shared/api.ts';
import type { StoredStage } from './task-model.ts';

/** The stages as the user sees them: those before the current one succeeded, the current one follows the task, the rest wait or never start. */
export function stageRecords(plan: readonly StoredStage[], task: Pick<TaskRecord, 'state' | 'reason' | 'stage' | 'startedAt' | 'finishedAt'>): TaskStage[] {
  const current = task.stage ?? 0;
  const final = task.state === 'failed' || task.state === 'cancelled';
  return plan.map((s, index): TaskStage => {
    // The first stage starts with the task.
    const startedAt = s.startedAt ?? (index === 0 ? task.startedAt : undefined);
    const base = { index, name: s.name, numNodes: s.spec.numNodes, ...(startedAt && { startedAt }), ...(s.finishedAt && { finishedAt: s.finishedAt }) };
    if (index < current) return { ...base, state: 'succeeded' };
    if (index > current) {
      if (!final) return { ...base, state: 'pending' };
      const why = task.state === 'failed' ? `stage ${current + 1} (${plan[current]?.name ?? '?'}) failed` : 'the task was cancelled';
      return { ...base, state: 'cancelled', reason: `not started: ${why}` };
    }
    const state = task.state === 'waiting' ? 'pending' : task.state;
    const finishedAt = base.finishedAt ?? (final || state === 'succeeded' ? task.finishedAt : undefined);
    return { ...base, state, ...(task.reason && (final || state === 'succeeded') && { reason: task.reason }), ...(finishedAt && { finishedAt }) };
  });
}
