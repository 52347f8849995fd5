// Counts the HTTP calls a Node process makes to the outside world, from inside
// it, without touching Kindtray's code: loaded with `--import` (through
// NODE_OPTIONS, so the children a process forks load it too), it listens on
// Node's diagnostics channels (node:http/https clients, undici, which the
// Kubernetes client uses, the probes' own requests on `kindtray:kube:request`,
// and every client socket) and appends one line per
// request or new connection
// to the file named by BENCH_CALL_LOG. A line costs one small synchronous
// write on a descriptor kept open; at an idle app's few calls a minute that is noise.
//
// Line: epoch ms, pid, 'request' | 'connect', origin (a request's
// https://127.0.0.1:PORT or unix:SOCKET; a connection's tls://127.0.0.1:PORT,
// tcp://… or unix:), and for a request its method and path.

import { subscribe } from 'node:diagnostics_channel';
import { openSync, writeSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

export const CALL_LOG_ENV = 'BENCH_CALL_LOG';

export interface OutsideCall {
  at: number;
  pid: number;
  kind: 'request' | 'connect';
  origin: string;
  method?: string;
  path?: string;
}

export function parseCallLog(text: string): OutsideCall[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, pid, kind, origin, method, path] = line.split('\t');
      return { at: Number(at), pid: Number(pid), kind: kind === 'connect' ? 'connect' : 'request', origin: origin ?? '', ...(method ? { method } : {}), ...(path ? { path } : {}) };
    });
}

const file = process.env[CALL_LOG_ENV];
if (file) {
  let fd: number | undefined;
  const write = (kind: OutsideCall['kind'], origin: string, method = '', path = '') => {
    try {
      fd ??= openSync(file, 'a');
      writeSync(fd, `${Date.now()}\t${process.pid}\t${kind}\t${origin}\t${method}\t${path}\n`);
    } catch {
      // The benchmark removed its folder: nothing left to count for.
    }
  };
  subscribe('undici:request:create', (m) => {
    const { request } = m as { request: { origin?: unknown; method?: string; path?: string } };
    write('request', String(request.origin ?? ''), request.method, request.path?.split('?')[0]);
  });
  // Every client socket, whoever opens it (node:net, node:tls, undici): a new connection, logged
  // once it is up (after the TLS handshake for a TLS socket), as tls://HOST:PORT or tcp://HOST:PORT.
  subscribe('net.client.socket', (m) => {
    const { socket } = m as { socket: Socket & { encrypted?: boolean } };
    const tls = socket.encrypted === true;
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      write('connect', socket.remoteAddress ? `${tls ? 'tls' : 'tcp'}://${socket.remoteAddress}:${socket.remotePort}` : 'unix:');
    });
  });
  // The probes' own requests over their kept connections (api-get.ts), which node:http never sees.
  subscribe('kindtray:kube:request', (m) => {
    const { origin, method, path } = m as { origin: string; method: string; path: string };
    write('request', origin, method, path);
  });
  subscribe('http.client.request.start', (m) => {
    const { request } = m as { request: ClientRequest & { socketPath?: string } };
    // The Host header carries the port (request.host does not).
    const origin = request.socketPath ? `unix:${request.socketPath}` : `${request.protocol}//${String(request.getHeader('host') ?? request.host)}`;
    write('request', origin, request.method, request.path.split('?')[0]);
  });
}
