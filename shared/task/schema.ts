// The task schema: the SkyPilot-compatible subset Kindtray launches, checked
// field by field on the located tree from source.ts, so that every issue names
// its path and its place in the text. Hand-written rather than zod: each
// message is the one a user should read ("did you mean ports?"), and unknown
// fields are errors, never silently dropped. The field names, and the messages
// for keys that are none of them, are in field-names.ts.

import { checkEnvName, checkTaskName, parseCpus, parseImage, parseInfra, parseMemory } from './fields.ts';
import type { ResourceAmount } from './fields.ts';
import { FIELDS, RESOURCE_FIELDS, TASK_FIELDS, unknownFieldMessage } from './field-names.ts';
import type { Level } from './field-names.ts';
import { childPath, issue, listWords, quote } from './issues.ts';
import type { SourcePosition, SourcePositions, ValidationIssue } from './issues.ts';
import { MAX_TASK_PORTS, parsePorts } from './ports.ts';
import { shallowPlain } from './source.ts';
import type { SourceEntry, SourceMap, SourceValue } from './source.ts';

export type { ResourceAmount } from './fields.ts';
export { RESOURCE_FIELDS, TASK_FIELDS } from './field-names.ts';

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
