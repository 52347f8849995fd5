// A probe of one context, as the Kubernetes child runs it: is its API there,
// ready, which version, which nodes (and what they offer). Answers within the
// request's deadline on its own when it can: requests carry an AbortSignal and
// the exec plugin runs under it; what can still block (a legacy auth
// provider's execSync) is bounded by the parent's deadline. The requests go
// out through Node's https unless the context needs the Kubernetes client
// (probe-reads.ts), so a child that only probes never loads the client.

import type { V1Node } from '@kubernetes/client-node';
import type { KubeNodeInfo, KubeProbeResult, ProbeRequest } from '../../shared/contracts/kube-probe.ts';
import { formatMs } from '../../shared/deadline.ts';
import { GPU_TYPE_LABELS } from '../../shared/task/gpu-check.ts';
import { describeRequestFailure, KubeProblem, probeStateOf, type RequestFailure } from './errors.ts';
import type { KubeHooks } from './exec-plugin.ts';
import { nativeApi, speaksNatively } from './api-get.ts';
import { clientNodeReads, nativeReads, untilAborted, type ProbeReads } from './probe-reads.ts';
import { applyCredential, forgetCredential, resolveTarget } from './target.ts';

type ClientNode = typeof import('@kubernetes/client-node');

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
  // GPU facts for the cluster check: the capacity (0 when the node has none) and only the type labels it reads.
  const gpus = parseQuantity(node.status?.capacity?.['nvidia.com/gpu']) ?? 0;
  const gpuLabels = GPU_TYPE_LABELS.flatMap((k) => {
    const v = node.metadata?.labels?.[k];
    return v ? [[k, v] as const] : [];
  });
  return {
    name: node.metadata?.name ?? '(unnamed)',
    ready,
    roles,
    ...(cpus !== undefined ? { cpus } : {}),
    ...(memoryBytes !== undefined ? { memoryBytes: Math.round(memoryBytes) } : {}),
    gpus,
    ...(gpuLabels.length > 0 ? { labels: Object.fromEntries(gpuLabels) } : {}),
  };
}

/**
 * Each API server's version by its URL, from a probe whose reads all
 * succeeded over kept connections. A version changes only with the server
 * process, and a new process means new connections: a probe asks /version
 * again when one of its reads opened a connection, failed, or cannot tell.
 * One request in three fewer on every probe of a healthy context.
 */
const knownVersions = new Map<string, string>();

/**
 * The probe's deadline as two halves on one timer (a probe that answers in
 * time, as nearly all do, arms and clears one timer, as before): `atHalf`
 * runs halfway, then the signal aborts at the deadline.
 */
function deadlineInHalves(controller: AbortController, deadlineMs: number): { atHalf: (f: () => void) => void; clear: () => void } {
  let halfway: (() => void) | undefined;
  let timer = setTimeout(() => {
    timer = setTimeout(() => controller.abort(new Error('deadline')), deadlineMs - deadlineMs / 2);
    halfway?.();
  }, deadlineMs / 2);
  return { atHalf: (f) => void (halfway = f), clear: () => clearTimeout(timer) };
}

/**
 * A probe whose reads are partly answered at half its deadline asks
 * `again()` (a second /readyz, on another connection since the others are
 * busy) to tell a read that is only slow (the API answers it: a slow node
 * list is degraded) from an API that went silent after answering the others
 * (a hang that began while the probe was in flight: unreachable now, not one
 * probe later). Nothing is asked when all or none have answered.
 */
function recheckIfHalfAnswered(reads: readonly Promise<unknown>[], again: () => Promise<unknown>): { asked: Promise<unknown> | undefined; atHalf: () => void } {
  let answered = 0;
  for (const r of reads) r.then(() => answered++, () => answered++);
  const recheck: { asked: Promise<unknown> | undefined; atHalf: () => void } = {
    asked: undefined,
    atHalf: () => {
      if (answered === 0 || answered === reads.length) return;
      recheck.asked = again();
      recheck.asked.catch(() => undefined); // read only when a read went unanswered
    },
  };
  return recheck;
}

/** Loads the Kubernetes client when a probe needs it (a legacy auth provider, a proxy-url): once per process. */
export type LoadClientNode = () => Promise<ClientNode>;

/**
 * Probes one context: readiness, version and nodes, each request and the
 * authentication under the request's deadline. Node's own https does it
 * when it can (api-get.ts); the Kubernetes client is loaded only otherwise.
 */
export async function probeContext(loadClient: LoadClientNode, req: ProbeRequest, hooks: KubeHooks): Promise<KubeProbeResult> {
  const started = performance.now();
  const controller = new AbortController();
  const deadline = deadlineInHalves(controller, req.deadlineMs);
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
    const target = resolveTarget(req.kubeconfigPaths, req.context);
    server = target.server;

    // The parent is told the phases only where authentication can block this process (an exec plugin, a
    // legacy auth provider): what it blames a hang on. Static credentials cannot; two messages a probe saved.
    const native = speaksNatively(target);
    const canBlock = target.exec !== undefined || !native;
    if (canBlock) hooks.phase('authenticating');
    let reads: ProbeReads;
    if (native) {
      execKey = (await applyCredential(target, signal, req.deadlineMs, hooks)).execKey;
      reads = nativeReads(nativeApi(target), signal);
    } else {
      const k8s = await untilAborted(loadClient(), signal);
      const built = await clientNodeReads(k8s, target, signal, req.deadlineMs, hooks);
      execKey = built.execKey;
      reads = built.reads;
    }

    if (canBlock) hooks.phase('requesting');
    const known = reads.openedConnection ? knownVersions.get(target.server) : undefined;
    const askVersion = () => untilAborted(reads.version(), signal);
    const asked = [untilAborted(reads.readyz(), signal), untilAborted(reads.nodes(), signal), known === undefined ? askVersion() : Promise.resolve({ gitVersion: known })] as const;
    const recheck = recheckIfHalfAnswered(known === undefined ? asked : asked.slice(0, 2), () => untilAborted(reads.readyz(), signal));
    deadline.atHalf(recheck.atHalf);
    const [readyz, nodes, first] = await Promise.allSettled(asked);
    deadline.atHalf(() => undefined);
    const readsFailed = readyz.status === 'rejected' || nodes.status === 'rejected';
    // A failure is judged with a fresh /version as before (a 403 there is credentials refused); so is a new server process.
    const [version] = known !== undefined && (readsFailed || reads.openedConnection?.()) ? await Promise.allSettled([askVersion()]) : [first];
    if (reads.openedConnection && !readsFailed && version.status === 'fulfilled') knownVersions.set(target.server, version.value.gitVersion);
    else knownVersions.delete(target.server);
    const fail = (r: PromiseSettledResult<unknown>) =>
      r.status === 'rejected' ? describeRequestFailure(r.reason, target.server, req.deadlineMs, signal.aborted) : undefined;
    const failures = { readyz: fail(readyz), version: fail(version), nodes: fail(nodes) };
    const http = (f: RequestFailure | undefined) => (f?.kind === 'http' ? f.status : undefined);
    const userWords = target.user ? `the credentials of user ${target.user}` : 'anonymous requests';

    if ([failures.version, failures.nodes].some((f) => http(f) === 401)) {
      forgetCredential(execKey); // a fresh credential next time
      return answer('auth-failed', { cause: `the API refused ${userWords} (401 Unauthorized)` });
    }
    // /version is public on every API server: a 403 there means the credentials were refused outright.
    if (http(failures.version) === 403) return answer('auth-failed', { cause: `the API refused ${userWords} (403 Forbidden)` });
    const all = [failures.readyz, failures.version, failures.nodes];
    const silent = (f: RequestFailure | undefined) => f !== undefined && f.kind !== 'http';
    if (all.every(silent)) {
      return answer('unreachable', { cause: (failures.version ?? failures.readyz ?? failures.nodes)?.cause ?? 'no answer' });
    }
    // Some reads answered, then the API went silent: the second /readyz, asked after they answered, got nothing either.
    const unanswered = all.find(silent);
    if (unanswered && recheck.asked) {
      const [again] = await Promise.allSettled([recheck.asked]);
      if (silent(fail(again))) return answer('unreachable', { cause: `it stopped answering during the probe: ${unanswered.cause}` });
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
    if (e instanceof KubeProblem) return answer(probeStateOf(e), { cause: e.message });
    if (signal.aborted) return answer('unreachable', { cause: `no answer${server ? ` from ${server}` : ''} in ${formatMs(req.deadlineMs)}` });
    return answer('unreachable', { cause: `probe failed: ${(e as Error).message}` });
  } finally {
    deadline.clear();
    if (!signal.aborted) controller.abort(new Error('probe finished'));
  }
}

