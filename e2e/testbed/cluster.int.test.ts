// A testbed cluster looks like a KinD cluster to whoever reads Docker and the
// kubeconfig (as Kindtray's discovery does): container names, labels,
// published ports, `kind-NAME` entries merged and removed as kind does, and the
// helpers that break a kubeconfig on purpose.

import { describe, expect, it } from 'vitest';
import { KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from './constants.ts';
import { readKubeconfig, setContextServerPort, setContextUser, setCurrentContext, writeKubeconfig } from './kubeconfig.ts';
import { kubectl } from './kubectl.ts';
import { makeForeignClientCert } from './pki.ts';
import { useTestbed } from './use-testbed.ts';

const tb = useTestbed();

describe('what Docker shows of a cluster', () => {
  it('names, labels and published ports are KinD\'s', async () => {
    const cluster = await tb.createCluster({ name: 'look', workers: 2, extraPortMappings: [{ containerPort: 30001, hostPort: 0 }, { containerPort: 30002 }] });
    const containers = await tb.dockerd.api.listContainers([`${KIND_CLUSTER_LABEL}=${cluster.name}`]);
    const byName = Object.fromEntries(containers.map((c) => [c.Names[0]?.slice(1), c]));
    expect(Object.keys(byName).sort()).toEqual([`${cluster.name}-control-plane`, `${cluster.name}-worker`, `${cluster.name}-worker2`]);
    expect(byName[`${cluster.name}-control-plane`]?.Labels[KIND_ROLE_LABEL]).toBe('control-plane');
    expect(byName[`${cluster.name}-worker2`]?.Labels[KIND_ROLE_LABEL]).toBe('worker');
    expect(containers.every((c) => c.State === 'running')).toBe(true);

    const cp = await tb.dockerd.api.inspectContainer(cluster.controlPlane.id);
    expect(cp.Config.Hostname).toBe(`${cluster.name}-control-plane`);
    expect(cp.NetworkSettings.Ports['6443/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(cluster.apiPort) }]);
    expect(cp.NetworkSettings.Ports['30001/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
    expect(await cluster.hostPortFor(30002)).toBeGreaterThan(0);
    expect(cluster.apiServer).toBe(`https://127.0.0.1:${cluster.apiPort}`);
  });

  it('refuses a second cluster of the same name, as kind does', async () => {
    const cluster = await tb.createCluster({ name: 'twice' });
    const { createCluster } = await import('./cluster.ts');
    await expect(createCluster(tb.dockerd, { name: cluster.name, kubeconfigPath: tb.kubeconfigPath })).rejects.toThrow(/already exist for a cluster with the name/);
  });
});

describe('kubeconfig entries', () => {
  it('are merged like kind: kind-NAME cluster/user/context, current-context set, CA and client cert inline; remove takes them out', async () => {
    const kubeconfigPath = `${tb.dockerd.dir}/kubeconfigs/merge-${tb.uniqueName()}.yaml`;
    writeKubeconfig(kubeconfigPath, {
      apiVersion: 'v1', kind: 'Config', preferences: {}, 'current-context': 'other',
      clusters: [{ name: 'other', cluster: { server: 'https://example.invalid:6443' } }],
      users: [{ name: 'other', user: { token: 'x' } }],
      contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }],
    });
    const a = await tb.createCluster({ name: 'a', kubeconfigPath });
    const b = await tb.createCluster({ name: 'b', kubeconfigPath });
    let doc = readKubeconfig(kubeconfigPath);
    expect(doc.contexts.map((c) => c.name)).toEqual(['other', a.context, b.context]);
    expect(doc['current-context']).toBe(b.context);
    const entry = doc.clusters.find((c) => c.name === a.context)?.cluster;
    expect(entry?.server).toBe(a.apiServer);
    expect(Buffer.from(entry?.['certificate-authority-data'] ?? '', 'base64').toString()).toMatch(/BEGIN CERTIFICATE/);
    expect(doc.users.find((u) => u.name === a.context)?.user['client-key-data']).toBeTruthy();

    await b.remove();
    doc = readKubeconfig(kubeconfigPath);
    expect(doc.contexts.map((c) => c.name)).toEqual(['other', a.context]);
    expect(doc['current-context']).toBe('');
  });

  it('can be broken on purpose: stale port, dangling current-context, foreign client certificate', async () => {
    const cluster = await tb.createCluster({ name: 'broken' });
    const env = tb.env();

    await setContextServerPort(tb.kubeconfigPath, cluster.context, 1);
    const stale = await kubectl(['--context', cluster.context, '--request-timeout=2s', 'get', '--raw', '/readyz'], { env });
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/server 127\.0\.0\.1:1 was refused/);
    await setContextServerPort(tb.kubeconfigPath, cluster.context, cluster.apiPort);
    expect((await kubectl(['--context', cluster.context, 'get', '--raw', '/readyz'], { env })).stdout).toBe('ok');

    await setCurrentContext(tb.kubeconfigPath, 'kind-nothing');
    const dangling = await kubectl(['get', 'nodes'], { env });
    expect(dangling.stderr).toMatch(/context was not found for specified context: kind-nothing/);

    const foreign = await makeForeignClientCert(`${tb.dockerd.dir}/foreign-${tb.uniqueName()}`);
    await setContextUser(tb.kubeconfigPath, cluster.context, {
      'client-certificate-data': Buffer.from(foreign.certData).toString('base64'),
      'client-key-data': Buffer.from(foreign.keyData).toString('base64'),
    });
    const denied = await kubectl(['--context', cluster.context, 'get', 'pods'], { env });
    expect(denied.stderr).toMatch(/You must be logged in to the server/);
    // Public endpoints stay open to anyone, as on kube-apiserver.
    expect((await kubectl(['--context', cluster.context, 'get', '--raw', '/version'], { env })).code).toBe(0);
  });
});
