// A command run in a Pod's container through the Kubernetes exec API
// (`GET …/pods/NAME/exec?command=…&stdin=true` upgraded to a WebSocket), as
// the Kubernetes child runs it: stdin sent whole, stdout and stderr kept (up
// to a cap), the exit status read from the error channel. Channel protocol
// v5.channel.k8s.io (kube-apiserver 1.30+) lets us close stdin alone (a
// frame [255, 0]); on v4 stdin stays open and the command must end by itself
// (tar does, at its end-of-archive blocks). Each binary message starts with
// its channel: 0 stdin, 1 stdout, 2 stderr, 3 error (a metav1.Status: the
// exit code is its cause `ExitCode`). The WebSocket is spoken here over
// Node's https (client-node's Exec has no deadline and no way to wait for
// stdin to drain); TLS and credentials come from the context's KubeConfig.

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ExecResult, KubeOp } from '../../shared/contracts/kube-ops.ts';
import { jsonOrText } from '../../shared/json-or-text.ts';

type ClientNode = typeof import('@kubernetes/client-node');
type ExecOp = Extract<KubeOp, { kind: 'exec' }>;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
/** stdout and stderr are kept up to this many bytes each (the end is what tells why a command failed). */
export const EXEC_OUTPUT_CAP = 64 * 1024;
/** stdin goes in messages of at most this many bytes. */
const STDIN_FRAME = 256 * 1024;

const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, close: 255 } as const;
const ZERO_MASK = Buffer.alloc(4);
const STDIN_PREFIX = Buffer.from([CHANNEL.stdin]);

/**
 * One client frame: FIN, the opcode, and a masking key, which RFC 6455 asks
 * of every client frame. The key is zero: masking guards plain-HTTP proxies'
 * caches, and the API is reached over TLS, where it protects nothing; XORing
 * every byte in JavaScript would cost more than the rest of the copy (the ws
 * library offers the same through its generateMask option).
 */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHead(opcode, payload.length), payload]);
}

/** A client frame's head for `len` payload bytes, its (zero) masking key included. */
function frameHead(opcode: number, len: number): Buffer {
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, ZERO_MASK]);
}

/** Reads server frames from a byte stream; answers pings; reassembles fragmented messages. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private readonly on: { message: (data: Buffer) => void; close: () => void; ping: (data: Buffer) => void };
  constructor(on: FrameReader['on']) {
    this.on = on;
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0] ?? 0;
      const b1 = this.buf[1] ?? 0;
      let len = b1 & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = at;
      if (masked) at += 4;
      if (this.buf.length < at + len) return;
      let payload = this.buf.subarray(at, at + len);
      if (masked) {
        const mask = this.buf.subarray(maskAt, maskAt + 4);
        payload = Buffer.from(payload.map((b, i) => b ^ (mask[i & 3] ?? 0)));
      }
      this.buf = this.buf.subarray(at + len);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x8) this.on.close();
      else if (opcode === 0x9) this.on.ping(Buffer.from(payload));
      else if (opcode === 0x0 || opcode === 0x1 || opcode === 0x2) {
        this.parts.push(Buffer.from(payload));
        if (fin) {
          const message = Buffer.concat(this.parts);
          this.parts = [];
          this.on.message(message);
        }
      }
    }
  }
}

interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The exit code a metav1.Status on the error channel says; undefined when it says a failure that is not one. */
export function exitCodeOf(status: ExecStatus): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

function capped(parts: Buffer[], size: number): string {
  const all = Buffer.concat(parts);
  return (size > all.length ? `[… ${size - all.length} bytes left out]\n` : '') + all.toString('utf8');
}

/** Upgrades to the exec WebSocket; throws an ApiException for an HTTP answer (404, 400 "container not running", 401 …). */
async function upgrade(k8s: ClientNode, config: KubeConfig, op: ExecOp, signal: AbortSignal): Promise<{ socket: Duplex; head: Buffer; protocol: string }> {
  const server = config.getCurrentCluster()?.server ?? '';
  const query = new URLSearchParams();
  for (const c of op.command) query.append('command', c);
  if (op.container) query.set('container', op.container);
  query.set('stdin', op.stdin ? 'true' : 'false');
  query.set('stdout', 'true');
  query.set('stderr', 'true');
  const url = new URL(`${server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(op.namespace)}/pods/${encodeURIComponent(op.name)}/exec?${query.toString()}`);
  const key = randomBytes(16).toString('base64');
  const opts: RequestOptions = {};
  await config.applyToHTTPSOptions(opts);
  const headers: Record<string, string> = {
    ...(opts.headers as Record<string, string> | undefined),
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Protocol': EXEC_PROTOCOLS.join(', '),
  };
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return await new Promise((resolve, reject) => {
    const req = request(url, { ...opts, method: 'GET', headers, signal });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      const protocol = String(res.headers['sec-websocket-protocol'] ?? '');
      if (res.headers['sec-websocket-accept'] !== accept || !EXEC_PROTOCOLS.includes(protocol)) {
        socket.destroy();
        reject(new Error(`the API's exec answer is not a channel.k8s.io WebSocket (protocol "${protocol}")`));
        return;
      }
      resolve({ socket, head, protocol });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        // A Status, or else the text is the message.
        const body = jsonOrText(text);
        const said = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : text.slice(0, 300);
        reject(new k8s.ApiException(res.statusCode ?? 0, said, body, {}));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `op.command` in the Pod with `op.stdin`; ends (the socket destroyed) when `signal` aborts. */
export async function execInPod(k8s: ClientNode, config: KubeConfig, op: ExecOp, signal: AbortSignal): Promise<ExecResult> {
  const { socket, head, protocol } = await upgrade(k8s, config, op, signal);
  const out: Record<'stdout' | 'stderr', { parts: Buffer[]; kept: number; size: number }> = {
    stdout: { parts: [], kept: 0, size: 0 },
    stderr: { parts: [], kept: 0, size: 0 },
  };
  const keep = (which: 'stdout' | 'stderr', data: Buffer) => {
    const o = out[which];
    o.size += data.length;
    o.parts.push(data);
    o.kept += data.length;
    while (o.kept - (o.parts[0]?.length ?? 0) >= EXEC_OUTPUT_CAP && o.parts.length > 1) o.kept -= o.parts.shift()?.length ?? 0;
  };
  return await new Promise<ExecResult>((resolve, reject) => {
    let status: ExecStatus | undefined;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) return reject(err);
      if (!status) return reject(new Error('the exec stream ended without an exit status (the API or the Pod went away)'));
      const exitCode = exitCodeOf(status);
      if (exitCode === undefined) return reject(new Error(`the command could not run: ${status.message ?? status.reason ?? 'no reason given'}`));
      resolve({ exitCode, stdout: capped(out.stdout.parts, out.stdout.size), stderr: capped(out.stderr.parts, out.stderr.size) });
    };
    const onAbort = () => finish(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const reader = new FrameReader({
      message: (m) => {
        if (m.length === 0) return;
        const channel = m[0];
        const data = m.subarray(1);
        if (channel === CHANNEL.stdout) keep('stdout', Buffer.from(data));
        else if (channel === CHANNEL.stderr) keep('stderr', Buffer.from(data));
        else if (channel === CHANNEL.error && data.length > 0) {
          try {
            status = JSON.parse(data.toString('utf8')) as ExecStatus;
          } catch {
            status = { status: 'Failure', message: data.toString('utf8') };
          }
        }
      },
      close: () => finish(),
      ping: (data) => socket.write(clientFrame(0xa, data)),
    });
    socket.on('data', (c: Buffer) => reader.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (e) => finish(e));
    if (head.length > 0) reader.push(head);
    if (signal.aborted) return onAbort();
    void (async () => {
      const stdin = op.stdin ? Buffer.from(op.stdin.buffer, op.stdin.byteOffset, op.stdin.byteLength) : undefined;
      for (let at = 0; stdin && at < stdin.length && !settled; at += STDIN_FRAME) {
        const piece = stdin.subarray(at, at + STDIN_FRAME);
        // The frame's head, then the piece as it is: no copy of the data.
        socket.write(frameHead(0x2, piece.length + 1));
        socket.write(STDIN_PREFIX);
        if (!socket.write(piece)) {
          await new Promise<void>((r) => {
            const done = () => {
              socket.off('drain', done);
              socket.off('close', done);
              r();
            };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
      }
      // v5 closes stdin alone; v4 cannot (closing the socket would lose the exit status).
      if (stdin && !settled && protocol === 'v5.channel.k8s.io') socket.write(clientFrame(0x2, Buffer.from([CHANNEL.close, CHANNEL.stdin])));
    })();
  });
}
