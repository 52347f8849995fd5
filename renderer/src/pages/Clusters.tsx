// The Clusters page: every KinD cluster with its state (live from the
// snapshot, never green before its API has answered), Start / Stop / Delete,
// and the operation running on each; and one cluster's page (the tray's "Open
// in dashboard" lands here), with its nodes, ports, tasks, Load image and the
// Delete confirmation.

import { useEffect, useMemo, useState } from 'react';
import { NODE_PORT_MIN } from '../../../shared/contracts/cluster-routes.ts';
import type { ClustersResponse } from '../../../shared/contracts/clusters.ts';
import type { ClusterPageAction } from '../../../shared/dashboard-links.ts';
import { isFinalTaskState } from '../../../shared/api.ts';
import { CONTEXT_WORDS } from '../../../shared/view-words.ts';
import { clusterRows, formatRange, stopWarning, type ClusterRow } from '../clusters/cluster-rows.ts';
import { latestOn } from '../clusters/operations.ts';
import { Badge, Empty, Facts, Loading, Spinner, TableHead } from '../components/common.tsx';
import { CONTEXT_TONE, TASK_TONE } from '../format.ts';
import { href } from '../route.ts';
import { taskList } from '../store/state.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';
import { OperationProgress } from './ClustersProgress.tsx';
import { DeleteConfirm, LoadImageForm } from './ClustersDialogs.tsx';
import '../clusters/clusters.css';

/** The cluster list (NodePort ranges, kind found or not, operations), asked again whenever an operation ends. */
function useClusterList(): { data?: ClustersResponse; failure?: ApiFailure } {
  const controller = useController();
  const ended = useDashboard((s) => Object.values(s.operations).filter((f) => f.operation.state !== 'running').length);
  const [answer, setAnswer] = useState<{ data?: ClustersResponse; failure?: ApiFailure }>({});
  useEffect(() => {
    const abort = new AbortController();
    void controller
      .loadClusters(abort.signal)
      .then((r) => {
        if (!abort.signal.aborted) setAnswer(r);
      })
      .catch(() => undefined);
    return () => abort.abort();
  }, [controller, ended]);
  return answer;
}

function useRows(list: ClustersResponse | undefined): ClusterRow[] | undefined {
  const snapshot = useDashboard((s) => s.status?.snapshot);
  const operations = useDashboard((s) => s.operations);
  return snapshot ? clusterRows(snapshot, list?.clusters, operations) : undefined;
}

/** Start / Stop / Delete… for a row; the operation's progress shows where the row is. */
function RowActions({ row, compact = false }: { row: ClusterRow; compact?: boolean }) {
  const controller = useController();
  const [failure, setFailure] = useState<ApiFailure | undefined>();
  const [asking, setAsking] = useState(false);
  // Stopping a cluster with tasks on it asks first: they end cancelled.
  const allTasks = useDashboard((s) => s.tasks);
  const taskListState = useDashboard((s) => s.taskList.state);
  useEffect(() => {
    if (row.canStop && taskListState === 'idle') void controller.loadTasks();
  }, [controller, row.canStop, taskListState]);
  const warning = useMemo(() => stopWarning(row.name, row.health?.context, taskList(allTasks)), [row.name, row.health?.context, allTasks]);
  const [confirming, setConfirming] = useState(false);
  const run = async (kind: 'start' | 'stop') => {
    setConfirming(false);
    setAsking(true);
    const r = await controller.clusterOperation(kind, row.name);
    setAsking(false);
    setFailure(r.operation ? undefined : r.failure);
  };
  const size = compact ? 'button small' : 'button';
  return (
    <div className="actions" data-testid={`cluster-actions:${row.name}`}>
      {row.canStart && (
        <button type="button" className={`${size} primary`} disabled={asking} onClick={() => void run('start')} data-testid="cluster-start">
          Start
        </button>
      )}
      {row.canStop && !confirming && (
        <button type="button" className={size} disabled={asking} onClick={() => (warning ? setConfirming(true) : void run('stop'))} data-testid="cluster-stop">
          Stop
        </button>
      )}
      {row.canStop && confirming && warning && (
        <span className="stop-confirm" role="alertdialog" aria-label={`Stop ${row.name}?`} data-testid="cluster-stop-confirm">
          <span className="small">{warning}</span>{' '}
          <button type="button" className={`${size} danger`} disabled={asking} onClick={() => void run('stop')} data-testid="cluster-stop-confirmed">
            Stop and cancel
          </button>{' '}
          <button type="button" className={size} onClick={() => setConfirming(false)}>
            Keep running
          </button>
        </span>
      )}
      {row.state !== 'creating' && (
        <a className={`${size} danger`} href={href({ page: 'cluster', name: row.name, action: 'delete' })} data-testid="cluster-delete">
          Delete…
        </a>
      )}
      {failure && (
        <span className="text-error small" role="alert">
          {failure.error.error}
        </span>
      )}
    </div>
  );
}

export function ClustersPage() {
  const { data, failure } = useClusterList();
  const rows = useRows(data);
  return (
    <>
      <div className="page-head">
        <h1>Clusters</h1>
        <a className="button primary" href={href({ page: 'new-cluster' })} data-testid="create-cluster-link">
          Create cluster
        </a>
      </div>
      {data && !data.kind.found && (
        <div className="notice warn" data-testid="kind-missing">
          <strong>kind is not installed</strong>, so clusters cannot be created or deleted here.{' '}
          {data.kind.install?.command ? (
            <>
              Install it with <code>{data.kind.install.command}</code>
            </>
          ) : (
            data.kind.install?.label
          )}
        </div>
      )}
      {failure && failure.status !== 0 && (
        <p className="muted small" data-testid="cluster-list-failure">
          The cluster list did not answer ({failure.error.error}); states below are the monitor’s.
        </p>
      )}
      {!rows ? (
        <Loading what="the clusters" />
      ) : rows.length === 0 ? (
        <Empty title="No KinD clusters yet" testId="clusters-empty">
          <a className="button primary" href={href({ page: 'new-cluster' })}>
            Create one
          </a>{' '}
          with the defaults: one node, 100 NodePorts published to this machine.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="clusters-table">
            <TableHead columns={['Cluster', 'State', 'Nodes', 'Kubernetes', 'Host ports for NodePorts', 'Context', '']} />
            <tbody>
              {rows.map((r) => (
                <tr key={r.name} data-testid={`cluster-row:${r.name}`} data-state={r.state}>
                  <th scope="row">
                    <a href={href({ page: 'cluster', name: r.name })}>{r.name}</a>
                  </th>
                  <td>
                    <Badge tone={r.tone} testId={`cluster-state:${r.name}`}>
                      {r.operation && <Spinner />}
                      {r.words}
                    </Badge>
                  </td>
                  <td>{r.ready ?? '—'}</td>
                  <td>{r.kubernetesVersion ?? '—'}</td>
                  <td>{r.nodePorts ? formatRange(r.nodePorts) : '—'}</td>
                  <td>{r.context ? <code>{r.context.name}</code> : '—'}</td>
                  <td>
                    <RowActions row={r} compact />
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

export function ClusterPage({ name, action }: { name: string; action?: ClusterPageAction | undefined }) {
  const { data } = useClusterList();
  const rows = useRows(data);
  const row = rows?.find((r) => r.name === name);
  const latest = useDashboard((s) => latestOn(s.operations, name));
  const allTasks = useDashboard((s) => s.tasks);
  const context = row?.health?.context;
  const tasks = useMemo(() => taskList(allTasks).filter((t) => t.cluster === name || t.context === context), [allTasks, name, context]);
  const controller = useController();
  const taskListState = useDashboard((s) => s.taskList.state);
  useEffect(() => {
    if (taskListState === 'idle') void controller.loadTasks();
  }, [controller, taskListState]);
  // A load's progress shows in its own card, below.
  const showOp = latest && latest.operation.kind !== 'load-image' && (latest.operation.state === 'running' || Date.now() - Date.parse(latest.operation.endedAt ?? '') < 10 * 60_000);
  return (
    <>
      <p className="crumbs">
        <a href={href({ page: 'clusters' })}>Clusters</a> /
      </p>
      <div className="page-head">
        <h1 data-testid="cluster-title">
          {name}
          {row && (
            <Badge tone={row.tone} testId="cluster-page-state">
              {row.operation && <Spinner />}
              {row.words}
            </Badge>
          )}
        </h1>
        {row && action !== 'delete' && <RowActions row={row} />}
      </div>
      {action === 'delete' && <DeleteConfirm name={name} />}
      {showOp && action !== 'delete' && <OperationProgress followed={latest} />}
      {!rows ? (
        <Loading what="the cluster" />
      ) : !row ? (
        action !== 'delete' && (
          <Empty title={`No cluster called ${name}`} testId="cluster-missing">
            It is not among the clusters Docker has. See <a href={href({ page: 'clusters' })}>all clusters</a>.
          </Empty>
        )
      ) : (
        <div className="cards cluster-cards">
          <section className="card" aria-labelledby="cluster-facts">
            <h2 id="cluster-facts">Cluster</h2>
            <Facts
              rows={[
                ['Context', row.context ? <span key="c"><code>{row.context.name}</code> <Badge tone={CONTEXT_TONE[row.context.state]}>{CONTEXT_WORDS[row.context.state]}{row.context.current ? ', current' : ''}</Badge></span> : undefined],
                ['API', row.health?.apiEndpoint ? <code>{row.health.apiEndpoint}</code> : undefined],
                ['Kubernetes', row.kubernetesVersion],
                ['NodePorts', row.nodePorts ? `${NODE_PORT_MIN}-${NODE_PORT_MIN + row.nodePorts.to - row.nodePorts.from} on host ports ${formatRange(row.nodePorts)}` : undefined],
                ['Other ports', (row.health?.portMappings ?? []).filter((p) => !row.nodePorts || p.hostPort < row.nodePorts.from || p.hostPort > row.nodePorts.to).map((p) => `${p.hostIp}:${p.hostPort}→${p.containerPort}`).join(', ')],
                ['Why', row.health?.cause],
              ]}
            />
            <table className="mini-table" data-testid="cluster-nodes">
              <caption>Nodes</caption>
              <TableHead columns={['Container', 'Role', 'State', 'Ready']} />
              <tbody>
                {(row.health?.nodes ?? []).map((n) => (
                  <tr key={n.name}>
                    <td><code>{n.name}</code></td>
                    <td>{n.role}</td>
                    <td>{n.state}</td>
                    <td>{n.ready === undefined ? '—' : n.ready ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="card" aria-labelledby="cluster-load" data-testid="cluster-load-card" data-open={String(action === 'load-image')}>
            <h2 id="cluster-load">Load a local image</h2>
            <p className="muted small">Copies an image from this machine’s Docker into every node, so a task can use it without a registry.</p>
            {/* The tray's "Load image…" lands here: the image field is where to type. */}
            <LoadImageForm cluster={name} focus={action === 'load-image'} />
          </section>
          <section className="card wide" aria-labelledby="cluster-tasks">
            <div className="card-head">
              <h2 id="cluster-tasks">Tasks on {name}</h2>
              {row.state === 'running' && (
                <a className="button small" href={href({ page: 'launch' })} data-testid="cluster-launch">
                  Launch a task on it
                </a>
              )}
            </div>
            {tasks.length === 0 ? (
              <p className="muted">No tasks have run here.</p>
            ) : (
              <ul className="endpoints">
                {tasks.slice(0, 10).map((t) => (
                  <li key={t.id}>
                    <a href={href({ page: 'task', id: t.id })}>{t.name}</a> <Badge tone={TASK_TONE[t.state]}>{t.state}</Badge>
                    {!isFinalTaskState(t.state) && t.reason && <span className="muted small"> {t.reason}</span>}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
    </>
  );
}
