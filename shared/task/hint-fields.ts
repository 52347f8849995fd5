// SkyPilot fields with no meaning on a local cluster (spot, tiers, regions,
// autostop …): accepted with a warning that says what Kindtray does instead,
// after a check of the shape SkyPilot's schema gives them, so a file SkyPilot
// refuses is not accepted here either. An empty or "off" value (`use_spot:
// false`, `labels: {}`) asks for nothing and is accepted without a word.

import { quote } from './issues.ts';
import type { SourceValue } from './source.ts';

export type Shape = 'boolean' | 'text' | 'number' | 'integer' | 'mapping' | 'list';

export interface HintField {
  /** The shapes SkyPilot's schema allows. */
  shapes: readonly Shape[];
  /** What it means here: the warning's reason. */
  why: string;
  /** For a mapping SkyPilot checks strictly: the keys it allows. */
  keys?: readonly string[];
}

const localCluster = 'on a local Kubernetes cluster';

/** Top-level task fields. */
export const TASK_HINTS: Record<string, HintField> = {
  event_callback: { shapes: ['text'], why: 'Kindtray runs no callbacks when a task ends; `kindtray tasks` shows its state' },
  pool: { shapes: ['mapping'], why: 'worker pools are a SkyPilot managed-jobs feature: Kindtray launches the task itself' },
  managed_secrets: { shapes: ['list'], why: 'Kindtray has no SkyPilot secret store: give values in secrets' },
  inputs: { shapes: ['mapping'], why: 'inputs only size cloud data transfers' },
  outputs: { shapes: ['mapping'], why: 'outputs only size cloud data transfers' },
  file_mounts_mapping: { shapes: ['mapping'], why: 'it is written by SkyPilot itself' },
  volumes: { shapes: ['mapping'], why: 'SkyPilot volumes are created by `sky volumes`: Kindtray attaches none' },
  volume_mounts: { shapes: ['list'], why: 'SkyPilot volumes are created by `sky volumes`: Kindtray attaches none' },
  api_server_access: { shapes: ['boolean'], why: 'there is no SkyPilot API server to reach' },
  experimental: { shapes: ['mapping'], why: 'SkyPilot\'s experimental options mean nothing to Kindtray' },
  _metadata: { shapes: ['mapping'], why: 'it is SkyPilot\'s own bookkeeping' },
};

/** Fields under resources (and under each any_of / ordered set). */
export const RESOURCE_HINTS: Record<string, HintField> = {
  instance_type: { shapes: ['text'], why: `there are no instance types ${localCluster}: ask for cpus and memory` },
  use_spot: { shapes: ['boolean'], why: `there are no spot instances ${localCluster}` },
  job_recovery: { shapes: ['text', 'mapping'], why: 'Kindtray does not restart a failed task: launch it again' },
  spot_recovery: { shapes: ['text', 'mapping'], why: 'Kindtray does not restart a failed task: launch it again' },
  volumes: { shapes: ['list'], why: 'Kindtray attaches no cloud disks' },
  disk_tier: { shapes: ['text'], why: `disks have no tiers ${localCluster}` },
  network_tier: { shapes: ['text'], why: `networks have no tiers ${localCluster}` },
  local_disk: { shapes: ['text'], why: `the Pod uses the node's disk ${localCluster}` },
  max_hourly_cost: { shapes: ['number'], why: 'a local cluster costs nothing by the hour' },
  labels: { shapes: ['mapping'], why: 'Kindtray labels its Pods itself (kindtray.dev/task)' },
  accelerator_args: { shapes: ['mapping'], why: 'they configure cloud TPUs', keys: ['runtime_version', 'tpu_name', 'tpu_vm', 'gcp_queued_resource'] },
  autostop: {
    shapes: ['boolean', 'integer', 'text', 'mapping'],
    why: 'Kindtray does not stop clusters by itself',
    keys: ['idle_minutes', 'down', 'wait_for', 'hook', 'hook_timeout'],
  },
  priority: { shapes: ['integer'], why: 'Kindtray does not queue managed jobs' },
  priority_class: { shapes: ['text'], why: 'Kindtray does not set a Pod priority class' },
  _no_missing_accel_warnings: { shapes: ['boolean'], why: 'it is SkyPilot\'s own' },
  _docker_login_config: { shapes: ['mapping'], why: 'it is SkyPilot\'s own: log in to the registry with docker login', keys: ['username', 'password', 'server'] },
  _is_image_managed: { shapes: ['boolean'], why: 'it is SkyPilot\'s own' },
  _requires_fuse: { shapes: ['boolean'], why: 'it is SkyPilot\'s own' },
  _cluster_config_overrides: { shapes: ['mapping'], why: 'it is SkyPilot\'s own' },
  region: { shapes: ['text'], why: `there are no regions ${localCluster}: with infra: k8s/CONTEXT the context says where` },
  zone: { shapes: ['text'], why: `there are no zones ${localCluster}` },
};

const SHAPE_WORDS: Record<Shape, string> = {
  boolean: 'true or false',
  text: 'text',
  number: 'a number',
  integer: 'a whole number',
  mapping: 'a mapping',
  list: 'a list',
};

export function shapeOf(v: SourceValue): Shape[] {
  if (v.kind === 'map') return ['mapping'];
  if (v.kind === 'seq') return ['list'];
  if (typeof v.value === 'boolean') return ['boolean'];
  if (typeof v.value === 'string') return ['text'];
  if (typeof v.value === 'number') return Number.isInteger(v.value) ? ['integer', 'number'] : ['number'];
  return [];
}

/** Empty or off: `false`, `{}`, `[]`, `""`. (A null value is "not given" and never reaches here.) */
export function isOff(v: SourceValue): boolean {
  if (v.kind === 'map') return v.entries.length === 0;
  if (v.kind === 'seq') return v.items.length === 0;
  return v.value === false || v.value === '';
}

/** The error for a value of the wrong shape, the warning for one that asks for something, or nothing. */
export function checkHint(key: string, hint: HintField, v: SourceValue): { error: string } | { warning: string } | undefined {
  if (!shapeOf(v).some((s) => hint.shapes.includes(s))) {
    const words = hint.shapes.map((s) => SHAPE_WORDS[s]);
    return { error: `${key} must be ${words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1] ?? ''}` : (words[0] ?? '')}, as in SkyPilot` };
  }
  const stray = hint.keys && v.kind === 'map' ? v.entries.find((e) => !hint.keys?.includes(e.key)) : undefined;
  if (stray) return { error: `${key} has no field ${quote(stray.key)} in SkyPilot: it has ${hint.keys?.join(', ') ?? ''}` };
  if (isOff(v)) return undefined;
  if (key === 'max_hourly_cost' && v.kind === 'scalar' && typeof v.value === 'number' && v.value <= 0) {
    return { error: 'max_hourly_cost must be more than 0, as in SkyPilot' };
  }
  const shown = v.kind === 'scalar' ? ` ${quote(v.text, 40)}` : '';
  return { warning: `${key}${shown} is accepted and ignored: ${hint.why}` };
}
