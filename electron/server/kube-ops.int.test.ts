// Task operations against the testbed's API stand-in: what each answers, and
// the typed failures a launcher must tell apart (already exists, namespace
// not found, already gone, not started yet, no answer).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_LABEL } from '../../shared/constants.ts';
import { useTestbed } from '../../e2e/testbed/index.ts';
import type { Cluster } from '../../e2e/testbed/index.ts';
import { KubeOps } from './kube-ops.ts';
import type { KubeTarget } from './kube-ops.ts';

const tb = useTestbed();
let cluster: Cluster;
let ops: KubeOps;
let target: KubeTarget;

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'ops' });
  ops = new KubeOps();
  target = { context: cluster.context, kubeconfigPaths: [tb.kubeconfigPath] };
});

afterAll(async () => {
  ops.close();
  await cluster.setFault('none');
});

const pod = (name: string, script: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { [TASK_LABEL]: name } },
  spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: tb.info.image, command: ['sh', '-c', script] }] },
});

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('task operations', () => {
  it('create, read, list, log, delete a Pod; a second create says it already exists', async () => {
    const created = await ops.createPod(target, 'default', pod('ops-a', 'echo hi; echo there; sleep 30'));
    expect(created.ok && created.value).toMatchObject({ name: 'ops-a', namespace: 'default', labels: { [TASK_LABEL]: 'ops-a' }, deleting: false });

    const again = await ops.createPod(target, 'default', pod('ops-a', 'true'));
    expect(again).toEqual({ ok: false, error: { kind: 'already-exists', message: `${cluster.context}: pod ops-a already exists`, status: 409 } });

    const running = await until('running', async () => {
      const r = await ops.getPod(target, 'default', 'ops-a');
      return r.ok && r.value.phase === 'Running' ? r.value : undefined;
    });
    expect(running.container).toMatchObject({ name: 'task', state: 'running', restartCount: 0 });

    const listed = await ops.listTaskPods(target, `${TASK_LABEL}=ops-a`);
    expect(listed.ok && listed.value.map((p) => p.name)).toEqual(['ops-a']);
    const inNamespace = await ops.listTaskPods(target, `${TASK_LABEL}=ops-a`, { namespace: 'default' });
    expect(inNamespace.ok && inNamespace.value.length).toBe(1);

    const log = await until('log', async () => {
      const r = await ops.readLog(target, 'default', 'ops-a', { sinceBytes: 0 });
      return r.ok && r.value.totalBytes === 9 ? r.value : undefined;
    });
    expect(Buffer.from(log.data).toString()).toBe('hi\nthere\n');
    const rest = await ops.readLog(target, 'default', 'ops-a', { sinceBytes: 3 });
    expect(rest.ok && Buffer.from(rest.value.data).toString()).toBe('there\n');

    expect(await ops.deletePod(target, 'default', 'ops-a', { gracePeriodSeconds: 0 })).toEqual({ ok: true, value: { existed: true } });
    expect(await ops.deletePod(target, 'default', 'ops-a')).toEqual({ ok: true, value: { existed: false } });
    const gone = await ops.getPod(target, 'default', 'ops-a');
    expect(gone).toEqual({ ok: false, error: { kind: 'not-found', message: `${cluster.context}: pod ops-a not found`, status: 404 } });
  });

  it('a Pod that exits 3 reads as Failed with exit code 3', async () => {
    await ops.createPod(target, 'default', pod('ops-three', 'exit 3'));
    const failed = await until('failed', async () => {
      const r = await ops.getPod(target, 'default', 'ops-three');
      return r.ok && r.value.phase === 'Failed' ? r.value : undefined;
    });
    expect(failed.container).toMatchObject({ state: 'terminated', exitCode: 3, reason: 'Error' });
  });

  it('a NodePort Service answers with its NodePorts, and deleting it twice is fine', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ops-svc', labels: { [TASK_LABEL]: 'ops-svc' } },
      spec: { type: 'NodePort', selector: { [TASK_LABEL]: 'ops-svc' }, ports: [{ name: 'p8080', port: 8080, targetPort: 8080, nodePort: 30999 }] },
    };
    const created = await ops.createService(target, 'default', svc);
    expect(created).toEqual({ ok: true, value: { name: 'ops-svc', namespace: 'default', ports: [{ port: 8080, targetPort: 8080, nodePort: 30999 }] } });
    const again = await ops.createService(target, 'default', svc);
    expect(again.ok || again.error.kind).toBe('already-exists');
    expect(await ops.deleteService(target, 'default', 'ops-svc')).toEqual({ ok: true, value: { existed: true } });
    expect(await ops.deleteService(target, 'default', 'ops-svc')).toEqual({ ok: true, value: { existed: false } });
  });

  it('a namespace that does not exist is named as such', async () => {
    const r = await ops.createPod(target, 'nope', { ...pod('ops-ns', 'true'), metadata: { name: 'ops-ns', namespace: 'nope' } });
    expect(r.ok || r.error.kind).toBe('namespace-not-found');
    expect(r.ok || r.error.message).toMatch(new RegExp(`^${cluster.context}: namespaces? "?nope"? not found`));
  });

  it('an API that hangs answers "no answer" at the deadline', async () => {
    await cluster.setFault('hang');
    const started = Date.now();
    const r = await ops.getPod(target, 'default', 'anything', { deadlineMs: 1_500 });
    expect(Date.now() - started).toBeLessThan(1_800);
    expect(r).toEqual({ ok: false, error: { kind: 'deadline', message: `${cluster.context}: no answer from its API in 1.5 s` } });
    await cluster.setFault('refuse');
    const refused = await ops.getPod(target, 'default', 'anything');
    expect(refused.ok || refused.error.kind).toBe('unreachable');
    await cluster.setFault('none');
    expect((await ops.listTaskPods(target, `${TASK_LABEL}=none`)).ok).toBe(true);
  });
});
