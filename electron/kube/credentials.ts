// How each context authenticates, and whether that can block the process that
// talks to its cluster. Kubernetes children are sorted by this risk, not
// counted per context: a context whose credentials can stop an event loop gets
// a child of its own; every other context shares one child.
//
// - static: a client certificate, a token (or token file), a password, or
//   nothing: no code runs to authenticate.
// - exec: a credential plugin. Kindtray runs it itself, asynchronously, in its
//   own process group, ended at the deadline (exec-plugin.ts), so it never
//   blocks the child; it shares the child of static contexts.
// - auth-provider: a legacy provider. client-node runs the gcp and azure ones'
//   command with execSync, which stops the child's event loop until the
//   command ends; no deadline inside that child can help. Own child.

import type { KubeconfigModel, KubeUserSpec } from './kubeconfig-model.ts';

export type CredentialKind = 'static' | 'exec' | 'auth-provider';

export interface ContextCredentials {
  kind: CredentialKind;
  /** The plugin's or provider's command, when it names one. */
  command?: string;
  /** The legacy provider's name (`gcp`, `azure`, `oidc`, ...). */
  provider?: string;
}

/** How a kubeconfig user authenticates; no user (or a missing one) is static: nothing runs. */
export function classifyUser(user: KubeUserSpec | undefined): ContextCredentials {
  if (user?.exec) return { kind: 'exec', command: user.exec.command };
  const provider = user?.['auth-provider'];
  if (provider) {
    const cmd = provider.config?.['cmd-path'];
    return { kind: 'auth-provider', provider: provider.name, ...(typeof cmd === 'string' ? { command: cmd } : {}) };
  }
  return { kind: 'static' };
}

/** The credentials `context` uses, as the merged kubeconfig defines them. */
export function contextCredentials(model: KubeconfigModel, context: string): ContextCredentials {
  const userName = model.contexts.find((c) => c.name === context)?.spec.user;
  return classifyUser(userName ? model.users.find((u) => u.name === userName)?.spec : undefined);
}

/** Whether authenticating can block the process that does it (see the top of this file). */
export function canBlockProcess(credentials: ContextCredentials): boolean {
  return credentials.kind === 'auth-provider';
}

/** The key of the child that every context which cannot block shares. (A risky context named so would share it: harmless, and unlikely.) */
export const SHARED_KUBE_CHILD = '(shared)';

/** Which Kubernetes child serves `context`: SHARED_KUBE_CHILD, or a child of its own, keyed by the context's name. */
export function kubeChildKey(model: KubeconfigModel, context: string): string {
  return canBlockProcess(contextCredentials(model, context)) ? context : SHARED_KUBE_CHILD;
}
