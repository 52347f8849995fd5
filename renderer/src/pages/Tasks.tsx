// Tasks: the list (state, where it runs, age, endpoints as links) and one
// task's page with its spec, its logs as they stream, and cancel.

import { useEffect, useState } from 'react';
import { isFinalTaskState, type TaskEndpoint, type TaskState } from '../../../shared/api.ts';
import { endpointReadiness } from '../../../shared/view-words.ts';
import { Badge, Empty, Facts, Failure, Loading, Spinner, TableHead } from '../components/common.tsx';
import { TASK_TONE, formatAgo, formatDateTime, formatDuration, useNow } from '../format.ts';
import { href } from '../route.ts';
import { taskList } from '../store/state.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';
import { TaskLoadImage } from './ClustersDialogs.tsx';
import { TaskLogView } from './TaskLogs.tsx';
import { TaskNodes, TaskStages } from './TaskStages.tsx';

export function TasksPage() {
  const controller = useController();
  const tasks = useDashboard((s) => s.tasks);
  const list = useDashboard((s) => s.taskList);
  const now = useNow(5_000);
  useEffect(() => {
    void controller.loadTasks();
  }, [controller]);
  const rows = taskList(tasks);

  return (
    <>
      <div className="page-head">
        <h1>Tasks</h1>
        <a className="button primary" href={href({ page: 'launch' })}>
          Launch a task
        </a>
      </div>
      {list.state === 'error' && rows.length > 0 && (
        <div className="notice error" role="alert" data-testid="tasks-stale">
          The task list could not be refreshed: {list.failure.error.error}. What is shown may be out of date.
        </div>
      )}
      {rows.length === 0 ? (
        list.state === 'error' ? (
          <Failure title="The task list cannot be loaded" failure={list.failure} onRetry={() => void controller.loadTasks()} />
        ) : list.state === 'ok' ? (
          <Empty title="No tasks yet" testId="tasks-empty">
            Launch one from the <a href={href({ page: 'launch' })}>Launch</a> page, with <code>kindtray launch task.yaml</code>, or with{' '}
            <code>POST /api/tasks</code>.
          </Empty>
        ) : (
          <Loading what="tasks" />
        )
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="task-list">
            <TableHead columns={['Task', 'State', 'Runs on', 'Age', 'Endpoints']} />
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-testid={`task-row-${t.id}`} data-task-id={t.id} data-state={t.state}>
                  <td>
                    <a href={href({ page: 'task', id: t.id })} className="strong">
                      {t.name}
                    </a>
                    <div className="muted small mono">{t.id}</div>
                  </td>
                  <td>
                    <Badge tone={TASK_TONE[t.state]}>{t.state}</Badge>
                    {t.reason && <div className="muted small reason">{t.reason}</div>}
                  </td>
                  <td>
                    {t.cluster ? (
                      <>
                        {t.cluster}
                        <div className="muted small">
                          <code>{t.context}</code>
                        </div>
                      </>
                    ) : (
                      <code>{t.context}</code>
                    )}
                  </td>
                  <td title={formatDateTime(t.createdAt)}>{formatAgo(now - Date.parse(t.createdAt))}</td>
                  <td>
                    <Endpoints endpoints={t.endpoints} state={t.state} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** A readiness probe's verdict beside an endpoint: amber while it starts, green once ready; nothing without a probe. */
function Readiness({ endpoint, state }: { endpoint: TaskEndpoint; state: TaskState }) {
  const word = endpointReadiness(endpoint, state);
  if (!word) return null;
  return (
    <>
      {' '}
      <Badge tone={word === 'ready' ? 'ok' : 'warn'} testId="endpoint-readiness">
        {word === 'ready' ? 'ready' : 'starting: readiness probe not passing yet'}
      </Badge>
    </>
  );
}

export function Endpoints({ endpoints, state }: { endpoints: TaskEndpoint[]; state: TaskState }) {
  if (endpoints.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="endpoints">
      {endpoints.map((e) => (
        <li key={e.port} data-testid="task-endpoint" data-port={e.port}>
          {e.url ? (
            <a href={e.url} target="_blank" rel="noopener noreferrer" title={e.how}>
              {e.url.replace(/^https?:\/\//, '')}
            </a>
          ) : (
            <span title={e.how} className={e.reachable ? undefined : 'muted'}>
              port {e.port}
              {!e.reachable && ' (not published)'}
            </span>
          )}
          <Readiness endpoint={e} state={state} />
        </li>
      ))}
    </ul>
  );
}

export function TaskPage({ id }: { id: string }) {
  const controller = useController();
  const task = useDashboard((s) => s.tasks[id]);
  const [failure, setFailure] = useState<ApiFailure | undefined>();
  const [cancelling, setCancelling] = useState(false);
  const [cancelFailure, setCancelFailure] = useState<ApiFailure | undefined>();
  const [loaded, setLoaded] = useState(false);
  const now = useNow(1000);

  const load = () => {
    void controller.loadTask(id).then((f) => {
      setFailure(f);
      setLoaded(true);
    });
  };
  useEffect(load, [controller, id]);

  if (!task) {
    if (!loaded) return <Loading what="the task" />;
    if (failure?.status === 404) {
      return (
        <Empty title={`No task ${id}`} testId="task-not-found">
          It may have been removed. See <a href={href({ page: 'tasks' })}>all tasks</a>.
        </Empty>
      );
    }
    if (failure) return <Failure title="The task cannot be loaded" failure={failure} onRetry={load} />;
  }
  if (!task) return <Loading what="the task" />;

  const final = isFinalTaskState(task.state);
  const cancel = async () => {
    setCancelling(true);
    setCancelFailure(await controller.cancelTask(task.id));
    setCancelling(false);
  };
  const ran = task.startedAt ? (task.finishedAt ? Date.parse(task.finishedAt) : now) - Date.parse(task.startedAt) : undefined;

  return (
    <div data-testid="task-page" data-task-id={task.id} data-state={task.state}>
      <p className="crumbs">
        <a href={href({ page: 'tasks' })}>Tasks</a> / <span className="mono">{task.id}</span>
      </p>
      <div className="page-head">
        <h1>
          {task.name} <Badge tone={TASK_TONE[task.state]} testId="task-state">{task.state}</Badge>
        </h1>
        <TaskLoadImage task={task} />
        {!final && (
          <button type="button" className="button danger" onClick={() => void cancel()} disabled={cancelling} data-testid="cancel-task">
            {cancelling && <Spinner />}
            {cancelling ? 'Cancelling…' : 'Cancel task'}
          </button>
        )}
      </div>
      {failure && <Failure title="This task could not be refreshed" failure={failure} onRetry={load} />}
      {cancelFailure && <Failure title="The task could not be cancelled" failure={cancelFailure} onRetry={() => void cancel()} />}
      {task.reason && (
        <div className={`notice ${task.state === 'failed' ? 'error' : task.state === 'waiting' ? 'warn' : ''}`} data-testid="task-reason">
          {{ waiting: 'Waiting: ', failed: 'Failed: ', cancelled: 'Cancelled: ' }[task.state as string] ?? ''}
          {task.reason}
        </div>
      )}
      <div className="task-grid">
        <section className="card">
          <h2>Details</h2>
          <Facts
            rows={[
              ['Cluster', task.cluster],
              ['Context', <code key="c">{task.context}</code>],
              ['Namespace', task.namespace],
              ['Pod', task.podName ? <code key="p">{task.podName}</code> : undefined],
              ['Service', task.serviceName ? <code key="s">{task.serviceName}</code> : undefined],
              ['Created', formatDateTime(task.createdAt)],
              ['Started', task.startedAt ? formatDateTime(task.startedAt) : undefined],
              ['Finished', task.finishedAt ? formatDateTime(task.finishedAt) : undefined],
              ['Ran for', ran !== undefined ? formatDuration(ran) : undefined],
              ['Exit code', task.exitCode],
            ]}
          />
          <TaskStages task={task} />
          <TaskNodes task={task} />
          <h3>Endpoints</h3>
          {task.endpoints.length === 0 ? (
            <p className="muted small">This task asks for no ports.</p>
          ) : (
            <ul className="endpoint-details">
              {task.endpoints.map((e) => (
                <li key={e.port} data-testid="task-endpoint" data-port={e.port}>
                  {e.url ? (
                    <a href={e.url} target="_blank" rel="noopener noreferrer">
                      {e.url}
                    </a>
                  ) : (
                    <strong>port {e.port}</strong>
                  )}
                  <Readiness endpoint={e} state={task.state} />
                  <div className="muted small">{e.how}</div>
                </li>
              ))}
            </ul>
          )}
          <h3>Spec</h3>
          <pre className="code" data-testid="task-spec">
            {task.source}
          </pre>
        </section>
        <TaskLogView task={task} />
      </div>
    </div>
  );
}

