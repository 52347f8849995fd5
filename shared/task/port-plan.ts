// How each task port will be reached from this machine. On KinD a NodePort is
// reachable only where a node container publishes it; other ports are reached
// with `kubectl port-forward`.

import type { PortMapping } from '../snapshot.ts';
import type { Target } from './cluster-target.ts';
import { NODE_PORT_MAX, NODE_PORT_MIN, describePorts } from './ports.ts';
import type { TaskSpec } from './schema.ts';

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

/**
 * On KinD a NodePort reaches this machine only where a node container publishes
 * it (kind `extraPortMappings`). Each task port gets a free published NodePort,
 * preferring one whose host port is the task's own port (8080 → 127.0.0.1:8080);
 * ports left over are reached with `kubectl port-forward`.
 */
export function planPorts(task: TaskSpec, t: Target, used: ReadonlySet<number>, serviceName: string | undefined): { ports: PortPlan[]; warning?: string } {
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
