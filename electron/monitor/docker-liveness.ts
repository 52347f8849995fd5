// The Docker liveness ping, made cheap enough to run every few hundred
// milliseconds all day. On a unix socket it is two things: access(2) on the
// socket file, which fails at once when the permission is taken away (a
// connection already open would keep working, so a kept-alive ping alone could
// not tell), and a `_ping` over one kept-alive connection, which a frozen
// engine never answers. That exchange speaks just enough HTTP/1.1 for `_ping`
// (a status line, Content-Length or chunked): node:http's client costs three
// times the CPU per request (0.9 ms against 0.3 ms here), and at 150 pings a
// minute that is most of an idle budget. For the same reason a ping's
// deadline is one timer of its own, its error made only when it fires, not
// withDeadline's controller, listeners and two errors a beat. Elsewhere (tcp,
// ssh, npipe) it is the API client's ping under withDeadline.

import { accessSync, constants } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { DeadlineError, withDeadline } from '../../shared/deadline.ts';
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

  /** Resolves when the engine answered within `deadlineMs`; rejects with the failure (a DeadlineError, or a socket error with its code). */
  async ping(deadlineMs: number): Promise<void> {
    const socketPath = this.endpoint.socketPath;
    if (!socketPath || socketPath.startsWith('//')) {
      await withDeadline(this.what, deadlineMs, (signal) => this.api.ping(signal));
      return;
    }
    // Throws ENOENT (stopped) or EACCES (no permission) as connect(2) would.
    accessSync(socketPath, constants.R_OK | constants.W_OK);
    this.line ??= new PingLine(socketPath);
    try {
      await this.line.ping(this.what, deadlineMs);
    } catch (e) {
      // The kept connection may be the broken thing: the next ping starts afresh.
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

/** One kept connection to the engine, one `_ping` at a time on it. */
class PingLine {
  private readonly socketPath: string;
  private socket: Socket | undefined;
  private received = '';
  private waiting: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /** Resolves on a 200; rejects with a DeadlineError after `ms`, or with what broke the line. */
  ping(what: string, ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.waiting) return reject(new Error('a ping is already on the line'));
      const timer = setTimeout(() => this.fail(new DeadlineError(what, ms)), ms);
      this.waiting = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.connected().write(PING_REQUEST);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.received = '';
  }

  private connected(): Socket {
    if (this.socket) return this.socket;
    const socket = connect(this.socketPath);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.fail(Object.assign(new Error('the engine closed the connection'), { code: 'ECONNRESET' }));
    });
    this.socket = socket;
    return socket;
  }

  private onData(chunk: string): void {
    this.received += chunk;
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.received.slice(0, headEnd);
    const bodyStart = headEnd + 4;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end: number;
    if (length) end = bodyStart + Number(length[1]);
    else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = this.received.indexOf('0\r\n\r\n', bodyStart);
      if (last < 0) return;
      end = last + 5;
    } else end = this.received.length;
    if (this.received.length < end) return;
    this.received = this.received.slice(end);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
    const w = this.waiting;
    this.waiting = undefined;
    if (status === '200') w?.resolve();
    else {
      this.close();
      w?.reject(new Error(`_ping answered ${status ?? 'something that is not HTTP'}`));
    }
  }

  private fail(e: unknown): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    // A ping that failed leaves the line in an unknown state: the next one starts afresh.
    this.close();
    w.reject(e);
  }
}
