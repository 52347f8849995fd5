// GET requests to a Kubernetes API without the Kubernetes client, for what the
// probe reads (/readyz, /version, the node list), over kept TLS connections
// read by http1.ts, and the agents of followed logs (Node's https): the shared
// Kubernetes child then never loads the client (about 60 MiB) just to probe. The
// request is built from the same resolved Target the client would use (its
// files already inlined, its exec plugin's credential already applied): CA,
// client certificate and key, bearer token, basic auth, tls-server-name and
// insecure-skip-tls-verify. What this does not speak (a proxy-url, a legacy
// auth provider, a plain-http server) is left to the Kubernetes client: ask
// speaksNatively() first.

import { channel } from 'node:diagnostics_channel';
import { Agent } from 'node:https';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ConnectionClosedError, Http1Reader, type Http1Answer } from './http1.ts';
import type { Target } from './target.ts';

export interface ApiResponse {
  status: number;
  body: string;
  /** The request went over a connection opened for it (none was kept, or the server had closed it): the server may be a new one. */
  newConnection: boolean;
}

/** GETs `path` (e.g. `/version`) from the context's API server; rejects on a network failure or when `signal` aborts. */
export type ApiGet = (path: string, signal: AbortSignal) => Promise<ApiResponse>;

/** A node list of a large cluster is a few MiB; past this the answer is not one we want. */
const MAX_BODY_BYTES = 32 * 2 ** 20;
/** Connections are kept between probes (a TLS handshake each time costs more CPU than the probe); for this many sets of TLS settings at most. */
const MAX_AGENTS = 16;
const agents = new Map<string, Agent>();

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const pem = (b64: unknown): string | undefined => {
  const s = str(b64);
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
};

/** Whether Node's https can make the requests `target` needs exactly as the Kubernetes client would. */
export function speaksNatively(target: Target): boolean {
  return target.credentials.kind !== 'auth-provider' && str(target.cluster['proxy-url']) === undefined && target.server.startsWith('https:');
}

/** What is kept for `key` (an agent, a set of connections), made on first use; past MAX_AGENTS keys the oldest is ended. */
function keptFor<T>(kept: Map<string, T>, key: string, make: () => T, end: (t: T) => void): T {
  const known = kept.get(key);
  if (known !== undefined) return known;
  const made = make();
  kept.set(key, made);
  if (kept.size > MAX_AGENTS) {
    const [oldestKey, oldest] = kept.entries().next().value ?? [];
    if (oldestKey !== undefined) kept.delete(oldestKey);
    if (oldest !== undefined) end(oldest);
  }
  return made;
}

/** What a request to `target` needs: its TLS settings as the kubeconfig gives them, the auth headers, and its URLs. */
interface RequestParts {
  /** The kubeconfig's own strings (base64 PEM): a key for kept connections that decodes no certificate. */
  key: string;
  tls: () => ConnectionOptions;
  headers: Record<string, string>;
  url: (path: string) => URL;
}

function requestParts(target: Target): RequestParts {
  const c = target.cluster;
  const u = target.userSpec;
  const insecure = c['insecure-skip-tls-verify'] === true;
  const [ca, cert, key, servername] = [insecure ? undefined : c['certificate-authority-data'], u['client-certificate-data'], u['client-key-data'], c['tls-server-name']].map(str);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'kindtray' };
  const token = str(u.token);
  const username = str(u.username);
  if (token) headers.authorization = `Bearer ${token}`;
  else if (username) headers.authorization = `Basic ${Buffer.from(`${username}:${str(u.password) ?? ''}`).toString('base64')}`;
  const base = new URL(target.server);
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    key: JSON.stringify([target.server, insecure, ca, cert, key, servername]),
    tls: () => ({ ca: pem(ca), cert: pem(cert), key: pem(key), ...(servername ? { servername } : {}), rejectUnauthorized: !insecure }),
    headers,
    url: (path) => {
      const url = new URL(base);
      const [pathname = '', search] = path.split('?', 2);
      url.pathname = `${prefix}${pathname}`;
      if (search !== undefined) url.search = search;
      return url;
    },
  };
}

/** What a long-lived answer (a followed log) from `target` needs: a keep-alive agent of its own for its TLS settings, the auth headers, and its URLs. */
export interface NativeConnection {
  agent: Agent;
  headers: Record<string, string>;
  url: (path: string) => URL;
}

/**
 * How to stream from `target`, which speaksNatively; call it after
 * applyCredential, so that an exec plugin's credential is in the target's
 * user. On agents without a socket limit, so that streams never queue behind
 * each other; probes use nativeApi's lines, not these.
 */
export function nativeConnection(target: Target): NativeConnection {
  const parts = requestParts(target);
  const agent = keptFor(agents, parts.key, () => new Agent({ keepAlive: true, maxSockets: Infinity, ...parts.tls() }), (a) => a.destroy());
  return { agent, headers: parts.headers, url: parts.url };
}

/** One kept TLS connection to an API server, one request on it at a time, read by Http1Reader. */
class Line {
  private readonly socket: TLSSocket;
  private readonly reader = new Http1Reader(MAX_BODY_BYTES);
  private waiting: { resolve: (a: Http1Answer) => void; reject: (e: unknown) => void } | undefined;
  /** Answers it has given: a line that gave none was opened for its request. */
  answered = 0;
  busy = false;
  broken = false;

  constructor(options: ConnectionOptions) {
    this.socket = tlsConnect(options);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      try {
        const answer = this.reader.push(chunk);
        if (answer) this.settle(undefined, answer);
      } catch (e) {
        this.settle(e);
      }
    });
    this.socket.on('end', () => {
      try {
        const answer = this.reader.end();
        if (answer) this.settle(undefined, answer);
      } catch (e) {
        this.settle(e);
      }
    });
    this.socket.on('error', (e) => this.settle(e));
    this.socket.on('close', () => this.settle(new ConnectionClosedError()));
  }

  /** Sends one request and resolves with its answer; the line is broken (and closed) by any failure or abort. */
  send(head: string, signal: AbortSignal): Promise<Http1Answer> {
    this.busy = true;
    return new Promise<Http1Answer>((resolve, reject) => {
      const onAbort = () => {
        this.settle(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = {
        resolve: (a) => {
          signal.removeEventListener('abort', onAbort);
          resolve(a);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.socket.write(head);
    });
  }

  close(): void {
    this.broken = true;
    this.socket.destroy();
  }

  private settle(failure: unknown, answer?: Http1Answer): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    this.busy = false;
    // A failure, an answer after which the server closes, or bytes nobody asked for: the line is done.
    if (failure !== undefined || !answer || answer.closes || !waiting) this.close();
    if (!waiting) return;
    if (answer && failure === undefined) {
      this.answered++;
      waiting.resolve(answer);
    } else waiting.reject(failure);
  }
}

/**
 * Where each request a probe sends is told ({ origin, method, path }), as node:http tells its own on
 * `http.client.request.start`: what counts calls to the outside world (the idle benchmark) listens here.
 * Nothing is built for it while nobody listens.
 */
export const KUBE_REQUEST_CHANNEL = 'kindtray:kube:request';
const requests = channel(KUBE_REQUEST_CHANNEL);

/** Kept lines by server and TLS settings (MAX_AGENTS sets at most); at most this many idle lines each. */
const MAX_IDLE_LINES = 4;
const lineSets = new Map<string, Line[]>();

/**
 * A GET for `target`, which speaksNatively; call it after applyCredential,
 * so that an exec plugin's credential is in the target's user. It goes over a
 * kept TLS connection (the same TLS settings node:https would use), written
 * and read by hand: a probe's reads cost a fraction of node:https's CPU. A
 * request that a kept connection lost before any answer came (the server
 * closed it while idle) is sent once more on a new one, as it is a GET.
 */
export function nativeApi(target: Target): ApiGet {
  const { key, tls, headers, url: urlOf } = requestParts(target);
  const base = new URL(target.server);
  const connect = (): ConnectionOptions => ({ host: base.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(base.port || 443), ...tls() });
  const lines = keptFor(lineSets, key, (): Line[] => [], (set) => set.forEach((l) => l.close()));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const hostHeader = base.port ? `${base.hostname}:${base.port}` : base.hostname;

  return async (path, signal) => {
    if (signal.aborted) throw signal.reason;
    const url = urlOf(path);
    const head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${hostHeader}\r\n${extra}\r\n`;
    if (requests.hasSubscribers) requests.publish({ origin: base.origin, method: 'GET', path: url.pathname });
    for (let attempt = 0; ; attempt++) {
      for (let i = lines.length - 1; i >= 0; i--) if (lines[i]?.broken) lines.splice(i, 1);
      // Once more means on a new line: another kept one may have been closed with the first.
      let line = attempt === 0 ? lines.find((l) => !l.busy) : undefined;
      const kept = line !== undefined;
      if (!line) {
        line = new Line(connect());
        lines.push(line);
      }
      try {
        const answer = await line.send(head, signal);
        if (lines.filter((l) => !l.busy && !l.broken).length > MAX_IDLE_LINES) line.close();
        return { status: answer.status, body: answer.body.toString('utf8'), newConnection: line.answered === 1 };
      } catch (e) {
        // A kept line the server had closed fails at once, before any answer: the same GET once more, on a new one.
        if (kept && attempt === 0 && !signal.aborted && isLostLine(e)) continue;
        // Its own failures (an answer cut short, too large, not HTTP) say which request they ended.
        if (e instanceof Error && !('code' in e) && !signal.aborted) e.message = `${e.message} (GET ${path})`;
        throw e;
      }
    }
  };
}

/** A kept connection found closed when used: reset, or ended with no answer. */
function isLostLine(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || e instanceof ConnectionClosedError;
}

/** An HTTP answer that is not a success, shaped as the Kubernetes client's ApiException (`code`, `body`), so errors.ts reads both alike. */
export class ApiStatusError extends Error {
  readonly code: number;
  readonly body: string;
  constructor(path: string, status: number, body: string) {
    super(`HTTP ${status} from ${path}`);
    this.code = status;
    this.body = body;
  }
}

/** The JSON body of a successful answer; throws ApiStatusError for any other. */
export function jsonOf(path: string, r: ApiResponse): unknown {
  if (r.status < 200 || r.status >= 300) throw new ApiStatusError(path, r.status, r.body);
  return JSON.parse(r.body) as unknown;
}
