// `npm run faults`: the design's fault table, row by row, against a private
// dockerd with KinD-like clusters and `kindtray serve` as a real process, with
// Kindtray's default settings (electron/supervisor/settings.ts: the probe every
// 5 s with a 2 s deadline, the watchdog's beat and misses; the results record
// them). Each row injects its fault, times how
// long until the snapshot shows the right problem and fix, runs the fix as a
// user would (through /control/fixes/:id, or the CLI for a stale server), and
// times how long until all is healthy again. The rows are e2e/faults/rows.ts
// (the CI test e2e/faults.int.test.ts runs the same ones). Writes
// bench/results/faults.json and the README's rows.
//
// Each row runs FAULTS_RUNS times (default 3; fewer for a row that costs
// minutes) and reports its worst figures with the medians. FAULTS_ONLY=id,id
// runs some rows; FAULTS_PROBE_INTERVAL_MS changes the probe interval.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ms, RESULTS_DIR, updateReadme, writeResult, type Summary } from './lib.ts';
import { loadAverage, log, onCleanup, runCleanups, withTestbed } from './harness.ts';
import { ROWS, runRowRepeated, type RowResult } from '../e2e/faults/rows.ts';
import { disposeStage, setupStage, type Stage } from '../e2e/faults/stage.ts';

const only = (process.env.FAULTS_ONLY ?? '').split(',').filter(Boolean);
const runs = Math.max(1, Number(process.env.FAULTS_RUNS ?? 3) || 3);
const probeInterval = Number(process.env.FAULTS_PROBE_INTERVAL_MS ?? 0) || undefined;

/** Cluster names carry the run's tag (dev-28194): the README says dev. */
const untag = (text: string): string => text.replace(/-\d{4,}(?:-[0-9a-f]{6})?\b/g, '');

/** Items seen in several runs, said once each: the first run's words and in how many runs. */
function once(items: string[], n: number): string[] {
  const groups = new Map<string, { text: string; runs: Set<string> }>();
  for (const item of items) {
    const run = /^run (\d+): /.exec(item)?.[1] ?? '1';
    const text = item.replace(/^run \d+: /, '');
    const key = text.replace(/\d+(\.\d+)?/g, 'N');
    const g = groups.get(key) ?? { text, runs: new Set<string>() };
    g.runs.add(run);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => (n > 1 ? `${g.text} (${g.runs.size} of ${n} runs)` : g.text));
}

function summaryOf(r: RowResult): Summary {
  if (!r.reproducible) return { metric: r.fault, value: `not reproducible here: ${r.notReproducible}`, reference: `design: ${r.bound}` };
  const n = r.runs?.length ?? 1;
  const fixes = r.fixes.length ? r.fixes.map((f) => `${f.id}${f.automatic ? ' (automatic)' : ''}${f.ok ? '' : ' (failed)'}`).join(' → ') : 'no fix to run';
  const noticed = r.noticedMs === null ? 'not shown' : n > 1 && r.noticedMedianMs != null ? `median ${ms(r.noticedMedianMs)}, worst ${ms(r.noticedMs)} (n=${n})` : ms(r.noticedMs);
  const what = [r.problemId, r.fixOffered ? `fix ${r.fixOffered}` : r.expectedFix === null ? 'no fix (as designed)' : 'no fix offered'].filter(Boolean).join(', ');
  const recovered =
    r.recoveredMs === null
      ? `not recovered (${r.recovery})`
      : n > 1 && r.recoveredMedianMs != null
        ? `recovered in median ${ms(r.recoveredMedianMs)}, worst ${ms(r.recoveredMs)}`
        : `recovered in ${ms(r.recoveredMs)}`;
  const bound = r.boundMs !== null && r.noticedMs !== null && r.noticedMs > r.boundMs ? [`noticed in ${ms(r.noticedMs)} at worst, over the bound`] : [];
  const violations = [...bound, ...once(r.violations.filter((v) => !/noticed in \d+ ms, over the bound/.test(v)), n)];
  const findings = once(r.findings, n);
  return {
    metric: r.fault,
    value: untag(
      `${r.atStart ? `at start: ${r.atStart.shownInFirstStatus ? 'shown' : 'NOT shown'} in the first status (serve up in ${ms(r.atStart.serveMs)}); taken away while running: ` : ''}noticed in ${noticed} (${what}); ran ${fixes}; ${recovered}`,
    ),
    reference: untag(
      `design: ${r.bound}; ${r.ok ? 'met' : `NOT MET: ${violations.join('; ')}`}${findings.length ? `; not handled well: ${findings.join('; ')}` : ''}`,
    ),
  };
}

export async function run(): Promise<void> {
  const loadBefore = loadAverage();
  const started = performance.now();
  const results: RowResult[] = [];
  let stage: Stage | undefined;
  await withTestbed(async (tb) => {
    const off = onCleanup(() => disposeStage(stage));
    try {
      stage = await setupStage(tb, { log, ...(probeInterval ? { settings: { probe: { intervalMs: probeInterval, deadlineMs: 2_000 } } } : {}) });
      for (const def of ROWS) {
        if (only.length && !only.includes(def.id)) continue;
        log(`faults: ${def.id}`);
        results.push(await runRowRepeated(def, stage, { mode: 'bench' }, runs));
      }
    } finally {
      off();
      await disposeStage(stage);
    }
  });
  const settings = stage?.settings;
  if (only.length) {
    // A partial run replaces its rows in the last full results and keeps the others.
    try {
      const before = JSON.parse(readFileSync(join(RESULTS_DIR, 'faults.json'), 'utf8')) as { results: { rows: RowResult[] } };
      const fresh = new Map(results.map((r) => [r.id, r]));
      const merged = before.results.rows.map((r) => fresh.get(r.id) ?? r);
      for (const r of results) if (!merged.includes(r)) merged.push(r);
      const order = new Map(ROWS.map((d, i) => [d.id, i]));
      results.splice(0, results.length, ...merged.sort((a, b) => (order.get(a.id) ?? 99) - (order.get(b.id) ?? 99)));
      log(`faults: rows ${only.join(', ')} replaced in the last results`);
    } catch {
      // No earlier results: these rows alone.
    }
  }
  const violations = results.filter((r) => r.reproducible && !r.ok).map((r) => r.id);
  writeResult(
    'faults',
    {
      settings: settings ? { probe: settings.probe, watchdog: settings.watchdog } : undefined,
      loadAverage: { before: loadBefore, after: loadAverage() },
      durationMs: Math.round(performance.now() - started),
      runsPerRow: runs,
      ...(only.length ? { rerunRows: only } : {}),
      rowsNotMet: violations,
      rowsWithFindings: results.filter((r) => r.findings.length > 0).map((r) => r.id),
      rows: results,
    },
    results.map(summaryOf),
  );
  log(`faults: ${results.length} rows, ${violations.length} not met${violations.length ? `: ${violations.join(', ')}` : ''}`);
}

/** `--summary-only`: the README rows again from the recorded results, without running anything. */
function resummarize(): void {
  const file = join(RESULTS_DIR, 'faults.json');
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { results: { rows: RowResult[] }; summary: Summary[] };
  recorded.summary = recorded.results.rows.map(summaryOf);
  writeFileSync(file, `${JSON.stringify(recorded, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--summary-only')) {
  resummarize();
  updateReadme();
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      log(`${sig}: cleaning up`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
  try {
    await run();
    updateReadme();
  } catch (e) {
    log(`faults: did not complete: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  } finally {
    await runCleanups();
  }
  process.exit(process.exitCode ?? 0);
}
