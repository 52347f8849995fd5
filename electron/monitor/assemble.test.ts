import { describe, expect, it } from 'vitest';
import type { ContextHealth } from '../../shared/snapshot.ts';
import { assembleSnapshot, type Observations } from './assemble.ts';
import type { KindClusterView } from './kind.ts';
import type { KubeProbeResult } from './kube-probe.ts';

const now = Date.parse('2026-11-25T12:00:00Z');
const running = { state: 'running' as const, endpoint: 'unix:///d.sock', version: '20.10.24' };
const dev = (over: Partial<KindClusterView> = {}): KindClusterView => ({
  name: 'dev',
  context: 'kind-dev',
  nodes: [{ name: 'dev-control-plane', role: 'control-plane', state: 'running' }],
  allRunning: true,
  controlPlaneRunning: true,
  apiHostPort: 41000,
  apiEndpoint: 'https://127.0.0.1:41000',
  portMappings: [],
  ...over,
});
const ctx: ContextHealth = { name: 'kind-dev', current: true, state: 'unknown', cluster: 'kind-dev', server: 'https://127.0.0.1:41000' };
const probe = (over: Partial<KubeProbeResult> = {}): KubeProbeResult => ({
  context: 'kind-dev',
  state: 'ok',
  server: 'https://127.0.0.1:41000',
  version: 'v1.31.0',
  nodes: [{ name: 'dev-control-plane', ready: true, roles: ['control-plane'], cpus: 2, memoryBytes: 4 * 2 ** 30 }],
  latencyMs: 12,
  finishedAt: now - 1000,
  ...over,
});
const obs = (over: Partial<Observations> = {}): Observations => ({
  docker: { health: running, containers: [], observedAt: now - 500 },
  clusters: [dev()],
  contexts: [ctx],
  probes: new Map([['kind-dev', probe()]]),
  server: { state: 'healthy', port: 46590, pid: 1 },
  now,
  ...over,
});

describe('one snapshot from what the monitor saw', () => {
  it('all healthy → ok, cluster running with version and node capacity, context ok', () => {
    const s = assembleSnapshot(obs());
    expect(s.overall).toBe('ok');
    expect(s.clusters[0]).toMatchObject({ state: 'running', kubernetesVersion: 'v1.31.0', nodes: [{ ready: true, cpus: 2 }] });
    expect(s.contexts[0]).toMatchObject({ state: 'ok', latencyMs: 12 });
    expect(s.checkedAt).toBe(new Date(now - 500).toISOString());
  });

  it('Docker stopped → clusters unknown (not running), contexts unreachable because of Docker', () => {
    const s = assembleSnapshot(obs({ docker: { health: { state: 'stopped', endpoint: 'unix:///d.sock', cause: 'no socket' }, containers: [], observedAt: now } }));
    expect(s.clusters[0]?.state).toBe('unknown');
    expect(s.contexts[0]).toMatchObject({ state: 'unreachable', cause: 'Docker is not running' });
    expect(s.overall).toBe('error');
    expect(s.problems[0]?.fix?.id).toBe('start-docker');
  });

  it('Docker answers again (after a freeze): a probe begun before is history, so the cluster is unknown and its context checking until one begun since answers', () => {
    const back = now - 100;
    const old = probe({ finishedAt: back - 2_000 });
    const s = assembleSnapshot(obs({ probes: new Map([['kind-dev', old]]), dockerBackAt: back }));
    expect(s.clusters[0]).toMatchObject({ state: 'unknown', cause: 'Docker answers again; checking its API' });
    expect(s.contexts[0]?.state).toBe('checking');
    expect(s.overall).not.toBe('ok');
    expect(s.problems.filter((p) => p.fix)).toEqual([]);
    // A probe begun after Docker came back counts, whatever it says.
    const fresh = assembleSnapshot(obs({ probes: new Map([['kind-dev', probe({ finishedAt: now, latencyMs: 50 })]]), dockerBackAt: back }));
    expect(fresh.clusters[0]?.state).toBe('running');
    const hung = assembleSnapshot(obs({ probes: new Map([['kind-dev', probe({ state: 'unreachable', finishedAt: now, latencyMs: 90, cause: 'no answer' })]]), dockerBackAt: back }));
    expect(hung.clusters[0]?.state).toBe('unreachable');
  });

  it('Docker answering again says nothing of a context that is not KinD: its probe still counts', () => {
    const remote = { ...ctx, name: 'remote', current: true, cluster: 'remote' };
    const p = probe({ context: 'remote', finishedAt: now - 3_000 });
    const s = assembleSnapshot(obs({ clusters: [], contexts: [remote], probes: new Map([['remote', p]]), dockerBackAt: now - 100 }));
    expect(s.contexts[0]?.state).toBe('ok');
  });

  it('Docker stopped → what it said of the nodes while up is last-seen history, never a current (green) running', () => {
    const s = assembleSnapshot(obs({ docker: { health: { state: 'stopped', endpoint: 'unix:///d.sock', cause: 'no socket' }, containers: [], observedAt: now }, dockerLastUpAt: now - 120_000 }));
    const c = s.clusters[0];
    expect(c?.lastSeenAt).toBe(now - 120_000);
    expect(c?.nodes.length).toBeGreaterThan(0);
    for (const n of c?.nodes ?? []) {
      expect(n.state).toBe('unknown');
      expect(n.lastSeenState).toBe('running');
      // Readiness came from a probe of a cluster that cannot be asked now.
      expect(n.ready).toBeUndefined();
    }
  });

  it('Docker unresponsive → clusters unknown, said as "not responding"', () => {
    const s = assembleSnapshot(obs({ docker: { health: { state: 'unresponsive', endpoint: 'unix:///d.sock', cause: 'no answer in 500 ms' }, containers: [], observedAt: now } }));
    expect(s.clusters[0]).toMatchObject({ state: 'unknown', cause: 'Docker is not responding' });
    expect(s.clusters[0]?.nodes.every((n) => n.state === 'unknown')).toBe(true);
  });

  it('control-plane container stopped → cluster stopped, whatever an old probe said', () => {
    const s = assembleSnapshot(obs({ clusters: [dev({ controlPlaneRunning: false, allRunning: false, nodes: [{ name: 'dev-control-plane', role: 'control-plane', state: 'exited' }] })] }));
    expect(s.clusters[0]?.state).toBe('stopped');
    expect(s.problems.some((p) => p.fix?.id === 'start-cluster:dev')).toBe(true);
  });

  it('API silent → cluster unreachable with the probe cause', () => {
    const s = assembleSnapshot(obs({ probes: new Map([['kind-dev', probe({ state: 'unreachable', cause: 'no answer in 2 s' })]]) }));
    expect(s.clusters[0]).toMatchObject({ state: 'unreachable', cause: 'no answer in 2 s' });
  });

  it('a probe that could not ask (its process replaced) leaves the cluster unknown, never green', () => {
    const s = assembleSnapshot(obs({ probes: new Map([['kind-dev', probe({ state: 'unknown', cause: 'the probe process was restarted after context kind-other hung it' })]]) }));
    expect(s.clusters[0]).toMatchObject({ state: 'unknown', cause: 'its API could not be checked: the probe process was restarted after context kind-other hung it' });
    expect(s.contexts[0]?.state).toBe('unknown');
  });

  it('a probe of the old API port says nothing about a cluster that moved', () => {
    const s = assembleSnapshot(obs({ probes: new Map([['kind-dev', probe({ state: 'unreachable', server: 'https://127.0.0.1:39999' })]]) }));
    expect(s.clusters[0]?.state).toBe('running');
  });

  it('nodes not Ready → degraded', () => {
    const p = probe({ nodes: [{ name: 'dev-control-plane', ready: false, roles: [] }], degraded: 'nodes not Ready: dev-control-plane' });
    const s = assembleSnapshot(obs({ probes: new Map([['kind-dev', p]]) }));
    expect(s.clusters[0]).toMatchObject({ state: 'degraded', cause: 'nodes not Ready: dev-control-plane' });
  });

  it('a worker NotReady while the control plane is Ready, its container running → degraded, with KinD\'s Docker-restart failure as the cause', () => {
    const nodes = [
      { name: 'dev-control-plane', role: 'control-plane', state: 'running' },
      { name: 'dev-worker', role: 'worker', state: 'running' },
    ];
    const p = probe({ nodes: [{ name: 'dev-control-plane', ready: true, roles: [] }, { name: 'dev-worker', ready: false, roles: [] }], degraded: 'nodes not Ready: dev-worker' });
    const s = assembleSnapshot(obs({ clusters: [dev({ nodes })], probes: new Map([['kind-dev', p]]) }));
    expect(s.clusters[0]?.state).toBe('degraded');
    expect(s.clusters[0]?.cause).toMatch(/^workers not Ready while the control plane is: dev-worker; KinD multi-node clusters come back this way after a Docker restart/);
    expect(s.problems[0]?.fix?.id).toBe('restart-cluster:dev');
  });

  it('a stale endpoint from the kubeconfig stands whatever the probe says', () => {
    const s = assembleSnapshot(obs({ contexts: [{ ...ctx, state: 'stale-endpoint', expectedServer: 'https://127.0.0.1:41000' }] }));
    expect(s.contexts[0]?.state).toBe('stale-endpoint');
    expect(s.problems.some((p) => p.fix?.id === 'repair-context:kind-dev')).toBe(true);
  });
});

describe('starting: from a start until the API answers, within the grace', () => {
  const cp = [{ name: 'dev-control-plane', role: 'control-plane', state: 'running' }];
  const startedAt = now - 5_000;
  const starting = { clusters: new Map([['dev', startedAt]]) };

  it('a healthy probe from before the start never counts: starting, busy, no Restart, context checking', () => {
    const s = assembleSnapshot(obs({ starting, probes: new Map([['kind-dev', probe({ finishedAt: startedAt - 100 })]]) }));
    expect(s.clusters[0]).toMatchObject({ state: 'starting', startingSince: startedAt });
    expect(s.contexts[0]?.state).toBe('checking');
    expect(s.overall).toBe('busy');
    expect(s.problems.some((p) => p.fix !== undefined)).toBe(false);
  });

  it('an unreachable probe begun after the start is what starting looks like: still starting, no Restart', () => {
    const p = probe({ state: 'unreachable', cause: 'connection refused', finishedAt: now - 200, latencyMs: 50 });
    const s = assembleSnapshot(obs({ starting, probes: new Map([['kind-dev', p]]) }));
    expect(s.clusters[0]?.state).toBe('starting');
    expect(s.problems.find((x) => x.id === 'cluster:dev:starting')).toMatchObject({ severity: 'info' });
    expect(s.problems.some((x) => x.fix?.id === 'restart-cluster:dev')).toBe(false);
  });

  it('the first ok answer after the start ends it: running', () => {
    const s = assembleSnapshot(obs({ starting, probes: new Map([['kind-dev', probe({ finishedAt: now - 100, latencyMs: 30 })]]) }));
    expect(s.clusters[0]?.state).toBe('running');
    expect(s.contexts[0]?.state).toBe('ok');
    expect(s.overall).toBe('ok');
  });

  it('node containers not up yet within the grace: starting, not stopped', () => {
    const s = assembleSnapshot(obs({ starting, clusters: [dev({ controlPlaneRunning: false, allRunning: false, nodes: [{ ...cp[0]!, state: 'created' }] })], probes: new Map() }));
    expect(s.clusters[0]).toMatchObject({ state: 'starting' });
    expect(s.problems.some((x) => x.fix?.id === 'start-cluster:dev')).toBe(false);
  });

  it('after the grace: the real cause (unreachable with Restart), and a pre-start probe still does not count', () => {
    const old = { clusters: new Map([['dev', now - 61_000]]) };
    const pre = assembleSnapshot(obs({ starting: old, probes: new Map([['kind-dev', probe({ finishedAt: now - 62_000 })]]) }));
    expect(pre.clusters[0]?.state).toBe('unreachable');
    expect(pre.problems.some((x) => x.fix?.id === 'restart-cluster:dev')).toBe(true);
    const post = assembleSnapshot(obs({ starting: old, probes: new Map([['kind-dev', probe({ state: 'unreachable', cause: 'no answer in 2 s', finishedAt: now - 500 })]]) }));
    expect(post.clusters[0]).toMatchObject({ state: 'unreachable', cause: 'no answer in 2 s' });
    const stopped = assembleSnapshot(obs({ starting: old, clusters: [dev({ controlPlaneRunning: false, allRunning: false })], probes: new Map() }));
    expect(stopped.clusters[0]?.state).toBe('stopped');
  });

  it('Docker asked to start: starting (busy, no fix) within its grace, then not running with Start Docker', () => {
    const down = { health: { state: 'stopped' as const, endpoint: 'unix:///d.sock', cause: 'no socket' }, containers: [], observedAt: now };
    const s = assembleSnapshot(obs({ docker: down, starting: { docker: now - 3_000 } }));
    expect(s.docker).toMatchObject({ state: 'starting', startingSince: now - 3_000 });
    expect(s.overall).toBe('busy');
    expect(s.problems.some((p) => p.fix !== undefined)).toBe(false);
    expect(s.problems.find((p) => p.id === 'docker:starting')).toBeDefined();
    const late = assembleSnapshot(obs({ docker: down, starting: { docker: now - 200_000 } }));
    expect(late.docker.state).toBe('stopped');
    expect(late.problems[0]?.fix?.id).toBe('start-docker');
  });

  it('no permission is not made "starting" by a start', () => {
    const s = assembleSnapshot(obs({ docker: { health: { state: 'no-permission', endpoint: 'unix:///d.sock' }, containers: [], observedAt: now }, starting: { docker: now - 1_000 } }));
    expect(s.docker.state).toBe('no-permission');
  });
});

describe('checking: a context worth probing whose first probe has not answered', () => {
  it('is checking, not unreachable nor unknown, and alone is no problem', () => {
    const s = assembleSnapshot(obs({ probes: new Map() }));
    expect(s.contexts[0]?.state).toBe('checking');
    expect(s.problems.filter((p) => p.id.startsWith('context:'))).toEqual([]);
  });

  it('a context nobody probes (not current, no cluster) stays as the kubeconfig says', () => {
    const other: ContextHealth = { name: 'prod', current: false, state: 'unknown' };
    const s = assembleSnapshot(obs({ contexts: [ctx, other] }));
    expect(s.contexts[1]?.state).toBe('unknown');
  });
});

