// The cluster contract's plain values: kind's name rule, the NodePort ranges
// and every cluster route. No zod here: the dashboard's first page loads these
// (its API client, the cluster list) without the request schemas, which only
// the create form and the supervisor need (clusters.ts, which re-exports this).

/** kind's own rule for a cluster name (it becomes container names and the `kind-NAME` context). */
export const CLUSTER_NAME_RE = /^[a-z0-9][a-z0-9.-]*$/;
export const CLUSTER_NAME_MAX = 50;

/**
 * As `sky local up` (SkyPilot's kubernetes_deploy_utils): a cluster's NodePorts are 30000-30099 (its API
 * server's service-node-port-range), published on 100 host ports; the first cluster takes host ports
 * 30000-30099, another a free hundred after them. A task's NodePort N is reached on host port from + (N - 30000).
 */
export const NODE_PORT_RANGE_SIZE = 100;
/** The first NodePort of every cluster Kindtray creates. */
export const NODE_PORT_MIN = 30000;
/** Kubernetes' default NodePort range ends here (--service-node-port-range 30000-32767). */
export const NODE_PORT_MAX = 32767;
/** Host port ranges are tried in hundreds from 30000 up to here (sky local up picks other clusters' in 30100-39999). */
export const HOST_PORT_RANGE_END = 39999;

/** Every route, one place: paths with `:name`/`:id` as the supervisor's router takes them. */
export const CLUSTER_ROUTES = {
  list: { method: 'GET', path: '/api/clusters' },
  check: { method: 'POST', path: '/api/clusters/check' },
  create: { method: 'POST', path: '/api/clusters' },
  deletePlan: { method: 'GET', path: '/api/clusters/:name/delete-plan' },
  delete: { method: 'DELETE', path: '/api/clusters/:name' },
  start: { method: 'POST', path: '/api/clusters/:name/start' },
  stop: { method: 'POST', path: '/api/clusters/:name/stop' },
  loadImage: { method: 'POST', path: '/api/clusters/:name/images' },
  operation: { method: 'GET', path: '/api/operations/:id' },
  cancel: { method: 'POST', path: '/api/operations/:id/cancel' },
} as const;

/** A route's path with its parameters filled in (escaped). */
export const routePath = (route: keyof typeof CLUSTER_ROUTES, params: { name?: string; id?: string } = {}): string =>
  CLUSTER_ROUTES[route].path.replace(/:(name|id)/g, (_, k: 'name' | 'id') => encodeURIComponent(params[k] ?? ''));
