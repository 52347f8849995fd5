// What the user's kubeconfig (as electron/kube loads it) says about each
// context: a pure analysis (dangling refs, a KinD context whose port no longer
// matches its container), and a watcher that notices when kind, kubectl or an
// editor rewrites a file.

import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { KIND_CONTEXT_PREFIX } from '../../shared/constants.ts';
import type { ContextHealth, KubeconfigHealth } from '../../shared/snapshot.ts';
import type { KubeconfigModel } from '../kube/index.ts';

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
          let ours = false;
          for (const dir of forDirs) {
            if (dir === watched) {
              for (const f of targets) {
                if (path.dirname(f) === dir && (n === undefined || path.basename(f) === n)) {
                  pending.add(f);
                  ours = true;
                }
              }
            } else if (n === undefined || path.relative(watched, dir).split(path.sep)[0] === n) {
              // A folder on the way to a file appeared or went: watch closer (or further) now.
              rearm = true;
              ours = true;
              for (const f of targets) if (path.dirname(f) === dir) pending.add(f);
            }
          }
          // Another file in the folder (kubectl's cache, an editor's swap file) is none of ours.
          if (ours) schedule();
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
