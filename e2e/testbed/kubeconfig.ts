// Kubeconfig files as kind writes them, and the helpers tests use to break
// them on purpose. kind merges `kind-NAME` entries (cluster, user, context)
// into the file named by $KUBECONFIG, sets current-context to it, and guards
// the read-modify-write with a `FILE.lock` made with O_EXCL; so do we, since
// test files create clusters in parallel and may share a kubeconfig.

import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { isAlive, sleep, writeFileAtomic } from './proc.ts';

export interface NamedCluster {
  name: string;
  cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean; [k: string]: unknown };
}
export interface NamedUser {
  name: string;
  user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string; exec?: unknown; [k: string]: unknown };
}
export interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string; [k: string]: unknown };
}
export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  preferences: Record<string, unknown>;
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  'current-context': string;
  [k: string]: unknown;
}

export const emptyKubeconfig = (): Kubeconfig => ({ apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], users: [], contexts: [], 'current-context': '' });

/** Reads a kubeconfig; a missing or empty file is an empty config. Malformed YAML throws. */
export function readKubeconfig(path: string): Kubeconfig {
  if (!existsSync(path)) return emptyKubeconfig();
  const text = readFileSync(path, 'utf8');
  const doc = (text.trim() ? parse(text) : {}) as Partial<Kubeconfig> | null;
  return { ...emptyKubeconfig(), ...(doc ?? {}), clusters: doc?.clusters ?? [], users: doc?.users ?? [], contexts: doc?.contexts ?? [] };
}

/** Writes a kubeconfig (mode 0600, atomically): a document, or raw text for deliberately malformed files. */
export function writeKubeconfig(path: string, doc: Kubeconfig | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, typeof doc === 'string' ? doc : stringify(doc), 0o600);
}

/** Read-modify-write under kind's lock file. */
export async function editKubeconfig(path: string, edit: (doc: Kubeconfig) => void): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const lock = `${path}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      // A lock left by a dead process (or older than 30 s) is broken.
      try {
        if (!isAlive(Number(readFileSync(lock, 'utf8'))) || Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`kubeconfig ${path} stays locked (${lock})`);
      await sleep(20);
    }
  }
  try {
    const doc = readKubeconfig(path);
    edit(doc);
    writeKubeconfig(path, doc);
  } finally {
    rmSync(lock, { force: true });
  }
}

const upsert = <T extends { name: string }>(list: T[], entry: T): void => {
  const i = list.findIndex((e) => e.name === entry.name);
  if (i >= 0) list[i] = entry;
  else list.push(entry);
};

export interface KindEntry {
  /** kind-NAME */
  context: string;
  server: string;
  caData: string;
  clientCertData: string;
  clientKeyData: string;
}

/** Adds or replaces the `kind-NAME` cluster, user and context, and makes the context current (as `kind create cluster`). */
export function mergeKindEntry(path: string, entry: KindEntry): Promise<void> {
  return editKubeconfig(path, (doc) => {
    upsert(doc.clusters, { name: entry.context, cluster: { server: entry.server, 'certificate-authority-data': entry.caData } });
    upsert(doc.users, { name: entry.context, user: { 'client-certificate-data': entry.clientCertData, 'client-key-data': entry.clientKeyData } });
    upsert(doc.contexts, { name: entry.context, context: { cluster: entry.context, user: entry.context } });
    doc['current-context'] = entry.context;
  });
}

/** Removes the `kind-NAME` entries; clears current-context if it named them (as `kind delete cluster`). */
export function removeKindEntry(path: string, context: string): Promise<void> {
  if (!existsSync(path)) return Promise.resolve();
  return editKubeconfig(path, (doc) => {
    doc.clusters = doc.clusters.filter((c) => c.name !== context);
    doc.users = doc.users.filter((u) => u.name !== context);
    doc.contexts = doc.contexts.filter((c) => c.name !== context);
    if (doc['current-context'] === context) doc['current-context'] = '';
  });
}

// ---------------------------------------------------------------------------
// Breaking a kubeconfig on purpose (for the context states of the design).

/** Points a context's cluster at another server URL. */
export function setContextServer(path: string, context: string, server: string): Promise<void> {
  return editKubeconfig(path, (doc) => {
    const clusterName = doc.contexts.find((c) => c.name === context)?.context.cluster;
    const cluster = doc.clusters.find((c) => c.name === clusterName);
    if (!cluster) throw new Error(`${path}: no cluster for context ${context}`);
    cluster.cluster.server = server;
  });
}

/** "Stale endpoint": the context keeps 127.0.0.1 but names another port than the container publishes. */
export function setContextServerPort(path: string, context: string, port: number): Promise<void> {
  return setContextServer(path, context, `https://127.0.0.1:${port}`);
}

/** Sets current-context, to any name (a name that matches nothing makes a "dangling" context). */
export function setCurrentContext(path: string, context: string): Promise<void> {
  return editKubeconfig(path, (doc) => {
    doc['current-context'] = context;
  });
}

/** Replaces a context's user credentials (a foreign certificate, a bad token, an exec plugin that never returns…). */
export function setContextUser(path: string, context: string, user: NamedUser['user']): Promise<void> {
  return editKubeconfig(path, (doc) => {
    const userName = doc.contexts.find((c) => c.name === context)?.context.user;
    const entry = doc.users.find((u) => u.name === userName);
    if (!entry) throw new Error(`${path}: no user for context ${context}`);
    entry.user = user;
  });
}
