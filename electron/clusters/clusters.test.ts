// The cluster room without Docker: kind's step lines, the kind config it
// writes and reads, the port range it picks, the pre-flight answers, running
// kind (a small fake script) under a deadline and a cancel, and the create /
// delete operations against a host double.

import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../shared/api.ts';
import { withProblems } from '../../shared/problems.ts';
import { healthyInput, kindCluster } from '../../shared/snapshot-fixtures.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { ConfigError, kindConfigFor, planFromConfig } from './config.ts';
import type { ClusterHost } from './host.ts';
import { findKind, installAdvice, kindError, runKind } from './kind-cli.ts';
import { explainLoadFailure, nodeOfLoadLine } from './lifecycle.ts';
import { ClusterManager } from './manager.ts';
import { candidateRanges, describeTaken, firstFreeRange, portIsFree } from './ports.ts';
import { describePlan, preflight, type PreflightInput } from './preflight.ts';
import { parseKindStatusLine, StepList } from './steps.ts';
import { CreateClusterRequestSchema } from '../../shared/contracts/clusters.ts';

const FAKE_KIND = join(import.meta.dirname, 'fixtures', 'fake-kind.sh');
const allFree = async () => true;
const snapshot = (): HealthSnapshot => withProblems(healthyInput());

describe("kind's status lines", () => {
  it('reads start, done and failed lines, with and without a terminal', () => {
    expect(parseKindStatusLine(' • Ensuring node image (kindest/node:v1.31.0) 🖼  ...')).toEqual({ kind: 'start', title: 'Ensuring node image (kindest/node:v1.31.0) 🖼' });
    expect(parseKindStatusLine(' ✓ Preparing nodes 📦')).toEqual({ kind: 'done', title: 'Preparing nodes 📦' });
    expect(parseKindStatusLine(' ✗ Starting control-plane 🕹️')).toEqual({ kind: 'failed', title: 'Starting control-plane 🕹️' });
    expect(parseKindStatusLine('Creating cluster "dev" ...')).toBeUndefined();
    expect(parseKindStatusLine('ERROR: failed to create cluster: boom')).toBeUndefined();
  });

  it('keeps steps in order; a start ends the one before; a failure is the failed step', () => {
    const steps = new StepList();
    for (const l of [' • A  ...', ' ✓ A', ' • B  ...', ' • C  ...', ' ✗ C']) steps.feed(l);
    expect(steps.steps.map((s) => [s.title, s.state])).toEqual([['A', 'succeeded'], ['B', 'succeeded'], ['C', 'failed']]);
    expect(steps.failedStep()).toBe('C');
    expect(steps.steps.every((s) => s.endedAt)).toBe(true);
  });

  it('on a terminal (no start lines) a done line is a step of its own', () => {
    const steps = new StepList();
    steps.feed(' ✓ A');
    steps.feed(' ✓ B');
    expect(steps.steps.map((s) => [s.title, s.state])).toEqual([['A', 'succeeded'], ['B', 'succeeded']]);
  });
});

describe('the kind config', () => {
  const req = (o: object = {}) => CreateClusterRequestSchema.parse({ name: 'dev', ...o });

  it('defaults: one control-plane publishing NodePorts 30000-30099 on the host range, in order, on loopback; Kubernetes gives out only those', () => {
    const plan = kindConfigFor(req(), { from: 30100, to: 30199 });
    const config = parse(plan.configText) as { kind: string; apiVersion: string; kubeadmConfigPatches: string[]; nodes: { role: string; extraPortMappings: { containerPort: number; hostPort: number; listenAddress: string }[] }[] };
    expect(config.kind).toBe('Cluster');
    expect(config.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(config.kubeadmConfigPatches[0]).toContain('service-node-port-range: "30000-30099"');
    expect(config.nodes).toHaveLength(1);
    const maps = config.nodes[0]?.extraPortMappings ?? [];
    expect(maps).toHaveLength(100);
    expect(maps[0]).toMatchObject({ containerPort: 30000, hostPort: 30100, listenAddress: '127.0.0.1' });
    expect(maps[99]).toMatchObject({ containerPort: 30099, hostPort: 30199 });
    expect(plan.nodePorts).toEqual({ from: 30100, to: 30199 });
  });

  it('workers, a node image and ingress ports', () => {
    const plan = kindConfigFor(req({ workers: 2, image: 'kindest/node:v1.30.0', ingress: { http: 8080, https: 8443 } }), { from: 30100, to: 30199 });
    const config = parse(plan.configText) as { nodes: { role: string; image?: string; kubeadmConfigPatches?: string[]; extraPortMappings?: { containerPort: number; hostPort: number }[] }[] };
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(config.nodes.every((n) => n.image === 'kindest/node:v1.30.0')).toBe(true);
    expect(config.nodes[0]?.kubeadmConfigPatches?.[0]).toContain('ingress-ready=true');
    expect(config.nodes[0]?.extraPortMappings?.slice(-2)).toEqual([
      expect.objectContaining({ containerPort: 80, hostPort: 8080 }),
      expect.objectContaining({ containerPort: 443, hostPort: 8443 }),
    ]);
    expect(plan.nodes).toHaveLength(3);
  });

  it("reads a user's config: nodes and published ports", () => {
    const text = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 30500\n    hostPort: 30500\n  - containerPort: 80\n    hostPort: 9080\n- role: worker\n- role: worker\n';
    const plan = planFromConfig('dev', text);
    expect(plan.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(plan.portMappings).toEqual([
      { hostPort: 30500, containerPort: 30500, protocol: 'TCP' },
      { hostPort: 9080, containerPort: 80, protocol: 'TCP' },
    ]);
    expect(plan.nodePorts).toEqual({ from: 30500, to: 30500 });
    expect(describePlan(plan)).toBe('will create 1 control-plane and 2 workers; 1 NodePort on host ports 30500-30500; host 9080→80');
    expect(plan.configText).toBe(text);
  });

  it.each([
    ['not: [yaml', 'config'],
    ['kind: Pod\napiVersion: v1\n', 'config.kind'],
    ['kind: Cluster\napiVersion: v1\n', 'config.apiVersion'],
    ['kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: boss\n', 'config.nodes[0].role'],
    ['kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n', 'config.nodes'],
    ['kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - hostPort: 1\n', 'config.nodes[0].extraPortMappings[0]'],
  ])('a bad config is an error naming its field: %j', (text, field) => {
    expect(() => planFromConfig('dev', text)).toThrow(ConfigError);
    try {
      planFromConfig('dev', text);
    } catch (e) {
      expect((e as ConfigError).field).toBe(field);
    }
  });
});

describe('NodePort ranges', () => {
  it('candidates are 100 host ports each, in hundreds from 30000 to 39999', () => {
    const c = candidateRanges();
    expect(c[0]).toEqual({ from: 30000, to: 30099 });
    expect(c[1]).toEqual({ from: 30100, to: 30199 });
    expect(c.at(-1)).toEqual({ from: 39900, to: 39999 });
  });

  it('the first range free of clusters and of other programs', async () => {
    const held = new Map([[30005, 'dev']]);
    expect(await firstFreeRange(held, allFree)).toEqual({ from: 30100, to: 30199 });
    expect(await firstFreeRange(new Map(), async (p) => p !== 30150 && p !== 30001)).toEqual({ from: 30200, to: 30299 });
    expect(await firstFreeRange(new Map(), async () => false)).toBeUndefined();
  });

  it('a port is asked by connecting, so a check never holds it: a listener on 0.0.0.0 is seen, a closed port is free, and a bind right after the check succeeds', async () => {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    const held = (listener.address() as AddressInfo).port;
    try {
      expect(await portIsFree(held)).toBe(false);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    expect(await portIsFree(held)).toBe(true);
    // Checks running while the port is being published leave it publishable.
    const checks = Array.from({ length: 20 }, () => portIsFree(held));
    const publisher = createServer();
    await new Promise<void>((resolve, reject) => {
      publisher.once('error', reject);
      publisher.listen({ port: held, host: '127.0.0.1', exclusive: true }, resolve);
    });
    await Promise.all(checks);
    await new Promise((resolve) => publisher.close(resolve));
  });

  it('taken ports in words, runs folded', () => {
    expect(describeTaken([{ port: 30000, by: 'dev' }, { port: 30001, by: 'dev' }, { port: 30050 }])).toBe('30000-30001 (cluster dev), 30050 (another program)');
  });
});

describe('finding kind', () => {
  it('settings.kindPath first, then PATH; missing says how to install it here', () => {
    expect(findKind({ kindPath: FAKE_KIND, env: {} })).toEqual({ found: true, path: FAKE_KIND });
    const notThere = findKind({ kindPath: '/nowhere/kind', env: {} });
    expect(notThere.found).toBe(false);
    const missing = findKind({ env: { PATH: '/nonexistent-dir' }, platform: 'linux', arch: 'x64' });
    expect(missing).toMatchObject({ found: false, why: expect.stringContaining('PATH') });
    if (!missing.found) expect(missing.install.command).toMatch(/kind-linux-amd64/);
    expect(installAdvice('darwin', 'arm64').command).toBe('brew install kind');
    expect(installAdvice('win32', 'x64').command).toBe('choco install kind');
  });
});

describe('running kind', () => {
  it('streams its stderr lines and answers its exit code', async () => {
    const lines: string[] = [];
    const r = await runKind(FAKE_KIND, ['create', 'cluster', '--name', 'dev'], { env: { ...process.env, FAKE_KIND_MODE: 'ok' }, deadlineMs: 10_000, onLine: (l) => lines.push(l) });
    expect(r.code).toBe(0);
    expect(lines).toContain(' • Preparing nodes 📦  ...');
    expect(lines.at(-1)).toBe('Set kubectl context to "kind-dev"');
  });

  it('strips the colours kind prints on a terminal', async () => {
    const lines: string[] = [];
    await runKind(FAKE_KIND, ['create', 'cluster', '--name', 'dev'], { env: { ...process.env, FAKE_KIND_MODE: 'tty' }, deadlineMs: 10_000, onLine: (l) => lines.push(l) });
    expect(lines).toContain(' ✓ Preparing nodes 📦');
  });

  it('a cancel kills its process group at once; a deadline does too', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const run = runKind(FAKE_KIND, ['create', 'cluster', '--name', 'dev'], { env: { ...process.env, FAKE_KIND_MODE: 'hang' }, deadlineMs: 20_000, signal: abort.signal });
    setTimeout(() => abort.abort(), 300);
    const r = await run;
    expect(r.cancelled).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    const t = await runKind(FAKE_KIND, ['create', 'cluster', '--name', 'dev'], { env: { ...process.env, FAKE_KIND_MODE: 'hang' }, deadlineMs: 400 });
    expect(t.timedOut).toBe(true);
  });
});

describe('image load errors', () => {
  it('name the node and why', () => {
    expect(nodeOfLoadLine('Image: "app:1" with ID "sha256:1" not yet present on node "dev-worker", loading...')).toBe('dev-worker');
    const stderr = 'ERROR: failed to load image: command "docker exec --privileged -i dev-worker ctr --namespace=k8s.io images import -" failed with error: exit status 1\nCommand Output: ctr: no space left on device\n';
    expect(explainLoadFailure(stderr, 'x')).toEqual({ node: 'dev-worker', message: 'node dev-worker could not import the image: ctr: no space left on device' });
  });
});

function preflightInput(o: Partial<PreflightInput> = {}): PreflightInput {
  return { snapshot: snapshot(), kind: { found: true, path: FAKE_KIND }, probe: allFree, ...o };
}

describe('pre-flight', () => {
  it('a good request: every check ok, the first free range suggested, the plan shown', async () => {
    const { answer } = await preflight({ name: 'new' }, preflightInput({ memTotalBytes: 16 * 1024 ** 3 }));
    expect(answer.ok).toBe(true);
    expect(answer.checks.map((c) => c.id).sort()).toEqual(['config', 'docker', 'kind', 'memory', 'name', 'node-ports']);
    expect(answer.suggestedNodePorts).toEqual({ from: 30000, to: 30099 });
    expect(answer.plan?.nodes).toHaveLength(1);
  });

  it('Docker stopped: an error with Start Docker; kind missing: how to install it', async () => {
    const s = snapshot();
    const { answer } = await preflight({ name: 'new' }, preflightInput({ snapshot: { ...s, docker: { ...s.docker, state: 'stopped' } }, kind: { found: false, why: 'kind is not on PATH', install: installAdvice('linux', 'x64') } }));
    expect(answer.ok).toBe(false);
    expect(answer.checks.find((c) => c.id === 'docker')).toMatchObject({ level: 'error', fix: { fix: { id: 'start-docker' } } });
    expect(answer.checks.find((c) => c.id === 'kind')).toMatchObject({ level: 'error', fix: { command: expect.stringContaining('kind-linux-amd64') } });
    expect(answer.checks[0]?.level).toBe('error');
  });

  it('a taken name (in the snapshot or in kind get clusters) suggests a free one', async () => {
    const a = await preflight({ name: 'dev' }, preflightInput());
    expect(a.answer.checks.find((c) => c.id === 'name')).toMatchObject({ level: 'error', field: 'name', fix: { value: 'dev-2' } });
    const b = await preflight({ name: 'other' }, preflightInput({ kindClusters: ['other'] }));
    expect(b.answer.checks.find((c) => c.id === 'name')?.level).toBe('error');
  });

  it('a taken port range names who holds it and offers the first free range', async () => {
    const s = withProblems({ ...healthyInput(), clusters: [kindCluster('sky', { portMappings: [{ containerPort: 30010, hostPort: 30010, hostIp: '127.0.0.1', protocol: 'tcp' }] })] });
    const { answer } = await preflight({ name: 'new', nodePorts: { from: 30000, to: 30099 } }, preflightInput({ snapshot: s }));
    const check = answer.checks.find((c) => c.id === 'node-ports');
    expect(check).toMatchObject({ level: 'error', field: 'nodePorts', fix: { value: { from: 30100, to: 30199 } } });
    expect(check?.message).toContain('30010 (cluster sky)');
  });

  it('an ingress port held by a program is an error with the next free port', async () => {
    const { answer } = await preflight({ name: 'new', ingress: { http: 8080 } }, preflightInput({ probe: async (p) => p !== 8080 }));
    expect(answer.checks.find((c) => c.id === 'ingress-ports')).toMatchObject({ level: 'error', field: 'ingress.http', fix: { value: 8081 } });
  });

  it('too little memory for the nodes is a warning, not an error', async () => {
    const { answer } = await preflight({ name: 'new', workers: 3 }, preflightInput({ memTotalBytes: 2 * 1024 ** 3 }));
    expect(answer.ok).toBe(true);
    expect(answer.checks.find((c) => c.id === 'memory')?.level).toBe('warn');
  });

  it('bad fields are errors naming the field; a config file is read and described', async () => {
    const bad = await preflight({ name: 'Bad_Name', workers: -1 }, preflightInput());
    expect(bad.answer.checks.filter((c) => c.level === 'error').map((c) => c.field)).toEqual(expect.arrayContaining(['name', 'workers']));
    const dir = mkdtempSync(join(tmpdir(), 'kt-cfg-'));
    const file = join(dir, 'kind.yaml');
    writeFileSync(file, 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n');
    const good = await preflight({ name: 'new', config: { path: file } }, preflightInput());
    expect(good.answer.checks.find((c) => c.id === 'config')?.message).toMatch(/1 control-plane and 1 worker/);
    const missing = await preflight({ name: 'new', config: { path: join(dir, 'nope.yaml') } }, preflightInput());
    expect(missing.answer.checks.find((c) => c.id === 'config')).toMatchObject({ level: 'error', field: 'config.path' });
  });
});

/** A host whose snapshot shows the cluster once kind made it (the fake kind's log says so). */
function hostDouble(mode: string, tasks: TaskRecord[] = []): { host: ClusterHost; log: string; cancelled: { id: string; reason: string }[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kt-clusters-'));
  const log = join(dir, 'kind.log');
  const cancelled: { id: string; reason: string }[] = [];
  const current = (): HealthSnapshot => {
    const base = snapshot();
    const runs = existsSync(log) ? readFileSync(log, 'utf8') : '';
    const made = runs.includes('create cluster --name new') && mode === 'ok';
    const deleted = [...runs.matchAll(/delete cluster --name (\S+)/g)].map((m) => m[1]);
    const clusters = [...base.clusters, ...(made ? [kindCluster('new', {}, 41009)] : [])].filter((c) => !deleted.includes(c.name));
    return { ...base, clusters };
  };
  const host: ClusterHost = {
    env: { ...process.env, FAKE_KIND_MODE: mode, FAKE_KIND_LOG: log },
    kindPath: () => FAKE_KIND,
    snapshot: current,
    refresh: async () => current(),
    waitFor: async (done, ms) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (done(current())) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
    docker: () => {
      throw new Error('no Docker in unit tests');
    },
    runFix: async (id) => ({ ok: true, fixId: id, message: 'ok', durationMs: 1 }),
    tasks: { list: async () => tasks, cancel: async (id, reason) => void cancelled.push({ id, reason }) },
    tmpDir: dir,
    log: () => undefined,
  };
  return { host, log, cancelled };
}

describe('operations', () => {
  it('create: kind runs with the written config, its steps are recorded, the cluster answers', async () => {
    const { host, log } = hostDouble('ok');
    const m = new ClusterManager(host);
    const events: string[] = [];
    m.operations.subscribe((e) => events.push(e.operation.state));
    const op = await m.create({ name: 'new', workers: 1 });
    expect(op.state).toBe('running');
    const done = await m.operations.get(op.id)?.done;
    expect(done?.state).toBe('succeeded');
    expect(done?.steps.map((s) => s.title)).toEqual(expect.arrayContaining(['Preparing nodes 📦', 'Waiting for cluster new to answer']));
    expect(done?.steps.every((s) => s.state === 'succeeded')).toBe(true);
    expect(readFileSync(log, 'utf8')).toMatch(/create cluster --name new --config \S+kind-config-op-/);
    expect(events.at(-1)).toBe('succeeded');
  });

  it('create failing half-way: kind delete cluster runs, the error is kind own, in the failed step', async () => {
    const { host, log } = hostDouble('fail');
    const m = new ClusterManager(host);
    const op = await m.create({ name: 'new' });
    const done = await m.operations.get(op.id)?.done;
    expect(done?.state).toBe('failed');
    expect(done?.error).toEqual({ message: 'failed to create cluster: failed to init node with kubeadm: exit status 1', step: 'Starting control-plane 🕹️' });
    expect(readFileSync(log, 'utf8')).toContain('delete cluster --name new');
  });

  it('cancel: kind is killed, then what it made is deleted', async () => {
    const { host, log } = hostDouble('hang');
    const m = new ClusterManager(host);
    const op = await m.create({ name: 'new' });
    await new Promise((r) => setTimeout(r, 300));
    m.cancel(op.id);
    const done = await m.operations.get(op.id)?.done;
    expect(done?.state).toBe('cancelled');
    expect(readFileSync(log, 'utf8')).toContain('delete cluster --name new');
  });

  it('shutdown ends a running kind (Kindtray stopping never leaves one behind)', async () => {
    const { host } = hostDouble('hang');
    const m = new ClusterManager(host);
    const op = await m.create({ name: 'new' });
    await new Promise((r) => setTimeout(r, 300));
    m.shutdown();
    expect((await m.operations.get(op.id)?.done)?.state).toBe('cancelled');
  });

  it('a refused pre-flight is a 422 with its checks; a second operation on a busy cluster is a 409', async () => {
    const { host } = hostDouble('hang');
    const m = new ClusterManager(host);
    await expect(m.create({ name: 'dev' })).rejects.toMatchObject({ status: 422, body: { field: 'name' } });
    const op = await m.create({ name: 'new' });
    await expect(m.create({ name: 'new' })).rejects.toMatchObject({ status: 409 });
    m.cancel(op.id);
    await m.operations.get(op.id)?.done;
  });

  it('delete: its unfinished tasks are cancelled with the reason first, then kind delete cluster', async () => {
    const task = (id: string, context: string, state: TaskRecord['state']) => ({ id, name: id, state, context, namespace: 'default', endpoints: [], source: '', createdAt: '', updatedAt: '' }) as TaskRecord;
    const { host, log, cancelled } = hostDouble('ok', [task('t1', 'kind-test', 'running'), task('t2', 'kind-test', 'succeeded'), task('t3', 'kind-dev', 'running')]);
    const m = new ClusterManager(host);
    const plan = await m.deletePlan('test');
    expect(plan).toEqual({ cluster: 'test', containers: ['test-control-plane', 'test-worker'], context: 'kind-test', tasks: [{ id: 't1', name: 't1', state: 'running' }] });
    const op = await m.delete('test');
    const done = await m.operations.get(op.id)?.done;
    expect(cancelled).toEqual([{ id: 't1', reason: 'cluster test was deleted' }]);
    expect(readFileSync(log, 'utf8')).toContain('delete cluster --name test');
    expect(done?.removed?.tasks).toHaveLength(1);
    await expect(m.delete('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('stop: its unfinished tasks are cancelled with the reason first (their processes die with the nodes), then the nodes stop, workers first', async () => {
    const task = (id: string, context: string, state: TaskRecord['state']) => ({ id, name: id, state, context, namespace: 'default', endpoints: [], source: '', createdAt: '', updatedAt: '' }) as TaskRecord;
    const { host, cancelled } = hostDouble('ok', [task('t1', 'kind-test', 'running'), task('t2', 'kind-test', 'failed'), task('t3', 'kind-dev', 'running')]);
    const events: string[] = [];
    const tasks = host.tasks;
    host.tasks = { ...tasks, cancel: async (id, reason) => (events.push(`cancel ${id}`), tasks.cancel(id, reason)) };
    const node = (name: string, role: string) => ({ Id: name, Names: [`/${name}`], State: 'running', Labels: { 'io.x-k8s.kind.role': role } });
    host.docker = () =>
      ({
        listContainers: async () => [node('test-control-plane', 'control-plane'), node('test-worker', 'worker')],
        getContainer: (id: string) => ({ stop: async () => void events.push(`stop ${id}`) }),
      }) as unknown as ReturnType<ClusterHost['docker']>;
    const m = new ClusterManager(host);
    const op = await m.stop('test');
    const done = await m.operations.get(op.id)?.done;
    expect(done?.state, JSON.stringify(done?.error)).toBe('succeeded');
    expect(cancelled).toEqual([{ id: 't1', reason: 'cluster test was stopped' }]);
    expect(events).toEqual(['cancel t1', 'stop test-worker', 'stop test-control-plane']);
    expect(done?.steps.map((st) => st.title)).toEqual(['Cancelling 1 task on kind-test', 'Stopping node test-worker', 'Stopping node test-control-plane']);

    // A worker that cannot list its tasks does not keep the cluster running.
    host.tasks = { ...tasks, list: async () => Promise.reject(new Error('the API worker did not answer')) };
    events.length = 0;
    const again = await m.operations.get((await m.stop('test')).id)?.done;
    expect(again?.state).toBe('succeeded');
    expect(events).toEqual(['stop test-worker', 'stop test-control-plane']);
  });
});

describe("kind's error, as a failed operation says it", () => {
  const ran = (stderr: string) => ({ code: 1, stdout: '', stderr, cancelled: false, timedOut: false, durationMs: 10 });
  it('carries the failed command\'s output, where the cause is', () => {
    const stderr = [
      'Creating cluster "dev" ...',
      ' ✓ Ensuring node image (kindest/node:v1.33.1) 🖼',
      ' ✗ Preparing nodes 📦',
      'ERROR: failed to create cluster: command "docker run --name dev-control-plane …" failed with error: exit status 125',
      '',
      'Command Output: docker: Error response from daemon: Bind for 127.0.0.1:30000 failed: port is already allocated.',
    ].join('\n');
    expect(kindError(ran(stderr), 'kind create cluster', 1000)).toBe(
      'failed to create cluster: command "docker run --name dev-control-plane …" failed with error: exit status 125; it said: docker: Error response from daemon: Bind for 127.0.0.1:30000 failed: port is already allocated.',
    );
  });
  it('is kind\'s own line when no command failed, and the last line when kind printed no ERROR', () => {
    expect(kindError(ran('ERROR: node(s) already exist for a cluster with the name "dev"\n'), 'kind create cluster', 1000)).toBe('node(s) already exist for a cluster with the name "dev"');
    expect(kindError(ran('something odd\n'), 'kind create cluster', 1000)).toBe('something odd');
    expect(kindError({ ...ran(''), timedOut: true }, 'kind create cluster', 600_000)).toBe('kind create cluster did not finish within 600 s');
  });
});
