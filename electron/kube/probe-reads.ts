// What a probe reads from an API server (/readyz, /version, the node list),
// two ways: with Node's own https (api-get.ts), for every context it can
// speak to, or with the Kubernetes client, loaded only for the others (a
// legacy auth provider, a proxy-url). Both start from the same resolved
// Target and answer alike, so probe.ts judges them the same way.

import type { ObservableMiddleware, V1Node } from '@kubernetes/client-node';
import { formatMs } from '../../shared/deadline.ts';
import { jsonOf, type ApiGet } from './api-get.ts';
import { KubeProblem } from './errors.ts';
import type { KubeHooks } from './exec-plugin.ts';
import { clientConfig, type Target } from './target.ts';

type ClientNode = typeof import('@kubernetes/client-node');

/** The three reads, each started when called; rejections are request failures (errors.ts describes them). */
export interface ProbeReads {
  readyz(): Promise<boolean>;
  version(): Promise<{ gitVersion: string }>;
  nodes(): Promise<{ items: V1Node[] }>;
  /**
   * Whether a read so far went over a connection opened for it, where this way
   * of reading can tell (Node's https): a probe whose connections were all kept
   * talks to the server process it talked to before, whose version it knows.
   */
  openedConnection?: () => boolean;
}

/** Resolves or rejects with `promise`, or rejects when `signal` aborts, whichever is first. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // Once we stop waiting, the work's own failure is no one's news; left unhandled it would end the process
  // (it did: a probe that asked /version after its deadline took the shared probe child down with it).
  promise.catch(() => undefined);
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

/** The reads over Node's https. Readiness as the client's Health.readyz says it: 200 ready; 404 asks /healthz (404 there too: ready); anything else not ready. */
export function nativeReads(apiGet: ApiGet, signal: AbortSignal): ProbeReads {
  let opened = false;
  const get: ApiGet = async (path, s) => {
    const r = await apiGet(path, s);
    opened ||= r.newConnection;
    return r;
  };
  const check = async (path: '/readyz' | '/healthz'): Promise<boolean> => {
    const r = await get(path, signal);
    if (r.status === 200) return true;
    if (r.status === 404) return path === '/healthz' ? true : check('/healthz');
    return false;
  };
  return {
    readyz: () => check('/readyz'),
    version: async () => {
      const v = jsonOf('/version', await get('/version', signal)) as { gitVersion?: unknown };
      return { gitVersion: typeof v.gitVersion === 'string' ? v.gitVersion : '' };
    },
    nodes: async () => {
      const list = jsonOf('/api/v1/nodes', await get('/api/v1/nodes', signal)) as { items?: V1Node[] | null };
      return { items: list.items ?? [] };
    },
    openedConnection: () => opened,
  };
}

/**
 * The reads through the Kubernetes client, after its authentication step
 * (legacy auth providers may block there with execSync: the parent's deadline
 * covers that). Resolves the credential cache key too. Throws KubeProblem.
 */
export async function clientNodeReads(
  k8s: ClientNode,
  target: Target,
  signal: AbortSignal,
  deadlineMs: number,
  hooks: Pick<KubeHooks, 'plugin'>,
): Promise<{ reads: ProbeReads; execKey?: string }> {
  const { config: kc, execKey } = await clientConfig(k8s, target, signal, deadlineMs, hooks);
  try {
    await untilAborted(kc.applySecurityAuthentication(new k8s.RequestContext(target.server, k8s.HttpMethod.GET)), signal);
  } catch (e) {
    if (signal.aborted) throw new KubeProblem('unauthorized', `authentication gave no answer in ${formatMs(deadlineMs)}`);
    throw new KubeProblem('unauthorized', `authentication failed: ${(e as Error).message.split('\n')[0]}`);
  }
  const withSignal: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new k8s.Observable(Promise.resolve(ctx));
    },
    post: (ctx) => new k8s.Observable(Promise.resolve(ctx)),
  };
  const options = { middleware: [withSignal], middlewareMergeStrategy: 'append' as const };
  const reads: ProbeReads = {
    readyz: () => new k8s.Health(kc).readyz({ signal }),
    version: () => kc.makeApiClient(k8s.VersionApi).getCode({}, options),
    nodes: () => kc.makeApiClient(k8s.CoreV1Api).listNode({}, options),
  };
  return { reads, ...(execKey ? { execKey } : {}) };
}
