// A task's nodes, as SkyPilot runs `num_nodes` on Kubernetes: one Pod a node
// (rank 0 the head), a headless Service giving each a stable name
// (<pod>.<service>.<namespace>.svc), and SkyPilot's environment in every one.
// SKYPILOT_NODE_IPS needs every Pod's IP, known only once all Pods exist: the
// launcher then writes the list into each Pod's NODE_IPS_ANNOTATION, which a
// downward-API volume shows the container as a file; the entrypoint waits for
// that file before setup (plain Kubernetes, so the same file runs on any
// cluster). A one-node task needs no wait: its IP is its own (status.podIP).
// Run starts on no node before setup has succeeded on every node, as
// SkyPilot's job does: a node that finished setup marks it in a file its
// startupProbe looks for (so the Pod reports its container `started`); once
// every node has started, the launcher writes NODES_SET_UP_ANNOTATION, shown
// the same way, and each node goes on to run.
// Pure; the launcher (node-watch.ts) drives it.

import type { V1EnvVar, V1Probe, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { TaskNode, TaskNodeState, TaskRecord } from '../../shared/api.ts';
import { TASK_LABEL } from '../../shared/constants.ts';
import type { StoredTask } from './task-model.ts';

/** The label that tells a task's Pods apart: its node rank (0 the head). */
export const NODE_RANK_LABEL = 'kindtray.dev/node-rank';
/** The annotation the launcher writes SKYPILOT_NODE_IPS into (newline-separated, head first) once every Pod has an IP. */
export const NODE_IPS_ANNOTATION = 'kindtray.dev/node-ips';
/**
 * Where the container finds that list. The Pod's name is part of the path so
 * that Pods sharing one filesystem (the testbed's stand-in runs every Pod in
 * one container) never read each other's; on a real node it is just a path.
 */
export const NODE_INFO_DIR = '/var/run/kindtray';
const NODE_IPS_FILE = 'node-ips';
/** The annotation the launcher writes once every node finished setup; run starts on each node when it sees it. */
export const NODES_SET_UP_ANNOTATION = 'kindtray.dev/nodes-set-up';
const NODES_SET_UP_FILE = 'nodes-set-up';
const NODE_INFO_VOLUME = 'kindtray-node-info';
/** How long a node waits for the others' IPs before it fails (the launcher's start bound applies too). */
export const NODE_IPS_WAIT_SECONDS = 600;

export const nodeIpsPath = (podName: string): string => `${NODE_INFO_DIR}/${podName}/${NODE_IPS_FILE}`;
const nodesSetUpPath = (podName: string): string => `${NODE_INFO_DIR}/${podName}/${NODES_SET_UP_FILE}`;
/** The file a node writes when its setup succeeded (in /tmp, writable in any image; the Pod's name keeps Pods sharing one filesystem apart). */
export const setupDonePath = (podName: string): string => `/tmp/kindtray-setup-done-${podName}`;

/**
 * The container's script: positional parameters are setup ($1), run ($2), the
 * node-IPs file to wait for ($3, empty for one node), how many 0.2 s waits
 * to allow ($4), the file to write once setup succeeded ($5) and the file
 * that says every node did ($6), both empty for one node. Setup then run,
 * each in its own `sh -c` as SkyPilot does; user text is never quoted into
 * the script. The wait for the other nodes' setup has no bound of its own: a
 * setup takes what it takes, and the launcher stops every node when one fails.
 */
export const NODE_IPS_WAIT =
  'if [ -n "$3" ]; then n=0; until [ -s "$3" ]; do n=$((n+1)); if [ "$n" -gt "$4" ]; then echo "kindtray: the IPs of the other nodes did not come in time" >&2; exit 125; fi; sleep 0.2 2>/dev/null || sleep 1; done; SKYPILOT_NODE_IPS=$(cat "$3"); export SKYPILOT_NODE_IPS; fi; ';
// Setup also sees SkyPilot's SKYPILOT_SETUP_* names for the same facts (cloud_vm_ray_backend's _setup_node).
export const SETUP_THEN_RUN =
  'if [ -n "$1" ]; then SKYPILOT_SETUP_NODE_RANK="$SKYPILOT_NODE_RANK" SKYPILOT_SETUP_NODE_IPS="$SKYPILOT_NODE_IPS" SKYPILOT_SETUP_NUM_GPUS_PER_NODE="$SKYPILOT_NUM_GPUS_PER_NODE" sh -c "$1" || exit $?; fi; ' +
  'if [ -n "$5" ]; then if ! : > "$5"; then echo "kindtray: cannot write $5 to say setup finished" >&2; exit 125; fi; until [ -s "$6" ]; do sleep 0.2 2>/dev/null || sleep 1; done; fi; ' +
  'exec sh -c "$2"';

/** The entrypoint's arguments after the script and $0. */
export function entrypointArgs(task: StoredTask, podName: string): string[] {
  const multi = task.spec.numNodes > 1;
  return [
    task.spec.setup ?? '',
    task.spec.run ?? '',
    multi ? nodeIpsPath(podName) : '',
    String(NODE_IPS_WAIT_SECONDS * 5),
    multi ? setupDonePath(podName) : '',
    multi ? nodesSetUpPath(podName) : '',
  ];
}

/**
 * A multi-node Pod's startupProbe: its container counts as started once its
 * setup succeeded (the file the entrypoint writes). Probed every second; the
 * threshold only stops a setup that runs past a week. Undefined for one node.
 */
export function setupStartupProbe(task: StoredTask, podName: string): V1Probe | undefined {
  if (task.spec.numNodes <= 1) return undefined;
  return { exec: { command: ['sh', '-c', `test -e ${setupDonePath(podName)}`] }, periodSeconds: 1, failureThreshold: SETUP_PROBE_FAILURES };
}
const SETUP_PROBE_FAILURES = 7 * 24 * 3600;

/** SkyPilot's variables that say where a node is; they win over the task's own envs of the same name. */
const PLACEMENT_VARS = ['SKYPILOT_NODE_RANK', 'SKYPILOT_NUM_NODES', 'SKYPILOT_NODE_IPS'];

/**
 * SkyPilot's environment for node `rank` (task_codegen.py and
 * cloud_vm_ray_backend.py): rank, node count, GPUs per node, the task id and
 * the cluster info; SKYPILOT_NODE_IPS from status.podIP for one node (for
 * more, the entrypoint reads it from the file). SKYPILOT_TASK_ID and
 * SKYPILOT_CLUSTER_INFO give way to the task's own, as SkyPilot's do.
 */
export function skypilotEnv(task: StoredTask, rank: number): V1EnvVar[] {
  const gpus = Math.ceil(task.spec.resources.accelerators?.[0]?.count ?? 0);
  const own = task.spec.envs;
  const stage = task.stage ?? 0;
  const env: V1EnvVar[] = [
    { name: 'SKYPILOT_NODE_RANK', value: String(rank) },
    { name: 'SKYPILOT_NUM_NODES', value: String(task.spec.numNodes) },
    { name: 'SKYPILOT_NUM_GPUS_PER_NODE', value: String(gpus) },
  ];
  if (task.spec.numNodes <= 1) env.push({ name: 'SKYPILOT_NODE_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  if (!('SKYPILOT_TASK_ID' in own)) env.push({ name: 'SKYPILOT_TASK_ID', value: stage > 0 ? `${task.id}-${stage}` : task.id });
  if (!('SKYPILOT_CLUSTER_INFO' in own)) {
    const info = { cluster_name: task.cluster ?? task.context, cloud: 'Kubernetes', region: task.context, zone: null };
    env.push({ name: 'SKYPILOT_CLUSTER_INFO', value: JSON.stringify(info) });
  }
  return env;
}

/** The task's own envs without the placement variables SkyPilot sets itself. */
export function withoutPlacementVars(env: V1EnvVar[]): V1EnvVar[] {
  return env.filter((e) => !PLACEMENT_VARS.includes(e.name));
}

/** The volume and mount showing the node-IPs annotation to a multi-node Pod's container; undefined for one node. */
export function nodeInfoVolume(task: StoredTask, podName: string): { volume: V1Volume; mount: V1VolumeMount } | undefined {
  if (task.spec.numNodes <= 1) return undefined;
  return {
    volume: {
      name: NODE_INFO_VOLUME,
      downwardAPI: {
        items: [
          { path: NODE_IPS_FILE, fieldRef: { fieldPath: `metadata.annotations['${NODE_IPS_ANNOTATION}']` } },
          { path: NODES_SET_UP_FILE, fieldRef: { fieldPath: `metadata.annotations['${NODES_SET_UP_ANNOTATION}']` } },
        ],
      },
    },
    mount: { name: NODE_INFO_VOLUME, mountPath: `${NODE_INFO_DIR}/${podName}`, readOnly: true },
  };
}

/**
 * The headless Service of a multi-node task: with the Pods' `hostname` and
 * `subdomain`, each node is `<pod>.<service>` to the others. Not-ready
 * addresses are published, so a name answers as soon as its Pod has an IP.
 */
export function buildNodesService(task: StoredTask, name: string, labels: Record<string, string>): V1Service | undefined {
  if (task.spec.numNodes <= 1) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: task.namespace, labels },
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { [TASK_LABEL]: task.id } },
  };
}

/** The node-IPs text, head first, once every node has an IP; undefined before. */
export function nodeIpsText(nodes: readonly Pick<TaskNode, 'rank' | 'ip'>[]): string | undefined {
  const sorted = [...nodes].sort((a, b) => a.rank - b.rank);
  if (sorted.length === 0 || sorted.some((n) => !n.ip)) return undefined;
  return sorted.map((n) => n.ip).join('\n');
}

/** What the nodes' states make of the task, as SkyPilot's job does. */
export type NodesOutcome =
  | { kind: 'starting' }
  /** Every node runs. */
  | { kind: 'running' }
  /** Every node exited 0. */
  | { kind: 'succeeded' }
  /** A node failed: the job fails and the nodes still running are stopped (get_or_fail cancels them). */
  | { kind: 'failed'; rank: number; reason: string; exitCode?: number };

export function nodesOutcome(nodes: readonly TaskNode[]): NodesOutcome {
  const failed = [...nodes].sort((a, b) => a.rank - b.rank).find((n) => n.state === 'failed');
  if (failed) {
    const which = nodes.length > 1 ? `node ${failed.rank} (pod ${failed.podName}) ` : '';
    return { kind: 'failed', rank: failed.rank, reason: `${which}${failed.reason ?? 'failed'}`, ...(failed.exitCode !== undefined && { exitCode: failed.exitCode }) };
  }
  if (nodes.length > 0 && nodes.every((n) => n.state === 'succeeded')) return { kind: 'succeeded' };
  // A node done early (exit 0) while others still run: the task runs until all are done.
  if (nodes.length > 0 && nodes.every((n) => n.state === 'running' || n.state === 'succeeded')) return { kind: 'running' };
  return { kind: 'starting' };
}

/** The nodes planned for a task (all pending), head first. */
export function plannedNodes(task: Pick<TaskRecord, 'id' | 'name' | 'stage'> & { spec: { numNodes: number } }, podName: (rank: number) => string): TaskNode[] {
  return Array.from({ length: Math.max(1, task.spec.numNodes) }, (_, rank) => ({ rank, podName: podName(rank), state: 'pending' as TaskNodeState }));
}
