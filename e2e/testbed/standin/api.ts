// The stand-in's HTTP API: routing, authentication, and the verbs on each
// resource (nodes, namespaces, pods with logs, services, an empty events list),
// answering as kube-apiserver does where kubectl and @kubernetes/client-node
// look: Status objects for errors, Lists with a resourceVersion, Tables when
// asked, watch streams, `dryRun`, `generateName`, label and field selectors.
// What it does not do it refuses plainly (404, 405, 415), never half-way.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cpus, release, totalmem } from 'node:os';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  alreadyExists, apiGroups, apiVersions, badRequest, coreDiscovery, invalid, notFound, openapiV3CoreV1, openapiV3Root, StatusError, toTable,
  versionInfo, wantsTable,
} from './kube.ts';
import { execUpgrade } from './exec.ts';
import { containerAddress, PodRunner } from './pods.ts';
import type { ContainerSpec } from './pods.ts';
import { decodeProtobufBody, protobufKind } from './protobuf.ts';
import { NODE_PORT_RANGE } from './protocol.ts';
import type { Fault, StandinConfig } from './protocol.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.ts';
import { NodePorts } from './services.ts';
import { kubeTime, Store } from './store.ts';
import type { KubeObject, Resource, WatchEvent } from './store.ts';

const KINDS: Record<Resource, string> = { pods: 'Pod', services: 'Service', secrets: 'Secret', namespaces: 'Namespace', nodes: 'Node' };
const INITIAL_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
const PROTECTED_NAMESPACES = new Set(['default', 'kube-public', 'kube-system']);
const MAX_BODY = 4 * 1024 * 1024;

export interface PersistedState {
  revision: number;
  nextClusterIp: number;
  namespaces: KubeObject[];
  services: KubeObject[];
  pods: KubeObject[];
}

/** RFC 1123 subdomain (Pod names) and RFC 1035 label (Service names), as the API validates them. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export class KubeApi {
  private readonly config: StandinConfig;
  readonly store = new Store();
  readonly runner: PodRunner;
  private readonly nodePorts = new NodePorts();
  private nextClusterIp = 10;
  private readonly createdAt: string;
  /** The fault in force (main.ts sets it): a hung API goes silent on log streams already open too. */
  faultNow: () => Fault = () => ({ kind: 'none' });

  constructor(config: StandinConfig, createdAt: Date) {
    this.config = config;
    this.createdAt = kubeTime(createdAt);
    const controlPlane = config.nodes.find((n) => n.role === 'control-plane')?.name ?? `${config.clusterName}-control-plane`;
    this.runner = new PodRunner(this.store, controlPlane);
    for (const name of INITIAL_NAMESPACES) {
      this.store.create('namespaces', {
        apiVersion: 'v1', kind: 'Namespace',
        metadata: { name, uid: '', resourceVersion: '', creationTimestamp: this.createdAt, labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
      });
    }
    for (const node of config.nodes) this.store.create('nodes', this.nodeObject(node.name, node.role, true));
    this.store.create('services', {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', uid: '', resourceVersion: '', creationTimestamp: this.createdAt, labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }], sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: {} },
    });
  }

  private nodeObject(name: string, role: string, ready: boolean): KubeObject {
    const memoryKi = `${Math.floor(totalmem() / 1024)}Ki`;
    const capacity = { cpu: String(cpus().length), memory: memoryKi, pods: '110', 'ephemeral-storage': '102626232Ki', 'hugepages-2Mi': '0' };
    const now = kubeTime();
    const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: this.createdAt, reason, message });
    return {
      apiVersion: 'v1', kind: 'Node',
      metadata: {
        name, uid: '', resourceVersion: '', creationTimestamp: this.createdAt,
        labels: {
          'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux',
          ...(role === 'control-plane' ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
        },
        annotations: { 'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock', 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'], providerID: `kind://docker/${this.config.clusterName}/${name}` },
      status: {
        capacity, allocatable: capacity,
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          ready
            ? condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
            : condition('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false (testbed fault: notready)'),
        ],
        addresses: [{ type: 'InternalIP', address: containerAddress() }, { type: 'Hostname', address: name }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: '', systemUUID: '', bootID: '', kernelVersion: release(), osImage: 'Debian GNU/Linux 12 (bookworm)',
          containerRuntimeVersion: 'containerd://1.7.24', kubeletVersion: this.config.kubernetesVersion,
          kubeProxyVersion: this.config.kubernetesVersion, operatingSystem: 'linux', architecture: 'amd64',
        },
      },
    };
  }

  /** What survives a node restart (see restore()). */
  snapshot(): PersistedState {
    return {
      revision: Number(this.store.resourceVersion),
      nextClusterIp: this.nextClusterIp,
      namespaces: this.store.list('namespaces').filter((n) => !INITIAL_NAMESPACES.includes(n.metadata.name)),
      services: this.store.list('services').filter((s) => !(s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes')),
      pods: this.store.list('pods'),
    };
  }

  /**
   * Brings back the objects of a previous run of this container, as etcd
   * would after `docker start`: namespaces, Services (their NodePorts listen
   * again) and Pods (the runner restarts what should run).
   */
  restore(state: PersistedState): void {
    this.store.restoreRevision(state.revision);
    this.nextClusterIp = Math.max(this.nextClusterIp, state.nextClusterIp);
    for (const ns of state.namespaces) this.store.create('namespaces', ns);
    for (const svc of state.services) {
      this.store.create('services', svc);
      for (const port of (svc.spec?.ports as { nodePort?: number; targetPort: number | string }[] | undefined) ?? []) {
        if (port.nodePort && this.nodePorts.allocate(port.nodePort) !== undefined) {
          this.nodePorts.open(port.nodePort, () => this.resolveTargetPort(svc, port.targetPort));
        }
      }
    }
    for (const pod of state.pods) {
      this.store.create('pods', pod);
      this.runner.adopt(pod);
    }
  }

  /** Client certificate signed by the testbed CA, or a known bearer token. */
  private authenticated(req: IncomingMessage): boolean {
    const socket = req.socket as TLSSocket;
    if (socket.authorized && socket.getPeerCertificate?.()?.subject) return true;
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
    return token !== undefined && this.config.tokens.includes(token.trim());
  }

  /** A WebSocket upgrade: pods/exec (exec.ts). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    execUpgrade(req, socket, head, { authenticated: this.authenticated(req), pod: (ns, name) => this.store.get('pods', ns, name), target: (pod, c) => this.runner.execTarget(pod, c) });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof StatusError) sendJson(res, err.status.code, err.status);
      else if (err instanceof SelectorError) sendJson(res, 400, badRequest(err.message).status);
      else {
        console.error('stand-in: internal error', err);
        sendJson(res, 500, new StatusError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`).status);
      }
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://standin');
    const parts = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const [first] = parts;

    // The public-info endpoints need no credentials, as with system:public-info-viewer.
    if (first === 'version' && parts.length === 1) return sendJson(res, 200, versionInfo(this.config.kubernetesVersion));
    if (first === 'healthz' || first === 'livez' || first === 'readyz') {
      const verbose = url.searchParams.has('verbose');
      const body = verbose ? `[+]ping ok\n[+]log ok\n[+]etcd ok\n${first} check passed\n` : 'ok';
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
      return;
    }
    if (!this.authenticated(req)) {
      return sendJson(res, 401, new StatusError(401, 'Unauthorized', 'Unauthorized').status);
    }

    if (first === 'openapi' && parts[1] === 'v3') {
      if (parts.length === 2) return sendJson(res, 200, openapiV3Root());
      if (parts.length === 4 && parts[2] === 'api' && parts[3] === 'v1') return sendJson(res, 200, openapiV3CoreV1());
    }
    if (first === 'apis') {
      if (parts.length === 1) return sendJson(res, 200, apiGroups());
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (first !== 'api') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (parts.length === 1) return sendJson(res, 200, apiVersions(`${containerAddress()}:6443`));
    if (parts[1] !== 'v1') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (parts.length === 2) return sendJson(res, 200, coreDiscovery());

    const rest = parts.slice(2);
    // /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]]
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const [, namespace = '', resource = '', name, sub] = rest;
      if (rest.length > 5) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      return this.namespaced(req, res, url, namespace, resource, name, sub);
    }
    // /api/v1/RESOURCE[/NAME[/status]] for cluster-scoped resources and all-namespace lists
    const [resource = '', name, sub] = rest;
    if (rest.length > 3) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (name === undefined) {
      if (resource === 'events') return this.events(req, res, url, undefined);
      const r = asResource(resource);
      if (method === 'GET') return this.list(req, res, url, r, undefined);
      if (method === 'POST' && r === 'namespaces') return this.createNamespace(req, res, url);
      throw methodNotAllowed(method, resource);
    }
    const r = asResource(resource);
    if (r !== 'namespaces' && r !== 'nodes') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (sub !== undefined && sub !== 'status') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (method === 'GET') return this.getOne(req, res, r, undefined, name, sub);
    if (r === 'namespaces' && method === 'DELETE') return this.deleteNamespace(res, name);
    if (r === 'namespaces' && (method === 'PATCH' || method === 'PUT')) return this.patchMetadata(req, res, r, undefined, name, method);
    throw methodNotAllowed(method, resource);
  }

  /** GET of one object; as a one-row Table when kubectl asks for one. */
  private getOne(req: IncomingMessage, res: ServerResponse, resource: Resource, namespace: string | undefined, name: string, sub: string | undefined): void {
    const object = this.mustGet(resource, namespace, name);
    if (sub === undefined && wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(resource, [object], object.metadata.resourceVersion));
    sendJson(res, 200, object);
  }

  private mustGet(resource: Resource, namespace: string | undefined, name: string): KubeObject {
    const object = this.store.get(resource, namespace, name);
    if (!object) throw notFound(resource, name);
    return object;
  }

  private async namespaced(req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, resource: string, name: string | undefined, sub: string | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    if (resource === 'events' && name === undefined) return this.events(req, res, url, namespace);
    const r = asResource(resource);
    if (r !== 'pods' && r !== 'services' && r !== 'secrets') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (name === undefined) {
      if (method === 'GET') return this.list(req, res, url, r, namespace);
      if (method === 'POST') return this.create(req, res, url, r, namespace);
      if (method === 'DELETE') return this.deleteCollection(res, url, r, namespace);
      throw methodNotAllowed(method, resource);
    }
    if (sub === 'log' && r === 'pods' && method === 'GET') return this.logs(res, url, namespace, name);
    if (sub === 'status' && method === 'GET') return this.getOne(req, res, r, namespace, name, sub);
    if (sub !== undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (method === 'GET') return this.getOne(req, res, r, namespace, name, sub);
    if (method === 'DELETE') return this.deleteOne(req, res, url, r, namespace, name);
    if (method === 'PATCH' || method === 'PUT') return this.patchMetadata(req, res, r, namespace, name, method);
    throw methodNotAllowed(method, resource);
  }

  private list(req: IncomingMessage, res: ServerResponse, url: URL, resource: Resource, namespace: string | undefined): void {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    const match = (o: KubeObject) => labels(o.metadata.labels ?? {}) && fields(o);
    const table = wantsTable(req.headers.accept);
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') return this.watch(req, res, url, resource, namespace, match, table);
    const items = this.store.list(resource, namespace).filter(match);
    if (table) return sendJson(res, 200, toTable(resource, items, this.store.resourceVersion));
    sendJson(res, 200, { kind: `${KINDS[resource]}List`, apiVersion: 'v1', metadata: { resourceVersion: this.store.resourceVersion }, items });
  }

  private watch(req: IncomingMessage, res: ServerResponse, url: URL, resource: Resource, namespace: string | undefined, match: (o: KubeObject) => boolean, table: boolean): void {
    const rvParam = url.searchParams.get('resourceVersion');
    const sinceRv = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    // Headers now, not with the first event: clients wait for them before they watch (kubectl wait would hang).
    res.flushHeaders();
    const send = (event: WatchEvent | { type: 'ERROR'; object: unknown }) => {
      if (event.type !== 'ERROR' && !match(event.object)) return;
      const object = table && event.type !== 'ERROR' ? toTable(resource, [event.object], event.object.metadata.resourceVersion) : event.object;
      res.write(`${JSON.stringify({ type: event.type, object })}\n`);
    };
    if (sinceRv === undefined) {
      for (const o of this.store.list(resource, namespace)) send({ type: 'ADDED', object: o });
    }
    const watcher = this.store.watch(resource, namespace, Number.isFinite(sinceRv) ? sinceRv : undefined, send);
    if (!watcher.ok) {
      send({ type: 'ERROR', object: new StatusError(410, 'Expired', `too old resource version: ${rvParam} (${this.store.resourceVersion})`).status });
      res.end();
      return;
    }
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => res.end(), Math.max(1, timeoutSeconds) * 1000);
    const stop = () => {
      clearTimeout(timer);
      watcher.stop();
    };
    res.on('close', stop);
    req.on('close', stop);
  }

  /** Events: always an empty list (so `kubectl describe` works); a watch stays open and quiet. */
  private events(req: IncomingMessage, res: ServerResponse, url: URL, _namespace: string | undefined): void {
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const timer = setTimeout(() => res.end(), Number(url.searchParams.get('timeoutSeconds') ?? '1800') * 1000);
      req.on('close', () => clearTimeout(timer));
      return;
    }
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable('events', [], this.store.resourceVersion));
    sendJson(res, 200, { kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: this.store.resourceVersion }, items: [] });
  }

  private async create(req: IncomingMessage, res: ServerResponse, url: URL, resource: 'pods' | 'services' | 'secrets', namespace: string): Promise<void> {
    const body = await readJson(req);
    if (!this.store.get('namespaces', undefined, namespace)) throw notFound('namespaces', namespace);
    const object = this.newObject(body, resource, namespace);
    if (this.store.get(resource, namespace, object.metadata.name)) throw alreadyExists(resource, object.metadata.name);
    const dryRun = url.searchParams.getAll('dryRun').includes('All');
    if (resource === 'secrets') {
      // As the API server: stringData is written into data (base64) and never kept.
      const data: Record<string, string> = isRecord(body.data) ? Object.fromEntries(Object.entries(body.data).map(([k, v]) => [k, String(v)])) : {};
      for (const [k, v] of Object.entries(isRecord(body.stringData) ? body.stringData : {})) data[k] = Buffer.from(String(v)).toString('base64');
      delete object.spec;
      object.data = data;
      object.type = typeof body.type === 'string' ? body.type : 'Opaque';
      if (!dryRun) this.store.create('secrets', object);
    } else if (resource === 'pods') {
      this.validatePod(object);
      this.runner.admit(object);
      if (dryRun) return sendJson(res, 201, object);
      this.store.create('pods', object);
      this.runner.start(object);
    } else {
      const openPorts = this.prepareService(object, dryRun);
      if (dryRun) return sendJson(res, 201, object);
      this.store.create('services', object);
      openPorts();
    }
    sendJson(res, 201, object);
  }

  private async createNamespace(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const object = this.newObject(await readJson(req), 'namespaces', undefined);
    if (!DNS_LABEL_1123.test(object.metadata.name)) throw invalid('Namespace', object.metadata.name, [{ field: 'metadata.name', message: `Invalid value: "${object.metadata.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` }]);
    if (this.store.get('namespaces', undefined, object.metadata.name)) throw alreadyExists('namespaces', object.metadata.name);
    object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name };
    object.spec = { finalizers: ['kubernetes'] };
    object.status = { phase: 'Active' };
    if (!url.searchParams.getAll('dryRun').includes('All')) this.store.create('namespaces', object);
    sendJson(res, 201, object);
  }

  /** Parses the metadata every create shares: name or generateName, labels, annotations. */
  private newObject(body: Json, resource: Resource, namespace: string | undefined): KubeObject {
    const kind = KINDS[resource];
    if (body.kind !== undefined && body.kind !== kind) throw badRequest(`the kind "${String(body.kind)}" does not match the resource ${resource} (${kind})`);
    const meta = isRecord(body.metadata) ? body.metadata : {};
    if (meta.namespace !== undefined && namespace !== undefined && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    let name = typeof meta.name === 'string' ? meta.name : '';
    const generateName = typeof meta.generateName === 'string' ? meta.generateName : undefined;
    if (!name && generateName) name = generateName + randomSuffix();
    if (!name) throw invalid(kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    const strings = (v: unknown) => (isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : undefined);
    const labels = strings(meta.labels);
    const annotations = strings(meta.annotations);
    return {
      apiVersion: 'v1', kind,
      metadata: {
        name, ...(namespace !== undefined ? { namespace } : {}), ...(generateName ? { generateName } : {}),
        uid: '', resourceVersion: '', creationTimestamp: '',
        ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}),
      },
      spec: isRecord(body.spec) ? structuredClone(body.spec) : {},
    };
  }

  private validatePod(pod: KubeObject): void {
    const causes: { field: string; message: string }[] = [];
    const name = pod.metadata.name;
    if (!DNS_SUBDOMAIN.test(name) || name.length > 253) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
    const containers = pod.spec?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      causes.push({ field: 'spec.containers', message: 'Required value' });
    } else {
      const seen = new Set<string>();
      containers.forEach((c: unknown, i) => {
        const spec = (isRecord(c) ? c : {}) as Partial<ContainerSpec>;
        if (typeof spec.name !== 'string' || !DNS_LABEL_1123.test(spec.name)) causes.push({ field: `spec.containers[${i}].name`, message: spec.name ? `Invalid value: "${spec.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` : 'Required value' });
        else if (seen.has(spec.name)) causes.push({ field: `spec.containers[${i}].name`, message: `Duplicate value: "${spec.name}"` });
        else seen.add(spec.name);
        if (typeof spec.image !== 'string' || spec.image.trim() === '') causes.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
        for (const key of ['command', 'args'] as const) {
          const v = spec[key];
          if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) causes.push({ field: `spec.containers[${i}].${key}`, message: 'Invalid value: must be a list of strings' });
        }
      });
    }
    const policy = pod.spec?.restartPolicy;
    if (policy !== undefined && !['Always', 'OnFailure', 'Never'].includes(String(policy))) {
      causes.push({ field: 'spec.restartPolicy', message: `Unsupported value: "${String(policy)}": supported values: "Always", "OnFailure", "Never"` });
    }
    if (causes.length) throw invalid('Pod', name, causes);
  }

  /**
   * Validates a Service, fills defaults (clusterIP, nodePorts) and returns the
   * function that opens its NodePort listeners once it is stored.
   */
  private prepareService(svc: KubeObject, dryRun: boolean): () => void {
    const spec = (svc.spec ??= {});
    const name = svc.metadata.name;
    const causes: { field: string; message: string }[] = [];
    if (!DNS_LABEL_1035.test(name)) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character` });
    const type = String(spec.type ?? 'ClusterIP');
    if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(type)) causes.push({ field: 'spec.type', message: `Unsupported value: "${type}": supported values: "ClusterIP", "LoadBalancer", "NodePort"` });
    const rawPorts = Array.isArray(spec.ports) ? spec.ports : [];
    // A headless Service (clusterIP None) may have no ports, as the apiserver allows.
    const headless = spec.clusterIP === 'None' && type === 'ClusterIP';
    if (rawPorts.length === 0 && !headless) causes.push({ field: 'spec.ports', message: 'Required value' });
    const wantsNodePorts = type === 'NodePort' || type === 'LoadBalancer';
    const ports = rawPorts.map((p: unknown, i) => {
      const port = (isRecord(p) ? p : {}) as { name?: string; protocol?: string; port?: unknown; targetPort?: unknown; nodePort?: unknown };
      const field = `spec.ports[${i}]`;
      if (typeof port.port !== 'number' || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) causes.push({ field: `${field}.port`, message: `Invalid value: ${String(port.port)}: must be between 1 and 65535, inclusive` });
      if (rawPorts.length > 1 && !port.name) causes.push({ field: `${field}.name`, message: 'Required value' });
      if (port.nodePort !== undefined) {
        const np = port.nodePort;
        if (!wantsNodePorts) causes.push({ field: `${field}.nodePort`, message: `Forbidden: may not be used when \`type\` is '${type}'` });
        else if (typeof np !== 'number' || np < NODE_PORT_RANGE.min || np > NODE_PORT_RANGE.max) causes.push({ field: `${field}.nodePort`, message: `Invalid value: ${String(np)}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}` });
        else if (this.nodePorts.isAllocated(np)) causes.push({ field: `${field}.nodePort`, message: `Invalid value: ${np}: provided port is already allocated` });
      }
      return { ...port, protocol: port.protocol ?? 'TCP', targetPort: port.targetPort ?? port.port } as { name?: string; protocol: string; port: number; targetPort: number | string; nodePort?: number };
    });
    if (causes.length) throw invalid('Service', name, causes);

    if (wantsNodePorts) {
      const taken: number[] = [];
      for (const port of ports) {
        const np = dryRun ? (port.nodePort ?? 0) : this.nodePorts.allocate(port.nodePort);
        if (np === undefined) {
          for (const t of taken) this.nodePorts.release(t);
          throw new StatusError(500, 'InternalError', `Internal error occurred: failed to allocate a nodePort: range is full`);
        }
        if (!dryRun) taken.push(np);
        if (np) port.nodePort = np;
      }
    }
    const clusterIP = headless ? 'None' : `10.96.${Math.floor(this.nextClusterIp / 250)}.${(this.nextClusterIp % 250) + 2}`;
    if (!dryRun && !headless) this.nextClusterIp++;
    Object.assign(spec, {
      type, ports, clusterIP, clusterIPs: [clusterIP], sessionAffinity: spec.sessionAffinity ?? 'None',
      ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
      ...(wantsNodePorts ? { externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster' } : {}),
    });
    svc.status = { loadBalancer: {} };
    return () => {
      for (const port of ports) {
        if (port.nodePort) this.nodePorts.open(port.nodePort, () => this.resolveTargetPort(svc, port.targetPort));
      }
    };
  }

  /** A numeric targetPort as is; a named one through the ports of the Pods the Service selects. */
  private resolveTargetPort(svc: KubeObject, target: number | string): number | undefined {
    if (typeof target === 'number') return target;
    if (/^\d+$/.test(target)) return Number(target);
    const selector = (svc.spec?.selector as Record<string, string> | undefined) ?? {};
    for (const pod of this.store.list('pods', svc.metadata.namespace)) {
      const labels = pod.metadata.labels ?? {};
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      for (const c of PodRunner.containersOf(pod)) {
        const port = c.ports?.find((p) => p.name === target);
        if (port) return port.containerPort;
      }
    }
    return undefined;
  }

  private releaseService(svc: KubeObject): void {
    for (const port of (svc.spec?.ports as { nodePort?: number }[] | undefined) ?? []) {
      if (port.nodePort) this.nodePorts.release(port.nodePort);
    }
  }

  private remove(resource: 'pods' | 'services' | 'secrets', object: KubeObject, graceSeconds: number | undefined): KubeObject {
    this.store.remove(resource, object.metadata.namespace, object.metadata.name);
    if (resource === 'pods') {
      this.runner.stop(object, graceSeconds);
      object.metadata.deletionTimestamp = kubeTime();
      object.metadata.deletionGracePeriodSeconds = graceSeconds ?? object.spec?.terminationGracePeriodSeconds ?? 30;
    } else if (resource === 'services') {
      this.releaseService(object);
    }
    return object;
  }

  private async deleteOne(req: IncomingMessage, res: ServerResponse, url: URL, resource: 'pods' | 'services' | 'secrets', namespace: string, name: string): Promise<void> {
    const body = await readJson(req, true);
    const object = this.mustGet(resource, namespace, name);
    if (url.searchParams.getAll('dryRun').includes('All')) return sendJson(res, 200, object);
    const grace = numberOrUndefined(url.searchParams.get('gracePeriodSeconds') ?? body.gracePeriodSeconds);
    // The object is gone at once: a list right after the delete no longer shows it,
    // which is all `kubectl delete --wait` needs.
    sendJson(res, 200, this.remove(resource, object, grace));
  }

  private deleteCollection(res: ServerResponse, url: URL, resource: 'pods' | 'services' | 'secrets', namespace: string): void {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    const victims = this.store.list(resource, namespace).filter((o) => labels(o.metadata.labels ?? {}) && fields(o));
    if (resource === 'services') {
      // As the real API: deletecollection is not allowed on Services.
      throw methodNotAllowed('DELETE', resource);
    }
    const grace = numberOrUndefined(url.searchParams.get('gracePeriodSeconds'));
    const items = victims.map((o) => this.remove(resource, o, grace));
    sendJson(res, 200, { kind: `${KINDS[resource]}List`, apiVersion: 'v1', metadata: { resourceVersion: this.store.resourceVersion }, items });
  }

  private deleteNamespace(res: ServerResponse, name: string): void {
    const ns = this.mustGet('namespaces', undefined, name);
    if (PROTECTED_NAMESPACES.has(name)) throw new StatusError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    for (const pod of this.store.list('pods', name)) this.remove('pods', pod, 0);
    for (const svc of this.store.list('services', name)) this.remove('services', svc, 0);
    for (const secret of this.store.list('secrets', name)) this.remove('secrets', secret, 0);
    this.store.remove('namespaces', undefined, name);
    ns.status = { phase: 'Terminating' };
    ns.metadata.deletionTimestamp = kubeTime();
    sendJson(res, 200, ns);
  }

  /**
   * PATCH (merge or strategic merge) and PUT, limited to labels and
   * annotations: enough for `kubectl label/annotate` and for clients that
   * tag objects; anything else is refused with 422 rather than half-applied.
   */
  private async patchMetadata(req: IncomingMessage, res: ServerResponse, resource: Resource, namespace: string | undefined, name: string, method: string): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (method === 'PATCH' && type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
      throw new StatusError(415, 'UnsupportedMediaType', `the stand-in supports merge and strategic merge patches only, not ${type || 'this body'}`);
    }
    const body = await readJson(req);
    const object = this.mustGet(resource, namespace, name);
    const meta = isRecord(body.metadata) ? body.metadata : {};
    const extra = Object.keys(body).filter((k) => !['metadata', 'apiVersion', 'kind', ...(method === 'PUT' ? ['spec', 'status'] : [])].includes(k));
    const extraMeta = Object.keys(meta).filter((k) => !['labels', 'annotations', 'resourceVersion', ...(method === 'PUT' ? ['name', 'namespace', 'uid', 'creationTimestamp', 'generateName', 'managedFields'] : [])].includes(k));
    if (extra.length || extraMeta.length) {
      throw invalid(KINDS[resource], name, [{ field: [...extra, ...extraMeta.map((k) => `metadata.${k}`)].join(', '), message: 'Forbidden: the stand-in only updates metadata.labels and metadata.annotations' }]);
    }
    if (typeof meta.resourceVersion === 'string' && meta.resourceVersion !== object.metadata.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: resource });
    }
    for (const key of ['labels', 'annotations'] as const) {
      if (!(key in meta)) {
        if (method === 'PUT') delete object.metadata[key];
        continue;
      }
      const patch = meta[key];
      const merged: Record<string, string> = method === 'PUT' ? {} : { ...object.metadata[key] };
      if (isRecord(patch)) {
        for (const [k, v] of Object.entries(patch)) {
          if (v === null) delete merged[k];
          else merged[k] = String(v);
        }
      }
      if (Object.keys(merged).length) object.metadata[key] = merged;
      else delete object.metadata[key];
    }
    const updated = this.store.update(resource, object);
    if (resource === 'pods') this.runner.metadataChanged(object);
    sendJson(res, 200, updated);
  }

  private logs(res: ServerResponse, url: URL, namespace: string, name: string): void {
    const pod = this.mustGet('pods', namespace, name);
    const containerParam = url.searchParams.get('container') ?? undefined;
    const containers = PodRunner.containersOf(pod).map((c) => c.name);
    if (containerParam !== undefined && !containers.includes(containerParam)) {
      throw badRequest(`container ${containerParam} is not valid for pod ${name}`);
    }
    if (containerParam === undefined && containers.length > 1) {
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    }
    const found = this.runner.logOf(pod, containerParam);
    if (!found) {
      throw badRequest(`container "${containerParam ?? containers[0]}" in pod "${name}" is waiting to start: ContainerCreating`);
    }
    const timestamps = url.searchParams.get('timestamps') === 'true';
    const follow = url.searchParams.get('follow') === 'true';
    const tail = numberOrUndefined(url.searchParams.get('tailLines'));
    const sinceSeconds = numberOrUndefined(url.searchParams.get('sinceSeconds'));
    const limitBytes = numberOrUndefined(url.searchParams.get('limitBytes'));
    const sinceTime = sinceSeconds !== undefined ? new Date(Date.now() - sinceSeconds * 1000).toISOString() : url.searchParams.get('sinceTime') ?? undefined;
    const format = (line: { time: string; text: string }) => `${timestamps ? `${line.time} ` : ''}${line.text}\n`;

    let lines = found.run.lines.filter((l) => sinceTime === undefined || l.time >= sinceTime);
    if (tail !== undefined && tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail));
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(follow ? { 'Transfer-Encoding': 'chunked' } : {}) });
    // A follower of a quiet task must still get its answer at once.
    res.flushHeaders();
    let written = 0;
    const write = (text: string): boolean => {
      if (limitBytes !== undefined && written + Buffer.byteLength(text) > limitBytes) {
        res.end(Buffer.from(text).subarray(0, Math.max(0, limitBytes - written)));
        return false;
      }
      written += Buffer.byteLength(text);
      res.write(text);
      return true;
    };
    for (const line of lines) if (!write(format(line))) return;
    if (!follow) {
      res.end();
      return;
    }
    // Checked at most every 100 ms: a hung API sends nothing more, and only the client's deadline ends the stream.
    let checkedAt = 0;
    const unfollow = found.run.follow((line) => {
      if (line !== null && Date.now() - checkedAt > 100) {
        checkedAt = Date.now();
        if (this.faultNow().kind === 'hang') return void unfollow();
      }
      if (line === null) res.end();
      else if (!write(format(line))) unfollow();
    });
    res.on('close', unfollow);
  }
}

function asResource(name: string): Resource {
  if (name === 'pods' || name === 'services' || name === 'secrets' || name === 'namespaces' || name === 'nodes') return name;
  throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

function methodNotAllowed(method: string, resource: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${resource})`);
}

function numberOrUndefined(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** generateName's suffix: five characters from the API server's alphabet. */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

/** Reads a JSON body (or a protobuf one kubectl's typed commands send); `optional` lets an empty body be `{}` (DELETE). YAML is refused with 415. */
async function readJson(req: IncomingMessage, optional = false): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new StatusError(413, 'RequestEntityTooLarge', 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  const text = raw.toString('utf8').trim();
  if (text === '') {
    if (optional) return {};
    throw badRequest('the request body is empty');
  }
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
  if (type === 'application/vnd.kubernetes.protobuf') {
    let decoded: Json | undefined;
    try {
      decoded = decodeProtobufBody(raw);
    } catch (err) {
      throw badRequest(`cannot decode the protobuf body: ${(err as Error).message}`);
    }
    if (!decoded) throw new StatusError(415, 'UnsupportedMediaType', `the stand-in decodes protobuf Namespaces and Services only, not a ${protobufKind(raw)}; send JSON`);
    return decoded;
  }
  if (!type.endsWith('json')) throw new StatusError(415, 'UnsupportedMediaType', `the stand-in accepts JSON (and protobuf Namespaces and Services) only, not ${type}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(parsed)) throw badRequest('the body must be a JSON object');
  return parsed;
}
