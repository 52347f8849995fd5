// The frame around every page: the navigation, the connection's state (live,
// or lost and retrying, with the age of what is on screen), and the overall
// banner led by the root problem and its fix.

import { affectedSummary, followersOf, headline, isInProgress, isRoot } from '../../../shared/problems.ts';
import type { Problem } from '../../../shared/snapshot.ts';
import { STALE_SNAPSHOT_MS } from '../../../shared/status-text.ts';
import { allGoodSummary } from '../../../shared/view-words.ts';
import { OVERALL_TONE, formatAgo, formatDuration, plural, useNow } from '../format.ts';
import { href, type Route } from '../route.ts';
import { snapshotAgeMs } from '../store/state.ts';
import { useDashboard } from '../store/store.ts';
import { labelled } from '../fixes.ts';
import { FixButton, Spinner } from './common.tsx';

const NAV: { route: Route; label: string; pages: Route['page'][] }[] = [
  { route: { page: 'overview' }, label: 'Overview', pages: ['overview'] },
  { route: { page: 'tasks' }, label: 'Tasks', pages: ['tasks', 'task'] },
  { route: { page: 'clusters' }, label: 'Clusters', pages: ['clusters', 'cluster', 'new-cluster'] },
  { route: { page: 'launch' }, label: 'Launch', pages: ['launch'] },
  { route: { page: 'diagnostics' }, label: 'Diagnostics', pages: ['diagnostics'] },
  { route: { page: 'history' }, label: 'History', pages: ['history'] },
  { route: { page: 'settings' }, label: 'Settings', pages: ['settings'] },
];

export function Header({ route }: { route: Route }) {
  const overall = useDashboard((s) => s.status?.snapshot.overall);
  return (
    <header className="header">
      <a className="brand" href="#/" aria-label="Kindtray overview">
        <span className="brand-mark" data-tone={overall ? OVERALL_TONE[overall] : 'unknown'} aria-hidden="true" />
        Kindtray
      </a>
      <nav aria-label="Pages">
        <ul>
          {NAV.map((n) => (
            <li key={n.label}>
              <a href={href(n.route)} aria-current={n.pages.includes(route.page) ? 'page' : undefined} data-testid={`nav-${n.route.page}`}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <ConnectionPill />
    </header>
  );
}

/** "Live · checked 3 s ago", or "Reconnecting in 4 s": always in view, so stale data never passes for fresh. */
function ConnectionPill() {
  const connection = useDashboard((s) => s.connection);
  const status = useDashboard((s) => s.status);
  const now = useNow(1000);
  const age = snapshotAgeMs(status, now);
  let text: string;
  let tone: string;
  switch (connection.phase) {
    case 'connecting':
      text = 'Connecting…';
      tone = 'busy';
      break;
    case 'live':
      // Live means changes arrive as they happen; an age is worth saying only when the monitor itself has gone quiet.
      text = age !== undefined && age > STALE_SNAPSHOT_MS ? `Live · last checked ${formatAgo(age)}` : 'Live';
      tone = age !== undefined && age > STALE_SNAPSHOT_MS ? 'warn' : 'ok';
      break;
    case 'lost':
      text = `Connection lost · retrying ${connection.retryAt <= now ? 'now' : `in ${Math.ceil((connection.retryAt - now) / 1000)} s`}`;
      tone = 'error';
      break;
    case 'unauthorized':
      text = 'Not signed in';
      tone = 'error';
      break;
  }
  return (
    <div
      className="pill"
      data-tone={tone}
      data-testid="connection-status"
      data-phase={connection.phase}
      role="status"
      aria-live="polite"
      title={age !== undefined ? `The snapshot on screen was taken ${formatAgo(age)}.` : undefined}
    >
      {connection.phase === 'connecting' ? <Spinner /> : <span className="dot" aria-hidden="true" />}
      {text}
    </div>
  );
}

/** Shown under the header while the connection is down: what is on screen, and how old it is. */
export function ConnectionNotice() {
  const connection = useDashboard((s) => s.connection);
  const status = useDashboard((s) => s.status);
  const now = useNow(1000);
  if (connection.phase === 'live' || connection.phase === 'connecting') return null;
  const age = snapshotAgeMs(status, now);
  if (connection.phase === 'unauthorized') {
    return (
      <div className="notice error" role="alert" data-testid="connection-notice">
        <strong>Not signed in to the Kindtray server.</strong> Dashboard links work once: run <code>kindtray dashboard</code> for a
        fresh one. <span className="muted">({connection.error})</span>
      </div>
    );
  }
  return (
    <div className="notice error" role="alert" data-testid="connection-notice">
      <strong>Connection to Kindtray lost, retrying.</strong>{' '}
      {age !== undefined ? `What you see was last checked ${formatAgo(age)} and may be out of date.` : 'Nothing has been received yet.'}{' '}
      <span className="muted">
        Lost for {formatDuration(now - connection.since)}; attempt {connection.attempt}: {connection.error}
      </span>
    </div>
  );
}

/** The overall state, led by the root cause: "Docker is not running: 2 clusters and 1 context affected". */
export function OverallBanner({ compact = false }: { compact?: boolean }) {
  const snapshot = useDashboard((s) => s.status?.snapshot);
  const stale = useDashboard((s) => s.connection.phase !== 'live');
  const fixes = useDashboard((s) => s.fixes);
  const now = useNow(5_000);
  if (!snapshot) {
    return (
      <section className="banner" data-tone="unknown" data-testid="overall-banner" data-state="loading" aria-busy="true">
        <Spinner />
        <div className="banner-text">
          <h1 className="banner-title">Looking at Docker and your clusters…</h1>
        </div>
      </section>
    );
  }
  const roots = snapshot.problems.filter((p) => isRoot(p) && p.severity !== 'info');
  const busy = snapshot.problems.find(isInProgress);
  const lead = roots[0];
  const more = roots.length - 1;
  const title = lead ? headline(lead, snapshot.problems) : busy ? busy.title : `All good: ${allGoodSummary(snapshot)}`;
  // Fixes that just ended and whose button is gone (their problem went away): say how they went, here.
  const offered = new Set(snapshot.problems.flatMap((p) => (p.fix ? [p.fix.id] : [])));
  const recent = Object.entries(fixes).flatMap(([id, run]) =>
    run.state !== 'running' && now - run.finishedAt < RECENT_OUTCOME_MS && !offered.has(id) ? [{ id, run }] : [],
  );
  return (
    <>
    <section
      className={`banner${compact ? ' compact' : ''}`}
      data-tone={OVERALL_TONE[snapshot.overall]}
      data-testid="overall-banner"
      data-state={snapshot.overall}
      data-stale={stale ? 'true' : undefined}
      aria-label="Overall state"
    >
      {snapshot.overall === 'busy' ? <Spinner /> : <span className="banner-icon" aria-hidden="true" />}
      <div className="banner-text">
        <h1 className="banner-title" data-testid="overall-headline">
          {title}
        </h1>
        {!compact && lead && <p className="banner-detail">{detailWithoutSummary(lead, snapshot.problems)}</p>}
        {busy && lead && <p className="banner-detail">{busy.title}</p>}
        {more > 0 && (
          <p className="banner-detail">
            <a href="#/diagnostics">{plural(more, 'more problem')}</a>
          </p>
        )}
      </div>
      {lead?.fix && (
        <div className="banner-actions">
          <FixButton fix={lead.fix} primary />
        </div>
      )}
    </section>
    {recent.length > 0 && (
      <ul className="recent-outcomes" data-testid="fix-outcomes-recent" aria-label="Fixes just run">
        {recent.map(({ id, run }) => (
          <li key={id} className="fix-outcome" data-fix-id={id} data-outcome={run.state} role="status">
            {run.state === 'done' ? '✓' : '✗'} <strong>{labelled({ id }).label}</strong>: {run.message || (run.state === 'done' ? 'done' : 'failed')}
            {run.durationMs !== undefined && <span className="muted"> ({formatDuration(run.durationMs)})</span>}
          </li>
        ))}
      </ul>
    )}
    </>
  );
}

/** How long a finished fix is still reported under the banner. */
const RECENT_OUTCOME_MS = 30_000;

/** The root's detail without its leading "2 clusters and 1 context affected." sentence, which the headline already says. */
function detailWithoutSummary(root: Problem, problems: readonly Problem[]): string {
  const summary = affectedSummary(followersOf(root, problems));
  if (summary === '') return root.detail;
  const lead = `${summary}.`;
  return root.detail.toLowerCase().startsWith(lead.toLowerCase()) ? root.detail.slice(lead.length).trim() : root.detail;
}
