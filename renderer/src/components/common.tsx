// Small parts every page uses: state badges, the spinner, fix buttons with
// their progress and outcome, and the designed loading / empty / error states.

import type { ReactNode } from 'react';
import type { Fix } from '../../../shared/snapshot.ts';
import { labelled } from '../fixes.ts';
import { formatDuration, useNow, type Tone } from '../format.ts';
import { isFixRunning } from '../store/state.ts';
import { useController, useDashboard } from '../store/store.ts';
import { isWorkerTrouble, type ApiFailure } from '../transport.ts';

export function Badge({ tone, children, testId }: { tone: Tone; children: ReactNode; testId?: string }) {
  return (
    <span className="badge" data-tone={tone} data-testid={testId}>
      <span className="dot" aria-hidden="true" />
      {children}
    </span>
  );
}

/** A table's header row: one column header per name. */
export function TableHead({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function Spinner({ label }: { label?: string }) {
  return <span className="spinner" role={label ? 'img' : undefined} aria-label={label} aria-hidden={label ? undefined : true} />;
}

/** How long an outcome stays next to its button. */
const OUTCOME_SHOWN_MS = 60_000;

/**
 * A fix as a button: disabled with a spinner while it runs (here or anywhere
 * else: the tray, the CLI), then its outcome in words under it.
 */
export function FixButton({ fix, primary = false, compact = false }: { fix: Fix; primary?: boolean; compact?: boolean }) {
  const controller = useController();
  const running = useDashboard((s) => isFixRunning(s, fix.id));
  const run = useDashboard((s) => s.fixes[fix.id]);
  const now = useNow(5_000);
  const outcome = run && run.state !== 'running' && now - run.finishedAt < OUTCOME_SHOWN_MS ? run : undefined;
  return (
    <span className={`fix${compact ? ' compact' : ''}`}>
      <button
        type="button"
        className={primary ? 'button primary' : 'button'}
        data-fix-id={fix.id}
        data-testid="fix-button"
        data-running={running ? 'true' : undefined}
        disabled={running}
        aria-busy={running}
        onClick={() => void controller.runFix(fix.id)}
      >
        {running && <Spinner />}
        {running ? `${fix.label}…` : fix.label}
      </button>
      {outcome && !running && (
        <span className="fix-outcome" role="status" data-testid="fix-outcome" data-fix-id={fix.id} data-outcome={outcome.state}>
          {outcome.state === 'done' ? '✓ ' : '✗ '}
          {outcome.message || (outcome.state === 'done' ? 'Done' : 'Failed')}
          {outcome.durationMs !== undefined && <span className="muted"> ({formatDuration(outcome.durationMs)})</span>}
        </span>
      )}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="state-box" data-testid="loading" aria-busy="true">
      <Spinner />
      <span>Loading {what}…</span>
    </div>
  );
}

export function Empty({ title, children, testId = 'empty' }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="state-box empty" data-testid={testId}>
      <strong>{title}</strong>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

/** A route that failed, said plainly, with the fix the server offered (Restart server when the worker hangs). */
export function Failure({ title, failure, onRetry }: { title: string; failure: ApiFailure; onRetry?: () => void }) {
  const fix = failure.error.fix;
  const hung = isWorkerTrouble(failure);
  return (
    <div className="state-box failure" role="alert" data-testid="error-state" data-status={failure.status}>
      <strong>{title}</strong>
      <div>{failure.error.error}</div>
      {hung && <div className="muted">The dashboard's health view and the fixes still work: they come from the supervisor.</div>}
      <div className="actions">
        {fix && <FixButton fix={labelled(fix)} primary />}
        {onRetry && (
          <button type="button" className="button" onClick={onRetry}>
            Try again
          </button>
        )}
      </div>
    </div>
  );
}

export function Facts({ rows }: { rows: [string, ReactNode][] }) {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false);
  if (shown.length === 0) return null;
  return (
    <dl className="facts">
      {shown.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
