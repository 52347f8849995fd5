// The create-cluster form as plain data: the values as typed (text, so a half
// typed number is not lost), the request they make, what is wrong with them
// before any server is asked, and the server's pre-flight checks sorted to the
// fields they are about. The page (pages/ClustersCreate.tsx) only renders this.

import {
  ClusterNameSchema,
  NODE_PORT_RANGE_SIZE,
  type CreateClusterInput,
  type PortRange,
  type PreflightCheck,
} from '../../../shared/contracts/clusters.ts';

export type CreateMode = 'fields' | 'config';

export interface CreateFormValues {
  /** `fields`: the form's own fields; `config`: a kind config file says everything but the name. */
  mode: CreateMode;
  name: string;
  workers: string;
  /** Node image, e.g. `kindest/node:v1.31.0` (its tag is the Kubernetes version); empty: kind's default. */
  image: string;
  /** The host ports that publish NodePorts 30000 onwards, one each; empty: the first free hundred (the server suggests it). */
  nodePortsFrom: string;
  nodePortsTo: string;
  ingressHttp: string;
  ingressHttps: string;
  configText: string;
  makeCurrent: boolean;
}

/** A problem the form finds by itself, at its field (`name`, `workers`, `nodePorts`, `ingress.http`, ...). */
export interface FieldIssue {
  field: string;
  message: string;
}

export const MAX_WORKERS = 10;

/** The first name of `kind`, `kind-2`, `kind-3`, ... no cluster has yet (kind's own default name is `kind`). */
export function freeName(taken: readonly string[]): string {
  const used = new Set(taken);
  if (!used.has('kind')) return 'kind';
  for (let i = 2; ; i++) if (!used.has(`kind-${i}`)) return `kind-${i}`;
}

export function defaultForm(takenNames: readonly string[] = []): CreateFormValues {
  return {
    mode: 'fields',
    name: freeName(takenNames),
    workers: '0',
    image: '',
    nodePortsFrom: '',
    nodePortsTo: '',
    ingressHttp: '',
    ingressHttps: '',
    configText: '',
    makeCurrent: true,
  };
}

/** Whole numbers only: "12" is 12, "1.5", "12a" and "" are not numbers. */
function wholeNumber(text: string): number | undefined {
  const t = text.trim();
  return /^\d{1,6}$/.test(t) ? Number(t) : undefined;
}

/** Host ports a user may choose (below 1024 needs privileges). */
export const HOST_PORT_MIN = 1024;
export const HOST_PORT_MAX = 65535;

/** The range the user typed: "from" alone means NODE_PORT_RANGE_SIZE ports from there. */
export function typedRange(v: Pick<CreateFormValues, 'nodePortsFrom' | 'nodePortsTo'>): PortRange | undefined {
  const from = wholeNumber(v.nodePortsFrom);
  if (from === undefined) return undefined;
  const to = wholeNumber(v.nodePortsTo) ?? Math.min(HOST_PORT_MAX, from + NODE_PORT_RANGE_SIZE - 1);
  return { from, to };
}

/** The request these values make, and the problems the form sees without asking anyone. */
export function toRequest(v: CreateFormValues): { request: CreateClusterInput; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const name = v.name.trim();
  const named = ClusterNameSchema.safeParse(name);
  if (!named.success) issues.push({ field: 'name', message: named.error.issues[0]?.message ?? 'not a cluster name' });
  const request: CreateClusterInput = { name, makeCurrent: v.makeCurrent };

  if (v.mode === 'config') {
    if (v.configText.trim() === '') issues.push({ field: 'config', message: 'paste a kind config (kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4)' });
    else request.config = { text: v.configText };
    return { request, issues };
  }

  const workers = wholeNumber(v.workers === '' ? '0' : v.workers);
  if (workers === undefined || workers > MAX_WORKERS) issues.push({ field: 'workers', message: `a whole number from 0 to ${MAX_WORKERS}` });
  else request.workers = workers;

  if (v.image.trim() !== '') {
    const image = v.image.trim();
    if (/\s/.test(image)) issues.push({ field: 'image', message: 'an image reference has no spaces (kindest/node:v1.31.0)' });
    else request.image = image;
  }

  if (v.nodePortsFrom.trim() !== '' || v.nodePortsTo.trim() !== '') {
    const range = typedRange(v);
    if (!range || (v.nodePortsTo.trim() !== '' && wholeNumber(v.nodePortsTo) === undefined)) {
      issues.push({ field: 'nodePorts', message: `two port numbers, from ${HOST_PORT_MIN} to ${HOST_PORT_MAX}` });
    } else if (range.from < HOST_PORT_MIN || range.to > HOST_PORT_MAX) {
      issues.push({ field: 'nodePorts', message: `host ports from ${HOST_PORT_MIN} to ${HOST_PORT_MAX} (lower ones need privileges)` });
    } else if (range.from > range.to) {
      issues.push({ field: 'nodePorts', message: 'the range ends before it starts' });
    } else {
      request.nodePorts = range;
    }
  }

  const ingress: { http?: number; https?: number } = {};
  for (const [key, text] of [['http', v.ingressHttp], ['https', v.ingressHttps]] as const) {
    if (text.trim() === '') continue;
    const p = wholeNumber(text);
    if (p === undefined || p < 1 || p > 65535) issues.push({ field: `ingress.${key}`, message: 'a port from 1 to 65535' });
    else ingress[key] = p;
  }
  if (ingress.http !== undefined && ingress.http === ingress.https) issues.push({ field: 'ingress.https', message: 'HTTP and HTTPS need two different host ports' });
  if (ingress.http !== undefined || ingress.https !== undefined) request.ingress = ingress;
  return { request, issues };
}

/** A field's own checks (errors and warnings), and those about no field, for the panel. */
export function checksFor(checks: readonly PreflightCheck[], field: string): PreflightCheck[] {
  return checks.filter((c) => c.level !== 'ok' && (c.field === field || (field === 'nodePorts' && c.id === 'node-ports' && !c.field)));
}

/** Whether Create may be pressed: the form is complete and no check is an error. */
export function createGate(issues: readonly FieldIssue[], checks: readonly PreflightCheck[] | undefined, busy: boolean): { enabled: boolean; reason?: string } {
  if (busy) return { enabled: false, reason: 'Creating…' };
  const first = issues[0];
  if (first) return { enabled: false, reason: `${first.field}: ${first.message}` };
  if (!checks) return { enabled: false, reason: 'Checking…' };
  const error = checks.find((c) => c.level === 'error');
  if (error) return { enabled: false, reason: error.message };
  return { enabled: true };
}

/** The form after applying a check's fix value to its field (a free range, a free port, a free name). */
export function withFixValue(v: CreateFormValues, field: string, value: unknown): CreateFormValues {
  if (field === 'nodePorts' && typeof value === 'object' && value !== null) {
    const r = value as Partial<PortRange>;
    if (typeof r.from === 'number' && typeof r.to === 'number') return { ...v, nodePortsFrom: String(r.from), nodePortsTo: String(r.to) };
  }
  if (field === 'name' && typeof value === 'string') return { ...v, name: value };
  if (field === 'ingress.http' && typeof value === 'number') return { ...v, ingressHttp: String(value) };
  if (field === 'ingress.https' && typeof value === 'number') return { ...v, ingressHttps: String(value) };
  if (field === 'workers' && typeof value === 'number') return { ...v, workers: String(value) };
  return v;
}
