// The child process behind kube-ops.ts: runs task operations with
// @kubernetes/client-node and answers each with a typed value or a typed
// error. It may block (a legacy auth provider's execSync) or hang; the parent
// holds the deadline and kills this process's group when it is breached. On
// its own it gives up on an HTTP request shortly before that deadline, so a
// merely silent API costs an answer, not a process.

import { statSync } from 'node:fs';
import { ApiException, CoreV1Api, KubeConfig, Observable } from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext, V1ContainerStatus, V1Pod, V1Service } from '@kubernetes/client-node';
import { formatMs } from '../../shared/deadline.ts';
import { CHILD_ANSWER_MARGIN_MS, KUBE_OPS_CHILD_ENV, opRequestSchema } from './kube-ops.ts';
import type { ContainerInfo, KubeOp, KubeOpError, KubeOpErrorKind, KubeTarget, LogRead, OpChildMessage, OpRequest, PodInfo, PodPhase, ServiceInfo } from './kube-ops.ts';

function send(message: OpChildMessage): void {
  process.send?.(message);
}

// ---------------------------------------------------------------------------
// Kubeconfig, loaded once per set of files and re-read when one changes

interface Loaded {
  stamp: string;
  config: KubeConfig;
}
const loadedConfigs = new Map<string, Loaded>();

function stampOf(paths: readonly string[]): string {
  return paths
    .map((p) => {
      try {
        const st = statSync(p);
        return `${p}:${st.mtimeMs}:${st.size}`;
      } catch {
        return `${p}:missing`;
      }
    })
    .join('|');
}

class ConfigError extends Error {}

/** The kubeconfig for `target`, its current context set to the target's. Throws ConfigError in words. */
function configFor(target: KubeTarget): KubeConfig {
  const key = `${target.context}\u0000${target.kubeconfigPaths.join('\u0000')}`;
  const stamp = stampOf(target.kubeconfigPaths);
  const cached = loadedConfigs.get(key);
  if (cached && cached.stamp === stamp) return cached.config;

  const config = new KubeConfig();
  const readable = target.kubeconfigPaths.filter((p) => !stamp.includes(`${p}:missing`));
  if (readable.length === 0) throw new ConfigError(`no kubeconfig file found (looked at ${target.kubeconfigPaths.join(', ') || 'nothing'})`);
  for (const file of readable) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new ConfigError(`kubeconfig ${file} cannot be read: ${(err as Error).message}`);
    }
    // First file wins for names defined twice, as kubectl merges.
    config.mergeConfig(one, true);
  }
  const context = config.getContextObject(target.context);
  if (!context) throw new ConfigError(`context ${target.context} is not in the kubeconfig (${readable.join(', ')})`);
  if (!config.getCluster(context.cluster)) throw new ConfigError(`context ${target.context} names cluster ${context.cluster}, which the kubeconfig does not define`);
  config.setCurrentContext(target.context);
  loadedConfigs.set(key, { stamp, config });
  return config;
}

// ---------------------------------------------------------------------------
// Requests

/**
 * Per-request options: our abort signal, set after authentication (client-node
 * runs middleware then). The object-parameter API takes observable-style
 * middleware (its `pre` answers an Observable), not the promise kind.
 */
function requestOptions(signal: AbortSignal, onRequest: () => void): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          onRequest();
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

async function runOp(request: OpRequest): Promise<{ ok: true; value: unknown } | { ok: false; error: KubeOpError }> {
  const { target, op, deadlineMs, id } = request;
  const context = target.context;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(50, deadlineMs - CHILD_ANSWER_MARGIN_MS));
  let phase: 'authenticating' | 'requesting' = 'authenticating';
  try {
    let config: KubeConfig;
    try {
      config = configFor(target);
    } catch (err) {
      if (err instanceof ConfigError) return failure('config', `${context}: ${err.message}`);
      throw err;
    }
    const api = config.makeApiClient(CoreV1Api);
    const options = requestOptions(controller.signal, () => {
      phase = 'requesting';
      send({ type: 'phase', id, phase: 'requesting' });
    });
    const value = await perform(api, op, options);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: classify(err, request, phase, controller.signal.aborted, serverOf(target)) };
  } finally {
    clearTimeout(timer);
  }

  function serverOf(t: KubeTarget): string | undefined {
    try {
      return configFor(t).getCurrentCluster()?.server;
    } catch {
      return undefined;
    }
  }
}

type Options = ReturnType<typeof requestOptions>;

async function perform(api: CoreV1Api, op: KubeOp, options: Options): Promise<unknown> {
  switch (op.kind) {
    case 'createPod':
      return podInfo(await api.createNamespacedPod({ namespace: op.namespace, body: op.pod }, options));
    case 'createService':
      return serviceInfo(await api.createNamespacedService({ namespace: op.namespace, body: op.service }, options));
    case 'deletePod':
      return gone(() =>
        api.deleteNamespacedPod(
          { name: op.name, namespace: op.namespace, ...(op.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: op.gracePeriodSeconds } : {}) },
          options,
        ),
      );
    case 'deleteService':
      return gone(() => api.deleteNamespacedService({ name: op.name, namespace: op.namespace }, options));
    case 'getPod':
      return podInfo(await api.readNamespacedPod({ name: op.name, namespace: op.namespace }, options));
    case 'listPods': {
      const list =
        op.namespace === undefined
          ? await api.listPodForAllNamespaces({ labelSelector: op.labelSelector }, options)
          : await api.listNamespacedPod({ namespace: op.namespace, labelSelector: op.labelSelector }, options);
      return list.items.map(podInfo);
    }
    case 'readLog': {
      const text = await api.readNamespacedPodLog(
        { name: op.name, namespace: op.namespace, ...(op.container !== undefined ? { container: op.container } : {}) },
        options,
      );
      return logSlice(typeof text === 'string' ? text : String(text ?? ''), op.sinceBytes, op.stableTail);
    }
  }
}

async function gone(del: () => Promise<unknown>): Promise<{ existed: boolean }> {
  try {
    await del();
    return { existed: true };
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return { existed: false };
    throw err;
  }
}

/**
 * The log's bytes from `sinceBytes`. The client hands the log over decoded, so
 * a UTF-8 character the API cut in two at the end arrives as U+FFFD; with
 * `stableTail` such an end is held back, so that offsets count the same bytes
 * on the next read, when the character is whole.
 */
export function logSlice(text: string, sinceBytes: number, stableTail: boolean): LogRead {
  const all = Buffer.from(text, 'utf8');
  const reset = all.length < sinceBytes;
  const from = reset ? 0 : sinceBytes;
  let end = all.length;
  if (stableTail) {
    while (end - 3 >= from && all[end - 3] === 0xef && all[end - 2] === 0xbf && all[end - 1] === 0xbd) end -= 3;
  }
  return { data: new Uint8Array(all.subarray(from, end)), nextOffset: end, totalBytes: all.length, reset };
}

// ---------------------------------------------------------------------------
// Answers

const iso = (d: Date | string | undefined): string | undefined => (d === undefined ? undefined : d instanceof Date ? d.toISOString() : String(d));

function containerInfo(s: V1ContainerStatus): ContainerInfo {
  const out: ContainerInfo = { name: s.name, state: 'unknown', restartCount: s.restartCount ?? 0 };
  const st = s.state;
  if (st?.terminated) {
    out.state = 'terminated';
    out.exitCode = st.terminated.exitCode;
    if (st.terminated.signal !== undefined) out.signal = st.terminated.signal;
    if (st.terminated.reason) out.reason = st.terminated.reason;
    if (st.terminated.message) out.message = st.terminated.message;
    const started = iso(st.terminated.startedAt);
    if (started) out.startedAt = started;
    const finished = iso(st.terminated.finishedAt);
    if (finished) out.finishedAt = finished;
  } else if (st?.running) {
    out.state = 'running';
    const started = iso(st.running.startedAt);
    if (started) out.startedAt = started;
  } else if (st?.waiting) {
    out.state = 'waiting';
    if (st.waiting.reason) out.reason = st.waiting.reason;
    if (st.waiting.message) out.message = st.waiting.message;
  }
  return out;
}

const PHASES: readonly PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

function podInfo(pod: V1Pod): PodInfo {
  const phase = PHASES.find((p) => p === pod.status?.phase) ?? 'Unknown';
  const out: PodInfo = {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    phase,
    labels: { ...(pod.metadata?.labels ?? {}) },
    deleting: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
  };
  if (pod.metadata?.uid) out.uid = pod.metadata.uid;
  if (pod.status?.reason) out.reason = pod.status.reason;
  if (pod.status?.message) out.message = pod.status.message;
  const first = pod.status?.containerStatuses?.[0];
  if (first) out.container = containerInfo(first);
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False') out.unschedulable = scheduled.message ?? scheduled.reason ?? 'not scheduled';
  return out;
}

function serviceInfo(svc: V1Service): ServiceInfo {
  return {
    name: svc.metadata?.name ?? '',
    namespace: svc.metadata?.namespace ?? 'default',
    ports: (svc.spec?.ports ?? []).map((p) => {
      const out: ServiceInfo['ports'][number] = { port: p.port };
      if (typeof p.targetPort === 'number') out.targetPort = p.targetPort;
      else if (typeof p.targetPort === 'string' && /^\d+$/.test(p.targetPort)) out.targetPort = Number(p.targetPort);
      if (p.nodePort !== undefined) out.nodePort = p.nodePort;
      return out;
    }),
  };
}

function failure(kind: KubeOpErrorKind, message: string, status?: number): { ok: false; error: KubeOpError } {
  return { ok: false, error: status === undefined ? { kind, message } : { kind, message, status } };
}

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

function classify(err: unknown, request: OpRequest, phase: 'authenticating' | 'requesting', aborted: boolean, server: string | undefined): KubeOpError {
  const { context } = request.target;
  const op = request.op;
  const at = server ? ` at ${server}` : '';
  if (aborted) {
    const what = phase === 'authenticating' ? 'authentication did not finish' : 'no answer from its API';
    return { kind: 'deadline', message: `${context}: ${what} in ${formatMs(request.deadlineMs)}` };
  }
  if (err instanceof ApiException) {
    const code = Number(err.code);
    const body = statusBody(err.body);
    const said = body?.message ?? `HTTP ${code}`;
    const objectKind = op.kind === 'createService' || op.kind === 'deleteService' ? 'service' : 'pod';
    const objectName = 'name' in op ? op.name : op.kind === 'createPod' ? op.pod.metadata?.name : op.kind === 'createService' ? op.service.metadata?.name : undefined;
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

// ---------------------------------------------------------------------------
// The message loop

if (process.env[KUBE_OPS_CHILD_ENV] === '1' && process.send) {
  process.on('message', (raw) => {
    const parsed = opRequestSchema.safeParse(raw);
    if (!parsed.success) return;
    const request = parsed.data as OpRequest;
    send({ type: 'phase', id: request.id, phase: 'authenticating' });
    void runOp(request).then((r) => send(r.ok ? { type: 'result', id: request.id, ok: true, value: r.value } : { type: 'result', id: request.id, ok: false, error: r.error }));
  });
  // The parent is gone: nothing to answer to.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', pid: process.pid });
}
