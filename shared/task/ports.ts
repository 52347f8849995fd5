// Port maths for a task's `resources.ports`, as SkyPilot writes them: an int,
// "N", "A-B", or a list of these. Pure: parsing answers every problem with its
// path (`resources.ports[1]`) and a message, and the result is normalized, so
// the launcher and the port plan never see duplicates, overlaps or 10,000 ports.

import { issue, itemPath, quote } from './issues.ts';
import type { ValidationIssue } from './issues.ts';

export const MIN_PORT = 1;
export const MAX_PORT = 65_535;
/**
 * At most this many ports in one task, all items together. Each becomes a
 * Service port and wants a NodePort, of which a cluster has 2,768 in all.
 */
export const MAX_TASK_PORTS = 100;
/** Kubernetes' default NodePort range (`--service-node-port-range`). */
export const NODE_PORT_MIN = 30_000;
export const NODE_PORT_MAX = 32_767;

/** Inclusive at both ends; a single port has `from === to`. */
export interface PortRange {
  from: number;
  to: number;
}

export interface ParsedPorts {
  /** Sorted, disjoint, adjacent ranges merged: the canonical form. */
  ranges: PortRange[];
  /** Every port, sorted, each once. */
  ports: number[];
  errors: ValidationIssue[];
}

export interface ParsePortsOptions {
  /** The path of the ports value, for issues. Default `resources.ports`. */
  path?: string;
  /** Default MAX_TASK_PORTS. */
  maxPorts?: number;
}

const HOW = 'write a number like 8080, or a range like "9000-9002"';

/** One written item: where it stood in the list and what it said. */
interface PortItem {
  path: string;
  index: number;
  written: string;
  range: PortRange;
}

/** `resources.ports` as written → normalized ranges and ports, or issues saying what is wrong where. */
export function parsePorts(value: unknown, opts: ParsePortsOptions = {}): ParsedPorts {
  const path = opts.path ?? 'resources.ports';
  const maxPorts = opts.maxPorts ?? MAX_TASK_PORTS;
  const errors: ValidationIssue[] = [];
  if (value === null || value === undefined) return { ranges: [], ports: [], errors };

  const written: { path: string; value: unknown }[] = Array.isArray(value)
    ? value.map((v, i) => ({ path: itemPath(path, i), value: v }))
    : [{ path, value }];

  const items: PortItem[] = [];
  written.forEach((w, index) => {
    const parsed = parsePortItem(w.value);
    if ('error' in parsed) {
      errors.push(issue(w.path, parsed.error));
      return;
    }
    const count = parsed.range.to - parsed.range.from + 1;
    if (count > maxPorts) {
      errors.push(issue(w.path, `${quote(parsed.written)} is ${count} ports: a task may ask for at most ${maxPorts} ports in all`));
      return;
    }
    items.push({ path: w.path, index, written: parsed.written, range: parsed.range });
  });

  errors.push(...findClashes(items));

  const ranges = mergeRanges(items.map((it) => it.range));
  const ports = expandRanges(ranges);
  if (ports.length > maxPorts) {
    errors.push(issue(path, `the task asks for ${ports.length} ports in all: at most ${maxPorts}`));
  }
  return { ranges, ports, errors };
}

type ItemResult = { range: PortRange; written: string } | { error: string };

function parsePortItem(value: unknown): ItemResult {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { error: `${value} is not a whole number: a port is a whole number from 1 to 65535` };
    return single(value, String(value));
  }
  if (typeof value === 'string') {
    const text = value.trim();
    const one = /^\d+$/.exec(text);
    if (one) return single(Number(text), text);
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(text);
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      for (const p of [from, to]) {
        if (p < MIN_PORT || p > MAX_PORT) return { error: `${quote(text)}: port ${p} is out of range: ports are 1 to 65535` };
      }
      if (from > to) return { error: `${quote(text)} is backwards: write "${to}-${from}"` };
      return { range: { from, to }, written: text };
    }
    if (/^-?\d+\.\d+$/.test(text)) return { error: `${quote(text)} is not a whole number: a port is a whole number from 1 to 65535` };
    if (/^-\d+$/.test(text)) return { error: `port ${text} is out of range: ports are 1 to 65535` };
    if (/^\d+\/(tcp|udp|sctp)$/i.test(text)) return { error: `${quote(text)}: write the port without a protocol (ports are TCP): ${text.split('/')[0]}` };
    return { error: `${quote(text)} is not a port: ${HOW}` };
  }
  if (value === null || value === undefined) return { error: `an empty item is not a port: ${HOW}` };
  if (typeof value === 'boolean') return { error: `${value} is not a port: ${HOW}` };
  return { error: `a ${Array.isArray(value) ? 'list' : 'mapping'} is not a port: ${HOW}` };
}

function single(port: number, written: string): ItemResult {
  if (port < MIN_PORT || port > MAX_PORT) return { error: `port ${written} is out of range: ports are 1 to 65535` };
  return { range: { from: port, to: port }, written };
}

const isSingle = (r: PortRange): boolean => r.from === r.to;

/**
 * Duplicates and overlaps, each reported on the item written later and naming
 * the one written earlier. A sweep over items sorted by start: anything that
 * starts before the furthest end seen so far clashes with the item that reaches it.
 */
function findClashes(items: readonly PortItem[]): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const sorted = [...items].sort((a, b) => a.range.from - b.range.from || a.index - b.index);
  let reach: PortItem | undefined;
  for (const it of sorted) {
    if (reach !== undefined && it.range.from <= reach.range.to) {
      const [earlier, later] = reach.index < it.index ? [reach, it] : [it, reach];
      out.push(issue(later.path, clashMessage(earlier, later)));
    }
    if (reach === undefined || it.range.to > reach.range.to) reach = it;
  }
  return out.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
}

function clashMessage(earlier: PortItem, later: PortItem): string {
  const a = earlier.range;
  const b = later.range;
  if (a.from === b.from && a.to === b.to) {
    const what = isSingle(a) ? `port ${a.from}` : quote(later.written);
    return `${what} is listed twice: at ${earlier.path} and ${later.path}`;
  }
  const both = { from: Math.max(a.from, b.from), to: Math.min(a.to, b.to) };
  if (isSingle(b)) return `port ${b.from} is already in ${quote(earlier.written)} at ${earlier.path}`;
  if (isSingle(a)) return `${quote(later.written)} includes port ${a.from}, already listed at ${earlier.path}`;
  return `${quote(later.written)} overlaps ${quote(earlier.written)} at ${earlier.path}: both include ${formatRange(both)}`;
}

/** Sorted, with overlapping and adjacent ranges joined. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

export function expandRanges(ranges: readonly PortRange[]): number[] {
  const out: number[] = [];
  for (const r of mergeRanges(ranges)) for (let p = r.from; p <= r.to; p++) out.push(p);
  return out;
}

/** A list of ports → the fewest ranges that hold exactly them. */
export function toRanges(ports: readonly number[]): PortRange[] {
  return mergeRanges(ports.map((p) => ({ from: p, to: p })));
}

const formatRange = (r: PortRange): string => (isSingle(r) ? String(r.from) : `${r.from}-${r.to}`);

/**
 * The inverse of parsePorts: ranges → the value to write as `resources.ports`
 * (`[8080, "9000-9002"]`), so that parsePorts(formatPorts(r)).ranges equals
 * mergeRanges(r).
 */
export function formatPorts(ranges: readonly PortRange[]): (number | string)[] {
  return mergeRanges(ranges).map((r) => (isSingle(r) ? r.from : formatRange(r)));
}

/** For messages: `8080, 9000-9002`. */
export function describePorts(ports: readonly number[] | readonly PortRange[]): string {
  const ranges = ports.map((p) => (typeof p === 'number' ? { from: p, to: p } : p));
  return mergeRanges(ranges).map(formatRange).join(', ');
}
