// The stand-in's view of its fault switch file. The host flips a fault by
// atomically replacing the file (write + rename); the folder is bind-mounted,
// so the new inode is visible here at once. We stat it on every connection and
// request (a few microseconds) instead of using fs.watch, whose events are not
// delivered reliably across a bind mount.

import { readFileSync, statSync } from 'node:fs';
import { parseFault } from './protocol.ts';
import type { Fault } from './protocol.ts';

export class FaultSwitch {
  private readonly file: string;
  private seen = '';
  private fault: Fault = { kind: 'none' };

  constructor(file: string) {
    this.file = file;
  }

  /** The fault in force now. A missing or unreadable file means `none`. */
  current(): Fault {
    let stamp: string;
    try {
      const st = statSync(this.file, { bigint: true });
      stamp = `${st.ino}:${st.mtimeNs}:${st.size}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp !== this.seen) {
      this.seen = stamp;
      const before = this.fault.kind;
      try {
        this.fault = stamp === 'missing' ? { kind: 'none' } : parseFault(JSON.parse(readFileSync(this.file, 'utf8')));
      } catch (err) {
        // A half-written file cannot happen with rename, but a hand edit can:
        // say so and stay healthy rather than crash the API.
        console.error(`stand-in: ignoring ${this.file}: ${(err as Error).message}`);
        this.fault = { kind: 'none' };
      }
      if (this.fault.kind !== before) console.log(`stand-in: fault ${before} -> ${JSON.stringify(this.fault)}`);
    }
    return this.fault;
  }
}
