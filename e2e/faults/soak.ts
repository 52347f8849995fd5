// The chaos soak: random faults on a real testbed while tasks are launched and
// cancelled all the time, with `kindtray serve` as a real process. After every
// step it checks Kindtray's three promises:
//
//  - it never lies about state: the snapshot comes to show the reality this
//    run injected (a model of Docker, each node container, each API, the
//    kubeconfig and the worker), stays showing it, and does so within the limit
//    for that kind of change (below);
//  - it never loses a task: every launch answered 201 is listed, and its state
//    agrees with what the cluster has (read straight from the API, not through
//    Kindtray) once the cluster can be asked, within a grace period;
//  - it does not leak: its child processes, the supervisor's open file
//    descriptors and the resident memory of the whole tree stay bounded.
//
// "Time to truth" is from the end of the step's action (the call that made the
// fault or cleared it) to the first snapshot on the event stream from which on
// the shown state matched reality for `hold` ms; a state that matches for an
// instant and flips back does not count as truth. A match seen during the
// action counts as 0. Limits per kind of change:
//   fault appears:  the design table's bound (1 s Docker / node; probe
//                   interval + deadline for API and credentials; next probe
//                   for kubeconfig; 3 s for the worker), plus room for a loaded
//                   machine (margin() of rows.ts);
//   Docker frozen:  as the Docker rows, 1 s (the liveness beat finds it);
//   node started while its API is dead: the cluster is *starting* for its
//                   grace (GRACE.clusterStart), then the real cause by the next probe;
//   fault cleared:  the table sets no bound; the probe backoff ceiling (30 s)
//                   plus a deadline, Docker's down-ping ceiling (5 s) plus its
//                   deadline. Reported in full, including how many took > 1 s.
//
// The random choices come from a seeded generator; the seed is printed, and
// SOAK_SEED replays the same choices (timings on a loaded machine still vary).
//
// Apart from those checks, every snapshot shown past a step's bound (its
// limit after the action, until the next action) is judged against the truth
// (soak-verdicts.ts) and counted as false greens, false reds and wrong fixes:
// each must be 0.
// Every loop is bounded in count and in time; everything is on 127.0.0.1.

import type { TaskRecord } from '../../shared/api.ts';
import { isFinalTaskState } from '../../shared/api.ts';
import { DEADLINES, GRACE, INTERVALS, TASK_LABEL } from '../../shared/constants.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { setContextServer, setContextServerPort, setCurrentContext, type Cluster } from '../testbed/index.ts';
import { margin } from './rows.ts';
import { Verdicts, type VerdictCounts } from './soak-verdicts.ts';
import {
  descendants,
  describe as describeSnapshot,
  disposeStage,
  heal,
  now,
  openFds,
  round,
  rssKiB,
  setupStage,
  signal,
  sleep,
  untilHealthy,
  type FaultBed,
  type Stage,
  type StageSettings,
} from './stage.ts';

// ---------------------------------------------------------------------------
// Seeded randomness

export function rng(seed: number): { next: () => number; int: (lo: number, hi: number) => number; pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean } {
  let a = seed >>> 0;
  const next = () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
    chance: (p) => next() < p,
  };
}

// ---------------------------------------------------------------------------
// Reality, as this run made it

type ApiFault = 'none' | 'hang' | 'slow-ok' | 'slow-dead';

interface Reality {
  docker: 'running' | 'stopped' | 'frozen';
  node: Map<string, boolean>;
  api: Map<string, ApiFault>;
  /** kubeconfig names a port the cluster does not publish. */
  stale: Map<string, boolean>;
  /** current-context names nothing. */
  dangling: boolean;
}

const GHOST = 'kind-soak-nothing';

/** What the snapshot must say, given reality: a list of named checks. */
function expectations(stage: Stage, r: Reality): { what: string; ok: (s: HealthSnapshot) => boolean }[] {
  const out: { what: string; ok: (s: HealthSnapshot) => boolean }[] = [];
  const dockerState = r.docker === 'running' ? 'running' : r.docker === 'stopped' ? 'stopped' : 'unresponsive';
  out.push({ what: `docker ${dockerState}`, ok: (s) => s.docker.state === dockerState });
  let allGood = r.docker === 'running' && !r.dangling;
  for (const c of stage.clusters) {
    const nodeUp = r.node.get(c.name) ?? true;
    const api = r.api.get(c.name) ?? 'none';
    const stale = r.stale.get(c.name) ?? false;
    let cluster: string;
    // A stale port is only provable while the container publishes one: with the cluster down, either word is true.
    let context: string[];
    if (r.docker !== 'running') {
      cluster = 'unknown';
      context = stale ? ['stale-endpoint', 'unreachable'] : ['unreachable'];
    } else if (!nodeUp) {
      cluster = 'stopped';
      context = stale ? ['stale-endpoint', 'unreachable'] : ['unreachable'];
    } else if (api === 'hang' || api === 'slow-dead') {
      cluster = 'unreachable';
      context = ['unreachable'];
    } else {
      cluster = 'running';
      context = stale ? ['stale-endpoint'] : ['ok'];
    }
    if (cluster !== 'running' || context[0] !== 'ok') allGood = false;
    out.push({ what: `cluster ${c.name} ${cluster}`, ok: (s) => s.clusters.find((x) => x.name === c.name)?.state === cluster });
    out.push({ what: `context ${c.context} ${context.join('|')}`, ok: (s) => context.includes(s.contexts.find((x) => x.name === c.context)?.state ?? '') });
  }
  out.push({ what: `current-context ${r.dangling ? 'dangling' : 'fine'}`, ok: (s) => s.problems.some((p) => p.id === `context:${GHOST}:dangling`) === r.dangling });
  out.push({ what: 'worker healthy', ok: (s) => s.server.state === 'healthy' });
  // No green while broken, no red while healthy.
  out.push({ what: `overall ${allGood ? 'ok' : 'not ok'}`, ok: (s) => (s.overall === 'ok') === allGood });
  return out;
}

const mismatches = (stage: Stage, r: Reality, s: HealthSnapshot): string[] => expectations(stage, r).filter((e) => !e.ok(s)).map((e) => e.what);

// ---------------------------------------------------------------------------
// The report

export interface StepRecord {
  n: number;
  atS: number;
  action: string;
  kind: string;
  /** How long the action itself took. */
  actionMs: number;
  limitMs: number;
  /** null: never shown within the wait. */
  truthMs: number | null;
  ok: boolean;
  problems: string[];
}

export interface SoakReport {
  seed: number;
  seconds: number;
  excluded: string[];
  settings: { probe: StageSettings['probe']; watchdog: StageSettings['watchdog'] };
  steps: number;
  faultsInjected: number;
  faultsByKind: Record<string, number>;
  checks: { passed: number; failed: number; byKind: Record<string, { passed: number; failed: number }> };
  failures: string[];
  timeToTruth: {
    worstMs: number;
    worstStep: string;
    over1s: number;
    measured: number;
    byKind: Record<string, { n: number; medianMs: number; worstMs: number; over1s: number; limitMs: number }>;
  };
  /** States shown for a while, after truth, that did not match reality (each a failed check too). */
  flaps: string[];
  /** Past each step's bound: things shown green while broken, red while healthy, and fixes that do not mend what is broken (each once per step). */
  verdicts: VerdictCounts;
  tasks: {
    launched: number;
    acknowledged: number;
    refused: number;
    unanswered: number;
    cancelled: number;
    lost: number;
    lostIds: string[];
    inconsistentAtEnd: number;
    /** Longest time a task's state disagreed with its cluster while the cluster could be asked. */
    worstLagMs: number;
    /** Pods still running on a cluster for tasks that Kindtray shows as ended, at the end. */
    leftoverPodsAtEnd: number;
    byState: Record<string, number>;
  };
  fixes: { run: number; failed: number; failures: string[] };
  /** Injections the testbed failed to make (not Kindtray's doing). */
  actionErrors: string[];
  leaks: {
    baseline: { children: number; fds: number; rssMiB: number };
    max: { children: number; fds: number; rssMiB: number };
    end: { children: number; fds: number; rssMiB: number };
    samples: { atS: number; children: number; fds: number; rssMiB: number }[];
  };
  durationMs: number;
}

// ---------------------------------------------------------------------------
// The run

export interface SoakOptions {
  seconds: number;
  seed: number;
  settings?: Partial<Omit<StageSettings, 'dockerStartCommand'>>;
  log?: (line: string) => void;
  /** Longest calm (dwell) after each step's truth, in ms. */
  dwellMaxMs?: number;
  /** At most this many tasks launched in all. */
  maxTasks?: number;
  /** How long each task runs (`sleep N`), in seconds: [lo, hi]. */
  taskSeconds?: [number, number];
  /** Fault kinds never injected (e.g. 'docker-freeze'). */
  exclude?: string[];
}

interface Tracked {
  id: string;
  cluster: string;
  ackAt: number;
  /** When its state was first seen disagreeing with the cluster (while the cluster could be asked). */
  inconsistentSince?: number;
  failedCheck?: boolean;
}

export async function runSoak(bed: FaultBed, opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => undefined);
  const R = rng(opts.seed);
  const started = now();
  const stage = await setupStage(bed, { settings: opts.settings ?? {}, log, tag: `s${opts.seed % 1000}`, drift: false });
  const k = stage.server;
  const settings = stage.settings;
  const hold = settings.probe.deadlineMs + 1_000;
  const graceMs = INTERVALS.kubeProbeMaxBackoff + 10_000;
  const endAt = started + opts.seconds * 1_000;
  const dwellMax = opts.dwellMaxMs ?? 4_000;
  const maxTasks = opts.maxTasks ?? 400;

  const reality: Reality = {
    docker: 'running',
    node: new Map(stage.clusters.map((c) => [c.name, true])),
    api: new Map(stage.clusters.map((c) => [c.name, 'none' as ApiFault])),
    stale: new Map(stage.clusters.map((c) => [c.name, false])),
    dangling: false,
  };

  /** The clusters running when Docker was last stopped: the ones Start Docker brings back. */
  let runningBeforeDockerStop = new Set<string>();

  const steps: StepRecord[] = [];
  const failures: string[] = [];
  const flaps: string[] = [];
  const checks = { passed: 0, failed: 0, byKind: {} as Record<string, { passed: number; failed: number }> };
  const check = (kind: string, ok: boolean, failure?: string) => {
    const b = (checks.byKind[kind] ??= { passed: 0, failed: 0 });
    if (ok) {
      checks.passed++;
      b.passed++;
    } else {
      checks.failed++;
      b.failed++;
      if (failure) {
        failures.push(failure);
        log(`CHECK FAILED ${failure}`);
      }
    }
  };
  const faultsByKind: Record<string, number> = {};
  const actionErrors: string[] = [];
  const fixes = { run: 0, failed: 0, failures: [] as string[] };

  // --- leaks
  const sampleLeaks = () => {
    const kids = descendants(k.pid);
    const rss = [k.pid, ...kids].reduce((a, p) => a + (rssKiB(p) ?? 0), 0);
    return { atS: round((now() - started) / 1000), children: kids.length, fds: openFds(k.pid) ?? 0, rssMiB: Math.round(rss / 1024) };
  };
  // The baseline is taken after the first step, when the worker's Kubernetes child has started with the first launch.
  let baseline = sampleLeaks();
  const leakSamples = [baseline];

  // --- tasks, in the background
  const tracked = new Map<string, Tracked>();
  const taskCounts = { launched: 0, acknowledged: 0, refused: 0, unanswered: 0, cancelled: 0 };
  let worstLagMs = 0;
  let tasksRunning = true;
  const T = rng(opts.seed ^ 0x5eed);
  const taskLoop = (async () => {
    while (tasksRunning && taskCounts.launched < maxTasks) {
      await sleep(T.int(800, 2_500));
      if (!tasksRunning) break;
      if (T.chance(0.3)) {
        // Cancel one that is not over yet.
        const live = [...tracked.values()].filter((t) => !t.failedCheck);
        const pickFrom = live.slice(-20);
        if (pickFrom.length) {
          const t = T.pick(pickFrom);
          const a = await k.cancel(t.id, 30_000);
          if (a.status === 200) taskCounts.cancelled++;
        }
        continue;
      }
      const c = T.pick(stage.clusters);
      const whenReady = T.chance(0.3);
      const sleepS = T.int(opts.taskSeconds?.[0] ?? 3, opts.taskSeconds?.[1] ?? 40);
      const yaml = `name: soak-${taskCounts.launched}\nresources:\n  infra: k8s/${c.context}\nrun: echo soak; sleep ${sleepS}\n`;
      taskCounts.launched++;
      const a = await k.launch(yaml, whenReady ? '?when_ready=1' : '', 20_000);
      if (a.status === 201 && a.task) {
        taskCounts.acknowledged++;
        tracked.set(a.task.id, { id: a.task.id, cluster: c.name, ackAt: now() });
      } else if (a.status === -1) {
        taskCounts.unanswered++;
        log(`launch got no answer in 20 s: ${a.error ?? ''}`);
      } else taskCounts.refused++;
    }
  })();

  /** Pods of tasks on a cluster, by task id, read straight from its API (admin certificate). */
  const podsOf = async (c: Cluster): Promise<Map<string, string> | undefined> => {
    try {
      const r = await c.apiRequest(`/api/v1/pods?labelSelector=${encodeURIComponent(TASK_LABEL)}`, { timeoutMs: 3_000 });
      if (r.statusCode !== 200) return undefined;
      const list = JSON.parse(r.body) as { items: { metadata: { labels?: Record<string, string> }; status?: { phase?: string } }[] };
      const m = new Map<string, string>();
      for (const p of list.items) {
        const id = p.metadata.labels?.[TASK_LABEL];
        if (id) m.set(id, p.status?.phase ?? 'Unknown');
      }
      return m;
    } catch {
      return undefined;
    }
  };

  /** Whether Kindtray can reach the cluster now (its route: Docker up, node up, API answering, kubeconfig right). */
  const askable = (c: Cluster) =>
    reality.docker === 'running' &&
    reality.node.get(c.name) === true &&
    reality.stale.get(c.name) !== true &&
    (reality.api.get(c.name) === 'none' || reality.api.get(c.name) === 'slow-ok');

  /** Whether a task's state agrees with its cluster's pods. */
  const consistent = (t: TaskRecord, phase: string | undefined): boolean => {
    const leftoverSaid = /may still exist on/.test(t.reason ?? '');
    switch (t.state) {
      case 'running':
        return phase === 'Running';
      case 'waiting':
        return phase === undefined;
      case 'pending':
      case 'launching':
        return phase === undefined || phase === 'Pending' || phase === 'Running';
      case 'succeeded':
        return phase === undefined || phase === 'Succeeded';
      case 'failed':
      case 'cancelled':
        return phase !== 'Running' && phase !== 'Pending' ? true : leftoverSaid;
    }
  };

  /** Lost and consistency checks. Returns the tasks listed, or undefined when the list could not be had. */
  const checkTasks = async (final = false): Promise<TaskRecord[] | undefined> => {
    let list: TaskRecord[] | undefined;
    for (let i = 0; i < 20 && !list; i++) {
      list = await k.tasks(10_000);
      if (!list) await sleep(500);
    }
    if (!list) {
      check('tasks-listed', false, `GET /api/tasks failed for 10 s`);
      return undefined;
    }
    const byId = new Map(list.map((t) => [t.id, t]));
    const lost = [...tracked.keys()].filter((id) => !byId.has(id));
    check('tasks-listed', lost.length === 0, lost.length ? `${lost.length} acknowledged task(s) not listed: ${lost.slice(0, 5).join(', ')}` : undefined);
    for (const c of stage.clusters) {
      if (!askable(c)) {
        // The lag counts only while Kindtray could know better.
        for (const t of tracked.values()) if (t.cluster === c.name) t.inconsistentSince = undefined;
        continue;
      }
      const pods = await podsOf(c);
      if (!pods) continue;
      for (const t of tracked.values()) {
        if (t.cluster !== c.name) continue;
        const rec = byId.get(t.id);
        if (!rec) continue;
        const ok = consistent(rec, pods.get(t.id));
        if (ok) {
          if (t.inconsistentSince !== undefined) worstLagMs = Math.max(worstLagMs, now() - t.inconsistentSince);
          t.inconsistentSince = undefined;
          continue;
        }
        t.inconsistentSince ??= now();
        const lag = now() - t.inconsistentSince;
        worstLagMs = Math.max(worstLagMs, lag);
        if ((lag > graceMs || final) && !t.failedCheck) {
          t.failedCheck = true;
          check('task-consistent', false, `task ${t.id} on ${c.name}: Kindtray says ${rec.state}${rec.reason ? ` (${rec.reason.slice(0, 120)})` : ''}, the cluster has ${pods.get(t.id) ?? 'no pod'}, for ${round(lag)} ms`);
        }
      }
    }
    return list;
  };

  // --- false greens, false reds, wrong fixes: what was shown from a step's bound until the next action
  const verdicts = new Verdicts();
  let window: { label: string; from: number; judgeServer: boolean } | undefined;
  const judgeWindow = (until: number) => {
    if (!window || until <= window.from) return;
    const { label, from, judgeServer } = window;
    const seen = k.feed.seen;
    // The snapshot on screen at the bound, then every one shown after it.
    const atBound = [...seen].reverse().find((x) => x.at <= from);
    const shown = [...(atBound ? [atBound] : []), ...seen.filter((x) => x.at > from && x.at < until)].map((x) => x.snapshot);
    const j = verdicts.add(label, shown, reality, stage.clusters, judgeServer);
    const wrong = [...j.falseGreen.map((w) => `false green: ${w}`), ...j.falseRed.map((w) => `false red: ${w}`), ...j.wrongFix.map((w) => `wrong fix: ${w}`)];
    if (wrong.length) log(`${label}: past its bound ${wrong.join('; ')}`);
  };

  // --- one step: act, then wait for truth, then dwell and watch it stay true
  let stepNo = 0;
  const step = async (action: string, kind: string, limitMs: number, act: () => Promise<void>, worker?: { pid: number }) => {
    stepNo++;
    const n = stepNo;
    faultsByKind[kind] = (faultsByKind[kind] ?? 0) + 1;
    const actStart = now();
    // The previous step's window ends as this action begins (reality is still that step's).
    judgeWindow(actStart);
    try {
      await act();
    } catch (e) {
      // The testbed failing is not Kindtray failing: recorded apart, and the run goes on.
      actionErrors.push(`step ${n} ${action}: ${(e as Error).message.split('\n')[0]}`);
      log(`step ${n} ${action}: the action failed: ${(e as Error).message.split('\n')[0]}`);
    }
    const actEnd = now();
    window = { label: `step ${n} ${action}`, from: actEnd + limitMs, judgeServer: !worker };
    const rec: StepRecord = { n, atS: round((actStart - started) / 1000), action, kind, actionMs: round(actEnd - actStart), limitMs, truthMs: null, ok: false, problems: [] };
    const waitMax = Math.max(limitMs + 30_000, 45_000);
    let truthAt: number | undefined;
    if (worker) {
      // The worker frozen: the server must say so (it may be for an instant, then restarting), then be healthy with a new worker.
      const seen = await k.feed.waitFor((s) => s.server.state === 'hung', { since: actStart, timeoutMs: waitMax });
      truthAt = seen?.at;
      const back = await (async () => {
        const end = now() + 60_000;
        while (now() < end) {
          const h = await k.health(2_000);
          if (h?.worker.pid !== undefined && h.worker.pid !== worker.pid && h.worker.state === 'healthy') return true;
          await sleep(100);
        }
        return false;
      })();
      signal(worker.pid, 'SIGKILL');
      if (!back) rec.problems.push('no new healthy worker within 60 s');
      check('worker-replaced', back, back ? undefined : `step ${n} ${action}: no new healthy worker within 60 s`);
    }
    // Truth: from the first snapshot after which the shown state matches reality for `hold` ms.
    const deadline = actEnd + waitMax;
    let candidate = k.feed.seen.filter((x) => x.at >= actStart).find((x) => mismatches(stage, reality, x.snapshot).length === 0)?.at;
    let stableAt: number | undefined;
    while (now() < deadline) {
      if (candidate === undefined) {
        const seen = await k.feed.waitFor((s) => mismatches(stage, reality, s).length === 0, { since: now(), timeoutMs: Math.max(0, deadline - now()) });
        if (!seen) break;
        candidate = seen.at;
      }
      const broke = await k.feed.waitFor((s) => mismatches(stage, reality, s).length > 0, { since: candidate, timeoutMs: Math.max(0, candidate + hold - now()) });
      if (!broke) {
        stableAt = candidate;
        if (!worker) truthAt = candidate;
        break;
      }
      candidate = undefined;
    }
    if (worker && stableAt === undefined) truthAt = undefined;
    rec.truthMs = truthAt === undefined ? null : Math.max(0, round(truthAt - actEnd));
    const truthOk = rec.truthMs !== null && rec.truthMs <= limitMs && (!worker || stableAt !== undefined);
    if (rec.truthMs === null || stableAt === undefined) {
      const last = k.feed.latest?.snapshot;
      rec.problems.push(`not shown within ${round(waitMax)} ms: ${last ? mismatches(stage, reality, last).join(', ') : 'no snapshot'}; shown: ${describeSnapshot(last)}`);
    } else if (!truthOk) rec.problems.push(`shown after ${rec.truthMs} ms, limit ${limitMs} ms`);
    check(`truth:${kind}`, truthOk, truthOk ? undefined : `step ${n} ${action}: ${rec.problems.join('; ')}`);
    // Dwell: the shown state must stay true (no flapping, no lies) until the next step.
    if (stableAt !== undefined) {
      const dwell = R.int(500, dwellMax);
      const dwellFrom = now();
      const flip = await k.feed.waitFor((s) => mismatches(stage, reality, s).length > 0, { since: stableAt, timeoutMs: dwell });
      let steadyOk = true;
      if (flip) {
        const what = mismatches(stage, reality, flip.snapshot);
        // How long it lasted (bounded).
        const back = await k.feed.waitFor((s) => mismatches(stage, reality, s).length === 0, { since: flip.at, timeoutMs: 60_000 });
        const lasted = back ? round(back.at - flip.at) : null;
        const msg = `step ${n} ${action}: ${round(flip.at - stableAt)} ms after truth the server showed ${what.join(', ')} wrong for ${lasted ?? '> 60000'} ms (${describeSnapshot(flip.snapshot)})`;
        flaps.push(msg);
        steadyOk = false;
        rec.problems.push(msg);
        check(`steady:${kind}`, false, msg);
      }
      if (steadyOk) {
        check(`steady:${kind}`, true);
        const left = dwell - (now() - dwellFrom);
        if (left > 0) await sleep(left);
      }
    }
    rec.ok = rec.problems.length === 0;
    steps.push(rec);
    log(`step ${n} @${rec.atS}s ${action}: truth ${rec.truthMs ?? '-'} ms (limit ${limitMs})${rec.ok ? '' : ` — ${rec.problems.join('; ')}`}`);
    await checkTasks();
    const l = sampleLeaks();
    leakSamples.push(l);
    if (n === 1) baseline = l;
  };

  // --- limits
  const appearProbe = settings.probe.intervalMs + settings.probe.deadlineMs;
  const L = {
    docker: 1_000 + margin(1_000),
    dockerFrozen: 1_000 + margin(1_000),
    dockerBack: 5_000 + DEADLINES.docker + margin(5_000),
    node: 1_000 + margin(1_000),
    probe: appearProbe + margin(appearProbe),
    nextProbe: settings.probe.intervalMs + margin(settings.probe.intervalMs),
    cleared: INTERVALS.kubeProbeMaxBackoff + settings.probe.deadlineMs + margin(5_000),
    startedDead: GRACE.clusterStart + appearProbe + margin(appearProbe),
    worker: 3_000 + margin(3_000),
  };

  // --- the actions
  const { dockerd } = bed;
  const viaFix = async (id: string) => {
    const a = await k.fix(id, 120_000);
    fixes.run++;
    if (!a.ok) {
      fixes.failed++;
      fixes.failures.push(`${id}: ${a.status} ${a.message}`);
      check('fix', false, `fix ${id} answered ${a.status}: ${a.message}`);
    } else check('fix', true);
    return a.ok;
  };

  type Action = { name: string; kind: string; limit: number; run: () => Promise<void>; worker?: { pid: number } };
  const candidates = async (): Promise<Action[]> => {
    const active =
      (reality.docker !== 'running' ? 1 : 0) +
      [...reality.node.values()].filter((v) => !v).length +
      [...reality.api.values()].filter((v) => v !== 'none').length +
      [...reality.stale.values()].filter(Boolean).length +
      (reality.dangling ? 1 : 0);
    const heals: Action[] = [];
    const faults: Action[] = [];
    if (reality.docker === 'running') {
      faults.push({
        name: 'dockerd stop',
        kind: 'docker-stop',
        limit: L.docker,
        run: async () => {
          reality.docker = 'stopped';
          runningBeforeDockerStop = new Set(stage.clusters.filter((c) => reality.node.get(c.name)).map((c) => c.name));
          for (const c of stage.clusters) reality.node.set(c.name, false);
          await dockerd.stop();
        },
      });
      faults.push({
        name: 'dockerd freeze',
        kind: 'docker-freeze',
        limit: L.dockerFrozen,
        run: async () => {
          reality.docker = 'frozen';
          dockerd.freeze();
        },
      });
    } else if (reality.docker === 'stopped') {
      // Start Docker also starts the clusters that were running before Docker went down (restartClustersWithDocker,
      // on by default) and waits for each API: offered as a user would follow it, when those APIs will answer.
      const comesBack = stage.clusters.filter((c) => runningBeforeDockerStop.has(c.name));
      const useFix = comesBack.every((c) => ['none', 'slow-ok'].includes(reality.api.get(c.name) ?? 'none')) && R.chance(0.5);
      heals.push({
        name: useFix ? 'fix start-docker' : 'dockerd start',
        kind: 'docker-start',
        limit: L.dockerBack,
        run: async () => {
          reality.docker = 'running';
          if (useFix && (await viaFix('start-docker'))) {
            for (const c of comesBack) reality.node.set(c.name, true);
          } else if (!dockerd.isRunning()) await dockerd.start();
        },
      });
    } else {
      heals.push({
        name: 'dockerd thaw',
        kind: 'docker-thaw',
        limit: L.dockerBack,
        run: async () => {
          reality.docker = 'running';
          dockerd.thaw();
        },
      });
    }
    for (const c of stage.clusters) {
      const api = reality.api.get(c.name) ?? 'none';
      const stale = reality.stale.get(c.name) ?? false;
      if (reality.docker === 'running') {
        if (reality.node.get(c.name)) {
          faults.push({
            name: `docker stop ${c.name}`,
            kind: 'node-stop',
            limit: L.node,
            run: async () => {
              reality.node.set(c.name, false);
              await c.stopNode();
            },
          });
        } else {
          // The fix waits for the API to answer: only offered to a user when it will (no API fault waiting behind it).
          const useFix = (api === 'none' || api === 'slow-ok') && R.chance(0.5);
          heals.push({
            name: useFix ? `fix start-cluster:${c.name}` : `docker start ${c.name}`,
            kind: 'node-start',
            // An API that will not answer: the cluster is starting for its grace, then the real cause.
            limit: api === 'none' || api === 'slow-ok' ? L.cleared : L.startedDead,
            run: async () => {
              reality.node.set(c.name, true);
              if (useFix && (await viaFix(`start-cluster:${c.name}`))) {
                // The fix repairs a context whose kubeconfig names a port the started container does not publish.
                reality.stale.set(c.name, false);
              } else await dockerd.api.startContainer(c.controlPlane.id);
            },
          });
        }
      }
      if (!stale) {
        if (api === 'none') {
          faults.push({ name: `api ${c.name} hang`, kind: 'api-hang', limit: L.probe, run: async () => void (reality.api.set(c.name, 'hang'), await c.setFault('hang')) });
          faults.push({
            name: `api ${c.name} slow 3 s`,
            kind: 'api-slow-dead',
            limit: L.probe,
            run: async () => void (reality.api.set(c.name, 'slow-dead'), await c.setFault({ kind: 'slow', delayMs: settings.probe.deadlineMs + 1_000 })),
          });
          faults.push({
            name: `api ${c.name} slow 200 ms`,
            kind: 'api-slow-ok',
            limit: L.probe,
            run: async () => void (reality.api.set(c.name, 'slow-ok'), await c.setFault({ kind: 'slow', delayMs: 200 })),
          });
        } else {
          heals.push({
            name: `api ${c.name} answers again`,
            kind: api === 'slow-ok' ? 'api-fast-again' : 'api-cleared',
            limit: api === 'slow-ok' ? L.probe : L.cleared,
            run: async () => void (reality.api.set(c.name, 'none'), await c.setFault('none')),
          });
        }
      }
      if (api === 'none') {
        if (!stale) {
          faults.push({
            name: `kubeconfig ${c.context} port edited`,
            kind: 'kubeconfig-stale',
            limit: L.nextProbe,
            run: async () => {
              reality.stale.set(c.name, true);
              await setContextServerPort(c.kubeconfigPath, c.context, c.apiPort + 1_000 > 65_000 ? c.apiPort - 1_000 : c.apiPort + 1_000);
            },
          });
        } else {
          const useFix = reality.docker === 'running' && reality.node.get(c.name) === true && R.chance(0.5);
          heals.push({
            name: useFix ? `fix repair-context:${c.context}` : `kubeconfig ${c.context} port put back`,
            kind: 'kubeconfig-repaired',
            limit: L.probe,
            run: async () => {
              reality.stale.set(c.name, false);
              if (!useFix || !(await viaFix(`repair-context:${c.context}`))) await setContextServer(c.kubeconfigPath, c.context, c.apiServer);
            },
          });
        }
      }
    }
    if (!reality.dangling) {
      faults.push({
        name: 'current-context dangling',
        kind: 'kubeconfig-dangling',
        limit: L.nextProbe,
        run: async () => {
          reality.dangling = true;
          await setCurrentContext(bed.kubeconfigPath, GHOST);
        },
      });
    } else {
      heals.push({
        name: 'current-context put back',
        kind: 'kubeconfig-current',
        limit: L.nextProbe,
        run: async () => {
          reality.dangling = false;
          await setCurrentContext(bed.kubeconfigPath, stage.dev.context);
        },
      });
    }
    const h = await k.health();
    if (h?.worker.pid && h.worker.state === 'healthy') {
      const pid = h.worker.pid;
      faults.push({ name: `worker ${pid} frozen`, kind: 'worker-freeze', limit: L.worker, worker: { pid }, run: async () => signal(pid, 'SIGSTOP') });
    }
    // The frozen engine must not stay frozen for long; several faults at once lean towards healing.
    if (reality.docker === 'frozen') return heals.filter((a) => a.kind === 'docker-thaw');
    const allowed = faults.filter((a) => !opts.exclude?.includes(a.kind));
    const healWeight = active === 0 ? 0 : active === 1 ? 0.4 : 0.75;
    return heals.length && (R.chance(healWeight) || allowed.length === 0) ? heals : allowed;
  };

  log(`soak: seed ${opts.seed}, ${opts.seconds} s, limits ${JSON.stringify(L)}${opts.exclude?.length ? `, never: ${opts.exclude.join(', ')}` : ''}`);
  try {
    while (now() < endAt) {
      const options = await candidates();
      // A kind first, then one of its actions: every kind of fault gets its turn, whatever the number of clusters.
      const kinds = [...new Set(options.map((o) => o.kind))];
      const kind = R.pick(kinds);
      const a = R.pick(options.filter((o) => o.kind === kind));
      await step(a.name, a.kind, a.limit, a.run, a.worker);
    }
  } finally {
    tasksRunning = false;
  }
  judgeWindow(now());
  window = undefined;
  await taskLoop;

  // --- the end: everything healed, then the last checks with grace
  log('soak: healing everything for the final checks');
  dockerd.thaw();
  reality.docker = 'running';
  await heal(stage);
  for (const c of stage.clusters) {
    reality.node.set(c.name, true);
    reality.api.set(c.name, 'none');
    reality.stale.set(c.name, false);
  }
  reality.dangling = false;
  const healedAt = now();
  const backAt = await untilHealthy(stage, 90_000, healedAt);
  check('final-healthy', backAt !== undefined, backAt === undefined ? `not healthy 90 s after the final heal: ${describeSnapshot(k.feed.latest?.snapshot)}` : undefined);
  // Tasks: give the launcher its grace to catch up with the clusters, then judge.
  let finalList: TaskRecord[] | undefined;
  const finalEnd = now() + graceMs;
  for (;;) {
    finalList = await k.tasks(10_000);
    const byId = new Map((finalList ?? []).map((t) => [t.id, t]));
    let allConsistent = true;
    for (const c of stage.clusters) {
      const pods = await podsOf(c);
      for (const t of tracked.values()) {
        if (t.cluster !== c.name) continue;
        const rec = byId.get(t.id);
        if (rec && !consistent(rec, pods?.get(t.id))) allConsistent = false;
      }
    }
    if (allConsistent || now() > finalEnd) break;
    await sleep(2_000);
  }
  finalList = await checkTasks(true);
  const byIdEnd = new Map((finalList ?? []).map((t) => [t.id, t]));
  let leftoverPods = 0;
  let inconsistentAtEnd = 0;
  for (const c of stage.clusters) {
    const pods = await podsOf(c);
    for (const t of tracked.values()) {
      if (t.cluster !== c.name) continue;
      const rec = byIdEnd.get(t.id);
      const phase = pods?.get(t.id);
      if (rec && !consistent(rec, phase)) inconsistentAtEnd++;
      if (rec && isFinalTaskState(rec.state) && phase === 'Running') leftoverPods++;
    }
  }
  const byState: Record<string, number> = {};
  for (const t of finalList ?? []) if (tracked.has(t.id)) byState[t.state] = (byState[t.state] ?? 0) + 1;
  const lostIds = [...tracked.keys()].filter((id) => !byIdEnd.has(id));
  const endLeaks = sampleLeaks();
  leakSamples.push(endLeaks);

  // Cancel what still runs, so the clusters are left quiet (bounded).
  for (const t of (finalList ?? []).filter((x) => !isFinalTaskState(x.state)).slice(0, 100)) await k.cancel(t.id, 20_000);
  await disposeStage(stage);

  const measured = steps.filter((s) => s.truthMs !== null);
  const byKind: SoakReport['timeToTruth']['byKind'] = {};
  for (const s of steps) {
    const b = (byKind[s.kind] ??= { n: 0, medianMs: 0, worstMs: 0, over1s: 0, limitMs: s.limitMs });
    b.n++;
    if (s.truthMs === null) continue;
    b.worstMs = Math.max(b.worstMs, s.truthMs);
    if (s.truthMs > 1_000) b.over1s++;
  }
  for (const [kind, b] of Object.entries(byKind)) {
    const v = steps.filter((s) => s.kind === kind && s.truthMs !== null).map((s) => s.truthMs as number).sort((x, y) => x - y);
    b.medianMs = v[Math.floor((v.length - 1) / 2)] ?? 0;
  }
  const worst = measured.reduce<StepRecord | undefined>((w, s) => (!w || (s.truthMs ?? 0) > (w.truthMs ?? 0) ? s : w), undefined);
  const max = {
    children: Math.max(...leakSamples.map((x) => x.children)),
    fds: Math.max(...leakSamples.map((x) => x.fds)),
    rssMiB: Math.max(...leakSamples.map((x) => x.rssMiB)),
  };
  return {
    seed: opts.seed,
    seconds: opts.seconds,
    excluded: opts.exclude ?? [],
    settings: { probe: settings.probe, watchdog: settings.watchdog },
    steps: steps.length,
    faultsInjected: steps.filter((s) => !/start|thaw|again|cleared|repaired|current$/.test(s.kind)).length,
    faultsByKind,
    checks,
    failures,
    timeToTruth: {
      worstMs: worst?.truthMs ?? 0,
      worstStep: worst ? `step ${worst.n} ${worst.action}` : '',
      over1s: measured.filter((s) => (s.truthMs ?? 0) > 1_000).length,
      measured: measured.length,
      byKind,
    },
    flaps,
    verdicts: verdicts.report,
    tasks: {
      ...taskCounts,
      lost: lostIds.length,
      lostIds,
      inconsistentAtEnd,
      worstLagMs: round(worstLagMs),
      leftoverPodsAtEnd: leftoverPods,
      byState,
    },
    fixes,
    actionErrors,
    leaks: {
      baseline: { children: baseline.children, fds: baseline.fds, rssMiB: baseline.rssMiB },
      max,
      end: { children: endLeaks.children, fds: endLeaks.fds, rssMiB: endLeaks.rssMiB },
      samples: leakSamples.length > 200 ? leakSamples.filter((_, i) => i % Math.ceil(leakSamples.length / 200) === 0) : leakSamples,
    },
    durationMs: round(now() - started),
  };
}
