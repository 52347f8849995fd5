// The dashboard's addresses that other views open it at (the tray's cluster
// submenu, "Create cluster…"): written here once, so the tray's links and the
// dashboard's router (renderer/src/route.ts) cannot disagree.

/** What a cluster's page opens with, besides the page itself. */
export const CLUSTER_PAGE_ACTIONS = ['delete', 'load-image'] as const;
export type ClusterPageAction = (typeof CLUSTER_PAGE_ACTIONS)[number];

export const isClusterPageAction = (s: string | undefined): s is ClusterPageAction => CLUSTER_PAGE_ACTIONS.some((a) => a === s);

/** The hash of each page (the dashboard routes by `location.hash`). */
export const DASHBOARD_LINKS = {
  clusters: '#/clusters',
  /** Not under `#/clusters/`: a cluster may be called "new". */
  createCluster: '#/new-cluster',
  cluster: (name: string, action?: ClusterPageAction): string => `#/clusters/${encodeURIComponent(name)}${action ? `/${action}` : ''}`,
} as const;

/**
 * Whether `text` is a dashboard hash a window may be sent to: `#/` and a path of
 * plain, percent-encoded segments. Anything else (another origin, a script
 * URL, a query) is refused by the window that is asked to open it.
 */
export const isDashboardLink = (text: string): boolean => /^#\/(?:[A-Za-z0-9._~%-]+(?:\/[A-Za-z0-9._~%-]+)*)?$/.test(text) && text.length <= 300;
