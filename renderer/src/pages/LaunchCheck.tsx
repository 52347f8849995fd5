// The Launch page's check panel: who checked the task and when (here as you
// type, or the server against the cluster), its errors and warnings, each
// jumping to its line, the resource set chosen (any_of / ordered), the envs and
// secrets a launch needs, and how each port will be reached.

import type { ReactNode } from 'react';
import type { ValidationIssue } from '../../../shared/task/index.ts';
import { FixButton, Spinner } from '../components/common.tsx';
import { formatAgo } from '../format.ts';
import type { TaskCheck } from '../launch/check.ts';
import type { ApiFailure } from '../transport.ts';

/** The server's last answer for a text: its check, or why there is none. */
export interface ServerCheck {
  text: string;
  at: number;
  check?: TaskCheck;
  failure?: ApiFailure;
}

export function CheckPanel(props: { check: TaskCheck; parses: boolean; server: ServerCheck | undefined; serverFresh: ServerCheck | undefined; now: number; jump: (line: number, column?: number) => void }) {
  const { check, parses, serverFresh, now, jump } = props;
  let source: ReactNode;
  if (!parses) source = 'Checked here, as you type. The server checks the cluster side once the YAML is valid.';
  else if (serverFresh?.check) source = `Checked by the server ${formatAgo(now - serverFresh.at)}.`;
  else if (serverFresh?.failure) source = `Checked here against the last known state: the server did not answer (${serverFresh.failure.error.error}).`;
  else
    source = (
      <>
        <Spinner /> Checked here; asking the server…
      </>
    );
  return (
    <section className="card" aria-labelledby="check-title" data-testid="check-panel" data-source={check.source}>
      <div className="card-head">
        <h2 id="check-title">Check</h2>
        <span className="muted small" data-testid="check-source" role="status">
          {source}
        </span>
      </div>
      {check.errors.length === 0 ? (
        <p className="ok-line" data-testid="validation-ok">
          ✓ No errors{check.target ? ` — runs on ${check.target.context}` : ''}.
        </p>
      ) : (
        <IssueList issues={check.errors} kind="error" jump={jump} testId="validation-errors" />
      )}
      {check.warnings.length > 0 && <IssueList issues={check.warnings} kind="warning" jump={jump} testId="validation-warnings" />}
      {check.chosenResources && (
        <p className="muted small" data-testid="chosen-resources">
          Resources: set {check.chosenResources.index + 1} of <code>{check.chosenResources.mode}</code> chosen ({check.chosenResources.summary}).
        </p>
      )}
      {check.requiredAtLaunch && check.requiredAtLaunch.envs.length + check.requiredAtLaunch.secrets.length > 0 && (
        <p className="small" data-testid="required-at-launch">
          Needed at launch:{' '}
          {[...check.requiredAtLaunch.envs.map((n) => `env ${n}`), ...check.requiredAtLaunch.secrets.map((n) => `secret ${n}`)].join(', ')}
        </p>
      )}
      {check.ports.length > 0 && (
        <>
          <h3>Ports</h3>
          <ul className="port-plan" data-testid="port-plan">
            {check.ports.map((p) => (
              <li key={p.port} data-reachable={String(p.reachable)}>
                <strong>{p.port}</strong> {p.url ? <code>{p.url}</code> : null} <span className="muted">{p.how}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function IssueList({ issues, kind, jump, testId }: { issues: ValidationIssue[]; kind: 'error' | 'warning'; jump: (line: number, column?: number) => void; testId: string }) {
  return (
    <ul className={`issues ${kind}`} data-testid={testId} aria-label={kind === 'error' ? 'Errors' : 'Warnings'}>
      {issues.map((e, i) => (
        <li key={`${e.path}:${e.line ?? ''}:${i}`} data-testid={kind === 'error' ? 'validation-error' : 'validation-warning'} data-path={e.path} data-line={e.line}>
          <div className="issue-head">
            {e.line !== undefined ? (
              <button type="button" className="link line-ref" onClick={() => jump(e.line as number, e.column)} title="Show in the editor">
                line {e.line}
                {e.column !== undefined ? `:${e.column}` : ''}
              </button>
            ) : null}
            {e.path && <code className="issue-path">{e.path}</code>}
          </div>
          <div className="issue-message">{e.message}</div>
          {e.fix && <FixButton fix={e.fix} compact />}
        </li>
      ))}
    </ul>
  );
}
