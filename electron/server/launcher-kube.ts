// The launcher's one door to kube-ops: what it needs of KubeOps, the types it
// reads, and which failures are worth another try. Every cluster call of the
// launcher goes through KubeOps (a child process, each call under a deadline);
// this is the only launcher file that imports it. Also the wait between tries.

import { defaultKubeconfigPaths } from './kube-ops.ts';
import type { KubeOpError, KubeOpResult, KubeOps, KubeTarget, PodInfo } from './kube-ops.ts';

export { defaultKubeconfigPaths };
export type { KubeOpError, KubeOpResult, KubeTarget, PodInfo };

/** What the launcher needs of KubeOps (a fake in unit tests). */
export type TaskKubeOps = Pick<KubeOps, 'createPod' | 'createService' | 'createSecret' | 'deletePod' | 'deleteService' | 'deleteSecret' | 'getPod' | 'annotatePod' | 'listTaskPods' | 'readLog'>;

const TRANSIENT: ReadonlySet<KubeOpError['kind']> = new Set(['deadline', 'unreachable', 'client-crashed', 'api']);

/** No answer, or a server error: the same call may succeed later. A 4xx will not. */
export const isTransient = (e: KubeOpError): boolean => TRANSIENT.has(e.kind) && !(e.kind === 'api' && e.status !== undefined && e.status < 500);

/** A failed result of our own making, in KubeOps' shape. */
export function fail<T>(kind: KubeOpError['kind'], message: string): KubeOpResult<T> {
  return { ok: false, error: { kind, message } };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
