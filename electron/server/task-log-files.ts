// A task's log files, one per node: `<id>.log` for rank 0 (the file a
// one-node task always had), `<id>.<rank>.log` for the others. Each is the
// node's log as the task printed it (timestamps off), appended in order, so a
// reader's place in it is a byte offset that never changes meaning.
//
// Beside each, `<id>.<rank>.since` says where the copy is in the Pod's log
// API (the LogSince of the last line written) and how many bytes of the file
// that covers. It is written after the bytes it counts, at most once a
// second: after a crash, the file is cut back to what it covers and the
// stream resumes from its LogSince, so nothing is lost and nothing is written
// twice (the bytes written again are the same bytes).

import { readFileSync, statSync, truncateSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogSince } from '../../shared/contracts/kube-log.ts';

/** The file of node `rank` of task `id`. */
export function nodeLogPath(dir: string, id: string, rank: number): string {
  return path.join(dir, rank === 0 ? `${id}.log` : `${id}.${rank}.log`);
}

function sincePath(dir: string, id: string, rank: number): string {
  return path.join(dir, `${id}.${rank}.since`);
}

/** The cursor file's content. */
interface SinceFile {
  since?: LogSince;
  bytes: number;
}

function readSince(file: string): SinceFile | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<SinceFile>;
    if (typeof v.bytes !== 'number' || v.bytes < 0) return undefined;
    const s = v.since;
    if (s !== undefined && (typeof s.time !== 'string' || typeof s.seen !== 'number')) return undefined;
    return s ? { since: { time: s.time, seen: s.seen }, bytes: v.bytes } : { bytes: v.bytes };
  } catch {
    return undefined;
  }
}

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** Most often the cursor file is written while lines come. */
const SINCE_WRITE_MS = 1_000;

/** Appends one node's streamed lines to its file, in order, and keeps its cursor file. */
export class NodeLogFile {
  readonly file: string;
  private readonly sinceFile: string;
  /** Where the stream is, counting what is queued: the next stream starts here. */
  since: LogSince | undefined;
  /** The file's size once the queue is written. */
  private bytes: number;
  private chain: Promise<void> = Promise.resolve();
  private lastSinceWrite = 0;
  /** The first write error: nothing more is written. */
  private error: Error | undefined;
  private errorTaken = false;

  /**
   * Opens the node's file for appending. A file longer than its cursor file
   * says is cut back (a crash between the two writes); a file without one
   * that is not empty was copied by whole-log reads, and is copied again from
   * the start.
   */
  constructor(dir: string, id: string, rank: number) {
    this.file = nodeLogPath(dir, id, rank);
    this.sinceFile = sincePath(dir, id, rank);
    const saved = readSince(this.sinceFile);
    const size = sizeOf(this.file);
    if (saved && size >= saved.bytes) {
      if (size > saved.bytes) truncateSync(this.file, saved.bytes);
      this.since = saved.since;
      this.bytes = saved.bytes;
    } else {
      if (size > 0) truncateSync(this.file, 0);
      this.since = undefined;
      this.bytes = 0;
    }
  }

  /** Queues `data` (whole lines) and the cursor after it; resolves once written (never rejects: see takeError). */
  append(data: Uint8Array, since: LogSince | undefined): Promise<void> {
    if (data.length === 0) return this.chain;
    if (since) this.since = since;
    this.bytes += data.length;
    const covered: SinceFile = { ...(this.since ? { since: this.since } : {}), bytes: this.bytes };
    this.chain = this.chain.then(async () => {
      if (this.error) return;
      try {
        await appendFile(this.file, data, { mode: 0o600 });
        if (Date.now() - this.lastSinceWrite >= SINCE_WRITE_MS) await this.writeSince(covered);
      } catch (e) {
        this.error = e as Error;
      }
    });
    return this.chain;
  }

  /** The write error, the first time it is asked for (to be said once). */
  takeError(): Error | undefined {
    if (!this.error || this.errorTaken) return undefined;
    this.errorTaken = true;
    return this.error;
  }

  /** Resolves when what is queued is written, the cursor file with it. */
  async settled(): Promise<void> {
    await this.chain;
    if (this.error) return;
    await this.writeSince({ ...(this.since ? { since: this.since } : {}), bytes: this.bytes }).catch((e: unknown) => {
      this.error = e as Error;
    });
  }

  private async writeSince(s: SinceFile): Promise<void> {
    this.lastSinceWrite = Date.now();
    await writeFile(this.sinceFile, JSON.stringify(s), { mode: 0o600 });
  }
}
