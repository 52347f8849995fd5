// Plain-data snapshots for tests and dashboard previews: a healthy machine with
// two KinD clusters, and builders to break one part of it at a time.

import { kindContextName } from './constants.ts';
import type { SnapshotInput } from './problems.ts';
import type { ClusterHealth, ContextHealth } from './snapshot.ts';

export const CHECKED_AT = '2026-01-15T10:00:00.000Z';

export function kindCluster(name: string, overrides: Partial<ClusterHealth> = {}, apiPort = 41000): ClusterHealth {
  return {
    name,
    state: 'running',
    context: kindContextName(name),
    apiEndpoint: `https://127.0.0.1:${apiPort}`,
    kubernetesVersion: 'v1.31.0',
    nodes: [{ name: `${name}-control-plane`, role: 'control-plane', state: 'running', ready: true }],
    portMappings: [],
    ...overrides,
  };
}

export function kubeContext(name: string, overrides: Partial<ContextHealth> = {}): ContextHealth {
  return { name, current: false, state: 'ok', cluster: name, user: name, server: 'https://127.0.0.1:41000', ...overrides };
}

/** Docker 27.3.1 with clusters dev (current context) and test (two nodes), all healthy. */
export function healthyInput(): SnapshotInput {
  return {
    checkedAt: CHECKED_AT,
    docker: { state: 'running', endpoint: 'unix:///var/run/docker.sock', endpointSource: 'default socket', version: '27.3.1', apiVersion: '1.47' },
    clusters: [
      kindCluster('dev', { portMappings: [{ containerPort: 30080, hostPort: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }] }, 41001),
      kindCluster(
        'test',
        {
          nodes: [
            { name: 'test-control-plane', role: 'control-plane', state: 'running', ready: true },
            { name: 'test-worker', role: 'worker', state: 'running', ready: true },
          ],
        },
        41002,
      ),
    ],
    contexts: [
      kubeContext('kind-dev', { current: true, server: 'https://127.0.0.1:41001' }),
      kubeContext('kind-test', { server: 'https://127.0.0.1:41002' }),
    ],
    kubeconfig: { files: [{ path: '/home/me/.kube/config', state: 'ok' }], currentContext: 'kind-dev' },
    server: { state: 'healthy', port: 46590, pid: 4242, latencyMs: 3 },
  };
}

/** Docker stopped: the monitor can still name the clusters it knew, but not see them. */
export function dockerStoppedInput(): SnapshotInput {
  const s = healthyInput();
  return {
    ...s,
    docker: { state: 'stopped', endpoint: s.docker.endpoint, endpointSource: 'default socket', cause: 'no Docker socket at /var/run/docker.sock' },
    clusters: s.clusters.map((c) => ({ ...c, state: 'unknown', nodes: [] })),
    contexts: s.contexts.map((c) => ({ ...c, state: c.current ? 'unreachable' : 'unknown', cause: c.current ? 'connect ECONNREFUSED 127.0.0.1:41001' : undefined })),
  };
}
