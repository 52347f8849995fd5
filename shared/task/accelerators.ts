// `accelerators` (and its alias `gpus`) in every form SkyPilot reads: `T4`,
// `T4:1`, `{T4: 1}`, `{V100: 1, A100: 1}` (any one of them), `[V100:1, A100:1]`
// (in that order of preference), and the string forms of the last two
// (`"{V100:1, A100:1}"`, `"[V100, A100]"`). The answer is a normalized
// request: the alternatives, each a type and a count.

import { quote } from './issues.ts';
import type { SourceValue } from './source.ts';

export interface AcceleratorRequest {
  /** As written: `H100`, `A100-80GB`, `tpu-v5-lite-podslice`. */
  name: string;
  /** How many on one node; SkyPilot allows fractions (`0.5`) on some clouds. */
  count: number;
  /** Set by the cluster check: the GPU type label a node that offers it advertised, for the Pod's node selector. */
  nodeLabel?: { key: string; value: string };
}

export type AcceleratorResult = { alternatives: AcceleratorRequest[] } | { error: string };

const EXAMPLE = 'write e.g. T4:1, {A100: 8} or [V100:1, A100:1]';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `H100:8` as a message shows a request. */
export const formatAccelerator = (a: AcceleratorRequest): string => `${a.name}:${a.count}`;

export function parseAccelerators(v: SourceValue, field: string): AcceleratorResult {
  if (v.kind === 'map') {
    const out: AcceleratorRequest[] = [];
    for (const e of v.entries) {
      const count = e.value.kind === 'scalar' ? e.value.value : undefined;
      // YAML reads `{L4:1, A100:1}` (no space after the colon) as keys "L4:1" with no value: SkyPilot reads them as requests.
      const one = count === null && e.key.includes(':') ? fromText(e.key, field) : request(e.key, count === null ? 1 : count, field);
      if ('error' in one) return one;
      out.push(one);
    }
    return out.length > 0 ? { alternatives: out } : { error: `${field} is an empty mapping: ${EXAMPLE}` };
  }
  if (v.kind === 'seq') {
    const out: AcceleratorRequest[] = [];
    for (const item of v.items) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string') return { error: `each item of ${field} is text like "A100:1": ${EXAMPLE}` };
      const one = fromText(item.value, field);
      if ('error' in one) return one;
      out.push(one);
    }
    return out.length > 0 ? { alternatives: out } : { error: `${field} is an empty list: ${EXAMPLE}` };
  }
  if (typeof v.value !== 'string') return { error: `${field} must be text or a mapping, not ${v.text}: ${EXAMPLE}` };
  const text = v.value.trim();
  // SkyPilot reads a set or list written as a string by splitting it.
  const inner = /^\{(.*)\}$/s.exec(text) ?? /^\[(.*)\]$/s.exec(text);
  if (inner) {
    const out: AcceleratorRequest[] = [];
    for (const part of (inner[1] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const one = fromText(part.replace(/\s*:\s*/, ':'), field);
      if ('error' in one) return one;
      out.push(one);
    }
    return out.length > 0 ? { alternatives: out } : { error: `${field} ${quote(text)} names no accelerator: ${EXAMPLE}` };
  }
  const one = fromText(text, field);
  return 'error' in one ? one : { alternatives: [one] };
}

function fromText(text: string, field: string): AcceleratorRequest | { error: string } {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return request(text.trim(), 1, field);
  const count = text.slice(colon + 1).trim();
  return request(text.slice(0, colon).trim(), count === '' ? Number.NaN : Number(count), field);
}

function request(name: string, count: unknown, field: string): AcceleratorRequest | { error: string } {
  if (!NAME.test(name)) return { error: `${field}: ${quote(name)} is not an accelerator name: ${EXAMPLE}` };
  if (typeof count !== 'number' || !Number.isFinite(count) || count <= 0) {
    return { error: `${field}: the count of ${name} must be a number more than 0: ${EXAMPLE}` };
  }
  return { name, count };
}
