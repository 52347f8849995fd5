// service.readiness_probe on the testbed: a task that serves only after a
// delay is running with its endpoint shown not ready (the Pod's Ready
// condition False, as the kubelet reports a failing readinessProbe), then
// ready once the probe passes; the endpoint's URL answers only then.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTask } from '../../shared/task/index.ts';
import type { PortPlan } from '../../shared/task/index.ts';
import { useTestbed } from '../../e2e/testbed/index.ts';
import type { Cluster } from '../../e2e/testbed/index.ts';
import { KubeOps } from './kube-ops.ts';
import { Launcher } from './launcher.ts';
import { initialEndpoints } from './readiness.ts';
import { TaskStore } from './store.ts';
import { endpointsFromPlan } from './task-model.ts';

const tb = useTestbed();
const NODE_PORT = 30081;

let cluster: Cluster;
let hostPort: number;
let dir: string;
let store: TaskStore;
let ops: KubeOps;
let launcher: Launcher;

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'ready', extraPortMappings: [{ containerPort: NODE_PORT }] });
  hostPort = await cluster.hostPortFor(NODE_PORT);
  dir = mkdtempSync(path.join(tmpdir(), 'kt-ready-int-'));
  store = TaskStore.open(path.join(dir, 'kindtray.db'));
  ops = new KubeOps();
  launcher = new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), defaultImage: tb.info.image, kubeconfigPaths: () => [tb.kubeconfigPath] });
});

afterAll(async () => {
  await launcher.close();
  ops.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, get: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

describe('service.readiness_probe decides when the endpoint is shown ready', () => {
  it('a task that serves after 6 s: running and not ready, then ready once GET /health answers', async () => {
    const yaml = [
      'name: slow-web',
      'service:',
      '  readiness_probe:',
      '    path: /health',
      '    timeout_seconds: 1',
      'resources:',
      '  ports: 8080',
      // The delay is the task's own: the server starts after it.
      'run: mkdir -p /tmp/ready-$KINDTRAY_TASK_ID && echo ok > /tmp/ready-$KINDTRAY_TASK_ID/health && sleep 6 && exec httpd -f -p 8080 -h /tmp/ready-$KINDTRAY_TASK_ID',
    ].join('\n');
    const parsed = parseTask(yaml);
    expect(parsed.errors).toEqual([]);
    const spec = parsed.task;
    if (!spec) throw new Error('no task');
    const url = `http://127.0.0.1:${hostPort}`;
    const plan: PortPlan[] = [{ port: 8080, nodePort: NODE_PORT, reachable: 'yes', hostIp: '127.0.0.1', hostPort, url, how: `published as 127.0.0.1:${hostPort}` }];
    const t = store.create({ name: 'slow-web', context: cluster.context, cluster: cluster.name, source: yaml, spec, portPlan: plan, endpoints: initialEndpoints(spec, endpointsFromPlan(plan)) });
    expect(t.endpoints).toEqual([expect.objectContaining({ port: 8080, url, ready: false })]);

    const started = Date.now();
    launcher.launch(t.id);
    const running = await until('running', () => store.get(t.id)?.state === 'running' && store.get(t.id));
    // Running, but the server is not up yet: the endpoint says so, and the Pod is not Ready.
    expect(running.endpoints[0]?.ready).toBe(false);
    const pod = await cluster.apiRequest(`/api/v1/namespaces/default/pods/${running.podName ?? ''}`);
    const conditions = (JSON.parse(pod.body) as { status: { conditions: { type: string; status: string }[] } }).status.conditions;
    expect(conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(await answers(url + '/health')).toBe(false);

    const ready = await until('the endpoint shown ready', () => store.get(t.id)?.endpoints[0]?.ready === true && store.get(t.id));
    const readyAfter = Date.now() - started;
    expect(ready.state).toBe('running');
    expect(readyAfter).toBeGreaterThanOrEqual(6_000);
    expect(await answers(url + '/health')).toBe(true);
    console.log(`launch → endpoint ready: ${readyAfter} ms (serves after 6 s)`);
    await launcher.cancel(t.id);
  });
});
