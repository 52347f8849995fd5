import { describe, expect, it, vi } from 'vitest';
import { withProblems } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput, kindCluster } from '../../shared/snapshot-fixtures.ts';
import type { FixStep } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { StepLog, type FixContext } from './context.ts';
import { runFix } from './index.ts';
import { planRecovery, recoverClusters, wasRunning } from './recovery.ts';

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

describe('a multi-node cluster across a Docker restart (KinD\'s workers lost)', () => {
  const twoNodes = (workerReady: boolean) =>
    withProblems({
      ...healthyInput(),
      clusters: [
        kindCluster('dev', {
          state: workerReady ? 'running' : 'degraded',
          nodes: [
            { name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true },
            { name: 'dev-worker', role: 'worker', state: 'running', ready: workerReady },
          ],
        }),
      ],
    });

  /** A cluster whose containers run; a restart brings the worker back when `mends` (as restarting a KinD cluster does). */
  function world(start: HealthSnapshot, mends: boolean) {
    let current = start;
    const calls: string[] = [];
    const container = (id: string) => ({
      start: async () => void calls.push(`start ${id}`),
      restart: async () => {
        calls.push(`restart ${id}`);
        if (mends) current = twoNodes(true);
      },
    });
    const docker = {
      listContainers: async () => [
        { Id: 'cp', State: 'running', Labels: { 'io.x-k8s.kind.cluster': 'dev', 'io.x-k8s.kind.role': 'control-plane' } },
        { Id: 'w', State: 'running', Labels: { 'io.x-k8s.kind.cluster': 'dev', 'io.x-k8s.kind.role': 'worker' } },
      ],
      getContainer: container,
    };
    const ctx = context(start, {
      snapshot: () => current,
      refresh: async () => current,
      waitFor: async (pred: (s: HealthSnapshot) => boolean) => pred(current),
      docker: () => docker as unknown as ReturnType<FixContext['docker']>,
    });
    return { ctx, calls };
  }
  const plan = { clusters: [{ name: 'dev', context: 'kind-dev' }], steps: [] };

  it('workers NotReady after the API answers: the chain restarts the cluster once, and says why', async () => {
    const { ctx, calls } = world(twoNodes(false), true);
    const log = new StepLog();
    const r = await recoverClusters(ctx, plan, log);
    expect(r.ok).toBe(true);
    expect(r.text).toContain('the Docker restart left dev-worker NotReady; the cluster was restarted');
    expect(calls).toEqual(['restart cp', 'restart w']);
    expect(log.steps.map((st) => `${st.id} ${st.state}`)).toEqual(['cluster:dev done', 'context:kind-dev skipped', 'workers:dev done']);
  });

  it('workers Ready: no restart', async () => {
    const { ctx, calls } = world(twoNodes(true), true);
    const log = new StepLog();
    expect((await recoverClusters(ctx, plan, log)).ok).toBe(true);
    expect(calls).toEqual([]);
    expect(log.steps.at(-1)).toMatchObject({ id: 'workers:dev', state: 'done', message: 'its worker is Ready' });
  });

  it('a restart that does not mend them: the chain fails on that step, naming the workers', async () => {
    const { ctx } = world(twoNodes(false), false);
    const log = new StepLog();
    const r = await recoverClusters(ctx, plan, log);
    expect(r.ok).toBe(false);
    expect(log.steps.at(-1)).toMatchObject({ id: 'workers:dev', state: 'failed' });
    expect(log.steps.at(-1)?.message).toContain('dev-worker still not Ready');
  });
});
