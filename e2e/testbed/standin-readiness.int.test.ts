// The stand-in runs a container's readinessProbe as the kubelet does: not
// ready before the first success, ready after successThreshold successes,
// not ready again after failureThreshold failures in a row; httpGet passes on
// 2xx/3xx only (a 404 never makes it ready); a named port is resolved through
// the container's ports. The Pod's Ready and ContainersReady conditions and
// the container's `ready` follow. A startupProbe (exec) holds the container's
// `started` until it passes, and kills it at failureThreshold.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from './cluster.ts';
import { useTestbed } from './use-testbed.ts';

const tb = useTestbed();
let cluster: Cluster;

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'probes' });
});

interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string }[];
  containerStatuses?: { ready: boolean }[];
}

async function createPod(name: string, script: string, probe: Record<string, unknown>): Promise<void> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', script], ports: [{ name: 'web', containerPort: 8086 }], readinessProbe: probe }] },
  };
  const r = await cluster.apiRequest('/api/v1/namespaces/default/pods', { method: 'POST', body: pod });
  expect(r.statusCode, r.body).toBe(201);
}

async function status(name: string): Promise<PodStatus> {
  const r = await cluster.apiRequest(`/api/v1/namespaces/default/pods/${name}`);
  return (JSON.parse(r.body) as { status: PodStatus }).status;
}

/** Samples the Pod's Ready condition every 200 ms for `ms`: the changes, with when each was seen. */
async function readiness(name: string, ms: number): Promise<{ atMs: number; ready: string; containers: string; container: boolean }[]> {
  const start = Date.now();
  const seen: { atMs: number; ready: string; containers: string; container: boolean }[] = [];
  while (Date.now() - start < ms) {
    const s = await status(name);
    const ready = s.conditions?.find((c) => c.type === 'Ready')?.status ?? '-';
    const containers = s.conditions?.find((c) => c.type === 'ContainersReady')?.status ?? '-';
    const container = s.containerStatuses?.[0]?.ready ?? false;
    if (seen.at(-1)?.ready !== ready) seen.push({ atMs: Date.now() - start, ready, containers, container });
    await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}

describe('readinessProbe, as the kubelet runs it', () => {
  it('httpGet on a named port: not ready until the server answers, ready, then not ready after failureThreshold failures', async () => {
    // Serves from 3 s to 9 s after the start.
    const script = 'mkdir -p /tmp/rp && echo ok > /tmp/rp/h; sleep 3; httpd -f -p 8086 -h /tmp/rp & P=$!; sleep 6; kill $P; sleep 30';
    await createPod('rp-http', script, { httpGet: { path: '/h', port: 'web' }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2, successThreshold: 1 });
    const seen = await readiness('rp-http', 20_000);
    expect(seen.map((x) => x.ready)).toEqual(['False', 'True', 'False']);
    // Ready once it serves (3 s, then a probe within the period), ContainersReady and the container with it.
    expect(seen[1]?.atMs).toBeGreaterThanOrEqual(2_500);
    expect(seen[1]).toMatchObject({ containers: 'True', container: true });
    // Two failures in a row after the server went (it served 6 s): not ready, though the container still runs.
    expect((seen[2]?.atMs ?? 0) - (seen[1]?.atMs ?? 0)).toBeGreaterThanOrEqual(4_000);
    expect(seen[2]).toMatchObject({ containers: 'False', container: false });
    expect((await status('rp-http')).phase).toBe('Running');
  }, 40_000);

  it('a 404 is a failure: never ready; without a probe, ready as soon as it runs', async () => {
    await createPod('rp-404', 'mkdir -p /tmp/rq && echo ok > /tmp/rq/h; exec httpd -f -p 8087 -h /tmp/rq', { httpGet: { path: '/missing', port: 8087 }, periodSeconds: 1 });
    const seen = await readiness('rp-404', 4_000);
    expect(seen.map((x) => x.ready)).toEqual(['False']);
    const plain = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'rp-none' }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '30'] }] } };
    expect((await cluster.apiRequest('/api/v1/namespaces/default/pods', { method: 'POST', body: plain })).statusCode).toBe(201);
    const start = Date.now();
    for (;;) {
      const s = await status('rp-none');
      if (s.conditions?.find((c) => c.type === 'Ready')?.status === 'True') break;
      expect(Date.now() - start, 'a Pod without a probe is Ready once it runs').toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);
});

describe('startupProbe, as the kubelet runs it', () => {
  it('exec: the container is not started (nor ready) until its command exits 0, then started for good; one that never passes is killed at failureThreshold', async () => {
    const mark = `/tmp/sp-${Date.now()}`;
    const pod = (name: string, script: string, probe: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', script], startupProbe: probe }] },
    });
    const started = async (name: string) => {
      const s = (JSON.parse((await cluster.apiRequest(`/api/v1/namespaces/default/pods/${name}`)).body) as { status: PodStatus & { containerStatuses?: { started?: boolean; ready: boolean }[] } }).status;
      return { phase: s.phase, started: s.containerStatuses?.[0]?.started, ready: s.containerStatuses?.[0]?.ready };
    };
    const probe = { exec: { command: ['sh', '-c', `test -e ${mark}`] }, periodSeconds: 1, failureThreshold: 30 };
    expect((await cluster.apiRequest('/api/v1/namespaces/default/pods', { method: 'POST', body: pod('sp-exec', `sleep 2; touch ${mark}; sleep 30`, probe) })).statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await started('sp-exec')).toEqual({ phase: 'Running', started: false, ready: false });
    const start = Date.now();
    while (!(await started('sp-exec')).started) {
      expect(Date.now() - start, 'started once the command passes').toBeLessThan(6_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await started('sp-exec')).ready, 'without a readinessProbe, ready once started').toBe(true);

    const never = { exec: { command: ['sh', '-c', 'exit 1'] }, periodSeconds: 1, failureThreshold: 2 };
    expect((await cluster.apiRequest('/api/v1/namespaces/default/pods', { method: 'POST', body: pod('sp-never', 'sleep 30', never) })).statusCode).toBe(201);
    const t0 = Date.now();
    while ((await started('sp-never')).phase !== 'Failed') {
      expect(Date.now() - t0, 'killed after 2 failed probes').toBeLessThan(8_000);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 30_000);
});
