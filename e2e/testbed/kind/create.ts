// `kind create cluster` on the testbed: kind's flow (pkg/cluster/internal/create:
// defaults, "node(s) already exist", Validate, Provision, the actions, the
// kubeconfig export), its step lines and its errors; the nodes are the
// testbed's (createCluster in ../cluster.ts: containers labelled as kind's,
// the API stand-in on the control-plane, extraPortMappings published). A
// failure deletes what was made unless --retain, as kind does. Fault switches
// (world.ts) make a named step fail, hang or take its time.

import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { clusterDir, createCluster } from '../cluster.ts';
import type { PortMapping as TestbedPortMapping } from '../cluster.ts';
import { DEFAULT_KUBERNETES_VERSION, KIND_CLUSTER_LABEL, kindContextName } from '../constants.ts';
import { DockerApiError } from '../docker-api.ts';
import { ensurePki } from '../pki.ts';
import { deleteClusterNodes, exportKubeconfig, listNodes } from './clusters.ts';
import type { ClusterConfig } from './config.ts';
import { kubernetesVersionOf, parseConfig, validateConfig, withDefaults } from './config.ts';
import type { Logger } from './output.ts';
import { goDuration, KindError, prettyCommand, runError, Status } from './output.ts';
import type { CreateStep, Engine } from './world.ts';
import { engine, OWNER_ENV, OWNER_LABEL, readFaults } from './world.ts';

export interface CreateFlags {
  name: string;
  config: string;
  image: string;
  retain: boolean;
  waitMs: number;
  kubeconfig: string;
}

const ICON = { image: '🖼\uFE0F', nodes: '📦 ', config: '📜', controlPlane: '🕹\uFE0F', cni: '🔌', storage: '💾', join: '🚜', wait: '⏳', ready: '💚', warn: '⚠\uFE0F', bye: '👋' };

export async function createClusterCommand(logger: Logger, flags: CreateFlags): Promise<void> {
  try {
    await create(logger, flags);
  } catch (err) {
    throw (err instanceof KindError ? err : new KindError((err as Error).message)).wrap('failed to create cluster');
  }
}

function loadConfig(flags: CreateFlags): ClusterConfig {
  if (!flags.config) return withDefaults({});
  let raw: string;
  try {
    raw = readFileSync(flags.config === '-' ? 0 : flags.config, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new KindError(flags.config === '-' ? `error reading config from stdin: ${why}` : `error reading file: open ${flags.config}: ${why}`);
  }
  return parseConfig(raw);
}

async function create(logger: Logger, flags: CreateFlags): Promise<void> {
  const eng = await engine(['docker', 'info', '--format', '{{json .}}']).catch((e: KindError) => Promise.reject(e.wrap('failed to get docker info')));
  const faults = readFaults();
  const cfg = loadConfig(flags);
  if (flags.name) cfg.name = flags.name;
  if (flags.image) for (const n of cfg.nodes) n.image = flags.image;
  const name = cfg.name;
  if ((await listNodes(eng, name)).length) throw new KindError(`node(s) already exist for a cluster with the name "${name}"`);
  if (name.length > 50) logger.info(`WARNING: cluster name "${name}" is probably too long, this might not work properly on some systems`);
  validateConfig(cfg);
  const controlPlanes = cfg.nodes.filter((n) => n.role === 'control-plane');
  if (controlPlanes.length > 1) throw new KindError(`the testbed's kind makes one control-plane node (the config asks for ${controlPlanes.length})`);
  const workers = cfg.nodes.filter((n) => n.role === 'worker');
  const mappings = portMappings(cfg);

  const status = new Status(logger);
  logger.info(`Creating cluster "${name}" ...\n`);
  const cpName = `${name}-control-plane`;
  const step = async (key: CreateStep, title: string): Promise<void> => {
    status.start(title);
    if (faults.stepDelayMs) await sleep(faults.stepDelayMs);
    if (faults.hangAt === key) await new Promise(() => setInterval(() => {}, 1 << 30));
    if (faults.failAt === key) throw injected(key, name, cpName, workers.length ? `${name}-worker` : cpName, cfg.nodes[0]?.image ?? '');
  };
  const failed = async (err: unknown): Promise<never> => {
    status.end(false);
    if (!flags.retain) await deleteClusterNodes(eng, logger, name, flags.kubeconfig).catch(() => {});
    throw err;
  };

  try {
    // Provision: node images, then the node containers.
    for (const image of [...new Set(cfg.nodes.map((n) => n.image))].sort()) {
      await step('image', `Ensuring node image (${image.split('@sha256:')[0]}) ${ICON.image}`);
      await ensureImage(eng, image);
    }
    await step('nodes', `Preparing nodes ${ICON.nodes.repeat(cfg.nodes.length)}`);
    await ensurePkiAcrossProcesses(eng.dir);
    const apiPort = cfg.networking.apiServerPort > 0 ? cfg.networking.apiServerPort : await freePort();
    // hostPort 0: kind picks a free port itself (PortOrGetFreePort), so it survives node restarts.
    for (const m of mappings) m.hostPort ??= await freePort();
    const owner = process.env[OWNER_ENV];
    try {
      await createCluster(eng, {
        name,
        workers: workers.length,
        extraPortMappings: mappings,
        apiPort,
        kubernetesVersion: kubernetesVersionOf(controlPlanes[0]?.image ?? '') ?? DEFAULT_KUBERNETES_VERSION,
        kubeconfigPath: join(clusterDir(eng.dir, name), 'kubeconfig'),
        ...(owner ? { labels: { [OWNER_LABEL]: owner } } : {}),
      });
    } catch (err) {
      throw dockerRunError(err, name, cpName, controlPlanes[0]?.image ?? '', apiPort, mappings);
    }
    // The actions: the stand-in is already serving, so these are kind's steps in name (and fault switches).
    await step('config', `Writing configuration ${ICON.config}`);
    await step('control-plane', `Starting control-plane ${ICON.controlPlane}`);
    if (!cfg.networking.disableDefaultCNI) await step('cni', `Installing CNI ${ICON.cni}`);
    await step('storage', `Installing StorageClass ${ICON.storage}`);
    if (workers.length) await step('join', `Joining worker nodes ${ICON.join}`);
    status.end(true);
  } catch (err) {
    await failed(err);
  }

  if (flags.waitMs > 0) {
    const started = Date.now();
    const title = `Waiting ≤ ${goDuration(flags.waitMs)} for control-plane = Ready ${ICON.wait}`;
    status.start(title);
    if (faults.stepDelayMs) await sleep(faults.stepDelayMs);
    if (faults.hangAt === 'wait') await new Promise(() => setInterval(() => {}, 1 << 30));
    if (faults.failAt === 'wait') {
      // kind does not fail on a timeout: it warns and carries on.
      status.end(false);
      logger.info(` • WARNING: Timed out waiting for Ready ${ICON.warn}`);
    } else {
      status.end(true);
      logger.info(` • Ready after ${goDuration(Date.now() - started)} ${ICON.ready}`);
    }
  }

  // kubeconfig.Export; a failure here leaves the cluster (kind deletes only on a failed step).
  if (faults.failAt === 'kubeconfig') throw new KindError(`failed to lock config file: open ${flags.kubeconfig || process.env.KUBECONFIG || '~/.kube/config'}.lock: permission denied`);
  await exportKubeconfig(eng, name, flags.kubeconfig);

  const sample = `kubectl cluster-info --context ${kindContextName(name)}${flags.kubeconfig ? ` --kubeconfig ${prettyCommand([flags.kubeconfig])}` : ''}`;
  logger.info(`Set kubectl context to "${kindContextName(name)}"`);
  logger.info(`You can now use your cluster with:\n\n${sample}`);
  logger.info('');
  logger.info(`Have a nice day! ${ICON.bye}`);
}

/** All nodes' extraPortMappings, published from the control-plane container (every Pod and NodePort of a testbed cluster lives there). */
function portMappings(cfg: ClusterConfig): TestbedPortMapping[] {
  const out: TestbedPortMapping[] = [];
  for (const node of cfg.nodes) {
    for (const m of node.extraPortMappings) {
      if (!['TCP', 'UDP', 'SCTP'].includes(m.protocol)) throw new KindError(`unknown port mapping protocol: ${m.protocol}`);
      if (m.protocol !== 'TCP') throw new KindError(`the testbed's kind publishes TCP ports only (extraPortMappings ${m.containerPort}/${m.protocol})`);
      if (out.some((o) => o.containerPort === m.containerPort)) throw new KindError(`the testbed's kind publishes container port ${m.containerPort} once only (it is mapped twice)`);
      out.push({ containerPort: m.containerPort, ...(m.hostPort > 0 ? { hostPort: m.hostPort } : {}) });
    }
  }
  return out;
}

/** kindest/node images are the testbed's own node image; any other must exist in the engine (nothing can be pulled here). */
async function ensureImage(eng: Engine, image: string): Promise<void> {
  const repo = (image.split('@')[0] ?? '').replace(/:[^/:]*$/, '');
  if (repo === 'kindest/node' || repo === 'docker.io/kindest/node') return;
  if (await eng.api.imageExists(image)) return;
  throw pullError(image);
}

const pullError = (image: string): KindError =>
  runError(['docker', 'pull', image], 1, `Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`)
    .wrap(`failed to pull image "${image}"`);

/** The `docker run` kind would have run for the control-plane, for its error message. */
function dockerRunArgv(cluster: string, node: string, image: string, apiPort: number, mappings: TestbedPortMapping[]): string[] {
  return [
    'docker', 'run', '--name', node, '--hostname', node, '--label', 'io.x-k8s.kind.role=control-plane', '--privileged',
    '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--tmpfs', '/tmp', '--tmpfs', '/run', '--volume', '/var',
    '--volume', '/lib/modules:/lib/modules:ro', '-e', 'KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER', '--detach', '--tty',
    '--label', `${KIND_CLUSTER_LABEL}=${cluster}`, '--net', 'kind', '--restart=on-failure:1', '--init=false', '--cgroupns=private',
    ...mappings.map((m) => `--publish=127.0.0.1:${m.hostPort ?? 0}:${m.containerPort}/TCP`),
    `--publish=127.0.0.1:${apiPort}:6443/TCP`, '-e', 'KUBECONFIG=/etc/kubernetes/admin.conf', image,
  ];
}

/** A Docker failure while making the nodes, as kind shows a failed `docker run` (exit 125, the daemon's message). */
function dockerRunError(err: unknown, cluster: string, node: string, image: string, apiPort: number, mappings: TestbedPortMapping[]): KindError {
  if (!(err instanceof DockerApiError)) return new KindError((err as Error).message);
  const daemon = err.message.replace(/^docker \S+ \S+: \d+ /, '');
  return runError(dockerRunArgv(cluster, node, image, apiPort, mappings), 125, `docker: Error response from daemon: ${daemon}\n\nRun 'docker run --help' for more information`);
}

/** The error kind gives when this step fails for real (a failing command inside a node). */
function injected(step: CreateStep, cluster: string, cp: string, worker: string, image: string): KindError {
  const exec = (node: string, stdin: boolean, ...cmd: string[]) => ['docker', 'exec', '--privileged', ...(stdin ? ['-i'] : []), node, ...cmd];
  const refused = 'The connection to the server localhost:6443 was refused - did you specify the right host or port?';
  switch (step) {
    case 'image':
      return pullError(image);
    case 'nodes':
      return runError(dockerRunArgv(cluster, cp, image, 0, []), 125,
        'docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init (testbed fault: failAt=nodes)\n\nRun \'docker run --help\' for more information');
    case 'config':
      return runError(exec(cp, true, 'cp', '/dev/stdin', '/kind/kubeadm.conf'), 1, "cp: can't create '/kind/kubeadm.conf': No space left on device").wrap('failed to copy kubeadm config to node');
    case 'control-plane':
      return runError(exec(cp, false, 'kubeadm', 'init', '--config=/kind/kubeadm.conf', '--skip-token-print', '--v=6'), 1,
        '[kubelet-check] The kubelet is not healthy after 4m0.000s\n\nUnfortunately, an error has occurred:\n\tcontext deadline exceeded\nerror execution phase wait-control-plane: could not initialize a Kubernetes cluster (testbed fault: failAt=control-plane)')
        .wrap('failed to init node with kubeadm');
    case 'cni':
      return runError(exec(cp, true, 'kubectl', 'create', '--kubeconfig=/etc/kubernetes/admin.conf', '-f', '-'), 1, refused).wrap('failed to apply overlay network');
    case 'storage':
      return runError(exec(cp, true, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'apply', '-f', '-'), 1, refused).wrap('failed to add default storage class');
    default:
      return runError(exec(worker, false, 'kubeadm', 'join', '--config', '/kind/kubeadm.conf', '--v=6'), 1,
        "error execution phase preflight: couldn't validate the identity of the API Server: context deadline exceeded (testbed fault: failAt=join)")
        .wrap('failed to join node with kubeadm');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The testbed's certificates, made once per engine. ensurePki shares the work
 * within one process only; two kind processes creating the first clusters of
 * a fresh engine at once must not both write them, so an O_EXCL lock file
 * (stale after 30 s) serialises the processes.
 */
async function ensurePkiAcrossProcesses(testbedDir: string): Promise<void> {
  const lock = join(testbedDir, 'pki.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new KindError(`the testbed's certificates stay locked (${lock})`);
      await sleep(50);
    }
  }
  try {
    await ensurePki(join(testbedDir, 'pki'));
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A free loopback port, as kind picks the API server's (listen on 0, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
