// Each fault switch does what it says, for the next connection or request,
// without restarting anything; and stopping a node container takes the API
// away for real (its published port refuses), as on a KinD cluster.

import { connect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from './cluster.ts';
import { kubectl } from './kubectl.ts';
import { waitFor } from './proc.ts';
import { useTestbed } from './use-testbed.ts';

const tb = useTestbed();

/** How a plain TCP connect to the port ends: 'open' or the error code. */
function probeTcp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Resolves with the time an API request took and its outcome ('200' or the error code). */
async function timed(cluster: Cluster, path: string, timeoutMs: number): Promise<{ ms: number; outcome: string }> {
  const started = Date.now();
  const outcome = await cluster.apiRequest(path, { timeoutMs }).then(
    (r) => String(r.statusCode),
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  return { ms: Date.now() - started, outcome };
}

describe('API fault switches, and the node container stopped', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await tb.createCluster({ name: 'faults' });
  });
  // A failed test must not leave its fault to the next one.
  afterEach(() => cluster.setFault('none'));

  it('hang: TLS is accepted and the request never answered, so the client times out; none heals it', async () => {
    await cluster.setFault('hang');
    // kubectl retries discovery five times (about 6 s in all): let it run alongside.
    const [hung, k] = await Promise.all([
      timed(cluster, '/version', 700),
      kubectl(['--context', cluster.context, '--request-timeout=1s', 'get', 'nodes'], { env: tb.env(), timeoutMs: 20_000 }),
    ]);
    expect(hung.outcome).toBe('ETIMEDOUT');
    expect(hung.ms).toBeGreaterThanOrEqual(650);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toMatch(/Client\.Timeout|context deadline exceeded|timeout/i);

    await cluster.setFault('none');
    expect((await timed(cluster, '/version', 2_000)).outcome).toBe('200');
  });

  it('hang at the handshake: TCP is accepted, TLS never completes', async () => {
    await cluster.setFault({ kind: 'hang', stage: 'handshake' });
    expect(await probeTcp(cluster.apiPort)).toBe('open');
    expect((await timed(cluster, '/version', 500)).outcome).toBe('ETIMEDOUT');
    await cluster.setFault('none');
    expect((await timed(cluster, '/version', 2_000)).outcome).toBe('200');
  });

  it('refuse: every connection is reset at once', async () => {
    await cluster.setFault('refuse');
    const refused = await timed(cluster, '/version', 5_000);
    expect(refused.outcome).toMatch(/^(ECONNRESET|ECONNREFUSED|EPIPE)$/);
    expect(refused.ms).toBeLessThan(2_000);
    // (kubectl is left out here: it retries a reset discovery for ~10 s before giving up.)
    await cluster.setFault('none');
    expect((await timed(cluster, '/version', 2_000)).outcome).toBe('200');
  });

  it('slow: answers, after the delay', async () => {
    await cluster.setFault({ kind: 'slow', delayMs: 600 });
    const slow = await timed(cluster, '/version', 3_000);
    expect(slow.outcome).toBe('200');
    expect(slow.ms).toBeGreaterThanOrEqual(600);
    expect((await timed(cluster, '/version', 300)).outcome).toBe('ETIMEDOUT');
    await cluster.setFault('none');
    expect((await timed(cluster, '/version', 2_000)).outcome).toBe('200');
  });

  it('notready: the API answers and every node reports Ready=False', async () => {
    await cluster.setFault('notready');
    const nodes = JSON.parse((await cluster.apiRequest('/api/v1/nodes')).body) as { items: { status: { conditions: { type: string; status: string }[] } }[] };
    expect(nodes.items.map((n) => n.status.conditions.find((c) => c.type === 'Ready')?.status)).toEqual(['False']);
    const k = await kubectl(['--context', cluster.context, 'get', 'nodes', '--no-headers'], { env: tb.env() });
    expect(k.stdout).toMatch(/-control-plane\s+NotReady\s+control-plane/);
    await cluster.setFault('none');
    expect((await kubectl(['--context', cluster.context, 'get', 'nodes', '--no-headers'], { env: tb.env() })).stdout).toMatch(/-control-plane\s+Ready\s/);
  });

  it('stopping the control-plane makes the published API port refuse; starting it brings the API, and its objects, back on the same port', async () => {
    const port = cluster.apiPort;
    const pod = { metadata: { name: 'keep' }, spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } };
    expect((await cluster.apiRequest('/api/v1/namespaces/default/pods', { body: pod })).statusCode).toBe(201);
    await cluster.stopNode();
    // docker-proxy goes with the container; allow the engine a moment under load.
    expect(await waitFor('the API port to refuse', 3_000, async () => ((await probeTcp(port)) === 'ECONNREFUSED' ? 'ECONNREFUSED' : undefined))).toBe('ECONNREFUSED');
    const inspect = await tb.dockerd.api.inspectContainer(cluster.controlPlane.id);
    expect(inspect.State.Running).toBe(false);

    await cluster.startNode();
    expect(cluster.apiPort).toBe(port);
    expect((await timed(cluster, '/readyz', 2_000)).outcome).toBe('200');
    // As etcd and the kubelet on a KinD node: the Pod is still there, and restarted (restartPolicy Always).
    const kept = JSON.parse((await cluster.apiRequest('/api/v1/namespaces/default/pods/keep')).body) as { status: { containerStatuses: { restartCount: number }[] } };
    expect(kept.status.containerStatuses[0]?.restartCount).toBe(1);
  });
});

describe('a Docker-assigned API port', () => {
  it('a restart moves the port and the kubeconfig goes stale, as on a real engine', async () => {
    const cluster = await tb.createCluster({ name: 'moving', apiPort: 'docker-assigned' });
    const before = cluster.apiPort;
    await cluster.stop();
    await cluster.start();
    expect(cluster.apiPort).not.toBe(before);
    const k = await kubectl(['--context', cluster.context, '--request-timeout=2s', 'get', 'nodes'], { env: tb.env() });
    expect(k.code).not.toBe(0);
    expect(k.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${before}`));
  });
});
