// The launcher against the testbed: a real dockerd, a KinD-like cluster whose
// API stand-in runs Pods as processes in the node container and forwards
// NodePorts to them, and kind extraPortMappings published by Docker. Tasks
// launch, serve HTTP on the host, fail with their exit code, are cancelled,
// are put right after a crash, and fail in time (with a fresh child) when the
// cluster does not answer.

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TASK_LABEL } from '../../shared/constants.ts';
import type { PortPlan, TaskSpec } from '../../shared/task/index.ts';
import { setContextUser, useTestbed } from '../../e2e/testbed/index.ts';
import type { Cluster } from '../../e2e/testbed/index.ts';
import { KubeOps } from './kube-ops.ts';
import type { KubeTarget } from './kube-ops.ts';
import { Launcher } from './launcher.ts';
import type { LauncherTimings } from './task-life.ts';
import { TaskStore } from './store.ts';
import type { StoredTask } from './task-model.ts';

const tb = useTestbed();

/** The NodePort the cluster publishes on the host, as `sky local up` does with 30000-30099. */
const MAPPED_NODE_PORT = 30080;

let cluster: Cluster;
let mappedHostPort: number;
let dir: string;
let store: TaskStore;
let ops: KubeOps;
let launcher: Launcher;
let replacedChildren: string[];

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'launch', extraPortMappings: [{ containerPort: MAPPED_NODE_PORT }] });
  mappedHostPort = await cluster.hostPortFor(MAPPED_NODE_PORT);
});

const timings: Partial<LauncherTimings> = { createBoundMs: 3_000 };

function makeLauncher(kubeconfig = tb.kubeconfigPath): Launcher {
  return new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), defaultImage: tb.info.image, kubeconfigPaths: () => [kubeconfig], timings });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-launch-int-'));
  store = TaskStore.open(path.join(dir, 'kindtray.db'));
  replacedChildren = [];
  ops = new KubeOps({ onChildReplaced: (_c, why) => replacedChildren.push(why) });
  launcher = makeLauncher();
});

afterEach(async () => {
  await launcher.close();
  ops.close();
  store.close();
  await cluster.setFault('none');
  rmSync(dir, { recursive: true, force: true });
});

function submit(spec: Partial<TaskSpec> & { run: string }, portPlan: PortPlan[] = []): StoredTask {
  const full: TaskSpec = { name: spec.name ?? 'demo', resources: { ports: portPlan.map((p) => p.port), ...spec.resources }, envs: spec.envs ?? {}, numNodes: 1, ...spec };
  return store.create({ name: full.name ?? 'demo', context: cluster.context, cluster: cluster.name, source: JSON.stringify(full), spec: full, portPlan });
}

async function until<T>(what: string, get: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const inState = (id: string, state: StoredTask['state']) => () => {
  const t = store.get(id);
  return t?.state === state ? t : undefined;
};

const logOf = (id: string): string => {
  try {
    return readFileSync(launcher.logPath(id), 'utf8');
  } catch {
    return '';
  }
};

const target = (): KubeTarget => ({ context: cluster.context, kubeconfigPaths: [tb.kubeconfigPath] });

async function exists(kind: 'pods' | 'services' | 'secrets', name: string): Promise<boolean> {
  const r = await cluster.apiRequest(`/api/v1/namespaces/default/${kind}/${name}`);
  return r.statusCode === 200;
}

describe('a task on a KinD cluster', () => {
  it('with a published port: runs, its log lands in the file and openLogs, its URL answers from the host; cancel removes Pod and Service', async () => {
    const plan: PortPlan[] = [
      {
        port: 8080,
        nodePort: MAPPED_NODE_PORT,
        reachable: 'yes',
        hostIp: '127.0.0.1',
        hostPort: mappedHostPort,
        url: `http://127.0.0.1:${mappedHostPort}`,
        how: `published by ${cluster.name}-control-plane as 127.0.0.1:${mappedHostPort}`,
      },
    ];
    const t = submit(
      {
        name: 'web',
        envs: { GREETING: 'hello-from-task' },
        setup: 'mkdir -p /tmp/www-$KINDTRAY_TASK_ID && echo "$GREETING" > /tmp/www-$KINDTRAY_TASK_ID/index.html && echo setup-done',
        run: 'echo serving; exec httpd -f -p 8080 -h /tmp/www-$KINDTRAY_TASK_ID',
      },
      plan,
    );
    const started = Date.now();
    launcher.launch(t.id);
    const running = await until('running', inState(t.id, 'running'));
    const toRunning = Date.now() - started;
    expect(running).toMatchObject({ podName: `kt-web-${t.id.slice(2)}`, serviceName: `kt-web-${t.id.slice(2)}` });
    expect(running.endpoints).toEqual([
      { port: 8080, nodePort: MAPPED_NODE_PORT, url: `http://127.0.0.1:${mappedHostPort}`, reachable: true, how: plan[0]?.how },
    ]);

    await until('log lines in the file', () => logOf(t.id) === 'setup-done\nserving\n');
    const abort = new AbortController();
    let followed = '';
    const following = (async () => {
      for await (const chunk of launcher.openLogs(t.id, { follow: true, signal: abort.signal })) followed += chunk.toString();
    })();
    await until('openLogs to give the log', () => followed === 'setup-done\nserving\n');

    const url = running.endpoints[0]?.url ?? '';
    const answer = await until('the endpoint to answer', async () => {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        return r.ok ? r.text() : undefined;
      } catch {
        return undefined;
      }
    });
    expect(answer).toBe('hello-from-task\n');

    const cancelled = await launcher.cancel(t.id);
    expect(cancelled).toMatchObject({ ok: true, task: { state: 'cancelled', reason: 'cancelled by the user' } });
    await following; // a cancelled task's log ends
    abort.abort();
    const podName = running.podName ?? '';
    await until('pod gone', async () => !(await exists('pods', podName)));
    expect(await exists('services', podName)).toBe(false);
    await until('the endpoint to stop answering', async () => {
      try {
        await fetch(url, { signal: AbortSignal.timeout(1_000) });
        return false;
      } catch {
        return true;
      }
    });
    console.log(`launch → running: ${toRunning} ms`);
  });

  it('a task that exits 3 fails with exit code 3, its output kept', async () => {
    const t = submit({ name: 'three', run: 'echo about to fail; exit 3' });
    launcher.launch(t.id);
    const failed = await until('failed', inState(t.id, 'failed'));
    expect(failed).toMatchObject({ exitCode: 3, reason: 'exited with code 3' });
    expect(logOf(t.id)).toBe('about to fail\n');
    let all = '';
    for await (const chunk of launcher.openLogs(t.id, { follow: true })) all += chunk.toString();
    expect(all).toBe('about to fail\n');
  });

  it('a task that succeeds is recorded succeeded with exit code 0, and its Service goes', async () => {
    const t = submit({ name: 'ok', run: 'echo one; echo two' }, [{ port: 9100, reachable: 'no', how: 'kubectl port-forward' }]);
    launcher.launch(t.id);
    const done = await until('succeeded', inState(t.id, 'succeeded'));
    expect(done.exitCode).toBe(0);
    expect(logOf(t.id)).toBe('one\ntwo\n');
    expect(done.endpoints[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(await exists('services', done.serviceName ?? '')).toBe(false);
    expect(await exists('pods', done.podName ?? '')).toBe(true);
  });
});

describe('a task with a secret', () => {
  it('the Pod reads it from the task\'s own Secret (secretKeyRef); the Pod spec and the store never hold the value; cancel deletes the Secret', async () => {
    const t = submit({ name: 'secret', run: 'echo "token=$HF_TOKEN"; sleep 60', secrets: { HF_TOKEN: 'hf-int-s3cret' } });
    launcher.launch(t.id);
    const running = await until('running', inState(t.id, 'running'));
    await until('the token in the log', () => logOf(t.id).includes('token=hf-int-s3cret'));
    const name = running.podName ?? '';
    expect(await exists('secrets', name)).toBe(true);
    expect(String((await cluster.apiRequest(`/api/v1/namespaces/default/pods/${name}`)).body)).not.toContain('hf-int-s3cret');
    // (This test's submit writes the spec as the source; the route stores it redacted: routes.test.ts.)
    expect(JSON.stringify(store.get(t.id)?.spec)).not.toContain('hf-int-s3cret');
    await launcher.cancel(t.id);
    expect(await exists('secrets', name)).toBe(false);
    expect(await exists('pods', name)).toBe(false);
  });
});

describe('after a crash', () => {
  it('a task left running whose Pod has finished is put right by reconcile, its log completed', async () => {
    const t = submit({ name: 'crash', run: 'echo before; sleep 2; echo after' });
    launcher.launch(t.id);
    await until('running', inState(t.id, 'running'));
    await until('first line', () => logOf(t.id) === 'before\n');
    // The worker dies: nobody watches; the store still says running.
    await launcher.close();
    expect(store.get(t.id)?.state).toBe('running');
    const podName = store.get(t.id)?.podName ?? '';
    await until('the pod to finish', async () => {
      const r = await ops.getPod(target(), 'default', podName);
      return r.ok && r.value.phase === 'Succeeded';
    });
    expect(store.get(t.id)?.state).toBe('running');

    launcher = makeLauncher();
    await launcher.reconcile();
    expect(store.get(t.id)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(logOf(t.id)).toBe('before\nafter\n');
  });

  it('a task left running whose Pod is gone fails, saying it disappeared while Kindtray was not watching', async () => {
    const t = submit({ name: 'gone', run: 'sleep 30' });
    launcher.launch(t.id);
    const running = await until('running', inState(t.id, 'running'));
    await launcher.close();
    const del = await ops.deletePod(target(), 'default', running.podName ?? '', { gracePeriodSeconds: 0 });
    expect(del).toEqual({ ok: true, value: { existed: true } });
    launcher = makeLauncher();
    await launcher.reconcile();
    expect(store.get(t.id)).toMatchObject({ state: 'failed', reason: `pod ${running.podName} disappeared while Kindtray was not watching` });
  });
});

describe('a cluster that does not answer', () => {
  it('API hangs: the launch fails within its bound with a clear reason, never stuck in launching', async () => {
    // The client process is up before the fault: what is timed is the cluster's silence, not a cold start.
    expect((await ops.listTaskPods(target(), `${TASK_LABEL}=warm`)).ok).toBe(true);
    await cluster.setFault('hang');
    const t = submit({ name: 'hung', run: 'echo never' });
    const started = Date.now();
    launcher.launch(t.id);
    const failed = await until('failed', inState(t.id, 'failed'), 15_000);
    const took = Date.now() - started;
    expect(failed.reason).toMatch(
      new RegExp(`^could not create pod kt-hung-\\w+: ${cluster.context}: no answer from its API in 2 s \\(kept trying for [\\d.]+ m?s\\); pod kt-hung-\\w+ may still exist on ${cluster.context}`),
    );
    // One create bound (3 s here), one deadline for the last attempt, one for the cleanup, and slack for a loaded machine.
    expect(took).toBeLessThan(3_000 + 2 * 2_000 + 3_000);
    console.log(`hung cluster → failed in ${took} ms`);
    // The silent API cost answers, not processes: each request gave up on its own.
    expect(replacedChildren).toEqual([]);

    // The next start cleans up what may have been created.
    await cluster.setFault('none');
    launcher = makeLauncher();
    await launcher.reconcile();
    expect(await exists('pods', `kt-hung-${t.id.slice(2)}`)).toBe(false);
  });

  it('a credential plugin that blocks the client: the launch fails at the deadline, and the child is killed and replaced', async () => {
    const blocked = path.join(dir, 'blocked-kubeconfig.yaml');
    copyFileSync(tb.kubeconfigPath, blocked);
    await setContextUser(blocked, cluster.context, {
      'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sleep', 'cmd-args': '30', 'token-key': '{.t}', 'expiry-key': '{.e}' } },
    });
    launcher = makeLauncher(blocked);
    const t = submit({ name: 'blocked', run: 'echo never' });
    launcher.launch(t.id);
    const failed = await until('failed', inState(t.id, 'failed'), 20_000);
    expect(failed.reason).toMatch(new RegExp(`^could not create pod kt-blocked-\\w+: ${cluster.context}: authentication did not finish in 2 s`));
    await until('the stuck child to be replaced', () => replacedChildren.length >= 1, 5_000);
    expect(replacedChildren[0]).toBe(`${cluster.context}: authentication did not finish in 2 s`);
    expect(ops.stats().replaced).toBeGreaterThanOrEqual(1);

    // A healthy kubeconfig works again on a fresh child.
    const r = await ops.listTaskPods(target(), `${TASK_LABEL}=${t.id}`);
    expect(r).toEqual({ ok: true, value: [] });
  });
});
