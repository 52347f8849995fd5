// History: the last hour at a glance — one bar per subject (Docker, each
// cluster and context, the server) coloured by state, so when something went
// down and came back is seen, not read — and a sparkline of server latency.

import { useCallback, useEffect, useState } from 'react';
import { Empty, Failure, Loading, Spinner, TableHead } from '../components/common.tsx';
import { formatClock, formatDuration, toneOfSubjectState, useNow } from '../format.ts';
import { sparkline, ticks, timeWindow, timelineRows, type SubjectRow } from '../history/timeline.ts';
import type { HistoryResponse } from '../server-api.ts';
import { useController } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';

const REFRESH_MS = 10_000;

/** Up, if perhaps slow or degraded: what is not an outage. */
const isGood = (subject: string, state: string): boolean => ['ok', 'warn'].includes(toneOfSubjectState(subject, state));
const hhmm = (t: number): string => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function subjectLabel(subject: string): { kind: string; name: string } {
  if (subject === 'docker') return { kind: 'Docker', name: '' };
  if (subject === 'server') return { kind: 'Server', name: '' };
  const colon = subject.indexOf(':');
  const kind = subject.slice(0, colon);
  return { kind: kind === 'cluster' ? 'Cluster' : kind === 'context' ? 'Context' : kind, name: subject.slice(colon + 1) };
}

export function HistoryPage() {
  const controller = useController();
  const [data, setData] = useState<{ history?: HistoryResponse; failure?: ApiFailure; at?: number; loading: boolean }>({ loading: true });
  const now = useNow(REFRESH_MS);

  const load = useCallback(() => {
    setData((d) => ({ ...d, loading: true }));
    void controller.server.history().then((r) => {
      if (r.ok && r.data && Array.isArray(r.data.changes)) setData({ history: r.data, at: Date.now(), loading: false });
      else setData((d) => ({ ...d, failure: r.ok ? { status: r.status, error: { error: 'the server sent no history' } } : r.failure, loading: false }));
    });
  }, [controller]);

  useEffect(() => {
    load();
    const t = setInterval(load, REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);

  const head = (
    <div className="page-head">
      <h1>History</h1>
      <div className="actions">
        <span className="muted small">{data.at ? `As of ${formatClock(data.at)}` : ''}</span>
        <button type="button" className="button" onClick={load} disabled={data.loading}>
          {data.loading && <Spinner />} Refresh
        </button>
      </div>
    </div>
  );

  if (!data.history) {
    return (
      <>
        {head}
        {data.failure ? <Failure title="The history cannot be loaded" failure={data.failure} onRetry={load} /> : <Loading what="the last hour" />}
      </>
    );
  }

  const { from, to } = timeWindow(data.history.changes, data.history.latency, Math.max(now, data.at ?? now));
  const hour = to - from >= 59 * 60_000;
  const rows = timelineRows(data.history.changes, from, to, isGood);
  return (
    <>
      {head}
      {data.failure && (
        <p className="notice error" role="alert">
          Could not refresh: {data.failure.error.error}. Showing the history as of {data.at ? formatClock(data.at) : '—'}.
        </p>
      )}
      <section className="card" aria-labelledby="timeline-title">
        <div className="card-head">
          <h2 id="timeline-title">
            State changes <span className="muted small">{hour ? 'the last hour' : `the last ${formatDuration(to - from).replace(/ \d+ s$/, '')}, since records begin`}</span>
          </h2>
          <Legend />
        </div>
        {rows.length === 0 ? (
          <Empty title="Nothing recorded yet">The history starts when Kindtray starts, and keeps one hour.</Empty>
        ) : (
          <div className="timeline" data-testid="history-timeline">
            {rows.map((r) => (
              <TimelineRow key={r.subject} row={r} from={from} to={to} />
            ))}
            <Axis from={from} to={to} />
          </div>
        )}
      </section>
      <LatencyCard samples={data.history.latency} from={from} to={to} />
      {data.history.changes.length > 0 && (
        <details className="card">
          <summary>
            <h2 className="inline">Every change ({data.history.changes.length})</h2>
          </summary>
          <table className="table compact" data-testid="history-changes">
            <TableHead columns={['Time', 'Subject', 'State', 'Cause']} />
            <tbody>
              {[...data.history.changes].reverse().map((c, i) => (
                <tr key={`${c.at}-${c.subject}-${i}`}>
                  <td className="mono">{formatClock(c.at)}</td>
                  <td>{c.subject}</td>
                  <td>
                    <span className="swatch" data-tone={c.state === 'removed' ? 'idle' : toneOfSubjectState(c.subject, c.state)} aria-hidden="true" /> {c.state}
                  </td>
                  <td className="muted">{c.cause ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </>
  );
}

function Legend() {
  return (
    <ul className="legend" aria-label="Colours">
      {(
        [
          ['ok', 'healthy'],
          ['warn', 'degraded'],
          ['error', 'down'],
          ['busy', 'restarting'],
          ['unknown', 'unknown'],
        ] as const
      ).map(([tone, label]) => (
        <li key={tone}>
          <span className="swatch" data-tone={tone} aria-hidden="true" />
          {label}
        </li>
      ))}
    </ul>
  );
}

function rowSummary(row: SubjectRow, to: number): string {
  const open = row.outages.find((o) => o.to === undefined);
  const current = row.segments[row.segments.length - 1];
  if (open) return `down since ${hhmm(open.from)} (${formatDuration(to - open.from).replace(/ \d+ s$/, '')})`;
  const last = row.outages[row.outages.length - 1];
  if (last?.to !== undefined) {
    const n = row.outages.length;
    const took = formatDuration(last.to - last.from).replace(/ \d+ s$/, '');
    return n === 1 ? `down ${took}, back at ${hhmm(last.to)}` : `down ${n}×, last back at ${hhmm(last.to)}`;
  }
  return current ? `${current.state} all along` : '';
}

function TimelineRow({ row, from, to }: { row: SubjectRow; from: number; to: number }) {
  const label = subjectLabel(row.subject);
  const span = to - from;
  const summary = rowSummary(row, to);
  return (
    <div className="timeline-row" data-testid={`history-row-${row.subject}`}>
      <div className="timeline-label">
        <span className="muted small">{label.kind}</span> {label.name && <strong>{label.name}</strong>}
      </div>
      <div
        className="track"
        role="img"
        aria-label={`${row.subject}: ${row.segments.map((s) => `${s.state} from ${formatClock(s.from)}${s.current ? '' : ` to ${formatClock(s.to)}`}`).join('; ')}`}
      >
        {row.segments.map((s, i) => (
          <div
            key={i}
            className="seg"
            data-tone={s.state === 'removed' ? 'idle' : toneOfSubjectState(row.subject, s.state)}
            data-state={s.state}
            style={{ left: `${((s.from - from) / span) * 100}%`, width: `${Math.max(0.3, ((s.to - s.from) / span) * 100)}%` }}
            title={`${s.state}: ${formatClock(s.from)} – ${s.current ? 'now' : formatClock(s.to)} (${formatDuration(s.to - s.from)})${s.cause ? `\n${s.cause}` : ''}`}
          />
        ))}
      </div>
      <div className="timeline-summary small">{summary}</div>
    </div>
  );
}

function Axis({ from, to }: { from: number; to: number }) {
  return (
    <div className="timeline-row axis" aria-hidden="true">
      <div />
      <div className="track bare">
        {ticks(from, to).map((t) => (
          <span key={t} className="tick" style={{ left: `${((t - from) / (to - from)) * 100}%` }}>
            {new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
          </span>
        ))}
        <span className="tick now">now</span>
      </div>
      <div />
    </div>
  );
}

const SPARK_W = 600;
const SPARK_H = 64;

function LatencyCard({ samples, from, to }: { samples: { at: string; ms: number }[]; from: number; to: number }) {
  const s = sparkline(samples, from, to, SPARK_W, SPARK_H);
  return (
    <section className="card" aria-labelledby="latency-title">
      <div className="card-head">
        <h2 id="latency-title">Server latency</h2>
        {s.last !== undefined && (
          <span className="muted small" data-testid="latency-summary">
            now {formatDuration(s.last)} · min {formatDuration(s.min)} · max {formatDuration(s.max)}
          </span>
        )}
      </div>
      {s.path === '' ? (
        <Empty title="Not enough samples yet">The supervisor measures the API worker's answer time every few seconds.</Empty>
      ) : (
        <div className="sparkline-wrap">
          <span className="spark-top muted small">{formatDuration(s.top)}</span>
          <svg
            className="sparkline"
            viewBox={`0 0 ${SPARK_W} ${SPARK_H}`}
            preserveAspectRatio="none"
            role="img"
            aria-label={`Server latency over the last hour: now ${formatDuration(s.last ?? 0)}, at most ${formatDuration(s.max)}`}
            data-testid="latency-sparkline"
          >
            <line x1="0" x2={SPARK_W} y1={SPARK_H / 2} y2={SPARK_H / 2} className="gridline" />
            <path d={s.area} className="spark-area" />
            <path d={s.path} className="spark-line" vectorEffect="non-scaling-stroke" />
          </svg>
          <span className="spark-bottom muted small">0</span>
        </div>
      )}
    </section>
  );
}
