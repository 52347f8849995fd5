// The failure Kindtray exists to prevent (SkyPilot #5300), end to end, with a
// dockerd of this file's own that the test really stops: a KinD cluster,
// Docker stopped, a task with ports launched. Validation must answer in time
// with the cause and the fix; the server must stay responsive throughout; and
// following the fixes must bring the same launch to success.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse, TaskRecord } from '../shared/api.ts';
import { DEADLINES } from '../shared/constants.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { Monitor } from '../electron/monitor/index.ts';
import { call, freePort, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';
import { useTestbed, type Cluster } from './testbed/index.ts';

const tb = useTestbed({ privateDockerd: true });

const taskFor = (context: string) => `name: web-demo
resources:
  infra: k8s/${context}
  ports: [8080]
run: mkdir -p /tmp/www && echo hello-from-kindtray > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www
`;

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Docker stopped (the engine really goes away)', () => {
  it('the snapshot says so within 1 s of the socket going away; clusters become unknown, not running', async () => {
    const cluster = await tb.createCluster();
    const monitor = new Monitor({ env: tb.env(), probeIntervalMs: 1_000 });
    try {
      await monitor.start();
      await waitFor('cluster running', 15_000, async () => (monitor.current().snapshot.clusters.find((c) => c.name === cluster.name)?.state === 'running' ? true : undefined));
      const seen = new Promise<{ s: HealthSnapshot; at: number }>((resolve) => {
        const off = monitor.subscribe((s) => {
          if (s.docker.state !== 'running') {
            off();
            resolve({ s, at: performance.now() });
          }
        });
      });
      const stopAt = performance.now();
      const stopping = tb.dockerd.stop();
      const { s, at } = await seen;
      await stopping;
      expect(at - stopAt).toBeLessThan(1_000);
      expect(s.docker.state).toBe('stopped');
      expect(s.clusters.find((c) => c.name === cluster.name)?.state).toBe('unknown');
      expect(s.problems[0]).toMatchObject({ fix: { id: 'start-docker' } });
    } finally {
      monitor.stop();
      if (!tb.dockerd.isRunning()) await tb.dockerd.start();
    }
  }, 60_000);
});

describe('the SkyPilot #5300 scenario, end to end', () => {
  let cluster: Cluster;
  let server: Served;
  let home: string;
  let waitingId = '';

  beforeAll(async () => {
    if (!tb.dockerd.isRunning()) await tb.dockerd.start();
    cluster = await tb.createCluster({ extraPortMappings: [{ containerPort: 30080 }] });
    home = tempHome();
    writeSettings(home, { dockerStartCommand: tb.dockerd.startCommand, probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
    server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.info.image }), { port: await freePort() });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  const status = async () => (await call<HealthSnapshot>(`${server.url}/api/status`, { token: server.token })).body;
  const mine = (s: HealthSnapshot) => s.clusters.find((c) => c.name === cluster.name);
  const launch = () => call<{ task?: TaskRecord; error?: string; field?: string; errors?: { path: string; message: string; fix?: { id: string } }[] }>(
    `${server.url}/api/tasks`,
    { method: 'POST', token: server.token, body: taskFor(cluster.context), timeoutMs: 20_000 },
  );

  it('with Docker stopped, launching a task with ports fails fast on `resources`, naming Docker and offering Start Docker; health stays fast', async () => {
    await waitFor('cluster running', 20_000, async () => (mine(await status())?.state === 'running' ? true : undefined));
    await tb.dockerd.stop();
    await waitFor('Docker seen stopped', 5_000, async () => ((await status()).docker.state === 'stopped' ? true : undefined));

    // Health is polled all through the launch attempt.
    let polling = true;
    const healthTimes: number[] = [];
    const poller = (async () => {
      while (polling) {
        const h = await call<HealthResponse>(`${server.url}/api/health`, { timeoutMs: 5_000 });
        healthTimes.push(h.ms);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const r = await launch();
    polling = false;
    await poller;

    expect(r.status).toBe(422);
    expect(r.ms).toBeLessThan(DEADLINES.validation + 500);
    expect(r.body.field).toBe('resources');
    expect(r.body.error).toMatch(/Docker is not running/);
    expect(r.body.errors?.[0]?.fix?.id).toBe('start-docker');
    expect(Math.max(...healthTimes)).toBeLessThan(250);
    const tasks = await call<{ tasks: TaskRecord[] }>(`${server.url}/api/tasks`, { token: server.token });
    expect(tasks.body.tasks).toHaveLength(0);

    // Kept instead of refused: `launch --when-ready` records it as waiting, saying what for.
    const kept = await call<{ task: TaskRecord }>(`${server.url}/api/tasks?when_ready=1`, {
      method: 'POST',
      token: server.token,
      body: 'name: patient\nrun: echo ran-when-ready\n',
      timeoutMs: 20_000,
    });
    expect(kept.status).toBe(201);
    expect(kept.body.task.state).toBe('waiting');
    expect(kept.body.task.reason).toMatch(/Docker is not running/);
    waitingId = kept.body.task.id;
  }, 60_000);

  it('following the fixes (Start Docker, then Start cluster if offered) brings the same launch to running, with a working endpoint', async () => {
    const fix = await call<{ ok: boolean; message: string }>(`${server.url}/control/fixes/start-docker`, { method: 'POST', token: server.token, timeoutMs: 90_000 });
    expect(fix.body).toMatchObject({ ok: true });
    let s = await status();
    expect(s.docker.state).toBe('running');
    // Docker brings its containers back stopped; the snapshot says what to do next.
    const next = await waitFor('the cluster is seen again', 10_000, async () => mine((s = await status())));
    if (next.state !== 'running') {
      const offered = s.problems.find((p) => p.fix?.id === `start-cluster:${cluster.name}`);
      expect(offered).toBeDefined();
      const started = await call<{ ok: boolean; message: string }>(`${server.url}/control/fixes/start-cluster:${cluster.name}`, {
        method: 'POST',
        token: server.token,
        timeoutMs: 90_000,
      });
      expect(started.body).toMatchObject({ ok: true });
    }
    await waitFor('context ok', 20_000, async () => ((await status()).contexts.find((c) => c.name === cluster.context)?.state === 'ok' ? true : undefined));

    // The task kept while Docker was down launched by itself once the cluster was back.
    await waitFor('the waiting task ran', 30_000, async () => {
      const t = (await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${waitingId}`, { token: server.token })).body.task;
      return t.state === 'succeeded' ? t : undefined;
    });
    const kept = await call<string>(`${server.url}/api/tasks/${waitingId}/logs`, { token: server.token });
    expect(kept.body).toContain('ran-when-ready');

    const r = await launch();
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = r.body.task?.id ?? '';
    const running = await waitFor('task running', 30_000, async () => {
      const t = (await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${id}`, { token: server.token })).body.task;
      if (t.state === 'failed') throw new Error(`task failed: ${t.reason}`);
      return t.state === 'running' ? t : undefined;
    });
    const url = running.endpoints[0]?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await waitFor('endpoint answers', 20_000, async () => {
      try {
        const res = await fetch(url ?? '', { signal: AbortSignal.timeout(2_000) });
        return res.ok ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    });
    expect(page).toContain('hello-from-kindtray');
    const cancelled = await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${id}`, { method: 'DELETE', token: server.token, timeoutMs: 20_000 });
    expect(cancelled.body.task.state).toBe('cancelled');
  }, 180_000);

  it('a task survives kill -9 of the supervisor and the worker: listed again, state reconciled', async () => {
    const r = await call<{ task: TaskRecord }>(`${server.url}/api/tasks`, {
      method: 'POST',
      token: server.token,
      body: `name: long-one\nresources:\n  infra: k8s/${cluster.context}\nrun: echo started; sleep 300\n`,
      timeoutMs: 20_000,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = r.body.task.id;
    await waitFor('task running', 30_000, async () => {
      const t = (await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${id}`, { token: server.token })).body.task;
      return t.state === 'running' ? t : undefined;
    });
    const workerPid = (await call<HealthResponse>(`${server.url}/api/health`)).body.worker.pid ?? 0;
    process.kill(workerPid, 'SIGKILL');
    process.kill(server.pid, 'SIGKILL');
    await server.stop();
    server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.info.image }), { port: server.port });
    const listed = await waitFor('task listed again', 20_000, async () => {
      const list = await call<{ tasks: TaskRecord[] }>(`${server.url}/api/tasks`, { token: server.token });
      return list.status === 200 ? list.body.tasks.find((t) => t.id === id) : undefined;
    });
    expect(listed.state).toBe('running');
    const all = await call<{ tasks: TaskRecord[] }>(`${server.url}/api/tasks`, { token: server.token });
    // The tasks from the tests before are there too, as they were.
    expect(all.body.tasks.map((t) => t.state)).toEqual(expect.arrayContaining(['cancelled', 'succeeded']));
  }, 120_000);
});
