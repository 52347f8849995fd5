// The testbed's kind against kind's contract: what a product running `kind`
// sees (exit codes, step lines and errors on stderr, kubeconfig entries, node
// containers, images on the nodes). A private dockerd: these tests count the
// engine's clusters.

import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAKE_KIND_BIN, NODE_IMAGE_REF, readKubeconfig, useTestbed } from './index.ts';
import { DEFAULT_NODE_IMAGE, kubernetesVersionOf, parseConfig, validateConfig } from './kind/config.ts';
import { sanitizeImage } from './kind/load.ts';
import { goDuration, parseGoDuration } from './kind/output.ts';

const tb = useTestbed({ privateDockerd: true });
// Each kind run is a Node process and several docker commands: seconds apiece on a loaded 2-core machine.

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const kind = (args: string[], extra: NodeJS.ProcessEnv = {}) => run(FAKE_KIND_BIN, args, tb.env(extra));
const docker = (args: string[]) => run('docker', args, tb.env(), 60_000);

async function containerNames(cluster: string): Promise<string[]> {
  const r = await docker(['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', '{{.Names}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

const contexts = () => readKubeconfig(tb.kubeconfigPath).contexts.map((c) => c.name);

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

async function freePort(): Promise<number> {
  const s = await listenOn(0);
  const address = s.address();
  await new Promise((r) => s.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

function writeConfig(name: string, text: string): string {
  const path = join(tb.dockerd.dir, `${name}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('kind get clusters', { timeout: 240_000 }, () => {
  it('says "No kind clusters found." on stderr when there are none, and lists names on stdout otherwise', async () => {
    const empty = await kind(['get', 'clusters']);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
    expect(empty.stderr).toBe('No kind clusters found.\n');

    await tb.createCluster({ name: 'listed' });
    const one = await kind(['get', 'clusters']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^listed-[0-9a-f]{6}\n$/);
  });
});

describe('kind create cluster', { timeout: 240_000 }, () => {
  it('with defaults: cluster "kind", kind\'s step lines on stderr, context kind-kind made current, an API that answers', async () => {
    const r = await kind(['create', 'cluster']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Creating cluster "kind" ...\n');
    const steps = [
      ' • Ensuring node image (kindest/node:v1.32.2) 🖼\uFE0F  ...',
      ' ✓ Ensuring node image (kindest/node:v1.32.2) 🖼\uFE0F',
      ' • Preparing nodes 📦   ...',
      ' ✓ Preparing nodes 📦 ',
      ' • Writing configuration 📜  ...',
      ' • Starting control-plane 🕹\uFE0F  ...',
      ' • Installing CNI 🔌  ...',
      ' ✓ Installing StorageClass 💾',
      'Set kubectl context to "kind-kind"',
      'kubectl cluster-info --context kind-kind',
    ];
    let at = 0;
    for (const line of steps) {
      const i = r.stderr.indexOf(`${line}\n`, at);
      expect(i, `"${line}" after offset ${at} in:\n${r.stderr}`).toBeGreaterThanOrEqual(0);
      at = i;
    }
    expect(r.stderr).not.toContain('Joining worker nodes');
    expect(await containerNames('kind')).toEqual(['kind-control-plane']);
    const kc = readKubeconfig(tb.kubeconfigPath);
    expect(kc['current-context']).toBe('kind-kind');
    const server = kc.clusters.find((c) => c.name === 'kind-kind')?.cluster.server;
    expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const nodes = await run('kubectl', ['--context', 'kind-kind', 'get', 'nodes', '-o', 'name'], tb.env(), 60_000);
    expect(nodes.stdout.trim(), nodes.stderr).toBe('node/kind-control-plane');

    const again = await kind(['create', 'cluster']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('ERROR: failed to create cluster: node(s) already exist for a cluster with the name "kind"\n');

    const del = await kind(['delete', 'cluster']);
    expect(del.code).toBe(0);
    expect(del.stderr).toBe('Deleting cluster "kind" ...\nDeleted nodes: ["kind-control-plane"]\n');
    expect(await containerNames('kind')).toEqual([]);
    expect(contexts()).not.toContain('kind-kind');
    expect(readKubeconfig(tb.kubeconfigPath)['current-context']).toBe('');
    // Idempotent, like `rm -f`.
    expect(await kind(['delete', 'cluster'])).toMatchObject({ code: 0, stderr: 'Deleting cluster "kind" ...\n' });
  });

  it('with workers and port mappings from a config file; KIND_CLUSTER_NAME names it, --name wins over both', async () => {
    const hostPort = await freePort();
    const config = writeConfig('workers', [
      'kind: Cluster',
      'apiVersion: kind.x-k8s.io/v1alpha4',
      'name: from-config',
      'nodes:',
      '- role: control-plane',
      '  image: kindest/node:v1.31.4',
      '  extraPortMappings:',
      `  - containerPort: 30080`,
      `    hostPort: ${hostPort}`,
      '- role: worker',
      '- role: worker',
      '',
    ].join('\n'));
    const name = tb.uniqueName('multi');
    const r = await kind(['create', 'cluster', '--config', config, '--wait', '1m'], { KIND_CLUSTER_NAME: name });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(` ✓ Preparing nodes 📦 📦 📦 \n`);
    expect(r.stderr).toContain(' ✓ Joining worker nodes 🚜\n');
    expect(r.stderr).toContain(' ✓ Waiting ≤ 1m0s for control-plane = Ready ⏳\n');
    expect(r.stderr).toMatch(/ • Ready after \d+s 💚\n/);
    expect(await containerNames(name)).toEqual([`${name}-control-plane`, `${name}-worker`, `${name}-worker2`]);
    const port = await docker(['port', `${name}-control-plane`, '30080/tcp']);
    expect(port.stdout.trim()).toBe(`127.0.0.1:${hostPort}`);
    const version = await run('kubectl', ['--context', `kind-${name}`, 'version', '-o', 'json'], tb.env(), 60_000);
    expect((JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion).toBe('v1.31.4');
    const nodes = await kind(['get', 'nodes', '--name', name]);
    expect(nodes.stdout.split('\n').filter(Boolean).sort()).toEqual([`${name}-control-plane`, `${name}-worker`, `${name}-worker2`]);

    const named = tb.uniqueName('flag');
    const r2 = await kind(['create', 'cluster', '--name', named, '--config', config], { KIND_CLUSTER_NAME: name });
    // Same host port as the first cluster: Docker refuses to publish it twice.
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`Creating cluster "${named}" ...`);
    expect(await containerNames(named)).toEqual([]);
  });

  it('checks the config file as kind does, with kind\'s messages', async () => {
    const bad = (text: string) => kind(['create', 'cluster', '--config', writeConfig('bad', `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n${text}`)]);
    expect((await bad('nodes:\n- role: control-plane\n  bogus: 1\n')).stderr)
      .toBe('ERROR: failed to create cluster: unable to decode config: yaml: unmarshal errors:\n  line 5: field bogus not found in type v1alpha4.Node\n');
    expect((await bad('nodes:\n- role: master\n')).stderr).toBe('ERROR: failed to create cluster: [invalid configuration for node 0: "master" is not a valid node role, must have at least one control-plane node]\n');
    expect((await bad('nodes:\n- role: worker\n')).stderr).toBe('ERROR: failed to create cluster: must have at least one control-plane node\n');
    expect((await bad('name: Bad_Name\n')).stderr).toContain("'Bad_Name' is not a valid cluster name");
    const missing = await kind(['create', 'cluster', '--config', '/nonexistent/kind.yaml']);
    expect(missing).toMatchObject({ code: 1, stderr: 'ERROR: failed to create cluster: error reading file: open /nonexistent/kind.yaml: no such file or directory\n' });
    const version = await kind(['create', 'cluster', '--config', writeConfig('v', 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n')]);
    expect(version.stderr).toBe('ERROR: failed to create cluster: unknown apiVersion: kind.x-k8s.io/v1alpha3\n');
    expect((await kind(['create', 'cluster', '--wait', 'soon'])).stderr).toBe('ERROR: invalid argument "soon" for "--wait" flag: time: invalid duration "soon"\n');
    expect((await kind(['create', 'cluster', '--bogus'])).stderr).toBe('ERROR: unknown flag: --bogus\n');
  });

  it('with Docker not running: kind\'s "Cannot connect to the Docker daemon" error, exit 1', async () => {
    const gone = `unix://${tb.dockerd.dir}/stopped.sock`;
    const r = await kind(['create', 'cluster', '--name', tb.uniqueName('nodocker')], { DOCKER_HOST: gone });
    expect(r).toMatchObject({
      code: 1,
      stderr: `ERROR: failed to create cluster: failed to get docker info: command "docker info --format '{{json .}}'" failed with error: exit status 1\n\nCommand Output: Cannot connect to the Docker daemon at ${gone}. Is the docker daemon running?\n`,
    });
    expect((await kind(['get', 'clusters'], { DOCKER_HOST: gone })).stderr).toMatch(/^ERROR: failed to list clusters: command "docker ps -a --filter label=io\.x-k8s\.kind\.cluster .*Cannot connect to the Docker daemon/s);
  });

  it('a host port already taken: Docker\'s error through kind\'s, exit 1, nothing left behind', async () => {
    const holder = await listenOn(0);
    const address = holder.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    try {
      const name = tb.uniqueName('taken');
      const config = writeConfig('taken', `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 30080\n    hostPort: ${taken}\n`);
      const r = await kind(['create', 'cluster', '--name', name, '--config', config]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(' ✗ Preparing nodes 📦 \n');
      expect(r.stderr).toMatch(/ERROR: failed to create cluster: command "docker run --name \S+-control-plane .*--publish=127\.0\.0\.1:\d+:30080\/TCP.*" failed with error: exit status 125\n/);
      expect(r.stderr).toMatch(new RegExp(`Command Output: docker: Error response from daemon: .*127\\.0\\.0\\.1:${taken}.*(address already in use|port is already allocated)`));
      expect(await containerNames(name)).toEqual([]);
      expect(contexts()).not.toContain(`kind-${name}`);
    } finally {
      holder.close();
    }
  });

  it('failing half-way: the earlier steps printed, the failed one ✗, kind\'s error, and nothing left (unless --retain)', async () => {
    const name = tb.uniqueName('half');
    tb.setKindFaults({ failAt: 'storage' });
    const r = await kind(['create', 'cluster', '--name', name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(' ✓ Installing CNI 🔌\n • Installing StorageClass 💾  ...\n ✗ Installing StorageClass 💾\n');
    expect(r.stderr).toContain(`Deleted nodes: ["${name}-control-plane"]\n`);
    expect(r.stderr).toContain(`ERROR: failed to create cluster: failed to add default storage class: command "docker exec --privileged -i ${name}-control-plane kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -" failed with error: exit status 1\n`);
    expect(await containerNames(name)).toEqual([]);
    expect(contexts()).not.toContain(`kind-${name}`);

    const kept = await kind(['create', 'cluster', '--name', name, '--retain'], { KINDTRAY_FAKE_KIND_FAIL_AT: 'control-plane' });
    expect(kept.code).toBe(1);
    expect(kept.stderr).toContain('failed to init node with kubeadm');
    expect(kept.stderr).not.toContain('Deleted nodes');
    expect(await containerNames(name)).toEqual([`${name}-control-plane`]);
    expect(contexts()).not.toContain(`kind-${name}`);
    expect((await kind(['delete', 'cluster', '--name', name])).code).toBe(0);
    expect(await containerNames(name)).toEqual([]);
  });

  it('hanging in a step can be cancelled (killed); what it made is then deleted by `kind delete cluster`', async () => {
    const name = tb.uniqueName('hang');
    const child = spawn(FAKE_KIND_BIN, ['create', 'cluster', '--name', name], { env: tb.env({ KINDTRAY_FAKE_KIND_HANG_AT: 'cni', KINDTRAY_FAKE_KIND_STEP_DELAY_MS: '100' }), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no CNI step within 60 s:\n${stderr}`)), 60_000);
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes(' • Installing CNI 🔌  ...\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await containerNames(name)).toEqual([`${name}-control-plane`]);
    expect((await kind(['delete', 'cluster', '--name', name])).code).toBe(0);
    expect(await containerNames(name)).toEqual([]);
  });
});

describe('kind delete clusters', { timeout: 240_000 }, () => {
  it('deletes the named clusters or --all, each with its nodes and contexts, and lists them', async () => {
    const [a, b] = await Promise.all([tb.createCluster({ name: 'da' }), tb.createCluster({ name: 'db' })]);
    expect((await kind(['delete', 'clusters'])).stderr).toBe('ERROR: no cluster names provided\n');
    const r = await kind(['delete', 'clusters', a?.name ?? '', b?.name ?? '']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Deleted nodes: ["${a?.name}-control-plane"]\n`);
    expect(r.stderr).toContain(`Deleted clusters: ["${a?.name}" "${b?.name}"]\n`);
    expect(contexts()).not.toContain(`kind-${a?.name}`);
    await tb.createCluster({ name: 'dc' });
    expect((await kind(['delete', 'clusters', '--all'])).code).toBe(0);
    expect(await kind(['get', 'clusters'])).toMatchObject({ stdout: '', stderr: 'No kind clusters found.\n' });
    expect(contexts()).toEqual([]);
  });
});

describe('kind load docker-image', { timeout: 240_000 }, () => {
  it('imports into every node; `crictl images` on a node shows it; a second load finds it present', async () => {
    const name = tb.uniqueName('load');
    expect((await kind(['create', 'cluster', '--name', name, '--config', writeConfig('load', 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n')])).code).toBe(0);
    const image = `example.com/team/app:${name}`;
    expect((await docker(['tag', NODE_IMAGE_REF, image])).code).toBe(0);
    const id = (await docker(['image', 'inspect', '-f', '{{.Id}}', image])).stdout.trim();

    const before = await docker(['exec', `${name}-worker`, 'crictl', 'images', '-o', 'json']);
    expect((JSON.parse(before.stdout) as { images: unknown[] }).images).toEqual([]);

    const r = await kind(['load', 'docker-image', image, '--name', name]);
    expect(r.code, r.stderr).toBe(0);
    for (const node of [`${name}-control-plane`, `${name}-worker`]) {
      expect(r.stderr).toContain(`Image: "${image}" with ID "${id}" not yet present on node "${node}", loading...\n`);
      const listed = await docker(['exec', node, 'crictl', 'images', '-o', 'json']);
      expect(JSON.parse(listed.stdout)).toMatchObject({ images: [{ id, repoTags: [image] }] });
      expect((await docker(['exec', node, 'ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout).toBe(`${image}\n`);
    }
    const again = await kind(['load', 'docker-image', image, '--name', name]);
    expect(again).toMatchObject({ code: 0, stderr: `Image: "${image}" with ID "${id}" found to be already present on all nodes.\n` });
    // Short names are stored as containerd does: docker.io/library/NAME:latest.
    expect((await docker(['tag', NODE_IMAGE_REF, 'plain'])).code).toBe(0);
    expect((await kind(['load', 'docker-image', 'plain', '--name', name, '--nodes', `${name}-worker`])).code).toBe(0);
    expect((await docker(['exec', `${name}-worker`, 'crictl', 'images'])).stdout).toMatch(/^docker\.io\/library\/plain\s+latest\s+[0-9a-f]{13}\s/m);
    expect((await docker(['exec', `${name}-control-plane`, 'crictl', 'inspecti', 'plain'])).code).toBe(1);
  });

  it('says which image is missing, which node is unknown, and which node failed to import', async () => {
    const cluster = await tb.createCluster({ name: 'loadfail', workers: 1 });
    const missing = await kind(['load', 'docker-image', 'not/here:1', '--name', cluster.name]);
    expect(missing).toMatchObject({ code: 1, stderr: 'ERROR: image: "not/here:1" not present locally\n' });
    const unknownNode = await kind(['load', 'docker-image', NODE_IMAGE_REF, '--name', cluster.name, '--nodes', 'nope']);
    expect(unknownNode).toMatchObject({ code: 1, stderr: 'ERROR: unknown node: "nope"\n' });
    const noCluster = await kind(['load', 'docker-image', NODE_IMAGE_REF, '--name', 'absent']);
    expect(noCluster).toMatchObject({ code: 1, stderr: 'ERROR: no nodes found for cluster "absent"\n' });
    tb.setKindFaults({ loadFailNode: `${cluster.name}-worker` });
    const failed = await kind(['load', 'docker-image', NODE_IMAGE_REF, '--name', cluster.name]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`ERROR: failed to load image: command "docker exec --privileged -i ${cluster.name}-worker ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" failed with error: exit status 1\n\nCommand Output: ctr: `);
  });
});

describe('kind get kubeconfig', { timeout: 240_000 }, () => {
  it('prints a kubeconfig for the cluster; a stopped or missing cluster is kind\'s error', async () => {
    const cluster = await tb.createCluster({ name: 'kc' });
    const r = await kind(['get', 'kubeconfig', '--name', cluster.name]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`current-context: kind-${cluster.name}\n`);
    expect(r.stdout).toContain(`server: ${cluster.apiServer}\n`);
    const internal = await kind(['get', 'kubeconfig', '--name', cluster.name, '--internal']);
    expect(internal.stdout).toContain(`server: https://${cluster.name}-control-plane:6443\n`);
    await cluster.stopNode();
    const stopped = await kind(['get', 'kubeconfig', '--name', cluster.name]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(`ERROR: failed to get cluster internal kubeconfig: command "docker exec --privileged ${cluster.name}-control-plane cat /etc/kubernetes/admin.conf" failed with error: exit status 1\n`);
    const absent = await kind(['get', 'kubeconfig', '--name', 'absent']);
    expect(absent).toMatchObject({ code: 1, stderr: "ERROR: could not locate any control plane nodes for cluster named 'absent'. Use the --name option to select a different cluster\n" });
  });
});

describe('kind config, flags and names (no engine needed)', () => {
  const cfg = (text: string) => parseConfig(`kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n${text}`);
  const invalid = (text: string) => {
    try {
      validateConfig(cfg(text));
    } catch (err) {
      return (err as Error).message;
    }
    return 'valid';
  };

  it('defaults as kind: cluster "kind", one control-plane of the default image, IPv4 subnets', () => {
    expect(cfg('')).toEqual({
      name: 'kind',
      nodes: [{ role: 'control-plane', image: DEFAULT_NODE_IMAGE, labels: {}, extraPortMappings: [] }],
      networking: { ipFamily: 'ipv4', apiServerPort: 0, apiServerAddress: '127.0.0.1', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16', disableDefaultCNI: false, kubeProxyMode: 'iptables' },
    });
    expect(kubernetesVersionOf(DEFAULT_NODE_IMAGE)).toBe('v1.32.2');
  });

  it('rejects what kind rejects, in kind\'s words', () => {
    expect(() => cfg('nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: abc\n')).toThrow('line 6: cannot unmarshal !!str `abc` into int32');
    expect(invalid('nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n  - containerPort: 81\n    hostPort: 8080\n'))
      .toBe('invalid configuration for node 0: invalid portMapping: port mapping with same listen address, port and protocol already configured: 0.0.0.0:8080/TCP');
    expect(invalid('networking:\n  podSubnet: 10.244.0.0\n')).toBe('invalid pod subnet failed to parse cidr value:"10.244.0.0" with error: invalid CIDR address: 10.244.0.0');
    expect(invalid('networking:\n  ipFamily: ipv5\n')).toContain('invalid ipFamily: ipv5');
    expect(invalid('nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 70000\n')).toBe('invalid configuration for node 0: invalid containerPort: invalid port number: 70000');
    expect(invalid('nodes:\n- role: control-plane\n- role: worker\n  labels:\n    tier: gpu\n')).toBe('valid');
  });

  it('Go durations and containerd names as kind prints and stores them', () => {
    expect([0, 30_000, 60_000, 90_000, 3_723_000].map(goDuration)).toEqual(['0s', '30s', '1m0s', '1m30s', '1h2m3s']);
    expect(['30s', '1m30s', '500ms', '2h', '0', 'soon', '10'].map(parseGoDuration)).toEqual([30_000, 90_000, 500, 7_200_000, 0, undefined, undefined]);
    expect(['app', 'me/app:1', 'localhost:5000/app', 'ghcr.io/o/app@sha256:ab'].map(sanitizeImage))
      .toEqual(['docker.io/library/app:latest', 'docker.io/me/app:1', 'localhost:5000/app:latest', 'ghcr.io/o/app@sha256:ab']);
  });
});
