// A task's page, its shape: a pipeline's stages in order (which one runs, which
// never started and why) and the nodes of the stage at hand (one Pod a node,
// rank 0 the head, each with its state and IP). A one-node task without
// stages shows neither.

import type { TaskNode, TaskRecord, TaskStage } from '../../../shared/api.ts';
import { Badge } from '../components/common.tsx';
import { TASK_TONE, formatDateTime } from '../format.ts';

const NODE_TONE: Record<TaskNode['state'], 'busy' | 'ok' | 'idle' | 'error'> = { pending: 'busy', running: 'ok', succeeded: 'idle', failed: 'error', cancelled: 'idle' };

export function TaskStages({ task }: { task: TaskRecord }) {
  const stages = task.stages;
  if (!stages || stages.length === 0) return null;
  return (
    <>
      <h3>Stages</h3>
      <ol className="endpoint-details task-stages" data-testid="task-stages">
        {stages.map((s: TaskStage) => (
          <li key={s.index} data-testid="task-stage" data-state={s.state} aria-current={s.index === task.stage && !['succeeded', 'failed', 'cancelled'].includes(task.state) ? 'step' : undefined}>
            <strong>{s.index + 1}. {s.name}</strong> <Badge tone={TASK_TONE[s.state]}>{s.state === 'cancelled' && !s.startedAt ? 'not started' : s.state}</Badge>
            {s.numNodes > 1 && <span className="muted small"> {s.numNodes} nodes</span>}
            {s.startedAt && <div className="muted small">started {formatDateTime(s.startedAt)}{s.finishedAt ? `, ended ${formatDateTime(s.finishedAt)}` : ''}</div>}
            {s.reason && <div className="muted small reason">{s.reason}</div>}
          </li>
        ))}
      </ol>
    </>
  );
}

export function TaskNodes({ task }: { task: TaskRecord }) {
  const nodes = task.nodes;
  if (!nodes || nodes.length < 2) return null;
  return (
    <>
      <h3>Nodes{task.stages ? ` of stage ${(task.stage ?? 0) + 1}` : ''}</h3>
      <ul className="endpoint-details task-nodes" data-testid="task-nodes">
        {nodes.map((n) => (
          <li key={n.rank} data-testid="task-node" data-rank={n.rank} data-state={n.state}>
            <strong>{n.rank === 0 ? 'head' : `worker ${n.rank}`}</strong> <Badge tone={NODE_TONE[n.state]}>{n.state}</Badge> <code>{n.podName}</code>
            {n.ip && <span className="muted small mono"> {n.ip}</span>}
            {n.reason && <div className="muted small reason">{n.reason}</div>}
          </li>
        ))}
      </ul>
    </>
  );
}
