// Task operations as the Kubernetes child runs them (create and delete a
// task's Pod and Service, read a Pod's status and log), each answered with a
// typed value or a typed error. The child gives up on an HTTP request shortly
// before the parent's deadline, so a merely silent API costs an answer, not a
// process.

import type { ConfigurationOptions, CoreV1Api, ObservableMiddleware, RequestContext, ResponseContext, V1ContainerStatus, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { CHILD_ANSWER_MARGIN_MS, type ContainerInfo, type KubeOp, type KubeOpError, type OpRequest, type PodInfo, type PodPhase, type ServiceInfo } from '../../shared/contracts/kube-ops.ts';
import { classifyOpError, KubeProblem } from './errors.ts';
import { execInPod } from './exec.ts';
import type { KubeHooks } from './exec-plugin.ts';
import { logSlice } from './log-slice.ts';
import { clientConfig, resolveTarget } from './target.ts';

type ClientNode = typeof import('@kubernetes/client-node');

/**
 * Per-request options: our abort signal, set after authentication (client-node
 * runs middleware then). The object-parameter API takes observable-style
 * middleware (its `pre` answers an Observable), not the promise kind.
 */
function requestOptions(k8s: ClientNode, signal: AbortSignal, onRequest: () => void): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          onRequest();
          ctx.setSignal(signal);
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (ctx: ResponseContext) => new k8s.Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** Runs one task operation; every failure is a typed error, in words. */
export async function runOp(k8s: ClientNode, request: OpRequest, hooks: KubeHooks): Promise<{ ok: true; value: unknown } | { ok: false; error: KubeOpError }> {
  const { target, op, deadlineMs } = request;
  const context = target.context;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(50, deadlineMs - CHILD_ANSWER_MARGIN_MS));
  let phase: 'authenticating' | 'requesting' = 'authenticating';
  let server: string | undefined;
  try {
    const resolved = resolveTarget(target.kubeconfigPaths, context);
    server = resolved.server;
    const { config } = await clientConfig(k8s, resolved, controller.signal, deadlineMs, hooks);
    if (op.kind === 'exec') {
      phase = 'requesting';
      hooks.phase('requesting');
      return { ok: true, value: await execInPod(k8s, config, op, controller.signal) };
    }
    const api = config.makeApiClient(k8s.CoreV1Api);
    const options = requestOptions(k8s, controller.signal, () => {
      phase = 'requesting';
      hooks.phase('requesting');
    });
    const value = await perform(k8s, api, op, options);
    return { ok: true, value };
  } catch (err) {
    if (err instanceof KubeProblem && !controller.signal.aborted) {
      return { ok: false, error: { kind: err.kind, message: `${context}: ${err.message}` } };
    }
    return { ok: false, error: classifyOpError(err, request, phase, controller.signal.aborted, server) };
  } finally {
    clearTimeout(timer);
  }
}

type Options = ReturnType<typeof requestOptions>;

async function perform(k8s: ClientNode, api: CoreV1Api, op: KubeOp, options: Options): Promise<unknown> {
  switch (op.kind) {
    case 'createPod':
      return podInfo(await api.createNamespacedPod({ namespace: op.namespace, body: op.pod as V1Pod }, options));
    case 'createService':
      return serviceInfo(await api.createNamespacedService({ namespace: op.namespace, body: op.service as V1Service }, options));
    case 'deletePod':
      return gone(k8s, () =>
        api.deleteNamespacedPod(
          { name: op.name, namespace: op.namespace, ...(op.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: op.gracePeriodSeconds } : {}) },
          options,
        ),
      );
    case 'deleteService':
      return gone(k8s, () => api.deleteNamespacedService({ name: op.name, namespace: op.namespace }, options));
    case 'createSecret': {
      const created = await api.createNamespacedSecret({ namespace: op.namespace, body: op.secret as V1Secret }, options);
      return { name: created.metadata?.name ?? '' };
    }
    case 'deleteSecret':
      return gone(k8s, () => api.deleteNamespacedSecret({ name: op.name, namespace: op.namespace }, options));
    case 'getPod':
      return podInfo(await api.readNamespacedPod({ name: op.name, namespace: op.namespace }, options));
    case 'annotatePod': {
      const body = { metadata: { annotations: op.annotations } };
      return podInfo(await api.patchNamespacedPod({ name: op.name, namespace: op.namespace, body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, options)));
    }
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
    case 'exec':
      throw new Error('exec is a WebSocket, run by runOp');
  }
}

async function gone(k8s: ClientNode, del: () => Promise<unknown>): Promise<{ existed: boolean }> {
  try {
    await del();
    return { existed: true };
  } catch (err) {
    if (err instanceof k8s.ApiException && err.code === 404) return { existed: false };
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Answers

const iso = (d: Date | string | undefined): string | undefined => (d === undefined ? undefined : d instanceof Date ? d.toISOString() : String(d));

function containerInfo(s: V1ContainerStatus): ContainerInfo {
  const out: ContainerInfo = { name: s.name, state: 'unknown', restartCount: s.restartCount ?? 0 };
  if (s.started !== undefined && s.started !== null) out.started = s.started;
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
  const own = Object.entries(pod.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('kindtray.dev/'));
  if (own.length > 0) out.annotations = Object.fromEntries(own);
  if (pod.status?.podIP) out.podIP = pod.status.podIP;
  if (pod.status?.reason) out.reason = pod.status.reason;
  if (pod.status?.message) out.message = pod.status.message;
  const first = pod.status?.containerStatuses?.[0];
  if (first) out.container = containerInfo(first);
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False') out.unschedulable = scheduled.message ?? scheduled.reason ?? 'not scheduled';
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready) out.ready = ready.status === 'True';
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


