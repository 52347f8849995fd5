// A cluster operation as it runs (create, delete, start, stop, load image):
// each step with its state and how long it took (kind's own step lines), kind's
// last lines, Cancel while it runs; when it ends, how long it took, or kind's
// error and the step it failed in, with a one-click Delete of what a failed
// create left behind. Live from /api/events, so an operation started in the
// tray or the CLI shows here too.

import { useState, type ReactNode } from 'react';
import type { StepState } from '../../../shared/contracts/clusters.ts';
import { operationTitle } from '../../../shared/operation-words.ts';
import { operationDurationMs, shortError, stepDurationMs, withoutEmoji, type FollowedOperation } from '../clusters/operations.ts';
import { Spinner } from '../components/common.tsx';
import { formatDuration, useNow } from '../format.ts';
import { useController } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';

const MARK: Record<StepState, string> = { running: '', succeeded: '✓', failed: '✗', cancelled: '–' };

export function OperationProgress({ followed, children }: { followed: FollowedOperation; children?: ReactNode }) {
  const { operation: op, lines } = followed;
  const controller = useController();
  const now = useNow(op.state === 'running' ? 500 : 60_000);
  const [cancel, setCancel] = useState<{ asked: boolean; failure?: ApiFailure }>({ asked: false });
  const took = operationDurationMs(op, now);
  return (
    <section className="card op-progress" data-testid="operation-progress" data-operation-id={op.id} data-kind={op.kind} data-state={op.state} aria-live="polite">
      <div className="card-head">
        <h2>
          {op.state === 'running' && <Spinner />} {operationTitle(op)}
        </h2>
        {took !== undefined && (
          <span className="muted small" data-testid="operation-duration">
            {op.state === 'running' ? `${formatDuration(took)} so far` : `took ${formatDuration(took)}`}
          </span>
        )}
        {op.state === 'running' && (
          <button
            type="button"
            className="button danger small"
            disabled={cancel.asked && !cancel.failure}
            onClick={() => {
              setCancel({ asked: true });
              void controller.cancelOperation(op.id).then((failure) => setCancel(failure ? { asked: true, failure } : { asked: true }));
            }}
            data-testid="operation-cancel"
          >
            {cancel.asked && !cancel.failure ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      {op.steps.length === 0 && op.state === 'running' && <p className="muted small">Starting kind…</p>}
      <ol className="op-steps" data-testid="operation-steps">
        {op.steps.map((s, i) => {
          const d = stepDurationMs(s, now);
          return (
            <li key={`${i}:${s.title}`} data-state={s.state} data-testid="operation-step">
              <span className="op-mark" aria-hidden="true">
                {s.state === 'running' ? <Spinner /> : MARK[s.state]}
              </span>
              <span className="op-title">{withoutEmoji(s.title)}</span>
              <span className="muted small op-time">{d !== undefined ? formatDuration(d) : ''}</span>
              <span className="sr-only">{s.state}</span>
            </li>
          );
        })}
      </ol>
      {op.error && <OperationError step={op.error.step} message={op.error.message} />}
      {cancel.failure && (
        <p className="text-error small" role="alert">
          Could not cancel: {cancel.failure.error.error}
        </p>
      )}
      {lines.length > 0 && (
        <details className="op-lines" open={op.state !== 'succeeded'}>
          <summary className="muted small">kind’s output ({lines.length === 1 ? 'last line' : `last ${lines.length} lines`})</summary>
          <pre data-testid="operation-lines">{lines.map(withoutEmoji).join('\n')}</pre>
        </details>
      )}
      {children}
    </section>
  );
}

/** kind's error and the step it failed in; a long one cut to its start and end, whole on request. */
function OperationError({ step, message }: { step?: string | undefined; message: string }) {
  const short = shortError(message);
  return (
    <div className="op-error" role="alert" data-testid="operation-error">
      <strong>{step ? `Failed at “${withoutEmoji(step)}”` : 'Failed'}:</strong> <span className="op-error-message">{short.text}</span>
      {short.cut && (
        <details>
          <summary className="small">The whole error</summary>
          <pre className="op-error-whole">{message}</pre>
        </details>
      )}
    </div>
  );
}
