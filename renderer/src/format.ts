// Display helpers: durations, times and tones (the colour family a state is
// drawn in). Words for states come from shared/view-words.ts.

import { useEffect, useState } from 'react';
import type { TaskState } from '../../shared/api.ts';
import type { ClusterState, ContextState, DockerState, OverallState, ServerState, Severity } from '../../shared/snapshot.ts';

export type Tone = 'ok' | 'warn' | 'error' | 'busy' | 'unknown' | 'idle';

// Starting is amber (warn), not busy-blue: the thing is not usable yet, and nothing is wrong with it either.
export const DOCKER_TONE: Record<DockerState, Tone> = {
  running: 'ok', starting: 'warn', stopped: 'error', 'no-permission': 'error', unresponsive: 'error', 'not-installed': 'error',
};
export const CLUSTER_TONE: Record<ClusterState, Tone> = {
  running: 'ok', starting: 'warn', degraded: 'warn', stopped: 'error', unreachable: 'error', unknown: 'unknown',
};
export const CONTEXT_TONE: Record<ContextState, Tone> = {
  ok: 'ok', checking: 'unknown', 'stale-endpoint': 'warn', dangling: 'warn', unreachable: 'error', 'auth-failed': 'error', unknown: 'unknown',
};
export const SERVER_TONE: Record<ServerState, Tone> = {
  healthy: 'ok', slow: 'warn', 'port-conflict': 'warn', restarting: 'busy', hung: 'error', down: 'error',
};
export const OVERALL_TONE: Record<OverallState, Tone> = { ok: 'ok', warn: 'warn', error: 'error', busy: 'busy' };
export const SEVERITY_TONE: Record<Severity, Tone> = { error: 'error', warn: 'warn', info: 'idle' };
export const TASK_TONE: Record<TaskState, Tone> = {
  waiting: 'warn', pending: 'busy', launching: 'busy', running: 'ok', succeeded: 'idle', failed: 'error', cancelled: 'idle',
};

/** The tone of a history subject's state (`docker`, `cluster:NAME`, `context:NAME`, `server`). */
export function toneOfSubjectState(subject: string, state: string): Tone {
  const kind = subject.split(':')[0];
  const table: Record<string, Tone> | undefined =
    kind === 'docker' ? DOCKER_TONE : kind === 'cluster' ? CLUSTER_TONE : kind === 'context' ? CONTEXT_TONE : kind === 'server' ? SERVER_TONE : undefined;
  return table?.[state] ?? 'unknown';
}

/** "850 ms", "12 s", "4 min 10 s", "3 h 5 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** "just now", "12 s ago", "4 min ago". */
export function formatAgo(ms: number): string {
  if (ms < 1500) return 'just now';
  const text = formatDuration(ms);
  // Seconds are noise beyond a minute.
  return `${text.replace(/ \d+ s$/, '')} ago`;
}

export function formatClock(iso: string | number): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The current time, re-read every `everyMs`, for "3 s ago" labels. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
