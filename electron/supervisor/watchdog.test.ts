import { describe, expect, it } from 'vitest';
import { Watchdog, type WatchdogVerdict } from './watchdog.ts';

function dog(ping: (signal: AbortSignal) => Promise<void>, missesBeforeRestart = 3) {
  const verdicts: WatchdogVerdict[] = [];
  const w = new Watchdog({ ping, intervalMs: 100, slowMs: 30, missesBeforeRestart, onVerdict: (v) => verdicts.push(v) });
  return { w, verdicts };
}

const never = (signal: AbortSignal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));

describe('the watchdog', () => {
  it('a prompt answer is healthy, a late one slow', async () => {
    const { w } = dog(async () => undefined);
    expect(await w.beat()).toBe('healthy');
    const slow = dog(() => new Promise((r) => setTimeout(r, 60)));
    expect(await slow.w.beat()).toBe('slow');
  });

  it('a worker that never answers is missed, then hung after N misses in a row; each beat ends at its deadline', async () => {
    const { w, verdicts } = dog(never, 3);
    const started = performance.now();
    await w.beat();
    await w.beat();
    await w.beat();
    expect(verdicts).toEqual(['missed', 'missed', 'hung']);
    // Three beats, each bounded by max(2 × slowMs, intervalMs) = 100 ms: never a hang.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('an answer in between resets the count', async () => {
    let answer = false;
    const { w, verdicts } = dog((signal) => (answer ? Promise.resolve() : never(signal)), 2);
    await w.beat();
    answer = true;
    await w.beat();
    answer = false;
    await w.beat();
    expect(verdicts).toEqual(['missed', 'healthy', 'missed']);
  });
});
