// The watchdog: pings the API worker on a fixed beat and says what its answers
// mean. A slow answer is `slow`; a missed one is a miss; `missesBeforeRestart`
// misses in a row, or no answer for `hungAfterMs`, whichever comes first, is
// `hung`, and the owner restarts the worker. The ping carries its own deadline
// (cut short so that "no answer for hungAfterMs" is told on time), so the
// watchdog itself can never hang.

import { WORKER_HUNG_AFTER_MS } from '../../shared/constants.ts';
import { withDeadline } from '../../shared/deadline.ts';

export type WatchdogVerdict = 'healthy' | 'slow' | 'missed' | 'hung';

export interface WatchdogOptions {
  /** One round trip to the worker; must honour the signal. */
  ping: (signal: AbortSignal) => Promise<void>;
  intervalMs: number;
  slowMs: number;
  missesBeforeRestart: number;
  /** No answer for this long is hung. Default WORKER_HUNG_AFTER_MS. */
  hungAfterMs?: number;
  onVerdict: (verdict: WatchdogVerdict, info: { latencyMs?: number; misses: number }) => void;
}

/** A ping always gets at least this long, however little of hungAfterMs is left. */
const MIN_PING_MS = 50;
/** Timers fire a little early or late; a miss this close to hungAfterMs counts as reaching it. */
const TIMER_SLACK_MS = 20;

export class Watchdog {
  private readonly opts: WatchdogOptions;
  private timer: NodeJS.Timeout | undefined;
  private misses = 0;
  private running = false;
  /** performance.now() of the last answer (or of the start). */
  private lastAnswerAt = performance.now();

  constructor(opts: WatchdogOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.misses = 0;
    this.lastAnswerAt = performance.now();
    this.schedule(this.opts.intervalMs);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** One beat: ping, judge, schedule the next. Exposed for tests. */
  async beat(): Promise<WatchdogVerdict> {
    const started = performance.now();
    // A ping gets at most one interval (a beat never overlaps the next), and no longer than "hung" allows.
    const hungAfter = this.opts.hungAfterMs ?? WORKER_HUNG_AFTER_MS;
    const left = this.lastAnswerAt + hungAfter - started;
    const deadline = Math.max(MIN_PING_MS, Math.min(Math.max(this.opts.slowMs * 2, this.opts.intervalMs), left));
    let verdict: WatchdogVerdict;
    let latencyMs: number | undefined;
    try {
      await withDeadline('API worker ping', deadline, (signal) => this.opts.ping(signal));
      latencyMs = performance.now() - started;
      this.misses = 0;
      this.lastAnswerAt = performance.now();
      verdict = latencyMs > this.opts.slowMs ? 'slow' : 'healthy';
    } catch {
      this.misses += 1;
      const silentFor = performance.now() - this.lastAnswerAt;
      verdict = this.misses >= this.opts.missesBeforeRestart || silentFor >= hungAfter - TIMER_SLACK_MS ? 'hung' : 'missed';
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
