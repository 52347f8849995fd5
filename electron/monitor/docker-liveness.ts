// The Docker liveness beat, made cheap enough to run every few hundred
// milliseconds all day. On a unix socket it is two things: access(2) on the
// socket file, which fails at once when the permission is taken away (a
// connection already open would keep working, so a kept-alive ping alone could
// not tell), and a `_ping` over one kept-alive connection, which a frozen
// engine never answers. That exchange is read by the probes' HTTP/1.1 reader
// (kube's http1.ts): node:http's client costs three times the CPU per request.
//
// At this rate the cost is the process waking up more than any work done
// awake (on a busy 2-core machine a bare 400 ms timer alone costs a Node
// process 0.2 % of a core). So a beat wakes the process once: it reads, with
// read(2) on the non-blocking socket, the answer to the ping it left on the
// line at the previous beat, then sends the next. The event loop never reads
// the line (a socket it read once stays in epoll's set, and every answer would
// wake the process a second time). An answer not there yet gets what is left
// of its deadline, counted from when its ping was sent, as before: a frozen
// engine is told within one beat plus one deadline. Elsewhere (tcp, ssh,
// npipe) a beat is the API client's ping under withDeadline.

import { accessSync, constants, readSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { DeadlineError, withDeadline } from '../../shared/deadline.ts';
import { Http1Reader, type Http1Answer } from '../kube/index.ts';
import type { DockerApi } from './docker-api.ts';
import type { DockerEndpoint } from './docker-endpoint.ts';

export class DockerLiveness {
  private readonly endpoint: DockerEndpoint;
  private readonly api: DockerApi;
  private readonly what: string;
  private line: PingLine | undefined;

  constructor(endpoint: DockerEndpoint, api: DockerApi) {
    this.endpoint = endpoint;
    this.api = api;
    this.what = `Docker engine at ${endpoint.url}`;
  }

  /**
   * One beat. Resolves when the engine answered the ping before this one within
   * `deadlineMs` of sending it (the first beat of a line only sends); rejects
   * with the failure: a DeadlineError, or a socket error with its code.
   */
  async beat(deadlineMs: number): Promise<void> {
    const socketPath = this.endpoint.socketPath;
    if (!socketPath || socketPath.startsWith('//')) {
      await withDeadline(this.what, deadlineMs, (signal) => this.api.ping(signal));
      return;
    }
    // Throws ENOENT (stopped) or EACCES (no permission) as connect(2) would.
    accessSync(socketPath, constants.R_OK | constants.W_OK);
    this.line ??= new PingLine(socketPath);
    try {
      await this.line.beat(this.what, deadlineMs);
    } catch (e) {
      // The kept connection may be the broken thing: the next beat starts afresh.
      this.close();
      throw e;
    }
  }

  close(): void {
    this.line?.close();
    this.line = undefined;
  }
}

/** The request's bytes, made once. */
const PING_REQUEST = Buffer.from('GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: kindtray\r\n\r\n', 'latin1');

/** One kept connection to the engine: at most one `_ping` on it, read only at the beats. */
class PingLine {
  private readonly socket: Socket;
  private readonly buffer = Buffer.allocUnsafe(4_096);
  private readonly reader = new Http1Reader(64 * 1024);
  /** When the ping on the line was sent (performance.now()); undefined when none is. */
  private sentAt: number | undefined;
  /** The line broke between beats (the error is told at the next one). */
  private broken: unknown;
  private busy = false;
  /** What the event loop read, where it reads (see `flowing`). */
  private readonly arrived: Buffer[] = [];
  /** Read by the event loop after all (no file descriptor to read at the beat: not a platform we know). */
  private flowing = false;

  constructor(socketPath: string) {
    this.socket = connect(socketPath);
    // Never read by the event loop: an answer arriving between beats must not wake the process (a socket
    // that was read once stays in epoll's set and wakes it at the next byte, even paused). Beats read it.
    this.socket.pause();
    this.socket.on('error', (e) => (this.broken ??= e));
    this.socket.on('close', () => (this.broken ??= Object.assign(new Error('the engine closed the connection'), { code: 'ECONNRESET' })));
  }

  async beat(what: string, deadlineMs: number): Promise<void> {
    if (this.busy) throw new Error('a beat is already under way');
    this.busy = true;
    try {
      const sentAt = this.sentAt;
      if (sentAt !== undefined && !this.answered()) {
        // Not there yet: it has what is left of its deadline, and is looked for once more then.
        await new Promise((r) => setTimeout(r, Math.max(1, sentAt + deadlineMs - performance.now())));
        if (!this.answered()) throw new DeadlineError(what, deadlineMs);
      }
      this.sentAt = performance.now();
      this.socket.write(PING_REQUEST);
    } catch (e) {
      this.socket.destroy();
      throw e;
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  /** Reads what the engine sent, without waiting; whether the answer to the ping on the line is complete. Throws what broke the line. */
  private answered(): boolean {
    if (this.broken !== undefined) throw this.broken;
    if (this.socket.connecting) return false;
    // The socket's descriptor, non-blocking as libuv makes every socket: read(2) answers at once.
    const fd = (this.socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || this.flowing) {
      if (!this.flowing) {
        this.flowing = true;
        this.socket.on('data', (b: Buffer) => this.arrived.push(b));
        this.socket.resume();
      }
      return this.parse(this.arrived.splice(0));
    }
    const read: Buffer[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, this.buffer);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (n === 0) throw Object.assign(new Error('the engine closed the connection'), { code: 'ECONNRESET' });
      read.push(Buffer.from(this.buffer.subarray(0, n)));
      // Less than a buffer: that was all there was. Reading on to EAGAIN would cost an exception (an Error
      // built, its stack taken) at every beat, the beat's largest single cost; what comes later is read at
      // the next look.
      if (n < this.buffer.length) break;
    }
    return this.parse(read);
  }

  /** Whether the bytes read so far end the answer to the ping on the line. Throws when it is not a success. */
  private parse(read: Buffer[]): boolean {
    let answer: Http1Answer | undefined;
    for (const chunk of read) {
      const whole = this.reader.push(chunk);
      answer ??= whole;
    }
    if (!answer) return false;
    this.sentAt = undefined;
    if (answer.status !== 200) throw new Error(`_ping answered ${answer.status}`);
    return true;
  }
}
