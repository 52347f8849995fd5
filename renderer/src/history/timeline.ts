// The last hour as pictures: each subject's state changes become bars along a
// time axis, and the server's latency samples a sparkline. Pure: history in,
// geometry out.

import type { StateChange } from '../server-api.ts';

export interface Segment {
  state: string;
  cause?: string;
  /** Milliseconds since the epoch, clipped to the window. */
  from: number;
  to: number;
  /** True for the open, current segment (its end is "now"). */
  current: boolean;
}

export interface SubjectRow {
  subject: string;
  segments: Segment[];
  /** Times the subject went from good to bad and back, for "down 3 min, back at 10:05". */
  outages: { from: number; to?: number }[];
}

const SUBJECT_ORDER = (s: string): number => (s === 'docker' ? 0 : s.startsWith('cluster:') ? 1 : s.startsWith('context:') ? 2 : s === 'server' ? 3 : 4);

/** Each subject's changes as consecutive segments within [from, to]; before its first change, nothing is drawn. */
export function timelineRows(changes: readonly StateChange[], from: number, to: number, isGood: (subject: string, state: string) => boolean): SubjectRow[] {
  const bySubject = new Map<string, StateChange[]>();
  for (const c of [...changes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    const list = bySubject.get(c.subject) ?? [];
    list.push(c);
    bySubject.set(c.subject, list);
  }
  const rows: SubjectRow[] = [];
  for (const [subject, list] of bySubject) {
    const segments: Segment[] = [];
    list.forEach((c, i) => {
      const start = Date.parse(c.at);
      const next = list[i + 1];
      const end = next ? Date.parse(next.at) : to;
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      if (b <= a && next) return;
      const last = segments[segments.length - 1];
      if (last && last.state === c.state) {
        last.to = Math.max(last.to, b);
        last.current = !next;
        return;
      }
      segments.push({ state: c.state, ...(c.cause ? { cause: c.cause } : {}), from: a, to: Math.max(a, b), current: !next });
    });
    const outages: SubjectRow['outages'] = [];
    for (const s of segments) {
      const bad = !isGood(subject, s.state) && s.state !== 'removed';
      const open = outages[outages.length - 1];
      if (bad && (!open || open.to !== undefined)) outages.push({ from: s.from });
      if (!bad && open && open.to === undefined) open.to = s.from;
    }
    rows.push({ subject, segments, outages });
  }
  return rows.sort((a, b) => SUBJECT_ORDER(a.subject) - SUBJECT_ORDER(b.subject) || a.subject.localeCompare(b.subject));
}

export interface Sparkline {
  /** SVG path `d`, empty with fewer than two samples. */
  path: string;
  /** The area under the line, closed along the bottom. */
  area: string;
  min: number;
  max: number;
  last?: number;
  /** The y scale's top (max rounded up), for the axis label. */
  top: number;
}

/** Latency samples → a path in a `width` × `height` box, time on x over [from, to]. */
export function sparkline(samples: readonly { at: string; ms: number }[], from: number, to: number, width: number, height: number): Sparkline {
  const pts = samples
    .map((s) => ({ t: Date.parse(s.at), ms: s.ms }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.ms) && p.t >= from && p.t <= to)
    .sort((a, b) => a.t - b.t);
  if (pts.length === 0) return { path: '', area: '', min: 0, max: 0, top: 1 };
  const values = pts.map((p) => p.ms);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const top = niceCeil(max);
  const x = (t: number) => ((t - from) / Math.max(1, to - from)) * width;
  const y = (ms: number) => height - (ms / top) * height;
  const coords = pts.map((p) => `${x(p.t).toFixed(1)},${y(p.ms).toFixed(1)}`);
  const path = pts.length < 2 ? '' : `M${coords.join('L')}`;
  const first = pts[0] as { t: number };
  const last = pts[pts.length - 1] as { t: number; ms: number };
  const area = pts.length < 2 ? '' : `${path}L${x(last.t).toFixed(1)},${height}L${x(first.t).toFixed(1)},${height}Z`;
  return { path, area, min, max, last: last.ms, top };
}

/**
 * The span to draw: the last hour, or less when the history is younger (just
 * started), so a minute of history is not a sliver at the right edge.
 */
export function timeWindow(changes: readonly { at: string }[], latency: readonly { at: string }[], now: number, hourMs = 3_600_000, minMs = 5 * 60_000): { from: number; to: number } {
  const times = [...changes, ...latency].map((c) => Date.parse(c.at)).filter(Number.isFinite);
  const earliest = times.length > 0 ? Math.min(...times) : now - hourMs;
  const span = Math.min(hourMs, Math.max(minMs, (now - earliest) * 1.05));
  return { from: now - span, to: now };
}

/** Axis ticks at round minutes: about six across the window. */
export function ticks(from: number, to: number): number[] {
  const minute = 60_000;
  const step = [1, 2, 5, 10, 15, 30, 60].map((m) => m * minute).find((s) => (to - from) / s <= 7) ?? 60 * minute;
  const out: number[] = [];
  // No tick so close to the right edge that it would run into "now".
  for (let t = Math.ceil(from / step) * step; t <= to - (to - from) * 0.07; t += step) out.push(t);
  return out;
}

/** 1, 2, 5, 10, 20, 50, … at or above `n`. */
export function niceCeil(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}
