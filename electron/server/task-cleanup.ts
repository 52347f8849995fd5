// Deleting what a task made on its cluster: every node's Pod, its Services
// (NodePort and headless) and its Secret, each under its deadline; a 404 is
// fine. What could not be confirmed gone is said in the task's reason, in
// words deleteLeftovers() finds again on the next start.

import type { KubeTarget, TaskKubeOps } from './launcher-kube.ts';
import { plannedNodes } from './node-plan.ts';
import { nodesServiceNameFor, podNameFor, secretNameFor } from './pod-plan.ts';
import type { StoredTask } from './task-model.ts';

/** How a reason says that something may be left on the cluster, and the note once it is gone. */
export const LEFTOVER_WORDS = 'may still exist on';
export const LEFTOVERS_DELETED = 'what this task left on the cluster was deleted after a restart';

/** What deleting needs to know of a task. */
export type CleanupTask = Pick<StoredTask, 'id' | 'name' | 'context' | 'namespace' | 'podName' | 'serviceName' | 'spec' | 'nodes' | 'stage'>;

/**
 * Deletes the task's Pods (every node's), Services and Secret, each under
 * the deadline; a 404 is fine. Returns undefined when all are gone, else
 * words for the task's reason.
 */
export async function deleteTaskResources(ops: TaskKubeOps, target: KubeTarget, graceSeconds: number, task: CleanupTask): Promise<string | undefined> {
  const podNames = task.nodes?.map((n) => n.podName) ?? plannedNodes(task, (rank) => (rank === 0 && task.podName) || podNameFor(task, rank)).map((n) => n.podName);
  const serviceNames = [
    task.serviceName ?? (task.spec.resources.ports.length > 0 ? podNameFor(task) : undefined),
    task.spec.numNodes > 1 ? nodesServiceNameFor(task) : undefined,
  ].filter((n): n is string => n !== undefined);
  const secretName = Object.keys(task.spec.secrets ?? {}).length > 0 ? secretNameFor(task) : undefined;
  const [pods, svcs, sec] = await Promise.all([
    Promise.all(podNames.map((name) => ops.deletePod(target, task.namespace, name, { gracePeriodSeconds: graceSeconds }))),
    Promise.all(serviceNames.map((name) => ops.deleteService(target, task.namespace, name))),
    secretName ? ops.deleteSecret(target, task.namespace, secretName) : Promise.resolve(undefined),
  ]);
  const left: string[] = [];
  let cause = '';
  pods.forEach((r, i) => {
    if (r.ok) return;
    left.push(`pod ${podNames[i]}`);
    cause ||= r.error.message;
  });
  svcs.forEach((r, i) => {
    if (r.ok) return;
    left.push(`service ${serviceNames[i]}`);
    cause ||= r.error.message;
  });
  if (sec && !sec.ok) {
    left.push(`secret ${secretName}`);
    cause ||= sec.error.message;
  }
  if (left.length === 0) return undefined;
  return `${left.join(' and ')} ${LEFTOVER_WORDS} ${task.context} (${cause || 'no answer'}): Kindtray deletes ${left.length > 1 ? 'them' : 'it'} on its next start`;
}
