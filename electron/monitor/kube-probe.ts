// Kubernetes probes, seen from the supervisor: every call of the Kubernetes
// client runs in a Kubernetes child process (electron/kube), and this side
// keeps the deadline (kube-probe-slot.ts). Children by risk: contexts that
// cannot block a process share one child; a context whose credentials can (a
// legacy auth provider) has its own, so that when it hangs only its child is
// killed and replaced. One probe per context at a time (single flight); dead
// contexts are asked less and less often (backoff). probe() resolves a typed
// result for every expected failure.

import { homedir } from 'node:os';
import { DEADLINES, INTERVALS, KUBE_CHILD_IDLE_MS } from '../../shared/constants.ts';
import type { KubeProbeResult, KubeProbeState } from '../../shared/contracts/kube-probe.ts';
import { kubeChildKey, kubeconfigPaths as defaultKubeconfigPaths, loadKubeconfigCached, SHARED_KUBE_CHILD } from '../kube/index.ts';
import type { ChildLauncher } from '../process/index.ts';
import { ProbeSlot } from './kube-probe-slot.ts';

export type { KubeNodeInfo, KubeProbeResult, KubeProbeState } from '../../shared/contracts/kube-probe.ts';

export interface KubeProberOptions {
  /** Each probe's deadline, authentication included. Default DEADLINES.kubeProbe. */
  deadlineMs?: number;
  /** Extra time the parent gives the child's answer to arrive before it kills the child. */
  graceMs?: number;
  /** Kubeconfig files for probes that name none. Default: KUBECONFIG, else ~/.kube/config. */
  kubeconfigPaths?: () => string[];
  /** How to start a Kubernetes child. Default: forkLauncher (Electron passes its utilityProcess launcher). */
  launch?: ChildLauncher;
  childModule?: string;
  /** Between probes of a healthy context. Default INTERVALS.kubeProbe. */
  intervalMs?: number;
  /** First wait after a failed probe; doubles with each failure. */
  backoffBaseMs?: number;
  /** Longest wait between probes of a dead context. Default INTERVALS.kubeProbeMaxBackoff. */
  maxBackoffMs?: number;
  /** A child asked nothing for this long is ended. Default KUBE_CHILD_IDLE_MS. */
  idleMs?: number;
}

export interface ProbeOptions {
  /** Probe now even if the context's backoff says wait (single flight still holds). */
  force?: boolean;
  kubeconfigPaths?: string[];
  deadlineMs?: number;
  /**
   * The context's cluster runs on this machine (KinD): it comes back the
   * moment its container does, so its backoff never exceeds the probe
   * interval. Remembered until a later probe says otherwise.
   */
  local?: boolean;
}

const DEFAULT_GRACE_MS = 500;
const DEFAULT_BACKOFF_BASE_MS = 1_000;

interface ContextRecord {
  last: KubeProbeResult;
  failures: number;
  local: boolean;
}

const HEALTHY: ReadonlySet<KubeProbeState> = new Set(['ok']);

export class KubeProber {
  private readonly deadlineMs: number;
  private readonly graceMs: number;
  private readonly paths: () => string[];
  private readonly intervalMs: number;
  private readonly backoffBaseMs: number;
  private readonly maxBackoffMs: number;
  private readonly slotOptions: ConstructorParameters<typeof ProbeSlot>[0];
  /** By kubeChildKey: SHARED_KUBE_CHILD, or a context with a child of its own. */
  private readonly slots = new Map<string, ProbeSlot>();
  private readonly singleFlight = new Map<string, Promise<KubeProbeResult>>();
  private readonly records = new Map<string, ContextRecord>();
  private nextId = 1;
  private disposed = false;
  private restartCount = 0;
  private idleCount = 0;

  constructor(opts: KubeProberOptions = {}) {
    this.deadlineMs = opts.deadlineMs ?? DEADLINES.kubeProbe;
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.paths = opts.kubeconfigPaths ?? (() => defaultKubeconfigPaths(process.env, homedir()));
    this.intervalMs = opts.intervalMs ?? INTERVALS.kubeProbe;
    this.backoffBaseMs = opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? INTERVALS.kubeProbeMaxBackoff;
    this.slotOptions = {
      graceMs: this.graceMs,
      idleMs: opts.idleMs ?? KUBE_CHILD_IDLE_MS,
      ...(opts.launch ? { launch: opts.launch } : {}),
      ...(opts.childModule ? { childModule: opts.childModule } : {}),
      onRestart: () => void this.restartCount++,
      onIdle: () => void this.idleCount++,
    };
  }

  /** The pid of the child shared by contexts that cannot block it, when one runs. */
  get childPid(): number | undefined {
    return this.slots.get(SHARED_KUBE_CHILD)?.pid;
  }

  /** The pid of the child that probes `context`, when one runs. */
  childPidOf(context: string, kubeconfigPaths: string[] = this.paths()): number | undefined {
    return this.slots.get(kubeChildKey(loadKubeconfigCached(kubeconfigPaths), context))?.pid;
  }

  /** How many times a child was killed or died and was replaced. */
  get restarts(): number {
    return this.restartCount;
  }

  /** How many times a child was ended for having nothing to do. */
  get idleEnds(): number {
    return this.idleCount;
  }

  /**
   * Starts a child ahead of the first probe (a few tenths of a second; most
   * of a second for one that loads the Kubernetes client), so that its start does not eat a probe's
   * deadline: the shared one, or the one that probes `context`. Resolves true
   * once it is ready (at once if it is), false if it could not start.
   */
  start(context?: string, kubeconfigPaths?: string[]): Promise<boolean> {
    if (this.disposed) return Promise.resolve(false);
    return (context === undefined ? this.slot(SHARED_KUBE_CHILD) : this.slotFor(context, kubeconfigPaths ?? this.paths())).start();
  }

  /** The latest finished probe of `context`. */
  lastResult(context: string): KubeProbeResult | undefined {
    return this.records.get(context)?.last;
  }

  /**
   * How long after its last probe `context` is due again: INTERVALS.kubeProbe
   * while healthy, else backoffBase doubling per failure up to maxBackoff (up
   * to the interval for a local cluster); 0 if never probed.
   */
  nextProbeDelay(context: string): number {
    const r = this.records.get(context);
    if (!r) return 0;
    if (r.failures === 0) return this.intervalMs;
    const cap = r.local ? Math.min(this.maxBackoffMs, this.intervalMs) : this.maxBackoffMs;
    return Math.min(cap, this.backoffBaseMs * 2 ** (r.failures - 1));
  }

  /**
   * Forgets `context`'s failures: something watched changed (its container
   * started, Docker came back, the kubeconfig changed), so what the backoff
   * learnt no longer holds. The next failure waits backoffBase again.
   */
  resetBackoff(context: string): void {
    const r = this.records.get(context);
    if (r) r.failures = 0;
  }

  /** When `context` is due (epoch ms). */
  dueAt(context: string): number {
    const r = this.records.get(context);
    return r ? r.last.finishedAt + this.nextProbeDelay(context) : 0;
  }

  /**
   * Probes `context` and resolves its result; never rejects for a failure of
   * the cluster, the network, the credentials or the probe process. While one
   * probe of the context is in flight, every call gets that probe's promise.
   * Without `force`, a context in backoff is not asked again before it is due:
   * its last result is returned.
   */
  probe(context: string, opts: ProbeOptions = {}): Promise<KubeProbeResult> {
    if (this.disposed) return Promise.reject(new Error('KubeProber is disposed'));
    if (!context) return Promise.reject(new Error('probe() needs a context name'));
    const inFlight = this.singleFlight.get(context);
    if (inFlight) return inFlight;
    const record = this.records.get(context);
    if (!opts.force && record && record.failures > 0 && Date.now() < this.dueAt(context)) return Promise.resolve(record.last);

    const deadlineMs = opts.deadlineMs ?? this.deadlineMs;
    const paths = opts.kubeconfigPaths ?? this.paths();
    const local = opts.local ?? record?.local ?? false;
    const promise = new Promise<KubeProbeResult>((resolve) => {
      const startedAt = performance.now();
      this.slotFor(context, paths).submit({ id: this.nextId++, context, paths, deadlineMs, startedAt, hardDeadline: startedAt + deadlineMs + this.graceMs, resolve, done: false });
    }).then((result) => {
      this.singleFlight.delete(context);
      const prev = this.records.get(context);
      this.records.set(context, { last: result, failures: HEALTHY.has(result.state) ? 0 : (prev?.failures ?? 0) + 1, local });
      return result;
    });
    this.singleFlight.set(context, promise);
    return promise;
  }

  /**
   * Probes each context of `contexts()` whenever it is due (see nextProbeDelay)
   * and hands every result to `onResult`, until `signal` aborts. Contexts may
   * come and go between turns.
   */
  async probeLoop(contexts: () => Iterable<string>, onResult: (result: KubeProbeResult) => void, signal: AbortSignal): Promise<void> {
    let wake: (() => void) | undefined;
    while (!signal.aborted && !this.disposed) {
      const now = Date.now();
      let wait = 1_000; // look again at least this often, for new contexts
      for (const c of contexts()) {
        if (this.singleFlight.has(c)) continue;
        const due = this.dueAt(c);
        if (due <= now) {
          void this.probe(c).then((r) => {
            if (signal.aborted) return;
            onResult(r);
            wake?.(); // its next turn is now known
          });
        } else wait = Math.min(wait, due - now);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const t = setTimeout(done, Math.max(10, wait));
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Kills every child; probes still waiting resolve `unknown`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots.values()) s.dispose();
  }

  private slot(key: string): ProbeSlot {
    let s = this.slots.get(key);
    if (!s) {
      // The shared child probes with Node's https; a child of its own serves a legacy auth provider, which needs the client.
      s = new ProbeSlot({ ...this.slotOptions, preloadClient: key !== SHARED_KUBE_CHILD });
      this.slots.set(key, s);
    }
    return s;
  }

  /** The slot whose child probes `context`: by how the context authenticates (electron/kube's credentials). */
  private slotFor(context: string, paths: readonly string[]): ProbeSlot {
    return this.slot(kubeChildKey(loadKubeconfigCached(paths), context));
  }
}
