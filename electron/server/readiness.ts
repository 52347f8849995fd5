// When a task's endpoints are shown ready: SkyServe's readiness probe
// (service.readiness_probe) becomes the Pod's readinessProbe, on the port
// SkyServe probes (service.ports, else the task's first port), and the Pod's
// Ready condition, as the kubelet reports it, becomes each endpoint's `ready`.
// Without a probe nothing changes: endpoints carry no `ready` at all.

import type { V1Container, V1Probe } from '@kubernetes/client-node';
import type { TaskEndpoint } from '../../shared/api.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import type { PodInfo } from './launcher-kube.ts';

/** How often the kubelet probes. SkyServe's controller probes every 10 s; on a local cluster a user waits on it, so sooner. */
export const READINESS_PERIOD_SECONDS = 2;
/** One probe's time when the task says none: SkyServe's default (an LLM's first answer is slow). */
export const READINESS_TIMEOUT_SECONDS = 15;
/** Failures in a row before a ready endpoint is shown starting again (Kubernetes' default). */
export const READINESS_FAILURE_THRESHOLD = 3;

/** The port SkyServe probes: service.ports, else the task's first port; undefined when there is none. */
export function probedPort(spec: Pick<TaskSpec, 'service' | 'resources'>): number | undefined {
  return spec.service?.port ?? spec.resources.ports[0];
}

/** The Pod's readinessProbe for the task's readiness_probe; undefined without one (or with no port to probe). */
export function readinessProbeFor(spec: Pick<TaskSpec, 'service' | 'resources'>): V1Probe | undefined {
  const probe = spec.service?.readiness;
  const port = probedPort(spec);
  if (!probe || port === undefined) return undefined;
  // SkyServe joins the URL and the path as text; Kubernetes wants an absolute path.
  const path = probe.path.startsWith('/') ? probe.path : `/${probe.path}`;
  const headers = Object.entries(probe.headers ?? {}).map(([name, value]) => ({ name, value }));
  return {
    // Kubernetes' probe can only GET: post_data is warned about at validation.
    httpGet: { path, port, scheme: 'HTTP', ...(headers.length > 0 && { httpHeaders: headers }) },
    // SkyServe's initial_delay_seconds is its grace before replacing a replica, not a wait before probing: probe at once.
    initialDelaySeconds: 0,
    periodSeconds: READINESS_PERIOD_SECONDS,
    // Kubernetes takes whole seconds, at least 1.
    timeoutSeconds: Math.max(1, Math.ceil(probe.timeoutSeconds ?? READINESS_TIMEOUT_SECONDS)),
    successThreshold: 1,
    failureThreshold: READINESS_FAILURE_THRESHOLD,
  };
}

/** Gives the task's container its readiness probe, when the task has one (pod_config, merged after, may still replace it). */
export function addReadinessProbe(container: V1Container, spec: Pick<TaskSpec, 'service' | 'resources'>): void {
  const probe = readinessProbeFor(spec);
  if (probe) container.readinessProbe = probe;
}

/** The endpoints a new task starts with: not ready while a probe is to pass, as they were without one. */
export function initialEndpoints(spec: Pick<TaskSpec, 'service' | 'resources'>, endpoints: TaskEndpoint[]): TaskEndpoint[] {
  return readinessProbeFor(spec) ? endpoints.map((e) => ({ ...e, ready: false })) : endpoints;
}

/** The endpoints with the Pod's readiness, or undefined when nothing changes (no probe, or the same readiness). */
export function endpointsReadiness(task: { spec: Pick<TaskSpec, 'service' | 'resources'>; endpoints: TaskEndpoint[] }, pod: PodInfo): TaskEndpoint[] | undefined {
  if (!readinessProbeFor(task.spec)) return undefined;
  const ready = pod.phase === 'Running' && pod.ready === true;
  if (task.endpoints.every((e) => e.ready === ready)) return undefined;
  return task.endpoints.map((e) => ({ ...e, ready }));
}
