// What a task becomes on Kubernetes, pure: the Pod and the NodePort Service the
// launcher creates for it, what a Pod's status means for the task, and the
// endpoints once Kubernetes has given the Service its NodePorts.

import type { V1Container, V1EnvVar, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { TaskEndpoint, TaskRecord } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import type { PodInfo } from './launcher-kube.ts';
import type { StoredTask } from './task-model.ts';

/** The image a task runs in when it names none. */
export const DEFAULT_TASK_IMAGE = 'busybox';

const POD_NAME_MAX = 63;

/** `kt-<name>-<id without "t-">`, at most 63 characters: a valid Pod and Service (DNS-1035) name. */
export function podNameFor(task: Pick<TaskRecord, 'id' | 'name'>): string {
  const suffix = task.id.replace(/^t-/, '');
  const room = POD_NAME_MAX - 'kt-'.length - 1 - suffix.length;
  const name = task.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return name ? `kt-${name}-${suffix}` : `kt-${suffix}`;
}

/**
 * Runs setup, then (if setup succeeded) run, each in its own `sh -c`, as
 * SkyPilot does. The scripts are passed as positional parameters, so no
 * quoting of user text is ever needed.
 */
export const TASK_ENTRYPOINT = 'if [ -n "$1" ]; then sh -c "$1" || exit $?; fi; exec sh -c "$2"';

export function imageFor(task: StoredTask, defaultImage: string): string {
  const image = task.spec.resources.image?.trim();
  if (!image) return defaultImage;
  return image.startsWith('docker:') ? image.slice('docker:'.length) : image;
}

/** Labels on everything Kindtray creates for a task: reconcile() finds a task's Pod by them. */
function ownLabels(task: Pick<TaskRecord, 'id'>): Record<string, string> {
  return { [TASK_LABEL]: task.id, 'app.kubernetes.io/managed-by': 'kindtray' };
}

export function buildPod(task: StoredTask, defaultImage: string): V1Pod {
  const r = task.spec.resources;
  const env: V1EnvVar[] = Object.entries(task.spec.envs).map(([name, value]) => ({ name, value }));
  // Secrets reach the container from the task's own Secret: the Pod's spec never holds their values.
  for (const name of Object.keys(task.spec.secrets ?? {})) env.push({ name, valueFrom: { secretKeyRef: { name: secretNameFor(task), key: name } } });
  if (!('KINDTRAY_TASK_ID' in task.spec.envs)) env.push({ name: 'KINDTRAY_TASK_ID', value: task.id });
  const requests: Record<string, string> = {};
  if (r.cpus) requests.cpu = String(r.cpus.amount);
  if (r.memory) requests.memory = `${r.memory.amount}Gi`;
  const container: V1Container = {
    name: 'task',
    image: imageFor(task, defaultImage),
    command: ['sh', '-c', TASK_ENTRYPOINT, 'kindtray-task', task.spec.setup ?? '', task.spec.run ?? ''],
    env,
  };
  if (Object.keys(requests).length > 0) container.resources = { requests };
  if (r.ports.length > 0) container.ports = r.ports.map((p) => ({ containerPort: p, protocol: 'TCP' }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podNameFor(task),
      namespace: task.namespace,
      labels: ownLabels(task),
      annotations: { 'kindtray.dev/task-name': task.name },
    },
    spec: { restartPolicy: 'Never', containers: [container] },
  };
}

/** The task's Secret is named as its Pod (another kind, so no clash). */
export function secretNameFor(task: Pick<TaskRecord, 'id' | 'name'>): string {
  return podNameFor(task);
}

/** The Secret holding the task's secrets, for the Pod's secretKeyRef; undefined when it has none. */
export function buildSecret(task: StoredTask): V1Secret | undefined {
  const secrets = task.spec.secrets ?? {};
  if (Object.keys(secrets).length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: secretNameFor(task), namespace: task.namespace, labels: ownLabels(task) },
    stringData: { ...secrets },
  };
}

/** A NodePort Service for the task's ports, asking for the planned NodePorts; undefined without ports. */
export function buildService(task: StoredTask): V1Service | undefined {
  const ports = task.spec.resources.ports;
  if (ports.length === 0) return undefined;
  const planned = new Map(task.portPlan.map((p) => [p.port, p.nodePort]));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: podNameFor(task),
      namespace: task.namespace,
      labels: ownLabels(task),
    },
    spec: {
      type: 'NodePort',
      selector: { [TASK_LABEL]: task.id },
      ports: ports.map((port) => {
        const nodePort = planned.get(port);
        return { name: `p${port}`, protocol: 'TCP', port, targetPort: port, ...(nodePort !== undefined ? { nodePort } : {}) };
      }),
    },
  };
}

/** What a Pod's status means for its task. */
export type PodVerdict =
  | { kind: 'starting'; detail?: string }
  | { kind: 'running' }
  | { kind: 'succeeded'; exitCode: number }
  | { kind: 'failed'; reason: string; exitCode?: number }
  /** Still Pending, with a waiting reason that will not resolve itself. */
  | { kind: 'stuck'; reason: string; permanent: boolean };

const PERMANENT_WAITING = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
const PULL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff']);

export function podVerdict(pod: PodInfo): PodVerdict {
  const c = pod.container;
  if (pod.phase === 'Succeeded') return { kind: 'succeeded', exitCode: c?.exitCode ?? 0 };
  if (pod.phase === 'Failed' || (c?.state === 'terminated' && c.exitCode !== undefined && c.exitCode !== 0)) {
    if (c?.state === 'terminated' && c.exitCode !== undefined) {
      const why = c.reason && c.reason !== 'Error' ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : c.message ? ` (${c.message})` : '';
      return { kind: 'failed', exitCode: c.exitCode, reason: `exited with code ${c.exitCode}${why}` };
    }
    const why = [pod.reason, pod.message].filter(Boolean).join(': ');
    return { kind: 'failed', reason: why ? `the pod failed: ${why}` : 'the pod failed' };
  }
  if (c?.state === 'terminated' && c.exitCode === 0) return { kind: 'succeeded', exitCode: 0 };
  if (pod.phase === 'Running' && c?.state === 'running') return { kind: 'running' };
  if (c?.state === 'waiting' && c.reason) {
    const detail = `${c.reason}${c.message ? `: ${c.message}` : ''}`;
    if (PERMANENT_WAITING.has(c.reason)) return { kind: 'stuck', reason: `the container cannot start: ${detail}`, permanent: true };
    if (PULL_WAITING.has(c.reason)) return { kind: 'stuck', reason: `the image cannot be pulled: ${detail}`, permanent: false };
    return { kind: 'starting', detail };
  }
  if (pod.unschedulable) return { kind: 'starting', detail: `not scheduled: ${pod.unschedulable}` };
  return { kind: 'starting' };
}

/** Endpoints from the plan, with the NodePorts the Service really got. */
export function endpointsWith(task: StoredTask, nodePorts: ReadonlyMap<number, number>): TaskEndpoint[] {
  return task.endpoints.map((e) => {
    const nodePort = nodePorts.get(e.port);
    if (nodePort === undefined || nodePort === e.nodePort) return e;
    // Kubernetes chose another NodePort than planned: a published host port no longer reaches it.
    const planned = e.nodePort !== undefined;
    return {
      port: e.port,
      nodePort,
      reachable: planned ? false : e.reachable,
      how: planned ? `NodePort ${nodePort}, not the planned ${e.nodePort}: kubectl port-forward svc/${podNameFor(task)} ${e.port}` : e.how,
    };
  });
}
