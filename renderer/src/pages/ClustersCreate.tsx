// Create a cluster: the form (name, workers, node image, the NodePort range
// published to the host, ingress ports; or a kind config file instead), the
// server's pre-flight as you type (Docker, kind, the name, the ports, memory),
// each failed check with its fix, and what it will create. On Create, kind's
// steps as they go, then the cluster running with a link to launch a task on
// it, or kind's error, the step it failed in and a one-click Delete of
// anything left half-made. Form state is in clusters/create-form.ts.

import { useEffect, useMemo, useState } from 'react';
import { NODE_PORT_MIN, NODE_PORT_RANGE_SIZE, type PreflightAnswer, type PreflightCheck } from '../../../shared/contracts/clusters.ts';
import { checksFor, createGate, defaultForm, toRequest, typedRange, withFixValue, type CreateFormValues, type FieldIssue } from '../clusters/create-form.ts';
import { formatRange } from '../clusters/cluster-rows.ts';
import { Spinner } from '../components/common.tsx';
import { href } from '../route.ts';
import { useController, useDashboard } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';
import { CheckList, FieldChecks, PlanPreview } from './ClustersCheck.tsx';
import { CreateOutcome } from './ClustersResult.tsx';
import { OperationProgress } from './ClustersProgress.tsx';
import '../clusters/clusters.css';

const CHECK_DEBOUNCE_MS = 300;

/** The server's last pre-flight answer, for the request it was about. */
interface Preflight {
  key: string;
  answer?: PreflightAnswer;
  failure?: ApiFailure;
}

export function CreateClusterPage() {
  const controller = useController();
  const names = useDashboard((s) => s.status?.snapshot.clusters.map((c) => c.name).join('\n') ?? '');
  const versions = useDashboard((s) => [...new Set(s.status?.snapshot.clusters.flatMap((c) => (c.kubernetesVersion ? [c.kubernetesVersion] : [])) ?? [])].join('\n'));
  const [values, setValues] = useState<CreateFormValues>(() => defaultForm(names.split('\n')));
  const [preflight, setPreflight] = useState<Preflight | undefined>();
  const [creating, setCreating] = useState<{ busy: boolean; id?: string; failure?: ApiFailure }>({ busy: false });
  const followed = useDashboard((s) => (creating.id ? s.operations[creating.id] : undefined));

  const { request, issues } = useMemo(() => toRequest(values), [values]);
  const key = JSON.stringify(request);
  const health = useDashboard((s) => `${s.status?.snapshot.docker.state}|${s.status?.snapshot.clusters.map((c) => c.name).join(',')}`);

  useEffect(() => {
    if (issues.length > 0) return;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      void controller.server
        .checkCluster(request, abort.signal)
        .then((r) => {
          if (abort.signal.aborted) return;
          if (r.data && Array.isArray(r.data.checks)) setPreflight({ key, answer: r.data });
          else setPreflight({ key, ...(r.ok ? { failure: { status: r.status, error: { error: 'the server sent no checks' } } } : { failure: r.failure }) });
        })
        .catch(() => undefined);
    }, CHECK_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
    // `request` is `key` as an object; health: a check again when Docker or the clusters change.
  }, [controller, key, issues.length, health]);

  const fresh = preflight?.key === key ? preflight : undefined;
  // While the server checks the new values, its last answer stays on screen, marked as being checked again.
  const shown = fresh ?? preflight;
  const checks = shown?.answer?.checks ?? [];
  const gate = createGate(issues, issues.length > 0 ? [] : fresh?.answer?.checks, creating.busy);
  const suggested = shown?.answer?.suggestedNodePorts;

  const set = (change: Partial<CreateFormValues>) => setValues((v) => ({ ...v, ...change }));
  const applyFix = (c: PreflightCheck) => c.field && c.fix?.value !== undefined && setValues((v) => withFixValue(v, c.field as string, c.fix?.value));

  const create = async () => {
    setCreating({ busy: true });
    const r = await controller.server.createCluster(request);
    if (!r.ok && r.status === 422 && Array.isArray(r.data?.checks)) {
      setPreflight({ key, answer: { ok: false, checks: r.data.checks } });
      setCreating({ busy: false });
      return;
    }
    const started = controller.started(r.ok ? { data: r.data, status: r.status } : { data: r.data, status: r.status, failure: r.failure });
    setCreating({ busy: false, ...(started.operation ? { id: started.operation.id } : {}), ...(started.failure && !started.operation ? { failure: started.failure } : {}) });
  };

  if (followed) {
    return (
      <>
        <p className="crumbs">
          <a href={href({ page: 'clusters' })}>Clusters</a> /
        </p>
        <h1 className="page-title">Create cluster {followed.operation.cluster}</h1>
        <OperationProgress followed={followed} />
        <CreateOutcome operation={followed.operation} back={() => setCreating({ busy: false })} />
      </>
    );
  }

  const fieldIssues = (field: string): FieldIssue[] => issues.filter((i) => i.field === field);
  const invalid = (field: string) => fieldIssues(field).length > 0 || checksFor(checks, field).some((c) => c.level === 'error');
  const issueText = (field: string) => fieldIssues(field).map((i) => (
    <p key={i.message} className="field-error" data-testid={`field-issue:${field}`}>
      {i.message}
    </p>
  ));
  const fieldChecks = (field: string) => <FieldChecks checks={checksFor(checks, field)} apply={applyFix} />;

  return (
    <>
      <p className="crumbs">
        <a href={href({ page: 'clusters' })}>Clusters</a> /
      </p>
      <div className="page-head">
        <h1>Create a cluster</h1>
      </div>
      <div className="launch-grid">
        <section className="card" aria-labelledby="create-form-title" data-testid="create-form">
          <div className="card-head">
            <h2 id="create-form-title">New KinD cluster</h2>
            <div className="segmented" role="radiogroup" aria-label="How to describe it">
              {(['fields', 'config'] as const).map((m) => (
                <button key={m} type="button" role="radio" aria-checked={values.mode === m} className="button small" aria-pressed={values.mode === m} onClick={() => set({ mode: m })} data-testid={`create-mode-${m}`}>
                  {m === 'fields' ? 'This form' : 'A kind config file'}
                </button>
              ))}
            </div>
          </div>
          <form
            className="form-grid"
            onSubmit={(e) => {
              e.preventDefault();
              if (gate.enabled) void create();
            }}
          >
            <div className={`field wide${invalid('name') ? ' invalid' : ''}`}>
              <label htmlFor="cc-name">Name</label>
              <input type="text" id="cc-name" value={values.name} onChange={(e) => set({ name: e.target.value })} spellCheck={false} autoComplete="off" data-testid="create-name" />
              <span className="hint">Its context will be kind-{values.name.trim() || 'NAME'}.</span>
              {issueText('name')}
              {fieldChecks('name')}
            </div>
            {values.mode === 'fields' ? (
              <>
                <div className={`field${invalid('workers') ? ' invalid' : ''}`}>
                  <label htmlFor="cc-workers">Worker nodes</label>
                  <input id="cc-workers" type="number" min={0} max={10} value={values.workers} onChange={(e) => set({ workers: e.target.value })} data-testid="create-workers" />
                  <span className="hint">Besides the control-plane; 0 runs everything on one node.</span>
                  {issueText('workers')}
                  {fieldChecks('workers')}
                </div>
                <div className={`field${invalid('image') ? ' invalid' : ''}`}>
                  <label htmlFor="cc-image">Node image (Kubernetes version)</label>
                  <input type="text" id="cc-image" list="cc-images" value={values.image} onChange={(e) => set({ image: e.target.value })} placeholder="kind’s default" spellCheck={false} data-testid="create-image" />
                  <datalist id="cc-images">
                    {versions.split('\n').filter(Boolean).map((v) => (
                      <option key={v} value={`kindest/node:${v}`} />
                    ))}
                  </datalist>
                  <span className="hint">e.g. kindest/node:v1.31.0; the tag is the version.</span>
                  {issueText('image')}
                  {fieldChecks('image')}
                </div>
                <fieldset className={`field wide${invalid('nodePorts') ? ' invalid' : ''}`} data-testid="create-node-ports">
                  <legend>Host ports for the NodePorts</legend>
                  <div className="range-row">
                    <input type="text" aria-label="First port" inputMode="numeric" value={values.nodePortsFrom} onChange={(e) => set({ nodePortsFrom: e.target.value })} placeholder={suggested ? String(suggested.from) : 'first free'} data-testid="create-ports-from" />
                    <span aria-hidden="true">–</span>
                    <input type="text" aria-label="Last port" inputMode="numeric" value={values.nodePortsTo} onChange={(e) => set({ nodePortsTo: e.target.value })} placeholder={typedRange(values) ? String(typedRange(values)?.to) : suggested ? String(suggested.to) : ''} data-testid="create-ports-to" />
                  </div>
                  <span className="hint" data-testid="create-ports-hint">
                    NodePorts {NODE_PORT_MIN}-{NODE_PORT_MIN + NODE_PORT_RANGE_SIZE - 1} answer on these, in order (as <code>sky local up</code>). Empty: {suggested ? `${formatRange(suggested)}, ` : ''}the first free {NODE_PORT_RANGE_SIZE}.
                  </span>
                  {issueText('nodePorts')}
                  {fieldChecks('nodePorts')}
                </fieldset>
                <fieldset className={`field wide${invalid('ingress.http') || invalid('ingress.https') ? ' invalid' : ''}`}>
                  <legend>Ingress host ports (optional)</legend>
                  <div className="range-row">
                    <label className="inline-label">
                      HTTP <input type="text" inputMode="numeric" value={values.ingressHttp} onChange={(e) => set({ ingressHttp: e.target.value })} placeholder="none" data-testid="create-ingress-http" />
                    </label>
                    <label className="inline-label">
                      HTTPS <input type="text" inputMode="numeric" value={values.ingressHttps} onChange={(e) => set({ ingressHttps: e.target.value })} placeholder="none" data-testid="create-ingress-https" />
                    </label>
                  </div>
                  <span className="hint">Mapped to ports 80 and 443 of the control-plane, for an ingress controller.</span>
                  {issueText('ingress.http')}
                  {issueText('ingress.https')}
                  {fieldChecks('ingress.http')}
                  {fieldChecks('ingress.https')}
                </fieldset>
              </>
            ) : (
              <div className={`field wide${invalid('config') ? ' invalid' : ''}`}>
                <label htmlFor="cc-config">kind config</label>
                <textarea id="cc-config" rows={12} value={values.configText} onChange={(e) => set({ configText: e.target.value })} spellCheck={false} placeholder={'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker'} data-testid="create-config" />
                <input
                  type="file"
                  accept=".yaml,.yml,text/yaml"
                  aria-label="Read a kind config file"
                  onChange={(e) => void e.target.files?.[0]?.text().then((t) => set({ configText: t }))}
                  data-testid="create-config-file"
                />
                <span className="hint">Everything kind’s config can say: nodes, images, port mappings, patches. The name above wins over the file’s.</span>
                {issueText('config')}
                {fieldChecks('config')}
              </div>
            )}
            <label className="check wide">
              <input type="checkbox" checked={values.makeCurrent} onChange={(e) => set({ makeCurrent: e.target.checked })} data-testid="create-make-current" />
              Make kind-{values.name.trim() || 'NAME'} the current context
            </label>
            <div className="wide create-bar">
              <button type="submit" className="button primary big" disabled={!gate.enabled} aria-describedby="create-reason" data-testid="create-button">
                {creating.busy && <Spinner />}
                Create cluster
              </button>
              {gate.reason && (
                <span id="create-reason" className="muted small" data-testid="create-blocked-reason">
                  {gate.reason}
                </span>
              )}
            </div>
            {creating.failure && (
              <p className="launch-reason wide" role="alert" data-testid="create-failure">
                Not created: {creating.failure.error.error}
              </p>
            )}
          </form>
        </section>
        <div className="launch-side">
          <CheckList checks={checks} checking={!fresh && issues.length === 0} failure={shown?.failure} localIssues={issues} apply={applyFix} />
          {values.mode === 'config' || shown?.answer?.plan ? <PlanPreview plan={shown?.answer?.plan} /> : null}
        </div>
      </div>
    </>
  );
}
