// The first command of the day just works: a validation that meets only "not
// yet" (a context whose first probe has not answered, a cluster starting) is
// judged again on each new snapshot, within the validation deadline; a real
// problem is answered at once.

import { describe, expect, it } from 'vitest';
import type { SnapshotMessage } from '../../shared/contracts/worker.ts';
import { withProblems } from '../../shared/problems.ts';
import { healthyInput } from '../../shared/snapshot-fixtures.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { validateWithFreshSnapshot } from './validate.ts';

const TASK = 'name: web\nresources:\n  infra: k8s/kind-dev\n  ports: 8080\nrun: python -m http.server 8080\n';

function snapshot(change: (s: ReturnType<typeof healthyInput>) => void = () => undefined): HealthSnapshot {
  const input = healthyInput();
  input.checkedAt = new Date().toISOString();
  change(input);
  return withProblems(input);
}
const checking = () => snapshot((s) => (s.contexts = s.contexts.map((c) => (c.name === 'kind-dev' ? { ...c, state: 'checking' } : c))));
const push = (cache: SnapshotCache, s: HealthSnapshot) => cache.accept({ type: 'snapshot', snapshot: s, ageMs: 0 } satisfies SnapshotMessage);

describe('validation on a server that has just started', () => {
  it('a context still checking: waits for the first probe, then judges it (ok)', async () => {
    const cache = new SnapshotCache(() => undefined);
    push(cache, checking());
    setTimeout(() => push(cache, snapshot()), 300);
    const started = Date.now();
    const r = await validateWithFreshSnapshot(TASK, cache, { deadlineMs: 2_500 });
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('still checking at the deadline: "not yet" on resources, in time, with no fix', async () => {
    const cache = new SnapshotCache(() => undefined);
    push(cache, checking());
    const started = Date.now();
    const r = await validateWithFreshSnapshot(TASK, cache, { deadlineMs: 600 });
    expect(Date.now() - started).toBeLessThanOrEqual(600);
    expect(r.ok).toBe(false);
    expect(r.errors).toMatchObject([{ path: 'resources', waitable: true }]);
    expect(r.errors[0]?.fix).toBeUndefined();
  });

  it('a real problem (Docker stopped) is answered at once, not waited on', async () => {
    const cache = new SnapshotCache(() => undefined);
    push(cache, snapshot((s) => (s.docker = { state: 'stopped', endpoint: s.docker.endpoint })));
    const started = Date.now();
    const r = await validateWithFreshSnapshot(TASK, cache, { deadlineMs: 2_500 });
    expect(Date.now() - started).toBeLessThan(200);
    expect(r.errors[0]?.fix?.id).toBe('start-docker');
  });
});
