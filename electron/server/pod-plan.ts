// What a task becomes on Kubernetes, pure: the Pod (GPUs, secrets by
// secretKeyRef, config.kubernetes.pod_config merged in), its Secret and the
// NodePort Service the launcher creates for it, what a Pod's status means for
// the task, and the endpoints once Kubernetes has given the Service its NodePorts.

import type { V1Container, V1EnvVar, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { TaskEndpoint, TaskNode, TaskRecord } from '../../shared/api.ts';
import type { Plain } from '../../shared/task/index.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import type { PodInfo } from './launcher-kube.ts';
import { addReadinessProbe } from './readiness.ts';
import { buildNodesService as buildHeadless, entrypointArgs, NODE_IPS_WAIT, NODE_RANK_LABEL, nodeInfoVolume, plannedNodes, SETUP_THEN_RUN, setupStartupProbe, skypilotEnv, withoutPlacementVars } from './node-plan.ts';
import type { StoredTask } from './task-model.ts';

/** The image a task runs in when it names none. */
export const DEFAULT_TASK_IMAGE = 'busybox';

const POD_NAME_MAX = 63;

/**
 * A task's Pod for node `rank` of its current stage: `kt-<name>-<id without
 * "t-">`, then `-s<stage>` from a pipeline's second stage on and `-w<rank>`
 * for the nodes after the head; at most 63 characters (the name is cut, never
 * the id or the tags): a valid Pod and Service (DNS-1035) name. Rank 0 of a
 * single task is named as it always was.
 */
export function podNameFor(task: Pick<TaskRecord, 'id' | 'name' | 'stage'>, rank = 0): string {
  return objectName(task, `${task.stage ? `-s${task.stage}` : ''}${rank > 0 ? `-w${rank}` : ''}`);
}

/** The headless Service of a multi-node task's current stage (node-plan.ts). */
export function nodesServiceNameFor(task: Pick<TaskRecord, 'id' | 'name' | 'stage'>): string {
  return objectName(task, `${task.stage ? `-s${task.stage}` : ''}-nodes`);
}

function objectName(task: Pick<TaskRecord, 'id' | 'name'>, tag: string): string {
  const suffix = task.id.replace(/^t-/, '');
  const room = POD_NAME_MAX - 'kt-'.length - 1 - suffix.length - tag.length;
  const name = task.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return name ? `kt-${name}-${suffix}${tag}` : `kt-${suffix}${tag}`;
}

/**
 * The container's script: wait for the other nodes' IPs (multi-node only),
 * then setup, then (if setup succeeded, and on every node for a multi-node
 * task) run, each in its own `sh -c`, as SkyPilot does. The scripts are passed as positional parameters
 * (entrypointArgs), so no quoting of user text is ever needed.
 */
export const TASK_ENTRYPOINT = `${NODE_IPS_WAIT}${SETUP_THEN_RUN}`;

export function imageFor(task: StoredTask, defaultImage: string): string {
  const image = task.spec.resources.image?.trim();
  if (!image) return defaultImage;
  return image.startsWith('docker:') ? image.slice('docker:'.length) : image;
}

/** Labels on everything Kindtray creates for a task: reconcile() finds a task's Pod by them. */
function ownLabels(task: Pick<TaskRecord, 'id'>): Record<string, string> {
  return { [TASK_LABEL]: task.id, 'app.kubernetes.io/managed-by': 'kindtray' };
}

/** The Pod of node `rank` (0, the head, for a one-node task). */
export function buildPod(task: StoredTask, defaultImage: string, rank = 0): V1Pod {
  const r = task.spec.resources;
  const podName = podNameFor(task, rank);
  const env: V1EnvVar[] = withoutPlacementVars(Object.entries(task.spec.envs).map(([name, value]) => ({ name, value })));
  // Secrets reach the container from the task's own Secret: the Pod's spec never holds their values.
  for (const name of Object.keys(task.spec.secrets ?? {})) env.push({ name, valueFrom: { secretKeyRef: { name: secretNameFor(task), key: name } } });
  if (!('KINDTRAY_TASK_ID' in task.spec.envs)) env.push({ name: 'KINDTRAY_TASK_ID', value: task.id });
  env.push(...skypilotEnv(task, rank));
  const requests: Record<string, string> = {};
  if (r.cpus) requests.cpu = String(r.cpus.amount);
  if (r.memory) requests.memory = `${r.memory.amount}Gi`;
  const container: V1Container = {
    name: 'task',
    image: imageFor(task, defaultImage),
    command: ['sh', '-c', TASK_ENTRYPOINT, 'kindtray-task', ...entrypointArgs(task, podName)],
    env,
  };
  // The accelerator the cluster check chose (the first one when it could not check): whole GPUs, as a limit (Kubernetes takes GPUs as limits).
  const gpu = r.accelerators?.[0];
  const limits: Record<string, string> = gpu ? { [GPU_RESOURCE]: String(Math.ceil(gpu.count)) } : {};
  if (Object.keys(requests).length + Object.keys(limits).length > 0) {
    container.resources = { ...(Object.keys(requests).length > 0 && { requests }), ...(Object.keys(limits).length > 0 && { limits }) };
  }
  if (r.ports.length > 0) container.ports = r.ports.map((p) => ({ containerPort: p, protocol: 'TCP' }));
  addReadinessProbe(container, task.spec);
  const startup = setupStartupProbe(task, podName);
  if (startup) container.startupProbe = startup;
  const labels = { ...ownLabels(task), ...(task.spec.numNodes > 1 && { [NODE_RANK_LABEL]: String(rank) }) };
  const metadata = { name: podName, namespace: task.namespace, labels, annotations: { 'kindtray.dev/task-name': task.name } };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...metadata, labels: { ...metadata.labels }, annotations: { ...metadata.annotations } },
    spec: { restartPolicy: 'Never', containers: [container], ...(gpu?.nodeLabel && { nodeSelector: { [gpu.nodeLabel.key]: gpu.nodeLabel.value } }) },
  };
  const nodeInfo = nodeInfoVolume(task, podName);
  if (nodeInfo && pod.spec) {
    // Each node is <pod>.<headless service> to the others, and reads their IPs from the annotation.
    pod.spec.hostname = podName;
    pod.spec.subdomain = nodesServiceNameFor(task);
    pod.spec.volumes = [...(pod.spec.volumes ?? []), nodeInfo.volume];
    container.volumeMounts = [...(container.volumeMounts ?? []), nodeInfo.mount];
  }
  if (!task.spec.podConfig) return pod;
  const merged = mergePodConfig(pod as unknown as Record<string, Plain>, structuredClone(task.spec.podConfig)) as unknown as V1Pod;
  // What Kindtray finds and names its Pod by stays Kindtray's, whatever pod_config says.
  merged.metadata = { ...merged.metadata, name: metadata.name, namespace: metadata.namespace, labels: { ...merged.metadata?.labels, ...metadata.labels } };
  return merged;
}

/** The resource a GPU is asked for by, as SkyPilot's Kubernetes backend asks for it. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Lists Kubernetes merges item by item, by this key (its "patch merge key"), as SkyPilot's merge_k8s_configs does. */
const PATCH_MERGE_KEYS: Record<string, string> = {
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  volumeMounts: 'name',
  resourceClaims: 'name',
  env: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  ports: 'containerPort',
  volumeDevices: 'devicePath',
};

type PlainMap = { [key: string]: Plain };
const isMap = (v: Plain | undefined): v is PlainMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * pod_config merged into the Pod, by SkyPilot's rule (merge_k8s_configs): a
 * mapping merges key by key; `containers` and `imagePullSecrets` merge their
 * first item into the Pod's first (one container per Pod); the lists above
 * merge by their key (a new key is appended); any other list is appended to;
 * anything else replaces. Mutates and returns `base`.
 */
export function mergePodConfig(base: PlainMap, override: PlainMap): PlainMap {
  for (const [key, value] of Object.entries(override)) {
    const have = base[key];
    if (isMap(value) && isMap(have)) mergePodConfig(have, value);
    else if (Array.isArray(value) && Array.isArray(have)) {
      if (key === 'containers' || key === 'imagePullSecrets') {
        const first = have[0];
        const over = value[0];
        if (isMap(first) && isMap(over)) mergePodConfig(first, over);
        else if (over !== undefined) have[0] = over;
      } else if (key in PATCH_MERGE_KEYS) {
        const by = PATCH_MERGE_KEYS[key] ?? 'name';
        for (const item of value) {
          const id = isMap(item) ? item[by] : undefined;
          const same = id === undefined || id === null ? undefined : have.find((h) => isMap(h) && h[by] === id);
          if (isMap(same) && isMap(item)) mergePodConfig(same, item);
          else have.push(item);
        }
      } else have.push(...value);
    } else base[key] = value;
  }
  return base;
}

/** The task's Secret is named as its Pod (another kind, so no clash). */
export function secretNameFor(task: Pick<TaskRecord, 'id' | 'name' | 'stage'>): string {
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

/** A NodePort Service for the task's ports on its head node (as SkyPilot exposes them), asking for the planned NodePorts; undefined without ports. */
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
      selector: { [TASK_LABEL]: task.id, ...(task.spec.numNodes > 1 && { [NODE_RANK_LABEL]: '0' }) },
      ports: ports.map((port) => {
        const nodePort = planned.get(port);
        return { name: `p${port}`, protocol: 'TCP', port, targetPort: port, ...(nodePort !== undefined ? { nodePort } : {}) };
      }),
    },
  };
}

/** The task's nodes and NodePort Service name for its current stage, before anything is created. */
export function launchPatch(task: StoredTask): { nodes: TaskNode[]; serviceName: string | undefined } {
  return { nodes: plannedNodes(task, (rank) => podNameFor(task, rank)), serviceName: task.spec.resources.ports.length > 0 ? podNameFor(task) : undefined };
}

/** The headless Service of a multi-node task (node-plan.ts); undefined for one node. */
export function buildNodesService(task: StoredTask): V1Service | undefined {
  return buildHeadless(task, nodesServiceNameFor(task), ownLabels(task));
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
