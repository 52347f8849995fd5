// How a parent starts a Kubernetes child (kube-child.ts) through the process
// room, so the prober and the task operations start it the same way.

import { KUBE_CHILD_ENV, KUBE_CHILD_PRELOAD_ENV, kubeChildMessageSchema, type KubeChildMessage, type KubeChildRequest } from '../../shared/contracts/kube-child.ts';
import { forkLauncher, moduleBeside, startChild, type Child, type ChildLauncher } from '../process/index.ts';

export type KubeChild = Child<KubeChildMessage, true, KubeChildRequest>;

/** The child's name in process lists and messages. */
export const KUBE_CHILD_NAME = 'Kindtray Kubernetes client';

/** A child that loads the Kubernetes client at start (preloadClient) is ready in about 1 s on a busy 2-core machine; one that does not, in about 0.3 s. */
export const KUBE_CHILD_START_DEADLINE_MS = 10_000;

export interface StartKubeChildOptions {
  launch?: ChildLauncher;
  /** Default: kube-child beside this file (.ts from the repository, .js when built). */
  modulePath?: string;
  readyDeadlineMs?: number;
  /** Load the Kubernetes client before saying ready: for a parent whose requests all need it (task operations, legacy auth providers). */
  preloadClient?: boolean;
}

export function startKubeChild(opts: StartKubeChildOptions = {}): KubeChild {
  return startChild<KubeChildMessage, true, KubeChildRequest>({
    launch: opts.launch ?? forkLauncher,
    modulePath: opts.modulePath ?? moduleBeside(import.meta.url, './kube-child'),
    env: { ...process.env, [KUBE_CHILD_ENV]: '1', [KUBE_CHILD_PRELOAD_ENV]: opts.preloadClient ? '1' : '0' },
    name: KUBE_CHILD_NAME,
    messages: kubeChildMessageSchema,
    isReady: (m) => (m.type === 'ready' ? true : undefined),
    readyDeadlineMs: opts.readyDeadlineMs ?? KUBE_CHILD_START_DEADLINE_MS,
  });
}
