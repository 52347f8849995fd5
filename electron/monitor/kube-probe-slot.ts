// One Kubernetes child as the prober runs it: the shared child of every
// context that cannot block it, or the child of one context whose credentials
// can. The slot keeps the deadline: when its child does not answer a probe by
// the deadline (plus a little grace for the message itself), the child's
// event loop is blocked (a legacy auth provider running execSync, say), so it
// is killed with everything it started and a fresh one takes its place; the
// other probes in it are sent again, once. A child idle for KUBE_CHILD_IDLE_MS
// is ended, and started again by the next probe.

import type { KubeChildMessage } from '../../shared/contracts/kube-child.ts';
import type { KubeProbeResult, KubeProbeState, ProbePhase } from '../../shared/contracts/kube-probe.ts';
import { formatMs } from '../../shared/deadline.ts';
import { startKubeChild, type KubeChild } from '../kube/index.ts';
import { killProcessGroup, type ChildLauncher } from '../process/index.ts';

/** Below this much time left, a probe is not worth sending to the child. */
const MIN_CHILD_BUDGET_MS = 50;
/** If a killed child's exit is never reported, start the next one anyway after this. */
const EXIT_WAIT_MS = 2_000;
/** A child not ready this long after its start is stuck: replaced at the next probe that misses it. */
const CHILD_START_TIMEOUT_MS = 15_000;

export interface Pending {
  id: number;
  context: string;
  paths: string[];
  deadlineMs: number;
  startedAt: number;
  /** performance.now() by which the caller has an answer, whatever happens. */
  hardDeadline: number;
  timer?: ReturnType<typeof setTimeout>;
  sentTo?: SlotChild;
  phase?: ProbePhase;
  /** Why it is being sent again, once its first child was killed or died. */
  retryBecause?: string;
  resolve: (r: KubeProbeResult) => void;
  done: boolean;
}

interface SlotChild {
  proc: KubeChild;
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

export interface SlotOptions {
  graceMs: number;
  idleMs: number;
  launch?: ChildLauncher;
  childModule?: string;
  /** Its child loads the Kubernetes client at start: a child of its own for a context whose legacy auth provider only the client speaks. */
  preloadClient?: boolean;
  /** A child was killed or died and was replaced. */
  onRestart: () => void;
  /** The child was ended for idleness (the slot may be dropped). */
  onIdle: () => void;
}

export class ProbeSlot {
  private readonly opts: SlotOptions;
  private child: SlotChild | undefined;
  /** A killed child whose exit we wait for, so that two never live at once. */
  private dying: Promise<void> | undefined;
  private readonly waiting = new Set<Pending>();
  private readonly readyWaiters = new Set<(ready: boolean) => void>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(opts: SlotOptions) {
    this.opts = opts;
  }

  get pid(): number | undefined {
    return this.child && !this.child.exited ? this.child.proc.pid : undefined;
  }

  /** Starts the child ahead of the first probe; true once it is ready, false if it could not start. */
  async start(): Promise<boolean> {
    if (this.disposed) return false;
    const child = this.ensureChild();
    if (child?.ready) return true;
    if (!child && !this.dying) return false;
    return new Promise<boolean>((resolve) => this.readyWaiters.add(resolve));
  }

  /** Takes a probe: it is answered through `p.resolve` by its hard deadline, whatever the child does. */
  submit(p: Pending): void {
    p.timer = setTimeout(() => this.onDeadline(p), p.hardDeadline - performance.now());
    this.waiting.add(p);
    clearTimeout(this.idleTimer);
    this.ensureChild();
    this.dispatch();
  }

  /** Kills the child; probes still waiting resolve `unknown`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.idleTimer);
    const child = this.child;
    this.child = undefined;
    if (child) this.killChild(child, false);
    for (const p of [...this.waiting, ...(child?.inFlight ?? [])]) this.finish(p, unknown(p, 'probing stopped'));
    this.tellReady(false);
  }

  // -------------------------------------------------------------------------

  private ensureChild(): SlotChild | undefined {
    if (this.disposed) return undefined;
    if (this.child && !this.child.exited) return this.child;
    if (this.dying) return undefined; // started when the old one has gone
    let proc: KubeChild;
    try {
      proc = startKubeChild({
        ...(this.opts.launch ? { launch: this.opts.launch } : {}),
        ...(this.opts.childModule ? { modulePath: this.opts.childModule } : {}),
        ...(this.opts.preloadClient ? { preloadClient: true } : {}),
        // A little past our own check (onDeadline), which replaces a child that never gets ready.
        readyDeadlineMs: CHILD_START_TIMEOUT_MS + 5_000,
      });
    } catch (e) {
      const why = `the probe process could not start: ${(e as Error).message}`;
      for (const p of [...this.waiting]) this.finish(p, unknown(p, why));
      this.tellReady(false);
      return undefined;
    }
    const child: SlotChild = { proc, ready: false, inFlight: new Set(), plugins: new Set(), exited: false, everReady: false, startedAt: performance.now() };
    this.child = child;
    proc.ready.then(() => this.onReady(child), () => undefined);
    proc.onMessage((m) => this.onMessage(child, m));
    proc.onExit(() => this.onExit(child));
    return child;
  }

  private tellReady(ready: boolean): void {
    for (const w of this.readyWaiters) w(ready);
    this.readyWaiters.clear();
  }

  private onReady(child: SlotChild): void {
    child.ready = true;
    child.everReady = true;
    if (child !== this.child) return;
    this.tellReady(true);
    this.dispatch();
    this.armIdle();
  }

  private onMessage(child: SlotChild, m: KubeChildMessage): void {
    if (m.type === 'phase') {
      const p = [...child.inFlight].find((x) => x.id === m.id);
      if (p) p.phase = m.phase;
    } else if (m.type === 'plugin') {
      if (m.running) child.plugins.add(m.pgid);
      else child.plugins.delete(m.pgid);
    } else if (m.type === 'probe-result') {
      const p = [...child.inFlight].find((x) => x.id === m.id);
      if (!p) return; // answered already (deadline) or retried elsewhere
      child.inFlight.delete(p);
      this.finish(p, { ...m.result, context: p.context, latencyMs: Math.round(performance.now() - p.startedAt), finishedAt: Date.now() });
    }
  }

  /** Sends waiting probes to the child, if it is ready. */
  private dispatch(): void {
    const child = this.child;
    if (!child?.ready || child.exited) return;
    for (const p of [...this.waiting]) {
      this.waiting.delete(p);
      // The child's own deadline is what is left of the caller's (a few ms of dispatch are not worth a ragged "1997 ms").
      const left = p.hardDeadline - this.opts.graceMs - performance.now();
      const budget = left >= p.deadlineMs - 20 ? p.deadlineMs : Math.floor(left);
      if (budget < MIN_CHILD_BUDGET_MS) {
        this.finish(p, unknown(p, p.retryBecause ? `${p.retryBecause}; no time was left to ask again` : `the probe process was not ready within ${formatMs(p.deadlineMs)}`));
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
      this.finish(p, unknown(p, p.retryBecause ? `${p.retryBecause}; no answer from the new probe process in time` : `the probe process was not ready within ${formatMs(p.deadlineMs)}`));
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
        ? result(stuck, 'auth-failed', `no answer from its credential helper in ${budget} (authentication blocked the probe process, which was restarted)`)
        : result(stuck, 'unreachable', `no answer (including authentication) in ${budget}`);
    child.inFlight.delete(stuck);
    this.finish(stuck, blame);
    const why = `the probe process was restarted after context ${stuck.context} hung it`;
    this.replaceChild(child, why);
    // This probe's own time is up: it is not retried.
    if (!p.done) this.finish(p, unknown(p, why));
  }

  private onExit(child: SlotChild): void {
    if (child.exited) return;
    child.exited = true;
    for (const pgid of child.plugins) killProcessGroup(pgid);
    child.plugins.clear();
    if (child !== this.child) return; // one we killed: replaceChild handled its probes
    this.child = undefined;
    if (this.disposed) return;
    if (!child.everReady) {
      // It died starting: do not loop; the next probe tries again.
      const why = 'the probe process exited while starting';
      for (const p of [...this.waiting, ...child.inFlight]) this.finish(p, unknown(p, why));
      this.tellReady(false);
      return;
    }
    this.opts.onRestart();
    this.requeue(child, 'the probe process exited unexpectedly');
    if (this.waiting.size > 0) this.ensureChild();
  }

  /** Kills `child`, sends its other probes to a fresh one (once each), and starts that one when the old has gone. */
  private replaceChild(child: SlotChild, why: string): void {
    if (this.child === child) this.child = undefined;
    this.opts.onRestart();
    this.requeue(child, why);
    this.killChild(child, true);
    if (!this.disposed) this.ensureChild();
  }

  private requeue(child: SlotChild, why: string): void {
    for (const p of [...child.inFlight]) {
      child.inFlight.delete(p);
      if (p.retryBecause) {
        this.finish(p, unknown(p, `${why}, for the second time during this probe`));
        continue;
      }
      p.retryBecause = why;
      p.sentTo = undefined;
      this.waiting.add(p);
    }
  }

  /** Kills `child` and its plugins; with `restart`, the next child starts once it has gone (warm for the next probe and any retry). */
  private killChild(child: SlotChild, restart: boolean): void {
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
      // Not replaced (ended for idleness, or disposed): a new one only if someone asks meanwhile.
      if (this.disposed || (!restart && this.waiting.size === 0 && this.readyWaiters.size === 0)) return;
      this.ensureChild();
      this.dispatch();
    });
    this.dying = dying;
  }

  /** Ends the child once nothing has been asked of it for idleMs. */
  private armIdle(): void {
    clearTimeout(this.idleTimer);
    const child = this.child;
    // A child still starting is not idle: it is armed once ready (onReady).
    if (this.disposed || !child?.ready || this.waiting.size > 0 || child.inFlight.size > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.child !== child || this.waiting.size > 0 || child.inFlight.size > 0) return;
      this.child = undefined;
      this.killChild(child, false);
      this.opts.onIdle();
    }, this.opts.idleMs);
    this.idleTimer.unref?.();
  }

  private finish(p: Pending, r: KubeProbeResult): void {
    if (p.done) return;
    p.done = true;
    clearTimeout(p.timer);
    this.waiting.delete(p);
    p.sentTo?.inFlight.delete(p);
    p.resolve(r);
    this.armIdle();
  }
}

function result(p: Pending, state: KubeProbeState, cause: string): KubeProbeResult {
  return { context: p.context, state, cause: `context ${p.context}: ${cause}`, latencyMs: Math.round(performance.now() - p.startedAt), finishedAt: Date.now() };
}

function unknown(p: Pending, why: string): KubeProbeResult {
  return result(p, 'unknown', `not probed: ${why}`);
}
