// The two actions that ask first. Delete: a confirmation that names what goes
// (the node containers, the kubeconfig context, the tasks on it, which end as
// cancelled), then its progress. Load image: an image name and a cluster, then
// the save-and-import progress; also as a "Load image…" button the Launch and
// task pages place beside their own actions.

import { useEffect, useId, useRef, useState } from 'react';
import type { DeletePlan } from '../../../shared/contracts/clusters.ts';
import { kindContextName } from '../../../shared/constants.ts';
import type { ClusterHealth } from '../../../shared/snapshot.ts';
import { isFinalTaskState, type TaskRecord } from '../../../shared/api.ts';
import { latestOn } from '../clusters/operations.ts';
import { Spinner } from '../components/common.tsx';
import { href } from '../route.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';
import { OperationProgress } from './ClustersProgress.tsx';
import '../clusters/clusters.css';

/** What the server says a delete removes; else what this page knows (the snapshot's nodes, the store's tasks). */
function useDeletePlan(name: string): { plan: DeletePlan; fromServer: boolean } {
  const controller = useController();
  const cluster = useDashboard((s) => s.status?.snapshot.clusters.find((c) => c.name === name));
  const tasks = useDashboard((s) => s.tasks);
  const [server, setServer] = useState<DeletePlan | undefined>();
  useEffect(() => {
    let live = true;
    void controller.server.deletePlan(name).then((r) => {
      if (live && r.ok && r.data && Array.isArray(r.data.containers)) setServer(r.data);
    });
    return () => {
      live = false;
    };
  }, [controller, name]);
  if (server) return { plan: server, fromServer: true };
  const context = cluster?.context ?? kindContextName(name);
  return {
    fromServer: false,
    plan: {
      cluster: name,
      containers: (cluster?.nodes ?? []).map((n) => n.name),
      context,
      tasks: Object.values(tasks)
        .filter((t) => (t.cluster === name || t.context === context) && !isFinalTaskState(t.state))
        .map((t) => ({ id: t.id, name: t.name, state: t.state })),
    },
  };
}

export function DeleteConfirm({ name }: { name: string }) {
  const controller = useController();
  const { plan, fromServer } = useDeletePlan(name);
  const [started, setStarted] = useState<{ id?: string; failure?: ApiFailure; busy: boolean }>({ busy: false });
  const followed = useDashboard((s) => (started.id ? s.operations[started.id] : undefined));
  if (followed) {
    return (
      <OperationProgress followed={followed}>
        {followed.operation.state === 'succeeded' && (
          <p className="ok-line" data-testid="delete-done">
            ✓ Cluster {name} is gone. <a href={href({ page: 'clusters' })}>Back to the clusters</a>
          </p>
        )}
      </OperationProgress>
    );
  }
  const remove = async () => {
    setStarted({ busy: true });
    const r = await controller.clusterOperation('delete', name);
    setStarted({ busy: false, ...(r.operation ? { id: r.operation.id } : {}), ...(r.failure && !r.operation ? { failure: r.failure } : {}) });
  };
  return (
    <section className="card confirm" role="alertdialog" aria-labelledby="delete-title" aria-describedby="delete-what" data-testid="delete-confirm">
      <h2 id="delete-title">Delete cluster {name}?</h2>
      <div id="delete-what">
        <p>This runs <code>kind delete cluster --name {name}</code>. It removes:</p>
        <ul className="delete-list" data-testid="delete-plan" data-from-server={String(fromServer)}>
          <li>
            {plan.containers.length === 0 ? 'its node containers' : plan.containers.length === 1 ? 'the node container ' : `${plan.containers.length} node containers: `}
            {plan.containers.map((c, i) => (
              <span key={c}>
                {i > 0 && ', '}
                <code>{c}</code>
              </span>
            ))}
            , and everything running in them;
          </li>
          {plan.context && (
            <li>
              the context <code>{plan.context}</code> from your kubeconfig;
            </li>
          )}
          <li data-testid="delete-tasks">
            {plan.tasks.length === 0 ? (
              'no Kindtray task is running on it.'
            ) : (
              <>
                {plan.tasks.length === 1 ? 'the task ' : `${plan.tasks.length} tasks `}
                {plan.tasks.map((t, i) => (
                  <span key={t.id}>
                    {i > 0 && ', '}
                    <a href={href({ page: 'task', id: t.id })}>{t.name}</a> <span className="muted">({t.state})</span>
                  </span>
                ))}
                : {plan.tasks.length === 1 ? 'it ends' : 'they end'} as <strong>cancelled</strong>, with the reason kept in {plan.tasks.length === 1 ? 'its' : 'their'} history.
              </>
            )}
          </li>
        </ul>
      </div>
      <div className="actions">
        <button type="button" className="button danger" disabled={started.busy} onClick={() => void remove()} data-testid="delete-confirm-button">
          {started.busy && <Spinner />}
          Delete cluster {name}
        </button>
        <a className="button" href={href({ page: 'cluster', name })} data-testid="delete-keep">
          Keep it
        </a>
      </div>
      {started.failure && (
        <p className="text-error" role="alert" data-testid="delete-failure">
          Not deleted: {started.failure.error.error}
        </p>
      )}
    </section>
  );
}

const NO_CLUSTERS: readonly ClusterHealth[] = [];

/** An image name and a cluster; Load runs `kind load docker-image` through the server and shows its progress. */
export function LoadImageForm({ cluster: initialCluster, image: initialImage = '', focus = false }: { cluster?: string; image?: string; focus?: boolean }) {
  const controller = useController();
  const id = useId();
  const clusters = useDashboard((s) => s.status?.snapshot.clusters ?? NO_CLUSTERS);
  const running = clusters.filter((c) => c.state === 'running');
  const [image, setImage] = useState(initialImage);
  const imageField = useRef<HTMLInputElement>(null);
  // After the frame: on a new page the app first moves focus to the page itself.
  useEffect(() => {
    if (!focus) return;
    const frame = requestAnimationFrame(() => imageField.current?.focus());
    return () => cancelAnimationFrame(frame);
  }, [focus]);
  const [cluster, setCluster] = useState(initialCluster ?? running[0]?.name ?? '');
  const [started, setStarted] = useState<{ id?: string; failure?: ApiFailure; busy: boolean }>({ busy: false });
  const followed = useDashboard((s) => (started.id ? s.operations[started.id] : cluster && image ? latestOn(s.operations, cluster, 'load-image') : undefined));
  const shownOp = followed && (started.id || (followed.operation.state === 'running' && followed.operation.image === image.trim())) ? followed : undefined;
  const target = clusters.find((c) => c.name === cluster);
  const why = image.trim() === '' ? 'Name a local image (my-app:dev).' : !target ? 'Choose a cluster.' : target.state !== 'running' ? `Cluster ${cluster} is ${target.state}: start it first.` : undefined;
  const load = async () => {
    setStarted({ busy: true });
    const r = await controller.clusterOperation('load-image', cluster, image.trim());
    setStarted({ busy: false, ...(r.operation ? { id: r.operation.id } : {}), ...(r.failure && !r.operation ? { failure: r.failure } : {}) });
  };
  const busy = started.busy || shownOp?.operation.state === 'running';
  return (
    <div className="load-image" data-testid="load-image">
      <form
        className="load-image-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!why && !busy) void load();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-image`}>Image in local Docker</label>
          <input type="text" id={`${id}-image`} value={image} onChange={(e) => setImage(e.target.value)} placeholder="my-app:dev" spellCheck={false} ref={imageField} data-testid="load-image-name" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-cluster`}>Into cluster</label>
          <select id={`${id}-cluster`} value={cluster} onChange={(e) => setCluster(e.target.value)} data-testid="load-image-cluster">
            {cluster === '' && <option value="">(no cluster)</option>}
            {clusters.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
                {c.state !== 'running' ? ` (${c.state})` : ''}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button primary" disabled={why !== undefined || busy} title={why} data-testid="load-image-button">
          {busy && <Spinner />}
          Load
        </button>
      </form>
      {why && image.trim() !== '' && <p className="muted small">{why}</p>}
      {started.failure && (
        <p className="text-error small" role="alert" data-testid="load-image-failure">
          Not loaded: {started.failure.error.error}
        </p>
      )}
      {shownOp && <OperationProgress followed={shownOp} />}
    </div>
  );
}

/** "Load image…": a button that opens the load form beside it (the Launch page, a task's page). */
export function LoadImageButton({ cluster, image }: { cluster?: string | undefined; image?: string | undefined }) {
  const [open, setOpen] = useState(false);
  return (
    <span className="load-image-anchor">
      <button type="button" className="button" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="load-image-open">
        Load image…
      </button>
      {open && (
        <div className="card load-image-pop" role="dialog" aria-label="Load a local image into a cluster">
          <div className="card-head">
            <h2>Load a local image</h2>
            <button type="button" className="link" onClick={() => setOpen(false)}>
              Close
            </button>
          </div>
          <LoadImageForm {...(cluster ? { cluster } : {})} {...(image ? { image } : {})} focus />
        </div>
      )}
    </span>
  );
}

/** The task page's "Load image…": its image and cluster filled in (the image read from the task as submitted). */
export function TaskLoadImage({ task }: { task: Pick<TaskRecord, 'source' | 'cluster'> }) {
  const [image, setImage] = useState<string | undefined>();
  useEffect(() => {
    // The task parser is the Launch page's (its own chunk): loaded for this, not with the first page.
    let current = true;
    void import('../../../shared/task/index.ts').then(({ prepareTask }) => {
      const prepared = prepareTask(task.source);
      if (current) setImage(prepared.ok ? prepared.task.resources.image : undefined);
    });
    return () => {
      current = false;
    };
  }, [task.source]);
  return <LoadImageButton cluster={task.cluster} image={image} />;
}
