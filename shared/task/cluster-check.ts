// The cluster-aware half of validation, pure: it reads only a HealthSnapshot
// and its age (design principle 3: validation reads; probes refresh). It picks
// the target context, says why that target cannot run tasks now (root cause
// first, with the fix that helps), checks cpus and memory against the nodes,
// and plans how each task port will be reached from this machine.
//
// Issue paths: problems with the target's health are on `resources` (the fault
// table's "error on resources with cause"), whatever the task wrote; problems
// with a value the task wrote are on that field (`resources.infra` for an
// unknown context, `resources.cpus`, `resources.ports`).

import { KIND_CONTEXT_PREFIX } from '../constants.ts';
import type { ClusterHealth, ContextHealth, HealthSnapshot, NodeHealth, PortMapping } from '../snapshot.ts';
import { editDistance } from './edit-distance.ts';
import { issue, listWords, quote } from './issues.ts';
import type { IssueFix, SourcePositions, ValidationIssue } from './issues.ts';
import { NODE_PORT_MAX, NODE_PORT_MIN, describePorts } from './ports.ts';
import type { TaskSpec } from './schema.ts';

export interface ClusterCheckOptions {
  /** How old the snapshot is now. */
  snapshotAgeMs: number;
  /** Older than this, the snapshot says nothing: the answer is "cluster state unknown". */
  maxAgeMs: number;
  /** Mapped NodePorts already taken by other tasks on the target. */
  usedNodePorts?: readonly number[];
  /** parseTask's positions, so issues point into the text. */
  positions?: SourcePositions;
  /** The Service the launcher will create, for `kubectl port-forward svc/NAME` hints. Default: the task's name. */
  serviceName?: string;
}

export interface TaskTarget {
  context: string;
  /** The KinD cluster's name (`dev` for context `kind-dev`), when the target is a KinD cluster. */
  cluster?: string;
}

export interface PortPlan {
  /** The task's port: the Service port and the container's target port. */
  port: number;
  /** `yes`: published to this machine (see url); `no`: only through `kubectl port-forward`; `unknown`: not a KinD cluster, or its state is unknown. */
  reachable: 'yes' | 'no' | 'unknown';
  /** The NodePort to ask for: a mapped one on KinD. Absent: Kubernetes picks one. */
  nodePort?: number;
  hostIp?: string;
  hostPort?: number;
  /** `http://127.0.0.1:8080` when reachable. */
  url?: string;
  /** One sentence: how this port is reached, or why it is not. */
  how: string;
}

export interface ClusterCheckResult {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  target?: TaskTarget;
  ports: PortPlan[];
}

/** Fix ids, as shared/problems.ts names them. `refresh-status` asks the monitor to look again. */
const FIX = {
  startDocker: { id: 'start-docker', label: 'Start Docker' },
  restartDocker: { id: 'restart-docker', label: 'Restart Docker' },
  dockerPermissionHelp: { id: 'docker-permission-help', label: 'How to get access to Docker' },
  installDockerHelp: { id: 'install-docker-help', label: 'How to install Docker' },
  startCluster: (cluster: string): IssueFix => ({ id: `start-cluster:${cluster}`, label: `Start cluster ${cluster}` }),
  restartCluster: (cluster: string): IssueFix => ({ id: `restart-cluster:${cluster}`, label: `Restart cluster ${cluster}` }),
  repairContext: (context: string): IssueFix => ({ id: `repair-context:${context}`, label: `Repair context ${context}` }),
  refresh: { id: 'refresh-status', label: 'Check again' },
} as const;

interface Target {
  context: string;
  contextHealth?: ContextHealth;
  /** Set when the target is a KinD cluster (by its container, or by its `kind-` context name). */
  kind?: { name: string; health?: ClusterHealth };
}

export function checkAgainstSnapshot(task: TaskSpec, snap: HealthSnapshot, opts: ClusterCheckOptions): ClusterCheckResult {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const at = (path: string) => opts.positions?.[path];
  const error = (path: string, message: string, fix?: IssueFix) => errors.push(issue(path, message, at(path), fix));
  const warn = (path: string, message: string) => warnings.push(issue(path, message, at(path)));

  const found = findTarget(task, snap);
  const target = 'error' in found ? undefined : found;
  const result = (ports: PortPlan[]): ClusterCheckResult => {
    const out: ClusterCheckResult = { errors, warnings, ports };
    if (target) out.target = { context: target.context, ...(target.kind && { cluster: target.kind.name }) };
    return out;
  };

  if (opts.snapshotAgeMs > opts.maxAgeMs) {
    const subject = target ? `, so ${target.context} cannot be confirmed ready` : '';
    error('resources', `cluster state unknown (last checked ${formatAge(opts.snapshotAgeMs)} ago)${subject}`, FIX.refresh);
    return result([]);
  }
  if ('error' in found) {
    error(found.path, found.error, found.fix);
    return result([]);
  }

  const t = found;
  const blocked = t.kind ? kindTargetProblem(t.context, t.kind, t.contextHealth, snap) : contextProblem(t.context, t.contextHealth);
  if (blocked?.severity === 'error') error('resources', blocked.message, blocked.fix);
  else if (blocked) warn('resources', blocked.message);

  if (t.kind?.health && blocked?.severity !== 'error') {
    for (const e of capacityProblems(task, t.context, t.kind.health)) error(e.path, e.message);
  }

  const plan = planPorts(task, t, new Set(opts.usedNodePorts ?? []), opts.serviceName ?? task.name);
  if (plan.warning && blocked?.severity !== 'error') warn('resources.ports', plan.warning);
  return result(plan.ports);
}

// ---------------------------------------------------------------------------
// Which context

type FindTarget = Target | { error: string; path: string; fix?: IssueFix };

/**
 * `infra: k8s/CTX` names it. Otherwise: the only running KinD cluster, else the
 * current context, else the only KinD cluster there is (so a lone cluster with
 * Docker down still reads "Docker is not running, so cluster kind-dev…").
 */
function findTarget(task: TaskSpec, snap: HealthSnapshot): FindTarget {
  const named = task.resources.context;
  if (named !== undefined) {
    const t = describeTarget(named, snap);
    if (t.contextHealth === undefined && t.kind?.health === undefined) {
      return { path: 'resources.infra', error: unknownContextMessage(named, snap) };
    }
    return t;
  }
  const running = snap.clusters.filter((c) => c.state === 'running');
  if (running.length === 1 && running[0]) return describeTarget(running[0].context, snap);
  const current = snap.contexts.find((c) => c.current);
  if (current) return describeTarget(current.name, snap);
  if (snap.clusters.length === 1 && snap.clusters[0]) return describeTarget(snap.clusters[0].context, snap);

  const why =
    snap.docker.state !== 'running'
      ? `Docker is not running and your kubeconfig has no current context`
      : running.length > 1
        ? `${running.length} KinD clusters run (${listWords(running.map((c) => c.context))}) and your kubeconfig has no current context`
        : `no KinD cluster runs and your kubeconfig has no current context`;
  const fix = snap.docker.state === 'stopped' ? FIX.startDocker : undefined;
  return { path: 'resources', error: `no cluster to launch on: ${why}; ${knownContextsHint(snap)}`, ...(fix && { fix }) };
}

function describeTarget(context: string, snap: HealthSnapshot): Target {
  const contextHealth = snap.contexts.find((c) => c.name === context);
  const health = snap.clusters.find((c) => c.context === context);
  const t: Target = { context };
  if (contextHealth) t.contextHealth = contextHealth;
  if (health) t.kind = { name: health.name, health };
  else if (context.startsWith(KIND_CONTEXT_PREFIX)) t.kind = { name: context.slice(KIND_CONTEXT_PREFIX.length) };
  return t;
}

function knownContexts(snap: HealthSnapshot): string[] {
  return [...new Set([...snap.contexts.map((c) => c.name), ...snap.clusters.map((c) => c.context)])];
}

function knownContextsHint(snap: HealthSnapshot): string {
  const known = knownContexts(snap);
  return known.length === 0
    ? 'there are no contexts in your kubeconfig'
    : `write infra: k8s/CONTEXT with one of ${listWords(known)}`;
}

function unknownContextMessage(named: string, snap: HealthSnapshot): string {
  const known = knownContexts(snap);
  if (known.length === 0) return `there is no context ${quote(named)}: your kubeconfig has no contexts, and no KinD cluster runs`;
  const near =
    known.find((k) => k === `${KIND_CONTEXT_PREFIX}${named}`) ??
    known.find((k) => editDistance(k.toLowerCase(), named.toLowerCase()) <= 2);
  const mean = near !== undefined ? `did you mean k8s/${near}? ` : '';
  return `there is no context ${quote(named)}: ${mean}known contexts are ${listWords(known)}`;
}

// ---------------------------------------------------------------------------
// Can the target run tasks now

interface TargetProblem {
  severity: 'error' | 'warn';
  message: string;
  fix?: IssueFix;
}

const problem = (message: string, fix?: IssueFix): TargetProblem => ({ severity: 'error', message, ...(fix && { fix }) });
const withCause = (message: string, cause: string | undefined): string => (cause ? `${message} (${cause})` : message);

/** Root cause first: Docker, then the cluster's containers and API, then its kubeconfig context. */
function kindTargetProblem(
  context: string,
  kind: NonNullable<Target['kind']>,
  contextHealth: ContextHealth | undefined,
  snap: HealthSnapshot,
): TargetProblem | undefined {
  const docker = snap.docker;
  const cannot = `so cluster ${context} cannot run tasks`;
  switch (docker.state) {
    case 'running':
      break;
    case 'stopped':
      return problem(`Docker is not running, ${cannot}`, FIX.startDocker);
    case 'unresponsive':
      return problem(withCause(`Docker does not answer, ${cannot}`, docker.cause), FIX.restartDocker);
    case 'no-permission':
      return problem(withCause(`Kindtray may not use Docker, ${cannot}`, docker.cause), FIX.dockerPermissionHelp);
    case 'not-installed':
      return problem(`Docker is not installed, ${cannot}`, FIX.installDockerHelp);
  }

  const cluster = kind.health;
  if (cluster === undefined) {
    return problem(`cluster ${context} does not exist: Docker has no KinD cluster ${quote(kind.name)} (your kubeconfig still has its context)`);
  }
  switch (cluster.state) {
    case 'stopped':
      return problem(`cluster ${context} is stopped`, FIX.startCluster(cluster.name));
    case 'unreachable':
      return problem(withCause(`cluster ${context} does not answer`, cluster.cause), FIX.restartCluster(cluster.name));
    case 'unknown':
      return problem(withCause(`cluster ${context}: state unknown`, cluster.cause), FIX.refresh);
    case 'degraded':
    case 'running':
      break;
  }

  if (contextHealth === undefined) {
    return problem(`cluster ${context} has no context ${quote(context)} in your kubeconfig`, FIX.repairContext(context));
  }
  const ctxProblem = contextProblem(context, contextHealth, cluster.name);
  if (ctxProblem) return ctxProblem;
  if (cluster.state === 'degraded') {
    return { severity: 'warn', message: withCause(`cluster ${context} is degraded: not every node is Ready`, cluster.cause) };
  }
  return undefined;
}

function contextProblem(context: string, health: ContextHealth | undefined, kindCluster?: string): TargetProblem | undefined {
  if (health === undefined) return undefined;
  switch (health.state) {
    case 'ok':
      return undefined;
    case 'stale-endpoint': {
      const where = health.server && health.expectedServer ? `: it points at ${health.server}, the cluster listens at ${health.expectedServer}` : '';
      return problem(`context ${context} has a stale API address${where}`, FIX.repairContext(context));
    }
    case 'dangling':
      return problem(withCause(`context ${context} names a cluster or user your kubeconfig does not define`, health.cause));
    case 'unreachable': {
      const fix = kindCluster !== undefined ? FIX.restartCluster(kindCluster) : undefined;
      return problem(withCause(`cluster ${context} does not answer`, health.cause), fix);
    }
    case 'auth-failed':
      return problem(withCause(`cannot sign in to context ${context}`, health.cause));
    case 'unknown':
      return problem(withCause(`context ${context}: state unknown`, health.cause), FIX.refresh);
  }
}

// ---------------------------------------------------------------------------
// cpus and memory

const GIB = 1024 ** 3;
const formatGiB = (bytes: number): string => `${Math.round((bytes / GIB) * 10) / 10} GiB`;

function capacityProblems(task: TaskSpec, context: string, cluster: ClusterHealth): { path: string; message: string }[] {
  const { cpus, memory } = task.resources;
  if (cpus === undefined && memory === undefined) return [];
  const ready = cluster.nodes.filter((n) => n.ready === true);
  const unknown = cluster.nodes.filter((n) => n.ready === undefined && n.state === 'running');
  const nodes = ready.length > 0 ? ready : unknown;
  if (nodes.length === 0) {
    return cluster.nodes.length === 0 ? [] : [{ path: 'resources', message: `no node of cluster ${context} is Ready` }];
  }
  const out: { path: string; message: string }[] = [];
  const largest = (pick: (n: NodeHealth) => number | undefined): NodeHealth | undefined =>
    nodes.filter((n) => pick(n) !== undefined).sort((a, b) => (pick(b) ?? 0) - (pick(a) ?? 0))[0];

  const cpuFits = (n: NodeHealth) => cpus === undefined || n.cpus === undefined || n.cpus >= cpus.amount;
  const memFits = (n: NodeHealth) => memory === undefined || n.memoryBytes === undefined || n.memoryBytes >= memory.amount * GIB;

  const mostCpus = largest((n) => n.cpus);
  if (cpus !== undefined && mostCpus?.cpus !== undefined && !cpuFits(mostCpus)) {
    out.push({
      path: 'resources.cpus',
      message: `${cpus.amount} CPUs do not fit cluster ${context}: its largest Ready node, ${mostCpus.name}, has ${mostCpus.cpus}`,
    });
  }
  const mostMemory = largest((n) => n.memoryBytes);
  if (memory !== undefined && mostMemory?.memoryBytes !== undefined && !memFits(mostMemory)) {
    out.push({
      path: 'resources.memory',
      message: `${memory.amount} GiB of memory does not fit cluster ${context}: its largest Ready node, ${mostMemory.name}, has ${formatGiB(mostMemory.memoryBytes)}`,
    });
  }
  if (out.length === 0 && cpus !== undefined && memory !== undefined && !nodes.some((n) => cpuFits(n) && memFits(n))) {
    out.push({
      path: 'resources',
      message: `no single Ready node of cluster ${context} has both ${cpus.amount} CPUs and ${memory.amount} GiB of memory`,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Ports

/**
 * On KinD a NodePort reaches this machine only where a node container publishes
 * it (kind `extraPortMappings`). Each task port gets a free published NodePort,
 * preferring one whose host port is the task's own port (8080 → 127.0.0.1:8080);
 * ports left over are reached with `kubectl port-forward`.
 */
function planPorts(task: TaskSpec, t: Target, used: ReadonlySet<number>, serviceName: string | undefined): { ports: PortPlan[]; warning?: string } {
  const ports = task.resources.ports;
  if (ports.length === 0) return { ports: [] };
  const svc = `svc/${serviceName ?? '<task name>'}`;
  const forward = (list: readonly number[]) => `kubectl --context ${t.context} port-forward ${svc} ${list.join(' ')}`;

  if (t.kind === undefined) {
    return {
      ports: ports.map((port) => ({
        port,
        reachable: 'unknown',
        how: `a NodePort on context ${t.context}, reachable from here only if its nodes are; \`${forward([port])}\` always works`,
      })),
      warning: `context ${t.context} is not a KinD cluster: ${portsWord(ports)} become NodePorts, and Kindtray cannot tell whether they are reachable from here; \`${forward(ports)}\` always works`,
    };
  }
  const cluster = t.kind.health;
  if (cluster === undefined) {
    return { ports: ports.map((port) => ({ port, reachable: 'unknown', how: `cluster ${t.context} is not known to Docker now` })) };
  }

  const published = publishedNodePorts(cluster.portMappings);
  const free = published.filter((m) => !used.has(m.containerPort));
  const chosen = new Map<number, PortMapping>();
  const left = [...free];
  for (const port of ports) {
    const i = left.findIndex((m) => m.hostPort === port);
    const [same] = i >= 0 ? left.splice(i, 1) : [];
    if (same !== undefined) chosen.set(port, same);
  }
  for (const port of ports) {
    if (chosen.has(port)) continue;
    const next = left.shift();
    if (next === undefined) break;
    chosen.set(port, next);
  }

  const plans: PortPlan[] = ports.map((port) => {
    const m = chosen.get(port);
    if (m === undefined) {
      return { port, reachable: 'no', how: `no free published NodePort on cluster ${t.context}: reach it with \`${forward([port])}\`` };
    }
    const host = urlHost(m.hostIp);
    return {
      port,
      reachable: 'yes',
      nodePort: m.containerPort,
      hostIp: m.hostIp,
      hostPort: m.hostPort,
      url: `http://${host}:${m.hostPort}`,
      how: `NodePort ${m.containerPort}, which cluster ${t.context} publishes on ${host}:${m.hostPort}`,
    };
  });

  const unreachable = plans.filter((p) => p.reachable === 'no').map((p) => p.port);
  if (unreachable.length === 0) return { ports: plans };
  const supply =
    published.length === 0
      ? `cluster ${t.context} publishes no NodePorts (kind extraPortMappings in ${NODE_PORT_MIN}-${NODE_PORT_MAX})`
      : `cluster ${t.context} publishes ${published.length} NodePort${published.length === 1 ? '' : 's'}` +
        (free.length < published.length ? `, ${free.length} of them free` : '') +
        `, and the task asks for ${ports.length}`;
  return {
    ports: plans,
    warning: `${portsWord(unreachable)} will not be reachable from this machine: ${supply}; reach ${unreachable.length === 1 ? 'it' : 'them'} with \`${forward(unreachable)}\``,
  };
}

const portsWord = (ports: readonly number[]): string => `${ports.length === 1 ? 'port' : 'ports'} ${describePorts(ports)}`;

/** TCP mappings of NodePorts, one per NodePort (preferring the loopback and IPv4 addresses), in NodePort order. */
function publishedNodePorts(mappings: readonly PortMapping[]): PortMapping[] {
  const best = new Map<number, PortMapping>();
  for (const m of mappings) {
    if (m.protocol !== 'tcp' || m.containerPort < NODE_PORT_MIN || m.containerPort > NODE_PORT_MAX) continue;
    const had = best.get(m.containerPort);
    if (had === undefined || hostRank(m.hostIp) < hostRank(had.hostIp)) best.set(m.containerPort, m);
  }
  return [...best.values()].sort((a, b) => a.containerPort - b.containerPort);
}

function hostRank(ip: string): number {
  if (ip === '127.0.0.1') return 0;
  if (ip === '0.0.0.0' || ip === '') return 1;
  if (!ip.includes(':')) return 2;
  return ip === '::1' || ip === '::' ? 3 : 4;
}

/** The address to put in a URL: a wildcard bind is reached through loopback. */
function urlHost(ip: string): string {
  if (ip === '' || ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::') return '[::1]';
  return ip.includes(':') ? `[${ip}]` : ip;
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
