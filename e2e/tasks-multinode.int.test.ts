// Tasks that do real work, through the product as users launch them
// (`kindtray serve` on the testbed, POST /api/tasks with the task's YAML):
// - a 2-node task with a port on a 2-node cluster: one Pod a node, SkyPilot's
//   environment in each, rank 1 reaches rank 0 at the first of
//   SKYPILOT_NODE_IPS, the head's port answers on the host, cancel ends every
//   Pod and Service;
// - two ranks listen on one port, each at its own IP, and reach each other;
// - a rank that fails fails the task, naming the node, and the others stop;
// - run starts on no node before setup finished on every node; a setup that
//   fails on one node fails the task in setup, and run starts nowhere;
// - a 3-stage pipeline runs its stages in order and stops at a failing stage,
//   the stages after it never started; every stage is checked and planned at
//   launch (a later one too big for the nodes is refused, a later relative
//   workdir is copied).
// The stand-in gives each Pod its own loopback IP (127.0.x.y), so
// SKYPILOT_NODE_IPS carries those.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCH_REQUEST_TYPE } from '../shared/api.ts';
import type { TaskRecord } from '../shared/api.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { call, freePort, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';
import { useTestbed, type Cluster } from './testbed/index.ts';

const tb = useTestbed();
const NODE_PORT = 30080;
let cluster: Cluster;
let hostPort: number;
let server: Served;

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'multi', workers: 1, extraPortMappings: [{ containerPort: NODE_PORT }] });
  hostPort = await cluster.hostPortFor(NODE_PORT);
  const home = tempHome();
  writeSettings(home, { probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
  server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.info.image }), { port: await freePort() });
  const end = Date.now() + 30_000;
  for (;;) {
    const s = (await call<HealthSnapshot>(`${server.url}/api/status`, { token: server.token })).body;
    if (s.contexts.find((c) => c.name === cluster.context)?.state === 'ok' && s.clusters.find((c) => c.context === cluster.context)?.state === 'running') break;
    if (Date.now() > end) throw new Error('the 2-node cluster never became ready');
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function launch(yaml: string): Promise<TaskRecord> {
  const r = await call<{ task: TaskRecord; error?: string }>(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body: yaml });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.task;
}

async function task(id: string): Promise<TaskRecord> {
  return (await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${id}`, { token: server.token })).body.task;
}

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const inState = (id: string, ...states: TaskRecord['state'][]) => async () => {
  const t = await task(id);
  return states.includes(t.state) ? t : undefined;
};

async function exists(kind: 'pods' | 'services', name: string): Promise<boolean> {
  return (await cluster.apiRequest(`/api/v1/namespaces/default/${kind}/${name}`)).statusCode === 200;
}

async function nodeLog(id: string, rank: number): Promise<string> {
  const r = await call<string>(`${server.url}/api/tasks/${id}/logs?node=${rank}`, { token: server.token });
  return typeof r.body === 'string' ? r.body : '';
}

describe('a 2-node task on a 2-node cluster', () => {
  it('runs one Pod a node with SkyPilot’s environment; rank 1 reaches rank 0; the head’s port answers on the host; cancel ends all', async () => {
    const t = await launch(`name: pair
num_nodes: 2
resources:
  infra: k8s/${cluster.context}
  ports: 8080
setup: echo "setup on $SKYPILOT_NODE_RANK"
run: |
  HEAD=$(echo "$SKYPILOT_NODE_IPS" | head -n1)
  echo "rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES, gpus $SKYPILOT_NUM_GPUS_PER_NODE, ips $(echo $SKYPILOT_NODE_IPS)"
  if [ "$SKYPILOT_NODE_RANK" = 0 ]; then
    mkdir -p /tmp/www-$SKYPILOT_TASK_ID && echo "head at $HEAD" > /tmp/www-$SKYPILOT_TASK_ID/index.html
    exec httpd -f -p 8080 -h /tmp/www-$SKYPILOT_TASK_ID
  fi
  i=0; until wget -q -O - "http://$HEAD:8080/"; do i=$((i+1)); [ $i -gt 100 ] && exit 3; sleep 0.2; done
  exec sleep 600
`);
    const running = await until('running', inState(t.id, 'running', 'failed'));
    expect(running.state, running.reason).toBe('running');
    const suffix = t.id.slice(2);
    expect(running.nodes?.map((n) => [n.rank, n.podName, n.state])).toEqual([
      [0, `kt-pair-${suffix}`, 'running'],
      [1, `kt-pair-${suffix}-w1`, 'running'],
    ]);
    const ips = running.nodes?.map((n) => n.ip) ?? [];
    expect(new Set(ips).size).toBe(2);

    // Rank 1 fetched rank 0's page at the head's IP, the first of SKYPILOT_NODE_IPS.
    const seen = await until('rank 1 to reach rank 0', async () => {
      const log = await nodeLog(t.id, 1);
      return log.includes('head at') ? log : undefined;
    });
    expect(seen).toContain('setup on 1\n');
    expect(seen).toContain(`rank 1 of 2, gpus 0, ips ${ips.join(' ')}\n`);
    expect(seen).toContain(`head at ${ips[0]}\n`);
    expect(await nodeLog(t.id, 0)).toContain('setup on 0\n');

    // The head's port, through the NodePort the cluster publishes.
    expect(running.endpoints[0]).toMatchObject({ port: 8080, nodePort: NODE_PORT, url: `http://127.0.0.1:${hostPort}`, reachable: true });
    const page = await until('the endpoint to answer on the host', async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(2_000) });
        return r.ok ? r.text() : undefined;
      } catch {
        return undefined;
      }
    });
    expect(page).toBe(`head at ${ips[0]}\n`);
    expect(await exists('services', `kt-pair-${suffix}-nodes`)).toBe(true);

    const cancelled = await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${t.id}`, { method: 'DELETE', token: server.token });
    expect(cancelled.body.task.state).toBe('cancelled');
    for (const [kind, name] of [['pods', `kt-pair-${suffix}`], ['pods', `kt-pair-${suffix}-w1`], ['services', `kt-pair-${suffix}`], ['services', `kt-pair-${suffix}-nodes`]] as const) {
      await until(`${kind}/${name} to go`, async () => !(await exists(kind, name)), 15_000);
    }
  }, 180_000);

  it('each rank listens on the same port at its own IP, and reaches the other there', async () => {
    const t = await launch(`name: same-port
num_nodes: 2
resources:
  infra: k8s/${cluster.context}
run: |
  ME=$(echo "$SKYPILOT_NODE_IPS" | sed -n "$((SKYPILOT_NODE_RANK+1))p")
  OTHER=$(echo "$SKYPILOT_NODE_IPS" | sed -n "$((2-SKYPILOT_NODE_RANK))p")
  WWW=/tmp/same-$SKYPILOT_TASK_ID-$SKYPILOT_NODE_RANK
  mkdir -p $WWW && echo "rank $SKYPILOT_NODE_RANK here" > $WWW/index.html
  httpd -f -p "$ME:9000" -h $WWW & SERVER=$!
  i=0; until wget -q -O - "http://$OTHER:9000/"; do i=$((i+1)); [ $i -gt 100 ] && exit 3; sleep 0.2; done
  sleep 2; kill $SERVER
`);
    const done = await until('the task to end', inState(t.id, 'succeeded', 'failed', 'cancelled'));
    expect(done.state, done.reason).toBe('succeeded');
    expect(done.reason).toBe('the 2 nodes completed');
    expect(await nodeLog(t.id, 0)).toContain('rank 1 here\n');
    expect(await nodeLog(t.id, 1)).toContain('rank 0 here\n');
  }, 120_000);

  it('a rank that fails fails the task, naming the node; the other rank is stopped', async () => {
    const t = await launch(`name: broken
num_nodes: 2
resources:
  infra: k8s/${cluster.context}
run: |
  if [ "$SKYPILOT_NODE_RANK" = 1 ]; then echo "rank 1 gives up"; exit 7; fi
  exec sleep 600
`);
    const failed = await until('failed', inState(t.id, 'failed', 'succeeded', 'cancelled'));
    const suffix = t.id.slice(2);
    expect(failed.state).toBe('failed');
    expect(failed.reason).toMatch(new RegExp(`^node 1 \\(pod kt-broken-${suffix}-w1\\) exited with code 7`));
    expect(failed.exitCode).toBe(7);
    expect(failed.nodes?.map((n) => n.state)).toEqual(['cancelled', 'failed']);
    await until('rank 0 to be stopped', async () => !(await exists('pods', `kt-broken-${suffix}`)), 15_000);
  }, 120_000);
});

describe('setup on every node before run on any', () => {
  it('run starts on each node only once setup finished on all of them (rank 1 takes 3 s longer)', async () => {
    const tag = `gate-${Date.now()}`;
    const t = await launch(`name: gate
num_nodes: 2
resources:
  infra: k8s/${cluster.context}
setup: |
  if [ "$SKYPILOT_NODE_RANK" = 1 ]; then sleep 3; fi
  touch /tmp/${tag}-setup-$SKYPILOT_NODE_RANK
run: |
  for r in 0 1; do [ -e /tmp/${tag}-setup-$r ] || { echo "rank $SKYPILOT_NODE_RANK ran before rank $r finished setup"; exit 9; }; done
  echo "rank $SKYPILOT_NODE_RANK runs after every setup"
`);
    const done = await until('done', inState(t.id, 'failed', 'succeeded', 'cancelled'));
    expect(done.state, `${done.reason ?? ''}\n${await nodeLog(t.id, 0)}`).toBe('succeeded');
    expect(await nodeLog(t.id, 0)).toContain('rank 0 runs after every setup');
    expect(await nodeLog(t.id, 1)).toContain('rank 1 runs after every setup');
  }, 120_000);

  it('a setup that fails on one node: the task fails in setup, naming the node, and run starts on no node', async () => {
    const t = await launch(`name: nosetup
num_nodes: 2
resources:
  infra: k8s/${cluster.context}
setup: |
  if [ "$SKYPILOT_NODE_RANK" = 1 ]; then sleep 1; echo "rank 1 cannot set up"; exit 3; fi
run: |
  echo "rank $SKYPILOT_NODE_RANK ran"
`);
    const failed = await until('failed', inState(t.id, 'failed', 'succeeded', 'cancelled'));
    const suffix = t.id.slice(2);
    expect(failed.state).toBe('failed');
    expect(failed.reason).toMatch(new RegExp(`^node 1 \\(pod kt-nosetup-${suffix}-w1\\) failed in setup \\(exited with code 3\\); run started on no node`));
    expect(failed.nodes?.map((n) => n.state)).toEqual(['cancelled', 'failed']);
    expect(await nodeLog(t.id, 1)).toContain('rank 1 cannot set up');
    for (const rank of [0, 1]) expect(await nodeLog(t.id, rank)).not.toContain(`rank ${rank} ran`);
  }, 120_000);
});

describe('a pipeline of 3 stages', () => {
  it('runs the stages in order and stops at the failing one; the stage after it never starts', async () => {
    const t = await launch(`name: flow
---
name: one
resources:
  infra: k8s/${cluster.context}
run: echo one; sleep 1
---
name: two
run: echo two; exit 4
---
name: three
run: echo three
`);
    expect(t.name).toBe('flow');
    expect(t.stages?.map((s) => [s.name, s.state])).toEqual([['one', 'pending'], ['two', 'pending'], ['three', 'pending']]);
    const done = await until('the pipeline to end', inState(t.id, 'failed', 'succeeded', 'cancelled'));
    expect(done.state).toBe('failed');
    expect(done.reason).toMatch(/^stage 2 \(two\): exited with code 4/);
    expect(done.stage).toBe(1);
    const [one, two, three] = done.stages ?? [];
    expect([one?.state, two?.state, three?.state]).toEqual(['succeeded', 'failed', 'cancelled']);
    expect(three?.reason).toBe('not started: stage 2 (two) failed');
    // In order: stage 2 started once stage 1 had finished.
    expect(Date.parse(two?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(one?.finishedAt ?? ''));
    const suffix = t.id.slice(2);
    expect(await exists('pods', `kt-flow-${suffix}`)).toBe(true);
    expect(await exists('pods', `kt-flow-${suffix}-s1`)).toBe(true);
    expect(await exists('pods', `kt-flow-${suffix}-s2`)).toBe(false);
    // One log for the task: each stage's output after the one before.
    const log = await until('the stages’ output', async () => {
      const text = await nodeLog(t.id, 0);
      return text.includes('two\n') ? text : undefined;
    });
    expect(log.indexOf('one\n')).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('two\n')).toBeGreaterThan(log.indexOf('one\n'));
    expect(log).not.toContain('three');
  }, 120_000);

  it('runs every stage when each succeeds, and says so', async () => {
    const t = await launch(`name: ok-flow
---
resources:
  infra: k8s/${cluster.context}
run: echo a
---
run: echo b
---
run: echo c
`);
    const done = await until('the pipeline to end', inState(t.id, 'failed', 'succeeded', 'cancelled'));
    expect(done.state, done.reason).toBe('succeeded');
    expect(done.reason).toBe('all 3 stages succeeded');
    expect(done.stages?.map((s) => [s.name, s.state])).toEqual([['stage-1', 'succeeded'], ['stage-2', 'succeeded'], ['stage-3', 'succeeded']]);
  }, 120_000);

  it('every stage is checked and planned at launch as the first: one that asks more than the nodes have is refused, naming it; a later workdir relative to the file is copied', async () => {
    const tooBig = await call<{ error?: string; field?: string }>(`${server.url}/api/tasks`, {
      method: 'POST',
      token: server.token,
      body: `run: echo a\n---\nname: huge\nresources:\n  cpus: 512\nrun: echo b\n`,
    });
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.field).toBe('resources.cpus');
    expect(tooBig.body.error).toMatch(/^task 2 of 2: .*512/);

    const folder = mkdtempSync(join(tmpdir(), 'kt-flow-'));
    mkdirSync(join(folder, 'data'));
    writeFileSync(join(folder, 'data', 'note.txt'), 'from the second stage\'s workdir\n');
    const body = JSON.stringify({ task: `run: echo first\n---\nworkdir: data\nrun: cat note.txt\n`, folder });
    const r = await call<{ task: TaskRecord; error?: string }>(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body, headers: { 'content-type': LAUNCH_REQUEST_TYPE } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const done = await until('the pipeline to end', inState(r.body.task.id, 'failed', 'succeeded', 'cancelled'));
    expect(done.state, done.reason).toBe('succeeded');
    expect(await nodeLog(r.body.task.id, 0)).toContain("from the second stage's workdir");
    rmSync(folder, { recursive: true, force: true });
  }, 120_000);
});
