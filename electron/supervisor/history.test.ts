import { describe, expect, it } from 'vitest';
import { withProblems } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput } from '../../shared/snapshot-fixtures.ts';

const healthy = () => withProblems(healthyInput());
const dockerStopped = () => withProblems(dockerStoppedInput());
import { History } from './history.ts';

describe('the last hour of state changes', () => {
  it('records each subject once at first, then only its changes', () => {
    const h = new History();
    const t0 = Date.parse('2026-11-25T10:00:00Z');
    h.observe(healthy(), t0);
    const first = h.view(t0).changes;
    expect(first.map((c) => c.subject)).toContain('docker');
    h.observe(healthy(), t0 + 1000);
    expect(h.view(t0 + 1000).changes).toHaveLength(first.length);
    h.observe(dockerStopped(), t0 + 2000);
    const docker = h.view(t0 + 2000).changes.filter((c) => c.subject === 'docker');
    expect(docker.map((c) => c.state)).toEqual(['running', 'stopped']);
  });

  it('forgets what is older than an hour but keeps each subject state at the window start', () => {
    const h = new History();
    const t0 = Date.parse('2026-11-25T10:00:00Z');
    h.observe(healthy(), t0);
    h.observe(dockerStopped(), t0 + 10 * 60_000);
    const later = t0 + 2 * 60 * 60_000;
    const docker = h.view(later).changes.filter((c) => c.subject === 'docker');
    expect(docker).toHaveLength(1);
    expect(docker[0]?.state).toBe('stopped');
    expect(docker[0]?.at).toBe(new Date(later - 60 * 60_000).toISOString());
  });

  it('a note is an entry of its own, with its words', () => {
    const h = new History();
    const t0 = Date.parse('2026-11-25T10:00:00Z');
    h.note('cluster:dev', 'created', 'create took 41.2 s', t0);
    expect(h.view(t0).changes).toEqual([{ at: new Date(t0).toISOString(), subject: 'cluster:dev', state: 'created', cause: 'create took 41.2 s' }]);
  });
});
