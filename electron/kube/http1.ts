// Reads HTTP/1.1 answers from a kept connection, one after another: a status
// line, headers, and a body by Content-Length, by chunks, or to the end of
// the connection. Just enough for the GETs Kindtray sends all day (the Docker
// liveness ping, a probe's /readyz and node list): node:http's client costs
// several times the CPU per request, which an idle app pays every few seconds.
// No compression is asked for, so none is read.

export interface Http1Answer {
  status: number;
  body: Buffer;
  /** The server said it closes the connection after this answer. */
  closes: boolean;
}

/** The connection ended before the answer was whole (or before any came). */
export class ConnectionClosedError extends Error {
  constructor() {
    super('the connection closed before the answer was complete');
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** A head this long is not an answer we asked for. */
const MAX_HEAD_BYTES = 64 * 1024;

type BodyMode = { kind: 'length'; left: number } | { kind: 'chunks'; step: 'size' | 'data' | 'crlf' | 'trailers'; left: number } | { kind: 'to-close' };

export class Http1Reader {
  private readonly maxBodyBytes: number;
  private pending: Buffer = Buffer.alloc(0);
  private status = 0;
  private closes = false;
  private mode: BodyMode | undefined;
  private body: Buffer[] = [];
  private size = 0;

  constructor(maxBodyBytes: number) {
    this.maxBodyBytes = maxBodyBytes;
  }

  /** Whether part of an answer has been read (its head or more) and not yet all of it. */
  get midAnswer(): boolean {
    return this.mode !== undefined || this.pending.length > 0;
  }

  /**
   * Takes the next bytes off the connection (the reader keeps them: pass a buffer nobody writes to again).
   * Returns the answer once it is whole; throws for what is not HTTP/1.1 or is larger than asked.
   */
  push(chunk: Buffer): Http1Answer | undefined {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.mode === undefined && !this.readHead()) return undefined;
      const done = this.readBody();
      if (done) return done;
      if (this.mode !== undefined) return undefined;
      // An interim (1xx) answer was passed over: the real one follows.
    }
  }

  /** The connection ended: the answer that ran to its end, if that is how it was sent; throws if one was cut short. */
  end(): Http1Answer | undefined {
    if (this.mode?.kind === 'to-close') return this.finish();
    if (this.midAnswer) throw new ConnectionClosedError();
    return undefined;
  }

  private readHead(): boolean {
    const at = this.pending.indexOf(HEAD_END);
    if (at < 0) {
      if (this.pending.length > MAX_HEAD_BYTES) throw new Error(`an answer's head is longer than ${MAX_HEAD_BYTES / 1024} KiB`);
      return false;
    }
    const head = this.pending.toString('latin1', 0, at);
    this.pending = this.pending.subarray(at + HEAD_END.length);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
    if (status === undefined) throw new Error(`the answer is not HTTP/1.1: ${JSON.stringify(head.slice(0, 40))}`);
    this.status = Number(status);
    if (this.status >= 100 && this.status < 200) {
      // An interim answer has no body; the mode stays unset and the next head is read.
      return true;
    }
    this.closes = /\r\nconnection:[ \t]*close/i.test(head);
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1];
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) this.mode = { kind: 'chunks', step: 'size', left: 0 };
    else if (length !== undefined) this.mode = { kind: 'length', left: this.within(Number(length)) };
    else if (this.status === 204 || this.status === 304) this.mode = { kind: 'length', left: 0 };
    else this.mode = { kind: 'to-close' };
    return true;
  }

  /** Reads as much of the body as there is; the answer when it is whole. */
  private readBody(): Http1Answer | undefined {
    const mode = this.mode;
    if (mode === undefined) return undefined;
    if (mode.kind === 'to-close') {
      this.take(this.pending.length);
      return undefined;
    }
    if (mode.kind === 'length') {
      mode.left -= this.take(mode.left);
      return mode.left === 0 ? this.finish() : undefined;
    }
    for (;;) {
      if (mode.step === 'data') {
        mode.left -= this.take(mode.left);
        if (mode.left > 0) return undefined;
        mode.step = 'crlf';
      }
      const eol = this.pending.indexOf(CRLF);
      if (eol < 0) return undefined;
      const line = this.pending.toString('latin1', 0, eol);
      this.pending = this.pending.subarray(eol + CRLF.length);
      if (mode.step === 'crlf') {
        if (line !== '') throw new Error('a chunk of the answer did not end where its size said');
        mode.step = 'size';
      } else if (mode.step === 'size') {
        const size = Number.parseInt(line.split(';', 1)[0] ?? '', 16);
        if (!Number.isFinite(size) || size < 0) throw new Error(`a chunk size of the answer is not a number: ${JSON.stringify(line.slice(0, 20))}`);
        if (size === 0) mode.step = 'trailers';
        else {
          mode.left = size;
          this.within(this.size + size);
          mode.step = 'data';
        }
      } else if (line === '') return this.finish();
      // Otherwise a trailer line, passed over.
    }
  }

  /** Moves up to `n` bytes of what is pending into the body; how many it moved. */
  private take(n: number): number {
    const k = Math.min(n, this.pending.length);
    if (k === 0) return 0;
    this.body.push(this.pending.subarray(0, k));
    this.pending = this.pending.subarray(k);
    this.within((this.size += k));
    return k;
  }

  private within(bytes: number): number {
    if (bytes > this.maxBodyBytes) throw new Error(`the answer is larger than ${Math.round(this.maxBodyBytes / 2 ** 20)} MiB`);
    return bytes;
  }

  private finish(): Http1Answer {
    const answer = { status: this.status, body: this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body), closes: this.closes };
    this.mode = undefined;
    this.body = [];
    this.size = 0;
    this.closes = false;
    return answer;
  }
}
