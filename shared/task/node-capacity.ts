// Whether the task's cpus and memory fit the target KinD cluster: each against
// its largest Ready node, then both together on one node.

import type { ClusterHealth, NodeHealth } from '../snapshot.ts';
import type { TaskSpec } from './schema.ts';

const GIB = 1024 ** 3;
const formatGiB = (bytes: number): string => `${Math.round((bytes / GIB) * 10) / 10} GiB`;

export function capacityProblems(task: TaskSpec, context: string, cluster: ClusterHealth): { path: string; message: string }[] {
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
