// The user's kubeconfig as kubectl merges it, read without the Kubernetes
// client (which throws on the first bad file): every file is read on its own,
// so a missing or malformed one is reported and the others still count. The
// one loader: the monitor's analysis, the probes and the task operations all
// read the kubeconfig through it.

import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { kubeconfigPaths, kubeconfigSource, type KubeconfigSource } from './kubeconfig-files.ts';

// ---------------------------------------------------------------------------
// Schema: only the fields Kindtray reads are typed; everything else is kept
// (loose objects), so the probe can hand an entry to the Kubernetes client whole.

/** kubectl writes `users: null` for an empty list; both mean none. */
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((a) => a ?? []);
const entryName = z.string().min(1, 'a name is required');

const clusterSpec = z.looseObject({
  server: z.string().optional(),
  'certificate-authority': z.string().optional(),
  'certificate-authority-data': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
  'tls-server-name': z.string().optional(),
  'proxy-url': z.string().optional(),
});

const execSpec = z.looseObject({
  command: z.string().min(1, 'exec needs a command'),
  args: z.array(z.string()).nullish(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  apiVersion: z.string().optional(),
  installHint: z.string().optional(),
});

const userSpec = z.looseObject({
  token: z.string().optional(),
  'token-file': z.string().optional(),
  'client-certificate': z.string().optional(),
  'client-certificate-data': z.string().optional(),
  'client-key': z.string().optional(),
  'client-key-data': z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  exec: execSpec.nullish(),
  'auth-provider': z.looseObject({ name: z.string(), config: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});

const contextSpec = z.looseObject({
  cluster: z.string().optional(),
  user: z.string().optional(),
  namespace: z.string().optional(),
});

const kubeconfigFileSchema = z
  .looseObject({
    'current-context': z.string().nullish(),
    clusters: listOf(z.looseObject({ name: entryName, cluster: clusterSpec.nullish() })),
    users: listOf(z.looseObject({ name: entryName, user: userSpec.nullish() })),
    contexts: listOf(z.looseObject({ name: entryName, context: contextSpec.nullish() })),
  })
  .nullable();

export type KubeClusterSpec = z.infer<typeof clusterSpec>;
export type KubeUserSpec = z.infer<typeof userSpec>;
export type KubeExecSpec = z.infer<typeof execSpec>;
export type KubeContextSpec = z.infer<typeof contextSpec>;

// ---------------------------------------------------------------------------
// The model

export type KubeconfigFileState = 'ok' | 'missing' | 'malformed' | 'unreadable';

export interface KubeconfigFile {
  /** Absolute path. */
  path: string;
  state: KubeconfigFileState;
  /** Why the file is not ok, in words: `line 7: ...`, `ENOENT ...`. */
  cause?: string;
  /** The first line at fault, for malformed files (1-based). */
  line?: number;
}

/** One named entry, with the file that defined it (the first file wins, as in kubectl). */
export interface KubeconfigEntry<T> {
  name: string;
  file: string;
  spec: T;
}

export interface KubeconfigModel {
  /** Every file considered, in merge order. Malformed and unreadable files contribute nothing. */
  files: KubeconfigFile[];
  /** Where the file list came from. */
  source?: KubeconfigSource;
  /** `current-context` from the first file that sets it. */
  currentContext?: { name: string; file: string };
  contexts: KubeconfigEntry<KubeContextSpec>[];
  clusters: KubeconfigEntry<KubeClusterSpec>[];
  users: KubeconfigEntry<KubeUserSpec>[];
}

/** Reads the kubeconfig as kubectl merges it, from the files kubeconfigPaths names. Never throws for a bad or missing file. */
export function loadKubeconfig(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): KubeconfigModel {
  return { ...loadKubeconfigFiles(kubeconfigPaths(env, home)), source: kubeconfigSource(env) };
}

/** Reads and merges these files, in order: for every name the first file that defines it wins. */
export function loadKubeconfigFiles(files: readonly string[]): KubeconfigModel {
  const model: KubeconfigModel = { files: [], contexts: [], clusters: [], users: [] };
  const seen = { contexts: new Set<string>(), clusters: new Set<string>(), users: new Set<string>() };
  for (const file of files) {
    const { state, parsed } = readKubeconfigFile(file);
    model.files.push(state);
    if (!parsed) continue;
    const current = parsed['current-context'];
    if (model.currentContext === undefined && current) model.currentContext = { name: current, file: state.path };
    for (const c of parsed.contexts) {
      if (seen.contexts.has(c.name)) continue;
      seen.contexts.add(c.name);
      model.contexts.push({ name: c.name, file: state.path, spec: c.context ?? {} });
    }
    for (const c of parsed.clusters) {
      if (seen.clusters.has(c.name)) continue;
      seen.clusters.add(c.name);
      model.clusters.push({ name: c.name, file: state.path, spec: c.cluster ?? {} });
    }
    for (const u of parsed.users) {
      if (seen.users.has(u.name)) continue;
      seen.users.add(u.name);
      model.users.push({ name: u.name, file: state.path, spec: u.user ?? {} });
    }
  }
  return model;
}

type ParsedFile = NonNullable<z.infer<typeof kubeconfigFileSchema>>;

function readKubeconfigFile(file: string): { state: KubeconfigFile; parsed?: ParsedFile } {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: { path: abs, state: 'missing', cause: 'no such file' } };
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    return { state: { path: abs, state: 'unreadable', cause: why } };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    const message = yamlError.message.split('\n')[0] ?? 'invalid YAML';
    return {
      state: { path: abs, state: 'malformed', cause: `line ${line}: ${message}`, line },
    };
  }
  // toJS expands aliases and throws on a "billion laughs" document (yaml's maxAliasCount):
  // that is a malformed file, not a reason for the monitor to fail.
  let plain: unknown;
  try {
    plain = doc.toJS();
  } catch (e) {
    return { state: { path: abs, state: 'malformed', cause: `cannot be read as data: ${(e as Error).message}` } };
  }
  const result = kubeconfigFileSchema.safeParse(plain);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') ?? '';
    // Point at the deepest node of the issue's path that exists in the document.
    let line: number | undefined;
    for (let n = issue?.path.length ?? 0; n >= 0 && line === undefined; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn((issue?.path ?? []).slice(0, n) as (string | number)[], true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) line = lineCounter.linePos(range[0]).line;
    }
    const message = `${where ? `${where}: ` : ''}${issue?.message ?? 'not a kubeconfig'}`;
    return {
      state: { path: abs, state: 'malformed', cause: line !== undefined ? `line ${line}: ${message}` : message, ...(line !== undefined ? { line } : {}) },
    };
  }
  // An empty file is a valid, empty kubeconfig (kubectl agrees).
  return { state: { path: abs, state: 'ok' }, parsed: result.data ?? { clusters: [], users: [], contexts: [] } };
}

// ---------------------------------------------------------------------------
// Loaded again only when a file changes (parsing is most of a probe's own work)

let cached: { key: string; model: KubeconfigModel } | undefined;

/** loadKubeconfigFiles, remembered until one of the files is written, replaced or removed. */
export function loadKubeconfigCached(files: readonly string[]): KubeconfigModel {
  const key = files
    .map((p) => {
      const st = statSync(p, { throwIfNoEntry: false, bigint: true });
      return `${p}\0${st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : '-'}`;
    })
    .join('\n');
  if (cached?.key !== key) cached = { key, model: loadKubeconfigFiles(files) };
  return cached.model;
}
