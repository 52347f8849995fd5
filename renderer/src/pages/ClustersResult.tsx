// How a create ended, under its steps: the cluster as the monitor sees it now
// (running, its context answering) with "Launch a task on it"; or kind's error
// with a one-click Delete of what it left behind and the way back to the form.

import { useMemo, useState } from 'react';
import type { ClusterOperation } from '../../../shared/contracts/clusters.ts';
import { clusterRows } from '../clusters/cluster-rows.ts';
import { Badge, Spinner } from '../components/common.tsx';
import { href } from '../route.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';
import { OperationProgress } from './ClustersProgress.tsx';

export function CreateOutcome({ operation: op, back }: { operation: ClusterOperation; back: () => void }) {
  const controller = useController();
  const snapshot = useDashboard((s) => s.status?.snapshot);
  const row = useMemo(() => (snapshot ? clusterRows(snapshot, undefined, {}).find((r) => r.name === op.cluster) : undefined), [snapshot, op.cluster]);
  const [cleanup, setCleanup] = useState<{ id?: string; busy: boolean; failure?: ApiFailure }>({ busy: false });
  const cleaning = useDashboard((s) => (cleanup.id ? s.operations[cleanup.id] : undefined));
  if (op.state === 'running') return null;
  if (op.state === 'succeeded') {
    const ready = row?.state === 'running' && row.tone === 'ok';
    return (
      <section className="card create-result" data-testid="create-result" data-ready={String(ready)}>
        <h2>
          {ready ? '✓' : <Spinner />} Cluster {op.cluster}{' '}
          {row ? (
            <Badge tone={row.tone} testId="create-result-state">
              {row.words}
            </Badge>
          ) : (
            <span className="muted">waiting for the monitor to see it…</span>
          )}
        </h2>
        <p className="muted">
          Context <code>kind-{op.cluster}</code>
          {row?.context?.current ? ' is the current context' : ' is in your kubeconfig'}.
        </p>
        <div className="actions">
          <a className="button primary" href={href({ page: 'launch' })} data-testid="create-launch">
            Launch a task on it
          </a>
          <a className="button" href={href({ page: 'cluster', name: op.cluster })} data-testid="create-open-cluster">
            Open cluster {op.cluster}
          </a>
          <a className="button" href={href({ page: 'clusters' })}>
            All clusters
          </a>
        </div>
      </section>
    );
  }
  const leftBehind = row !== undefined;
  const remove = async () => {
    setCleanup({ busy: true });
    const r = await controller.clusterOperation('delete', op.cluster);
    setCleanup({ busy: false, ...(r.operation ? { id: r.operation.id } : {}), ...(r.failure && !r.operation ? { failure: r.failure } : {}) });
  };
  return (
    <section className="card create-result failed" data-testid="create-result" data-state={op.state}>
      <h2>{op.state === 'cancelled' ? `Creating ${op.cluster} was cancelled` : `Cluster ${op.cluster} was not created`}</h2>
      {leftBehind ? (
        <p data-testid="create-left-behind">
          Some of it is still there ({row.ready ? `${row.ready.split('/')[1]} node container${row.ready.endsWith('/1') ? '' : 's'}` : 'its containers'}, context{' '}
          <code>kind-{op.cluster}</code>).
        </p>
      ) : (
        <p className="muted" data-testid="create-nothing-left">
          Nothing was left behind.
        </p>
      )}
      <div className="actions">
        {leftBehind && !cleaning && (
          <button type="button" className="button danger" disabled={cleanup.busy} onClick={() => void remove()} data-testid="create-cleanup">
            {cleanup.busy && <Spinner />}
            Delete what was made
          </button>
        )}
        <button type="button" className="button" onClick={back} data-testid="create-back">
          Back to the form
        </button>
      </div>
      {cleanup.failure && (
        <p className="text-error" role="alert">
          Not deleted: {cleanup.failure.error.error}
        </p>
      )}
      {cleaning && <OperationProgress followed={cleaning} />}
    </section>
  );
}
