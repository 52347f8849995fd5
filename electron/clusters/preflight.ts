// Pre-flight of a create, as the form checks it while the user types and as
// the create itself checks it before running kind: the request's fields,
// Docker running, kind found, the name free, the host ports free (with the
// first free range suggested), enough memory. Each answer names its field and
// carries its fix. Nothing here waits without a bound: the caller hands in
// what was asked of Docker and kind, and port probes are local binds.

import { readFileSync } from 'node:fs';
import {
  CreateClusterRequestSchema,
  NODE_PORT_MAX,
  NODE_PORT_MIN,
  type CheckLevel,
  type ClusterPlan,
  type CreateClusterRequest,
  type PortRange,
  type PreflightAnswer,
  type PreflightCheck,
} from '../../shared/contracts/clusters.ts';
import { FIXES } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { ConfigError, kindConfigFor, planFromConfig } from './config.ts';
import type { KindLocation } from './kind-cli.ts';
import { clusterHostPorts, describeTaken, firstFreeRange, portIsFree, portsOf, takenPorts, type PortProbe } from './ports.ts';

/** What a node needs to run the control plane or a small workload; below it the nodes swap or get OOM-killed. */
export const MEMORY_PER_NODE_BYTES = 1024 ** 3;

export interface PreflightInput {
  snapshot: HealthSnapshot;
  kind: KindLocation;
  /** `kind get clusters`, when it answered (it also sees clusters of another Docker context). */
  kindClusters?: string[];
  /** Docker's MemTotal, when Docker answered. */
  memTotalBytes?: number;
  probe?: PortProbe;
  readFile?: (path: string) => string;
}

export interface PreflightResult {
  answer: PreflightAnswer;
  /** The parsed request, when it parses. */
  request?: CreateClusterRequest;
  plan?: ClusterPlan;
}

const ORDER: Record<CheckLevel, number> = { error: 0, warn: 1, ok: 2 };

export async function preflight(raw: unknown, input: PreflightInput): Promise<PreflightResult> {
  const checks: PreflightCheck[] = [];
  const parsed = CreateClusterRequestSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.join('.') || 'request';
      checks.push({ id: field === 'name' ? 'name' : field.startsWith('config') ? 'config' : field.startsWith('nodePorts') ? 'node-ports' : field.startsWith('ingress') ? 'ingress-ports' : 'request', level: 'error', field, message: `${field}: ${issue.message}` });
    }
  }
  const req = parsed.success ? parsed.data : undefined;
  checks.push(dockerCheck(input.snapshot));
  checks.push(kindCheck(input.kind));
  const name = req?.name ?? (typeof (raw as { name?: unknown } | null)?.name === 'string' ? (raw as { name: string }).name : undefined);
  if (name && (req || !checks.some((c) => c.field === 'name'))) checks.push(nameCheck(name, input));

  const held = clusterHostPorts(input.snapshot);
  const probe = input.probe ?? portIsFree;
  const ingressPorts = [req?.ingress?.http, req?.ingress?.https].filter((p): p is number => p !== undefined);
  const suggested = await firstFreeRange(held, probe, undefined, ingressPorts);
  let plan: ClusterPlan | undefined;
  if (req) {
    try {
      plan = await planFor(req, input, suggested);
      checks.push({ id: 'config', level: 'ok', field: req.config ? 'config' : 'workers', message: describePlan(plan) });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      checks.push({ id: 'config', level: 'error', field: e.field, message: e.message });
    }
    checks.push(...(await portChecks(req, plan, held, probe, suggested)));
    const memory = memoryCheck(plan?.nodes.length ?? req.workers + 1, input);
    if (memory) checks.push(memory);
  }
  checks.sort((a, b) => ORDER[a.level] - ORDER[b.level]);
  const answer: PreflightAnswer = {
    ok: !checks.some((c) => c.level === 'error'),
    checks,
    ...(suggested ? { suggestedNodePorts: suggested } : {}),
    ...(plan ? { plan } : {}),
    ...(input.kind.found ? { kindPath: input.kind.path } : {}),
  };
  return { answer, ...(req ? { request: req } : {}), ...(plan ? { plan } : {}) };
}

function dockerCheck(s: HealthSnapshot): PreflightCheck {
  if (s.docker.state === 'running') return { id: 'docker', level: 'ok', message: `Docker ${s.docker.version ?? ''} is running`.replace('  ', ' ') };
  const fix = s.docker.state === 'no-permission' ? FIXES.dockerPermissionHelp : s.docker.state === 'not-installed' ? FIXES.installDockerHelp : FIXES.startDocker;
  return { id: 'docker', level: 'error', message: `Docker is ${s.docker.state}${s.docker.cause ? `: ${s.docker.cause}` : ''}; kind creates its nodes as Docker containers`, fix: { label: fix.label, fix } };
}

function kindCheck(k: KindLocation): PreflightCheck {
  if (k.found) return { id: 'kind', level: 'ok', message: `kind found: ${k.path}` };
  return { id: 'kind', level: 'error', message: `${k.why}; install kind, or set its path in Settings (kindPath)`, fix: k.install };
}

function nameCheck(name: string, input: PreflightInput): PreflightCheck {
  const known = new Set([...input.snapshot.clusters.map((c) => c.name), ...(input.kindClusters ?? [])]);
  if (!known.has(name)) return { id: 'name', level: 'ok', field: 'name', message: `the name ${name} is free` };
  let n = 2;
  while (known.has(`${name}-${n}`)) n++;
  return { id: 'name', level: 'error', field: 'name', message: `a cluster named ${name} already exists`, fix: { label: `Use ${name}-${n}`, value: `${name}-${n}` } };
}

async function planFor(req: CreateClusterRequest, input: PreflightInput, suggested: PortRange | undefined): Promise<ClusterPlan> {
  if (!req.config) return kindConfigFor(req, req.nodePorts ?? suggested);
  if ('text' in req.config) return planFromConfig(req.name, req.config.text);
  let text: string;
  try {
    text = (input.readFile ?? ((p) => readFileSync(p, 'utf8')))(req.config.path);
  } catch (e) {
    throw new ConfigError('config.path', `cannot read ${req.config.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return planFromConfig(req.name, text, req.config.path);
}

export function describePlan(plan: ClusterPlan): string {
  const workers = plan.nodes.filter((n) => n.role === 'worker').length;
  const cps = plan.nodes.length - workers;
  const nodes = `${cps} control-plane${cps > 1 ? 's' : ''}${workers ? ` and ${workers} worker${workers > 1 ? 's' : ''}` : ''}`;
  const images = [...new Set(plan.nodes.map((n) => n.image).filter(Boolean))];
  const nodePorts = plan.portMappings.filter((m) => m.containerPort >= NODE_PORT_MIN && m.containerPort <= NODE_PORT_MAX);
  const ports = plan.nodePorts ? `${nodePorts.length} NodePort${nodePorts.length > 1 ? 's' : ''} on host ports ${plan.nodePorts.from}-${plan.nodePorts.to}` : 'no NodePorts on the host';
  const others = plan.portMappings.filter((m) => !nodePorts.includes(m));
  const extra = others.length ? `; host ${others.map((m) => `${m.hostPort}→${m.containerPort}`).join(', ')}` : '';
  return `will create ${nodes}${images.length ? ` (${images.join(', ')})` : ''}; ${ports}${extra}`;
}

async function portChecks(req: CreateClusterRequest, plan: ClusterPlan | undefined, held: Map<number, string>, probe: PortProbe, suggested: PortRange | undefined): Promise<PreflightCheck[]> {
  const out: PreflightCheck[] = [];
  const fixRange = suggested ? { label: `Use ${suggested.from}-${suggested.to}`, value: suggested } : undefined;
  if (req.config) {
    if (!plan || plan.portMappings.length === 0) return out;
    const taken = await takenPorts([...new Set(plan.portMappings.map((m) => m.hostPort))], held, probe);
    out.push(taken.length
      ? { id: 'node-ports', level: 'error', field: 'config', message: `host ports of the config are taken: ${describeTaken(taken)}; change them in the config file` }
      : { id: 'node-ports', level: 'ok', field: 'config', message: `the config's ${plan.portMappings.length} host port${plan.portMappings.length > 1 ? 's are' : ' is'} free` });
    return out;
  }
  if (req.nodePorts) {
    const taken = await takenPorts(portsOf(req.nodePorts), held, probe);
    out.push(taken.length
      ? { id: 'node-ports', level: 'error', field: 'nodePorts', message: `host ports ${req.nodePorts.from}-${req.nodePorts.to} are not free: ${describeTaken(taken)}`, ...(fixRange ? { fix: fixRange } : {}) }
      : { id: 'node-ports', level: 'ok', field: 'nodePorts', message: `host ports ${req.nodePorts.from}-${req.nodePorts.to} are free` });
  } else if (suggested) {
    out.push({ id: 'node-ports', level: 'ok', field: 'nodePorts', message: `NodePorts will be published on host ports ${suggested.from}-${suggested.to} (the first free range)` });
  } else {
    out.push({ id: 'node-ports', level: 'warn', field: 'nodePorts', message: 'no free range of NodePorts on the host: the cluster gets none, and task ports will not reach the host' });
  }
  for (const key of ['http', 'https'] as const) {
    const port = req.ingress?.[key];
    if (port === undefined) continue;
    const field = `ingress.${key}`;
    const inRange = req.nodePorts ?? suggested;
    const clash = inRange && port >= inRange.from && port <= inRange.to;
    const taken = clash ? [{ port }] : await takenPorts([port], held, probe);
    if (taken.length === 0) {
      out.push({ id: 'ingress-ports', level: 'ok', field, message: `host port ${port} (ingress ${key.toUpperCase()}) is free` });
      continue;
    }
    let free = port + 1;
    while (free < 65535 && ((inRange && free >= inRange.from && free <= inRange.to) || held.has(free) || !(await probe(free)))) free++;
    out.push({
      id: 'ingress-ports',
      level: 'error',
      field,
      message: clash ? `host port ${port} is in the NodePort range` : `host port ${port} (ingress ${key.toUpperCase()}) is taken: ${describeTaken(taken)}`,
      fix: { label: `Use ${free}`, value: free },
    });
  }
  return out;
}

function memoryCheck(nodes: number, input: PreflightInput): PreflightCheck | undefined {
  if (input.memTotalBytes === undefined) return undefined;
  const existing = input.snapshot.clusters.flatMap((c) => c.nodes).filter((n) => n.state === 'running').length;
  const need = (existing + nodes) * MEMORY_PER_NODE_BYTES;
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  if (need <= input.memTotalBytes) return { id: 'memory', level: 'ok', message: `Docker has ${gib(input.memTotalBytes)} for ${existing + nodes} node${existing + nodes > 1 ? 's' : ''}` };
  return {
    id: 'memory',
    level: 'warn',
    field: 'workers',
    message: `Docker has ${gib(input.memTotalBytes)}; ${existing + nodes} running nodes want about ${gib(need)} (${gib(MEMORY_PER_NODE_BYTES)} each): nodes may be slow or killed`,
    fix: { label: 'Give Docker more memory, or use fewer workers' },
  };
}
