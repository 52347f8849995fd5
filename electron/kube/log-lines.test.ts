// Lines of a followed log and its cursor (log-lines.ts): timestamps come off,
// a line cut in two waits for its end, and a resumed stream drops exactly what
// the cursor says was taken, whether the server honours sinceTime to the
// nanosecond or cuts it to the second.

import { describe, expect, it } from 'vitest';
import { LogLineCutter, timestampKey } from './log-lines.ts';

const T = (ms: number, nanos = '000000') => `2026-12-06T00:00:0${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}${nanos}Z`;
const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A log as the API sends it with timestamps=true. */
function apiLog(lines: [string, string][]): string {
  return lines.map(([t, l]) => `${t} ${l}\n`).join('');
}

describe('timestampKey', () => {
  it('writes every RFC3339 form as UTC with 9 fraction digits, so keys sort as time', () => {
    expect(timestampKey('2026-12-06T00:02:50.123456789Z')).toBe('2026-12-06T00:02:50.123456789Z');
    expect(timestampKey('2026-12-06T00:02:50.12Z')).toBe('2026-12-06T00:02:50.120000000Z');
    expect(timestampKey('2026-12-06T00:02:50Z')).toBe('2026-12-06T00:02:50.000000000Z');
    expect(timestampKey('2026-12-06T01:02:50.5+01:00')).toBe('2026-12-06T00:02:50.500000000Z');
    expect(timestampKey('hello')).toBeUndefined();
    expect(timestampKey('2026-12-06 00:02:50Z')).toBeUndefined();
  });
});

describe('LogLineCutter', () => {
  it('takes the timestamps off and moves the cursor to the last line', () => {
    const c = new LogLineCutter();
    const out = c.push(enc(apiLog([[T(100), 'one'], [T(200), 'two words']])));
    expect(text(out.data)).toBe('one\ntwo words\n');
    expect(out.lines).toBe(2);
    expect(c.since()).toEqual({ time: T(200), seen: 1 });
  });

  it('holds a line cut in two until its newline; a final end keeps a last line without one', () => {
    const c = new LogLineCutter();
    const all = apiLog([[T(100), 'héllo wörld']]) + `${T(300)} no newline`;
    const bytes = enc(all);
    let got = '';
    for (let i = 0; i < bytes.length; i += 5) got += text(c.push(bytes.subarray(i, i + 5)).data);
    expect(got).toBe('héllo wörld\n');
    expect(c.held()).toBeGreaterThan(0);
    expect(text(c.end(true).data)).toBe('no newline');
    expect(c.since()).toEqual({ time: T(300), seen: 1 });
  });

  it('an end that is not final drops the unfinished line and leaves the cursor before it, for the next read to bring whole', () => {
    const c = new LogLineCutter();
    c.push(enc(`${apiLog([[T(100), 'a']])}${T(200)} half`));
    expect(c.end(false).data.length).toBe(0);
    expect(c.since()).toEqual({ time: T(100), seen: 1 });
  });

  it('resumed from a cursor, drops what was taken: lines before it, and as many lines at its time as it saw', () => {
    const log: [string, string][] = [
      [T(1100), 'a'],
      [T(1200), 'b1'],
      [T(1200), 'b2'],
      [T(1200), 'b3'],
      [T(1300), 'c'],
    ];
    // First read: up to b2.
    const first = new LogLineCutter();
    const firstText = text(first.push(enc(apiLog(log.slice(0, 3)))).data);
    expect(firstText).toBe('a\nb1\nb2\n');
    const since = first.since();
    expect(since).toEqual({ time: T(1200), seen: 2 });
    // A server that honours sinceTime exactly sends from the cursor's time…
    const exact = new LogLineCutter(since);
    expect(text(exact.push(enc(apiLog(log.slice(1)))).data)).toBe('b3\nc\n');
    // …one that cuts it to the second sends the whole second again.
    const cut = new LogLineCutter(since);
    expect(text(cut.push(enc(apiLog(log))).data)).toBe('b3\nc\n');
    expect(cut.since()).toEqual({ time: T(1300), seen: 1 });
    // Taken together: every line once, in order.
    expect(firstText + 'b3\nc\n').toBe(log.map(([, l]) => `${l}\n`).join(''));
  });

  it('a cursor at a time with more lines than it saw keeps counting from there', () => {
    const c = new LogLineCutter({ time: T(1200), seen: 1 });
    c.push(enc(apiLog([[T(1200), 'b1'], [T(1200), 'b2']])));
    expect(c.since()).toEqual({ time: T(1200), seen: 2 });
  });

  it('a line without a timestamp (a server that ignores timestamps=true) is kept whole and moves no cursor', () => {
    const c = new LogLineCutter();
    expect(text(c.push(enc('plain line\n')).data)).toBe('plain line\n');
    expect(c.since()).toBeUndefined();
  });
});
