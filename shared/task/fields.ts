// Checks for single task field values, each answering in the user's words what
// is wrong and what to write instead. Pure, and usable on their own (the CLI's
// `launch --infra k8s/CONTEXT` goes through parseInfra too).

import { listWords, quote } from './issues.ts';

// ---------------------------------------------------------------------------
// name

/**
 * SkyPilot's task names: ASCII letters and digits, with single or double ".",
 * "_" or "-" between them (`minGPT-ddp`, `train.v2`, `my__job`). The Pod and
 * Service names are derived from it (electron/server/pod-plan.ts, podNameFor),
 * so a name need not be a Kubernetes name itself.
 */
const SKYPILOT_NAME = /^[A-Za-z0-9]+(?:[._-]{1,2}[A-Za-z0-9]+)*$/;
/** Longest name accepted: SkyPilot sets none; this keeps messages and records readable. */
export const TASK_NAME_MAX_LENGTH = 253;

export function isValidTaskName(name: string): boolean {
  return name.length <= TASK_NAME_MAX_LENGTH && SKYPILOT_NAME.test(name);
}

/** Why `name` is not a valid task name, with a fixed name to use; undefined when it is valid. */
export function checkTaskName(name: string): string | undefined {
  if (isValidTaskName(name)) return undefined;
  if (name === '') return 'name is empty: leave it out and Kindtray names the task, or write one like "web-demo"';
  const wrong: string[] = [];
  if (name.length > TASK_NAME_MAX_LENGTH) wrong.push(`it is ${name.length} characters long`);
  const bad = [...new Set([...name].filter((c) => !/[A-Za-z0-9._-]/.test(c)))];
  const has = bad.slice(0, 5).map((c) => (c === ' ' ? 'spaces' : quote(c)));
  if (bad.length > 5) has.push('more');
  if (has.length > 0) wrong.push(`it has ${listWords(has)}`);
  if (!/^[A-Za-z0-9]/.test(name)) wrong.push(`it starts with ${quote(name.charAt(0))}`);
  if (!/[A-Za-z0-9]$/.test(name) && name.length > 1) wrong.push(`it ends with ${quote(name.charAt(name.length - 1))}`);
  if (/[._-]{3}/.test(name)) wrong.push('it has three or more ".", "_" or "-" in a row');
  return (
    `name ${quote(name)} is not a valid task name: ${wrong.join('; ')}. ` +
    'A name is letters, digits and single or double ".", "_" or "-" between them, as in SkyPilot: ' +
    `try ${quote(suggestTaskName(name), 80)}`
  );
}

/** The nearest valid name: `Web Demo v2!` → `Web-Demo-v2`. */
export function suggestTaskName(name: string): string {
  const fixed = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/([._-]{2})[._-]+/g, '$1')
    .replace(/^[._-]+/, '')
    .slice(0, TASK_NAME_MAX_LENGTH)
    .replace(/[._-]+$/, '');
  return fixed === '' ? 'task' : fixed;
}

// ---------------------------------------------------------------------------
// infra

/** What `infra` may name before the slash: Kubernetes, as SkyPilot spells it. */
const KUBERNETES_INFRA = new Set(['k8s', 'kubernetes']);
/** Other SkyPilot infras, to tell "not here" apart from "misspelled". */
const OTHER_CLOUDS = new Set([
  'aws', 'gcp', 'azure', 'lambda', 'runpod', 'paperspace', 'cudo', 'fluidstack', 'ibm', 'oci', 'scp',
  'vsphere', 'do', 'nebius', 'vast', 'ssh', 'hyperbolic', 'seeweb', 'primeintellect', 'slurm', 'local',
]);

export type InfraResult = { context?: string; cloud?: string } | { error: string };

/**
 * `k8s` → default target; `k8s/kind-dev` (or `kubernetes/…`) → that context.
 * A cloud SkyPilot knows (`aws`, `gcp/us-central1`, `*`) is a valid infra, as
 * SkyPilot's schema says, and comes back as `cloud`: where it can run is the
 * cluster check's business. Anything else is refused.
 */
export function parseInfra(value: string): InfraResult {
  const text = value.trim();
  const slash = text.indexOf('/');
  const head = (slash < 0 ? text : text.slice(0, slash)).toLowerCase();
  // Everything after the first slash: context names may hold slashes (EKS ARNs).
  const rest = slash < 0 ? undefined : text.slice(slash + 1).trim();
  if (KUBERNETES_INFRA.has(head)) {
    if (rest === undefined) return {};
    if (rest === '') return { error: `${quote(text)} names no context after the "/": write "k8s" for the default cluster, or "k8s/CONTEXT"` };
    return { context: rest };
  }
  if (text === '') return { error: 'infra is empty: write "k8s" for the default cluster, or "k8s/CONTEXT"' };
  // A bare "*" is any infra, Kubernetes included: the default cluster.
  if (text === '*') return {};
  if (OTHER_CLOUDS.has(head) || head === '*') {
    if (rest !== undefined && (rest === '' || rest.split('/').length > 2 || rest.split('/').some((p) => p.trim() === ''))) {
      return { error: `infra ${quote(text)} is not cloud[/region[/zone]]: write e.g. "aws/us-east-1", or "k8s/CONTEXT"` };
    }
    return { cloud: text };
  }
  return { error: `${quote(text)} is not a Kubernetes infra: to launch on context ${text}, write ${quote(`k8s/${text}`, 80)}` };
}

/** `cloud:` as SkyPilot's older files write it: `kubernetes`/`k8s`, or another cloud. */
export function isKubernetesCloud(cloud: string): boolean {
  return KUBERNETES_INFRA.has(cloud.trim().toLowerCase());
}
export function isKnownCloud(cloud: string): boolean {
  return isKubernetesCloud(cloud) || OTHER_CLOUDS.has(cloud.trim().toLowerCase());
}

// ---------------------------------------------------------------------------
// cpus and memory

/** `2` (a request of 2) or `"2+"` (at least 2); on Kubernetes both request `amount`. */
export interface ResourceAmount {
  amount: number;
  orMore: boolean;
}

export type AmountResult = { amount: ResourceAmount } | { error: string };

const AMOUNT = /^(\d+(?:\.\d*)?|\.\d+)\s*(\+)?$/;
/** A memory size with a unit (SkyPilot's `32GB`, `512M`, `1TB+`): units of 1024, as SkyPilot counts them. */
const MEMORY_WITH_UNIT = /^(\d+(?:\.\d*)?|\.\d+)\s*([kmgtpKMGTP])(i?)[bB]?\s*(\+)?$/;
/** `4x`: 4 GiB for each CPU, as SkyPilot reads it. */
const MEMORY_PER_CPU = /^(\d+(?:\.\d*)?|\.\d+)\s*[xX]\s*(\+)?$/;
const GIB_PER_UNIT: Record<string, number> = { k: 1 / (1024 * 1024), m: 1 / 1024, g: 1, t: 1024, p: 1024 * 1024 };

export function parseCpus(value: unknown): AmountResult {
  return parseAmount(value, 'cpus', '');
}

/** Memory in GiB: a number, "N+", "32GB", "512M+", or "4x" (per CPU: resolved against cpus by the caller). */
export function parseMemory(value: unknown): AmountResult | { perCpu: ResourceAmount } {
  if (typeof value === 'string') {
    const unit = MEMORY_WITH_UNIT.exec(value.trim());
    if (unit) {
      const gib = Number(unit[1]) * (GIB_PER_UNIT[(unit[2] ?? 'g').toLowerCase()] ?? 1);
      if (!(gib > 0)) return { error: `memory must be more than 0: write a number like 2, or "2+" for at least 2 GiB` };
      return { amount: { amount: gib, orMore: unit[4] === '+' } };
    }
    const perCpu = MEMORY_PER_CPU.exec(value.trim());
    if (perCpu) {
      const parsed = parseAmount(`${perCpu[1] ?? ''}${perCpu[2] ?? ''}`, 'memory', ' GiB');
      return 'error' in parsed ? parsed : { perCpu: parsed.amount };
    }
  }
  return parseAmount(value, 'memory', ' GiB');
}

function parseAmount(value: unknown, field: string, unit: string): AmountResult {
  const how = `write a number like 2, or "2+" for at least 2${unit}${field === 'memory' ? ' ("32GB" and "4x", 4 GiB per CPU, work too)' : ''}`;
  let amount: number;
  let orMore = false;
  if (typeof value === 'number') {
    amount = value;
  } else if (typeof value === 'string') {
    const m = AMOUNT.exec(value.trim());
    if (!m) return { error: `${field} ${quote(value)} is not a number: ${how}` };
    amount = Number(m[1]);
    orMore = m[2] === '+';
  } else {
    return { error: `${field} must be a number: ${how}` };
  }
  if (!Number.isFinite(amount)) return { error: `${field} must be a finite number: ${how}` };
  if (amount <= 0) return { error: `${field} must be more than 0: ${how}` };
  return { amount: { amount, orMore } };
}

export function formatAmount(a: ResourceAmount, unit = ''): string {
  return `${a.amount}${unit}${a.orMore ? ' or more' : ''}`;
}

// ---------------------------------------------------------------------------
// image_id

const IMAGE_EXAMPLE = 'write e.g. docker:python:3.12-slim or ghcr.io/org/app:1.0';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

export type ImageResult = { image: string } | { error: string };

/** `docker:python:3.12-slim` (as SkyPilot writes it) or `python:3.12-slim` → `python:3.12-slim`. */
export function parseImage(value: string): ImageResult {
  const text = value.trim();
  const ref = text.startsWith('docker:') ? text.slice('docker:'.length).trim() : text;
  if (ref === '') return { error: `image_id ${quote(text)} names no image: ${IMAGE_EXAMPLE}` };
  const why = imageRefProblem(ref);
  if (why !== undefined) return { error: `image_id ${quote(text)} is not an image reference: ${why}; ${IMAGE_EXAMPLE}` };
  return { image: ref };
}

function imageRefProblem(ref: string): string | undefined {
  if (ref.length > 255) return 'it is longer than 255 characters';
  if (/\s/.test(ref)) return 'it has spaces';
  const [nameAndTag = '', digest, ...more] = ref.split('@');
  if (more.length > 0) return 'it has more than one "@"';
  if (digest !== undefined && !DIGEST.test(digest)) return `the digest after "@" is not like sha256:<64 hex digits>`;
  const lastSlash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.lastIndexOf(':');
  const tag = colon > lastSlash ? nameAndTag.slice(colon + 1) : undefined;
  const name = tag === undefined ? nameAndTag : nameAndTag.slice(0, colon);
  if (tag !== undefined && !TAG.test(tag)) return `the tag ${quote(tag)} may have only letters, digits, "_", "." and "-" (at most 128)`;
  const parts = name.split('/');
  const first = parts[0] ?? '';
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain && !DOMAIN.test(first)) return `the registry ${quote(first)} is not a host name`;
  const path = hasDomain ? parts.slice(1) : parts;
  for (const p of path) {
    if (p === '') return 'it has an empty part between "/"';
    if (/[A-Z]/.test(p)) return 'repository names are lower-case';
    if (!PATH_COMPONENT.test(p)) return `${quote(p)} may have only lower-case letters, digits and single ".", "_" or "-" between them`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// envs

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEnvName(name: string): string | undefined {
  if (ENV_NAME.test(name)) return undefined;
  const fixed = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_');
  return `${quote(name)} is not a valid environment variable name: use letters, digits and "_", not starting with a digit (e.g. ${quote(fixed || 'MY_VAR')})`;
}
