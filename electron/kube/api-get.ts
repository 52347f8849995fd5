// GET requests to a Kubernetes API with Node's own `https`, for what the
// probe reads (/readyz, /version, the node list): the shared Kubernetes child
// then never loads the Kubernetes client (about 60 MiB) just to probe. The
// request is built from the same resolved Target the client would use (its
// files already inlined, its exec plugin's credential already applied): CA,
// client certificate and key, bearer token, basic auth, tls-server-name and
// insecure-skip-tls-verify. What this does not speak (a proxy-url, a legacy
// auth provider, a plain-http server) is left to the Kubernetes client: ask
// speaksNatively() first.

import { Agent, request } from 'node:https';
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
/** Connections are kept between probes (a TLS handshake each time costs more CPU than the probe); this many sets of TLS settings at most. */
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

/** One keep-alive agent per set of TLS settings, the oldest ended past MAX_AGENTS. */
function agentFor(key: string, make: () => Agent): Agent {
  const known = agents.get(key);
  if (known) return known;
  const agent = make();
  agents.set(key, agent);
  if (agents.size > MAX_AGENTS) {
    const [oldestKey, oldest] = agents.entries().next().value ?? [];
    if (oldestKey !== undefined) agents.delete(oldestKey);
    oldest?.destroy();
  }
  return agent;
}

/** What a request to `target` needs: a keep-alive agent for its TLS settings, the auth headers, and its URLs. */
export interface NativeConnection {
  agent: Agent;
  headers: Record<string, string>;
  url: (path: string) => URL;
}

/**
 * How to reach `target`, which speaksNatively; call it after applyCredential,
 * so that an exec plugin's credential is in the target's user. `stream`: for
 * long-lived answers (a followed log), on agents of their own without a
 * socket limit, so that streams never queue behind each other or probes.
 */
export function nativeConnection(target: Target, use: 'request' | 'stream' = 'request'): NativeConnection {
  const c = target.cluster;
  const u = target.userSpec;
  const insecure = c['insecure-skip-tls-verify'] === true;
  const [ca, cert, key, servername] = [insecure ? undefined : c['certificate-authority-data'], u['client-certificate-data'], u['client-key-data'], c['tls-server-name']].map(str);
  // Keyed by the settings as the kubeconfig gives them: a probe's lookup decodes no certificate.
  const agent = agentFor(JSON.stringify([use, target.server, insecure, ca, cert, key, servername]), () =>
    new Agent({ keepAlive: true, maxSockets: use === 'stream' ? Infinity : 4, ca: pem(ca), cert: pem(cert), key: pem(key), servername, rejectUnauthorized: !insecure }),
  );
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'kindtray' };
  const token = str(u.token);
  const username = str(u.username);
  if (token) headers.authorization = `Bearer ${token}`;
  else if (username) headers.authorization = `Basic ${Buffer.from(`${username}:${str(u.password) ?? ''}`).toString('base64')}`;
  const base = new URL(target.server);
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    agent,
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

/**
 * A GET for `target`, which speaksNatively; call it after applyCredential,
 * so that an exec plugin's credential is in the target's user.
 */
export function nativeApi(target: Target): ApiGet {
  const { agent, headers, url: urlOf } = nativeConnection(target);

  return (path, signal) =>
    new Promise<ApiResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const req = request(urlOf(path), { method: 'GET', agent, headers, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy(new Error(`the answer to ${path} is larger than ${MAX_BODY_BYTES / 2 ** 20} MiB`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), newConnection: !req.reusedSocket }));
        res.on('error', reject);
        // The connection ended in the middle of the body (a destroyed socket, an abort).
        res.on('close', () => {
          if (!res.complete) reject(signal.aborted ? signal.reason : new Error(`the connection closed before the answer to ${path} was complete`));
        });
      });
      req.on('error', reject);
      req.end();
    });
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
