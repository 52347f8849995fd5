// `npm run soak`: the chaos soak (e2e/faults/soak.ts) on a private testbed
// with Kindtray's default settings, for SOAK_SECONDS (default 600) with the
// seed SOAK_SEED (default: random, printed), every fault kind of the soak
// (SOAK_EXCLUDE=kind,kind leaves some out). Writes bench/results/soak.json and
// the README's rows. A shorter form runs in CI: e2e/soak.int.test.ts.

import { ms, updateReadme, writeResult, type Summary } from './lib.ts';
import { fmtInt, loadAverage, log, runCleanups, withTestbed } from './harness.ts';
import { runSoak, type SoakReport } from '../e2e/faults/soak.ts';

const seconds = Math.max(10, Number(process.env.SOAK_SECONDS ?? 600) || 600);
const seed = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Fault kinds to leave out, e.g. SOAK_EXCLUDE=docker-freeze; the result is then soak-without-KIND.json. */
const exclude = (process.env.SOAK_EXCLUDE ?? '').split(',').filter(Boolean);
const resultName = exclude.length ? `soak-without-${exclude.join('-')}` : 'soak';

/** Issue 9's bar: at least 10 minutes and 30 faults, and none of the three wrongs past a fault's bound. */
const met = (r: SoakReport): boolean => r.seconds >= 600 && r.faultsInjected >= 30 && r.verdicts.falseGreens + r.verdicts.falseReds + r.verdicts.wrongFixes === 0;

function summaryOf(r: SoakReport): Summary[] {
  const kinds = Object.entries(r.timeToTruth.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, b]) => `${k} ${ms(b.medianMs)}/${ms(b.worstMs)}`)
    .join(', ');
  return [
    {
      metric: `${Math.round(r.seconds / 60)} min of random faults${r.excluded.length ? ` but ${r.excluded.join(', ')}` : ''} (seed ${r.seed}), tasks launched and cancelled throughout`,
      value: `${fmtInt(r.faultsInjected)} faults injected in ${fmtInt(r.steps)} steps; checks ${fmtInt(r.checks.passed)} passed, ${fmtInt(r.checks.failed)} failed${r.flaps.length ? ` (${r.flaps.length} shown state flipped away from the truth)` : ''}`,
      reference: 'promise: never lies about state, never loses a task, never leaks',
    },
    {
      metric: 'past each fault\'s bound, against the injected truth: false greens, false reds, wrong fixes (each once per step)',
      value: `${met(r) ? 'met' : 'not met'}: ${r.verdicts.falseGreens} false greens, ${r.verdicts.falseReds} false reds, ${r.verdicts.wrongFixes} wrong fixes${r.verdicts.falseGreens + r.verdicts.falseReds + r.verdicts.wrongFixes > 0 ? ` (first: ${[...r.verdicts.examples.falseGreen, ...r.verdicts.examples.falseRed, ...r.verdicts.examples.wrongFix][0]})` : ''}`,
      reference: 'issue 9: 0 of each beyond a fault\'s bound, over 10 minutes with at least 30 faults',
    },
    {
      metric: 'time to truth (action done → the server shows it, stably), median/worst by kind',
      value: `worst ${ms(r.timeToTruth.worstMs)} (${r.timeToTruth.worstStep}); ${r.timeToTruth.over1s} of ${r.timeToTruth.measured} over 1 s; ${kinds}`,
      reference: 'design: 1 s for Docker and node faults, probe deadline for API faults, 3 s for the worker; no bound for recoveries',
    },
    {
      metric: 'tasks during the soak',
      value: `${r.tasks.launched} launched, ${r.tasks.acknowledged} acknowledged (201), ${r.tasks.lost} lost, ${r.tasks.unanswered} launches unanswered in 20 s, ${r.tasks.inconsistentAtEnd} inconsistent with their cluster at the end, ${r.tasks.leftoverPodsAtEnd} pods left running for ended tasks; worst lag task ↔ cluster ${ms(r.tasks.worstLagMs)}`,
      reference: 'promise: no acknowledged task lost',
    },
    {
      metric: 'leaks: child processes, supervisor fds, RSS of the tree (baseline → max → end)',
      value: `children ${r.leaks.baseline.children} → ${r.leaks.max.children} → ${r.leaks.end.children}; fds ${r.leaks.baseline.fds} → ${r.leaks.max.fds} → ${r.leaks.end.fds}; RSS ${r.leaks.baseline.rssMiB} → ${r.leaks.max.rssMiB} → ${r.leaks.end.rssMiB} MiB`,
      reference: 'bounded',
    },
  ];
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

log(`soak: ${seconds} s, seed ${seed} (replay with SOAK_SEED=${seed})`);
const loadBefore = loadAverage();
try {
  const report = await withTestbed((tb) => runSoak(tb, { seconds, seed, log, exclude }));
  writeResult(resultName, { ...report, loadAverage: { before: loadBefore, after: loadAverage() } }, summaryOf(report));
  updateReadme();
  log(
    `soak: ${report.faultsInjected} faults, ${report.verdicts.falseGreens} false greens / ${report.verdicts.falseReds} false reds / ${report.verdicts.wrongFixes} wrong fixes past their bounds, checks ${report.checks.passed} passed / ${report.checks.failed} failed, worst time to truth ${ms(report.timeToTruth.worstMs)}, tasks ${report.tasks.acknowledged} acknowledged / ${report.tasks.lost} lost, max children ${report.leaks.max.children}, fds ${report.leaks.max.fds}, RSS ${report.leaks.max.rssMiB} MiB`,
  );
  if (report.failures.length) log(`failed checks:\n  ${report.failures.join('\n  ')}`);
  const wrong = [...report.verdicts.examples.falseGreen, ...report.verdicts.examples.falseRed, ...report.verdicts.examples.wrongFix];
  if (wrong.length) log(`shown wrong past their bounds:\n  ${wrong.join('\n  ')}`);
} catch (e) {
  log(`soak: did not complete: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  await runCleanups();
}
process.exit(process.exitCode ?? 0);
