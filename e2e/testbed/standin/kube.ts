// What the stand-in answers besides the objects themselves: Status errors,
// discovery documents, /version, and the server-side Table printing that
// kubectl asks for (`Accept: application/json;as=Table;...`), with the same
// columns kube-apiserver prints, so `kubectl get` output looks normal.

import type { KubeObject } from './store.ts';
import type { Resource } from './store.ts';

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; kind?: string; causes?: { reason: string; message: string; field: string }[] };
  code: number;
}

/** An answer the API gives as a Status object with this HTTP code. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: Status['details']) {
    super(message);
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
  }
}

export const notFound = (resource: string, name: string): StatusError =>
  new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
export const alreadyExists = (resource: string, name: string): StatusError =>
  new StatusError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource });
export const badRequest = (message: string): StatusError => new StatusError(400, 'BadRequest', message);

/** 422 with field causes, worded as kube-apiserver words them. */
export function invalid(kind: string, name: string, causes: { field: string; message: string }[]): StatusError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`, {
    name,
    kind: kind.toLowerCase() + 's',
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function versionInfo(gitVersion: string): Record<string, string> {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
  return {
    major: m?.[1] ?? '1',
    minor: m?.[2] ?? '32',
    gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-02-12T00:00:00Z',
    goVersion: 'go1.23.6',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

interface ResourceInfo {
  name: Resource | 'events' | 'pods/log' | 'pods/status';
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  categories?: string[];
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceInfo[] = [
  { name: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { name: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], verbs: ['get', 'list', 'watch'] },
  { name: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], verbs: RW, categories: ['all'] },
  { name: 'pods/log', kind: 'Pod', namespaced: true, verbs: ['get'] },
  { name: 'pods/status', kind: 'Pod', namespaced: true, verbs: ['get'] },
  { name: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], verbs: RW, categories: ['all'] },
  { name: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], verbs: ['list', 'watch'] },
];

export function coreDiscovery(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: RESOURCES.map((r) => ({
      name: r.name,
      singularName: r.name.includes('/') ? '' : r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    })),
  };
}

export const apiVersions = (serverAddress: string): Record<string, unknown> => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

/**
 * Just enough OpenAPI v3 for kubectl to learn that the server validates
 * fields itself (`fieldValidation` on each kind's PATCH): kubectl then sends
 * `fieldValidation=Strict` and skips client-side schema validation, for which
 * it would otherwise download the full OpenAPI v2 document and fail.
 */
export const openapiV3Root = (): Record<string, unknown> => ({ paths: { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=kindtray-standin' } } });

export function openapiV3CoreV1(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES) {
    if (r.name.includes('/') || !r.verbs.includes('patch')) continue;
    const path = r.namespaced ? `/api/v1/namespaces/{namespace}/${r.name}/{name}` : `/api/v1/${r.name}/{name}`;
    paths[path] = {
      patch: {
        'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: r.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: {},
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (Kindtray testbed stand-in)', version: 'v1' }, paths };
}

/** No API groups beyond the core one: kubectl falls back from aggregated discovery to these documents. */
export const apiGroups = (): Record<string, unknown> => ({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] });

/** kubectl's age format: 42s, 5m10s, 3h, 2d4h … */
export function age(since: string | undefined, now = Date.now()): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 && h < 8 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 && h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
}

type ContainerStatusLike = {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number }; running?: unknown };
};

/** The STATUS column of `kubectl get pods`, by the rules of the API server's pod printer. */
export function podStatusReason(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const status = pod.status ?? {};
  let reason = String(status.phase ?? 'Unknown');
  const statuses = (status.containerStatuses as ContainerStatusLike[] | undefined) ?? [];
  let hasRunning = false;
  for (let i = statuses.length - 1; i >= 0; i--) {
    const st = statuses[i]?.state ?? {};
    if (st.waiting?.reason) reason = st.waiting.reason;
    else if (st.terminated?.reason) reason = st.terminated.reason;
    else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
    else if (st.running && statuses[i]?.ready) hasRunning = true;
  }
  if (reason === 'Completed' && hasRunning) reason = 'Running';
  return reason;
}

function podRow(pod: KubeObject, now: number): unknown[] {
  const statuses = (pod.status?.containerStatuses as ContainerStatusLike[] | undefined) ?? [];
  const ready = statuses.filter((s) => s.ready).length;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  return [
    pod.metadata.name,
    `${ready}/${statuses.length}`,
    podStatusReason(pod),
    restarts,
    age(pod.metadata.creationTimestamp, now),
    String(pod.status?.podIP ?? '<none>'),
    String(pod.spec?.nodeName ?? '<none>'),
    '<none>',
    '<none>',
  ];
}

function nodeRow(node: KubeObject, now: number): unknown[] {
  const conditions = (node.status?.conditions as { type: string; status: string }[] | undefined) ?? [];
  const ready = conditions.find((c) => c.type === 'Ready')?.status === 'True';
  const labels = node.metadata.labels ?? {};
  const roles = Object.keys(labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
  const info = (node.status?.nodeInfo as Record<string, string> | undefined) ?? {};
  const addresses = (node.status?.addresses as { type: string; address: string }[] | undefined) ?? [];
  return [
    node.metadata.name,
    ready ? 'Ready' : 'NotReady',
    roles.length ? roles.join(',') : '<none>',
    age(node.metadata.creationTimestamp, now),
    info.kubeletVersion ?? '',
    addresses.find((a) => a.type === 'InternalIP')?.address ?? '<none>',
    '<none>',
    info.osImage ?? '',
    info.kernelVersion ?? '',
    info.containerRuntimeVersion ?? '',
  ];
}

function serviceRow(svc: KubeObject, now: number): unknown[] {
  const spec = svc.spec ?? {};
  const ports = (spec.ports as { port: number; nodePort?: number; protocol?: string }[] | undefined) ?? [];
  const selector = (spec.selector as Record<string, string> | undefined) ?? {};
  const sel = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  return [
    svc.metadata.name,
    String(spec.type ?? 'ClusterIP'),
    String(spec.clusterIP ?? '<none>'),
    spec.type === 'LoadBalancer' ? '<pending>' : '<none>',
    ports.length ? ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') : '<none>',
    age(svc.metadata.creationTimestamp, now),
    sel || '<none>',
  ];
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name' };
const AGE: Column = { name: 'Age', type: 'string' };

const PRINTERS: Record<string, { columns: Column[]; row: (o: KubeObject, now: number) => unknown[] }> = {
  pods: {
    columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Status', type: 'string' }, { name: 'Restarts', type: 'string' }, AGE,
      { name: 'IP', type: 'string', priority: 1 }, { name: 'Node', type: 'string', priority: 1 },
      { name: 'Nominated Node', type: 'string', priority: 1 }, { name: 'Readiness Gates', type: 'string', priority: 1 }],
    row: podRow,
  },
  nodes: {
    columns: [NAME, { name: 'Status', type: 'string' }, { name: 'Roles', type: 'string' }, AGE, { name: 'Version', type: 'string' },
      { name: 'Internal-IP', type: 'string', priority: 1 }, { name: 'External-IP', type: 'string', priority: 1 },
      { name: 'OS-Image', type: 'string', priority: 1 }, { name: 'Kernel-Version', type: 'string', priority: 1 },
      { name: 'Container-Runtime', type: 'string', priority: 1 }],
    row: nodeRow,
  },
  services: {
    columns: [NAME, { name: 'Type', type: 'string' }, { name: 'Cluster-IP', type: 'string' }, { name: 'External-IP', type: 'string' },
      { name: 'Port(s)', type: 'string' }, AGE, { name: 'Selector', type: 'string', priority: 1 }],
    row: serviceRow,
  },
  namespaces: {
    columns: [NAME, { name: 'Status', type: 'string' }, AGE],
    row: (ns, now) => [ns.metadata.name, String(ns.status?.phase ?? 'Active'), age(ns.metadata.creationTimestamp, now)],
  },
};

/** True when the client asked for server-side printing. */
export const wantsTable = (accept: string | undefined): boolean => /as=Table/.test(accept ?? '');

/** A meta.k8s.io/v1 Table of `objects`, each row carrying the object's metadata as kubectl expects. */
export function toTable(resource: string, objects: KubeObject[], resourceVersion: string): Record<string, unknown> {
  const printer = PRINTERS[resource];
  const now = Date.now();
  const columns = printer?.columns ?? [NAME, AGE];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: printer ? printer.row(o, now) : [o.metadata.name, age(o.metadata.creationTimestamp, now)],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
