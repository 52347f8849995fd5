// The launcher's logic against an in-memory cluster (FakeOps): the life of a
// task, its log, cancel, reconcile after a crash, and bounded failure when the
// cluster does not answer. The same against the real testbed is in
// launcher.int.test.ts.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import { FakeOps } from './fake-ops.fixture.ts';
import type { PodInfo } from './kube-ops.ts';
import { Launcher } from './launcher.ts';
import { TASK_ENTRYPOINT, buildPod, buildService, podNameFor, podVerdict } from './pod-plan.ts';
import type { LauncherTimings } from './task-life.ts';
import { TaskStore } from './store.ts';
import type { NewTask, StoredTask } from './task-model.ts';

// ---------------------------------------------------------------------------

const fast: Partial<LauncherTimings> = {
  launchingPollMs: 20,
  runningPollMs: 20,
  runningPollMaxMs: 50,
  errorBackoffMaxMs: 50,
  logPollMs: 20,
  logPollMaxMs: 50,
  createBoundMs: 400,
  startBoundMs: 400,
  imagePullGraceMs: 100,
};

function spec(over: Partial<TaskSpec> = {}, resources: Partial<TaskSpec['resources']> = {}): TaskSpec {
  return { name: 'web', resources: { ports: [], ...resources }, envs: {}, run: 'echo hi', numNodes: 1, ...over };
}

function newTask(s: TaskSpec = spec(), over: Partial<NewTask> = {}): NewTask {
  return { name: s.name ?? 'task', context: 'kind-dev', cluster: 'dev', source: 'run: echo hi\n', spec: s, ...over };
}

let dir: string;
let store: TaskStore;
let ops: FakeOps;
let launcher: Launcher;
let changes: TaskRecord[];

function makeLauncher(timings: Partial<LauncherTimings> = fast): Launcher {
  return new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), onChange: (t) => changes.push(t), timings, kubeconfigPaths: () => ['/nonexistent'] });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-launcher-'));
  store = TaskStore.open(path.join(dir, 'kindtray.db'));
  ops = new FakeOps();
  changes = [];
  launcher = makeLauncher();
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

const stateOf = (id: string) => store.get(id)?.state;
/** The task's log file, empty until it exists. */
const logFile = (id: string): string => {
  try {
    return readFileSync(launcher.logPath(id), 'utf8');
  } catch {
    return '';
  }
};

async function collect(iter: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of iter) out += chunk.toString();
  return out;
}

// ---------------------------------------------------------------------------

describe('what a task becomes', () => {
  const stored = (s: TaskSpec, over: Partial<StoredTask> = {}): StoredTask => ({
    id: 't-m5x2k8q0a1b2',
    name: s.name ?? 'task',
    state: 'pending',
    context: 'kind-dev',
    namespace: 'default',
    endpoints: [],
    source: '',
    createdAt: '',
    updatedAt: '',
    spec: s,
    portPlan: [],
    ...over,
  });

  it('names Pods kt-NAME-ID within 63 characters', () => {
    expect(podNameFor({ id: 't-m5x2k8q0a1b2', name: 'web' })).toBe('kt-web-m5x2k8q0a1b2');
    const long = podNameFor({ id: 't-m5x2k8q0a1b2', name: `a${'-b'.repeat(40)}` });
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^kt-[a-z0-9-]*[a-z0-9]-m5x2k8q0a1b2$/);
    expect(long).not.toContain('--m5');
  });

  it('builds a Pod: labelled, image without docker:, sh -c setup then run, env, requests, ports, never restarted', () => {
    const s = spec({ setup: 'pip install x', run: 'python -m http.server 8080', envs: { GREETING: 'hello' } }, {
      image: 'python:3.12-slim',
      cpus: { amount: 1, orMore: false },
      memory: { amount: 2, orMore: true },
      ports: [8080],
    });
    const pod = buildPod(stored(s), 'busybox');
    expect(pod.metadata).toMatchObject({ name: 'kt-web-m5x2k8q0a1b2', namespace: 'default', labels: { [TASK_LABEL]: 't-m5x2k8q0a1b2' } });
    expect(pod.spec?.restartPolicy).toBe('Never');
    const c = pod.spec?.containers[0];
    expect(c).toMatchObject({
      name: 'task',
      image: 'python:3.12-slim',
      // One node: no wait for the others' IPs nor their setup (the third, fifth and sixth arguments are empty).
      command: ['sh', '-c', TASK_ENTRYPOINT, 'kindtray-task', 'pip install x', 'python -m http.server 8080', '', '3000', '', ''],
      env: [
        { name: 'GREETING', value: 'hello' },
        { name: 'KINDTRAY_TASK_ID', value: 't-m5x2k8q0a1b2' },
        { name: 'SKYPILOT_NODE_RANK', value: '0' },
        { name: 'SKYPILOT_NUM_NODES', value: '1' },
        { name: 'SKYPILOT_NUM_GPUS_PER_NODE', value: '0' },
        { name: 'SKYPILOT_NODE_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'SKYPILOT_TASK_ID', value: 't-m5x2k8q0a1b2' },
        { name: 'SKYPILOT_CLUSTER_INFO', value: '{"cluster_name":"kind-dev","cloud":"Kubernetes","region":"kind-dev","zone":null}' },
      ],
      resources: { requests: { cpu: '1', memory: '2Gi' } },
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
    });
    expect(buildPod(stored(spec()), 'kindtray/busybox:1').spec?.containers[0]?.image).toBe('kindtray/busybox:1');
    expect(buildPod(stored(spec({}, { image: 'docker:alpine' })), 'x').spec?.containers[0]?.image).toBe('alpine');
  });

  it('asks for the chosen GPUs as a limit, pinned to the GPU type label the node advertised', () => {
    const s = spec({}, { accelerators: [{ name: 'T4', count: 2, nodeLabel: { key: 'nvidia.com/gpu.product', value: 'Tesla-T4' } }], cpus: { amount: 2, orMore: false } });
    const pod = buildPod(stored(s), 'busybox');
    expect(pod.spec?.containers[0]?.resources).toEqual({ requests: { cpu: '2' }, limits: { 'nvidia.com/gpu': '2' } });
    expect(pod.spec?.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'Tesla-T4' });
    // Unchecked (the nodes said nothing): the limit alone.
    const unchecked = buildPod(stored(spec({}, { accelerators: [{ name: 'H100', count: 1 }] })), 'busybox');
    expect(unchecked.spec?.containers[0]?.resources).toEqual({ limits: { 'nvidia.com/gpu': '1' } });
    expect(unchecked.spec?.nodeSelector).toBeUndefined();
  });

  it('merges pod_config as SkyPilot does: maps deep, the first container into ours, env and volumes by name, other lists appended; its name and labels stay ours', () => {
    const s = spec({
      envs: { A: 'a', B: 'b' },
      podConfig: {
        metadata: { name: 'other', labels: { team: 'ml', [TASK_LABEL]: 'not-this' } },
        spec: {
          runtimeClassName: 'nvidia',
          tolerations: [{ key: 'gpu', operator: 'Exists' }],
          volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }],
          containers: [{ env: [{ name: 'B', value: 'from-config' }, { name: 'C', value: 'c' }], volumeMounts: [{ name: 'shm', mountPath: '/dev/shm' }], resources: { limits: { memory: '1Gi' } } }],
        },
      },
    });
    const pod = buildPod(stored(s), 'busybox');
    const c = pod.spec?.containers[0];
    expect(pod.metadata?.name).toBe('kt-web-m5x2k8q0a1b2');
    expect(pod.metadata?.labels).toMatchObject({ team: 'ml', [TASK_LABEL]: 't-m5x2k8q0a1b2' });
    expect(pod.spec?.runtimeClassName).toBe('nvidia');
    expect(pod.spec?.restartPolicy).toBe('Never');
    expect(pod.spec?.tolerations).toEqual([{ key: 'gpu', operator: 'Exists' }]);
    expect(pod.spec?.containers).toHaveLength(1);
    expect(c?.name).toBe('task');
    const names = c?.env?.map((e) => e.name) ?? [];
    expect(c?.env?.filter((e) => !e.name.startsWith('SKYPILOT_')).map((e) => [e.name, e.value])).toEqual([['A', 'a'], ['B', 'from-config'], ['KINDTRAY_TASK_ID', 't-m5x2k8q0a1b2'], ['C', 'c']]);
    expect(names.indexOf('C')).toBe(names.length - 1);
    expect(c?.volumeMounts).toEqual([{ name: 'shm', mountPath: '/dev/shm' }]);
    expect(c?.resources).toEqual({ limits: { memory: '1Gi' } });
    // The spec's own pod_config is not changed by a build.
    expect((s.podConfig?.metadata as { name: string }).name).toBe('other');
  });

  it('builds a NodePort Service with the planned NodePorts, none without ports', () => {
    const s = spec({}, { ports: [8080, 9000] });
    const svc = buildService(stored(s, { portPlan: [{ port: 8080, nodePort: 30080, reachable: 'yes', how: '' }, { port: 9000, reachable: 'unknown', how: '' }] }));
    expect(svc?.spec).toEqual({
      type: 'NodePort',
      selector: { [TASK_LABEL]: 't-m5x2k8q0a1b2' },
      ports: [
        { name: 'p8080', protocol: 'TCP', port: 8080, targetPort: 8080, nodePort: 30080 },
        { name: 'p9000', protocol: 'TCP', port: 9000, targetPort: 9000 },
      ],
    });
    expect(buildService(stored(spec()))).toBeUndefined();
  });

  it('reads a Pod status as the task sees it', () => {
    const base: PodInfo = { name: 'p', namespace: 'default', phase: 'Pending', labels: {}, deleting: false };
    expect(podVerdict(base)).toEqual({ kind: 'starting' });
    expect(podVerdict({ ...base, phase: 'Running', container: { name: 't', state: 'running', restartCount: 0 } })).toEqual({ kind: 'running' });
    expect(podVerdict({ ...base, phase: 'Succeeded', container: { name: 't', state: 'terminated', exitCode: 0, restartCount: 0 } })).toEqual({ kind: 'succeeded', exitCode: 0 });
    expect(podVerdict({ ...base, phase: 'Failed', container: { name: 't', state: 'terminated', exitCode: 3, reason: 'Error', restartCount: 0 } })).toEqual({
      kind: 'failed',
      exitCode: 3,
      reason: 'exited with code 3',
    });
    expect(podVerdict({ ...base, phase: 'Failed', container: { name: 't', state: 'terminated', exitCode: 137, reason: 'OOMKilled', restartCount: 0 } })).toMatchObject({
      reason: 'exited with code 137 (OOMKilled)',
    });
    expect(podVerdict({ ...base, phase: 'Failed', reason: 'Evicted', message: 'low on memory' })).toEqual({ kind: 'failed', reason: 'the pod failed: Evicted: low on memory' });
    expect(podVerdict({ ...base, container: { name: 't', state: 'waiting', reason: 'ImagePullBackOff', message: 'no such image', restartCount: 0 } })).toEqual({
      kind: 'stuck',
      permanent: false,
      reason: 'the image cannot be pulled: ImagePullBackOff: no such image',
    });
    expect(podVerdict({ ...base, container: { name: 't', state: 'waiting', reason: 'InvalidImageName', restartCount: 0 } })).toMatchObject({ kind: 'stuck', permanent: true });
  });
});

describe('a task on a healthy cluster', () => {
  it('goes pending → launching → running → succeeded, with its log in the file and through openLogs', async () => {
    const t = store.create(newTask(spec({}, { ports: [8080] }), { portPlan: [{ port: 8080, nodePort: 30080, url: 'http://127.0.0.1:8080', reachable: 'yes', how: 'published' }] }));
    ops.onCreate = (p) => ops.run(p, 'hello\npart');
    launcher.launch(t.id);
    const following = collect(launcher.openLogs(t.id, { follow: true }));
    const name = podNameFor(t);
    await until('running', () => stateOf(t.id) === 'running');
    // A partial line is copied as it comes, as `kubectl logs -f` shows it.
    await until('the log so far in the file', () => logFile(t.id) === 'hello\npart');
    ops.exit(name, 0, 'ial\nbye');
    const done = await until('succeeded', () => (stateOf(t.id) === 'succeeded' ? store.get(t.id) : undefined));
    expect(done).toMatchObject({ exitCode: 0, podName: name, serviceName: name, endpoints: [{ port: 8080, nodePort: 30080, url: 'http://127.0.0.1:8080', reachable: true }] });
    expect(logFile(t.id)).toBe('hello\npartial\nbye');
    expect(await following).toBe('hello\npartial\nbye');
    expect(await collect(launcher.openLogs(t.id))).toBe('hello\npartial\nbye');
    expect(ops.services.has(name)).toBe(false); // the Service (and its NodePorts) go with the task
    expect(ops.pods.has(name)).toBe(true); // the Pod stays for kubectl describe
    expect(store.events(t.id)?.map((e) => e.state)).toEqual(['pending', 'launching', 'launching', 'launching', 'running', 'succeeded']);
    // Each change is told (the node's state included), in this order.
    expect(changes.map((c) => c.state).filter((st, i, all) => st !== all[i - 1])).toEqual(['launching', 'running', 'succeeded']);
    expect(changes.at(-1)?.nodes).toEqual([{ rank: 0, podName: name, state: 'succeeded', exitCode: 0, ip: expect.stringMatching(/^10\.244\./) }]);
    expect(launcher.watching()).toEqual([]);
  });

  it('records the NodePort Kubernetes chose when the plan named none', async () => {
    const t = store.create(newTask(spec({}, { ports: [9000] }), { portPlan: [{ port: 9000, reachable: 'unknown', how: 'kubectl port-forward' }] }));
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    expect(store.get(t.id)?.endpoints).toEqual([{ port: 9000, nodePort: 30500, reachable: false, how: 'kubectl port-forward' }]);
  });

  it('a task that exits 3 fails with exit code 3', async () => {
    const t = store.create(newTask(spec({ run: 'exit 3' })));
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    ops.exit(podNameFor(t), 3, 'oops\n');
    const done = await until('failed', () => (stateOf(t.id) === 'failed' ? store.get(t.id) : undefined));
    expect(done).toMatchObject({ exitCode: 3, reason: 'exited with code 3' });
    expect(logFile(t.id)).toBe('oops\n');
  });

  it('a Pod that finishes before the first poll still ends right (launching → succeeded)', async () => {
    const t = store.create(newTask());
    ops.onCreate = (p) => {
      p.log = 'quick\n';
      p.info.phase = 'Succeeded';
      p.info.container = { name: 'task', state: 'terminated', exitCode: 0, restartCount: 0 };
    };
    launcher.launch(t.id);
    await until('succeeded', () => stateOf(t.id) === 'succeeded');
    expect(logFile(t.id)).toBe('quick\n');
  });

  it('an image that cannot be pulled fails the task after the grace, with the kubelet\'s words', async () => {
    const t = store.create(newTask(spec({}, { image: 'nope:1' })));
    ops.onCreate = (p) => {
      p.info.container = { name: 'task', state: 'waiting', reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"', restartCount: 0 };
    };
    launcher.launch(t.id);
    const done = await until('failed', () => (stateOf(t.id) === 'failed' ? store.get(t.id) : undefined));
    expect(done.reason).toBe('the image cannot be pulled: ImagePullBackOff: Back-off pulling image "nope:1"');
    expect(ops.pods.size).toBe(0);
  });

  it('a Pod deleted behind Kindtray\'s back fails the task', async () => {
    const t = store.create(newTask());
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    ops.pods.clear();
    const done = await until('failed', () => (stateOf(t.id) === 'failed' ? store.get(t.id) : undefined));
    expect(done.reason).toMatch(/^pod kt-web-\w+ disappeared/);
  });
});

describe('a cluster that does not answer', () => {
  it('a launch fails within the create bound with the cause, never stuck in launching', async () => {
    ops.down = { kind: 'deadline', message: 'kind-dev: no answer from its API in 2 s' };
    const t = store.create(newTask());
    const started = Date.now();
    launcher.launch(t.id);
    const done = await until('failed', () => (stateOf(t.id) === 'failed' ? store.get(t.id) : undefined));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(done.reason).toMatch(/^could not create pod kt-web-\w+: kind-dev: no answer from its API in 2 s \(kept trying for \d+ ms\); pod kt-web-\w+ may still exist on kind-dev/);
    expect(ops.calls.filter((c) => c === 'createPod').length).toBeGreaterThan(1);
  });

  it('a refusal for good (namespace missing) fails at once, without retrying', async () => {
    const t = store.create(newTask());
    const create = ops.createPod.bind(ops);
    ops.createPod = async (...args) => {
      await create(...args);
      return { ok: false, error: { kind: 'namespace-not-found', message: 'kind-dev: namespace default not found' } };
    };
    launcher.launch(t.id);
    const done = await until('failed', () => (stateOf(t.id) === 'failed' ? store.get(t.id) : undefined));
    expect(done.reason).toBe(`could not create pod ${podNameFor(t)}: kind-dev: namespace default not found`);
    expect(ops.calls.filter((c) => c === 'createPod')).toHaveLength(1);
  });

  it('a running task survives a silent spell and notes it', async () => {
    const t = store.create(newTask());
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    ops.down = { kind: 'unreachable', message: 'kind-dev: cannot reach its API: connection refused' };
    await new Promise((r) => setTimeout(r, 200));
    expect(stateOf(t.id)).toBe('running');
    ops.down = undefined;
    ops.exit(podNameFor(t), 0);
    await until('succeeded', () => stateOf(t.id) === 'succeeded');
    const messages = store.events(t.id)?.map((e) => e.message) ?? [];
    expect(messages).toContain('lost contact with kind-dev: kind-dev: cannot reach its API: connection refused; still trying');
    expect(messages).toContain('kind-dev answers again');
  });
});

describe('cancel', () => {
  it('deletes the Pod and Service and records cancelled', async () => {
    const t = store.create(newTask(spec({}, { ports: [8080] })));
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    const r = await launcher.cancel(t.id);
    expect(r).toMatchObject({ ok: true, task: { state: 'cancelled', reason: 'cancelled by the user' } });
    expect(ops.pods.size).toBe(0);
    expect(ops.services.size).toBe(0);
    expect(launcher.watching()).toEqual([]);
  });

  it('a task with secrets: its Secret is made before its Pod, read by secretKeyRef, and deleted with the Pod', async () => {
    const t = store.create(newTask(spec({ envs: { A: 'a' }, secrets: { HF_TOKEN: 'hf-s3cret' } })));
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    expect(ops.calls.indexOf('createSecret')).toBeLessThan(ops.calls.indexOf('createPod'));
    const name = podNameFor(t);
    expect(ops.secrets.get(name)?.stringData).toEqual({ HF_TOKEN: 'hf-s3cret' });
    const pod = ops.pods.get(name)?.pod;
    expect(pod?.spec?.containers[0]?.env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name, key: 'HF_TOKEN' } } });
    expect(JSON.stringify(pod)).not.toContain('hf-s3cret');
    expect(JSON.stringify(store.events(t.id))).not.toContain('hf-s3cret');
    // Once the Secret exists, the database keeps the names only.
    expect(JSON.stringify(store.get(t.id))).not.toContain('hf-s3cret');
    expect(Object.keys(store.get(t.id)?.spec.secrets ?? {})).toEqual(['HF_TOKEN']);
    await launcher.cancel(t.id);
    expect(ops.secrets.size).toBe(0);
    expect(ops.pods.size).toBe(0);
  });

  it('records cancelled even when the cluster does not answer, says what may be left, and reconcile deletes it later', async () => {
    const t = store.create(newTask(spec({}, { ports: [8080] })));
    launcher.launch(t.id);
    await until('running', () => stateOf(t.id) === 'running');
    ops.down = { kind: 'deadline', message: 'kind-dev: no answer from its API in 2 s' };
    const r = await launcher.cancel(t.id);
    expect(r.ok && r.task.reason).toMatch(
      /^cancelled by the user; pod kt-web-\w+ and service kt-web-\w+ may still exist on kind-dev \(kind-dev: no answer from its API in 2 s\): Kindtray deletes them on its next start$/,
    );
    expect(ops.pods.size).toBe(1);
    ops.down = undefined;
    await launcher.close();
    launcher = makeLauncher();
    await launcher.reconcile();
    expect(ops.pods.size).toBe(0);
    expect(ops.services.size).toBe(0);
    expect(store.events(t.id)?.at(-1)?.message).toBe('what this task left on the cluster was deleted after a restart');
  });

  it('a cancel while the Pod is being created deletes the Pod that create made', async () => {
    ops.delayMs = 100;
    const t = store.create(newTask());
    launcher.launch(t.id);
    await until('launching', () => stateOf(t.id) === 'launching');
    const r = await launcher.cancel(t.id);
    expect(r.ok).toBe(true);
    expect(stateOf(t.id)).toBe('cancelled');
    expect(ops.calls).toContain('createPod');
    expect(ops.pods.size).toBe(0);
  });

  it('a finished task cannot be cancelled, and an unknown id says so', async () => {
    const t = store.create(newTask());
    store.transition(t.id, 'failed', { reason: 'x' });
    expect(await launcher.cancel(t.id)).toMatchObject({ ok: false, code: 'illegal', message: `task ${t.id} is already failed: nothing to cancel` });
    expect(await launcher.cancel('t-000000000000')).toMatchObject({ ok: false, code: 'not-found' });
    await expect(collect(launcher.openLogs('t-000000000000'))).rejects.toThrow(/not found/);
  });

  it('a waiting task is cancelled without touching the cluster', async () => {
    const t = store.create(newTask(spec(), { waitingFor: 'cluster dev to run' }));
    expect(await launcher.cancel(t.id)).toMatchObject({ ok: true, task: { state: 'cancelled' } });
    expect(ops.calls).toEqual([]);
  });
});

describe('reconcile after a crash', () => {
  /** A task the store left in `state`; `created`: its Pod had been confirmed created. */
  function crashedIn(state: 'launching' | 'running', created = true): StoredTask {
    const t = store.create(newTask());
    store.transition(t.id, 'launching', created ? { patch: { podName: podNameFor(t) } } : {});
    if (state === 'running') store.transition(t.id, 'running');
    return store.get(t.id) as StoredTask;
  }

  function podOf(t: StoredTask, phase: PodInfo['phase'], exitCode?: number, log = ''): void {
    const name = podNameFor(t);
    const info: PodInfo = { name, namespace: 'default', phase, labels: { [TASK_LABEL]: t.id }, deleting: false };
    if (exitCode !== undefined) info.container = { name: 'task', state: 'terminated', exitCode, restartCount: 0 };
    else if (phase === 'Running') info.container = { name: 'task', state: 'running', restartCount: 0 };
    ops.pods.set(name, { pod: {}, info, log });
  }

  it('a task left running whose Pod finished is recorded finished, with its log', async () => {
    const t = crashedIn('running');
    podOf(t, 'Failed', 2, 'last words\n');
    writeFileSync(launcher.logPath(t.id), '');
    await launcher.reconcile();
    expect(store.get(t.id)).toMatchObject({ state: 'failed', exitCode: 2, reason: 'exited with code 2' });
    expect(logFile(t.id)).toBe('last words\n');
  });

  it('a task left running whose Pod is gone fails, saying so', async () => {
    const t = crashedIn('running');
    await launcher.reconcile();
    expect(store.get(t.id)).toMatchObject({ state: 'failed', reason: `pod ${podNameFor(t)} disappeared while Kindtray was not watching` });
  });

  it('a task left running whose Pod runs is watched again, its log resumed where the file ends', async () => {
    const t = crashedIn('running');
    podOf(t, 'Running', undefined, 'one\ntwo\n');
    writeFileSync(launcher.logPath(t.id), 'one\n');
    await launcher.reconcile();
    expect(launcher.watching()).toEqual([t.id]);
    await until('log resumed', () => logFile(t.id) === 'one\ntwo\n');
    ops.exit(podNameFor(t), 0);
    await until('succeeded', () => stateOf(t.id) === 'succeeded');
  });

  it('a pending task, and a launching one whose Pod was never confirmed, are launched now', async () => {
    const pending = store.create(newTask());
    const launching = crashedIn('launching', false);
    await launcher.reconcile();
    await until('both running', () => stateOf(pending.id) === 'running' && stateOf(launching.id) === 'running');
    expect(ops.pods.size).toBe(2);
  });

  it('a cluster that does not answer leaves the task to its watcher and its bound', async () => {
    const t = crashedIn('launching');
    ops.down = { kind: 'unreachable', message: 'kind-dev: cannot reach its API: connection refused' };
    await launcher.reconcile();
    const done = await until('failed', () => (stateOf(t.id) === 'failed' ? store.get(t.id) : undefined));
    expect(done.reason).toMatch(/^could not confirm that pod kt-web-\w+ started: kind-dev: cannot reach its API: connection refused; pod kt-web-\w+ may still exist on kind-dev/);
  });
});

describe('waiting tasks', () => {
  it('launch once their target is ready', async () => {
    const a = store.create(newTask(spec(), { waitingFor: 'cluster dev to run' }));
    const b = store.create(newTask(spec(), { context: 'kind-other', waitingFor: 'cluster other to run' }));
    expect(launcher.launchWaiting(() => false)).toEqual([]);
    expect(launcher.launchWaiting((c) => c === 'kind-dev')).toEqual([a.id]);
    await until('running', () => stateOf(a.id) === 'running');
    expect(stateOf(b.id)).toBe('waiting');
    expect(store.events(a.id)?.map((e) => e.message)[1]).toBe('kind-dev is ready: launching');
  });
});

describe('log following', () => {
  it('stops when the signal aborts', async () => {
    const t = store.create(newTask());
    ops.onCreate = (p) => ops.run(p, 'a\n');
    launcher.launch(t.id);
    const abort = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const c of launcher.openLogs(t.id, { follow: true, signal: abort.signal })) seen.push(c.toString());
    })();
    await until('first chunk', () => seen.join('') === 'a\n');
    abort.abort();
    await reading;
    expect(stateOf(t.id)).toBe('running');
  });

  it('without follow, gives what the file has and ends (empty when there is no file yet)', async () => {
    const t = store.create(newTask(spec(), { waitingFor: 'x' }));
    expect(await collect(launcher.openLogs(t.id))).toBe('');
  });
});
