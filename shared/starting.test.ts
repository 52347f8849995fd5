// The starting and checking states as every view shows them: busy, no Restart,
// and words that say "starting", never "unreachable".
import { describe, expect, it } from 'vitest';
import { rootCauseFor, withProblems, type SnapshotInput } from './problems.ts';
import { healthyInput, kindCluster } from './snapshot-fixtures.ts';
import { renderStatus } from './status-text.ts';
import { trayView } from './tray-view.ts';

function withDevStarting(): SnapshotInput {
  const s = healthyInput();
  return {
    ...s,
    clusters: s.clusters.map((c) => (c.name === 'dev' ? kindCluster('dev', { state: 'starting', cause: 'started 3 s ago; waiting for its API to answer', startingSince: 1 }, 41001) : c)),
    contexts: s.contexts.map((c) => (c.name === 'kind-dev' ? { ...c, state: 'checking', cause: 'cluster dev is starting' } : c)),
  };
}

describe('a cluster starting', () => {
  it('tray: busy icon, "starting…" line, no Restart or Start offered for it', () => {
    const v = trayView(withProblems(withDevStarting()));
    expect(v.icon).toBe('busy');
    expect(v.menu.some((i) => i.label.startsWith('dev: starting…'))).toBe(true);
    expect(v.menu.filter((i) => i.kind === 'fix')).toEqual([]);
    expect(v.tooltip).toContain('Cluster dev is starting…');
  });

  it('its context follows it (checking, no fix of its own), and a launch onto it names the start as its cause', () => {
    const s = withProblems(withDevStarting());
    const ctx = s.problems.find((p) => p.id === 'context:kind-dev:checking');
    expect(ctx).toMatchObject({ causedBy: 'cluster:dev:starting', severity: 'info' });
    expect(ctx?.fix).toBeUndefined();
    expect(rootCauseFor(s, 'kind-dev')?.id).toBe('cluster:dev:starting');
  });

  it('status text marks it busy, and exits as no error', () => {
    const text = renderStatus(withProblems(withDevStarting()), { color: false });
    expect(text).toMatch(/dev\s+starting…/);
    expect(text).not.toContain('unreachable');
  });
});

describe('Docker starting', () => {
  it('busy, its clusters follow it as unknown, and nothing offers a fix', () => {
    const s = healthyInput();
    const input: SnapshotInput = {
      ...s,
      docker: { ...s.docker, state: 'starting', cause: 'started 2 s ago' },
      clusters: s.clusters.map((c) => ({ ...c, state: 'unknown' as const })),
      contexts: s.contexts.map((c) => ({ ...c, state: 'unreachable' as const, cause: 'Docker is not running' })),
    };
    const snap = withProblems(input);
    expect(snap.overall).toBe('busy');
    expect(snap.problems[0]?.id).toBe('docker:starting');
    expect(snap.problems.every((p) => p.fix === undefined)).toBe(true);
    expect(snap.problems.filter((p) => p.id.startsWith('cluster:')).every((p) => p.causedBy === 'docker:starting')).toBe(true);
    const v = trayView(snap);
    expect(v.menu[0]).toMatchObject({ label: 'Docker: starting…', state: 'busy' });
  });

  it('a running fix is named by its label even when no problem offers it any more', () => {
    const s = withProblems(healthyInput(), { busy: ['start-docker'] });
    expect(s.problems.find((p) => p.id === 'fix:start-docker:running')?.title).toBe('Start Docker: running…');
  });
});
