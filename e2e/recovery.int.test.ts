// One-click recovery, end to end on a dockerd of this file's own: two KinD
// clusters running (one whose API port Docker picks anew at every start, so
// the restart leaves its kubeconfig stale), Docker really stopped, then one
// `start-docker`: the engine, both clusters and both contexts come back, each
// step reported in the fix's answer and on the event stream. And while the
// clusters come back they are `starting`, never "unreachable — Restart".

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixResult, FixStep } from '../shared/fixes.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';
import { useTestbed, type Cluster } from './testbed/index.ts';

const tb = useTestbed({ privateDockerd: true });

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Follows /api/events, keeping every event it brings. */
function follow(server: Served): { events: { type: string; fixId?: string; step?: FixStep; snapshot?: HealthSnapshot }[]; stop: () => void } {
  const events: { type: string; fixId?: string; step?: FixStep; snapshot?: HealthSnapshot }[] = [];
  const req = request({ host: '127.0.0.1', port: server.port, path: '/api/events', headers: { authorization: `Bearer ${server.token}` }, agent: false }, (res) => {
    let buffered = '';
    res.on('data', (b: Buffer) => {
      buffered += b.toString();
      const parts = buffered.split('\n\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        const data = part.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data) events.push(JSON.parse(data) as (typeof events)[number]);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { events, stop: () => req.destroy() };
}

describe('Docker stopped with 2 clusters → one start-docker', () => {
  let a: Cluster;
  let b: Cluster;
  let server: Served;
  let home: string;

  beforeAll(async () => {
    a = await tb.createCluster({ name: 'rec-a' });
    // Docker picks this one's API port at every start. A freshly started engine hands out its range from the
    // start again, so b is moved once now (and its context repaired): the engine's restart then moves it back,
    // and its kubeconfig goes stale for real.
    b = await tb.createCluster({ name: 'rec-b', apiPort: 'docker-assigned' });
    await b.stop();
    await b.start();
    home = tempHome();
    writeSettings(home, { dockerStartCommand: tb.dockerd.startCommand, probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
    server = await serve(tb.env({ KINDTRAY_HOME: home }), { port: await freePort() });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (!tb.dockerd.isRunning()) await tb.dockerd.start();
  }, 60_000);

  const status = async () => (await call<HealthSnapshot>(`${server.url}/api/status`, { token: server.token })).body;
  const allBack = (s: HealthSnapshot) =>
    s.docker.state === 'running' &&
    [a, b].every((c) => s.clusters.find((x) => x.name === c.name)?.state === 'running' && s.contexts.find((x) => x.name === c.context)?.state === 'ok');

  /** Both clusters running and their contexts ok: b's context repaired first when it is stale (as after beforeAll's move). */
  async function settled(): Promise<void> {
    const stale = (s: HealthSnapshot) => s.contexts.find((c) => c.name === b.context)?.state === 'stale-endpoint';
    const first = await waitFor('all back, or b stale', 30_000, async () => {
      const s = await status();
      return allBack(s) || stale(s) ? s : undefined;
    });
    if (!stale(first)) return;
    const repaired = await call<FixResult>(`${server.url}/control/fixes/repair-context:${b.context}`, { method: 'POST', token: server.token, timeoutMs: 30_000 });
    expect(repaired.body.ok, repaired.body.message).toBe(true);
    await waitFor('both clusters running, contexts ok', 30_000, async () => (allBack(await status()) ? true : undefined));
  }

  it('brings Docker, both clusters and both contexts back, reporting each step; never offers Restart while they start', async () => {
    await settled();
    await tb.dockerd.stop();
    await waitFor('Docker seen stopped', 5_000, async () => ((await status()).docker.state === 'stopped' ? true : undefined));
    const feed = follow(server);
    try {
      // The stream greets with the current snapshot: from then on, nothing it says is missed.
      await waitFor('the event stream open', 5_000, async () => (feed.events.length > 0 ? true : undefined));
      const fix = await call<FixResult>(`${server.url}/control/fixes/start-docker`, { method: 'POST', token: server.token, timeoutMs: 200_000 });
      expect(fix.status, JSON.stringify(fix.body)).toBe(200);
      expect(fix.body.ok, fix.body.message).toBe(true);

      // The chain in the answer: the engine, then each cluster, its context repaired where the port moved.
      const steps = fix.body.steps ?? [];
      const stateOf = (id: string) => steps.find((s) => s.id === id)?.state;
      expect(stateOf('docker')).toBe('done');
      expect(stateOf(`cluster:${a.name}`)).toBe('done');
      expect(stateOf(`cluster:${b.name}`)).toBe('done');
      expect(stateOf(`context:${b.context}`), JSON.stringify(steps)).toBe('done');
      expect(['done', 'skipped']).toContain(stateOf(`context:${a.context}`));

      // All back, by the snapshot, with no second click.
      expect(allBack(await status()), JSON.stringify(await status())).toBe(true);

      // The same steps went out on the event stream as they happened.
      const told = feed.events.filter((e) => e.type === 'fix' && e.fixId === 'start-docker' && e.step).map((e) => `${e.step?.id} ${e.step?.state}`);
      expect(told).toContain('docker running');
      expect(told).toContain('docker done');
      expect(told).toContain(`cluster:${a.name} done`);
      expect(told).toContain(`context:${b.context} done`);
      expect(told.indexOf('docker done')).toBeLessThan(told.indexOf(`cluster:${a.name} done`));

      // While they came back, no snapshot offered a Restart of either cluster, nor called one unreachable.
      const snapshots = feed.events.filter((e) => e.type === 'snapshot' && e.snapshot).map((e) => e.snapshot as HealthSnapshot);
      expect(snapshots.length).toBeGreaterThan(0);
      for (const s of snapshots) {
        expect(s.problems.filter((p) => p.fix?.id.startsWith('restart-cluster:')).map((p) => p.id)).toEqual([]);
        expect(s.clusters.filter((c) => c.state === 'unreachable').map((c) => c.name)).toEqual([]);
      }
      expect(snapshots.some((s) => s.clusters.some((c) => c.state === 'starting'))).toBe(true);
    } finally {
      feed.stop();
    }
  }, 240_000);

  it('`kindtray fix start-docker` prints each step as a line, then the verdict', async () => {
    await settled();
    await tb.dockerd.stop();
    await waitFor('Docker seen stopped', 5_000, async () => ((await status()).docker.state === 'stopped' ? true : undefined));
    const r = await kindtray(['fix', 'start-docker'], tb.env({ KINDTRAY_HOME: home }), 200_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.some((l) => /^ {2}✓ Start Docker: answered after /.test(l)), r.stdout).toBe(true);
    expect(lines.some((l) => l.startsWith(`  ✓ Start cluster ${a.name}: `)), r.stdout).toBe(true);
    expect(lines.some((l) => l.startsWith(`  ✓ Start cluster ${b.name}: `))).toBe(true);
    expect(lines.at(-1)).toMatch(/^✓ start-docker: Docker is running/);
    // Each step once, however it arrived (the stream, the answer, or both).
    expect(new Set(lines).size).toBe(lines.length);
    expect(allBack(await status())).toBe(true);
  }, 240_000);

  it('Start cluster: from the click until its API answers the cluster is starting (busy), never "unreachable — Restart"', async () => {
    await settled();
    await a.stopNode();
    await waitFor(`${a.name} seen stopped`, 5_000, async () => ((await status()).clusters.find((c) => c.name === a.name)?.state === 'stopped' ? true : undefined));
    const feed = follow(server);
    try {
      await waitFor('the event stream open', 5_000, async () => (feed.events.length > 0 ? true : undefined));
      const fix = await call<FixResult>(`${server.url}/control/fixes/start-cluster:${a.name}`, { method: 'POST', token: server.token, timeoutMs: 90_000 });
      expect(fix.body.ok, fix.body.message).toBe(true);
      await waitFor('context ok', 10_000, async () => ((await status()).contexts.find((c) => c.name === a.context)?.state === 'ok' ? true : undefined));
      const snapshots = feed.events.filter((e) => e.type === 'snapshot' && e.snapshot).map((e) => e.snapshot as HealthSnapshot);
      const states = snapshots.map((s) => s.clusters.find((c) => c.name === a.name)?.state);
      expect(states).toContain('starting');
      expect(states).not.toContain('unreachable');
      for (const s of snapshots) {
        expect(s.problems.some((p) => p.fix?.id === `restart-cluster:${a.name}`)).toBe(false);
        if (s.clusters.find((c) => c.name === a.name)?.state === 'starting') expect(s.overall).toBe('busy');
      }
    } finally {
      feed.stop();
    }
  }, 120_000);

  it('Start cluster whose start moves its API port: the same click repairs its context, and the API answers', async () => {
    await settled();
    const before = (await status()).contexts.find((c) => c.name === b.context)?.server;
    await b.stopNode();
    await waitFor(`${b.name} seen stopped`, 5_000, async () => ((await status()).clusters.find((c) => c.name === b.name)?.state === 'stopped' ? true : undefined));
    const fix = await call<FixResult>(`${server.url}/control/fixes/start-cluster:${b.name}`, { method: 'POST', token: server.token, timeoutMs: 90_000 });
    expect(fix.body.ok, fix.body.message).toBe(true);
    const s = await status();
    const after = s.contexts.find((c) => c.name === b.context);
    // Docker gave the started container another port: the kubeconfig names it now.
    expect(after?.server).not.toBe(before);
    expect(fix.body.message).toContain(`context ${b.context} now points at ${after?.server}`);
    await waitFor('b running, its context ok', 10_000, async () => (allBack(await status()) ? true : undefined));
  }, 120_000);

  it('a node container started outside Kindtray (docker start) is seen starting, then running; never unreachable', async () => {
    await settled();
    await a.stopNode();
    await waitFor(`${a.name} seen stopped`, 5_000, async () => ((await status()).clusters.find((c) => c.name === a.name)?.state === 'stopped' ? true : undefined));
    const feed = follow(server);
    try {
      await waitFor('the event stream open', 5_000, async () => (feed.events.length > 0 ? true : undefined));
      await a.startNode();
      await waitFor(`${a.name} running, context ok`, 30_000, async () => {
        const s = await status();
        return s.clusters.find((c) => c.name === a.name)?.state === 'running' && s.contexts.find((c) => c.name === a.context)?.state === 'ok' ? true : undefined;
      });
      const states = feed.events.filter((e) => e.type === 'snapshot' && e.snapshot).map((e) => e.snapshot?.clusters.find((c) => c.name === a.name)?.state);
      expect(states).toContain('starting');
      expect(states).not.toContain('unreachable');
    } finally {
      feed.stop();
    }
  }, 90_000);

  it('Restart Docker on a hung engine Kindtray cannot restart (no systemd here) says so at once, with what to do', async () => {
    await settled();
    tb.dockerd.freeze();
    try {
      await waitFor('Docker seen unresponsive', 10_000, async () => ((await status()).docker.state === 'unresponsive' ? true : undefined));
      const r = await call<FixResult>(`${server.url}/control/fixes/restart-docker`, { method: 'POST', token: server.token, timeoutMs: 30_000 });
      expect(r.body.ok).toBe(false);
      expect(r.body.message).toMatch(/cannot restart the engine at unix:\/\/.*systemd does not manage it/);
      expect(r.body.message).toMatch(/Restart dockerd the way it was started/);
      // Not the old 60 s wait for an engine the start command never touched.
      expect(r.ms).toBeLessThan(5_000);
    } finally {
      tb.dockerd.thaw();
    }
    await settled();
  }, 90_000);
});


describe('a 2-node cluster across a Docker restart (KinD: the workers come back NotReady until the cluster restarts)', () => {
  let server: Served;
  let home: string;

  beforeAll(async () => {
    home = tempHome();
    writeSettings(home, { dockerStartCommand: tb.dockerd.startCommand, probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
    server = await serve(tb.env({ KINDTRAY_HOME: home }), { port: await freePort() });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (!tb.dockerd.isRunning()) await tb.dockerd.start();
  }, 60_000);

  const status = async () => (await call<HealthSnapshot>(`${server.url}/api/status`, { token: server.token })).body;
  const clusterOf = (s: HealthSnapshot, c: Cluster) => s.clusters.find((x) => x.name === c.name);
  const healthy = (s: HealthSnapshot, c: Cluster) =>
    s.docker.state === 'running' && clusterOf(s, c)?.state === 'running' && clusterOf(s, c)?.nodes.every((n) => n.ready === true) && s.contexts.find((x) => x.name === c.context)?.state === 'ok';

  async function stopDocker(): Promise<void> {
    await tb.dockerd.stop();
    await waitFor('Docker seen stopped', 5_000, async () => ((await status()).docker.state === 'stopped' ? true : undefined));
  }

  it('detected and shown with its cause (Restart cluster offered, which mends it); Start Docker\'s one click restarts the cluster itself', async () => {
    const c = await tb.createCluster({ name: 'multi', workers: 1, workersLostOnEngineRestart: true });
    await waitFor('the 2-node cluster running, both nodes Ready', 30_000, async () => (healthy(await status(), c) ? true : undefined));

    // Docker restarted outside Kindtray and the nodes started again (as KinD's restart policy does): the worker stays NotReady.
    await stopDocker();
    await tb.dockerd.start();
    await c.start();
    const degraded = await waitFor('the cluster degraded with its cause', 30_000, async () => {
      const s = await status();
      return clusterOf(s, c)?.state === 'degraded' ? s : undefined;
    });
    const cluster = clusterOf(degraded, c);
    expect(cluster?.nodes.find((n) => n.role === 'worker')?.ready).toBe(false);
    expect(cluster?.nodes.find((n) => n.role === 'control-plane')?.ready).toBe(true);
    expect(cluster?.cause).toContain(`workers not Ready while the control plane is: ${c.name}-worker; KinD multi-node clusters come back this way after a Docker restart`);
    const problem = degraded.problems.find((p) => p.id === `cluster:${c.name}:degraded`);
    expect(problem?.fix?.id).toBe(`restart-cluster:${c.name}`);
    // The fix offered mends it.
    const restarted = await call<FixResult>(`${server.url}/control/fixes/restart-cluster:${c.name}`, { method: 'POST', token: server.token, timeoutMs: 90_000 });
    expect(restarted.body.ok, restarted.body.message).toBe(true);
    await waitFor('both nodes Ready again after Restart cluster', 30_000, async () => (healthy(await status(), c) ? true : undefined));

    // Docker stopped; one click on Start Docker: the engine, the cluster, and (its worker lost) the cluster restarted, each step told.
    await stopDocker();
    const fix = await call<FixResult>(`${server.url}/control/fixes/start-docker`, { method: 'POST', token: server.token, timeoutMs: 200_000 });
    expect(fix.body.ok, fix.body.message).toBe(true);
    const steps = fix.body.steps ?? [];
    expect(steps.map((s) => `${s.id} ${s.state}`)).toEqual(expect.arrayContaining(['docker done', `cluster:${c.name} done`, `workers:${c.name} done`]));
    expect(steps.find((s) => s.id === `workers:${c.name}`)?.message).toContain(`the Docker restart left ${c.name}-worker NotReady; the cluster was restarted`);
    expect(fix.body.message).toContain('the cluster was restarted');
    expect(healthy(await status(), c), JSON.stringify(clusterOf(await status(), c))).toBe(true);
  }, 300_000);
});
