// The names a task's fields go by: the ones Kindtray knows at each level, the
// SkyPilot ones it knows but does not do (and what to write instead), the other
// words people use for them, and the message for a key that is none of these
// ("did you mean ports?").

import { editDistance } from './edit-distance.ts';
import { listWords, quote } from './issues.ts';

export const TASK_FIELDS = ['name', 'resources', 'envs', 'setup', 'run', 'workdir', 'num_nodes'] as const;
export const RESOURCE_FIELDS = ['infra', 'cpus', 'memory', 'ports', 'image_id'] as const;

/** Where a field is written: at the top level of the task, or under resources. */
export type Level = 'task' | 'resources';

/** SkyPilot fields Kindtray knows but does not do, and what to write instead. */
const UNSUPPORTED: Record<Level, Record<string, string>> = {
  task: {
    file_mounts: 'Kindtray does not mount files into tasks',
    secrets: 'put values in envs',
    volumes: 'Kindtray does not attach volumes',
    service: 'Kindtray does not run SkyServe services',
    config: 'Kindtray has no per-task SkyPilot config',
    event_callback: 'Kindtray does not run callbacks',
    inputs: 'Kindtray does not mount storage',
    outputs: 'Kindtray does not mount storage',
    experimental: 'Kindtray has no experimental options',
  },
  resources: {
    cloud: 'Kindtray launches on Kubernetes only: write infra: k8s/CONTEXT',
    region: 'write the Kubernetes context as infra: k8s/CONTEXT',
    zone: 'write the Kubernetes context as infra: k8s/CONTEXT',
    accelerators: 'Kindtray does not schedule GPUs or other accelerators',
    accelerator_args: 'Kindtray does not schedule accelerators',
    instance_type: 'ask for cpus and memory instead',
    use_spot: 'there are no spot instances on a local cluster',
    spot_recovery: 'there are no spot instances on a local cluster',
    job_recovery: 'Kindtray does not recover jobs',
    disk_size: 'Kindtray does not size disks',
    disk_tier: 'Kindtray does not size disks',
    network_tier: 'Kindtray does not choose network tiers',
    labels: 'Kindtray labels its Pods itself',
    autostop: 'Kindtray does not stop clusters by itself',
    any_of: 'give one set of resources',
    ordered: 'give one set of resources',
    priority: 'Kindtray does not prioritize tasks',
  },
};

/** Other words people use for a field. */
const SYNONYMS: Record<Level, Record<string, string>> = {
  task: {
    env: 'envs', environment: 'envs', env_vars: 'envs', environment_variables: 'envs', variables: 'envs',
    command: 'run', commands: 'run', cmd: 'run', script: 'run', exec: 'run',
    install: 'setup', prepare: 'setup',
    nodes: 'num_nodes', node_count: 'num_nodes', replicas: 'num_nodes',
    task_name: 'name', title: 'name',
    working_dir: 'workdir', work_dir: 'workdir', cwd: 'workdir', dir: 'workdir',
  },
  resources: {
    cpu: 'cpus', vcpus: 'cpus', vcpu: 'cpus', cores: 'cpus',
    mem: 'memory', ram: 'memory', memory_gb: 'memory',
    port: 'ports', expose: 'ports',
    image: 'image_id', docker_image: 'image_id', container_image: 'image_id', image_name: 'image_id',
    context: 'infra', cluster: 'infra', kube_context: 'infra', kubernetes_context: 'infra',
  },
};

export const FIELDS: Record<Level, readonly string[]> = { task: TASK_FIELDS, resources: RESOURCE_FIELDS };
const OTHER: Record<Level, Level> = { task: 'resources', resources: 'task' };

export function unknownFieldMessage(key: string, level: Level): string {
  const where = level === 'task' ? 'a task' : 'resources';
  const unsupported = UNSUPPORTED[level][key];
  if (unsupported !== undefined) return `${quote(key)} is a SkyPilot field Kindtray does not support: ${unsupported}`;
  const elsewhere = UNSUPPORTED[OTHER[level]][key];
  if (elsewhere !== undefined) {
    return `${quote(key)} is not a field of ${where} (it belongs ${level === 'task' ? 'under resources' : 'at the top level'} in SkyPilot, and Kindtray does not support it: ${elsewhere})`;
  }
  const suggestion = suggestField(key, level);
  if (suggestion !== undefined) {
    if (suggestion.level === level) return `unknown field ${quote(key)}: did you mean ${quote(suggestion.field)}?`;
    return suggestion.level === 'resources'
      ? `unknown field ${quote(key)}: did you mean resources.${suggestion.field}? (${suggestion.field} belongs under resources)`
      : `unknown field ${quote(key)} in resources: did you mean ${suggestion.field} at the top level of the task?`;
  }
  return `unknown field ${quote(key)}: ${where} has ${listWords([...FIELDS[level]])}`;
}

/** The field a key most likely meant: same field in another spelling, a synonym, the other level, or a near miss. */
export function suggestField(key: string, level: Level): { field: string; level: Level } | undefined {
  const k = key.trim().toLowerCase().replace(/[-\s]+/g, '_');
  for (const lv of [level, OTHER[level]]) {
    if (FIELDS[lv].includes(k)) return { field: k, level: lv };
    const synonym = SYNONYMS[lv][k];
    if (synonym !== undefined) return { field: synonym, level: lv };
  }
  for (const lv of [level, OTHER[level]]) {
    let best: { field: string; distance: number } | undefined;
    for (const field of FIELDS[lv]) {
      const d = editDistance(k, field);
      if (d <= (field.length <= 4 ? 1 : 2) && (best === undefined || d < best.distance)) best = { field, distance: d };
    }
    if (best !== undefined) return { field: best.field, level: lv };
  }
  return undefined;
}
