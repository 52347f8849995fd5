// service.readiness_probe → the Pod's readinessProbe, and the Pod's Ready
// condition → its endpoints' `ready`: the pure half (the testbed half is in
// launcher.int.test.ts).

import { describe, expect, it } from 'vitest';
import type { TaskEndpoint } from '../../shared/api.ts';
import { parseTask } from '../../shared/task/index.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import type { PodInfo } from './kube-ops.ts';
import { buildPod } from './pod-plan.ts';
import { endpointsReadiness, initialEndpoints, readinessProbeFor } from './readiness.ts';
import type { StoredTask } from './task-model.ts';

function spec(yaml: string): TaskSpec {
  const parsed = parseTask(yaml);
  expect(parsed.errors).toEqual([]);
  if (!parsed.task) throw new Error('no task');
  return parsed.task;
}

const pod = (over: Partial<PodInfo>): PodInfo => ({ name: 'p', namespace: 'default', phase: 'Running', labels: {}, deleting: false, ...over });
const endpoint: TaskEndpoint = { port: 8080, nodePort: 30080, url: 'http://127.0.0.1:8080', reachable: true, how: 'published' };

describe('the readiness probe SkyServe would run, as the Pod\'s readinessProbe', () => {
  it('a path alone: GET it on the task\'s first port, every 2 s, SkyServe\'s 15 s timeout', () => {
    expect(readinessProbeFor(spec('service:\n  readiness_probe: /health\nresources:\n  ports: [8080, 9000]\nrun: x'))).toEqual({
      httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
      initialDelaySeconds: 0,
      periodSeconds: 2,
      timeoutSeconds: 15,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('the mapping form: service.ports is the probed port, its timeout in whole seconds, its headers', () => {
    const s = spec(
      'service:\n  readiness_probe:\n    path: ready\n    timeout_seconds: 2.5\n    initial_delay_seconds: 600\n    headers: {X-Token: abc}\n  ports: 9000\nresources:\n  ports: 8080\nrun: x',
    );
    expect(readinessProbeFor(s)).toMatchObject({
      httpGet: { path: '/ready', port: 9000, scheme: 'HTTP', httpHeaders: [{ name: 'X-Token', value: 'abc' }] },
      // SkyServe's initial delay is its grace before replacing a replica, not a wait before the first probe.
      initialDelaySeconds: 0,
      timeoutSeconds: 3,
    });
  });

  it('no probe, or no port to probe: none, and the Pod is as before', () => {
    expect(readinessProbeFor(spec('resources:\n  ports: 8080\nrun: x'))).toBeUndefined();
    expect(readinessProbeFor(spec('service:\n  readiness_probe: /health\nrun: x'))).toBeUndefined();
  });

  it('buildPod gives the task container the probe; pod_config may replace it, as SkyPilot merges it', () => {
    const base = { id: 't-abc', name: 'web', namespace: 'default', context: 'kind-dev', endpoints: [], portPlan: [] } as unknown as StoredTask;
    const withProbe = buildPod({ ...base, spec: spec('service:\n  readiness_probe: /health\nresources:\n  ports: 8080\nrun: x') }, 'busybox');
    expect(withProbe.spec?.containers[0]?.readinessProbe?.httpGet).toEqual({ path: '/health', port: 8080, scheme: 'HTTP' });
    const replaced = buildPod(
      { ...base, spec: spec('service:\n  readiness_probe: /health\nresources:\n  ports: 8080\nconfig:\n  kubernetes:\n    pod_config:\n      spec:\n        containers:\n          - readinessProbe: {periodSeconds: 7}\nrun: x') },
      'busybox',
    );
    expect(replaced.spec?.containers[0]?.readinessProbe).toMatchObject({ httpGet: { path: '/health' }, periodSeconds: 7 });
    expect(buildPod({ ...base, spec: spec('resources:\n  ports: 8080\nrun: x') }, 'busybox').spec?.containers[0]?.readinessProbe).toBeUndefined();
  });
});

describe('the Pod\'s Ready condition is the endpoints\' ready', () => {
  const probed = spec('service:\n  readiness_probe: /health\nresources:\n  ports: 8080\nrun: x');
  const plain = spec('resources:\n  ports: 8080\nrun: x');

  it('a task with a probe starts not ready; one without has no ready at all', () => {
    expect(initialEndpoints(probed, [endpoint])).toEqual([{ ...endpoint, ready: false }]);
    expect(initialEndpoints(plain, [endpoint])).toEqual([endpoint]);
  });

  it('ready once the Pod runs and is Ready; starting again when the probe fails; unchanged answers undefined', () => {
    const starting = [{ ...endpoint, ready: false }];
    expect(endpointsReadiness({ spec: probed, endpoints: starting }, pod({ ready: false }))).toBeUndefined();
    expect(endpointsReadiness({ spec: probed, endpoints: starting }, pod({ phase: 'Pending', ready: true }))).toBeUndefined();
    const ready = endpointsReadiness({ spec: probed, endpoints: starting }, pod({ ready: true }));
    expect(ready).toEqual([{ ...endpoint, ready: true }]);
    expect(endpointsReadiness({ spec: probed, endpoints: ready ?? [] }, pod({ ready: true }))).toBeUndefined();
    expect(endpointsReadiness({ spec: probed, endpoints: ready ?? [] }, pod({ ready: false }))).toEqual(starting);
  });

  it('without a probe the Pod\'s readiness changes nothing', () => {
    expect(endpointsReadiness({ spec: plain, endpoints: [endpoint] }, pod({ ready: true }))).toBeUndefined();
  });
});
