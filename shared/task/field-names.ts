// The names a task's fields go by: SkyPilot's, at each level, the other words
// people use for them, and the message for a key that is none of these ("did
// you mean ports?").

import { editDistance } from './edit-distance.ts';
import { listWords, quote } from './issues.ts';

/**
 * Every field SkyPilot's task schema has (sky/utils/schemas.py, get_task_schema
 * and get_resources_schema), so that no file SkyPilot accepts meets "unknown
 * field". What each does here is in schema.ts, resources-schema.ts and
 * hint-fields.ts. The first ones are the fields a task mostly needs: messages
 * list only those.
 */
export const TASK_FIELDS = [
  'name', 'resources', 'envs', 'setup', 'run', 'workdir', 'num_nodes',
  'secrets', 'file_mounts', 'service', 'config', 'event_callback', 'pool', 'managed_secrets', 'inputs', 'outputs',
  'file_mounts_mapping', 'volumes', 'volume_mounts', 'api_server_access', 'experimental', '_metadata',
] as const;
export const RESOURCE_FIELDS = [
  'infra', 'cpus', 'memory', 'ports', 'image_id', 'accelerators', 'gpus',
  'cloud', 'region', 'zone', 'any_of', 'ordered', 'instance_type', 'use_spot', 'job_recovery', 'spot_recovery', 'volumes',
  'disk_size', 'ephemeral_storage', 'disk_tier', 'network_tier', 'local_disk', 'max_hourly_cost', 'labels',
  'accelerator_args', 'autostop', 'priority', 'priority_class', '_no_missing_accel_warnings', '_docker_login_config',
  '_is_image_managed', '_requires_fuse', '_cluster_config_overrides',
] as const;
/** The fields an "unknown field" message lists: the ones people write. */
const MAIN_FIELDS: Record<'task' | 'resources', readonly string[]> = {
  task: TASK_FIELDS.slice(0, 7),
  resources: RESOURCE_FIELDS.slice(0, 7),
};

/** Where a field is written: at the top level of the task, or under resources. */
export type Level = 'task' | 'resources';

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
    context: 'infra', cluster: 'infra', gpu: 'accelerators', accelerator: 'accelerators', accel: 'accelerators', kube_context: 'infra', kubernetes_context: 'infra',
  },
};

export const FIELDS: Record<Level, readonly string[]> = { task: TASK_FIELDS, resources: RESOURCE_FIELDS };
const OTHER: Record<Level, Level> = { task: 'resources', resources: 'task' };

export function unknownFieldMessage(key: string, level: Level): string {
  const where = level === 'task' ? 'a task' : 'resources';
  const suggestion = suggestField(key, level);
  if (suggestion !== undefined) {
    if (suggestion.level === level) return `unknown field ${quote(key)}: did you mean ${quote(suggestion.field)}?`;
    return suggestion.level === 'resources'
      ? `unknown field ${quote(key)}: did you mean resources.${suggestion.field}? (${suggestion.field} belongs under resources)`
      : `unknown field ${quote(key)} in resources: did you mean ${suggestion.field} at the top level of the task?`;
  }
  return `unknown field ${quote(key)}: ${where} has ${listWords([...MAIN_FIELDS[level]])}, among others`;
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
