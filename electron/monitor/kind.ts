// KinD clusters as Docker shows them: node containers grouped by their cluster
// label, the API's published port, and the extra port mappings. Pure; the
// Kubernetes side of a cluster's health is merged in by the monitor.

import { KIND_API_CONTAINER_PORT, kindContextName } from '../../shared/constants.ts';
import type { NodeHealth, PortMapping } from '../../shared/snapshot.ts';
import type { KindContainer } from './docker.ts';

export interface KindClusterView {
  name: string;
  context: string;
  nodes: NodeHealth[];
  /** True when every node container is running. */
  allRunning: boolean;
  controlPlaneRunning: boolean;
  /** The host port Docker publishes for the control plane's 6443, when it runs. */
  apiHostPort?: number;
  apiEndpoint?: string;
  portMappings: PortMapping[];
}

/** 0.0.0.0 and :: publish on every interface; the loopback address is the one to dial. */
const dialableHost = (ip: string | undefined): string => (!ip || ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip);

const asProtocol = (t: string): PortMapping['protocol'] => (t === 'udp' || t === 'sctp' ? t : 'tcp');

export function kindClusters(containers: KindContainer[]): KindClusterView[] {
  const byCluster = new Map<string, KindContainer[]>();
  for (const c of containers) byCluster.set(c.cluster, [...(byCluster.get(c.cluster) ?? []), c]);
  return [...byCluster.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, nodes]) => {
      const controlPlanes = nodes.filter((n) => n.role === 'control-plane');
      const api = controlPlanes
        .flatMap((n) => n.ports)
        .find((p) => p.privatePort === KIND_API_CONTAINER_PORT && p.publicPort !== undefined && p.type === 'tcp');
      const portMappings: PortMapping[] = [];
      const seen = new Set<string>();
      for (const n of nodes) {
        for (const p of n.ports) {
          if (p.publicPort === undefined || (p.privatePort === KIND_API_CONTAINER_PORT && n.role === 'control-plane')) continue;
          const m = { containerPort: p.privatePort, hostPort: p.publicPort, hostIp: dialableHost(p.ip), protocol: asProtocol(p.type) };
          const key = `${m.hostIp}:${m.hostPort}/${m.protocol}`;
          if (seen.has(key)) continue; // Docker lists a port once per address family.
          seen.add(key);
          portMappings.push(m);
        }
      }
      portMappings.sort((a, b) => a.containerPort - b.containerPort || a.hostPort - b.hostPort);
      const apiHostPort = controlPlanes.some((n) => n.state === 'running') ? api?.publicPort : undefined;
      return {
        name,
        context: kindContextName(name),
        nodes: nodes.map((n) => ({ name: n.name, role: n.role, state: n.state })),
        allRunning: nodes.every((n) => n.state === 'running'),
        controlPlaneRunning: controlPlanes.length > 0 && controlPlanes.every((n) => n.state === 'running'),
        ...(apiHostPort !== undefined ? { apiHostPort, apiEndpoint: `https://${dialableHost(api?.ip)}:${apiHostPort}` } : {}),
        portMappings,
      };
    });
}
