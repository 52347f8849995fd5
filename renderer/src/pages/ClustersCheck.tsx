// The create form's pre-flight, as the server answers it while you type:
// every check (Docker, kind, the name, the ports, memory, the config) with its
// fix (a fix to run, a value to put in the field, a command to install kind),
// and what the create will make (nodes, ports, the kind config it passes).

import type { CheckFix, CheckLevel, ClusterPlan, PreflightCheck } from '../../../shared/contracts/clusters.ts';
import type { FieldIssue } from '../clusters/create-form.ts';
import { FixButton, Spinner } from '../components/common.tsx';
import { labelled } from '../fixes.ts';
import type { ApiFailure } from '../transport.ts';

const MARK: Record<CheckLevel, string> = { ok: '✓', warn: '!', error: '✗' };

function CheckFixView({ check, apply }: { check: PreflightCheck; apply: (c: PreflightCheck) => void }) {
  const fix: CheckFix | undefined = check.fix;
  if (!fix) return null;
  if (fix.fix) return <FixButton fix={labelled(fix.fix)} compact />;
  if (fix.value !== undefined && check.field) {
    return (
      <button type="button" className="button small" onClick={() => apply(check)} data-testid="check-fix-value">
        {fix.label}
      </button>
    );
  }
  return (
    <div className="check-advice small">
      {fix.label}
      {fix.command && (
        <>
          {': '}
          <code data-testid="check-fix-command">{fix.command}</code>
        </>
      )}
      {fix.url && (
        <>
          {' '}
          <a href={fix.url} target="_blank" rel="noreferrer">
            how
          </a>
        </>
      )}
    </div>
  );
}

/** A field's own failed checks, under it. */
export function FieldChecks({ checks, apply }: { checks: PreflightCheck[]; apply: (c: PreflightCheck) => void }) {
  if (checks.length === 0) return null;
  return (
    <ul className="field-checks">
      {checks.map((c) => (
        <li key={`${c.id}:${c.message}`} data-level={c.level} data-testid={`field-check:${c.id}`}>
          <span className={c.level === 'error' ? 'field-error' : 'hint'}>{c.message}</span> <CheckFixView check={c} apply={apply} />
        </li>
      ))}
    </ul>
  );
}

export function CheckList(props: { checks: PreflightCheck[]; checking: boolean; failure: ApiFailure | undefined; localIssues: FieldIssue[]; apply: (c: PreflightCheck) => void }) {
  const { checks, checking, failure, localIssues, apply } = props;
  const errors = checks.filter((c) => c.level === 'error').length;
  return (
    <section className="card" aria-labelledby="preflight-title" data-testid="preflight" data-checking={String(checking)} data-errors={errors}>
      <div className="card-head">
        <h2 id="preflight-title">Pre-flight</h2>
        <span className="muted small" role="status" data-testid="preflight-source">
          {localIssues.length > 0 ? 'Fix the form first; then the server checks it.' : checking ? (
            <>
              <Spinner /> Checking…
            </>
          ) : failure ? (
            `The server did not answer: ${failure.error.error}`
          ) : checks.length > 0 ? (
            'Checked by the server, as you type.'
          ) : (
            ''
          )}
        </span>
      </div>
      <ul className="preflight-list">
        {localIssues.map((i) => (
          <li key={`local:${i.field}:${i.message}`} data-level="error" data-testid="preflight-local">
            <span className="check-mark" aria-hidden="true">
              {MARK.error}
            </span>
            <div>
              <code className="issue-path">{i.field}</code> {i.message}
            </div>
          </li>
        ))}
        {checks.map((c) => (
          <li key={`${c.id}:${c.field ?? ''}:${c.message}`} data-level={c.level} data-check-id={c.id} data-testid="preflight-check">
            <span className="check-mark" aria-hidden="true">
              {MARK[c.level]}
            </span>
            <div>
              <div>{c.message}</div>
              <CheckFixView check={c} apply={apply} />
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Runs of ports published as themselves (NodePorts) shown as one range; anything else one by one. */
function portLines(plan: ClusterPlan): string[] {
  const same = plan.portMappings.filter((p) => p.hostPort === p.containerPort).sort((a, b) => a.hostPort - b.hostPort);
  const other = plan.portMappings.filter((p) => p.hostPort !== p.containerPort);
  const lines: string[] = [];
  let start: number | undefined;
  let prev = -2;
  const flush = () => {
    if (start === undefined) return;
    lines.push(start === prev ? `${start} → ${start}` : `${prev - start + 1} ports ${start}-${prev} → the same NodePorts`);
  };
  for (const p of same) {
    if (p.hostPort !== prev + 1) {
      flush();
      start = p.hostPort;
    }
    prev = p.hostPort;
  }
  flush();
  for (const p of other) lines.push(`host ${p.hostPort} → ${p.containerPort}${p.protocol !== 'TCP' ? `/${p.protocol.toLowerCase()}` : ''}`);
  return lines;
}

export function PlanPreview({ plan }: { plan: ClusterPlan | undefined }) {
  return (
    <section className="card" aria-labelledby="plan-title" data-testid="create-plan">
      <h2 id="plan-title">What it will create</h2>
      {!plan ? (
        <p className="muted">Shown once the server has read the config.</p>
      ) : (
        <>
          <ul className="plan-list">
            <li data-testid="plan-nodes">
              {plan.nodes.length === 1 ? '1 node' : `${plan.nodes.length} nodes`}:{' '}
              {plan.nodes.map((n, i) => (
                <span key={i}>
                  {i > 0 && ', '}
                  {n.role}
                  {n.image ? <span className="muted"> ({n.image})</span> : null}
                </span>
              ))}
            </li>
            {portLines(plan).map((l) => (
              <li key={l} data-testid="plan-ports">
                {l}
              </li>
            ))}
            <li>
              context <code>kind-{plan.name}</code>
            </li>
          </ul>
          <details>
            <summary className="muted small">The kind config it passes</summary>
            <pre className="plan-config" data-testid="plan-config">
              {plan.configText}
            </pre>
          </details>
        </>
      )}
    </section>
  );
}
