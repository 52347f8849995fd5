// A testbed cluster looks like a KinD cluster to whoever reads Docker and the
// kubeconfig (as Kindtray's discovery does): container names, labels,
// published ports, `kind-NAME` entries merged and removed as kind does, and the
// helpers that break a kubeconfig on purpose. One cluster serves the file (in
// order: its last test removes it).

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachCluster, createCluster } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from './constants.ts';
import { readKubeconfig, setContextServerPort, setContextUser, setCurrentContext, writeKubeconfig } from './kubeconfig.ts';
import { kubectl } from './kubectl.ts';
import { makeForeignClientCert } from './pki.ts';
import { useTestbed } from './use-testbed.ts';

const tb = useTestbed();
let cluster: Cluster;
let kubeconfigPath: string;

beforeAll(async () => {
  // A kubeconfig that already has someone else's context, as a user's would.
  kubeconfigPath = join(tb.dockerd.dir, 'kubeconfigs', `${tb.uniqueName('merge')}.yaml`);
  writeKubeconfig(kubeconfigPath, {
    apiVersion: 'v1', kind: 'Config', preferences: {}, 'current-context': 'other',
    clusters: [{ name: 'other', cluster: { server: 'https://example.invalid:6443' } }],
    users: [{ name: 'other', user: { token: 'x' } }],
    contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }],
  });
  cluster = await tb.createCluster({ name: 'look', workers: 2, kubeconfigPath, extraPortMappings: [{ containerPort: 30001, hostPort: 0 }, { containerPort: 30002 }] });
});

describe('what Docker shows of a cluster', () => {
  it('names, labels and published ports are KinD\'s', async () => {
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

  it('can be found again from Docker alone (attachCluster), as kind\'s own commands find it', async () => {
    const again = await attachCluster(tb.dockerd, cluster.name, kubeconfigPath);
    expect(again.nodeContainers).toEqual(cluster.nodeContainers);
    expect(again.apiPort).toBe(cluster.apiPort);
    expect((await again.apiRequest('/readyz')).body).toBe('ok');
  });

  it('refuses a second cluster of the same name, as kind does', async () => {
    await expect(createCluster(tb.dockerd, { name: cluster.name, kubeconfigPath })).rejects.toThrow(/already exist for a cluster with the name/);
  });
});

describe('kubeconfig entries', () => {
  it('are merged like kind: kind-NAME cluster/user/context, current-context set, CA and client cert inline', () => {
    const doc = readKubeconfig(kubeconfigPath);
    expect(doc.contexts.map((c) => c.name)).toEqual(['other', cluster.context]);
    expect(doc.contexts.find((c) => c.name === cluster.context)?.context).toEqual({ cluster: cluster.context, user: cluster.context });
    expect(doc['current-context']).toBe(cluster.context);
    const entry = doc.clusters.find((c) => c.name === cluster.context)?.cluster;
    expect(entry?.server).toBe(cluster.apiServer);
    expect(Buffer.from(entry?.['certificate-authority-data'] ?? '', 'base64').toString()).toMatch(/BEGIN CERTIFICATE/);
    expect(doc.users.find((u) => u.name === cluster.context)?.user['client-key-data']).toBeTruthy();
  });

  it('can be broken on purpose: stale port, dangling current-context, foreign client certificate', async () => {
    const broken = join(tb.dockerd.dir, 'kubeconfigs', `${tb.uniqueName('broken')}.yaml`);
    copyFileSync(kubeconfigPath, broken);
    const env = tb.env({ KUBECONFIG: broken });

    await setContextServerPort(broken, cluster.context, 1);
    const stale = await kubectl(['--context', cluster.context, '--request-timeout=2s', 'get', '--raw', '/readyz'], { env });
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/server 127\.0\.0\.1:1 was refused/);
    await setContextServerPort(broken, cluster.context, cluster.apiPort);
    expect((await kubectl(['--context', cluster.context, 'get', '--raw', '/readyz'], { env })).stdout).toBe('ok');

    await setCurrentContext(broken, 'kind-nothing');
    const dangling = await kubectl(['get', 'nodes'], { env });
    expect(dangling.stderr).toMatch(/context was not found for specified context: kind-nothing/);

    const foreign = await makeForeignClientCert(join(tb.dockerd.dir, tb.uniqueName('foreign')));
    await setContextUser(broken, cluster.context, {
      'client-certificate-data': Buffer.from(foreign.certData).toString('base64'),
      'client-key-data': Buffer.from(foreign.keyData).toString('base64'),
    });
    const denied = await kubectl(['--context', cluster.context, 'get', 'pods'], { env });
    expect(denied.stderr).toMatch(/You must be logged in to the server/);
    // Public endpoints stay open to anyone, as on kube-apiserver.
    expect((await kubectl(['--context', cluster.context, 'get', '--raw', '/version'], { env })).code).toBe(0);
  });

  it('are removed with the cluster, and current-context is cleared when it named it (as `kind delete cluster`)', async () => {
    await cluster.remove();
    const doc = readKubeconfig(kubeconfigPath);
    expect(doc.contexts.map((c) => c.name)).toEqual(['other']);
    expect(doc.clusters.map((c) => c.name)).toEqual(['other']);
    expect(doc['current-context']).toBe('');
    expect(await tb.dockerd.api.listContainers([`${KIND_CLUSTER_LABEL}=${cluster.name}`])).toEqual([]);
  });
});
