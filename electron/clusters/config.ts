// kind's cluster config (kind.x-k8s.io/v1alpha4), both ways: written from a
// create request (a control-plane and N workers, the node image, NodePorts
// published on the control-plane as `sky local up` does: the API server's
// NodePort range cut to 30000-30099, each published on a host port of the
// chosen range, in order; the ingress ports as kind's ingress guide does), or
// read from the user's own file to say what it will create. Errors name the field.

import { parseDocument, stringify } from 'yaml';
import { NODE_PORT_MAX, NODE_PORT_MIN, type ClusterPlan, type CreateClusterRequest, type PortRange } from '../../shared/contracts/clusters.ts';

export const KIND_CONFIG_API = 'kind.x-k8s.io/v1alpha4';

/** Published on loopback only: a NodePort of a desktop cluster is not the network's business. */
const LISTEN = '127.0.0.1';

type Mapping = ClusterPlan['portMappings'][number];

const isNodePort = (p: number) => p >= NODE_PORT_MIN && p <= NODE_PORT_MAX;

/** The mappings a request asks for: NodePort 30000 + i on host port from + i, then ingress 80/443. */
export function requestedMappings(req: Pick<CreateClusterRequest, 'ingress'>, nodePorts: PortRange | undefined): Mapping[] {
  const out: Mapping[] = [];
  if (nodePorts) for (let i = 0; i <= nodePorts.to - nodePorts.from; i++) out.push({ hostPort: nodePorts.from + i, containerPort: NODE_PORT_MIN + i, protocol: 'TCP' });
  if (req.ingress?.http) out.push({ hostPort: req.ingress.http, containerPort: 80, protocol: 'TCP' });
  if (req.ingress?.https) out.push({ hostPort: req.ingress.https, containerPort: 443, protocol: 'TCP' });
  return out;
}

/** The kind config for a request without a config file. */
export function kindConfigFor(req: CreateClusterRequest, nodePorts: PortRange | undefined): ClusterPlan {
  const mappings = requestedMappings(req, nodePorts);
  const image = req.image ? { image: req.image } : {};
  const ingress = req.ingress?.http !== undefined || req.ingress?.https !== undefined;
  const controlPlane = {
    role: 'control-plane',
    ...image,
    // kind's ingress guide: the ingress controller is scheduled on the node labelled ingress-ready.
    ...(ingress
      ? { kubeadmConfigPatches: ['kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: "ingress-ready=true"\n'] }
      : {}),
    ...(mappings.length > 0 ? { extraPortMappings: mappings.map((m) => ({ containerPort: m.containerPort, hostPort: m.hostPort, listenAddress: LISTEN, protocol: m.protocol })) } : {}),
  };
  const workers = Array.from({ length: req.workers }, () => ({ role: 'worker', ...image }));
  // Kubernetes gives out only the NodePorts that reach the host (sky local up's service-node-port-range).
  const portRange = nodePorts
    ? { kubeadmConfigPatches: [`kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    service-node-port-range: "${NODE_PORT_MIN}-${NODE_PORT_MIN + nodePorts.to - nodePorts.from}"\n`] }
    : {};
  const config = { kind: 'Cluster', apiVersion: KIND_CONFIG_API, name: req.name, ...portRange, nodes: [controlPlane, ...workers] };
  return {
    name: req.name,
    nodes: [{ role: 'control-plane', ...image }, ...workers.map(() => ({ role: 'worker' as const, ...image }))],
    portMappings: mappings,
    ...(nodePorts ? { nodePorts } : {}),
    configText: stringify(config, { lineWidth: 0 }),
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a user's kind config will create (nodes, published ports); a ConfigError names what is wrong. */
export function planFromConfig(name: string, text: string, source = 'config'): ClusterPlan {
  const doc = parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw new ConfigError('config', `${source}: not YAML: ${first.message.split('\n')[0] ?? ''}`);
  const root: unknown = doc.toJS();
  if (!isRecord(root)) throw new ConfigError('config', `${source}: a kind config is a mapping (kind: Cluster, apiVersion: ${KIND_CONFIG_API}, nodes: ...)`);
  if (root.kind !== 'Cluster') throw new ConfigError('config.kind', `${source}: kind must be "Cluster", not ${JSON.stringify(root.kind)}`);
  if (typeof root.apiVersion !== 'string' || !root.apiVersion.startsWith('kind.x-k8s.io/')) {
    throw new ConfigError('config.apiVersion', `${source}: apiVersion must be ${KIND_CONFIG_API}, not ${JSON.stringify(root.apiVersion)}`);
  }
  const rawNodes = root.nodes ?? [{ role: 'control-plane' }];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) throw new ConfigError('config.nodes', `${source}: nodes must be a list of nodes`);
  const nodes: ClusterPlan['nodes'] = [];
  const portMappings: Mapping[] = [];
  rawNodes.forEach((n: unknown, i) => {
    const at = `config.nodes[${i}]`;
    if (!isRecord(n)) throw new ConfigError(at, `${source}: ${at} must be a mapping with a role`);
    const role = n.role ?? 'control-plane';
    if (role !== 'control-plane' && role !== 'worker') throw new ConfigError(`${at}.role`, `${source}: ${at}.role must be control-plane or worker, not ${JSON.stringify(role)}`);
    nodes.push({ role, ...(typeof n.image === 'string' ? { image: n.image } : {}) });
    const maps = n.extraPortMappings ?? [];
    if (!Array.isArray(maps)) throw new ConfigError(`${at}.extraPortMappings`, `${source}: ${at}.extraPortMappings must be a list`);
    maps.forEach((m: unknown, j) => {
      const mat = `${at}.extraPortMappings[${j}]`;
      if (!isRecord(m) || !Number.isInteger(m.containerPort)) throw new ConfigError(mat, `${source}: ${mat} needs a containerPort`);
      const hostPort = Number.isInteger(m.hostPort) ? (m.hostPort as number) : 0;
      const protocol = typeof m.protocol === 'string' ? m.protocol.toUpperCase() : 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') throw new ConfigError(`${mat}.protocol`, `${source}: ${mat}.protocol must be TCP, UDP or SCTP`);
      // hostPort 0 (or none): Docker picks one; nothing to check beforehand.
      if (hostPort > 0) portMappings.push({ hostPort, containerPort: m.containerPort as number, protocol });
    });
  });
  if (!nodes.some((n) => n.role === 'control-plane')) throw new ConfigError('config.nodes', `${source}: nodes need at least one control-plane`);
  const nodePorts = nodePortSpan(portMappings);
  return { name, nodes, portMappings, ...(nodePorts ? { nodePorts } : {}), configText: text };
}

/** The host ports that publish NodePorts (container ports in 30000-32767), as one span. */
function nodePortSpan(maps: Mapping[]): PortRange | undefined {
  const ports = maps.filter((m) => isNodePort(m.containerPort)).map((m) => m.hostPort);
  if (ports.length === 0) return undefined;
  return { from: Math.min(...ports), to: Math.max(...ports) };
}
