// Why a Kubernetes request failed, in words and as a kind the caller can act
// on: no answer by the deadline, unreachable (refused, reset, TLS, DNS),
// unauthorized, forbidden, not found, a kubeconfig that cannot be used, ...
// Probes say it as a probe state; task operations as a KubeOpError.

import type { KubeOpError, OpRequest } from '../../shared/contracts/kube-ops.ts';
import type { KubeProbeState } from '../../shared/contracts/kube-probe.ts';
import { formatMs } from '../../shared/deadline.ts';

/**
 * A problem with the kubeconfig or the credentials, already in words: what
 * resolving a context or running its credential plugin throws.
 */
export class KubeProblem extends Error {
  readonly kind: 'config' | 'unauthorized' | 'unreachable';
  /** The context, or its cluster or user, is not defined: the kubeconfig points at nothing. */
  readonly dangling: boolean;
  constructor(kind: 'config' | 'unauthorized' | 'unreachable', message: string, dangling = false) {
    super(message);
    this.kind = kind;
    this.dangling = dangling;
  }
}

/** A KubeProblem as a probe's verdict. */
export function probeStateOf(p: KubeProblem): KubeProbeState {
  if (p.kind === 'unauthorized') return 'auth-failed';
  return p.dangling ? 'dangling' : 'unreachable';
}

/** `metadata.name` of an object sent as JSON. */
export function metadataName(o: Record<string, unknown> | undefined): string | undefined {
  const name = (o?.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** client-node's ApiException, recognised by shape, so that this file loads without the client. */
function isApiException(e: unknown): e is { code: number; body: unknown } {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'body' in e;
}

// ---------------------------------------------------------------------------
// Probes

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'EPROTO',
]);

/** How a request ended without an HTTP answer, or with one. */
export type RequestFailure =
  | { kind: 'timeout'; cause: string }
  | { kind: 'network'; cause: string }
  | { kind: 'http'; status: number; cause: string };

const errorCode = (e: unknown): string | undefined => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

/** Names why a request to `server` failed, in words, from the error and its causes. */
export function describeRequestFailure(e: unknown, server: string, deadlineMs: number, aborted: boolean): RequestFailure {
  const status = (e as { code?: unknown } | null)?.code;
  if (typeof status === 'number') {
    return { kind: 'http', status, cause: `${server} answered ${status}${status === 401 ? ' Unauthorized' : status === 403 ? ' Forbidden' : ''}` };
  }
  const noAnswer = { kind: 'timeout' as const, cause: `no answer from ${server} in ${formatMs(deadlineMs)}` };
  if (aborted) return noAnswer;
  // undici wraps the socket's error: TypeError('fetch failed', { cause: Error { code } }); Health wraps it once more.
  const chain: unknown[] = [];
  for (let x: unknown = e; x !== undefined && x !== null && chain.length < 6; x = (x as { cause?: unknown }).cause) chain.push(x);
  for (const x of chain) {
    const code = errorCode(x);
    const message = x instanceof Error ? x.message : String(x);
    if (x instanceof Error && x.name === 'AbortError') return noAnswer;
    if (!code) continue;
    let host = server;
    try {
      host = new URL(server).host;
    } catch {
      // keep the server as written
    }
    if (code === 'ECONNREFUSED') return { kind: 'network', cause: `connection refused by ${host}` };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'network', cause: `host ${host} not found` };
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return { kind: 'network', cause: `${host} closed the connection before answering` };
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'network', cause: `no route to ${host}` };
    if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') return noAnswer;
    if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('ERR_OSSL')) {
      return { kind: 'network', cause: `TLS with ${host} failed: ${message}` };
    }
    return { kind: 'network', cause: `${host}: ${message}` };
  }
  const last = chain[chain.length - 1];
  return { kind: 'network', cause: last instanceof Error ? last.message : String(last) };
}


// ---------------------------------------------------------------------------
// Task operations

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { kind?: string; name?: string };
}

function statusBody(body: unknown): StatusBody | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 300) } : undefined;
    }
  }
  return typeof value === 'object' && value !== null ? (value as StatusBody) : undefined;
}

/** Network error codes, in words. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
};

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_WORDS[code]) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** undici says "fetch failed" and puts the reason in `cause`. */
function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  let e: unknown = err;
  for (let i = 0; i < 5; i++) {
    e = (e as { cause?: unknown } | undefined)?.cause;
    if (!(e instanceof Error)) break;
    if (e.message) message = e.message;
  }
  return message;
}

export function classifyOpError(err: unknown, request: OpRequest, phase: 'authenticating' | 'requesting', aborted: boolean, server: string | undefined): KubeOpError {
  const { context } = request.target;
  const op = request.op;
  const at = server ? ` at ${server}` : '';
  if (aborted) {
    const what = phase === 'authenticating' ? 'authentication did not finish' : 'no answer from its API';
    return { kind: 'deadline', message: `${context}: ${what} in ${formatMs(request.deadlineMs)}` };
  }
  if (isApiException(err)) {
    const code = err.code;
    const body = statusBody(err.body);
    const said = body?.message ?? `HTTP ${code}`;
    const objectKind = op.kind === 'createService' || op.kind === 'deleteService' ? 'service' : op.kind === 'createSecret' || op.kind === 'deleteSecret' ? 'secret' : 'pod';
    const objectName = 'name' in op ? op.name : metadataName(op.kind === 'createPod' ? op.pod : op.kind === 'createService' ? op.service : op.kind === 'createSecret' ? op.secret : undefined);
    if (code === 404 && body?.details?.kind === 'namespaces') return { kind: 'namespace-not-found', message: `${context}: namespace ${body.details.name ?? ''} not found`.replace('  ', ' '), status: code };
    if (code === 404 && /namespaces? "[^"]*" not found/.test(said)) return { kind: 'namespace-not-found', message: `${context}: ${said}`, status: code };
    if (code === 404) return { kind: 'not-found', message: `${context}: ${objectKind} ${objectName ?? ''} not found`.replace(/ {2}/, ' '), status: code };
    if (code === 409 && body?.reason === 'AlreadyExists') return { kind: 'already-exists', message: `${context}: ${objectKind} ${objectName ?? ''} already exists`, status: code };
    if (code === 401) return { kind: 'unauthorized', message: `${context}: the API refused our credentials (401)${at}`, status: code };
    if (code === 403) return { kind: 'forbidden', message: `${context}: not allowed: ${said}`, status: code };
    if (code === 400 && op.kind === 'readLog' && /waiting to start|ContainerCreating|PodInitializing/.test(said)) {
      return { kind: 'not-started', message: `${context}: ${said}`, status: code };
    }
    if (code === 422 || code === 400) return { kind: 'invalid', message: `${context}: ${said}`, status: code };
    return { kind: 'api', message: `${context}: the API answered ${code}: ${said}`, status: code };
  }
  const net = networkCode(err);
  if (net) return { kind: 'unreachable', message: `${context}: cannot reach its API${at}: ${NETWORK_WORDS[net]}` };
  const message = innermostMessage(err);
  if (/fetch failed|socket|other side closed|bad port/i.test(message)) return { kind: 'unreachable', message: `${context}: cannot reach its API${at}: ${message}` };
  if (phase === 'authenticating') return { kind: 'unauthorized', message: `${context}: authentication failed: ${message}` };
  return { kind: 'api', message: `${context}: ${message}` };
}

