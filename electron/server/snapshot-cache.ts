// The worker's view of health: the latest snapshot the supervisor pushed, and
// its age. Validation reads it (principle 3); when it is too old the worker asks
// the supervisor to look again, and waits for that at most until its deadline.

import type { RefreshedMessage, SnapshotMessage } from '../../shared/contracts/worker.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';

export class SnapshotCache {
  private latest: { snapshot: HealthSnapshot; observedAt: number } | undefined;
  private readonly waiting = new Map<number, (s: HealthSnapshot | undefined) => void>();
  private nextId = 1;
  private readonly askRefresh: (requestId: number, context?: string) => void;
  private readonly listeners = new Set<(s: HealthSnapshot) => void>();

  constructor(askRefresh: (requestId: number, context?: string) => void) {
    this.askRefresh = askRefresh;
  }

  accept(m: SnapshotMessage | RefreshedMessage): void {
    this.latest = { snapshot: m.snapshot, observedAt: Date.now() - m.ageMs };
    if (m.type === 'refreshed') {
      this.waiting.get(m.requestId)?.(m.snapshot);
      this.waiting.delete(m.requestId);
    }
    for (const l of this.listeners) l(m.snapshot);
  }

  onChange(listener: (s: HealthSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  current(): { snapshot: HealthSnapshot; ageMs: number } | undefined {
    if (!this.latest) return undefined;
    return { snapshot: this.latest.snapshot, ageMs: Math.max(0, Date.now() - this.latest.observedAt) };
  }

  /**
   * The snapshot, refreshed first when older than `maxAgeMs` (or when `context` is
   * named and forced). Never waits longer than `waitMs`: then the stale one is the answer.
   */
  async fresh(opts: { maxAgeMs: number; waitMs: number; context?: string }): Promise<{ snapshot: HealthSnapshot; ageMs: number } | undefined> {
    const now = this.current();
    if (now && now.ageMs <= opts.maxAgeMs) return now;
    const id = this.nextId++;
    const answered = new Promise<HealthSnapshot | undefined>((resolve) => {
      this.waiting.set(id, resolve);
      setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, opts.waitMs).unref();
    });
    this.askRefresh(id, opts.context);
    await answered;
    return this.current();
  }
}
