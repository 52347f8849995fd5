// Multi-node tasks and pipelines, unit by unit: the plan of each node's Pod
// (names, SkyPilot's environment, the wait for the others' IPs, run for real
// by sh), the task's outcome from its nodes, a pipeline's stages as the user
// sees them, the store's migration of an older database, and the launcher
// driving both against the in-memory cluster (FakeOps).

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskNode } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import { FakeOps } from './fake-ops.fixture.ts';
import { Launcher } from './launcher.ts';
import { NODE_IPS_ANNOTATION, NODE_RANK_LABEL, NODES_SET_UP_ANNOTATION, nodeIpsPath, nodeIpsText, nodesOutcome, setupDonePath } from './node-plan.ts';
import { pipelineStages } from './pipeline.ts';
import { buildNodesService, buildPod, buildService, podNameFor, TASK_ENTRYPOINT } from './pod-plan.ts';
import { stageRecords } from './stage-records.ts';
import { TaskStore } from './store.ts';
import type { LauncherTimings } from './task-life.ts';
import { toTaskRecord } from './task-model.ts';
import type { StoredTask } from './task-model.ts';

const ID = 't-m5x2k8q0a1b2';

function spec(over: Partial<TaskSpec> = {}): TaskSpec {
  return { name: 'train', resources: { ports: [] }, envs: {}, run: 'echo hi', numNodes: 1, ...over };
}

function stored(s: TaskSpec, over: Partial<StoredTask> = {}): StoredTask {
  return { id: ID, name: s.name ?? 'task', state: 'pending', context: 'kind-dev', cluster: 'dev', namespace: 'default', endpoints: [], source: '', createdAt: '', updatedAt: '', spec: s, portPlan: [], ...over };
}

const envOf = (pod: ReturnType<typeof buildPod>) => Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('the Pods of a multi-node task', () => {
  it('are named after the task, the stage and the rank, within 63 characters; rank 0 of a single task as always', () => {
    const t = stored(spec());
    expect(podNameFor(t)).toBe('kt-train-m5x2k8q0a1b2');
    expect(podNameFor(t, 3)).toBe('kt-train-m5x2k8q0a1b2-w3');
    expect(podNameFor({ ...t, stage: 2 }, 1)).toBe('kt-train-m5x2k8q0a1b2-s2-w1');
    const long = stored(spec({ name: 'x'.repeat(80) }));
    for (const name of [podNameFor(long), podNameFor(long, 12), podNameFor({ ...long, stage: 10 }, 99)]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('each carry SkyPilot’s environment for their rank; the task cannot move a node (rank, count, IPs) but may name its own task id', () => {
    const t = stored(spec({ numNodes: 2, envs: { SKYPILOT_NODE_RANK: '9', SKYPILOT_TASK_ID: 'mine', A: 'a' }, resources: { ports: [], accelerators: [{ name: 'T4', count: 1.5 }] } }));
    const head = buildPod(t, 'busybox', 0);
    const worker = buildPod(t, 'busybox', 1);
    expect(envOf(head)).toMatchObject({ A: 'a', SKYPILOT_NODE_RANK: '0', SKYPILOT_NUM_NODES: '2', SKYPILOT_NUM_GPUS_PER_NODE: '2', SKYPILOT_TASK_ID: 'mine' });
    expect(envOf(worker)).toMatchObject({ SKYPILOT_NODE_RANK: '1' });
    expect(head.spec?.containers[0]?.env?.filter((e) => e.name === 'SKYPILOT_NODE_RANK')).toHaveLength(1);
    // More than one node: the IPs come from the annotation's file, not status.podIP.
    expect(envOf(head)).not.toHaveProperty('SKYPILOT_NODE_IPS');
    expect(JSON.parse(String(envOf(head).SKYPILOT_CLUSTER_INFO))).toEqual({ cluster_name: 'dev', cloud: 'Kubernetes', region: 'kind-dev', zone: null });
    expect(worker.metadata?.labels).toMatchObject({ [TASK_LABEL]: ID, [NODE_RANK_LABEL]: '1' });
    expect(worker.spec).toMatchObject({ hostname: 'kt-train-m5x2k8q0a1b2-w1', subdomain: 'kt-train-m5x2k8q0a1b2-nodes' });
    expect(worker.spec?.volumes).toEqual([
      {
        name: 'kindtray-node-info',
        downwardAPI: {
          items: [
            { path: 'node-ips', fieldRef: { fieldPath: `metadata.annotations['${NODE_IPS_ANNOTATION}']` } },
            { path: 'nodes-set-up', fieldRef: { fieldPath: `metadata.annotations['${NODES_SET_UP_ANNOTATION}']` } },
          ],
        },
      },
    ]);
    expect(worker.spec?.containers[0]?.volumeMounts).toEqual([{ name: 'kindtray-node-info', mountPath: '/var/run/kindtray/kt-train-m5x2k8q0a1b2-w1', readOnly: true }]);
    expect(worker.spec?.containers[0]?.command?.slice(5)).toEqual([
      'echo hi',
      nodeIpsPath('kt-train-m5x2k8q0a1b2-w1'),
      '3000',
      setupDonePath('kt-train-m5x2k8q0a1b2-w1'),
      '/var/run/kindtray/kt-train-m5x2k8q0a1b2-w1/nodes-set-up',
    ]);
    // Started (in the Pod's status) once its setup finished; a single node has no such wait.
    expect(worker.spec?.containers[0]?.startupProbe).toEqual({ exec: { command: ['sh', '-c', `test -e ${setupDonePath('kt-train-m5x2k8q0a1b2-w1')}`] }, periodSeconds: 1, failureThreshold: 604800 });
    expect(buildPod(stored(spec()), 'busybox').spec?.containers[0]?.startupProbe).toBeUndefined();
  });

  it('have a headless Service for stable names, and only the head behind the NodePort Service', () => {
    const t = stored(spec({ numNodes: 3, resources: { ports: [8080] } }));
    expect(buildNodesService(t)?.spec).toEqual({ clusterIP: 'None', publishNotReadyAddresses: true, selector: { [TASK_LABEL]: ID } });
    expect(buildService(t)?.spec?.selector).toEqual({ [TASK_LABEL]: ID, [NODE_RANK_LABEL]: '0' });
    expect(buildNodesService(stored(spec()))).toBeUndefined();
    expect(buildService(stored(spec({ resources: { ports: [8080] } })))?.spec?.selector).toEqual({ [TASK_LABEL]: ID });
  });
});

describe('the entrypoint, run by sh', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kt-entry-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]): Promise<{ code: number; out: string }> =>
    new Promise((resolve) => {
      execFile('sh', ['-c', TASK_ENTRYPOINT, 'kindtray-task', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      });
    });

  it('waits for the node-IPs file, then runs setup and run with SKYPILOT_NODE_IPS from it', async () => {
    const file = path.join(dir, 'node-ips');
    writeFileSync(file, '');
    setTimeout(() => writeFileSync(file, '10.0.0.1\n10.0.0.2'), 400);
    const r = await run(['echo "setup sees $SKYPILOT_NODE_IPS" | tr "\\n" " "; echo', 'echo "head $(echo "$SKYPILOT_NODE_IPS" | head -n1)"', file, '50']);
    expect(r).toEqual({ code: 0, out: 'setup sees 10.0.0.1 10.0.0.2 \nhead 10.0.0.1\n' });
  });

  it('gives setup SkyPilot’s SKYPILOT_SETUP_* names too', async () => {
    const file = path.join(dir, 'node-ips');
    writeFileSync(file, '10.0.0.1\n10.0.0.2');
    const r = await new Promise<string>((resolve) => {
      execFile('sh', ['-c', TASK_ENTRYPOINT, 'kindtray-task', 'echo "$SKYPILOT_SETUP_NODE_RANK $SKYPILOT_SETUP_NUM_GPUS_PER_NODE $SKYPILOT_SETUP_NODE_IPS" | tr "\\n" " "', 'echo', file, '5'], { env: { ...process.env, SKYPILOT_NODE_RANK: '1', SKYPILOT_NUM_GPUS_PER_NODE: '0' } }, (_e, out) => resolve(out));
    });
    expect(r).toBe('1 0 10.0.0.1 10.0.0.2 \n');
  });

  it('gives up when the IPs never come, and a failing setup stops run', async () => {
    const never = await run(['', 'echo ran', path.join(dir, 'never'), '2']);
    expect(never.code).toBe(125);
    expect(never.out).toContain('the IPs of the other nodes did not come in time');
    expect(await run(['exit 3', 'echo ran', '', '0'])).toEqual({ code: 3, out: '' });
  });

  it('several nodes: after its setup, a node says so in its file and runs only once told that every node is set up', async () => {
    const [ips, done, all] = ['node-ips', 'setup-done', 'nodes-set-up'].map((f) => path.join(dir, f)) as [string, string, string];
    writeFileSync(ips, '10.0.0.1\n10.0.0.2');
    writeFileSync(all, '');
    let doneWhenTold: boolean | undefined;
    const told = setTimeout(() => {
      doneWhenTold = existsSync(done);
      writeFileSync(all, '2');
    }, 600);
    const t0 = Date.now();
    const r = await run(['echo setup', 'echo run', ips, '5', done, all]);
    clearTimeout(told);
    expect(r).toEqual({ code: 0, out: 'setup\nrun\n' });
    expect(doneWhenTold, 'its setup-done file was written before it was told').toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    // A setup that fails says nothing and never waits: the node ends with setup's code.
    rmSync(done);
    expect(await run(['exit 4', 'echo run', ips, '5', done, path.join(dir, 'never')])).toEqual({ code: 4, out: '' });
    expect(existsSync(done)).toBe(false);
  });
});

describe('the outcome of a task from its nodes (as SkyPilot’s job)', () => {
  const node = (rank: number, state: TaskNode['state'], over: Partial<TaskNode> = {}): TaskNode => ({ rank, podName: `p${rank}`, state, ...over });

  it('runs once every node runs, succeeds once every node exited 0, fails at the first node that fails', () => {
    expect(nodesOutcome([node(0, 'running'), node(1, 'pending')])).toEqual({ kind: 'starting' });
    expect(nodesOutcome([node(0, 'running'), node(1, 'running')])).toEqual({ kind: 'running' });
    expect(nodesOutcome([node(0, 'running'), node(1, 'succeeded')])).toEqual({ kind: 'running' });
    expect(nodesOutcome([node(0, 'succeeded'), node(1, 'succeeded')])).toEqual({ kind: 'succeeded' });
    expect(nodesOutcome([node(0, 'running'), node(1, 'failed', { exitCode: 7, reason: 'exited with code 7' })])).toEqual({
      kind: 'failed',
      rank: 1,
      exitCode: 7,
      reason: 'node 1 (pod p1) exited with code 7',
    });
    expect(nodesOutcome([node(0, 'failed', { reason: 'exited with code 1' })])).toMatchObject({ reason: 'exited with code 1' });
  });

  it('lists the IPs head first, once every node has one', () => {
    expect(nodeIpsText([node(1, 'running', { ip: '10.0.0.2' }), node(0, 'running', { ip: '10.0.0.1' })])).toBe('10.0.0.1\n10.0.0.2');
    expect(nodeIpsText([node(0, 'running', { ip: '10.0.0.1' }), node(1, 'pending')])).toBeUndefined();
  });
});

describe('a pipeline’s stages', () => {
  const plan = ['one', 'two', 'three'].map((name) => ({ name, spec: spec({ name }) }));

  it('before the current one succeeded; after it pending, or never started once the task failed or was cancelled', () => {
    expect(stageRecords(plan, { state: 'running', stage: 1 }).map((s) => s.state)).toEqual(['succeeded', 'running', 'pending']);
    const failed = stageRecords(plan, { state: 'failed', stage: 1, reason: 'stage 2 (two): exited with code 4' });
    expect(failed.map((s) => [s.state, s.reason])).toEqual([
      ['succeeded', undefined],
      ['failed', 'stage 2 (two): exited with code 4'],
      ['cancelled', 'not started: stage 2 (two) failed'],
    ]);
    expect(stageRecords(plan, { state: 'cancelled', stage: 0, reason: 'cancelled by the user' }).map((s) => s.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(stageRecords(plan, { state: 'waiting', stage: 0 })[0]?.state).toBe('pending');
  });

  it('are the specs validation made, named from the text; the pipeline named from its header', () => {
    const text = 'name: flow\n---\nrun: a\n---\nname: last\nrun: b\n';
    const given = pipelineStages(text, [spec({ run: 'a', name: undefined }), spec({ run: 'b', name: 'last' })]);
    expect(given?.name).toBe('flow');
    expect(given?.stages.map((s) => [s.name, s.spec.run])).toEqual([['stage-1', 'a'], ['last', 'b']]);
    expect(pipelineStages('run: a\n', [spec()])).toBeUndefined();
  });
});

describe('the store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kt-store-mig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates a database of the first schema: its tasks are kept, as one node and no pipeline, and take nodes and stages after', () => {
    const file = path.join(dir, 'old.db');
    const db = new DatabaseSync(file);
    db.exec(`CREATE TABLE tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, state TEXT NOT NULL, reason TEXT,
      context TEXT NOT NULL, cluster TEXT, namespace TEXT NOT NULL, pod_name TEXT, service_name TEXT, exit_code INTEGER, endpoints TEXT NOT NULL,
      source TEXT NOT NULL, spec TEXT NOT NULL, port_plan TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, finished_at TEXT);
      CREATE INDEX tasks_state ON tasks(state);
      CREATE TABLE task_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, at TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL);
      CREATE INDEX task_events_task ON task_events(task_id, seq);
      PRAGMA user_version = 1;`);
    db.prepare(`INSERT INTO tasks (id, name, state, context, namespace, pod_name, endpoints, source, spec, port_plan, created_at, updated_at) VALUES (?, 'old', 'running', 'kind-dev', 'default', 'kt-old-x', '[]', 'run: x', ?, '[]', 'a', 'a')`).run(ID, JSON.stringify(spec()));
    db.close();

    const store = TaskStore.open(file);
    const old = store.get(ID);
    expect(old).toMatchObject({ id: ID, state: 'running', podName: 'kt-old-x' });
    expect(old?.nodes).toBeUndefined();
    expect(old?.stagePlan).toBeUndefined();
    store.update(ID, { nodes: [{ rank: 0, podName: 'kt-old-x', state: 'running', ip: '10.0.0.1' }] });
    const piped = store.create({ name: 'flow', context: 'kind-dev', source: 'x', spec: spec({ name: 'one' }), stages: [{ name: 'one', spec: spec({ name: 'one' }) }, { name: 'two', spec: spec({ name: 'two' }) }] });
    store.close();

    const again = TaskStore.open(file);
    expect(again.get(ID)?.nodes).toEqual([{ rank: 0, podName: 'kt-old-x', state: 'running', ip: '10.0.0.1' }]);
    expect(again.get(piped.id)).toMatchObject({ stage: 0, stagePlan: [{ name: 'one' }, { name: 'two' }] });
    again.close();
    const check = new DatabaseSync(file);
    expect(check.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
    check.close();
  });
});

describe('the launcher', () => {
  const fast: Partial<LauncherTimings> = { launchingPollMs: 20, runningPollMs: 20, runningPollMaxMs: 50, errorBackoffMaxMs: 50, logPollMs: 20, logPollMaxMs: 50, createBoundMs: 400, startBoundMs: 400 };
  let dir: string;
  let store: TaskStore;
  let ops: FakeOps;
  let launcher: Launcher;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kt-multi-'));
    store = TaskStore.open(path.join(dir, 'kindtray.db'));
    ops = new FakeOps();
    launcher = new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), timings: fast, kubeconfigPaths: () => ['/nonexistent'] });
  });
  afterEach(async () => {
    await launcher.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function until<T>(what: string, get: () => T | undefined | false, ms = 3_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('runs N Pods, gives each the IPs once all have one, runs once all run; a failing node fails the task and stops the others', async () => {
    const t = store.create({ name: 'train', context: 'kind-dev', source: 'x', spec: spec({ numNodes: 3 }) });
    launcher.launch(t.id);
    const running = await until('running', () => store.get(t.id)?.state === 'running' && store.get(t.id));
    const names = [0, 1, 2].map((r) => podNameFor(t, r));
    expect(running.nodes?.map((n) => [n.podName, n.state])).toEqual(names.map((n) => [n, 'running']));
    expect(ops.services.has(`kt-train-${t.id.slice(2)}-nodes`)).toBe(true);
    const ips = running.nodes?.map((n) => n.ip).join('\n');
    await until('the IPs given', () => names.every((n) => ops.pods.get(n)?.pod.metadata?.annotations?.[NODE_IPS_ANNOTATION] === ips));

    ops.exit(names[2] ?? '', 5);
    const failed = await until('failed', () => store.get(t.id)?.state === 'failed' && store.get(t.id));
    expect(failed.reason).toBe(`node 2 (pod ${names[2]}) exited with code 5`);
    expect(failed.exitCode).toBe(5);
    expect(failed.nodes?.map((n) => n.state)).toEqual(['cancelled', 'cancelled', 'failed']);
    expect(ops.pods.has(names[0] ?? '')).toBe(false);
    expect(ops.pods.has(names[2] ?? '')).toBe(true); // the failed node stays for kubectl describe
  });

  it('run starts on no node before setup finished on every node; a node that fails its setup fails the task as such, run started nowhere', async () => {
    const t = store.create({ name: 'train', context: 'kind-dev', source: 'x', spec: spec({ numNodes: 3, setup: 'pip install x' }) });
    const names = [0, 1, 2].map((r) => podNameFor(t, r));
    for (const n of names) ops.inSetup.add(n);
    launcher.launch(t.id);
    await until('the IPs given', () => names.every((n) => ops.pods.get(n)?.pod.metadata?.annotations?.[NODE_IPS_ANNOTATION]));
    const told = () => names.filter((n) => ops.pods.get(n)?.pod.metadata?.annotations?.[NODES_SET_UP_ANNOTATION] !== undefined);
    ops.setUp(names[0] ?? '');
    ops.setUp(names[2] ?? '');
    await new Promise((r) => setTimeout(r, 200)); // several polls
    expect(told(), 'no node is told while node 1 is still in setup').toEqual([]);
    // The task page says where each node is.
    expect(store.get(t.id)?.nodes?.map((n) => n.reason)).toEqual(['set up; waiting for the other nodes to finish setup', 'running setup', 'set up; waiting for the other nodes to finish setup']);
    ops.setUp(names[1] ?? '');
    await until('every node told', () => told().length === 3);
    await until('the nodes run', () => store.get(t.id)?.nodes?.every((n) => n.reason === undefined));

    // A node fails in its run while Kindtray is down: what the nodes were told is read back from the Pods, so it is not called a setup failure.
    await launcher.close();
    ops.exit(names[1] ?? '', 5);
    launcher = new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), timings: fast, kubeconfigPaths: () => ['/nonexistent'] });
    await launcher.reconcile();
    const ranAndFailed = await until('failed', () => store.get(t.id)?.state === 'failed' && store.get(t.id));
    expect(ranAndFailed.reason).toBe(`node 1 (pod ${names[1]}) exited with code 5`);
    expect(ops.pods.get(names[1] ?? '')?.pod.metadata?.annotations?.[NODES_SET_UP_ANNOTATION]).toBe('3');
    expect(store.events(t.id)?.map((e) => e.message)).toContain('setup finished on all 3 nodes; run starts on each');

    // Another task: node 1's setup fails while the others wait for it.
    const u = store.create({ name: 'tune', context: 'kind-dev', source: 'x', spec: spec({ numNodes: 2, setup: 'exit 3' }) });
    const unames = [0, 1].map((r) => podNameFor(u, r));
    for (const n of unames) ops.inSetup.add(n);
    launcher.launch(u.id);
    await until('the IPs given', () => unames.every((n) => ops.pods.get(n)?.pod.metadata?.annotations?.[NODE_IPS_ANNOTATION]));
    ops.setUp(unames[0] ?? '');
    ops.exit(unames[1] ?? '', 3);
    const failed = await until('failed', () => store.get(u.id)?.state === 'failed' && store.get(u.id));
    expect(failed.reason).toBe(`node 1 (pod ${unames[1]}) failed in setup (exited with code 3); run started on no node`);
    expect(failed.nodes?.map((n) => n.state)).toEqual(['cancelled', 'failed']);
    expect(ops.pods.get(unames[0] ?? '')).toBeUndefined();
    expect(unames.some((n) => ops.pods.get(n)?.pod.metadata?.annotations?.[NODES_SET_UP_ANNOTATION] !== undefined)).toBe(false);
  });

  it('cancel deletes every node’s Pod and both Services', async () => {
    const t = store.create({ name: 'train', context: 'kind-dev', source: 'x', spec: spec({ numNodes: 2, resources: { ports: [8080] } }) });
    launcher.launch(t.id);
    await until('running', () => store.get(t.id)?.state === 'running');
    const r = await launcher.cancel(t.id);
    expect(r.ok).toBe(true);
    expect(ops.pods.size).toBe(0);
    expect(ops.services.size).toBe(0);
  });

  it('after a restart, takes up a multi-node task and a pipeline where the cluster has them: nothing created twice, nothing lost', async () => {
    const multi = store.create({ name: 'train', context: 'kind-dev', source: 'x', spec: spec({ numNodes: 2 }) });
    const stages = ['one', 'two'].map((name) => ({ name, spec: spec({ name }) }));
    const flow = store.create({ name: 'flow', context: 'kind-dev', source: 'x', spec: stages[0]?.spec ?? spec(), stages });
    launcher.launch(multi.id);
    launcher.launch(flow.id);
    await until('both running', () => store.get(multi.id)?.state === 'running' && store.get(flow.id)?.state === 'running');
    await launcher.close();
    // While Kindtray is down: the nodes end, and the pipeline's first stage ends.
    for (const r of [0, 1]) ops.exit(podNameFor(multi, r), 0);
    ops.exit(podNameFor(flow), 0);
    const creates = ops.calls.filter((c) => c === 'createPod').length;

    launcher = new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), timings: fast, kubeconfigPaths: () => ['/nonexistent'] });
    await launcher.reconcile();
    const done = await until('the 2-node task succeeded', () => store.get(multi.id)?.state === 'succeeded' && store.get(multi.id));
    expect(done.reason).toBe('the 2 nodes completed');
    await until('the second stage running', () => store.get(flow.id)?.stage === 1 && store.get(flow.id)?.state === 'running');
    expect(ops.calls.filter((c) => c === 'createPod').length).toBe(creates + 1);
  });

  it('cancel ends a pipeline’s running stage; the stages after it never start', async () => {
    const stages = ['one', 'two', 'three'].map((name) => ({ name, spec: spec({ name, numNodes: 2 }) }));
    const t = store.create({ name: 'flow', context: 'kind-dev', source: 'x', spec: stages[0]?.spec ?? spec(), stages });
    launcher.launch(t.id);
    await until('stage 1 running', () => store.get(t.id)?.state === 'running');
    for (const r of [0, 1]) ops.exit(podNameFor(t, r), 0);
    await until('stage 2 running', () => store.get(t.id)?.stage === 1 && store.get(t.id)?.state === 'running');
    const r = await launcher.cancel(t.id);
    expect(r.ok && r.task.stages?.map((s) => [s.state, s.reason])).toEqual([
      ['succeeded', undefined],
      ['cancelled', 'cancelled by the user'],
      ['cancelled', 'not started: the task was cancelled'],
    ]);
    const stage2 = { ...t, stage: 1 };
    expect([0, 1].map((rank) => ops.pods.has(podNameFor(stage2, rank)))).toEqual([false, false]);
    expect([0, 1].map((rank) => ops.pods.has(podNameFor(t, rank)))).toEqual([true, true]); // stage 1's stay for kubectl describe
    expect(ops.calls.filter((c) => c === 'createPod')).toHaveLength(4);
  });

  it('runs a pipeline stage after stage, and a failing stage ends it with the stages after it never started', async () => {
    const stages = ['one', 'two', 'three'].map((name) => ({ name, spec: spec({ name }) }));
    const t = store.create({ name: 'flow', context: 'kind-dev', source: 'x', spec: stages[0]?.spec ?? spec(), stages });
    launcher.launch(t.id);
    await until('stage 1 running', () => store.get(t.id)?.state === 'running');
    ops.exit(podNameFor(t), 0);
    const second = await until('stage 2 running', () => store.get(t.id)?.stage === 1 && store.get(t.id)?.state === 'running' && store.get(t.id));
    expect(second.podName).toBe(podNameFor({ ...t, stage: 1 }));
    expect(second.spec.name).toBe('two');
    ops.exit(podNameFor({ ...t, stage: 1 }), 4);
    const failed = await until('failed', () => store.get(t.id)?.state === 'failed' && store.get(t.id));
    expect(failed.reason).toBe('stage 2 (two): exited with code 4');
    const record = toTaskRecord(failed);
    expect(record.stages?.map((s) => s.state)).toEqual(['succeeded', 'failed', 'cancelled']);
    expect(ops.pods.has(podNameFor({ ...t, stage: 2 }))).toBe(false);
    const messages = store.events(t.id)?.map((e) => e.message) ?? [];
    expect(messages).toContain(`stage 1 (one): pod ${podNameFor(t)} completed; launching stage 2 of 3 (two)`);
  });
});
