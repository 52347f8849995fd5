import { describe, expect, it, vi } from 'vitest';
import { withProblems } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput, kindCluster } from '../../shared/snapshot-fixtures.ts';
import type { FixStep } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { StepLog, type FixContext } from './context.ts';
import { runFix } from './index.ts';
import { planRecovery, wasRunning } from './recovery.ts';

/** Docker down, as the monitor shows it: what Docker last said of each node kept as lastSeenState. */
function dockerDown(lastSeen: Record<string, string>): HealthSnapshot {
  const s = dockerStoppedInput();
  return withProblems({
    ...s,
    clusters: Object.entries(lastSeen).map(([name, state]) => ({
      ...kindCluster(name),
      state: 'unknown' as const,
      nodes: [
        { name: `${name}-control-plane`, role: 'control-plane', state: 'unknown', lastSeenState: state },
        { name: `${name}-worker`, role: 'worker', state: 'unknown', lastSeenState: state },
      ],
    })),
  });
}

describe('planning the one-click recovery', () => {
  it('Start Docker, then each cluster that was running before Docker went down, then its context', () => {
    const plan = planRecovery(dockerDown({ dev: 'running', old: 'exited', test: 'running' }), { restart: false, restartClusters: true });
    expect(plan.clusters).toEqual([
      { name: 'dev', context: 'kind-dev' },
      { name: 'test', context: 'kind-test' },
    ]);
    expect(plan.steps.map((s) => s.id)).toEqual(['docker', 'cluster:dev', 'context:kind-dev', 'cluster:test', 'context:kind-test']);
    expect(plan.steps[0]?.label).toBe('Start Docker');
  });

  it('the setting off: Docker only', () => {
    const plan = planRecovery(dockerDown({ dev: 'running' }), { restart: false, restartClusters: false });
    expect(plan.steps).toEqual([{ id: 'docker', label: 'Start Docker' }]);
  });

  it('Restart Docker of an engine that still answered: the clusters running now (not the stopped ones)', () => {
    const s = withProblems({ ...healthyInput(), clusters: [kindCluster('dev'), kindCluster('idle', { state: 'stopped' }), kindCluster('slow', { state: 'unreachable' })] });
    const plan = planRecovery(s, { restart: true, restartClusters: true });
    expect(plan.clusters.map((c) => c.name)).toEqual(['dev', 'slow']);
    expect(plan.steps[0]?.label).toBe('Restart Docker');
  });

  it('a cluster whose state is unknown counts by its control plane only', () => {
    const c = dockerDown({ dev: 'running' }).clusters[0]!;
    expect(wasRunning(c)).toBe(true);
    expect(wasRunning({ ...c, nodes: [{ name: 'w', role: 'worker', state: 'unknown', lastSeenState: 'running' }] })).toBe(false);
  });
});

describe('steps as they go', () => {
  it('each change is told at once; a step ends once', () => {
    const told: FixStep[] = [];
    const log = new StepLog((s) => told.push(s));
    const a = log.begin('docker', 'Start Docker');
    a.done('answered after 2 s');
    a.failed('too late');
    log.begin('cluster:dev', 'Start cluster dev').skipped('it no longer exists');
    expect(told.map((s) => `${s.id} ${s.state}`)).toEqual(['docker running', 'docker done', 'cluster:dev running', 'cluster:dev skipped']);
    expect(log.steps.map((s) => s.state)).toEqual(['done', 'skipped']);
  });
});

function context(snapshot: HealthSnapshot, over: Partial<FixContext> = {}): FixContext {
  return {
    snapshot: () => snapshot,
    refresh: vi.fn(async () => snapshot),
    waitFor: async () => false,
    docker: () => {
      throw new Error('no Docker in this test');
    },
    dockerStartCommand: '',
    restartServer: async () => undefined,
    env: {},
    platform: 'linux',
    ...over,
  };
}

describe('Restart Docker says plainly when it cannot, at once', () => {
  it('a hung engine with no manager Kindtray knows: advice, no command, no wait', async () => {
    const s = withProblems({ ...healthyInput(), docker: { state: 'unresponsive', endpoint: 'unix:///tmp/bed/docker.sock', endpointSource: 'DOCKER_HOST' } });
    const waitFor = vi.fn(async () => false);
    const r = await runFix({ kind: 'restart-docker' }, context(s, { waitFor, platform: 'freebsd' }));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/cannot restart the engine at unix:\/\/\/tmp\/bed\/docker\.sock/);
    expect(r.durationMs).toBeLessThan(5_000);
    expect(waitFor).not.toHaveBeenCalled();
  });

  it('Start Docker on a hung engine takes the restart path (never a start that waits for nothing)', async () => {
    const s = withProblems({ ...healthyInput(), docker: { state: 'unresponsive', endpoint: 'unix:///tmp/bed/docker.sock' } });
    const r = await runFix({ kind: 'start-docker' }, context(s, { platform: 'freebsd' }));
    expect(r).toMatchObject({ ok: false });
    expect(r.message).toMatch(/cannot restart/);
  });

  it('a failing start reports its failed step in the result', async () => {
    const s = dockerDown({ dev: 'running' });
    const marks: unknown[] = [];
    const r = await runFix({ kind: 'start-docker' }, context(s, { dockerStartCommand: 'exit 3', markStarting: (w) => marks.push(w) }));
    expect(r.ok).toBe(false);
    expect(r.message).toContain('"exit 3" failed (exit 3)');
    expect(r.steps).toMatchObject([{ id: 'docker', state: 'failed' }]);
    expect(marks).toEqual([{ docker: true }]);
  });
});
