// The task schema: SkyPilot's task format, whole, checked field by field on the
// located tree from source.ts, so that every issue names its path and its place
// in the text. Hand-written rather than zod: each message is the one a user
// should read ("did you mean ports?"), and unknown fields are errors, never
// silently dropped. The field names are in field-names.ts; resources in
// resources-schema.ts; file_mounts, service, config and secrets in
// task-extras.ts; fields with no local meaning in hint-fields.ts.

import { checkTaskName } from './fields.ts';
import { FIELDS, TASK_FIELDS, unknownFieldMessage } from './field-names.ts';
import type { Level } from './field-names.ts';
import { checkHint, TASK_HINTS } from './hint-fields.ts';
import { childPath, issue, listWords, quote } from './issues.ts';
import type { SourcePosition, SourcePositions, ValidationIssue } from './issues.ts';
import { MAX_TASK_PORTS } from './ports.ts';
import { checkResources } from './resources-schema.ts';
import type { Reporter, ResourceChoice, TaskResources } from './resources-schema.ts';
import { checkConfig, checkFileMounts, checkService, checkVariables } from './task-extras.ts';
import type { FileMount, Plain, ServiceSpec } from './task-extras.ts';
import type { SourceEntry, SourceMap, SourceValue } from './source.ts';

export type { ResourceAmount } from './fields.ts';
export type { AcceleratorRequest, ResourceChoice, TaskResources } from './resources-schema.ts';
export type { FileMount, Plain, ReadinessProbe, ServiceSpec } from './task-extras.ts';
export { RESOURCE_FIELDS, TASK_FIELDS } from './field-names.ts';

/** A task as the launcher takes it: normalized and typed. Field names are the YAML's, camel-cased. */
export interface TaskSpec {
  /** A SkyPilot task name when given (the Pod's name is derived from it); absent: the launcher names the task. */
  name?: string;
  /** The resources to run with: with any_of / ordered, the set the cluster check chose (the first set until then). */
  resources: TaskResources;
  /** any_of / ordered, as written (each set merged over the common fields). */
  resourceChoice?: ResourceChoice;
  /** Values as SkyPilot's loader makes them text (str() of PyYAML 1.1): `1.0` → "1.0", `yes` → "True", `0x10` → "16"; quoted ones as written. */
  envs: Record<string, string>;
  /** Secret values (never shown): a launch puts them in a Kubernetes Secret. */
  secrets?: Record<string, string>;
  /** envs and secrets the file leaves null: a launch must be given them. */
  requiredAtLaunch?: { envs: string[]; secrets: string[] };
  setup?: string;
  run?: string;
  /** A local folder (to copy into the Pods), as written. */
  workdir?: string;
  /** A git workdir: `{url, ref}`. */
  workdirGit?: { url: string; ref?: string };
  /** How many nodes SkyPilot runs it on: the launcher makes one Pod a node. */
  numNodes: number;
  fileMounts?: FileMount[];
  service?: ServiceSpec;
  /** config.kubernetes.pod_config: merged into the Pod, as SkyPilot does. */
  podConfig?: { [key: string]: Plain };
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

class TaskChecker implements Reporter {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];
  readonly positions: SourcePositions = {};
  readonly maxPorts: number;

  constructor(opts: SchemaOptions) {
    this.maxPorts = opts.maxPorts ?? MAX_TASK_PORTS;
  }

  error(path: string, message: string, at?: SourcePosition): void {
    this.errors.push(issue(path, message, at ?? this.positions[path]));
  }

  warn(path: string, message: string, at?: SourcePosition): void {
    this.warnings.push(issue(path, message, at ?? this.positions[path]));
  }

  task(root: SourceValue): TaskSpec | undefined {
    if (root.kind === 'scalar' && root.value === null) {
      this.error('', 'the task is empty: write at least a run command, e.g. run: echo hello');
      return undefined;
    }
    if (root.kind !== 'map') {
      this.error('', `a task is a mapping of fields (${listWords(TASK_FIELDS.slice(0, 7))} …), not ${describe(root)}`, root.at);
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
    if (resources !== undefined) {
      const checked = checkResources(this, resources.value);
      task.resources = checked.resources;
      if (checked.choice) task.resourceChoice = checked.choice;
    }
    this.variables(task, fields);
    for (const key of ['setup', 'run'] as const) {
      const entry = fields.get(key);
      if (entry === undefined) continue;
      const text = this.text(entry, key, 'write the shell commands as text (a "|" block keeps several lines)');
      if (text !== undefined) task[key] = text;
    }
    const workdir = fields.get('workdir');
    if (workdir !== undefined) this.workdir(task, workdir);
    const numNodes = fields.get('num_nodes');
    if (numNodes !== undefined) this.numNodes(task, numNodes.value);
    const fileMounts = fields.get('file_mounts');
    if (fileMounts !== undefined) {
      const mounts = checkFileMounts(this, fileMounts.value);
      if (mounts.length > 0) task.fileMounts = mounts;
    }
    const service = fields.get('service');
    if (service !== undefined) {
      const spec = checkService(this, service.value, task.resources.ports);
      if (spec) task.service = spec;
    }
    const config = fields.get('config');
    if (config !== undefined) {
      const podConfig = checkConfig(this, config.value);
      if (podConfig) task.podConfig = podConfig;
    }
    for (const [key, hint] of Object.entries(TASK_HINTS)) {
      const entry = fields.get(key);
      if (entry === undefined) continue;
      const said = checkHint(key, hint, entry.value);
      if (said && 'error' in said) this.error(key, said.error);
      else if (said) this.warn(key, said.warning);
    }

    if (task.run === undefined || task.run.trim() === '') {
      this.warn('run', task.setup === undefined ? 'the task has no run command: nothing will run' : 'the task has no run command: only setup will run');
    }
    return task;
  }

  /**
   * The known fields of a mapping, present and not null (YAML's `key:` with
   * nothing after it means "not given"). Records where each was written, and
   * reports every other key. `skip`: keys the caller reads itself.
   */
  fields(map: SourceMap, path: string, level: Level, skip: readonly string[] = []): Map<string, SourceEntry> {
    const known = new Map<string, SourceEntry>();
    for (const entry of map.entries) {
      if (skip.includes(entry.key)) continue;
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

  text(entry: SourceEntry, path: string, how: string): string | undefined {
    const v = entry.value;
    if (v.kind === 'scalar' && typeof v.value === 'string') return v.value;
    this.error(path, `${path} must be text, not ${describe(v)}: ${how}`);
    return undefined;
  }

  private variables(task: TaskSpec, fields: Map<string, SourceEntry>): void {
    const envs = fields.get('envs');
    const secrets = fields.get('secrets');
    const required = { envs: [] as string[], secrets: [] as string[] };
    if (envs !== undefined) {
      const checked = checkVariables(this, envs, 'envs');
      task.envs = checked.values;
      required.envs = checked.required;
    }
    if (secrets !== undefined) {
      const checked = checkVariables(this, secrets, 'secrets');
      // The launcher gives them to the Pod through a Kubernetes Secret of the task's own.
      if (Object.keys(checked.values).length > 0) task.secrets = checked.values;
      required.secrets = checked.required;
      for (const k of Object.keys(checked.values)) {
        if (Object.hasOwn(task.envs, k)) this.error(childPath('secrets', k), `${k} is both an env and a secret: keep one`);
      }
    }
    if (required.envs.length + required.secrets.length > 0) task.requiredAtLaunch = required;
  }

  private workdir(task: TaskSpec, entry: SourceEntry): void {
    const v = entry.value;
    if (v.kind === 'map') {
      const url = v.entries.find((e) => e.key === 'url');
      const ref = v.entries.find((e) => e.key === 'ref');
      const other = v.entries.find((e) => e.key !== 'url' && e.key !== 'ref');
      if (other) this.error(childPath('workdir', other.key), `a git workdir has url and ref, not ${quote(other.key)}`, other.keyAt);
      if (url?.value.kind !== 'scalar' || typeof url.value.value !== 'string' || url.value.value.trim() === '') {
        this.error('workdir', 'a git workdir needs a url: workdir: {url: https://github.com/org/repo, ref: main}');
        return;
      }
      const refText = ref?.value.kind === 'scalar' && ref.value.value !== null ? ref.value.text : undefined;
      task.workdirGit = { url: url.value.value, ...(refText !== undefined && { ref: refText }) };
    } else {
      const text = this.text(entry, 'workdir', 'write a folder path');
      if (text === '') this.error('workdir', 'workdir is empty: leave it out, or write a folder path');
      else if (text !== undefined) task.workdir = text;
    }
    // A local workdir is copied into ~/sky_workdir at launch (electron/server/file-sync-*.ts); a git one is not cloned.
    if (task.workdirGit !== undefined) {
      this.warn('workdir', 'a git workdir is not cloned into the Pod yet: setup and run start in the image\'s working directory');
    }
  }

  private numNodes(task: TaskSpec, v: SourceValue): void {
    const n = v.kind === 'scalar' ? v.value : undefined;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      this.error('num_nodes', `num_nodes is a whole number of nodes, at least 1, not ${describe(v)}`);
      return;
    }
    task.numNodes = n;
  }
}

/** Where to point for a field: at its value when that is on the key's line, else at the key. */
function placeOf(entry: SourceEntry): SourcePosition | undefined {
  const v = entry.value;
  if (v.kind === 'scalar' && v.value !== null && v.at) return v.at;
  return entry.keyAt ?? v.at;
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
