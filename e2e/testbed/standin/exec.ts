// pods/exec, as kube-apiserver serves it over a WebSocket (Node built-ins
// only: the RFC 6455 handshake and framing by hand). The command runs in the
// Pod's environment, as the Pod's own processes run here (pods.ts: the
// stand-in's filesystem, the container's env and working folder). Channel
// protocols v5.channel.k8s.io (the client may close stdin alone: [255, 0])
// and v4.channel.k8s.io; each binary message starts with its channel (0
// stdin, 1 stdout, 2 stderr, 3 error). The exit status goes on the error
// channel as a metav1.Status, as the kubelet's streaming server sends it:
// Success, or Failure with reason NonZeroExitCode and the code as the cause
// `ExitCode`; then the connection closes.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from './store.ts';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** In the server's order of preference. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;

/** What the exec runs: the command, and the container's env and working folder. */
export interface ExecTarget {
  command: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: boolean;
}

/** A plain HTTP answer on an upgrade socket (a Status before any WebSocket). */
export function answerPlain(socket: Duplex, code: number, status: Record<string, unknown>): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, ...status });
  const words: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };
  socket.end(`HTTP/1.1 ${code} ${words[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** A server frame: FIN, opcode, unmasked. */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Completes the WebSocket handshake, or answers 400 and returns undefined. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex): string | undefined {
  const key = req.headers['sec-websocket-key'];
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const protocol = PROTOCOLS.find((p) => offered.includes(p));
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string' || !protocol) {
    answerPlain(socket, 400, { reason: 'BadRequest', message: `a WebSocket upgrade with a protocol of ${PROTOCOLS.join(', ')} is required` });
    return undefined;
  }
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  return protocol;
}

/** Runs the command and serves its streams on an accepted WebSocket. */
export function serveExec(socket: Duplex, first: Buffer, protocol: string, target: ExecTarget): void {
  const [file = 'sh', ...args] = target.command;
  const child = spawn(file, args, { cwd: target.cwd, env: target.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let closed = false;
  const send = (channel: number, data: Buffer): boolean => (closed ? true : socket.write(frame(0x2, Buffer.concat([Buffer.from([channel]), data]))));
  // The apiserver opens each channel with an empty message.
  for (const c of [STDOUT, STDERR, ERROR]) send(c, Buffer.alloc(0));
  child.stdin.on('error', () => {});
  const pipeOut = (stream: NodeJS.ReadableStream, channel: number) =>
    stream.on('data', (d: Buffer) => {
      if (!send(channel, d)) {
        stream.pause();
        socket.once('drain', () => stream.resume());
      }
    });
  pipeOut(child.stdout, STDOUT);
  pipeOut(child.stderr, STDERR);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  child.once('close', (code, signal) => {
    const status = spawnError
      ? { status: 'Failure', reason: 'InternalError', message: `failed to exec in container: ${spawnError.message}` }
      : code === 0
        ? { status: 'Success' }
        : {
            status: 'Failure',
            reason: 'NonZeroExitCode',
            message: `command terminated with non-zero exit code: error executing command [${target.command.join(' ')}], exit code ${code ?? 128}`,
            details: { causes: [{ reason: 'ExitCode', message: String(code ?? (signal ? 137 : 128)) }] },
          };
    send(ERROR, Buffer.from(JSON.stringify({ metadata: {}, ...status })));
    if (!closed) socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
    closed = true;
  });

  // Client frames, parsed as they stream in: a data message's payload goes on to stdin piece by
  // piece, never joined (a copy sends megabytes), its first byte naming the channel; control frames
  // and other channels are small and joined. Masked (a zero key needs no XOR); v5 may close stdin alone
  // ([255, 0]); a close frame ends stdin.
  let head: Buffer = Buffer.alloc(0);
  let inPayload = false;
  let left = 0;
  let opcode = 0;
  let fin = true;
  let mask: Buffer | undefined;
  let maskAt = 0;
  let channel: number | undefined;
  let message: Buffer[] = [];
  let control: Buffer[] = [];
  let stdinFull = false;
  const toStdin = (piece: Buffer) => {
    if (!target.stdin || child.stdin.destroyed || piece.length === 0) return;
    if (!child.stdin.write(piece) && !stdinFull) {
      stdinFull = true;
      socket.pause();
      child.stdin.once('drain', () => {
        stdinFull = false;
        socket.resume();
      });
    }
  };
  const payload = (raw: Buffer) => {
    let piece = raw;
    if (mask && mask.readUInt32BE(0) !== 0) {
      piece = Buffer.from(raw);
      for (let i = 0; i < piece.length; i++) piece[i] = (piece[i] ?? 0) ^ (mask[(maskAt + i) & 3] ?? 0);
    }
    maskAt += piece.length;
    if (opcode >= 0x8) return void control.push(piece);
    if (channel === undefined) {
      if (piece.length === 0) return;
      channel = piece[0];
      piece = piece.subarray(1);
    }
    if (channel === STDIN) toStdin(piece);
    else message.push(piece);
  };
  /** A frame ended; false when the connection is done. */
  const frameEnd = (): boolean => {
    if (opcode === 0x8) {
      // The client is gone: its stdin ends (the command itself runs on, as with a real kubelet).
      child.stdin.end();
      closed = true;
      socket.end();
      return false;
    }
    if (opcode === 0x9) socket.write(frame(0xa, Buffer.concat(control)));
    if (opcode >= 0x8) control = [];
    else if (fin) {
      const body = Buffer.concat(message);
      if (channel === CLOSE && protocol === 'v5.channel.k8s.io' && body[0] === STDIN) child.stdin.end();
      channel = undefined;
      message = [];
    }
    return true;
  };
  const onData = (chunk: Buffer) => {
    let data = chunk;
    while (data.length > 0) {
      if (!inPayload) {
        head = head.length === 0 ? data : Buffer.concat([head, data]);
        if (head.length < 2) return;
        const b1 = head[1] ?? 0;
        const len7 = b1 & 0x7f;
        const size = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
        if (head.length < size) return;
        const b0 = head[0] ?? 0;
        opcode = b0 & 0x0f;
        if (opcode <= 0x2) fin = (b0 & 0x80) !== 0;
        left = len7 === 126 ? head.readUInt16BE(2) : len7 === 127 ? Number(head.readBigUInt64BE(2)) : len7;
        mask = (b1 & 0x80) !== 0 ? Buffer.from(head.subarray(size - 4, size)) : undefined;
        maskAt = 0;
        data = head.subarray(size);
        head = Buffer.alloc(0);
        inPayload = true;
        if (left === 0) {
          inPayload = false;
          if (!frameEnd()) return;
          continue;
        }
      }
      const piece = data.subarray(0, left);
      data = data.subarray(piece.length);
      left -= piece.length;
      payload(piece);
      if (left === 0) {
        inPayload = false;
        if (!frameEnd()) return;
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    if (!child.stdin.destroyed) child.stdin.end();
  });
  if (first.length > 0) onData(first);
  if (!target.stdin) child.stdin.end();
}

export interface ExecDeps {
  authenticated: boolean;
  pod(namespace: string, name: string): KubeObject | undefined;
  target(pod: KubeObject, container?: string): { env: Record<string, string>; cwd: string } | { error: string };
}

/** A WebSocket upgrade request: pods/exec is the only one served; anything else is answered plainly. */
export function execUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: ExecDeps): void {
  socket.on('error', () => {});
  const url = new URL(req.url ?? '/', 'https://standin');
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
  if (!deps.authenticated) return answerPlain(socket, 401, { reason: 'Unauthorized', message: 'Unauthorized' });
  if (!m) return answerPlain(socket, 404, { reason: 'NotFound', message: 'the server could not find the requested resource' });
  const [namespace, name] = [decodeURIComponent(m[1] ?? ''), decodeURIComponent(m[2] ?? '')];
  const pod = deps.pod(namespace, name);
  if (!pod) return answerPlain(socket, 404, { reason: 'NotFound', message: `pods "${name}" not found`, details: { name, kind: 'pods' } });
  const found = deps.target(pod, url.searchParams.get('container') ?? undefined);
  if ('error' in found) return answerPlain(socket, 400, { reason: 'BadRequest', message: found.error });
  const command = url.searchParams.getAll('command');
  if (command.length === 0) return answerPlain(socket, 400, { reason: 'BadRequest', message: 'you must specify at least 1 command' });
  const protocol = acceptWebSocket(req, socket);
  if (protocol) serveExec(socket, head, protocol, { command, env: found.env, cwd: found.cwd, stdin: url.searchParams.get('stdin') === 'true' });
}
