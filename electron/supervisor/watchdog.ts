// The watchdog: pings the API worker on a fixed beat and says what its answers
// mean. A slow answer is `slow`; a missed one is a miss; `missesBeforeRestart`
// misses in a row is `hung`, and the owner restarts the worker. The ping
// carries its own deadline, so the watchdog itself can never hang.

import { withDeadline } from '../../shared/deadline.ts';

export type WatchdogVerdict = 'healthy' | 'slow' | 'missed' | 'hung';

export interface WatchdogOptions {
  /** One round trip to the worker; must honour the signal. */
  ping: (signal: AbortSignal) => Promise<void>;
  intervalMs: number;
  slowMs: number;
  missesBeforeRestart: number;
  onVerdict: (verdict: WatchdogVerdict, info: { latencyMs?: number; misses: number }) => void;
}

export class Watchdog {
  private readonly opts: WatchdogOptions;
  private timer: NodeJS.Timeout | undefined;
  private misses = 0;
  private running = false;

  constructor(opts: WatchdogOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.misses = 0;
    this.schedule(this.opts.intervalMs);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** One beat: ping, judge, schedule the next. Exposed for tests. */
  async beat(): Promise<WatchdogVerdict> {
    const started = performance.now();
    // A ping gets at most one interval: a beat never overlaps the next.
    const deadline = Math.max(this.opts.slowMs * 2, this.opts.intervalMs);
    let verdict: WatchdogVerdict;
    let latencyMs: number | undefined;
    try {
      await withDeadline('API worker ping', deadline, (signal) => this.opts.ping(signal));
      latencyMs = performance.now() - started;
      this.misses = 0;
      verdict = latencyMs > this.opts.slowMs ? 'slow' : 'healthy';
    } catch {
      this.misses += 1;
      verdict = this.misses >= this.opts.missesBeforeRestart ? 'hung' : 'missed';
    }
    this.opts.onVerdict(verdict, { ...(latencyMs !== undefined ? { latencyMs } : {}), misses: this.misses });
    return verdict;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(async () => {
      const started = Date.now();
      await this.beat();
      this.schedule(Math.max(0, this.opts.intervalMs - (Date.now() - started)));
    }, ms);
    this.timer.unref();
  }
}
