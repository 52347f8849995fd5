// One context, made ready for the Kubernetes client: resolved from the
// kubeconfig files as kubectl merges them, every file it names inlined, and
// its exec credential plugin run by us (exec-plugin.ts), never by the client,
// which would run it with spawnSync. Probes and task operations both build
// their client here.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { classifyUser, type ContextCredentials } from './credentials.ts';
import { KubeProblem } from './errors.ts';
import { cachedCredential, credentialCache, credentialKey, runCredentialPlugin, type KubeHooks } from './exec-plugin.ts';
import { loadKubeconfigCached, type KubeExecSpec, type KubeUserSpec } from './kubeconfig-model.ts';

type ClientNode = typeof import('@kubernetes/client-node');

export interface Target {
  server: string;
  user?: string;
  /** A kubeconfig holding only this context, its cluster and its user, with every file inlined. */
  doc: Record<string, unknown>;
  /** The doc's cluster and user entries (the same objects): what a request is built from. */
  cluster: Record<string, unknown>;
  userSpec: Record<string, unknown>;
  credentials: ContextCredentials;
  exec?: { spec: KubeExecSpec; file: string };
}

function readInline(file: string, relativeTo: string, what: string, kind: 'unauthorized' | 'unreachable'): string {
  const abs = path.isAbsolute(file) ? file : path.resolve(path.dirname(relativeTo), file);
  try {
    return readFileSync(abs).toString('base64');
  } catch (e) {
    throw new KubeProblem(kind, `cannot read ${what} ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Everything `context` needs, from these files as kubectl merges them. Throws KubeProblem, in words. */
export function resolveTarget(kubeconfigPaths: readonly string[], context: string): Target {
  const model = loadKubeconfigCached(kubeconfigPaths);
  const ctx = model.contexts.find((c) => c.name === context);
  if (!ctx) {
    if (!model.files.some((f) => f.state === 'ok')) {
      throw new KubeProblem('config', `no kubeconfig file found (looked at ${kubeconfigPaths.join(', ') || 'nothing'})`, true);
    }
    const files = model.files.map((f) => (f.state === 'ok' ? f.path : `${f.path} (${f.state})`)).join(', ');
    throw new KubeProblem('config', `no context named ${context} in ${files}`, true);
  }
  const cluster = model.clusters.find((c) => c.name === ctx.spec.cluster);
  if (!cluster) throw new KubeProblem('config', `its cluster "${ctx.spec.cluster ?? ''}" is not defined in any kubeconfig file`, true);
  const server = cluster.spec.server;
  if (!server) throw new KubeProblem('config', `cluster "${cluster.name}" has no server`, true);
  const user = ctx.spec.user ? model.users.find((u) => u.name === ctx.spec.user) : undefined;
  if (ctx.spec.user && !user) throw new KubeProblem('config', `its user "${ctx.spec.user}" is not defined in any kubeconfig file`, true);

  const clusterSpec: Record<string, unknown> = { ...cluster.spec };
  if (typeof cluster.spec['certificate-authority'] === 'string' && !cluster.spec['certificate-authority-data']) {
    clusterSpec['certificate-authority-data'] = readInline(cluster.spec['certificate-authority'], cluster.file, 'certificate-authority', 'unreachable');
  }
  delete clusterSpec['certificate-authority'];

  let userSpec: Record<string, unknown> = {};
  let exec: Target['exec'];
  if (user) {
    const u: KubeUserSpec = user.spec;
    userSpec = { ...u };
    for (const [fileKey, dataKey] of [['client-certificate', 'client-certificate-data'], ['client-key', 'client-key-data']] as const) {
      const f = u[fileKey];
      if (typeof f === 'string' && !u[dataKey]) userSpec[dataKey] = readInline(f, user.file, fileKey, 'unauthorized');
      delete userSpec[fileKey];
    }
    if (typeof u['token-file'] === 'string' && !u.token) {
      userSpec.token = Buffer.from(readInline(u['token-file'], user.file, 'token-file', 'unauthorized'), 'base64').toString('utf8').trim();
    }
    delete userSpec['token-file'];
    if (u.exec) {
      exec = { spec: u.exec, file: user.file };
      delete userSpec.exec; // run by runCredentialPlugin, under the deadline
    }
  }
  const userName = user?.name ?? 'kindtray-anonymous';
  return {
    server,
    credentials: classifyUser(user?.spec),
    ...(user ? { user: user.name } : {}),
    cluster: clusterSpec,
    userSpec,
    doc: {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster.name, cluster: clusterSpec }],
      users: [{ name: userName, user: userSpec }],
      contexts: [{ name: ctx.name, context: { ...ctx.spec, cluster: cluster.name, user: userName } }],
      'current-context': ctx.name,
    },
    ...(exec ? { exec } : {}),
  };
}


/**
 * Puts `target`'s credential in place: its exec plugin run first (or its
 * cached credential used) under `signal`, its token or certificate written
 * into the target's user. Resolves the credential cache key, so that a 401
 * can forget the credential. Throws KubeProblem.
 */
export async function applyCredential(target: Target, signal: AbortSignal, deadlineMs: number, hooks: Pick<KubeHooks, 'plugin'>): Promise<{ execKey?: string }> {
  if (!target.exec) return {};
  const execKey = credentialKey(target.user ?? '', target.exec.spec);
  const status = cachedCredential(execKey) ?? (await runCredentialPlugin(target.exec.spec, target.exec.file, signal, deadlineMs, hooks));
  credentialCache.set(execKey, status);
  const u = target.userSpec;
  if (status.token) u.token = status.token;
  if (status.clientCertificateData) u['client-certificate-data'] = Buffer.from(status.clientCertificateData).toString('base64');
  if (status.clientKeyData) u['client-key-data'] = Buffer.from(status.clientKeyData).toString('base64');
  return { execKey };
}

/** A Kubernetes client configuration for `target`, its credential put in place first (applyCredential). Throws KubeProblem. */
export async function clientConfig(
  k8s: ClientNode,
  target: Target,
  signal: AbortSignal,
  deadlineMs: number,
  hooks: Pick<KubeHooks, 'plugin'>,
): Promise<{ config: KubeConfig; execKey?: string }> {
  const { execKey } = await applyCredential(target, signal, deadlineMs, hooks);
  const config: KubeConfig = new k8s.KubeConfig();
  try {
    config.loadFromString(JSON.stringify(target.doc));
  } catch (e) {
    throw new KubeProblem('config', `the Kubernetes client cannot use this context: ${(e as Error).message}`);
  }
  return { config, ...(execKey ? { execKey } : {}) };
}

/** Forgets a plugin's credential (the API refused it): the next request runs the plugin again. */
export function forgetCredential(execKey: string | undefined): void {
  if (execKey) credentialCache.delete(execKey);
}
