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

  it('no answer for hungAfterMs is hung, even before N misses: told within the bound after the last answer', async () => {
    let answer = true;
    const verdicts: WatchdogVerdict[] = [];
    const w = new Watchdog({ ping: (signal) => (answer ? Promise.resolve() : never(signal)), intervalMs: 100, slowMs: 30, missesBeforeRestart: 10, hungAfterMs: 250, onVerdict: (v) => verdicts.push(v) });
    expect(await w.beat()).toBe('healthy');
    const lastAnswer = performance.now();
    answer = false;
    let v: WatchdogVerdict = 'healthy';
    while (v !== 'hung' && performance.now() - lastAnswer < 2_000) v = await w.beat();
    expect(v).toBe('hung');
    expect(verdicts.filter((x) => x === 'missed').length).toBeLessThan(9);
    // Each beat's deadline is cut to what is left of hungAfterMs: hung is told at about 250 ms, not at 10 misses (1 s).
    const at = performance.now() - lastAnswer;
    expect(at).toBeGreaterThanOrEqual(230);
    expect(at).toBeLessThan(600);
  });
});
