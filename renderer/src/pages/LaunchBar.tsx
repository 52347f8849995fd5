// The Launch page's launch bar: "launch when ready", the launch button with
// why it is disabled and the fix that would enable it, and why a launch the
// server refused failed.

import { FixButton, Spinner } from '../components/common.tsx';
import type { LaunchGate } from '../launch/check.ts';
import type { ApiFailure } from '../transport.ts';

export function LaunchBar(props: { gate: LaunchGate; launching: boolean; whenReady: boolean; setWhenReady: (on: boolean) => void; failure: ApiFailure | undefined; launch: () => void }) {
  const { gate, launching, whenReady, setWhenReady, failure } = props;
  return (
    <section className="card launch-bar" data-testid="launch-bar" aria-label="Launch">
      <label className="check">
        <input type="checkbox" checked={whenReady} onChange={(e) => setWhenReady(e.target.checked)} data-testid="launch-when-ready" />
        Launch when ready <span className="muted small">(keep the task waiting while its cluster is down)</span>
      </label>
      <div className="launch-row">
        <button
          type="button"
          className="button primary big"
          disabled={!gate.enabled}
          aria-describedby={gate.reason ? 'launch-reason' : undefined}
          onClick={props.launch}
          data-testid="launch-button"
        >
          {launching && <Spinner />}
          {gate.label}
        </button>
        {gate.fix && <FixButton fix={gate.fix} primary={!gate.enabled} />}
      </div>
      {gate.reason && (
        <p id="launch-reason" className={gate.enabled ? 'muted small' : 'launch-reason'} data-testid="launch-blocked-reason">
          {gate.reason}
        </p>
      )}
      {failure && (
        <p className="launch-reason" role="alert" data-testid="launch-failure">
          The launch failed: {failure.error.error}
        </p>
      )}
    </section>
  );
}
