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

/** Runs of consecutive mappings (host N+i → container M+i) as one line; anything else one by one. */
export function portLines(plan: Pick<ClusterPlan, 'portMappings'>): string[] {
  const sorted = [...plan.portMappings].sort((a, b) => a.hostPort - b.hostPort);
  const lines: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i] as ClusterPlan['portMappings'][number];
    let j = i;
    while (j + 1 < sorted.length) {
      const next = sorted[j + 1] as ClusterPlan['portMappings'][number];
      const cur = sorted[j] as ClusterPlan['portMappings'][number];
      if (next.hostPort !== cur.hostPort + 1 || next.containerPort !== cur.containerPort + 1 || next.protocol !== first.protocol) break;
      j++;
    }
    const last = sorted[j] as ClusterPlan['portMappings'][number];
    const proto = first.protocol !== 'TCP' ? `/${first.protocol.toLowerCase()}` : '';
    if (j === i) lines.push(`host ${first.hostPort} → ${first.containerPort}${proto}`);
    else if (first.hostPort === first.containerPort) lines.push(`${j - i + 1} host ports ${first.hostPort}-${last.hostPort} → the same NodePorts${proto}`);
    else lines.push(`${j - i + 1} host ports ${first.hostPort}-${last.hostPort} → NodePorts ${first.containerPort}-${last.containerPort}${proto}`);
    i = j + 1;
  }
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
