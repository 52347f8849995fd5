// The fault matrix: one definition per row of the design's fault table
// (../shared/docs/design.md, "Faults and what must happen"), each with how to
// inject the fault on the testbed, which problem and fix Kindtray must show,
// the bound it must show them within, and how it recovers. bench/fault-matrix.ts
// runs these rows and records what it measured; e2e/faults.int.test.ts runs
// the same rows and asserts on the same results, so the two cannot drift.
//
// Times: "noticed" is from the moment the fault took effect (the SIGSTOP, the
// file write, the SIGTERM to dockerd, the return of `docker stop`) to the first
// snapshot on the server's event stream that carries the expected problem with
// the expected fix (the event stream carries the very snapshot GET /api/status
// answers; the row then confirms it through GET /api/status). "recovered" is
// from the first fix (or the user's own action, where the table offers none)
// to the first snapshot in which the whole stage is healthy again.

import { spawn } from 'node:child_process';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEADLINES } from '../../shared/constants.ts';
import type { HealthSnapshot, Problem } from '../../shared/snapshot.ts';
import { freePort, kindtray } from '../helpers/serve.ts';
import { setContextUser, setCurrentContext } from '../testbed/index.ts';
import {
  actionableRoots,
  attachKindtray,
  clearFaultOnRestart,
  cmdline as cmdlineOf,
  describe,
  heal,
  healthy,
  isAlive,
  now,
  processesMatching,
  round,
  savedUsers,
  signal,
  sleep,
  startKindtray,
  startKindtrayAs,
  untilHealthy,
  type FixAnswer,
  type Kindtray,
  type Stage,
  type StageSettings,
} from './stage.ts';

export interface FixRun extends FixAnswer {
  id: string;
  /** Run by Kindtray itself (the watchdog's restart), not asked for. */
  automatic?: boolean;
}

export interface RowResult {
  id: string;
  fault: string;
  reproducible: boolean;
  /** Why a row could not be produced here. */
  notReproducible?: string;
  /** The table's "noticed within", in words and (resolved with the settings used) in ms. */
  bound: string;
  boundMs: number | null;
  expectedProblem: string | null;
  expectedFix: string | null;
  /** From the fault taking effect to the first snapshot with the expected problem and fix. */
  noticedMs: number | null;
  /** The same from the start of the injecting call (differs where injecting takes time, e.g. docker stop). */
  noticedFromInjectStartMs: number | null;
  /** From the fault to the first snapshot that was not healthy any more (any sign at all). */
  firstSignMs: number | null;
  problemId: string | null;
  problemTitle: string | null;
  fixOffered: string | null;
  /** GET /api/status showed the problem too (not asked for states that last an instant). */
  statusConfirmed: boolean | null;
  fixes: FixRun[];
  /** From the first fix (or the user's own action) to healthy again; null when it did not recover. */
  recoveredMs: number | null;
  /** What brought it back, in words. */
  recovery: string;
  ok: boolean;
  violations: string[];
  /** Things not handled well that the table sets no bound for (a state that flaps back after the fix, say). */
  findings: string[];
  notes: string[];
  /** For a fault present before Kindtray starts: how long `kindtray serve` took, and whether its first status showed it. */
  atStart?: { serveMs: number; shownInFirstStatus: boolean };
  /** For rows after which probing may have stopped: whether a later API hang is still noticed. */
  probingAfter?: { what: string; noticedMs: number | null; limitMs: number; waitedMs: number; trace?: string[] };
  /** When the row ran more than once: each run's figures (noticedMs and recoveredMs above are then the worst). */
  runs?: { noticedMs: number | null; recoveredMs: number | null; ok: boolean; fixes: string[] }[];
  noticedMedianMs?: number | null;
  recoveredMedianMs?: number | null;
}

export interface RowContext {
  /** 'ci' skips what costs a minute without telling anything new (the unresponsive engine's 60 s fix wait). */
  mode: 'bench' | 'ci';
}

export interface RowDef {
  id: string;
  /** The table's words. */
  fault: string;
  sees: string;
  fixText: string;
  bound(settings: StageSettings): { ms: number | null; text: string };
  /**
   * What the CI test asserts "noticed" against: the bound plus room for a
   * loaded 2-core machine, never tighter than the bound. Where Kindtray is
   * known to miss a bound, the limit is its mechanism's own bound and
   * `knownGap` says so (the bench reports the miss as a violation).
   */
  limitMs(settings: StageSettings): number | null;
  knownGap?: string;
  /** Runs on its own Kindtray server (not the stage's). */
  ownServer?: boolean;
  /** At most this many runs when the bench repeats rows (a row that costs minutes). */
  maxRuns?: number;
  /** Set when the fault cannot be produced here: why. */
  notReproducible?: string;
  run(stage: Stage, ctx: RowContext): Promise<RowResult>;
}

/** Room for a loaded 2-core CI machine: at least 1 s, or half the bound. */
export const margin = (ms: number): number => Math.max(1_000, Math.round(ms * 0.5));
const withMargin = (ms: number | null): number | null => (ms === null ? null : ms + margin(ms));

/** The design's room for a loaded 2-core machine: at most 1.5 times the bound. */
const atMostOneAndAHalf = (ms: number): number => Math.round(ms * 1.5);

export const probeBound = (s: StageSettings) => ({
  ms: s.probe.intervalMs + s.probe.deadlineMs,
  text: `probe deadline (next probe ≤ ${s.probe.intervalMs / 1000} s + its ${s.probe.deadlineMs / 1000} s deadline)`,
});
export const nextProbeBound = (s: StageSettings) => ({ ms: s.probe.intervalMs, text: `next probe (≤ ${s.probe.intervalMs / 1000} s)` });

const TASK = (context: string) => `name: fault-launch
resources:
  infra: k8s/${context}
  ports: [8080]
run: echo started; sleep 60
`;

// ---------------------------------------------------------------------------
// The common shape of a row

function blank(def: RowDef, settings: StageSettings, expectedProblem: string | null, expectedFix: string | null): RowResult {
  const b = def.bound(settings);
  return {
    id: def.id,
    fault: def.fault,
    reproducible: true,
    bound: b.text,
    boundMs: b.ms,
    expectedProblem,
    expectedFix,
    noticedMs: null,
    noticedFromInjectStartMs: null,
    firstSignMs: null,
    problemId: null,
    problemTitle: null,
    fixOffered: null,
    statusConfirmed: null,
    fixes: [],
    recoveredMs: null,
    recovery: '',
    ok: false,
    violations: [],
    findings: [],
    notes: [],
  };
}

function finish(r: RowResult): RowResult {
  if (r.reproducible) {
    if (r.noticedMs === null) r.violations.push(`${r.expectedProblem ?? 'the fault'} was not shown`);
    else if (r.boundMs !== null && r.noticedMs > r.boundMs) r.violations.push(`noticed in ${round(r.noticedMs)} ms, over the bound of ${r.boundMs} ms`);
    if (r.noticedMs !== null && r.expectedFix !== (r.fixOffered ?? null) && !(r.expectedFix?.endsWith(':') && r.fixOffered?.startsWith(r.expectedFix))) {
      r.violations.push(`offered fix ${r.fixOffered ?? 'none'}, expected ${r.expectedFix ?? 'none'}`);
    }
    if (r.statusConfirmed === false) r.violations.push('GET /api/status did not show the problem the event stream showed');
    if (r.recoveredMs === null) r.violations.push(`did not recover (${r.recovery})`);
  }
  r.ok = r.violations.length === 0;
  return r;
}

/**
 * In the bench, a row whose fault is found by the next probe starts at a random
 * point of the probe cycle, so that its runs sample the whole cycle rather than
 * the phase the row before left behind. (CI keeps the phase it gets.)
 */
async function randomPhase(stage: Stage, ctx: RowContext): Promise<void> {
  if (ctx.mode === 'bench') await sleep(Math.random() * stage.settings.probe.intervalMs);
}

/** Healthy first (healing the testbed when a row before left it broken). False when even that fails. */
async function precondition(stage: Stage, r: RowResult): Promise<boolean> {
  if ((await untilHealthy(stage, 20_000)) !== undefined) return true;
  r.notes.push(`stage not healthy before the row (${describe(stage.server.feed.latest?.snapshot)}); healed the testbed first`);
  await heal(stage);
  if ((await untilHealthy(stage, 60_000)) !== undefined) return true;
  r.violations.push(`stage not healthy before the row, even after healing: ${describe(stage.server.feed.latest?.snapshot)}`);
  return false;
}

interface Noticing {
  /** performance.now() when the injecting call began. */
  injectStart: number;
  /** performance.now() when the fault took effect. */
  t0: number;
  find: (s: HealthSnapshot) => Problem | undefined;
  timeoutMs: number;
  /** Also ask GET /api/status (not for states that last an instant). */
  confirm?: boolean;
}

/** Waits for the expected problem on the stream and fills the "noticed" fields. Returns the problem, or undefined. */
async function notice(k: Kindtray, r: RowResult, stage: Stage | undefined, n: Noticing): Promise<Problem | undefined> {
  const sign = k.feed.seen.find((x) => x.at >= n.injectStart && (stage ? !healthy(stage, x.snapshot) : x.snapshot.overall !== 'ok'));
  const seen = await k.feed.waitFor((s) => n.find(s) !== undefined, { since: n.injectStart, timeoutMs: n.timeoutMs });
  const firstSign = sign ?? k.feed.seen.find((x) => x.at >= n.injectStart && (stage ? !healthy(stage, x.snapshot) : x.snapshot.overall !== 'ok'));
  if (firstSign) r.firstSignMs = Math.max(0, round(firstSign.at - n.t0));
  if (!seen) {
    r.notes.push(`last snapshot: ${describe(k.feed.latest?.snapshot)}`);
    return undefined;
  }
  const p = n.find(seen.snapshot);
  r.noticedMs = Math.max(0, round(seen.at - n.t0));
  r.noticedFromInjectStartMs = round(seen.at - n.injectStart);
  r.problemId = p?.id ?? null;
  r.problemTitle = p?.title ?? null;
  r.fixOffered = p?.fix?.id ?? null;
  if (n.confirm !== false) {
    const s = await k.status();
    r.statusConfirmed = s !== undefined && n.find(s) !== undefined;
    if (!r.statusConfirmed) r.notes.push(`GET /api/status after the event: ${describe(s)}`);
  }
  return p;
}

/**
 * Runs `first`, then whatever root problem offers next (Start Docker, then
 * Start cluster…), as a user following the buttons would, until the stage is
 * healthy or `budgetMs` runs out. Fills fixes, recoveredMs and recovery.
 */
async function followFixes(stage: Stage, r: RowResult, first: string, budgetMs = 120_000): Promise<void> {
  const k = stage.server;
  const startedAt = now();
  const ran = new Set<string>();
  let next: string | undefined = first;
  let since = startedAt;
  const offered = (s: HealthSnapshot) => actionableRoots(s).map((p) => p.fix?.id ?? '').find((id) => id && !ran.has(id));
  while (now() - startedAt < budgetMs) {
    if (next) {
      ran.add(next);
      const a = await k.fix(next);
      r.fixes.push({ id: next, ...a, ms: round(a.ms) });
      next = undefined;
      // What to do next is decided on the state after the fix answered, as a user would.
      since = now();
    }
    // Healthy, or the next button to press, whichever comes first.
    const seen = await k.feed.waitFor((s) => healthy(stage, s) || offered(s) !== undefined, { since, timeoutMs: 5_000 });
    since = now();
    if (!seen) continue;
    if (healthy(stage, seen.snapshot)) {
      const at = healthySince(stage, seen.at);
      // Healthy for good, or only for a moment? (A probe result from before the fault can look fresh for an instant.)
      const broke = await k.feed.waitFor((s) => !healthy(stage, s), { since: at, timeoutMs: holdMs(stage) });
      if (!broke) {
        r.recoveredMs = round(at - startedAt);
        r.recovery = r.fixes.map((f) => f.id).join(' → ');
        return;
      }
      r.findings.push(`healthy ${round(at - startedAt)} ms after the first fix, then ${round(broke.at - at)} ms later: ${describe(broke.snapshot)}`);
      since = now();
      continue;
    }
    next = offered(seen.snapshot);
  }
  r.recovery = `${r.fixes.map((f) => `${f.id} (${f.ok ? 'ok' : `failed: ${f.message}`})`).join(' → ')}; still ${describe(k.feed.latest?.snapshot)}`;

  /** When the healthy state that holds at `t` began (the stream's first event of that healthy run). */
  function healthySince(stage: Stage, t: number): number {
    let at = t;
    for (let i = k.feed.seen.length - 1; i >= 0; i--) {
      const x = k.feed.seen[i];
      if (!x || x.at > t) continue;
      if (!healthy(stage, x.snapshot)) break;
      at = x.at;
    }
    return Math.max(at, startedAt);
  }
}

/** How long "healthy" must last to count as recovered: a probe deadline and a second. */
const holdMs = (stage: Stage): number => stage.settings.probe.deadlineMs + 1_000;

const problemById = (id: string) => (s: HealthSnapshot) => s.problems.find((p) => p.id === id);

// ---------------------------------------------------------------------------
// The rows

const dockerStopped: RowDef = {
  id: 'docker-stopped',
  fault: 'Docker stopped',
  sees: '"Docker is not running"',
  fixText: 'Start Docker',
  bound: () => ({ ms: 1_000, text: '1 s' }),
  limitMs: () => withMargin(1_000),
  async run(stage) {
    const r = blank(this, stage.settings, 'docker:stopped', 'start-docker');
    if (!(await precondition(stage, r))) return finish(r);
    const { dockerd } = stage.bed;
    const injectStart = now();
    // SIGTERM: the socket file goes at once, the engine takes a second or two to exit.
    const stopping = dockerd.stop();
    await notice(stage.server, r, stage, { injectStart, t0: injectStart, find: problemById('docker:stopped'), timeoutMs: 30_000 });
    await stopping;
    r.notes.push(`dockerd exited ${round(now() - injectStart)} ms after SIGTERM`);
    await followFixes(stage, r, 'start-docker');
    return finish(r);
  },
};

const socketNotPermitted: RowDef = {
  id: 'docker-socket-not-permitted',
  fault: 'Docker socket not permitted (Kindtray run as uid 65534, socket root:docker 0660)',
  sees: 'who lacks what permission',
  fixText: 'how to get it',
  bound: () => ({ ms: 1_000, text: '1 s' }),
  // At start it is in the first snapshot; taken away while running, the liveness ping finds it (the open event stream keeps working).
  limitMs: () => atMostOneAndAHalf(1_000),
  ownServer: true,
  async run(stage) {
    const r = blank(this, stage.settings, 'docker:no-permission', 'docker-permission-help');
    if (process.getuid?.() !== 0) {
      r.reproducible = false;
      r.notReproducible = 'needs root, to run Kindtray as another user and to change the socket\'s mode';
      r.recovery = 'not run';
      return finish(r);
    }
    // Root opens any socket (CAP_DAC_OVERRIDE): Kindtray runs as an unprivileged user here, as users run it.
    const socket = stage.bed.dockerd.socketPath;
    const mode = statSync(socket).mode & 0o777;
    let k: Kindtray | undefined;
    try {
      // At start: the first look already says so.
      chmodSync(socket, 0o660);
      const startAt = now();
      k = await startKindtrayAs(stage.bed, stage.settings);
      stage.extra.push(k);
      const first = await k.status();
      const firstProblem = first?.problems.find((p) => p.id === 'docker:no-permission');
      r.atStart = { serveMs: round(now() - startAt), shownInFirstStatus: firstProblem !== undefined };
      r.notes.push(
        `at start (socket ${socketOwner(socket)}): serve answered after ${round(now() - startAt)} ms and its first status said ${first?.docker.state ?? 'nothing'}${firstProblem ? `: "${firstProblem.detail}"` : ''}`,
      );
      if (!firstProblem) r.violations.push(`at start the first status said docker ${first?.docker.state ?? 'nothing'}, not no-permission`);
      // While running: the socket's permission is taken away (as when the engine comes back with a socket this user may not open).
      chmodSync(socket, 0o666);
      const ok = await k.feed.waitFor((s) => s.docker.state === 'running', { timeoutMs: 30_000 });
      if (!ok) r.notes.push(`with the socket 0666 the server never saw Docker running: ${describe(k.feed.latest?.snapshot)}`);
      await sleep(1_000);
      const injectStart = now();
      chmodSync(socket, 0o660);
      const p = await notice(k, r, undefined, { injectStart, t0: injectStart, find: problemById('docker:no-permission'), timeoutMs: 30_000 });
      if (p && !/uid \d+/.test(p.detail)) r.violations.push(`the problem does not say who lacks the permission: "${p.detail}"`);
      if (p && !/group|mode/.test(p.detail)) r.violations.push(`the problem does not say what permission is missing: "${p.detail}"`);
      if (p) r.notes.push(`shown: "${p.title}: ${p.detail}"`);
      // The fix is advice; then the user is given access (here: the socket opened to all).
      const a = await k.fix('docker-permission-help');
      r.fixes.push({ id: 'docker-permission-help', ...a, ms: round(a.ms) });
      r.notes.push(`the fix says: "${a.message}"`);
      const grantedAt = now();
      chmodSync(socket, 0o666);
      const back = await k.feed.waitFor((s) => s.docker.state === 'running', { since: grantedAt, timeoutMs: 30_000 });
      r.recoveredMs = back ? round(back.at - grantedAt) : null;
      r.recovery = back ? 'access given (the socket opened to the user), after the advice' : `Docker not seen running 30 s after access was given: ${describe(k.feed.latest?.snapshot)}`;
    } finally {
      chmodSync(socket, mode);
      if (k) {
        await k.stop();
        stage.extra.splice(stage.extra.indexOf(k), 1);
      }
    }
    return finish(r);
  },
};

function socketOwner(path: string): string {
  const st = statSync(path);
  return `uid ${st.uid}, gid ${st.gid}, mode ${(st.mode & 0o777).toString(8)}`;
}

const dockerUnresponsive: RowDef = {
  id: 'docker-unresponsive',
  fault: 'Docker unresponsive (dockerd frozen)',
  sees: '"Docker is not responding"',
  fixText: 'Restart Docker',
  // The table has no row for it; it stands in for "socket not permitted", whose bound is the Docker rows' 1 s.
  bound: () => ({ ms: 1_000, text: '1 s (as the table\'s Docker rows; it has no row of its own)' }),
  // The event stream stays open and silent; the liveness ping (every 0.4 s, 0.5 s deadline) finds it.
  limitMs: () => atMostOneAndAHalf(1_000),
  maxRuns: 2,
  async run(stage, ctx) {
    const r = blank(this, stage.settings, 'docker:unresponsive', 'restart-docker');
    if (!(await precondition(stage, r))) return finish(r);
    const { dockerd } = stage.bed;
    let saidWhy: string | undefined;
    const injectStart = now();
    dockerd.freeze();
    try {
      await notice(stage.server, r, stage, { injectStart, t0: injectStart, find: problemById('docker:unresponsive'), timeoutMs: 45_000 });
      // Frozen for longer than a probe interval, as when the fix's wait runs (and for users: Docker Desktop hangs for minutes).
      if (ctx.mode === 'ci') await sleep(stage.settings.probe.intervalMs + 500);
      if (ctx.mode === 'bench' && r.noticedMs !== null) {
        // The offered fix, for real: it runs the Docker start command and waits up to 60 s for the engine.
        const a = await stage.server.fix('restart-docker', 120_000);
        r.fixes.push({ id: 'restart-docker', ...a, ms: round(a.ms) });
        const ok = await stage.server.feed.waitFor((s) => healthy(stage, s), { timeoutMs: 5_000 });
        if (ok) {
          r.recoveredMs = round(a.ms);
          r.recovery = 'restart-docker';
          return finish(r);
        }
        r.notes.push(`the offered fix did not bring the engine back: ${a.ok ? 'it answered ok' : `it answered ${a.status}: ${a.message}`}`);
        // Issue 9's bar for a hung engine: restart it, or say plainly, at once, why it cannot and what to do.
        if (!a.ok && a.ms < 5_000 && /cannot restart/.test(a.message)) saidWhy = `the fix said at once (${round(a.ms)} ms) why it cannot restart this engine and what to do`;
      }
    } finally {
      dockerd.thaw();
    }
    // What remains: the engine answering again by itself (here: thawed; for a user: killing and restarting dockerd by hand).
    const thawedAt = now();
    const ok = await untilHealthy(stage, 60_000, thawedAt);
    if (ctx.mode === 'ci') {
      // CI does not spend the fix's 60 s wait; it checks the state clears once the engine answers.
      r.recoveredMs = ok === undefined ? null : round(ok - thawedAt);
      r.recovery = ok === undefined ? `not healthy 60 s after the engine was thawed: ${describe(stage.server.feed.latest?.snapshot)}` : 'engine answered again (thawed); the fix is not run in CI';
    } else {
      r.recovery = ok === undefined ? 'not healthy even after the engine was thawed' : `not by the fix; healthy ${round(ok - thawedAt)} ms after the engine was thawed by hand`;
      if (r.fixes.length === 0) r.recovery = `fix not run; ${r.recovery}`;
      // Where nothing here can restart the engine, the plain answer and the user's own restart are the recovery.
      if (saidWhy && ok !== undefined) {
        r.recoveredMs = round(ok - thawedAt);
        r.recovery = `${saidWhy}; healthy ${round(ok - thawedAt)} ms after the engine was restarted by hand (here: thawed)`;
      }
    }
    if (ok !== undefined) r.probingAfter = await stillProbing(stage);
    if (r.probingAfter && (r.probingAfter.noticedMs === null || r.probingAfter.noticedMs > r.probingAfter.limitMs)) {
      r.findings.push(
        `once the engine answered again, the clusters' APIs were no longer probed: an API hang made afterwards was ${r.probingAfter.noticedMs === null ? `not shown within ${r.probingAfter.waitedMs} ms (the snapshot kept saying the cluster was running)` : `shown only after ${r.probingAfter.noticedMs} ms`}`,
      );
    }
    return finish(r);
  },
};

/**
 * After a fault that paused probing, are the clusters still watched? Hangs
 * dev's API and times how long until it is shown (then clears it and waits
 * for health, so the next row starts clean).
 */
async function stillProbing(stage: Stage): Promise<NonNullable<RowResult['probingAfter']>> {
  const c = stage.dev;
  const limitMs = probeBound(stage.settings).ms + margin(probeBound(stage.settings).ms);
  const waitedMs = limitMs + 5_000;
  const t0 = now();
  await c.setFault('hang');
  const from = stage.server.feed.seen.length;
  const seen = await stage.server.feed.waitFor((s) => s.clusters.some((x) => x.name === c.name && x.state === 'unreachable'), { since: t0, timeoutMs: waitedMs });
  const noticedMs = seen ? round(seen.at - t0) : null;
  // When it is late, what the snapshots said meanwhile (the context's probes) is the evidence of why.
  const trace = noticedMs === null || noticedMs > limitMs ? probeTrace(stage, from, t0) : undefined;
  await c.setFault('none');
  await untilHealthy(stage, 60_000);
  return { what: `an API hang of ${c.name} made after the recovery`, noticedMs, limitMs, waitedMs, ...(trace ? { trace } : {}) };
}

/** dev's cluster and context as each snapshot since `from` showed them, ms after `t0`. */
function probeTrace(stage: Stage, from: number, t0: number): string[] {
  const out: string[] = [];
  for (const x of stage.server.feed.seen.slice(Math.max(0, from - 1))) {
    const c = x.snapshot.clusters.find((y) => y.name === stage.dev.name);
    const ctx = x.snapshot.contexts.find((y) => y.name === c?.context);
    const line = `${c?.state ?? '-'}/${ctx?.state ?? '-'} probed ${ctx?.probedAt ?? '-'} in ${ctx?.latencyMs ?? '-'} ms`;
    if (out.at(-1)?.endsWith(line)) continue;
    out.push(`${round(x.at - t0)} ms: ${line}`);
  }
  return out;
}

const nodeStopped: RowDef = {
  id: 'node-stopped',
  fault: 'KinD node container stopped',
  sees: 'cluster stopped',
  fixText: 'Start cluster',
  bound: () => ({ ms: 1_000, text: '1 s' }),
  limitMs: () => withMargin(1_000),
  async run(stage) {
    const c = stage.dev;
    const r = blank(this, stage.settings, `cluster:${c.name}:stopped`, `start-cluster:${c.name}`);
    if (!(await precondition(stage, r))) return finish(r);
    const injectStart = now();
    await c.stopNode();
    const t0 = now();
    r.notes.push(`docker stop took ${round(t0 - injectStart)} ms; noticed is counted from its return`);
    await notice(stage.server, r, stage, { injectStart, t0, find: problemById(`cluster:${c.name}:stopped`), timeoutMs: 30_000 });
    await followFixes(stage, r, `start-cluster:${c.name}`);
    return finish(r);
  },
};

const apiHangs: RowDef = {
  id: 'api-hangs',
  fault: 'cluster API accepts, never answers',
  sees: 'cluster unreachable',
  fixText: 'restart cluster, switch context',
  bound: probeBound,
  limitMs: (s) => withMargin(probeBound(s).ms),
  async run(stage, ctx) {
    const c = stage.dev;
    const r = blank(this, stage.settings, `cluster:${c.name}:unreachable`, `restart-cluster:${c.name}`);
    if (!(await precondition(stage, r))) return finish(r);
    await randomPhase(stage, ctx);
    const from = stage.server.feed.seen.length;
    const injectStart = now();
    await c.setFault('hang');
    const p = await notice(stage.server, r, stage, { injectStart, t0: injectStart, find: problemById(`cluster:${c.name}:unreachable`), timeoutMs: 60_000 });
    // When late, how each snapshot since the fault showed dev (which probe, how long it took).
    if (r.noticedMs === null || r.noticedMs > probeBound(stage.settings).ms) r.findings.push(`trace: ${probeTrace(stage, from, injectStart).join(' | ')}`);
    if (p && !/switch to the healthy context/.test(p.detail)) r.notes.push('the problem does not mention switching context');
    // A restart cures a hung API server; the stand-in's switch is a file, so it is cleared when Docker restarts the container.
    const cure = clearFaultOnRestart(stage, c);
    await followFixes(stage, r, `restart-cluster:${c.name}`);
    if (!(await cure.stop())) {
      r.notes.push('the container was not seen restarting; hang cleared by hand');
      await c.setFault('none');
    }
    return finish(r);
  },
};

const danglingContext: RowDef = {
  id: 'current-context-dangling',
  fault: 'current-context names nothing',
  sees: 'context dangling',
  fixText: 'switch context',
  bound: nextProbeBound,
  limitMs: (s) => withMargin(nextProbeBound(s).ms),
  async run(stage) {
    const ghost = `kind-nothing-${process.pid}`;
    const r = blank(this, stage.settings, `context:${ghost}:dangling`, 'use-context:');
    if (!(await precondition(stage, r))) return finish(r);
    const injectStart = now();
    await setCurrentContext(stage.bed.kubeconfigPath, ghost);
    const p = await notice(stage.server, r, stage, { injectStart, t0: injectStart, find: problemById(`context:${ghost}:dangling`), timeoutMs: 30_000 });
    if (p?.fix) await followFixes(stage, r, p.fix.id);
    else {
      r.recovery = 'no fix offered';
      await setCurrentContext(stage.bed.kubeconfigPath, stage.dev.context);
    }
    // The stage's own current context again (not measured).
    await setCurrentContext(stage.bed.kubeconfigPath, stage.dev.context);
    return finish(r);
  },
};

const staleEndpoint: RowDef = {
  id: 'stale-endpoint',
  fault: 'kubeconfig port differs from container',
  sees: 'stale endpoint',
  fixText: 'repair context',
  bound: nextProbeBound,
  limitMs: (s) => withMargin(nextProbeBound(s).ms),
  async run(stage) {
    const c = stage.drift;
    if (!c) throw new Error('the stage has no drift cluster');
    const r = blank(this, stage.settings, `context:${c.context}:stale-endpoint`, `repair-context:${c.context}`);
    if (!(await precondition(stage, r))) return finish(r);
    const before = c.apiPort;
    // A node restart: Docker assigns the API another host port; kubeconfig keeps the old one.
    await c.stopNode();
    await stage.server.feed.waitFor((s) => s.clusters.some((x) => x.name === c.name && x.state === 'stopped'), { timeoutMs: 10_000 });
    const injectStart = now();
    // `docker start` returns once the container runs with its new port: the kubeconfig is stale from then on.
    await stage.bed.dockerd.api.startContainer(c.controlPlane.id);
    const t0 = now();
    await c.startNode();
    r.notes.push(`API port ${before} → ${c.apiPort} after the node restart (docker start ${round(t0 - injectStart)} ms, then API ready ${round(now() - t0)} ms); noticed is counted from docker start's return`);
    if (c.apiPort === before) r.violations.push('Docker gave the same port again: no stale endpoint was made');
    await notice(stage.server, r, stage, { injectStart, t0, find: problemById(`context:${c.context}:stale-endpoint`), timeoutMs: 30_000 });
    await followFixes(stage, r, `repair-context:${c.context}`);
    return finish(r);
  },
};

const credentialPlugin: RowDef = {
  id: 'credential-plugin-hangs',
  fault: 'credential plugin never returns',
  sees: 'auth timed out',
  fixText: '—',
  bound: probeBound,
  limitMs: (s) => withMargin(probeBound(s).ms),
  async run(stage, ctx) {
    const c = stage.dev;
    const r = blank(this, stage.settings, `context:${c.context}:auth-failed`, null);
    if (!(await precondition(stage, r))) return finish(r);
    await randomPhase(stage, ctx);
    const users = savedUsers(stage);
    const plugin = join(stage.bed.dockerd.dir, `never-returns-${process.pid}-${Date.now()}.sh`);
    // Not `exec sleep`: the shell keeps the plugin's name, and its child shows whether killing the plugin kills what it started.
    const naptime = `${600 + (Date.now() % 997)}`;
    writeFileSync(plugin, `#!/bin/sh\nsleep ${naptime}\n`, { mode: 0o755 });
    const count = () => processesMatching(plugin).length + processesMatching(`sleep ${naptime}`).length;
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, count());
        await sleep(250);
      }
    })();
    try {
      const injectStart = now();
      await setContextUser(stage.bed.kubeconfigPath, c.context, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
      const p = await notice(stage.server, r, stage, {
        injectStart,
        t0: injectStart,
        find: (s) => s.problems.find((x) => x.id === `context:${c.context}:auth-failed`),
        timeoutMs: 60_000,
      });
      if (p && !/timed out/i.test(p.title)) r.violations.push(`the problem says "${p.title}", not that authentication timed out`);
      // Let a few more probes run into the plugin, to see that its processes do not pile up.
      await sleep(Math.min(10_000, 2 * stage.settings.probe.intervalMs));
      // No fix is offered (credentials are the user's): the user's own action, putting working credentials back.
      const restoredAt = now();
      await heal(stage, users);
      const ok = await untilHealthy(stage, 60_000, restoredAt);
      r.recoveredMs = ok === undefined ? null : round(ok - restoredAt);
      r.recovery = ok === undefined ? `not healthy 60 s after the credentials were put back: ${describe(stage.server.feed.latest?.snapshot)}` : 'user put working credentials back (no fix offered)';
    } finally {
      sampling = false;
      await sampler;
    }
    await sleep(1_000);
    const left = [...processesMatching(plugin), ...processesMatching(`sleep ${naptime}`)];
    r.notes.push(`plugin processes (the plugin's shell and its sleep): at most ${most} at once; ${left.length} left 1 s after recovery`);
    if (most > 4) r.findings.push(`${most} plugin processes ran at once (probes piled up)`);
    if (left.length > 0) {
      r.findings.push(`${left.length} plugin process(es) left running after recovery: ${left.map((p) => `${p} "${cmdlineOf(p)}"`).join(', ')}`);
      for (const pid of left) signal(pid, 'SIGKILL');
    }
    return finish(r);
  },
};

/** Freezes the API worker and times the server noticing it; the rest (recovery) differs by setting. */
async function freezeWorker(k: Kindtray, r: RowResult, stage: Stage | undefined): Promise<{ pid: number; during: Promise<{ status: number; ms: number }>; noticed?: number }> {
  const h = await k.health();
  const pid = h?.worker.pid ?? 0;
  if (!pid) throw new Error(`no worker pid in /api/health: ${JSON.stringify(h)}`);
  const injectStart = now();
  signal(pid, 'SIGSTOP');
  // A request to the frozen worker: it must end with an answer, not hang.
  const during = (async () => {
    const started = now();
    const list = await fetch(`${k.url}/api/tasks`, { headers: { authorization: `Bearer ${k.token}` }, signal: AbortSignal.timeout(60_000) }).then(
      async (res) => (await res.text(), res.status),
      () => -1,
    );
    return { status: list, ms: round(now() - started) };
  })();
  await notice(k, r, stage, { injectStart, t0: injectStart, find: problemById('server:hung'), timeoutMs: 30_000, confirm: false });
  return { pid, during, ...(r.noticedMs !== null ? { noticed: injectStart + r.noticedMs } : {}) };
}

async function untilNewWorker(k: Kindtray, old: number, timeoutMs: number): Promise<number | undefined> {
  const end = now() + timeoutMs;
  while (now() < end) {
    const h = await k.health(2_000);
    if (h && h.worker.pid !== undefined && h.worker.pid !== old && h.worker.state === 'healthy') return now();
    await sleep(50);
  }
  return undefined;
}

const workerBlocked: RowDef = {
  id: 'worker-blocked',
  fault: "API worker's event loop blocked (worker SIGSTOPped)",
  sees: 'server hung',
  fixText: 'restart (automatic after repeated misses)',
  bound: () => ({ ms: 3_000, text: '3 s' }),
  limitMs: () => withMargin(3_000),
  async run(stage) {
    const k = stage.server;
    const r = blank(this, stage.settings, 'server:hung', 'restart-server');
    if (!(await precondition(stage, r))) return finish(r);
    const { pid, during, noticed } = await freezeWorker(k, r, stage);
    try {
      const from = noticed ?? now();
      const back = await untilNewWorker(k, pid, 60_000);
      r.fixes.push({ id: 'restart-server', automatic: true, status: 0, ok: back !== undefined, message: 'the watchdog restarted the worker', ms: back === undefined ? -1 : round(back - from) });
      const ok = await untilHealthy(stage, 30_000, from);
      r.recoveredMs = ok === undefined ? null : round(ok - from);
      r.recovery = ok === undefined ? `no healthy worker: ${describe(k.feed.latest?.snapshot)}` : 'automatic restart by the watchdog';
      const d = await during;
      r.notes.push(`a request made to the frozen worker answered ${d.status} after ${d.ms} ms`);
      if (d.status === -1) r.violations.push('a request to the frozen worker got no answer within 60 s');
      if (isAlive(pid) && processesMatching('worker-main').includes(pid)) r.violations.push(`the frozen worker (pid ${pid}) is still alive`);
    } finally {
      signal(pid, 'SIGKILL');
    }
    return finish(r);
  },
};

const workerBlockedManual: RowDef = {
  id: 'worker-blocked-manual',
  fault: "API worker's event loop blocked, automatic restart off",
  sees: 'server hung',
  fixText: 'restart',
  bound: () => ({ ms: 3_000, text: '3 s' }),
  limitMs: () => withMargin(3_000),
  ownServer: true,
  async run(stage) {
    const settings: StageSettings = { ...stage.settings, watchdog: { ...stage.settings.watchdog, autoRestart: false } };
    const r = blank(this, settings, 'server:hung', 'restart-server');
    const k = await startKindtray(stage.bed, settings);
    stage.extra.push(k);
    try {
      const up = await k.feed.waitFor((s) => s.server.state === 'healthy' && s.docker.state === 'running', { timeoutMs: 30_000 });
      if (!up) r.notes.push(`own server not healthy before the row: ${describe(k.feed.latest?.snapshot)}`);
      const { pid, during } = await freezeWorker(k, r, undefined);
      try {
        await sleep(2_000);
        const still = await k.status();
        if (still?.server.state !== 'hung') r.violations.push(`2 s later the server shows ${still?.server.state}, not hung`);
        const fixStart = now();
        const a = await k.fix('restart-server', 60_000);
        r.fixes.push({ id: 'restart-server', ...a, ms: round(a.ms) });
        const back = await untilNewWorker(k, pid, 30_000);
        r.recoveredMs = back === undefined ? null : round(back - fixStart);
        r.recovery = back === undefined ? 'no new healthy worker after Restart server' : 'restart-server';
        const d = await during;
        r.notes.push(`a request made to the frozen worker answered ${d.status} after ${d.ms} ms`);
      } finally {
        signal(pid, 'SIGKILL');
      }
    } finally {
      await k.stop();
      stage.extra.splice(stage.extra.indexOf(k), 1);
    }
    return finish(r);
  },
};

const staleKindtrayRestart: RowDef = {
  id: 'stale-kindtray-restart',
  fault: 'port held by a stale Kindtray (frozen supervisor), `kindtray server restart`',
  sees: 'nothing: it is replaced',
  fixText: '—',
  bound: () => ({ ms: null, text: 'at start' }),
  limitMs: () => null,
  ownServer: true,
  async run(stage) {
    const r = blank(this, stage.settings, null, null);
    const old = await startKindtray(stage.bed, stage.settings);
    stage.extra.push(old);
    let fresh: Kindtray | undefined;
    try {
      const injectStart = now();
      signal(old.pid, 'SIGSTOP');
      const st = await kindtray(['server', 'status', '--json'], old.env, 30_000);
      const said = (() => {
        try {
          return JSON.parse(st.stdout) as { state: string; pid?: number };
        } catch {
          return undefined;
        }
      })();
      r.noticedMs = r.noticedFromInjectStartMs = round(now() - injectStart);
      r.problemId = said ? `kindtray server status: ${said.state}` : null;
      r.problemTitle = said ? `${said.state} (pid ${said.pid})` : st.stderr.trim().slice(0, 200);
      if (said?.state !== 'hung') r.violations.push(`kindtray server status said ${said?.state ?? st.stdout.slice(0, 200)}, not hung`);
      const restartAt = now();
      const rs = await kindtray(['server', 'restart', '--json'], old.env, 90_000);
      const after = (() => {
        try {
          return JSON.parse(rs.stdout) as { state: string; pid: number; port: number };
        } catch {
          return undefined;
        }
      })();
      r.fixes.push({ id: 'kindtray server restart', status: rs.code ?? -1, ok: rs.code === 0, message: (rs.stderr.trim() || rs.stdout.trim()).slice(0, 300), ms: round(rs.ms) });
      fresh = attachKindtray(old.home, old.env);
      if (fresh && fresh.pid !== old.pid) stage.extra.push(fresh);
      const h = fresh ? await fresh.health() : undefined;
      if (h?.status === 'ok' && fresh && fresh.pid !== old.pid) {
        r.recoveredMs = round(now() - restartAt);
        r.recovery = 'kindtray server restart';
      } else r.recovery = `no healthy new server: ${rs.stdout.slice(0, 200)} ${rs.stderr.slice(0, 200)}`;
      if (after && after.port !== old.port) r.violations.push(`the new server moved to port ${after.port} (was ${old.port})`);
      if (isAlive(old.pid) && processesMatching('bin.js').includes(old.pid)) r.violations.push(`the stale server (pid ${old.pid}) is still alive`);
      if (fresh) {
        const s = await fresh.feed.waitFor((x) => x.server.state !== 'restarting', { timeoutMs: 10_000 });
        if (s && s.snapshot.server.state !== 'healthy') r.violations.push(`the new server shows ${s.snapshot.server.state}`);
        r.notes.push(`new server pid ${fresh.pid} on port ${fresh.port} (old pid ${old.pid}, port ${old.port})`);
      }
    } finally {
      for (const k of [fresh, old]) {
        if (!k) continue;
        await k.stop();
        const i = stage.extra.indexOf(k);
        if (i >= 0) stage.extra.splice(i, 1);
      }
    }
    return finish(r);
  },
};

const staleKindtrayServe: RowDef = {
  id: 'stale-kindtray-at-start',
  fault: 'port held by a stale Kindtray (frozen supervisor), `kindtray serve` on that port',
  sees: 'nothing: it is replaced',
  fixText: '—',
  bound: () => ({ ms: null, text: 'at start' }),
  limitMs: () => null,
  ownServer: true,
  async run(stage) {
    const r = blank(this, stage.settings, null, null);
    const old = await startKindtray(stage.bed, stage.settings);
    stage.extra.push(old);
    let fresh: Kindtray | undefined;
    try {
      signal(old.pid, 'SIGSTOP');
      const startAt = now();
      fresh = await startKindtray(stage.bed, stage.settings, { port: old.port, home: old.home });
      stage.extra.push(fresh);
      r.noticedMs = r.noticedFromInjectStartMs = round(now() - startAt);
      r.problemId = fresh.port === old.port ? 'replaced at start (no problem shown)' : `moved to port ${fresh.port}`;
      r.fixes.push({ id: 'kindtray serve', status: 0, ok: true, message: `listening on ${fresh.port}`, ms: r.noticedMs });
      const s = await fresh.feed.waitFor((x) => x.server.state === 'healthy', { timeoutMs: 30_000 });
      if (s) {
        r.recoveredMs = round(s.at - startAt);
        r.recovery = 'replaced by the new kindtray serve';
      } else r.recovery = `new server not healthy: ${describe(fresh.feed.latest?.snapshot)}`;
      if (fresh.port !== old.port) r.violations.push(`the new server moved to port ${fresh.port} instead of replacing pid ${old.pid}`);
      if (isAlive(old.pid) && processesMatching('bin.js').includes(old.pid)) r.violations.push(`the stale server (pid ${old.pid}) is still alive`);
      const problems = s?.snapshot.problems.filter((p) => p.id.startsWith('server:')) ?? [];
      if (problems.length) r.violations.push(`the user sees ${problems.map((p) => p.id).join(', ')}`);
    } finally {
      for (const k of [fresh, old]) {
        if (!k) continue;
        await k.stop();
        const i = stage.extra.indexOf(k);
        if (i >= 0) stage.extra.splice(i, 1);
      }
    }
    return finish(r);
  },
};

const portHeldByOther: RowDef = {
  id: 'port-held-by-other',
  fault: 'port held by another program',
  sees: 'which program holds it',
  fixText: 'next free port',
  bound: () => ({ ms: null, text: 'at start' }),
  limitMs: () => null,
  ownServer: true,
  async run(stage) {
    const r = blank(this, stage.settings, 'server:port-conflict', null);
    const port = await freePort();
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => process.stdout.write('up\\n')); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let k: Kindtray | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('port holder did not start')), 15_000);
        holder.stdout?.once('data', () => {
          clearTimeout(t);
          resolve();
        });
      });
      const startAt = now();
      k = await startKindtray(stage.bed, stage.settings, { port });
      stage.extra.push(k);
      const listening = round(now() - startAt);
      const seen = await k.feed.waitFor((s) => s.server.state === 'port-conflict' && (s.server.cause ?? '').includes(`pid ${holder.pid}`), { since: startAt, timeoutMs: 30_000 });
      if (seen) {
        const p = seen.snapshot.problems.find((x) => x.id === 'server:port-conflict');
        r.noticedMs = r.noticedFromInjectStartMs = round(seen.at - startAt);
        r.problemId = p?.id ?? null;
        r.problemTitle = p ? `${p.title}: ${p.detail}` : null;
        r.fixOffered = p?.fix?.id ?? null;
        const s = await k.status();
        r.statusConfirmed = s?.server.state === 'port-conflict';
      } else r.notes.push(`last snapshot: ${describe(k.feed.latest?.snapshot)}`);
      r.fixes.push({ id: 'next free port (automatic)', status: 0, ok: k.port !== port, message: `listening on ${k.port} instead of ${port}`, ms: listening });
      const h = await k.health();
      r.recoveredMs = h?.status === 'ok' && k.port !== port ? listening : null;
      r.recovery = r.recoveredMs === null ? `not serving on another port: ${JSON.stringify(h)}` : `serving on port ${k.port} (wanted ${port}) from start`;
      if (holder.exitCode !== null || holder.signalCode !== null) r.violations.push('the program holding the port was stopped');
    } finally {
      holder.kill('SIGKILL');
      if (k) {
        await k.stop();
        stage.extra.splice(stage.extra.indexOf(k), 1);
      }
    }
    return finish(r);
  },
};

const launchDockerDown: RowDef = {
  id: 'launch-docker-down',
  fault: 'launch while Docker is down',
  sees: 'error on `resources` with cause',
  fixText: 'Start Docker',
  bound: () => ({ ms: DEADLINES.validation, text: `validation deadline (${DEADLINES.validation / 1000} s)` }),
  limitMs: () => withMargin(DEADLINES.validation),
  async run(stage) {
    const k = stage.server;
    const c = stage.dev;
    const r = blank(this, stage.settings, 'resources', 'start-docker');
    if (!(await precondition(stage, r))) return finish(r);
    await stage.bed.dockerd.stop();
    await k.feed.waitFor((s) => s.docker.state === 'stopped', { timeoutMs: 10_000 });
    const t0 = now();
    const refused = await k.launch(TASK(c.context), '', 30_000);
    r.noticedMs = r.noticedFromInjectStartMs = round(refused.ms);
    r.firstSignMs = r.noticedMs;
    r.problemId = refused.field ?? null;
    r.problemTitle = refused.error ?? null;
    r.fixOffered = refused.fixId ?? null;
    r.notes.push(`POST /api/tasks answered ${refused.status} in ${round(now() - t0)} ms: ${refused.error ?? ''}`);
    if (refused.status !== 422) r.violations.push(`the launch answered ${refused.status}, not 422`);
    if (!/^resources/.test(refused.field ?? '')) r.violations.push(`the error is on ${refused.field ?? 'no field'}, not resources`);
    if (!/docker/i.test(refused.error ?? '')) r.violations.push('the error does not name Docker as the cause');
    // The fixes offered, then the same launch again.
    await followFixes(stage, r, refused.fixId ?? 'start-docker');
    if (r.recoveredMs !== null) {
      const again = await k.launch(TASK(c.context));
      if (again.status !== 201 || !again.task) {
        r.violations.push(`after the fixes the same launch answered ${again.status}: ${again.error ?? ''}`);
      } else {
        const id = again.task.id;
        let state = again.task.state;
        const end = now() + 60_000;
        while (now() < end && state !== 'running' && state !== 'failed') {
          await sleep(200);
          state = (await k.task(id))?.state ?? state;
        }
        r.notes.push(`after the fixes the same launch was accepted (201) and reached ${state}`);
        if (state !== 'running') r.violations.push(`the relaunched task reached ${state}, not running`);
        await k.cancel(id);
      }
    }
    return finish(r);
  },
};

/** In the order they run: the stage's server first, rows with a server of their own last. */
export const ROWS: RowDef[] = [
  dockerStopped,
  launchDockerDown,
  socketNotPermitted,
  dockerUnresponsive,
  nodeStopped,
  apiHangs,
  danglingContext,
  staleEndpoint,
  credentialPlugin,
  workerBlocked,
  workerBlockedManual,
  staleKindtrayRestart,
  staleKindtrayServe,
  portHeldByOther,
];

/** Runs a row; a row that throws is recorded as a failed row, never stops the matrix. */
export async function runRow(def: RowDef, stage: Stage, ctx: RowContext): Promise<RowResult> {
  const started = now();
  try {
    const r = await def.run(stage, ctx);
    stage.log(`${def.id}: ${r.ok ? 'ok' : `VIOLATIONS: ${r.violations.join('; ')}`}${r.findings.length ? ` FINDINGS: ${r.findings.join('; ')}` : ''} (noticed ${r.noticedMs ?? '-'} ms, recovered ${r.recoveredMs ?? '-'} ms; row took ${round(now() - started)} ms)`);
    return r;
  } catch (e) {
    const r = blank(def, stage.settings, null, null);
    r.violations.push(`the row broke: ${(e as Error).stack ?? String(e)}`);
    r.recovery = 'row broke';
    stage.log(`${def.id}: BROKE: ${(e as Error).message}`);
    await heal(stage).catch(() => undefined);
    return finish(r);
  }
}

const median = (xs: number[]): number | null => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? (v[Math.floor((v.length - 1) / 2)] ?? null) : null;
};

/** Runs a row `times` times (at most its maxRuns) and reports the worst of each figure, with the medians and every run. */
export async function runRowRepeated(def: RowDef, stage: Stage, ctx: RowContext, times: number): Promise<RowResult> {
  const n = Math.max(1, Math.min(times, def.maxRuns ?? times));
  const runs: RowResult[] = [];
  for (let i = 0; i < n; i++) {
    const r = await runRow(def, stage, ctx);
    runs.push(r);
    if (!r.reproducible) return r;
  }
  if (runs.length === 1) return runs[0] as RowResult;
  const last = runs[runs.length - 1] as RowResult;
  const worst = (pick: (r: RowResult) => number | null) => (runs.some((r) => pick(r) === null) ? null : Math.max(...runs.map((r) => pick(r) ?? 0)));
  const merged: RowResult = {
    ...last,
    noticedMs: worst((r) => r.noticedMs),
    noticedFromInjectStartMs: worst((r) => r.noticedFromInjectStartMs),
    firstSignMs: worst((r) => r.firstSignMs),
    recoveredMs: worst((r) => r.recoveredMs),
    noticedMedianMs: median(runs.flatMap((r) => (r.noticedMs === null ? [] : [r.noticedMs]))),
    recoveredMedianMs: median(runs.flatMap((r) => (r.recoveredMs === null ? [] : [r.recoveredMs]))),
    statusConfirmed: runs.every((r) => r.statusConfirmed !== false) ? last.statusConfirmed : false,
    violations: [...new Set(runs.flatMap((r, i) => r.violations.map((v) => `run ${i + 1}: ${v}`)))],
    findings: [...new Set(runs.flatMap((r, i) => r.findings.map((v) => `run ${i + 1}: ${v}`)))],
    notes: [...new Set(runs.flatMap((r, i) => r.notes.map((v) => `run ${i + 1}: ${v}`)))],
    runs: runs.map((r) => ({ noticedMs: r.noticedMs, recoveredMs: r.recoveredMs, ok: r.ok, fixes: r.fixes.map((f) => `${f.id}${f.ok ? '' : ' (failed)'}`) })),
  };
  merged.ok = merged.violations.length === 0;
  return merged;
}
