// The user's kubeconfig as kubectl sees it, read without the Kubernetes client
// (which throws on the first bad file): every file of KUBECONFIG (or
// ~/.kube/config) is read on its own, so a missing or malformed one is reported
// and the others still count. Then a pure analysis per context (dangling refs,
// a KinD context whose port no longer matches its container) and a watcher that
// notices when kind, kubectl or an editor rewrites a file.

import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { KIND_CONTEXT_PREFIX } from '../../shared/constants.ts';
import type { ContextHealth, KubeconfigHealth } from '../../shared/snapshot.ts';

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
  source?: 'KUBECONFIG' | 'default';
  /** `current-context` from the first file that sets it. */
  currentContext?: { name: string; file: string };
  contexts: KubeconfigEntry<KubeContextSpec>[];
  clusters: KubeconfigEntry<KubeClusterSpec>[];
  users: KubeconfigEntry<KubeUserSpec>[];
}

/**
 * The files kubectl would read: KUBECONFIG's path list (empty items dropped,
 * duplicates once, relative paths from the working directory), else ~/.kube/config.
 */
export function kubeconfigPaths(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const list = (env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p.trim() !== '');
  if (list.length === 0) return [path.join(home, '.kube', 'config')];
  return [...new Set(list.map((p) => path.resolve(p)))];
}

/** Reads the kubeconfig as kubectl merges it. Never throws for a bad or missing file. */
export function loadKubeconfig(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): KubeconfigModel {
  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).some((p) => p.trim() !== '');
  return { ...loadKubeconfigFiles(kubeconfigPaths(env, home)), source: fromEnv ? 'KUBECONFIG' : 'default' };
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
// Analysis: pure, no network. What the files alone (and Docker's view of the
// KinD clusters) say about each context; probes refine `unknown` later.

export interface KindClusterRef {
  name: string;
  /** The host port Docker publishes for the control plane's 6443, when known. */
  apiHostPort?: number;
  running: boolean;
}

export interface KubeconfigAnalysis {
  contexts: ContextHealth[];
  kubeconfig: KubeconfigHealth;
  /** The context `current-context` names, if any file sets one. */
  currentContext?: string;
  /** True when `current-context` names a context no file defines. */
  currentContextDangling: boolean;
  /** Why, in words, when the current context is dangling. */
  currentContextCause?: string;
}

/** The port a server URL dials (the scheme's default when it names none), or undefined if it is not a URL. */
export function serverPort(server: string): number | undefined {
  try {
    const u = new URL(server);
    if (u.port) return Number(u.port);
    return u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : undefined;
  } catch {
    return undefined;
  }
}

function withPort(server: string, port: number): string {
  const u = new URL(server);
  u.port = String(port);
  // URL keeps a trailing slash for an empty path; kubeconfig servers have none.
  return u.pathname === '/' ? `${u.protocol}//${u.host}` : u.toString();
}

export function analyseKubeconfig(model: KubeconfigModel, kindClusters: readonly KindClusterRef[]): KubeconfigAnalysis {
  const clusters = new Map(model.clusters.map((c) => [c.name, c]));
  const users = new Map(model.users.map((u) => [u.name, u]));
  const kind = new Map(kindClusters.map((k) => [k.name, k]));
  const currentName = model.currentContext?.name;

  const contexts = model.contexts.map((ctx): ContextHealth => {
    const clusterName = ctx.spec.cluster || undefined;
    const userName = ctx.spec.user || undefined;
    const cluster = clusterName !== undefined ? clusters.get(clusterName) : undefined;
    const server = cluster?.spec.server;
    const base: ContextHealth = {
      name: ctx.name,
      current: ctx.name === currentName,
      state: 'unknown',
      ...(clusterName !== undefined ? { cluster: clusterName } : {}),
      ...(userName !== undefined ? { user: userName } : {}),
      ...(server ? { server } : {}),
      file: ctx.file,
    };
    const missing: string[] = [];
    if (clusterName === undefined) missing.push('it names no cluster');
    else if (!cluster) missing.push(`cluster "${clusterName}" is not defined in any kubeconfig file`);
    else if (!server) missing.push(`cluster "${clusterName}" (${cluster.file}) has no server`);
    // A context without a user is valid (anonymous); one naming a missing user is not.
    if (userName !== undefined && !users.has(userName)) missing.push(`user "${userName}" is not defined in any kubeconfig file`);
    if (missing.length > 0) return { ...base, state: 'dangling', cause: missing.join('; ') };

    if (ctx.name.startsWith(KIND_CONTEXT_PREFIX) && server) {
      const k = kind.get(ctx.name.slice(KIND_CONTEXT_PREFIX.length));
      const have = serverPort(server);
      if (k?.apiHostPort !== undefined && have !== undefined && have !== k.apiHostPort) {
        return {
          ...base,
          state: 'stale-endpoint',
          expectedServer: withPort(server, k.apiHostPort),
          cause: `kubeconfig says port ${have}, but the control-plane container of cluster ${k.name} publishes its API on port ${k.apiHostPort}`,
        };
      }
    }
    return base;
  });

  const currentContextDangling = currentName !== undefined && !model.contexts.some((c) => c.name === currentName);
  return {
    contexts,
    kubeconfig: kubeconfigHealth(model),
    ...(currentName !== undefined ? { currentContext: currentName } : {}),
    currentContextDangling,
    ...(currentContextDangling && model.currentContext
      ? { currentContextCause: `current-context (set in ${model.currentContext.file}) names "${currentName}", which no kubeconfig file defines` }
      : {}),
  };
}

export function kubeconfigHealth(model: KubeconfigModel): KubeconfigHealth {
  return {
    files: model.files.map((f) => ({ path: f.path, state: f.state, ...(f.cause !== undefined ? { cause: f.cause } : {}) })),
    ...(model.currentContext ? { currentContext: model.currentContext.name } : {}),
    ...(model.source ? { source: model.source } : {}),
  };
}

// ---------------------------------------------------------------------------
// Watching. kind, kubectl and editors replace the file by rename, which ends a
// watch on the file itself, so the directories are watched. A file (or folder)
// that does not exist yet is watched through its nearest existing ancestor.

const WATCH_DEBOUNCE_MS = 100;

/**
 * Calls `onChange(changedFiles)` (debounced) whenever one of `files` is created,
 * written, replaced or removed, until `signal` aborts. Never throws.
 */
export function watchKubeconfig(files: readonly string[], onChange: (changed: string[]) => void, signal: AbortSignal): void {
  if (signal.aborted) return;
  const targets = [...new Set(files.map((f) => path.resolve(f)))];
  let watchers: FSWatcher[] = [];
  let armedAt = new Map<string, string>(); // watched folder -> why (the folder we want)
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Set<string>();
  let rearm = false;

  const nearestExisting = (dir: string): string => {
    let d = dir;
    for (;;) {
      if (statSync(d, { throwIfNoEntry: false })?.isDirectory()) return d;
      const parent = path.dirname(d);
      if (parent === d) return d;
      d = parent;
    }
  };

  const schedule = () => {
    if (timer !== undefined || signal.aborted) return;
    timer = setTimeout(flush, WATCH_DEBOUNCE_MS);
  };

  const flush = () => {
    timer = undefined;
    if (signal.aborted) return;
    const wanted = plan();
    if (rearm || !samePlan(wanted, armedAt)) {
      rearm = false;
      arm(wanted);
    }
    if (pending.size === 0) return;
    const changed = [...pending];
    pending.clear();
    try {
      onChange(changed);
    } catch {
      // The caller's problem; the watch goes on.
    }
  };

  // For each folder we need, the folder we can watch now.
  const plan = () => {
    const m = new Map<string, string>();
    for (const dir of new Set(targets.map((f) => path.dirname(f)))) m.set(dir, nearestExisting(dir));
    return m;
  };
  const samePlan = (a: Map<string, string>, b: Map<string, string>) =>
    a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

  const arm = (wanted: Map<string, string>) => {
    for (const w of watchers) w.close();
    watchers = [];
    armedAt = wanted;
    for (const watched of new Set(wanted.values())) {
      const forDirs = [...wanted].filter(([, v]) => v === watched).map(([k]) => k);
      try {
        const w = watch(watched, { persistent: false }, (_event, name) => {
          const n = name === null ? undefined : String(name);
          for (const dir of forDirs) {
            if (dir === watched) {
              for (const f of targets) if (path.dirname(f) === dir && (n === undefined || path.basename(f) === n)) pending.add(f);
            } else if (n === undefined || path.relative(watched, dir).split(path.sep)[0] === n) {
              // A folder on the way to a file appeared or went: watch closer (or further) now.
              rearm = true;
              for (const f of targets) if (path.dirname(f) === dir) pending.add(f);
            }
          }
          schedule();
        });
        w.on('error', () => {
          // The folder itself went away; look again where to watch.
          rearm = true;
          schedule();
        });
        watchers.push(w);
      } catch {
        rearm = true;
      }
    }
  };

  arm(plan());
  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
    },
    { once: true },
  );
}
