// The task schema: the SkyPilot-compatible subset Kindtray launches, checked
// field by field on the located tree from source.ts, so that every issue names
// its path and its place in the text. Hand-written rather than zod: each
// message is the one a user should read ("did you mean ports?"), and unknown
// fields are errors, never silently dropped.

import { checkEnvName, checkTaskName, parseCpus, parseImage, parseInfra, parseMemory } from './fields.ts';
import type { ResourceAmount } from './fields.ts';
import { childPath, issue, listWords, quote } from './issues.ts';
import type { SourcePosition, SourcePositions, ValidationIssue } from './issues.ts';
import { MAX_TASK_PORTS, parsePorts } from './ports.ts';
import { shallowPlain } from './source.ts';
import type { SourceEntry, SourceMap, SourceValue } from './source.ts';

export type { ResourceAmount } from './fields.ts';

export interface TaskResources {
  /** From `infra: k8s/CONTEXT`: the kubeconfig context to launch on. Absent: the default target (see cluster-check). */
  context?: string;
  /** Requested CPUs; `"2+"` (at least 2) requests 2 as well. */
  cpus?: ResourceAmount;
  /** Requested memory in GiB. */
  memory?: ResourceAmount;
  /** Ports the task listens on, sorted, each once: each becomes a Service port. */
  ports: number[];
  /** The container image, `docker:` prefix removed. Absent: the launcher's default image. */
  image?: string;
}

/** A task as the launcher takes it: normalized and typed. Field names are the YAML's, camel-cased. */
export interface TaskSpec {
  /** A valid Kubernetes name when given; absent: the launcher names the task. */
  name?: string;
  resources: TaskResources;
  /** Values as written: `1.0` stays "1.0", `true` stays "true". */
  envs: Record<string, string>;
  setup?: string;
  run?: string;
  workdir?: string;
  /** Only one node (one Pod) is supported. */
  numNodes: 1;
}

export interface SchemaOptions {
  maxPorts?: number;
}

export interface SchemaResult {
  task?: TaskSpec;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Where each known field was written, for issues found later (cluster-check). */
  positions: SourcePositions;
}

export const TASK_FIELDS = ['name', 'resources', 'envs', 'setup', 'run', 'workdir', 'num_nodes'] as const;
export const RESOURCE_FIELDS = ['infra', 'cpus', 'memory', 'ports', 'image_id'] as const;

type Level = 'task' | 'resources';

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

const FIELDS: Record<Level, readonly string[]> = { task: TASK_FIELDS, resources: RESOURCE_FIELDS };
const OTHER: Record<Level, Level> = { task: 'resources', resources: 'task' };

export function validateTaskSource(root: SourceValue, opts: SchemaOptions = {}): SchemaResult {
  const check = new TaskChecker(opts);
  const task = check.task(root);
  const { errors, warnings, positions } = check;
  return errors.length === 0 && task !== undefined ? { task, errors, warnings, positions } : { errors, warnings, positions };
}

class TaskChecker {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];
  readonly positions: SourcePositions = {};
  private readonly opts: SchemaOptions;

  constructor(opts: SchemaOptions) {
    this.opts = opts;
  }

  private error(path: string, message: string, at?: SourcePosition): void {
    this.errors.push(issue(path, message, at ?? this.positions[path]));
  }

  private warn(path: string, message: string, at?: SourcePosition): void {
    this.warnings.push(issue(path, message, at ?? this.positions[path]));
  }

  task(root: SourceValue): TaskSpec | undefined {
    if (root.kind === 'scalar' && root.value === null) {
      this.error('', 'the task is empty: write at least a run command, e.g. run: echo hello');
      return undefined;
    }
    if (root.kind !== 'map') {
      this.error('', `a task is a mapping of fields (${listWords([...TASK_FIELDS])}), not ${describe(root)}`, root.at);
      return undefined;
    }
    const fields = this.fields(root, '', 'task');

    const task: TaskSpec = { resources: { ports: [] }, envs: {}, numNodes: 1 };
    const name = fields.get('name');
    if (name !== undefined) {
      const text = this.text(name, 'name', 'write a name like "web-demo"');
      if (text !== undefined) {
        const wrong = checkTaskName(text);
        if (wrong !== undefined) this.error('name', wrong);
        else task.name = text;
      }
    }
    const resources = fields.get('resources');
    if (resources !== undefined) task.resources = this.resources(resources.value);
    const envs = fields.get('envs');
    if (envs !== undefined) task.envs = this.envs(envs.value);
    for (const key of ['setup', 'run'] as const) {
      const entry = fields.get(key);
      if (entry === undefined) continue;
      const text = this.text(entry, key, 'write the shell commands as text (a "|" block keeps several lines)');
      if (text !== undefined) task[key] = text;
    }
    const workdir = fields.get('workdir');
    if (workdir !== undefined) {
      if (workdir.value.kind === 'map') this.error('workdir', 'workdir is a local folder here: git workdirs are not supported');
      else {
        const text = this.text(workdir, 'workdir', 'write a folder path');
        if (text === '') this.error('workdir', 'workdir is empty: leave it out, or write a folder path');
        else if (text !== undefined) task.workdir = text;
      }
    }
    const numNodes = fields.get('num_nodes');
    if (numNodes !== undefined) this.numNodes(numNodes.value);

    if (task.run === undefined || task.run.trim() === '') {
      this.warn('run', task.setup === undefined ? 'the task has no run command: nothing will run' : 'the task has no run command: only setup will run');
    }
    return task;
  }

  /**
   * The known fields of a mapping, present and not null (YAML's `key:` with
   * nothing after it means "not given"). Records where each was written, and
   * reports every other key.
   */
  private fields(map: SourceMap, path: string, level: Level): Map<string, SourceEntry> {
    const known = new Map<string, SourceEntry>();
    for (const entry of map.entries) {
      const p = childPath(path, entry.key);
      if (!FIELDS[level].includes(entry.key)) {
        this.error(p, unknownFieldMessage(entry.key, level), entry.keyAt);
        continue;
      }
      const place = placeOf(entry);
      if (place) this.positions[p] = place;
      if (entry.value.kind === 'scalar' && entry.value.value === null) continue;
      known.set(entry.key, entry);
    }
    return known;
  }

  private text(entry: SourceEntry, path: string, how: string): string | undefined {
    const v = entry.value;
    if (v.kind === 'scalar' && typeof v.value === 'string') return v.value;
    this.error(path, `${path} must be text, not ${describe(v)}: ${how}`);
    return undefined;
  }

  private resources(v: SourceValue): TaskResources {
    const out: TaskResources = { ports: [] };
    if (v.kind !== 'map') {
      this.error('resources', `resources is a mapping of ${listWords([...RESOURCE_FIELDS])}, not ${describe(v)}`);
      return out;
    }
    const fields = this.fields(v, 'resources', 'resources');

    const infra = fields.get('infra');
    if (infra !== undefined) {
      const text = this.text(infra, 'resources.infra', 'write "k8s" or "k8s/CONTEXT"');
      if (text !== undefined) {
        const parsed = parseInfra(text);
        if ('error' in parsed) this.error('resources.infra', parsed.error);
        else if (parsed.context !== undefined) out.context = parsed.context;
      }
    }

    const cpus = fields.get('cpus');
    if (cpus !== undefined) {
      const parsed = parseCpus(scalarValue(cpus.value));
      if ('error' in parsed) this.error('resources.cpus', parsed.error);
      else out.cpus = parsed.amount;
    }
    const memory = fields.get('memory');
    if (memory !== undefined) {
      const parsed = parseMemory(scalarValue(memory.value));
      if ('error' in parsed) this.error('resources.memory', parsed.error);
      else out.memory = parsed.amount;
    }

    const ports = fields.get('ports');
    if (ports !== undefined) {
      if (ports.value.kind === 'seq') {
        ports.value.items.forEach((item, i) => {
          if (item.at) this.positions[`resources.ports[${i}]`] = item.at;
        });
      }
      if (ports.value.kind === 'map') {
        this.error('resources.ports', 'ports is a port, a range or a list of these, not a mapping: write e.g. [8080, "9000-9002"]');
      } else {
        const parsed = parsePorts(shallowPlain(ports.value), { path: 'resources.ports', maxPorts: this.opts.maxPorts ?? MAX_TASK_PORTS });
        for (const e of parsed.errors) this.error(e.path, e.message);
        out.ports = parsed.ports;
      }
    }

    const image = fields.get('image_id');
    if (image !== undefined) {
      if (image.value.kind === 'map') {
        this.error('resources.image_id', 'image_id is one image here: per-region maps are not supported; write e.g. docker:python:3.12-slim');
      } else {
        const text = this.text(image, 'resources.image_id', 'write e.g. docker:python:3.12-slim');
        if (text !== undefined) {
          const parsed = parseImage(text);
          if ('error' in parsed) this.error('resources.image_id', parsed.error);
          else out.image = parsed.image;
        }
      }
    }
    return out;
  }

  private envs(v: SourceValue): Record<string, string> {
    if (v.kind !== 'map') {
      this.error('envs', `envs is a mapping of NAME: value, not ${describe(v)}: write e.g. envs: { GREETING: hello }`);
      return {};
    }
    const entries: [string, string][] = [];
    for (const entry of v.entries) {
      const path = childPath('envs', entry.key);
      const place = placeOf(entry);
      if (place) this.positions[path] = place;
      const badName = checkEnvName(entry.key);
      if (badName !== undefined) {
        this.error(path, badName, entry.keyAt);
        continue;
      }
      const value = entry.value;
      if (value.kind !== 'scalar') {
        this.error(path, `${entry.key} must be text, a number or true/false, not ${describe(value)}`);
      } else if (value.value === null) {
        this.error(path, `${entry.key} has no value: give it one here (setting it at launch is not supported)`);
      } else {
        entries.push([entry.key, value.text]);
      }
    }
    // fromEntries defines own properties: a variable named __proto__ stays a variable.
    return Object.fromEntries(entries);
  }

  private numNodes(v: SourceValue): void {
    const n = v.kind === 'scalar' ? v.value : undefined;
    if (n === 1) return;
    if (typeof n === 'number' && Number.isInteger(n) && n > 1) {
      this.error('num_nodes', `Kindtray runs a task as one Pod: only num_nodes: 1 is supported, not ${n}`);
    } else {
      this.error('num_nodes', `num_nodes must be 1 (Kindtray runs a task as one Pod), not ${describe(v)}`);
    }
  }
}

/** Where to point for a field: at its value when that is on the key's line, else at the key. */
function placeOf(entry: SourceEntry): SourcePosition | undefined {
  const v = entry.value;
  if (v.kind === 'scalar' && v.value !== null && v.at) return v.at;
  return entry.keyAt ?? v.at;
}

function scalarValue(v: SourceValue): unknown {
  return v.kind === 'scalar' ? v.value : v.kind === 'seq' ? [] : {};
}

/** A value as a message names it: `a list`, `the number 3`, `"abc"`. */
function describe(v: SourceValue): string {
  if (v.kind === 'map') return 'a mapping';
  if (v.kind === 'seq') return 'a list';
  if (v.value === null) return 'empty';
  if (typeof v.value === 'string') return quote(v.value);
  if (typeof v.value === 'number') return `the number ${v.text}`;
  return v.text;
}

// ---------------------------------------------------------------------------
// Unknown fields

function unknownFieldMessage(key: string, level: Level): string {
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

/** Scratch rows for editDistance, reused: field names are short. */
const ROW = 64;
const rows = new Int32Array(ROW * 3);

/**
 * Optimal string alignment distance (insertions, deletions, substitutions and
 * swaps of neighbours), capped: anything over `max` answers `max + 1`. It runs
 * once per unknown key per field, and a 64 KiB document can hold thousands of
 * keys, so it allocates nothing.
 */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (b.length >= ROW) return a === b ? 0 : max + 1;
  // Three rows in one buffer: two back, one back, this one.
  let r2 = 0;
  let r1 = ROW;
  let r0 = 2 * ROW;
  for (let j = 0; j <= b.length; j++) rows[r1 + j] = j;
  for (let i = 1; i <= a.length; i++) {
    rows[r0] = i;
    let best = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min((rows[r1 + j] as number) + 1, (rows[r0 + j - 1] as number) + 1, (rows[r1 + j - 1] as number) + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) d = Math.min(d, (rows[r2 + j - 2] as number) + 1);
      rows[r0 + j] = d;
      if (d < best) best = d;
    }
    if (best > max) return max + 1;
    const oldest = r2;
    r2 = r1;
    r1 = r0;
    r0 = oldest;
  }
  return Math.min(rows[r1 + b.length] as number, max + 1);
}
