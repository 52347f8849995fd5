// The last hour, for "what happened?": every state change of Docker, each
// cluster and context, and the server, plus a sample of the server's latency.
// Kept in memory, bounded by age and count.

import type { HistoryResponse, StateChange } from '../../shared/contracts/history.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';


const HOUR_MS = 60 * 60_000;
const MAX_CHANGES = 5_000;
const MAX_SAMPLES = 1_000;

function subjects(s: HealthSnapshot): Map<string, { state: string; cause?: string }> {
  const m = new Map<string, { state: string; cause?: string }>();
  const put = (k: string, state: string, cause?: string) => m.set(k, cause ? { state, cause } : { state });
  put('docker', s.docker.state, s.docker.cause);
  for (const c of s.clusters) put(`cluster:${c.name}`, c.state, c.cause);
  for (const c of s.contexts) put(`context:${c.name}`, c.state, c.cause);
  put('server', s.server.state, s.server.cause);
  return m;
}

export class History {
  private readonly changes: StateChange[] = [];
  private readonly latency: HistoryResponse['latency'] = [];
  private last = new Map<string, { state: string; cause?: string }>();

  /** Records what changed since the last snapshot; the first snapshot records every subject. */
  observe(s: HealthSnapshot, now = Date.now()): void {
    const next = subjects(s);
    const at = new Date(now).toISOString();
    for (const [subject, v] of next) {
      if (this.last.get(subject)?.state !== v.state) this.changes.push({ at, subject, ...v });
    }
    for (const subject of this.last.keys()) {
      if (!next.has(subject)) this.changes.push({ at, subject, state: 'removed' });
    }
    this.last = next;
    this.trim(now);
  }

  /** An entry of its own (a cluster created, and how long it took), beside the changes snapshots show. */
  note(subject: string, state: string, cause: string, now = Date.now()): void {
    this.changes.push({ at: new Date(now).toISOString(), subject, state, cause });
    this.trim(now);
  }

  sampleLatency(ms: number, now = Date.now()): void {
    this.latency.push({ at: new Date(now).toISOString(), ms: Math.round(ms * 10) / 10 });
    this.trim(now);
  }

  view(now = Date.now()): HistoryResponse {
    this.trim(now);
    return { changes: [...this.changes], latency: [...this.latency] };
  }

  private trim(now: number): void {
    const cutoff = new Date(now - HOUR_MS).toISOString();
    // Keep the newest change before the cutoff per subject, so the timeline knows each subject's state at its start.
    while (this.changes.length > MAX_CHANGES) this.changes.shift();
    while (this.latency.length > MAX_SAMPLES || (this.latency[0] && this.latency[0].at < cutoff)) this.latency.shift();
    const found = this.changes.findIndex((c) => c.at >= cutoff);
    const firstInWindow = found < 0 ? this.changes.length : found;
    if (firstInWindow > 0) {
      const before = this.changes.slice(0, firstInWindow);
      const keep = new Map<string, StateChange>();
      for (const c of before) keep.set(c.subject, { ...c, at: cutoff });
      this.changes.splice(0, firstInWindow, ...keep.values());
    }
  }
}
