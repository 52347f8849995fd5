// KinD-like clusters in a testbed's dockerd. What Kindtray reads of a KinD
// cluster is reproduced exactly: node containers `NAME-control-plane`,
// `NAME-worker`, `NAME-worker2`… labelled io.x-k8s.kind.cluster/role, the API
// on container port 6443 published on 127.0.0.1:<port>, extraPortMappings
// published 127.0.0.1:hostPort->containerPort, and `kind-NAME` kubeconfig
// entries. The control-plane container runs the Kubernetes API stand-in
// (./standin) under the host's Node; workers are labelled containers that
// idle. All Pods run on the control-plane container.

import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_KUBERNETES_VERSION, KIND_API_CONTAINER_PORT, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL, kindContextName, NODE_IMAGE_REF, TESTBED_LABEL, TIMEOUTS,
} from './constants.ts';
import type { DockerApi } from './docker-api.ts';
import { nodeBinds } from './dockerd.ts';
import { nodeToolBinds } from './kind/node-tools.ts';
import { mergeKindEntry, removeKindEntry } from './kubeconfig.ts';
import { ensurePki, pkiPaths } from './pki.ts';
import type { Pki } from './pki.ts';
import { waitFor, writeFileAtomic } from './proc.ts';
import { CONFIG_FILE, FAULTS_FILE, IN_CONTAINER, parseFault } from './standin/protocol.ts';
import type { Fault, FaultKind, NodeRole, StandinConfig } from './standin/protocol.ts';

/** What createCluster needs of a testbed: its Docker API, folder and network (a Dockerd handle is one). */
export interface TestbedDocker {
  id: string;
  dir: string;
  network: string;
  api: DockerApi;
}

export interface PortMapping {
  containerPort: number;
  /** Omitted: Docker picks a free host port (see Cluster.hostPortFor). */
  hostPort?: number;
}

export interface CreateClusterOptions {
  name: string;
  /** Worker nodes besides the control-plane (default 0). */
  workers?: number;
  /** Published from the control-plane container on 127.0.0.1, as kind's extraPortMappings. */
  extraPortMappings?: PortMapping[];
  /** The kubeconfig to merge `kind-NAME` into (created if missing). */
  kubeconfigPath: string;
  /**
   * The API's host port. Default: a free port picked at creation and published
   * explicitly, as kind does, so it survives node restarts. 'docker-assigned'
   * lets Docker pick one at every start instead (the port then changes when the
   * node restarts: a way to make a stale endpoint for real).
   */
  apiPort?: number | 'docker-assigned';
  kubernetesVersion?: string;
  /** Extra labels on every node container (the testbed's kind marks which test file made the cluster). */
  labels?: Record<string, string>;
  /**
   * KinD's known multi-node failure: after the engine restarts, the workers
   * come back NotReady (Ready=Unknown) and stay so until the cluster restarts.
   */
  workersLostOnEngineRestart?: boolean;
}

export interface NodeContainer {
  name: string;
  role: NodeRole;
  id: string;
}

export interface ApiResponse {
  statusCode: number;
  body: string;
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class Cluster {
  readonly name: string;
  readonly context: string;
  readonly kubeconfigPath: string;
  readonly nodeContainers: NodeContainer[];
  /** Host folder with cluster.json and faults.json, mounted into the control-plane. */
  readonly dir: string;
  private readonly docker: TestbedDocker;
  private readonly pki: Pki;
  private port: number;

  constructor(docker: TestbedDocker, opts: { name: string; kubeconfigPath: string; nodeContainers: NodeContainer[]; apiPort: number; pki: Pki }) {
    this.docker = docker;
    this.name = opts.name;
    this.context = kindContextName(opts.name);
    this.kubeconfigPath = opts.kubeconfigPath;
    this.nodeContainers = opts.nodeContainers;
    this.dir = clusterDir(docker.dir, opts.name);
    this.port = opts.apiPort;
    this.pki = opts.pki;
  }

  /** The API's host port, as Docker published it at the last (re)start. */
  get apiPort(): number {
    return this.port;
  }

  get apiServer(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get controlPlane(): NodeContainer {
    const cp = this.nodeContainers.find((n) => n.role === 'control-plane');
    if (!cp) throw new Error(`cluster ${this.name} has no control-plane`);
    return cp;
  }

  /** A node by container name or its suffix: 'control-plane' (default), 'worker', 'worker2', … */
  node(which = 'control-plane'): NodeContainer {
    const node = this.nodeContainers.find((n) => n.name === which || n.name === `${this.name}-${which}`);
    if (!node) throw new Error(`cluster ${this.name} has no node ${which} (nodes: ${this.nodeContainers.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** `docker stop` of one node; stopping the control-plane takes the API away (its published port refuses). */
  async stopNode(which = 'control-plane'): Promise<void> {
    await this.docker.api.stopContainer(this.node(which).id, 10);
  }

  /** `docker start` of one node; for the control-plane, resolves once the API answers /readyz again. */
  async startNode(which = 'control-plane'): Promise<void> {
    const node = this.node(which);
    await this.docker.api.startContainer(node.id);
    if (node.role === 'control-plane') {
      this.port = await publishedPort(this.docker.api, node.id, KIND_API_CONTAINER_PORT);
      await this.waitReady();
    }
  }

  /** Stops every node (what `docker stop` of a whole KinD cluster does). */
  async stop(): Promise<void> {
    await Promise.all(this.nodeContainers.map((n) => this.docker.api.stopContainer(n.id, 10)));
  }

  /** Starts every node and waits for the API. */
  async start(): Promise<void> {
    await Promise.all(this.nodeContainers.filter((n) => n.role !== 'control-plane').map((n) => this.docker.api.startContainer(n.id)));
    await this.startNode('control-plane');
  }

  /** Flips the stand-in's fault switch; the next connection or request sees it. */
  async setFault(fault: Fault | FaultKind): Promise<void> {
    writeFault(this.dir, parseFault(fault));
  }

  /** The fault switch as it stands. */
  fault(): Fault {
    try {
      return parseFault(JSON.parse(readFileSync(join(this.dir, FAULTS_FILE), 'utf8')));
    } catch {
      return { kind: 'none' };
    }
  }

  /** The host port Docker published for a container port (an extraPortMapping without hostPort, say). */
  hostPortFor(containerPort: number): Promise<number> {
    return publishedPort(this.docker.api, this.controlPlane.id, containerPort);
  }

  /**
   * One HTTPS request to the API with the admin client certificate, under a
   * deadline (rejects with a message naming the deadline).
   */
  apiRequest(path: string, opts: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<ApiResponse> {
    return apiRequest(this.pki, this.port, path, opts);
  }

  /** Resolves once /readyz answers "ok" through the published port. */
  async waitReady(timeoutMs: number = TIMEOUTS.apiReady): Promise<void> {
    try {
      await waitFor(`cluster ${this.name}: API at ${this.apiServer} ready`, timeoutMs, async () => {
        const r = await this.apiRequest('/readyz', { timeoutMs: 1_000 });
        return r.statusCode === 200 ? true : undefined;
      }, 50);
    } catch (err) {
      const logs = await this.docker.api.containerLogs(this.controlPlane.id).catch((e: Error) => `(no logs: ${e.message})`);
      throw new Error(`${(err as Error).message}\n--- ${this.controlPlane.name} logs ---\n${logs}`, { cause: err });
    }
  }

  /** Deletes the node containers, the kubeconfig entries and the cluster folder (as `kind delete cluster`). */
  async remove(): Promise<void> {
    await Promise.all(this.nodeContainers.map((n) => this.docker.api.removeContainer(n.id)));
    await removeKindEntry(this.kubeconfigPath, this.context);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const clusterDir = (testbedDir: string, name: string): string => join(testbedDir, 'clusters', name);

/** Writes a cluster's fault switch file atomically (also used by `cli.ts fault`, from another process). */
export function writeFault(dir: string, fault: Fault): void {
  writeFileAtomic(join(dir, FAULTS_FILE), `${JSON.stringify(fault)}\n`);
}

async function publishedPort(api: DockerApi, id: string, containerPort: number): Promise<number> {
  const info = await api.inspectContainer(id);
  const binding = info.NetworkSettings.Ports[`${containerPort}/tcp`]?.[0];
  if (!binding) throw new Error(`container ${info.Name}: port ${containerPort} is not published (is it running?)`);
  return Number(binding.HostPort);
}

/** A free loopback port, picked the way kind picks the API port (listen on 0, close). */
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

export function apiRequest(pki: Pki, port: number, path: string, opts: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<ApiResponse> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? (body ? 'POST' : 'GET'),
        ca: readFileSync(pki.caCertPath),
        cert: readFileSync(pki.clientCertPath),
        key: readFileSync(pki.clientKeyPath),
        agent: false,
        headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => {
      const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
      reject(Object.assign(new Error(`GET ${path} on 127.0.0.1:${port}: ${timedOut ? `no answer in ${timeoutMs} ms` : err.message}`, { cause: err }), { code: timedOut ? 'ETIMEDOUT' : (err as NodeJS.ErrnoException).code }));
    });
    req.end(body);
  });
}

/**
 * Creates a KinD-like cluster: node containers, the stand-in on the
 * control-plane, kubeconfig entries; resolves when the API answers /readyz.
 */
export async function createCluster(docker: TestbedDocker, opts: CreateClusterOptions): Promise<Cluster> {
  const { name } = opts;
  if (!CLUSTER_NAME.test(name) || name.length > 50) throw new Error(`invalid cluster name ${JSON.stringify(name)}: lower case letters, digits, '-' and '.'`);
  const existing = await docker.api.listContainers([`${KIND_CLUSTER_LABEL}=${name}`]);
  if (existing.length) throw new Error(`node(s) already exist for a cluster with the name "${name}"`);

  const pki = await ensurePki(join(docker.dir, 'pki'));
  const dir = clusterDir(docker.dir, name);
  mkdirSync(dir, { recursive: true });
  const workers = opts.workers ?? 0;
  const nodes: { name: string; role: NodeRole }[] = [
    { name: `${name}-control-plane`, role: 'control-plane' },
    ...Array.from({ length: workers }, (_, i) => ({ name: `${name}-worker${i === 0 ? '' : i + 1}`, role: 'worker' as const })),
  ];
  const config: StandinConfig = {
    clusterName: name,
    kubernetesVersion: opts.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
    nodes,
    tokens: [randomBytes(16).toString('hex')],
    ...(opts.workersLostOnEngineRestart ? { workersLostOnEngineRestart: true } : {}),
  };
  writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  writeFault(dir, { kind: 'none' });

  const standinDir = join(import.meta.dirname, 'standin');
  const labels = (role: NodeRole) => ({ ...opts.labels, [KIND_CLUSTER_LABEL]: name, [KIND_ROLE_LABEL]: role, [TESTBED_LABEL]: docker.id });
  const common = (nodeName: string) => ({
    Image: NODE_IMAGE_REF,
    Hostname: nodeName,
    NetworkingConfig: { EndpointsConfig: { [docker.network]: { Aliases: [nodeName] } } },
  });

  const created: NodeContainer[] = [];
  try {
    // Workers: labelled containers that idle (tini forwards SIGTERM, so they stop at once).
    const workerNodes = nodes.filter((n) => n.role === 'worker');
    const workerIds = await Promise.all(workerNodes.map((n) => docker.api.createContainer(n.name, {
      ...common(n.name),
      Cmd: ['sleep', '2147483647'],
      Labels: labels('worker'),
      // ctr/crictl stand-ins: nodes accept `kind load docker-image` and answer `crictl images`.
      HostConfig: { Init: true, NetworkMode: docker.network, Binds: nodeToolBinds() },
    })));
    workerNodes.forEach((n, i) => created.push({ name: n.name, role: 'worker', id: workerIds[i]?.Id ?? '' }));

    const cpName = nodes[0]?.name ?? `${name}-control-plane`;
    const extra = opts.extraPortMappings ?? [];
    let apiPort = 0;
    // The picked port can be taken by someone else before Docker binds it: retry with another.
    for (let attempt = 0; ; attempt++) {
      apiPort = opts.apiPort === 'docker-assigned' ? 0 : (opts.apiPort ?? (await freePort()));
      const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {
        [`${KIND_API_CONTAINER_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: apiPort ? String(apiPort) : '' }],
      };
      for (const m of extra) portBindings[`${m.containerPort}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: m.hostPort ? String(m.hostPort) : '' }];
      const { Id } = await docker.api.createContainer(cpName, {
        ...common(cpName),
        Cmd: [IN_CONTAINER.node, `${IN_CONTAINER.standin}/main.ts`],
        Labels: labels('control-plane'),
        ExposedPorts: Object.fromEntries(Object.keys(portBindings).map((p) => [p, {}])),
        HostConfig: {
          // tini as PID 1: reaps the Pods' orphans and forwards SIGTERM to the stand-in.
          Init: true,
          NetworkMode: docker.network,
          PortBindings: portBindings,
          Binds: [
            ...nodeBinds(process.execPath, IN_CONTAINER.node),
            `${standinDir}:${IN_CONTAINER.standin}:ro`,
            `${dir}:${IN_CONTAINER.cluster}:ro`,
            `${pki.dir}:${IN_CONTAINER.pki}:ro`,
            ...nodeToolBinds(),
          ],
        },
      });
      try {
        // Workers start alongside the control-plane: each start costs most of a second here.
        await Promise.all([docker.api.startContainer(Id), ...(attempt === 0 ? created.map((n) => docker.api.startContainer(n.id)) : [])]);
        created.unshift({ name: cpName, role: 'control-plane', id: Id });
        break;
      } catch (err) {
        await docker.api.removeContainer(Id);
        const busy = /port is already allocated|address already in use/i.test((err as Error).message);
        if (!busy || attempt >= 4 || typeof opts.apiPort === 'number') throw err;
      }
    }

    const port = await publishedPort(docker.api, created[0]?.id ?? '', KIND_API_CONTAINER_PORT);
    const cluster = new Cluster(docker, { name, kubeconfigPath: opts.kubeconfigPath, nodeContainers: created, apiPort: port, pki: pkiPaths(pki.dir) });
    await cluster.waitReady();
    await mergeKindEntry(opts.kubeconfigPath, {
      context: cluster.context,
      server: cluster.apiServer,
      caData: base64File(pki.caCertPath),
      clientCertData: base64File(pki.clientCertPath),
      clientKeyData: base64File(pki.clientKeyPath),
    });
    return cluster;
  } catch (err) {
    await Promise.all(created.map((n) => docker.api.removeContainer(n.id).catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

const base64File = (path: string): string => readFileSync(path).toString('base64');

/**
 * A handle on an existing cluster of this testbed (made by another process:
 * the CLI, a global setup), rebuilt from Docker's labels as kind's own
 * commands do. The control-plane must exist; it need not be running.
 */
export async function attachCluster(docker: TestbedDocker, name: string, kubeconfigPath: string): Promise<Cluster> {
  const containers = await docker.api.listContainers([`${KIND_CLUSTER_LABEL}=${name}`]);
  const nodes: NodeContainer[] = containers
    .map((c) => ({ name: c.Names[0]?.replace(/^\//, '') ?? c.Id, role: (c.Labels[KIND_ROLE_LABEL] === 'control-plane' ? 'control-plane' : 'worker') as NodeRole, id: c.Id }))
    .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'control-plane' ? -1 : 1));
  const cp = nodes.find((n) => n.role === 'control-plane');
  if (!cp) throw new Error(`no control-plane container for a cluster named "${name}"`);
  const info = await docker.api.inspectContainer(cp.id);
  const binding = info.NetworkSettings.Ports[`${KIND_API_CONTAINER_PORT}/tcp`]?.[0];
  return new Cluster(docker, { name, kubeconfigPath, nodeContainers: nodes, apiPort: binding ? Number(binding.HostPort) : 0, pki: pkiPaths(join(docker.dir, 'pki')) });
}

/** Finds the clusters of a testbed from Docker's labels (for the CLI and cleanup), as Kindtray's discovery would. */
export async function listClusterNames(api: DockerApi, testbedId: string): Promise<string[]> {
  const containers = await api.listContainers([`${TESTBED_LABEL}=${testbedId}`]);
  return [...new Set(containers.map((c) => c.Labels[KIND_CLUSTER_LABEL]).filter((n): n is string => !!n))].sort();
}
