// How a context authenticates, and which Kubernetes child serves it.
import { describe, expect, it } from 'vitest';
import { canBlockProcess, classifyUser, contextCredentials, kubeChildKey, SHARED_KUBE_CHILD } from './credentials.ts';
import type { KubeconfigModel } from './kubeconfig-model.ts';

const model = (users: Record<string, Record<string, unknown>>, contexts: Record<string, string | undefined>): KubeconfigModel => ({
  files: [{ path: '/k', state: 'ok' }],
  clusters: [{ name: 'c', file: '/k', spec: { server: 'https://127.0.0.1:6443' } }],
  users: Object.entries(users).map(([name, spec]) => ({ name, file: '/k', spec })),
  contexts: Object.entries(contexts).map(([name, user]) => ({ name, file: '/k', spec: { cluster: 'c', ...(user ? { user } : {}) } })),
});

const m = model(
  {
    cert: { 'client-certificate-data': 'x', 'client-key-data': 'y' },
    token: { token: 't' },
    plugin: { exec: { command: 'aws', args: ['eks', 'get-token'] } },
    gcp: { 'auth-provider': { name: 'gcp', config: { 'cmd-path': '/usr/bin/gcloud' } } },
    oidc: { 'auth-provider': { name: 'oidc', config: { 'idp-issuer-url': 'https://x' } } },
  },
  { 'kind-a': 'cert', 'kind-b': 'cert', tok: 'token', eks: 'plugin', gke: 'gcp', oidc: 'oidc', anon: undefined, lost: 'nobody' },
);

describe('credentials', () => {
  it('classifies static certificates and tokens, exec plugins and legacy auth providers', () => {
    expect(classifyUser({ 'client-certificate-data': 'x' })).toEqual({ kind: 'static' });
    expect(classifyUser(undefined)).toEqual({ kind: 'static' });
    expect(contextCredentials(m, 'tok')).toEqual({ kind: 'static' });
    expect(contextCredentials(m, 'eks')).toEqual({ kind: 'exec', command: 'aws' });
    expect(contextCredentials(m, 'gke')).toEqual({ kind: 'auth-provider', provider: 'gcp', command: '/usr/bin/gcloud' });
    expect(contextCredentials(m, 'oidc')).toEqual({ kind: 'auth-provider', provider: 'oidc' });
    // No user, a user no file defines, a context no file defines: nothing runs to authenticate.
    expect(contextCredentials(m, 'anon')).toEqual({ kind: 'static' });
    expect(contextCredentials(m, 'lost')).toEqual({ kind: 'static' });
    expect(contextCredentials(m, 'nowhere')).toEqual({ kind: 'static' });
  });

  it('only a legacy auth provider can block the process (client-node runs it with execSync); exec plugins are run by us, asynchronously', () => {
    expect(canBlockProcess({ kind: 'static' })).toBe(false);
    expect(canBlockProcess({ kind: 'exec', command: 'aws' })).toBe(false);
    expect(canBlockProcess({ kind: 'auth-provider', provider: 'gcp' })).toBe(true);
  });
});

describe('children by risk, not by count', () => {
  it('every KinD context, token and exec plugin context shares one child; each legacy auth provider context has its own', () => {
    for (const c of ['kind-a', 'kind-b', 'tok', 'eks', 'anon', 'lost', 'nowhere']) expect(kubeChildKey(m, c)).toBe(SHARED_KUBE_CHILD);
    expect(kubeChildKey(m, 'gke')).toBe('gke');
    expect(kubeChildKey(m, 'oidc')).toBe('oidc');
  });
});
