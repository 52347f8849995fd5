// Host ports for a new cluster: which are taken (by a cluster Kindtray sees in
// the snapshot, or by any program holding the port on this machine), and the
// first free range of 100 to publish its NodePorts on, as `sky local up` takes
// 30000-30099 and another cluster another hundred.

import { connect } from 'node:net';
import { HOST_PORT_RANGE_END, NODE_PORT_MIN, NODE_PORT_RANGE_SIZE, type PortRange } from '../../shared/contracts/clusters.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';

/** Who holds a host port: a cluster's name, or undefined for "some program". */
export type PortHolders = Map<number, string>;

/** Every host port the clusters in the snapshot publish (their NodePorts, ingress and API), with the cluster's name. */
export function clusterHostPorts(snapshot: HealthSnapshot): PortHolders {
  const held: PortHolders = new Map();
  for (const c of snapshot.clusters) {
    for (const m of c.portMappings) held.set(m.hostPort, c.name);
    const api = c.apiEndpoint ? Number(/:(\d+)$/.exec(c.apiEndpoint)?.[1]) : NaN;
    if (Number.isInteger(api)) held.set(api, c.name);
  }
  return held;
}

/** How long a loopback connect may take before the port is counted as taken (it answers at once either way). */
const PORT_PROBE_MS = 500;

/**
 * Whether nothing listens where a cluster publishes (127.0.0.1, which a
 * listener on 0.0.0.0 or 127.0.0.1 would take from it): a connection refused
 * is free. Asked by connecting, never by binding: a bind, however short,
 * holds the port for an instant, and a check made while kind publishes that
 * range failed its `docker run` ("address already in use").
 */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (free: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(free);
    };
    const timer = setTimeout(() => done(false), PORT_PROBE_MS);
    socket.once('connect', () => done(false));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED'));
  });
}

export type PortProbe = (port: number) => Promise<boolean>;

export interface TakenPort {
  port: number;
  /** The cluster that publishes it, or undefined: another program. */
  by?: string;
}

/** The ports of `ports` that are taken, and by whom; at most `limit` are probed at once. */
export async function takenPorts(ports: number[], held: PortHolders, probe: PortProbe = portIsFree): Promise<TakenPort[]> {
  const taken: TakenPort[] = [];
  const toProbe: number[] = [];
  for (const p of ports) {
    const by = held.get(p);
    if (by !== undefined) taken.push({ port: p, by });
    else toProbe.push(p);
  }
  const free = await Promise.all(toProbe.map((p) => probe(p)));
  toProbe.forEach((p, i) => !free[i] && taken.push({ port: p }));
  return taken.sort((a, b) => a.port - b.port);
}

const portsOf = (r: PortRange): number[] => Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i);

/** The candidate host ranges of `size` ports, in hundreds from 30000 (sky local up's) to 39999. */
export function candidateRanges(size = NODE_PORT_RANGE_SIZE): PortRange[] {
  const out: PortRange[] = [];
  for (let from = NODE_PORT_MIN; from + size - 1 <= HOST_PORT_RANGE_END; from += size) out.push({ from, to: from + size - 1 });
  return out;
}

/** The first range of `size` ports no cluster publishes and no program holds; undefined when every one is taken. */
export async function firstFreeRange(held: PortHolders, probe: PortProbe = portIsFree, size = NODE_PORT_RANGE_SIZE, also: number[] = []): Promise<PortRange | undefined> {
  for (const range of candidateRanges(size)) {
    const ports = portsOf(range);
    // The snapshot first (no probes): a range another cluster publishes is skipped at once.
    if (ports.some((p) => held.has(p) || also.includes(p))) continue;
    if ((await takenPorts(ports, held, probe)).length === 0) return range;
  }
  return undefined;
}

/** "30000-30004 (cluster dev), 30050 (another program)": taken ports in words, runs folded. */
export function describeTaken(taken: TakenPort[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < taken.length) {
    const start = taken[i];
    if (!start) break;
    let j = i;
    while (j + 1 < taken.length && taken[j + 1]?.port === (taken[j]?.port ?? 0) + 1 && taken[j + 1]?.by === start.by) j++;
    const end = taken[j]?.port ?? start.port;
    parts.push(`${start.port === end ? start.port : `${start.port}-${end}`} (${start.by ? `cluster ${start.by}` : 'another program'})`);
    i = j + 1;
  }
  return parts.slice(0, 4).join(', ') + (parts.length > 4 ? ', ...' : '');
}

export { portsOf };
