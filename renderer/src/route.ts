// Hash routing, without a router dependency: `#/`, `#/tasks`, `#/tasks/ID`,
// `#/launch`, `#/diagnostics`, `#/history`, `#/settings`. The hash keeps the
// page itself at index.html, so it works at `/` and from a file:// URL alike.

import { useSyncExternalStore } from 'react';
import { DASHBOARD_LINKS, isClusterPageAction, type ClusterPageAction } from '../../shared/dashboard-links.ts';

export type Route =
  | { page: 'overview' }
  | { page: 'tasks' }
  | { page: 'task'; id: string }
  | { page: 'launch' }
  | { page: 'clusters' }
  /** `#/clusters/NAME`, `#/clusters/NAME/delete`, `#/clusters/NAME/load-image` (the tray links here). */
  | { page: 'cluster'; name: string; action?: ClusterPageAction }
  | { page: 'new-cluster' }
  | { page: 'diagnostics' }
  | { page: 'history' }
  | { page: 'settings' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { page: 'overview' };
  const [head, id, ...rest] = parts;
  if (head === 'tasks' && id !== undefined && rest.length === 0) return { page: 'task', id: decodeURIComponent(id) };
  if (head === 'clusters' && id !== undefined && rest.length <= 1 && (rest.length === 0 || isClusterPageAction(rest[0]))) {
    return { page: 'cluster', name: decodeURIComponent(id), ...(isClusterPageAction(rest[0]) ? { action: rest[0] } : {}) };
  }
  if (id === undefined && (head === 'clusters' || head === 'new-cluster')) return { page: head };
  if (id === undefined && (head === 'tasks' || head === 'launch' || head === 'diagnostics' || head === 'history' || head === 'settings')) {
    return { page: head };
  }
  return { page: 'not-found', path };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'task':
      return `#/tasks/${encodeURIComponent(route.id)}`;
    case 'cluster':
      return DASHBOARD_LINKS.cluster(route.name, route.action);
    case 'new-cluster':
      return DASHBOARD_LINKS.createCluster;
    case 'not-found':
      return `#${route.path}`;
    default:
      return `#/${route.page}`;
  }
}

export const navigate = (route: Route): void => {
  window.location.hash = href(route);
};

const subscribe = (cb: () => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
