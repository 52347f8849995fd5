// "What happened?" answered by looking: state changes become bars, and the
// bars say when each subject went down and came back.

import { describe, expect, it } from 'vitest';
import { niceCeil, sparkline, ticks, timeWindow, timelineRows } from './timeline.ts';

const T0 = Date.parse('2026-01-15T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const good = (_subject: string, state: string) => state === 'running' || state === 'healthy' || state === 'ok';

describe('timeline', () => {
  it('Docker stopped at 10:20 and started at 10:25: three bars, one outage with its end', () => {
    const rows = timelineRows(
      [
        { at: at(0), subject: 'docker', state: 'running' },
        { at: at(20), subject: 'docker', state: 'stopped', cause: 'no socket' },
        { at: at(25), subject: 'docker', state: 'running' },
      ],
      T0,
      T0 + 60 * 60_000,
      good,
    );
    expect(rows).toHaveLength(1);
    const [docker] = rows;
    expect(docker?.segments.map((s) => [s.state, (s.from - T0) / 60_000, (s.to - T0) / 60_000, s.current])).toEqual([
      ['running', 0, 20, false],
      ['stopped', 20, 25, false],
      ['running', 25, 60, true],
    ]);
    expect(docker?.segments[1]?.cause).toBe('no socket');
    expect(docker?.outages).toEqual([{ from: T0 + 20 * 60_000, to: T0 + 25 * 60_000 }]);
  });

  it('clips a change from before the window to its start, and leaves an outage open while it lasts', () => {
    const rows = timelineRows([{ at: at(-30), subject: 'server', state: 'hung' }], T0, T0 + 60 * 60_000, good);
    expect(rows[0]?.segments).toEqual([{ state: 'hung', from: T0, to: T0 + 60 * 60_000, current: true }]);
    expect(rows[0]?.outages).toEqual([{ from: T0 }]);
  });

  it('orders rows Docker, clusters, contexts, server', () => {
    const rows = timelineRows(
      ['server', 'context:kind-dev', 'cluster:dev', 'docker'].map((subject) => ({ at: at(1), subject, state: 'x' })),
      T0,
      T0 + 3_600_000,
      good,
    );
    expect(rows.map((r) => r.subject)).toEqual(['docker', 'cluster:dev', 'context:kind-dev', 'server']);
  });

  it('merges repeated reports of the same state into one bar', () => {
    const rows = timelineRows(
      [
        { at: at(0), subject: 'docker', state: 'running' },
        { at: at(10), subject: 'docker', state: 'running' },
      ],
      T0,
      T0 + 3_600_000,
      good,
    );
    expect(rows[0]?.segments).toHaveLength(1);
  });
});

describe('the window', () => {
  it('is the last hour once there is an hour of history', () => {
    expect(timeWindow([{ at: at(-90) }], [], T0)).toEqual({ from: T0 - 3_600_000, to: T0 });
  });

  it('shrinks to a young history (at least 5 min), so a minute is not a sliver', () => {
    expect(timeWindow([{ at: at(-1) }], [], T0)).toEqual({ from: T0 - 5 * 60_000, to: T0 });
    expect(timeWindow([{ at: at(-20) }], [{ at: at(-10) }], T0).from).toBe(T0 - 21 * 60_000);
  });

  it('puts about six ticks at round minutes, none on top of "now"', () => {
    expect(ticks(T0 - 3_600_000, T0).map((t) => (t - T0) / 60_000)).toEqual([-60, -50, -40, -30, -20, -10]);
    expect(ticks(T0 - 5 * 60_000, T0).map((t) => (t - T0) / 60_000)).toEqual([-5, -4, -3, -2, -1]);
  });
});

describe('latency sparkline', () => {
  it('draws samples across the window, scaled to a round top', () => {
    const s = sparkline(
      [
        { at: at(0), ms: 3 },
        { at: at(30), ms: 12 },
        { at: at(60), ms: 6 },
      ],
      T0,
      T0 + 3_600_000,
      600,
      40,
    );
    expect(s.top).toBe(20);
    expect(s.path).toBe('M0.0,34.0L300.0,16.0L600.0,28.0');
    expect(s).toMatchObject({ min: 3, max: 12, last: 6 });
  });

  it('has no line for fewer than two samples', () => {
    expect(sparkline([], T0, T0 + 1, 10, 10).path).toBe('');
    expect(sparkline([{ at: at(0), ms: 1 }], T0, T0 + 60_000, 10, 10).path).toBe('');
  });

  it('rounds the scale up to 1, 2 or 5 times a power of ten', () => {
    expect([0.5, 3, 12, 50, 51, 900].map(niceCeil)).toEqual([1, 5, 20, 50, 100, 1000]);
  });
});
