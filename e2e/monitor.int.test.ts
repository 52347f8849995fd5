// The monitor against the real world: a real dockerd, KinD-like node
// containers and the Kubernetes API stand-in inside them. Each test reads like
// a row of the design's fault table.

import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { Monitor } from '../electron/monitor/index.ts';
import { setContextServerPort, setContextUser, setCurrentContext, useTestbed, type Cluster } from './testbed/index.ts';
import { kindtray } from './helpers/serve.ts';

const tb = useTestbed();
const monitors: Monitor[] = [];
afterEach(() => monitors.splice(0).forEach((m) => m.stop()));

function monitorFor(env: NodeJS.ProcessEnv, opts: { probeIntervalMs?: number; probeMaxBackoffMs?: number; probeDeadlineMs?: number } = {}): Monitor {
  const m = new Monitor({ env, probeIntervalMs: opts.probeIntervalMs ?? 1_000, probeDeadlineMs: opts.probeDeadlineMs ?? 2_000, ...(opts.probeMaxBackoffMs ? { probeMaxBackoffMs: opts.probeMaxBackoffMs } : {}) });
  monitors.push(m);
  return m;
}

/** Resolves with the first snapshot for which `done` holds, and how long after `since` it came. */
function until(m: Monitor, done: (s: HealthSnapshot) => boolean, timeoutMs: number, since = performance.now()): Promise<{ snapshot: HealthSnapshot; ms: number }> {
  return new Promise((resolve, reject) => {
    const check = (s: HealthSnapshot) => {
      if (!done(s)) return false;
      clearTimeout(timer);
      off();
      resolve({ snapshot: s, ms: performance.now() - since });
      return true;
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`not seen within ${timeoutMs} ms; last snapshot: ${JSON.stringify(m.current().snapshot, null, 1).slice(0, 3000)}`));
    }, timeoutMs);
    const off = m.subscribe((s) => void check(s));
    check(m.current().snapshot);
  });
}

const clusterOf = (s: HealthSnapshot, c: Cluster) => s.clusters.find((x) => x.name === c.name);
const contextOf = (s: HealthSnapshot, c: Cluster) => s.contexts.find((x) => x.name === c.context);

async function healthyCluster(extra: Parameters<typeof tb.createCluster>[0] = {}): Promise<{ cluster: Cluster; monitor: Monitor }> {
  const cluster = await tb.createCluster(extra);
  const monitor = monitorFor(tb.env());
  await monitor.start();
  await until(monitor, (s) => clusterOf(s, cluster)?.state === 'running' && contextOf(s, cluster)?.state === 'ok', 15_000);
  return { cluster, monitor };
}

describe('KinD clusters as Docker and their API show them', () => {
  it('a running cluster: nodes, API endpoint, version, port mappings, context ok', async () => {
    const { cluster, monitor } = await healthyCluster({ workers: 1, extraPortMappings: [{ containerPort: 30080 }] });
    const s = monitor.current().snapshot;
    const c = clusterOf(s, cluster);
    expect(c).toMatchObject({ state: 'running', context: cluster.context, apiEndpoint: `https://127.0.0.1:${cluster.apiPort}` });
    expect(c?.nodes.map((n) => n.role).sort()).toEqual(['control-plane', 'worker']);
    expect(c?.nodes.every((n) => n.ready === true && (n.cpus ?? 0) > 0)).toBe(true);
    expect(c?.kubernetesVersion).toMatch(/^v1\./);
    expect(c?.portMappings).toEqual([expect.objectContaining({ containerPort: 30080, hostIp: '127.0.0.1', protocol: 'tcp' })]);
    expect(s.docker.state).toBe('running');
  });

  it('node container stopped → that cluster is stopped within 1 s, through the event stream, with its fix', async () => {
    const { cluster, monitor } = await healthyCluster();
    const started = performance.now();
    const seen = until(monitor, (s) => clusterOf(s, cluster)?.state === 'stopped', 20_000, started);
    await cluster.stopNode();
    const stopReturnedMs = performance.now() - started;
    const { snapshot, ms } = await seen;
    // Seen while `docker stop` runs or at most 1 s after it returned.
    expect(ms - stopReturnedMs).toBeLessThan(1_000);
    expect(snapshot.problems.some((p) => p.fix?.id === `start-cluster:${cluster.name}`)).toBe(true);
    expect(contextOf(snapshot, cluster)?.state).toBe('unreachable');
  });

  it('API hangs (accepts, never answers) → context and cluster unreachable within the probe deadline; reading status never waits', async () => {
    const { cluster, monitor } = await healthyCluster();
    await cluster.setFault('hang');
    const hungAt = performance.now();
    const refreshing = monitor.refreshContext(cluster.context);
    // While the probe waits on the hung API, the last snapshot answers at once, with its age.
    const t = performance.now();
    const { snapshot, ageMs } = monitor.current();
    expect(performance.now() - t).toBeLessThan(5);
    expect(clusterOf(snapshot, cluster)?.state).toBe('running');
    expect(ageMs).toBeGreaterThanOrEqual(0);
    await refreshing;
    const seen = monitor.current().snapshot;
    expect(performance.now() - hungAt).toBeLessThan(2_000 + 1_000);
    expect(contextOf(seen, cluster)).toMatchObject({ state: 'unreachable', cause: expect.stringMatching(/no answer/) });
    expect(clusterOf(seen, cluster)?.state).toBe('unreachable');
    expect(seen.problems.some((p) => p.fix?.id === `restart-cluster:${cluster.name}`)).toBe(true);
  });

  it('nodes report NotReady → degraded; back to running when they recover', async () => {
    const { cluster, monitor } = await healthyCluster();
    await cluster.setFault('notready');
    await until(monitor, (s) => clusterOf(s, cluster)?.state === 'degraded', 10_000);
    await cluster.setFault('none');
    await until(monitor, (s) => clusterOf(s, cluster)?.state === 'running', 10_000);
  });
});

describe('kubeconfig faults each get their own problem and fix, and never stop the rest', () => {
  it('stale kind port: the kubeconfig names another port than the container publishes → repair-context, and the repair works', async () => {
    const { cluster, monitor } = await healthyCluster();
    await setContextServerPort(cluster.kubeconfigPath, cluster.context, cluster.apiPort === 1 ? 2 : cluster.apiPort - 1);
    const { snapshot } = await until(monitor, (s) => contextOf(s, cluster)?.state === 'stale-endpoint', 5_000);
    expect(contextOf(snapshot, cluster)?.expectedServer).toBe(`https://127.0.0.1:${cluster.apiPort}`);
    expect(snapshot.problems.some((p) => p.fix?.id === `repair-context:${cluster.context}`)).toBe(true);
    expect(clusterOf(snapshot, cluster)?.state).toBe('running');
  });

  it('dangling current-context, a malformed file and a missing file in KUBECONFIG: three problems, cluster still seen', async () => {
    const cluster = await tb.createCluster();
    await setCurrentContext(cluster.kubeconfigPath, 'kind-does-not-exist');
    const dir = tb.dockerd.dir;
    const broken = join(dir, `broken-${cluster.name}.yaml`);
    writeFileSync(broken, 'apiVersion: v1\nclusters: [\n  - name: x\n');
    const missing = join(dir, `missing-${cluster.name}.yaml`);
    const monitor = monitorFor(tb.env({ KUBECONFIG: [cluster.kubeconfigPath, broken, missing].join(':') }));
    await monitor.start();
    const { snapshot } = await until(monitor, (s) => clusterOf(s, cluster)?.state === 'running' && contextOf(s, cluster)?.state === 'ok', 15_000);
    const ids = snapshot.problems.map((p) => p.id);
    expect(ids).toContain(`kubeconfig:${broken}:malformed`);
    expect(ids).toContain(`kubeconfig:${missing}:missing`);
    expect(snapshot.problems.find((p) => p.id === `kubeconfig:${broken}:malformed`)?.detail).toMatch(/line \d+/);
    const dangling = snapshot.problems.find((p) => p.id.includes('kind-does-not-exist'));
    expect(dangling).toBeDefined();
    expect(dangling?.fix?.id).toMatch(/^use-context:/);
    expect(snapshot.docker.state).toBe('running');
  });

  it('a credential plugin that never returns is bounded by the deadline, and probe processes do not pile up', async () => {
    const cluster = await tb.createCluster();
    const plugin = join(tb.dockerd.dir, `plugin-${cluster.name}.sh`);
    writeFileSync(plugin, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    // Same cluster, but the user authenticates through the plugin.
    const withPlugin = join(tb.dockerd.dir, `exec-${cluster.name}.yaml`);
    copyFileSync(cluster.kubeconfigPath, withPlugin);
    await setContextUser(withPlugin, cluster.context, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
    const monitor = monitorFor(tb.env({ KUBECONFIG: withPlugin }), { probeIntervalMs: 200, probeMaxBackoffMs: 300, probeDeadlineMs: 500 });
    await monitor.start();
    const { snapshot } = await until(monitor, (s) => contextOf(s, cluster)?.state === 'auth-failed' || contextOf(s, cluster)?.state === 'unreachable', 10_000);
    expect(contextOf(snapshot, cluster)?.cause).toMatch(/500 ms|no answer|credential|plugin/i);
    // Probe for a while at a fast beat, then count what is left running of the plugin.
    let most = 0;
    const until10s = Date.now() + 8_000;
    while (Date.now() < until10s) {
      most = Math.max(most, pluginProcesses(plugin));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(most).toBeLessThanOrEqual(2);
    monitor.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(pluginProcesses(plugin)).toBe(0);
  }, 40_000);
});

function pluginProcesses(plugin: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(plugin)) n++;
    } catch {
      // Gone meanwhile.
    }
  }
  return n;
}

describe('kindtray status on the testbed', () => {
  it('shows a running cluster, then after docker stop of its node the stopped cluster and its fix', async () => {
    const cluster = await tb.createCluster();
    const env = tb.env({ KINDTRAY_HOME: join(tb.dockerd.dir, `home-${cluster.name}`) });
    const before = await kindtray(['status', '--json'], env);
    const s1 = JSON.parse(before.stdout) as HealthSnapshot;
    expect(clusterOf(s1, cluster)?.state).toBe('running');
    const human = await kindtray(['status'], env);
    expect(human.stdout).toContain(cluster.name);
    await cluster.stopNode();
    const after = await kindtray(['status', '--json'], env);
    expect(after.code).toBe(1);
    const s2 = JSON.parse(after.stdout) as HealthSnapshot;
    expect(clusterOf(s2, cluster)?.state).toBe('stopped');
    expect(s2.problems.some((p) => p.fix?.id === `start-cluster:${cluster.name}`)).toBe(true);
    const text = await kindtray(['status'], env);
    expect(text.stdout).toContain(`kindtray fix start-cluster:${cluster.name}`);
  });
});
