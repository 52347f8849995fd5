// Kubernetes probes, seen from the supervisor: every call of the Kubernetes
// client runs in one child process (kube-probe-child.ts), and this side keeps
// the deadline. When the child does not answer a probe by its deadline (plus a
// little grace for the message itself), its event loop is blocked (a legacy
// auth provider running execSync, say): the child is killed with everything it
// started and a fresh one takes its place. One probe per context at a time
// (single flight); dead contexts are asked less and less often (backoff).
// probe() resolves a typed result for every expected failure.

import { homedir } from 'node:os';
import { DEADLINES, INTERVALS } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { forkLauncher, killProcessGroup, moduleBeside, startChild, type Child as ProcessChild, type ChildLauncher } from '../process/index.ts';
import { kubeconfigPaths as defaultKubeconfigPaths } from './kubeconfig.ts';
import {
  PROBE_CHILD_ENV,
  probeChildMessageSchema,
  type KubeProbeResult,
  type KubeProbeState,
  type ProbeChildMessage,
  type ProbePhase,
  type ProbeRequest,
} from './kube-probe-protocol.ts';

export type { KubeNodeInfo, KubeProbeResult, KubeProbeState } from './kube-probe-protocol.ts';

/** The probe process's name in process lists and messages. */
export const KUBE_PROBE_NAME = 'Kindtray Kubernetes probe';

// ---------------------------------------------------------------------------
// The prober

export interface KubeProberOptions {
  /** Each probe's deadline, authentication included. Default DEADLINES.kubeProbe. */
  deadlineMs?: number;
  /** Extra time the parent gives the child's answer to arrive before it kills the child. */
  graceMs?: number;
  /** Kubeconfig files for probes that name none. Default: KUBECONFIG, else ~/.kube/config. */
  kubeconfigPaths?: () => string[];
  /** How to start the probe process. Default: forkLauncher (Electron passes its utilityProcess launcher). */
  launch?: ChildLauncher;
  childModule?: string;
  /** Between probes of a healthy context. Default INTERVALS.kubeProbe. */
  intervalMs?: number;
  /** First wait after a failed probe; doubles with each failure. */
  backoffBaseMs?: number;
  /** Longest wait between probes of a dead context. Default INTERVALS.kubeProbeMaxBackoff. */
  maxBackoffMs?: number;
}

export interface ProbeOptions {
  /** Probe now even if the context's backoff says wait (single flight still holds). */
  force?: boolean;
  kubeconfigPaths?: string[];
  deadlineMs?: number;
}

const DEFAULT_GRACE_MS = 500;
const DEFAULT_BACKOFF_BASE_MS = 1_000;
/** Below this much time left, a probe is not worth sending to the child. */
const MIN_CHILD_BUDGET_MS = 50;
/** If a killed child's exit is never reported, start the next one anyway after this. */
const EXIT_WAIT_MS = 2_000;
/** A child not ready this long after its start is stuck: replaced at the next probe that misses it. */
const CHILD_START_TIMEOUT_MS = 15_000;

interface Child {
  proc: ProcessChild<ProbeChildMessage, true, ProbeRequest>;
  ready: boolean;
  /** Probes sent to this child and not answered. */
  inFlight: Set<Pending>;
  /** Credential plugins it runs, each in its own process group. */
  plugins: Set<number>;
  exited: boolean;
  /** Whether it ever said ready (a child that dies before is not restarted in a loop). */
  everReady: boolean;
  startedAt: number;
}

interface Pending {
  id: number;
  context: string;
  paths: string[];
  deadlineMs: number;
  startedAt: number;
  /** performance.now() by which the caller has an answer, whatever happens. */
  hardDeadline: number;
  timer: ReturnType<typeof setTimeout>;
  sentTo?: Child;
  phase?: ProbePhase;
  /** Why it is being sent again, once its first child was killed or died. */
  retryBecause?: string;
  resolve: (r: KubeProbeResult) => void;
  done: boolean;
}

interface ContextRecord {
  last: KubeProbeResult;
  failures: number;
}

const HEALTHY: ReadonlySet<KubeProbeState> = new Set(['ok']);

export class KubeProber {
  private readonly deadlineMs: number;
  private readonly graceMs: number;
  private readonly paths: () => string[];
  private readonly launch: ChildLauncher;
  private readonly childModule: string;
  private readonly intervalMs: number;
  private readonly backoffBaseMs: number;
  private readonly maxBackoffMs: number;

  private child: Child | undefined;
  /** A killed child whose exit we wait for, so that two never live at once. */
  private dying: Promise<void> | undefined;
  private readonly waiting = new Set<Pending>();
  private readonly singleFlight = new Map<string, Promise<KubeProbeResult>>();
  private readonly records = new Map<string, ContextRecord>();
  private readonly readyWaiters = new Set<(ready: boolean) => void>();
  private nextId = 1;
  private disposed = false;
  private restartCount = 0;

  constructor(opts: KubeProberOptions = {}) {
    this.deadlineMs = opts.deadlineMs ?? DEADLINES.kubeProbe;
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.paths = opts.kubeconfigPaths ?? (() => defaultKubeconfigPaths(process.env, homedir()));
    this.launch = opts.launch ?? forkLauncher;
    this.childModule = opts.childModule ?? moduleBeside(import.meta.url, './kube-probe-child');
    this.intervalMs = opts.intervalMs ?? INTERVALS.kubeProbe;
    this.backoffBaseMs = opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? INTERVALS.kubeProbeMaxBackoff;
  }

  /** The probe process's pid, when one runs. */
  get childPid(): number | undefined {
    return this.child && !this.child.exited ? this.child.proc.pid : undefined;
  }

  /** How many times a probe process was killed or died and was replaced. */
  get restarts(): number {
    return this.restartCount;
  }

  /**
   * Starts the probe process ahead of the first probe (loading the Kubernetes
   * client takes most of a second) and resolves true once it is ready, false
   * if it could not start.
   */
  async start(): Promise<boolean> {
    if (this.disposed) return false;
    const child = this.ensureChild();
    if (child?.ready) return true;
    if (!child && !this.dying) return false;
    return new Promise<boolean>((resolve) => this.readyWaiters.add(resolve));
  }

  /** The latest finished probe of `context`. */
  lastResult(context: string): KubeProbeResult | undefined {
    return this.records.get(context)?.last;
  }

  /**
   * How long after its last probe `context` is due again: INTERVALS.kubeProbe
   * while healthy, else backoffBase doubling per failure up to maxBackoff; 0 if
   * never probed.
   */
  nextProbeDelay(context: string): number {
    const r = this.records.get(context);
    if (!r) return 0;
    if (r.failures === 0) return this.intervalMs;
    return Math.min(this.maxBackoffMs, this.backoffBaseMs * 2 ** (r.failures - 1));
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
    const promise = new Promise<KubeProbeResult>((resolve) => {
      const startedAt = performance.now();
      const p: Pending = {
        id: this.nextId++,
        context,
        paths: opts.kubeconfigPaths ?? this.paths(),
        deadlineMs,
        startedAt,
        hardDeadline: startedAt + deadlineMs + this.graceMs,
        timer: setTimeout(() => this.onDeadline(p), deadlineMs + this.graceMs),
        resolve,
        done: false,
      };
      this.waiting.add(p);
      this.ensureChild();
      this.dispatch();
    }).then((result) => {
      this.singleFlight.delete(context);
      const prev = this.records.get(context);
      this.records.set(context, { last: result, failures: HEALTHY.has(result.state) ? 0 : (prev?.failures ?? 0) + 1 });
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

  /** Kills the probe process; probes still waiting resolve `unknown`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const child = this.child;
    this.child = undefined;
    if (child) this.killChild(child);
    for (const p of [...this.waiting, ...(child?.inFlight ?? [])]) this.finish(p, this.unknown(p, 'probing stopped'));
    for (const w of this.readyWaiters) w(false);
    this.readyWaiters.clear();
  }

  // -------------------------------------------------------------------------

  private ensureChild(): Child | undefined {
    if (this.disposed) return undefined;
    if (this.child && !this.child.exited) return this.child;
    if (this.dying) return undefined; // started when the old one has gone
    let proc: Child['proc'];
    try {
      proc = startChild<ProbeChildMessage, true, ProbeRequest>({
        launch: this.launch,
        modulePath: this.childModule,
        env: { ...process.env, [PROBE_CHILD_ENV]: '1' },
        name: KUBE_PROBE_NAME,
        messages: probeChildMessageSchema,
        isReady: (m) => (m.type === 'ready' ? true : undefined),
        // A little past our own check (onDeadline), which replaces a child that never gets ready.
        readyDeadlineMs: CHILD_START_TIMEOUT_MS + 5_000,
      });
    } catch (e) {
      const why = `the probe process could not start: ${(e as Error).message}`;
      for (const p of [...this.waiting]) this.finish(p, this.unknown(p, why));
      for (const w of this.readyWaiters) w(false);
      this.readyWaiters.clear();
      return undefined;
    }
    const child: Child = { proc, ready: false, inFlight: new Set(), plugins: new Set(), exited: false, everReady: false, startedAt: performance.now() };
    this.child = child;
    proc.ready.then(() => this.onReady(child), () => undefined);
    proc.onMessage((m) => this.onMessage(child, m));
    proc.onExit(() => this.onExit(child));
    return child;
  }

  private onReady(child: Child): void {
    child.ready = true;
    child.everReady = true;
    if (child !== this.child) return;
    for (const w of this.readyWaiters) w(true);
    this.readyWaiters.clear();
    this.dispatch();
  }

  private onMessage(child: Child, m: ProbeChildMessage): void {
    switch (m.type) {
      case 'ready':
        return;
      case 'phase': {
        const p = [...child.inFlight].find((x) => x.id === m.id);
        if (p) p.phase = m.phase;
        return;
      }
      case 'plugin':
        if (m.running) child.plugins.add(m.pgid);
        else child.plugins.delete(m.pgid);
        return;
      case 'result': {
        const p = [...child.inFlight].find((x) => x.id === m.id);
        if (!p) return; // answered already (deadline) or retried elsewhere
        child.inFlight.delete(p);
        const finishedAt = Date.now();
        this.finish(p, { ...m.result, context: p.context, latencyMs: Math.round(performance.now() - p.startedAt), finishedAt });
        return;
      }
    }
  }

  /** Sends waiting probes to the child, if it is ready. */
  private dispatch(): void {
    const child = this.child;
    if (!child?.ready || child.exited) return;
    for (const p of [...this.waiting]) {
      this.waiting.delete(p);
      // The child's own deadline is what is left of the caller's (a few ms of dispatch are not worth a ragged "1997 ms").
      const left = p.hardDeadline - this.graceMs - performance.now();
      const budget = left >= p.deadlineMs - 20 ? p.deadlineMs : Math.floor(left);
      if (budget < MIN_CHILD_BUDGET_MS) {
        this.finish(p, this.unknown(p, p.retryBecause ? `${p.retryBecause}; no time was left to ask again` : `the probe process was not ready within ${formatMs(p.deadlineMs)}`));
        continue;
      }
      p.sentTo = child;
      p.phase = undefined;
      child.inFlight.add(p);
      child.proc.send({ type: 'probe', id: p.id, context: p.context, kubeconfigPaths: p.paths, deadlineMs: budget });
    }
  }

  /** A probe's outer deadline passed without an answer. */
  private onDeadline(p: Pending): void {
    if (p.done) return;
    const child = p.sentTo;
    if (!child || !child.inFlight.has(p)) {
      // Never reached a child in time (one was starting, or being replaced).
      this.waiting.delete(p);
      this.finish(p, this.unknown(p, p.retryBecause ? `${p.retryBecause}; no answer from the new probe process in time` : `the probe process was not ready within ${formatMs(p.deadlineMs)}`));
      const starting = this.child;
      if (starting && !starting.ready && performance.now() - starting.startedAt > CHILD_START_TIMEOUT_MS) {
        this.replaceChild(starting, `the probe process did not start in ${formatMs(CHILD_START_TIMEOUT_MS)}`);
      }
      return;
    }
    // The child did not answer within deadline + grace, though it ends every probe at its deadline
    // by itself: its event loop is blocked. The probe stuck in authentication is the likely cause.
    const stuck = [...child.inFlight].filter((x) => x.phase === 'authenticating').sort((a, b) => a.startedAt - b.startedAt)[0] ?? p;
    const budget = formatMs(stuck.deadlineMs);
    const blame: KubeProbeResult =
      stuck.phase === 'authenticating'
        ? this.result(stuck, 'auth-failed', `no answer from its credential helper in ${budget} (authentication blocked the probe process, which was restarted)`)
        : this.result(stuck, 'unreachable', `no answer (including authentication) in ${budget}`);
    child.inFlight.delete(stuck);
    this.finish(stuck, blame);
    const why = `the probe process was restarted after context ${stuck.context} hung it`;
    this.replaceChild(child, why);
    // This probe's own time is up: it is not retried.
    if (!p.done) this.finish(p, this.unknown(p, why));
  }

  private onExit(child: Child): void {
    if (child.exited) return;
    child.exited = true;
    for (const pgid of child.plugins) killProcessGroup(pgid);
    child.plugins.clear();
    if (child !== this.child) return; // one we killed: replaceChild handled its probes
    this.child = undefined;
    if (this.disposed) return;
    if (!child.everReady) {
      // It died starting: do not loop; the next probe() tries again.
      const why = 'the probe process exited while starting';
      for (const p of [...this.waiting, ...child.inFlight]) this.finish(p, this.unknown(p, why));
      for (const w of this.readyWaiters) w(false);
      this.readyWaiters.clear();
      return;
    }
    this.restartCount++;
    this.requeue(child, 'the probe process exited unexpectedly');
    if (this.waiting.size > 0) this.ensureChild();
  }

  /** Kills `child`, sends its other probes to a fresh one (once each), and starts that one when the old has gone. */
  private replaceChild(child: Child, why: string): void {
    if (this.child === child) this.child = undefined;
    this.restartCount++;
    this.requeue(child, why);
    this.killChild(child);
    if (!this.disposed) this.ensureChild();
  }

  private requeue(child: Child, why: string): void {
    for (const p of [...child.inFlight]) {
      child.inFlight.delete(p);
      if (p.retryBecause) {
        this.finish(p, this.unknown(p, `${why}, for the second time during this probe`));
        continue;
      }
      p.retryBecause = why;
      p.sentTo = undefined;
      this.waiting.add(p);
    }
  }

  private killChild(child: Child): void {
    const exited = new Promise<void>((resolve) => {
      if (child.exited) return resolve();
      const t = setTimeout(resolve, EXIT_WAIT_MS);
      void child.proc.exited.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
    child.proc.kill();
    for (const pgid of child.plugins) killProcessGroup(pgid);
    const dying = exited.then(() => {
      child.exited = true;
      if (this.dying === dying) this.dying = undefined;
      // Start the next child now, so it is warm for the next probe (and any retry).
      if (!this.disposed) {
        this.ensureChild();
        this.dispatch();
      }
    });
    this.dying = dying;
  }

  private finish(p: Pending, result: KubeProbeResult): void {
    if (p.done) return;
    p.done = true;
    clearTimeout(p.timer);
    this.waiting.delete(p);
    p.sentTo?.inFlight.delete(p);
    p.resolve(result);
  }

  private result(p: Pending, state: KubeProbeState, cause: string): KubeProbeResult {
    return { context: p.context, state, cause: `context ${p.context}: ${cause}`, latencyMs: Math.round(performance.now() - p.startedAt), finishedAt: Date.now() };
  }

  private unknown(p: Pending, why: string): KubeProbeResult {
    return this.result(p, 'unknown', `not probed: ${why}`);
  }
}
