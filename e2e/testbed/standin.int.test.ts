// The stand-in speaks Kubernetes well enough for real clients: kubectl (the
// CLI users have) and @kubernetes/client-node (what Kindtray uses), through a
// KinD-like cluster's published port and kubeconfig entry.

import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from './cluster.ts';
import { kubectl } from './kubectl.ts';
import { waitFor } from './proc.ts';
import { useTestbed } from './use-testbed.ts';

const tb = useTestbed();
let cluster: Cluster;
const k = (...args: string[]) => kubectl(['--context', cluster.context, ...args], { env: tb.env() });

// One cluster for the file: each cluster costs a couple of container starts.
beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'standin', workers: 1, extraPortMappings: [{ containerPort: 30950 }] });
});

describe('a KinD-like cluster, seen by kubectl', () => {
  it('lists one Ready node per node container, with roles and version', async () => {
    const r = await k('get', 'nodes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines[1]).toMatch(new RegExp(`^${cluster.name}-control-plane\\s+Ready\\s+control-plane\\s+\\S+\\s+v1\\.32\\.2$`));
    expect(lines[2]).toMatch(new RegExp(`^${cluster.name}-worker\\s+Ready\\s+<none>`));
  });

  it('runs a pod for real: phase, exit code and logs come from the process', async () => {
    const run = await k('run', 'hello', '--image=x', '--restart=Never', '--', 'sh', '-c', 'echo hi; echo "from $HOSTNAME"; exit 3');
    expect(run.stdout.trim()).toBe('pod/hello created');

    // kubectl wait watches the Pod: the stand-in's watch stream is what ends it.
    const waited = await k('wait', '--for=jsonpath={.status.phase}=Failed', 'pod/hello', '--timeout=10s');
    expect(waited.stdout.trim()).toBe('pod/hello condition met');
    const phase = await k('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}');
    expect(phase.stdout).toBe('Failed 3');

    const pods = await k('get', 'pods');
    expect(pods.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(pods.stdout).toMatch(/\nhello\s+0\/1\s+Error\s+0\s+\S+\n/);

    const logs = await k('logs', 'hello');
    expect(logs.stdout).toBe(`hi\nfrom hello\n`);
  });

  it('answers errors with Status objects kubectl prints normally', async () => {
    expect((await k('get', 'pod', 'nope')).stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    await k('run', 'twice', '--image=x', '--restart=Never', '--', 'true');
    expect((await k('run', 'twice', '--image=x', '--restart=Never', '--', 'true')).stderr.trim()).toBe('Error from server (AlreadyExists): pods "twice" already exists');
    const bad = await k('run', 'Bad_Name', '--image=x', '--restart=Never', '--', 'true');
    expect(bad.code).not.toBe(0);
  });

  it('takes the protobuf bodies of kubectl\'s typed commands: create namespace, create service', async () => {
    expect((await k('create', 'namespace', 'team')).stdout.trim()).toBe('namespace/team created');
    expect((await k('create', 'namespace', 'team')).stderr.trim()).toBe('Error from server (AlreadyExists): namespaces "team" already exists');
    expect((await k('create', 'service', 'nodeport', 'typed', '--tcp=8080:80', '--node-port=30951', '-n', 'team')).stdout.trim()).toBe('service/typed created');
    const svc = await k('get', 'svc', 'typed', '-n', 'team', '-o', 'jsonpath={.spec.type} {.spec.ports[0].port}:{.spec.ports[0].targetPort}:{.spec.ports[0].nodePort} {.spec.selector.app}');
    expect(svc.stdout).toBe('NodePort 8080:80:30951 typed');
    const taken = await k('create', 'service', 'nodeport', 'again', '--tcp=8080:80', '--node-port=30951');
    expect(taken.stderr).toMatch(/spec\.ports\[0\]\.nodePort: Invalid value: 30951: provided port is already allocated/);
    expect((await k('delete', 'namespace', 'team')).stdout.trim()).toBe('namespace "team" deleted');
  });

  it('follows logs while the process writes them, and selects by label', async () => {
    await k('run', 'ticker', '--image=x', '--restart=Never', '--labels=app=tick', '--', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.2; done');
    await waitFor('ticker running', 5_000, async () => ((await k('get', 'pod', 'ticker', '-o', 'jsonpath={.status.phase}')).stdout !== 'Pending' ? true : undefined));
    const follow = await k('logs', '-f', 'ticker');
    expect(follow.stdout).toBe('tick 1\ntick 2\ntick 3\n');
    const selected = await k('get', 'pods', '-l', 'app=tick', '-o', 'name');
    expect(selected.stdout.trim()).toBe('pod/ticker');
  });

  it('forwards a NodePort Service to the task, so a mapped host port reaches it', async () => {
    const svc = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { run: 'web' }, ports: [{ port: 8080, targetPort: 8080, nodePort: 30950 }] },
    };
    const created = await kubectl(['--context', cluster.context, 'create', '-f', '-'], { env: tb.env(), input: JSON.stringify(svc) });
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('service/web created');
    await k('run', 'web', '--image=x', '--restart=Never', '--', 'sh', '-c',
      'while true; do printf "HTTP/1.0 200 OK\\r\\n\\r\\nhello from $HOSTNAME\\n" | nc -l -p 8080; done');
    const hostPort = await cluster.hostPortFor(30950);
    const body = await waitFor('the task to answer through the mapped port', 10_000, async () => {
      const res = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(1_000) });
      return res.ok ? res.text() : undefined;
    }, 100);
    expect(body).toBe('hello from web\n');
    const svcs = await k('get', 'svc', 'web');
    expect(svcs.stdout).toMatch(/web\s+NodePort\s+10\.96\.\S+\s+<none>\s+8080:30950\/TCP/);
  });
});

describe('a KinD-like cluster, seen by @kubernetes/client-node', () => {
  it('lists nodes, creates a pod, reads its log and deletes it', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(tb.kubeconfigPath);
    kc.setCurrentContext(cluster.context);
    const api = kc.makeApiClient(CoreV1Api);

    const nodes = await api.listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual([`${cluster.name}-control-plane`, `${cluster.name}-worker`]);
    expect(nodes.items[0]?.status?.capacity?.cpu).toMatch(/^\d+$/);
    expect(nodes.items[0]?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    await api.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'greet', labels: { 'kindtray.dev/task': 't1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo $GREETING'], env: [{ name: 'GREETING', value: 'hello' }] }] } },
    });
    const pod = await waitFor('greet to succeed', 10_000, async () => {
      const p = await api.readNamespacedPod({ name: 'greet', namespace: 'default' });
      return p.status?.phase === 'Succeeded' ? p : undefined;
    }, 100);
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(await api.readNamespacedPodLog({ name: 'greet', namespace: 'default' })).toBe('hello\n');
    const listed = await api.listNamespacedPod({ namespace: 'default', labelSelector: 'kindtray.dev/task=t1' });
    expect(listed.items).toHaveLength(1);

    await api.deleteNamespacedPod({ name: 'greet', namespace: 'default' });
    await expect(api.readNamespacedPod({ name: 'greet', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });

  it('streams watch events: a Pod added, its phases, its deletion', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(tb.kubeconfigPath);
    kc.setCurrentContext(cluster.context);
    const seen: string[] = [];
    let deleted!: () => void;
    const gone = new Promise<void>((resolve) => {
      deleted = resolve;
    });
    const controller = await new Watch(kc).watch('/api/v1/namespaces/default/pods', { labelSelector: 'watch=me' },
      (type, obj: { status?: { phase?: string } }) => {
        seen.push(`${type} ${obj.status?.phase ?? ''}`);
        if (type === 'DELETED') deleted();
      },
      () => {});
    try {
      const api = kc.makeApiClient(CoreV1Api);
      await api.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'watched', labels: { watch: 'me' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['true'] }] } } });
      await waitFor('watched to succeed', 10_000, () => (seen.some((e) => e === 'MODIFIED Succeeded') ? true : undefined));
      await api.deleteNamespacedPod({ name: 'watched', namespace: 'default' });
      await gone;
    } finally {
      controller.abort();
    }
    expect(seen[0]).toBe('ADDED Pending');
    expect(seen).toContain('MODIFIED Running');
    expect(seen.at(-1)).toBe('DELETED Succeeded');
  });
});
