// The Kubernetes probe process. It runs every call of the Kubernetes client, so
// that the parent (the supervisor) never runs one: some of the client's auth
// providers block their event loop (gcp and azure run their command with
// execSync), and only a process can be killed. Each probe answers within its
// deadline on its own when it can: requests carry an AbortSignal, and `exec`
// credential plugins are run here, in their own process group, ended at the
// deadline. What can block this process is bounded by the parent's deadline.
//
// Started by kube-probe.ts (child_process.fork, or Electron's utilityProcess);
// it talks over the parent's IPC channel, or `process.parentPort` in Electron.

import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import path from 'node:path';
import type { CoreV1Api as CoreV1ApiType, KubeConfig as KubeConfigType, ObservableMiddleware, V1Node } from '@kubernetes/client-node';
import { z } from 'zod';
import { formatMs } from '../../shared/deadline.ts';
import { loadKubeconfigFiles, type KubeconfigModel, type KubeExecSpec, type KubeUserSpec } from './kubeconfig.ts';
import {
  PROBE_CHILD_ENV,
  probeRequestSchema,
  type KubeNodeInfo,
  type KubeProbeResult,
  type ProbeChildMessage,
  type ProbePhase,
  type ProbeRequest,
} from './kube-probe-protocol.ts';

// ---------------------------------------------------------------------------
// Pure helpers

const QUANTITY = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX: Record<string, number> = {
  m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes resource quantity (`500m`, `4`, `16318536Ki`, `8Gi`, `1e3`) as a number, or undefined. */
export function parseQuantity(q: string | undefined): number | undefined {
  const m = q === undefined ? null : QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] ? (SUFFIX[m[2]] ?? 1) : 1);
  return Number.isFinite(n) ? n : undefined;
}

export function nodeInfo(node: V1Node): KubeNodeInfo {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const roles = Object.keys(node.metadata?.labels ?? {})
    .filter((l) => l.startsWith('node-role.kubernetes.io/'))
    .map((l) => l.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  const cpus = parseQuantity(node.status?.capacity?.['cpu']);
  const memoryBytes = parseQuantity(node.status?.capacity?.['memory']);
  return {
    name: node.metadata?.name ?? '(unnamed)',
    ready,
    roles,
    ...(cpus !== undefined ? { cpus } : {}),
    ...(memoryBytes !== undefined ? { memoryBytes: Math.round(memoryBytes) } : {}),
  };
}

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
// Credentials

/** A problem with credentials or configuration, already in words: the probe's verdict. */
class ProbeVerdict extends Error {
  readonly state: 'auth-failed' | 'unreachable' | 'dangling';
  constructor(state: 'auth-failed' | 'unreachable' | 'dangling', message: string) {
    super(message);
    this.state = state;
  }
}

const execCredentialSchema = z.object({
  status: z
    .object({
      token: z.string().optional(),
      clientCertificateData: z.string().optional(),
      clientKeyData: z.string().optional(),
      expirationTimestamp: z.string().optional(),
    })
    .optional(),
});
type ExecCredentialStatus = NonNullable<z.infer<typeof execCredentialSchema>['status']>;

/** Credentials from plugins, until they expire (like kubectl, no expiry means for the process's life). */
const credentialCache = new Map<string, ExecCredentialStatus>();
const credentialKey = (user: string, exec: KubeExecSpec) => `${user}\0${JSON.stringify(exec)}`;

function cachedCredential(key: string): ExecCredentialStatus | undefined {
  const c = credentialCache.get(key);
  if (c?.expirationTimestamp && Date.parse(c.expirationTimestamp) <= Date.now() + 5_000) {
    credentialCache.delete(key);
    return undefined;
  }
  return c;
}

interface ProbeHooks {
  phase(phase: ProbePhase): void;
  plugin(pgid: number, running: boolean): void;
}

/**
 * Runs an `exec` credential plugin as client-go does (client-go resolves a relative
 * command with a slash from the kubeconfig file's folder), in its own process
 * group so that it and all it started end at the deadline.
 */
function runCredentialPlugin(exec: KubeExecSpec, file: string, signal: AbortSignal, deadlineMs: number, hooks: ProbeHooks): Promise<ExecCredentialStatus> {
  const command = exec.command.includes('/') && !path.isAbsolute(exec.command) ? path.resolve(path.dirname(file), exec.command) : exec.command;
  const label = `credential plugin "${exec.command}"`;
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env[PROBE_CHILD_ENV];
    for (const e of exec.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
    const child = spawn(command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    const pgid = child.pid;
    if (pgid !== undefined) hooks.plugin(pgid, true);
    let stdout = '';
    let stderr = '';
    let settled = false;
    const end = (why: Error | undefined, value?: ExecCredentialStatus) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      killGroup(child.pid, () => child.kill('SIGKILL'));
      if (pgid !== undefined) hooks.plugin(pgid, false);
      if (why) reject(why);
      else if (value) resolve(value);
    };
    const onAbort = () => end(new ProbeVerdict('auth-failed', `${label} gave no answer in ${formatMs(deadlineMs)}`));
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1_000_000) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 10_000) stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const hint = exec.installHint ? ` (${exec.installHint.trim()})` : '';
      end(new ProbeVerdict('auth-failed', e.code === 'ENOENT' ? `${label} not found${hint}` : `${label} could not start: ${e.message}`));
    });
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (code !== 0) {
        const said = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
        end(new ProbeVerdict('auth-failed', `${label} failed (${sig ? `signal ${sig}` : `exit ${code}`})${said ? `: ${said}` : ''}`));
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        end(new ProbeVerdict('auth-failed', `${label} printed no ExecCredential JSON`));
        return;
      }
      const parsed = execCredentialSchema.safeParse(json);
      const status = parsed.success ? parsed.data.status : undefined;
      if (!status || (!status.token && !status.clientCertificateData)) {
        end(new ProbeVerdict('auth-failed', `${label} gave neither a token nor a client certificate`));
        return;
      }
      end(undefined, status);
    };
    child.on('close', finish);
    // 'close' waits for the pipes; a grandchild left running could hold them open forever.
    child.on('exit', (code, sig) => setTimeout(() => finish(code, sig), 200).unref());
  });
}

function killGroup(pid: number | undefined, fallback: () => void): void {
  if (pid === undefined) return;
  try {
    if (process.platform !== 'win32') process.kill(-pid, 'SIGKILL');
    else fallback();
  } catch {
    try {
      fallback();
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------
// Building a client for one context, from the files as kubectl merges them

interface Target {
  server: string;
  user?: string;
  /** A kubeconfig holding only this context, its cluster and its user, with every file inlined. */
  doc: Record<string, unknown>;
  exec?: { spec: KubeExecSpec; file: string };
}

function readInline(file: string, relativeTo: string, what: string, state: 'auth-failed' | 'unreachable'): string {
  const abs = path.isAbsolute(file) ? file : path.resolve(path.dirname(relativeTo), file);
  try {
    return readFileSync(abs).toString('base64');
  } catch (e) {
    throw new ProbeVerdict(state, `cannot read ${what} ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The merged kubeconfig, parsed again only when a file changes (parsing is most of a probe's own work). */
let modelCache: { key: string; model: KubeconfigModel } | undefined;
function kubeconfigModel(paths: string[]): KubeconfigModel {
  const key = paths
    .map((p) => {
      const st = statSync(p, { throwIfNoEntry: false, bigint: true });
      return `${p}\0${st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : '-'}`;
    })
    .join('\n');
  if (modelCache?.key !== key) modelCache = { key, model: loadKubeconfigFiles(paths) };
  return modelCache.model;
}

function resolveTarget(req: ProbeRequest): Target {
  const model = kubeconfigModel(req.kubeconfigPaths);
  const ctx = model.contexts.find((c) => c.name === req.context);
  if (!ctx) {
    const files = model.files.map((f) => (f.state === 'ok' ? f.path : `${f.path} (${f.state})`)).join(', ');
    throw new ProbeVerdict('dangling', `no context named ${req.context} in ${files || 'any kubeconfig file'}`);
  }
  const cluster = model.clusters.find((c) => c.name === ctx.spec.cluster);
  if (!cluster) throw new ProbeVerdict('dangling', `its cluster "${ctx.spec.cluster ?? ''}" is not defined in any kubeconfig file`);
  const server = cluster.spec.server;
  if (!server) throw new ProbeVerdict('dangling', `cluster "${cluster.name}" has no server`);
  const user = ctx.spec.user ? model.users.find((u) => u.name === ctx.spec.user) : undefined;
  if (ctx.spec.user && !user) throw new ProbeVerdict('dangling', `its user "${ctx.spec.user}" is not defined in any kubeconfig file`);

  const clusterSpec: Record<string, unknown> = { ...cluster.spec };
  if (typeof cluster.spec['certificate-authority'] === 'string' && !cluster.spec['certificate-authority-data']) {
    clusterSpec['certificate-authority-data'] = readInline(cluster.spec['certificate-authority'], cluster.file, 'certificate-authority', 'unreachable');
  }
  delete clusterSpec['certificate-authority'];

  let userSpec: Record<string, unknown> = {};
  let exec: Target['exec'];
  if (user) {
    const u: KubeUserSpec = user.spec;
    userSpec = { ...u };
    for (const [fileKey, dataKey] of [['client-certificate', 'client-certificate-data'], ['client-key', 'client-key-data']] as const) {
      const f = u[fileKey];
      if (typeof f === 'string' && !u[dataKey]) userSpec[dataKey] = readInline(f, user.file, fileKey, 'auth-failed');
      delete userSpec[fileKey];
    }
    if (typeof u['token-file'] === 'string' && !u.token) {
      userSpec.token = Buffer.from(readInline(u['token-file'], user.file, 'token-file', 'auth-failed'), 'base64').toString('utf8').trim();
    }
    delete userSpec['token-file'];
    if (u.exec) {
      exec = { spec: u.exec, file: user.file };
      delete userSpec.exec; // run by runCredentialPlugin, under the deadline
    }
  }
  const userName = user?.name ?? 'kindtray-anonymous';
  return {
    server,
    ...(user ? { user: user.name } : {}),
    doc: {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster.name, cluster: clusterSpec }],
      users: [{ name: userName, user: userSpec }],
      contexts: [{ name: ctx.name, context: { ...ctx.spec, cluster: cluster.name, user: userName } }],
      'current-context': ctx.name,
    },
    ...(exec ? { exec } : {}),
  };
}

// ---------------------------------------------------------------------------
// The probe

type ClientNode = typeof import('@kubernetes/client-node');

/** Resolves or rejects with `promise`, or rejects when `signal` aborts, whichever is first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export async function probeContext(k8s: ClientNode, req: ProbeRequest, hooks: ProbeHooks): Promise<KubeProbeResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('deadline')), req.deadlineMs);
  const { signal } = controller;
  let server: string | undefined;
  const answer = (state: KubeProbeResult['state'], extra: Partial<KubeProbeResult> = {}): KubeProbeResult => ({
    context: req.context,
    state,
    ...(server ? { server } : {}),
    ...extra,
    ...(extra.cause !== undefined ? { cause: `context ${req.context}: ${extra.cause}` } : {}),
    latencyMs: Math.round(performance.now() - started),
    finishedAt: Date.now(),
  });
  let execKey: string | undefined;
  try {
    const target = resolveTarget(req);
    server = target.server;

    hooks.phase('authenticating');
    if (target.exec) {
      execKey = credentialKey(target.user ?? '', target.exec.spec);
      const status = cachedCredential(execKey) ?? (await runCredentialPlugin(target.exec.spec, target.exec.file, signal, req.deadlineMs, hooks));
      credentialCache.set(execKey, status);
      const users = target.doc.users as { user: Record<string, unknown> }[];
      const u = users[0]?.user ?? {};
      if (status.token) u.token = status.token;
      if (status.clientCertificateData) u['client-certificate-data'] = Buffer.from(status.clientCertificateData).toString('base64');
      if (status.clientKeyData) u['client-key-data'] = Buffer.from(status.clientKeyData).toString('base64');
    }
    const kc: KubeConfigType = new k8s.KubeConfig();
    try {
      kc.loadFromString(JSON.stringify(target.doc));
    } catch (e) {
      throw new ProbeVerdict('unreachable', `the Kubernetes client cannot use this context: ${(e as Error).message}`);
    }
    // Legacy auth providers (gcp, azure) may block here with execSync: the parent's deadline covers that.
    try {
      await untilAborted(kc.applySecurityAuthentication(new k8s.RequestContext(target.server, k8s.HttpMethod.GET)), signal);
    } catch (e) {
      if (signal.aborted) throw new ProbeVerdict('auth-failed', `authentication gave no answer in ${formatMs(req.deadlineMs)}`);
      throw new ProbeVerdict('auth-failed', `authentication failed: ${(e as Error).message.split('\n')[0]}`);
    }

    hooks.phase('requesting');
    const withSignal: ObservableMiddleware = {
      pre: (ctx) => {
        ctx.setSignal(signal);
        return new k8s.Observable(Promise.resolve(ctx));
      },
      post: (ctx) => new k8s.Observable(Promise.resolve(ctx)),
    };
    const options = { middleware: [withSignal], middlewareMergeStrategy: 'append' as const };
    const core: CoreV1ApiType = kc.makeApiClient(k8s.CoreV1Api);
    const [readyz, version, nodes] = await Promise.allSettled([
      untilAborted(new k8s.Health(kc).readyz({ signal }), signal),
      untilAborted(kc.makeApiClient(k8s.VersionApi).getCode({}, options), signal),
      untilAborted(core.listNode({}, options), signal),
    ]);
    const fail = (r: PromiseSettledResult<unknown>) =>
      r.status === 'rejected' ? describeRequestFailure(r.reason, target.server, req.deadlineMs, signal.aborted) : undefined;
    const failures = { readyz: fail(readyz), version: fail(version), nodes: fail(nodes) };
    const http = (f: RequestFailure | undefined) => (f?.kind === 'http' ? f.status : undefined);
    const userWords = target.user ? `the credentials of user ${target.user}` : 'anonymous requests';

    if ([failures.version, failures.nodes].some((f) => http(f) === 401)) {
      if (execKey) credentialCache.delete(execKey); // a fresh credential next time
      return answer('auth-failed', { cause: `the API refused ${userWords} (401 Unauthorized)` });
    }
    // /version is public on every API server: a 403 there means the credentials were refused outright.
    if (http(failures.version) === 403) return answer('auth-failed', { cause: `the API refused ${userWords} (403 Forbidden)` });
    const all = [failures.readyz, failures.version, failures.nodes];
    if (all.every((f) => f !== undefined && f.kind !== 'http')) {
      return answer('unreachable', { cause: (failures.version ?? failures.readyz ?? failures.nodes)?.cause ?? 'no answer' });
    }

    const extra: Partial<KubeProbeResult> = {};
    const degraded: string[] = [];
    if (readyz.status === 'fulfilled') {
      extra.ready = readyz.value;
      if (!readyz.value) degraded.push('the API server reports it is not ready (/readyz)');
    } else if (failures.readyz) degraded.push(`/readyz: ${failures.readyz.cause}`);
    if (version.status === 'fulfilled') extra.version = version.value.gitVersion;
    else if (failures.version) degraded.push(`/version: ${failures.version.cause}`);
    if (nodes.status === 'fulfilled') {
      const list = nodes.value.items.map(nodeInfo);
      extra.nodes = list;
      const notReady = list.filter((n) => !n.ready).map((n) => n.name);
      if (notReady.length > 0) degraded.push(`nodes not Ready: ${notReady.join(', ')}`);
      if (list.length === 0) degraded.push('the cluster has no nodes');
    } else if (http(failures.nodes) === 403) {
      // Allowed in, but not to list nodes: a narrow role on a shared cluster, not a fault.
      extra.cause = `${userWords.replace('the credentials of ', '')} may not list nodes (403 Forbidden)`;
    } else if (failures.nodes) degraded.push(`node list: ${failures.nodes.cause}`);
    if (degraded.length > 0) extra.degraded = degraded.join('; ');
    return answer('ok', extra);
  } catch (e) {
    if (e instanceof ProbeVerdict) return answer(e.state, { cause: e.message });
    if (signal.aborted) return answer('unreachable', { cause: `no answer${server ? ` from ${server}` : ''} in ${formatMs(req.deadlineMs)}` });
    return answer('unreachable', { cause: `probe failed: ${(e as Error).message}` });
  } finally {
    clearTimeout(timer);
    if (!signal.aborted) controller.abort(new Error('probe finished'));
  }
}

// ---------------------------------------------------------------------------
// The message loop, when started as the probe process

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

async function serve(): Promise<void> {
  // Starting fast matters: a replaced child must be ready before the next deadline.
  enableCompileCache?.();
  const k8s: ClientNode = await import('@kubernetes/client-node');
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  const send = (m: ProbeChildMessage): void => {
    if (port) port.postMessage(m);
    else process.send?.(m);
  };
  const onMessage = (raw: unknown): void => {
    const req = probeRequestSchema.safeParse(raw);
    if (!req.success) {
      process.stderr.write(`kube-probe-child: ignored a message that is not a probe request: ${req.error.message}\n`);
      return;
    }
    const hooks: ProbeHooks = {
      phase: (phase) => send({ type: 'phase', id: req.data.id, phase }),
      plugin: (pgid, running) => send({ type: 'plugin', pgid, running }),
    };
    void probeContext(k8s, req.data, hooks).then((result) => send({ type: 'result', id: req.data.id, result }));
  };
  if (port) port.on('message', (e) => onMessage(e.data));
  else {
    process.on('message', onMessage);
    // The parent is gone: nothing to answer to.
    process.on('disconnect', () => process.exit(0));
  }
  send({ type: 'ready', pid: process.pid });
}

if (process.env[PROBE_CHILD_ENV] === '1') void serve();
