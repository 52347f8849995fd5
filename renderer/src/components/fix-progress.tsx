// A fix's chain as it runs: Start Docker, then each cluster it brings back
// and each context it repairs, one line per step (from the event stream, so a
// fix pressed in the tray or the CLI shows here too). Shown while the fix runs
// and for a minute after.

import { labelledFix, type FixStep } from '../../../shared/fixes.ts';
import { formatDuration, useNow } from '../format.ts';
import type { FixRun } from '../store/state.ts';
import { useDashboard } from '../store/store.ts';
import { Spinner } from './common.tsx';

const SHOWN_AFTER_MS = 60_000;
const MARK: Record<FixStep['state'], string> = { running: '', done: '✓', failed: '✗', skipped: '–' };

function shown(run: FixRun, now: number): boolean {
  if (!run.steps || run.steps.length === 0) return false;
  return run.state === 'running' || now - run.finishedAt < SHOWN_AFTER_MS;
}

export function FixProgress() {
  const fixes = useDashboard((s) => s.fixes);
  const now = useNow(1_000);
  const runs = Object.entries(fixes).filter(([, run]) => shown(run, now));
  if (runs.length === 0) return null;
  return (
    <section className="card wide fix-progress" data-testid="fix-progress" aria-live="polite">
      {runs.map(([fixId, run]) => (
        <div key={fixId} data-fix-id={fixId} data-state={run.state}>
          <h2>
            {run.state === 'running' && <Spinner />} {labelledFix({ id: fixId }).label}
            {run.state === 'running' ? ` (${formatDuration(now - run.startedAt)})` : run.state === 'done' ? ': done' : ': failed'}
          </h2>
          <ol className="fix-steps">
            {(run.steps ?? []).map((s) => (
              <li key={s.id} data-step-id={s.id} data-state={s.state}>
                {s.state === 'running' ? <Spinner /> : <span aria-hidden="true">{MARK[s.state]}</span>} {s.label}
                {s.message && <span className="muted">: {s.message}</span>}
              </li>
            ))}
          </ol>
          {run.state !== 'running' && run.message && <div className={`fix-outcome`} data-outcome={run.state}>{run.message}</div>}
        </div>
      ))}
    </section>
  );
}
