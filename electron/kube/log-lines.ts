// The lines of a followed log (timestamps=true: "<RFC3339Nano> <text>\n"),
// cut from the bytes as they come, each kept or dropped by the cursor: a
// resumed stream starts at the cursor's timestamp, or at its second when the
// server cuts sinceTime so, and what the cursor says was taken is dropped.
// Kept lines lose their timestamp; the cursor moves to the last one kept.

import type { LogSince } from '../../shared/contracts/kube-log.ts';

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;
const NEWLINE = 0x0a;
const SPACE = 0x20;
/** An RFC3339Nano timestamp with an offset is 35 characters; look no further for its end. */
const MAX_TIMESTAMP_CHARS = 40;

/**
 * A timestamp as a key that sorts as time does: UTC, 9 fraction digits
 * (`2026-12-06T00:02:50.120000000Z`). The kubelet writes 9 digits, others
 * trim zeros or write an offset. Undefined when it is no RFC3339 time.
 */
export function timestampKey(text: string): string | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, seconds = '', fraction = '', zone = 'Z'] = m;
  const nanos = fraction.padEnd(9, '0');
  if (zone === 'Z') return `${seconds}.${nanos}Z`;
  const ms = Date.parse(`${seconds}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}

export interface CutLines {
  /** The kept lines, timestamps off, each with its newline (the last one of a final read maybe without). */
  data: Buffer;
  lines: number;
}

/** Cuts a followed log into lines and keeps those after the cursor. */
export class LogLineCutter {
  private rest: Buffer = Buffer.alloc(0);
  private cursor: LogSince | undefined;
  /** Lines at the resume timestamp still to drop (taken before the reconnect). */
  private skip: number;
  private readonly from: string | undefined;

  constructor(since?: LogSince) {
    this.cursor = since ? { ...since } : undefined;
    this.from = since?.time;
    this.skip = since?.seen ?? 0;
  }

  /** Where the stream is: the last line kept (the resume point it was given, before any). */
  since(): LogSince | undefined {
    return this.cursor ? { ...this.cursor } : undefined;
  }

  /** Bytes held: a line still without its newline. */
  held(): number {
    return this.rest.length;
  }

  /** Takes what came; answers the whole lines kept. A line cut in two waits for its end. */
  push(chunk: Uint8Array): CutLines {
    const all = this.rest.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.rest, chunk]);
    const out: Buffer[] = [];
    let lines = 0;
    let start = 0;
    for (let nl = all.indexOf(NEWLINE, start); nl >= 0; nl = all.indexOf(NEWLINE, start)) {
      if (this.take(all.subarray(start, nl + 1), out)) lines++;
      start = nl + 1;
    }
    // Copied: the chunk's memory is the transport's.
    this.rest = Buffer.from(all.subarray(start));
    return { data: out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out), lines };
  }

  /**
   * The stream ended. `final` (the container has ended): a last line without
   * newline is kept as it is. Otherwise it is dropped and the cursor stays
   * before it, so the next read brings it whole.
   */
  end(final: boolean): CutLines {
    const rest = this.rest;
    this.rest = Buffer.alloc(0);
    if (!final || rest.length === 0) return { data: Buffer.alloc(0), lines: 0 };
    const out: Buffer[] = [];
    const kept = this.take(rest, out);
    return { data: out[0] ?? Buffer.alloc(0), lines: kept ? 1 : 0 };
  }

  /** One line (its newline included); pushes its text when it is after the cursor. */
  private take(line: Buffer, out: Buffer[]): boolean {
    const space = line.indexOf(SPACE);
    const key = space > 0 && space <= MAX_TIMESTAMP_CHARS ? timestampKey(line.toString('latin1', 0, space)) : undefined;
    if (key === undefined) {
      // No timestamp (a server that ignores timestamps=true): kept whole, the cursor where it was.
      out.push(line);
      return true;
    }
    if (this.from !== undefined && key < this.from) return false;
    if (key === this.from && this.skip > 0) {
      this.skip--;
      return false;
    }
    if (this.cursor && this.cursor.time === key) this.cursor.seen++;
    else this.cursor = { time: key, seen: 1 };
    out.push(line.subarray(space + 1));
    return true;
  }
}
