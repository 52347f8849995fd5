// Hash routing, without a router dependency: `#/`, `#/tasks`, `#/tasks/ID`,
// `#/launch`, `#/diagnostics`, `#/history`, `#/settings`. The hash keeps the
// page itself at index.html, so it works at `/` and from a file:// URL alike.

import { useSyncExternalStore } from 'react';

export type Route =
  | { page: 'overview' }
  | { page: 'tasks' }
  | { page: 'task'; id: string }
  | { page: 'launch' }
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
