// `npm run bench` runs every benchmark; `npm run bench -- NAME…` the ones named.
// Each writes bench/results/NAME.json; the README table is rebuilt at the end
// from every results file. A benchmark that breaks is reported and the others
// still run; the exit code says whether all of them ran (they never pass or fail).

import { updateReadme } from './lib.ts';
import { log, runCleanups } from './harness.ts';

const BENCHMARKS: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  detection: () => import('./detection.ts'),
  'idle-cpu': () => import('./idle-cpu.ts'),
  footprint: () => import('./footprint.ts'),
  status: () => import('./status.ts'),
  server: () => import('./server.ts'),
  dashboard: () => import('./dashboard.ts'),
  load: () => import('./load.ts'),
  logs: () => import('./logs.ts'),
  'launch-nodes': () => import('./launch-nodes.ts'),
  'workdir-copy': () => import('./workdir-copy.ts'),
  clusters: () => import('./clusters.ts'),
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((a) => !(a in BENCHMARKS));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const names = asked.length ? asked : Object.keys(BENCHMARKS);

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

const failed: string[] = [];
const started = performance.now();
for (const name of names) {
  if (interrupted) break;
  const t = performance.now();
  log(`${name}: start`);
  try {
    const mod = await BENCHMARKS[name]!();
    await mod.run();
    log(`${name}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } catch (e) {
    failed.push(name);
    log(`${name}: did not complete: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await runCleanups();
  }
}
updateReadme();
log(`all done in ${((performance.now() - started) / 1000).toFixed(1)} s${failed.length ? `; did not complete: ${failed.join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);
