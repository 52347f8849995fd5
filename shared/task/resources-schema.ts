// The `resources` mapping, and each set of its `any_of` / `ordered` lists:
// every field SkyPilot's resources schema has, read as its Kubernetes backend
// reads it (infra/cloud/region → the context, cpus, memory, accelerators,
// ports, image_id), or accepted with a warning when it means nothing on a
// local cluster (hint-fields.ts).

import { parseAccelerators } from './accelerators.ts';
import type { AcceleratorRequest } from './accelerators.ts';
import { isKnownCloud, isKubernetesCloud, parseCpus, parseImage, parseInfra, parseMemory } from './fields.ts';
import type { ResourceAmount } from './fields.ts';
import type { Level } from './field-names.ts';
import { checkHint, RESOURCE_HINTS } from './hint-fields.ts';
import { childPath, itemPath, listWords, quote } from './issues.ts';
import type { SourcePosition, SourcePositions } from './issues.ts';
import { parsePorts } from './ports.ts';
import { shallowPlain } from './source.ts';
import type { SourceEntry, SourceMap, SourceValue } from './source.ts';

export type { AcceleratorRequest } from './accelerators.ts';

export interface TaskResources {
  /** From `infra: k8s/CONTEXT` (or `cloud: kubernetes` + `region: CONTEXT`): the kubeconfig context. Absent: the default target. */
  context?: string;
  /** A cloud the file names (`infra: aws/us-east-1`, `cloud: gcp`): valid SkyPilot, refused by the cluster check with where to run instead. */
  cloud?: string;
  /** Requested CPUs; `"2+"` (at least 2) requests 2 as well. */
  cpus?: ResourceAmount;
  /** Requested memory in GiB (`32GB` and `4x` resolved). */
  memory?: ResourceAmount;
  /** GPUs (or other accelerators) on one node: any one of these, in order of preference. */
  accelerators?: AcceleratorRequest[];
  /** Ports the task listens on, sorted, each once: each becomes a Service port. */
  ports: number[];
  /** The container image, `docker:` prefix removed. Absent: the launcher's default image. */
  image?: string;
}

/** `any_of` / `ordered`: the sets the cluster check chooses from (the first it can satisfy). */
export interface ResourceChoice {
  mode: 'any_of' | 'ordered';
  sets: TaskResources[];
}

/** What the task checker lends the resources checker: where issues go, and its field reader. */
export interface Reporter {
  readonly positions: SourcePositions;
  readonly maxPorts: number;
  error(path: string, message: string, at?: SourcePosition): void;
  warn(path: string, message: string, at?: SourcePosition): void;
  fields(map: SourceMap, path: string, level: Level, skip?: readonly string[]): Map<string, SourceEntry>;
  text(entry: SourceEntry, path: string, how: string): string | undefined;
}

const DISK_WHY =
  'the Pod uses the node\'s disk, and Kindtray asks for no ephemeral storage: SkyPilot\'s disk sizes (256 GiB by default) are more than a local node has';

/** `resources` → its one set, or the sets of any_of / ordered merged over it (a set's fields win, as in SkyPilot). */
export function checkResources(r: Reporter, v: SourceValue): { resources: TaskResources; choice?: ResourceChoice } {
  if (v.kind !== 'map') {
    r.error('resources', `resources is a mapping of fields (cpus, memory, accelerators, ports, image_id, infra …), not ${v.kind === 'seq' ? 'a list' : quote(v.text)}`);
    return { resources: { ports: [] } };
  }
  const base = checkSet(r, v, 'resources', []);
  const anyOf = v.entries.find((e) => e.key === 'any_of' && !isNull(e.value));
  const ordered = v.entries.find((e) => e.key === 'ordered' && !isNull(e.value));
  if (anyOf && ordered) r.error('resources.ordered', 'resources may have any_of or ordered, not both (as in SkyPilot)');
  const list = ordered ?? anyOf;
  if (!list) return { resources: base.resources };
  const mode = list === ordered ? 'ordered' : 'any_of';
  const path = `resources.${mode}`;
  if (list.value.kind !== 'seq' || list.value.items.length === 0) {
    r.error(path, `${mode} is a list of resource sets, e.g. [{accelerators: A100:1}, {accelerators: T4:1}]`);
    return { resources: base.resources };
  }
  const sets: TaskResources[] = [];
  list.value.items.forEach((item, i) => {
    const p = itemPath(path, i);
    if (item.at) r.positions[p] = item.at;
    if (item.kind !== 'map') {
      r.error(p, `each set in ${mode} is a mapping of resource fields, e.g. {accelerators: T4:1}`);
      return;
    }
    const inner = item.entries.find((e) => e.key === 'any_of' || e.key === 'ordered');
    if (inner) r.error(childPath(p, inner.key), `a set in ${mode} cannot hold ${inner.key} itself`);
    const keys = new Set(item.entries.map((e) => e.key));
    const set = checkSet(r, item, p, ['any_of', 'ordered']).resources;
    const merged: TaskResources = { ...base.resources };
    for (const [k, value] of Object.entries(set) as [keyof TaskResources, never][]) {
      if (k !== 'ports' || keys.has('ports')) merged[k] = value;
    }
    sets.push(merged);
  });
  const first = sets[0] ?? base.resources;
  return { resources: first, choice: { mode, sets } };
}

const isNull = (v: SourceValue): boolean => v.kind === 'scalar' && v.value === null;

function checkSet(r: Reporter, v: SourceMap, path: string, skip: readonly string[]): { resources: TaskResources } {
  const out: TaskResources = { ports: [] };
  const fields = r.fields(v, path, 'resources', skip);
  const at = (k: string) => childPath(path, k);

  for (const [key, hint] of Object.entries(RESOURCE_HINTS)) {
    const entry = fields.get(key);
    if (entry === undefined || key === 'region') continue;
    const said = checkHint(key, hint, entry.value);
    if (said && 'error' in said) r.error(at(key), said.error);
    else if (said) r.warn(at(key), said.warning);
  }

  checkWhere(r, fields, path, out);

  const cpus = fields.get('cpus');
  if (cpus !== undefined) {
    const parsed = parseCpus(scalarValue(cpus.value));
    if ('error' in parsed) r.error(at('cpus'), parsed.error);
    else out.cpus = parsed.amount;
  }
  const memory = fields.get('memory');
  if (memory !== undefined) {
    const parsed = parseMemory(scalarValue(memory.value));
    if ('error' in parsed) r.error(at('memory'), parsed.error);
    else if ('perCpu' in parsed) {
      if (out.cpus) out.memory = { amount: parsed.perCpu.amount * out.cpus.amount, orMore: parsed.perCpu.orMore || out.cpus.orMore };
      else r.warn(at('memory'), `memory ${quote(memory.value.kind === 'scalar' ? memory.value.text : '')} is per CPU, and no cpus are given: Kindtray asks for no memory`);
    } else out.memory = parsed.amount;
  }

  const accelerators = fields.get('accelerators');
  const gpus = fields.get('gpus');
  if (accelerators && gpus) r.error(at('gpus'), 'gpus is another name for accelerators: write one of them');
  const accel = accelerators ?? gpus;
  if (accel !== undefined) {
    const parsed = parseAccelerators(accel.value, accel.key);
    if ('error' in parsed) r.error(at(accel.key), parsed.error);
    else out.accelerators = parsed.alternatives;
  }

  const ports = fields.get('ports');
  if (ports !== undefined) {
    if (ports.value.kind === 'seq') {
      ports.value.items.forEach((item, i) => {
        if (item.at) r.positions[`${at('ports')}[${i}]`] = item.at;
      });
    }
    if (ports.value.kind === 'map') {
      r.error(at('ports'), 'ports is a port, a range or a list of these, not a mapping: write e.g. [8080, "9000-9002"]');
    } else {
      const parsed = parsePorts(shallowPlain(ports.value), { path: at('ports'), maxPorts: r.maxPorts });
      for (const e of parsed.errors) r.error(e.path, e.message);
      out.ports = parsed.ports;
    }
  }

  const image = fields.get('image_id');
  if (image !== undefined) checkImage(r, image, at('image_id'), out);

  for (const key of ['disk_size', 'ephemeral_storage']) {
    const disk = fields.get(key);
    if (disk === undefined) continue;
    const d = disk.value;
    const ok = d.kind === 'scalar' && (Number.isInteger(d.value) || (typeof d.value === 'string' && /^\d+\s*([kmgtp]i?b?)?$/i.test(d.value.trim())));
    if (!ok) r.error(at(key), `${key} is a whole number of GiB or a size like "100GB", as in SkyPilot`);
    else r.warn(at(key), `${key} ${quote(d.text)} is accepted and ignored: ${DISK_WHY}`);
  }
  return { resources: out };
}

/** infra, or the older cloud + region: the context to run on, or the cloud the file names. */
function checkWhere(r: Reporter, fields: Map<string, SourceEntry>, path: string, out: TaskResources): void {
  const at = (k: string) => childPath(path, k);
  const infra = fields.get('infra');
  const cloud = fields.get('cloud');
  const region = fields.get('region');
  if (infra !== undefined) {
    const text = r.text(infra, at('infra'), 'write "k8s" or "k8s/CONTEXT"');
    if (text !== undefined) {
      const parsed = parseInfra(text);
      if ('error' in parsed) r.error(at('infra'), parsed.error);
      else if (parsed.cloud !== undefined) out.cloud = parsed.cloud;
      else if (parsed.context !== undefined) out.context = parsed.context;
    }
    if (cloud !== undefined) r.error(at('cloud'), 'cloud and infra say the same thing: write only infra (e.g. k8s/CONTEXT)');
  } else if (cloud !== undefined) {
    const text = r.text(cloud, at('cloud'), 'write kubernetes');
    if (text !== undefined && !isKnownCloud(text)) r.error(at('cloud'), `${quote(text)} is not a cloud SkyPilot knows: write infra: k8s/CONTEXT`);
    else if (text !== undefined && isKubernetesCloud(text)) {
      // `cloud: kubernetes` is `infra: k8s`; its region is the context.
      const context = region?.value.kind === 'scalar' && typeof region.value.value === 'string' ? region.value.value.trim() : undefined;
      if (context) out.context = context;
      return;
    } else if (text !== undefined) out.cloud = text;
  }
  if (region !== undefined) {
    const hint = RESOURCE_HINTS.region;
    const said = hint && checkHint('region', hint, region.value);
    if (said && 'error' in said) r.error(at('region'), said.error);
    else if (said) r.warn(at('region'), said.warning);
  }
}

function checkImage(r: Reporter, entry: SourceEntry, path: string, out: TaskResources): void {
  let value = entry.value;
  if (value.kind === 'map') {
    // A per-region map: one image runs everywhere on a cluster.
    const [first, ...more] = value.entries;
    if (first === undefined) return;
    const regions = value.entries.map((e) => e.key);
    r.warn(path, `image_id is a per-region map: Kindtray has no regions and uses ${quote(first.key)}'s image${more.length > 0 ? ` (of ${listWords(regions.map((k) => quote(k)))})` : ''}`);
    value = first.value;
  }
  if (value.kind !== 'scalar' || typeof value.value !== 'string') {
    r.error(path, 'image_id must be text, e.g. docker:python:3.12-slim');
    return;
  }
  const parsed = parseImage(value.value);
  if ('error' in parsed) r.error(path, parsed.error);
  else out.image = parsed.image;
}

function scalarValue(v: SourceValue): unknown {
  return v.kind === 'scalar' ? v.value : v.kind === 'seq' ? [] : {};
}
