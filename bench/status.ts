// `kindtray status --json` wall time, as a user's shell sees it (spawn to
// exit), on a private dockerd with two healthy KinD-like clusters:
//  - warm: a `kindtray serve` runs in the same KINDTRAY_HOME, so status asks it;
//  - cold: no server in its KINDTRAY_HOME, so status looks once by itself
//    (Docker, kubeconfig, one probe per running cluster in a probe child);
//  - baselines: `node -e 0`, the cost of starting the same Node binary, and
//    `kindtray --help`: the CLI's entry point and argument parsing, nothing else
//    (each command loads its own modules when it runs).
// The three are interleaved run by run so that the machine's noise falls on
// all of them alike. Each run's CPU time (user + system, as the process itself
// counts it when it exits) is recorded beside its wall time: on a loaded
// machine the wall time says more about the neighbours than about Kindtray.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { kindtray, serve, tempHome, freePort, call, type Served } from '../e2e/helpers/serve.ts';
import { ms, stats, writeResult, type Summary } from './lib.ts';
import { loadAverage, log, onCleanup, poll, round, withTestbed } from './harness.ts';

const RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 10);

// Preloaded into every measured process: at exit it writes its CPU time to stderr. A data: URL in
// plain JavaScript (no spaces, for NODE_OPTIONS), so that loading it costs no TypeScript stripping.
const CPU_AT_EXIT = "--import=data:text/javascript,process.on('exit',()=>process.getBuiltinModule('node:fs').writeSync(2,'\\ncpu:'+JSON.stringify(process.cpuUsage())+'\\n'))";
const withCpu = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${CPU_AT_EXIT}`.trim() });

/** CPU time (user + system) a measured process reported at exit, with any child that inherited the hook and wrote to the same stderr, in ms. */
function cpuOf(stderr: string): number {
  const lines = [...stderr.matchAll(/^cpu:(\{.*\})$/gm)].map((m) => JSON.parse(m[1] ?? '{}') as { user: number; system: number });
  return lines.length ? round(lines.reduce((a, u) => a + u.user + u.system, 0) / 1000) : NaN;
}

function nodeBaseline(): Promise<{ ms: number; cpuMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { env: withCpu(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, cpuMs: cpuOf(stderr) });
    });
  });
}

interface StatusRun {
  ms: number;
  cpuMs: number;
  code: number | null;
  clustersRunning: number;
  server?: string;
  /** What it said about a cluster that was in fact healthy, when it was not `running`/`ok`. */
  misreported?: { cluster: string; state?: string; context?: string; cause?: string }[];
}

export async function run(): Promise<void> {
  const warm: StatusRun[] = [];
  const cold: StatusRun[] = [];
  const baseline: number[] = [];
  const cliLoad: number[] = [];
  const baselineCpu: number[] = [];
  const cliLoadCpu: number[] = [];
  const loadBefore = loadAverage();

  await withTestbed(async (tb) => {
    const [a, b] = await Promise.all([tb.createCluster(`st-a-${process.pid}`), tb.createCluster(`st-b-${process.pid}`)]);
    if (!a || !b) throw new Error('clusters not created');
    const names = [a.name, b.name];
    const warmEnv = tb.env({ KINDTRAY_HOME: tempHome('kt-bench-warm-') });
    const coldEnv = tb.env({ KINDTRAY_HOME: tempHome('kt-bench-cold-') });
    let server: Served | undefined;
    const removeHomes = () => {
      for (const e of [warmEnv, coldEnv]) if (e.KINDTRAY_HOME) rmSync(e.KINDTRAY_HOME, { recursive: true, force: true });
    };
    const off = onCleanup(async () => {
      await server?.stop();
      removeHomes();
    });
    try {
      server = await serve(warmEnv, { port: await freePort() });
      const s = server;
      await poll('server sees both clusters healthy', 30_000, async () => {
        const snap = (await call<HealthSnapshot>(`${s.url}/api/status`, { token: s.token })).body;
        return names.every((n) => snap.clusters.find((c) => c.name === n)?.state === 'running') &&
          [a.context, b.context].every((n) => snap.contexts.find((c) => c.name === n)?.state === 'ok')
          ? true
          : undefined;
      }, 200);

      const look = async (env: NodeJS.ProcessEnv): Promise<StatusRun> => {
        const r = await kindtray(['status', '--json'], withCpu(env), 30_000);
        let snap: (HealthSnapshot & { ageMs?: number }) | undefined;
        try {
          snap = JSON.parse(r.stdout) as HealthSnapshot;
        } catch {
          log(`status: unparsable output (exit ${r.code}): ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 400)}`);
        }
        const misreported = [a, b]
          .map((c) => ({ c, cl: snap?.clusters.find((x) => x.name === c.name), ctx: snap?.contexts.find((x) => x.name === c.context) }))
          .filter(({ cl, ctx }) => cl?.state !== 'running' || ctx?.state !== 'ok')
          .map(({ c, cl, ctx }) => ({ cluster: c.name, ...(cl ? { state: cl.state } : {}), ...(ctx ? { context: ctx.state } : {}), ...(ctx?.cause ? { cause: ctx.cause } : {}) }));
        return {
          ms: round(r.ms),
          cpuMs: cpuOf(r.stderr),
          code: r.code,
          clustersRunning: snap?.clusters.filter((c) => names.includes(c.name) && c.state === 'running').length ?? 0,
          ...(snap?.server ? { server: snap.server.state } : {}),
          ...(misreported.length ? { misreported } : {}),
        };
      };
      // One unmeasured round first: the page cache, not Kindtray, pays for the first start.
      const help = async () => {
        const r = await kindtray(['--help'], withCpu(warmEnv), 30_000);
        return { ms: round(r.ms), cpuMs: cpuOf(r.stderr) };
      };
      await nodeBaseline();
      await help();
      await look(warmEnv);
      await look(coldEnv);
      for (let i = 0; i < RUNS; i++) {
        const n = await nodeBaseline();
        baseline.push(round(n.ms));
        baselineCpu.push(n.cpuMs);
        const h = await help();
        cliLoad.push(h.ms);
        cliLoadCpu.push(h.cpuMs);
        warm.push(await look(warmEnv));
        cold.push(await look(coldEnv));
        log(`status ${i + 1}/${RUNS}: node -e 0 ${ms(baseline.at(-1) ?? NaN)}, kindtray --help ${ms(cliLoad.at(-1) ?? NaN)}, warm ${ms(warm.at(-1)?.ms ?? NaN)}, cold ${ms(cold.at(-1)?.ms ?? NaN)}`);
      }
    } finally {
      off();
      await server?.stop();
      removeHomes();
    }
  });

  const w = stats(warm.map((r) => r.ms));
  const c = stats(cold.map((r) => r.ms));
  const n = stats(baseline);
  const h = stats(cliLoad);
  const cpu = { node: stats(baselineCpu), help: stats(cliLoadCpu), warm: stats(warm.map((r) => r.cpuMs)), cold: stats(cold.map((r) => r.cpuMs)) };
  const results = {
    runs: RUNS,
    loadAverage: { before: loadBefore, after: loadAverage() },
    baseline: { what: '`node -e 0`: spawn to exit', ms: n, runs: baseline },
    cliLoad: { what: '`kindtray --help`: the CLI entry point only (commands import their modules lazily)', ms: h, runs: cliLoad },
    warm: {
      what: '`kindtray status --json` with a server running in KINDTRAY_HOME (answers from its snapshot)',
      ms: w,
      ratioToNodeStart: round(w.median / n.median),
      overNodeStartMs: round(w.median - n.median),
      overCliLoadMs: round(w.median - h.median),
      runs: warm,
    },
    cold: {
      what: '`kindtray status --json` with no server: one look of its own (Docker, kubeconfig, a probe child probing 2 contexts)',
      ms: c,
      ratioToNodeStart: round(c.median / n.median),
      overNodeStartMs: round(c.median - n.median),
      overCliLoadMs: round(c.median - h.median),
      runs: cold,
    },
    cpuMs: { what: 'CPU time (user + system) each process reported at exit (with its children that inherited the hook and share its stderr), by kind of run', ...cpu, baselineRuns: baselineCpu, cliLoadRuns: cliLoadCpu },
    allRunsSawBothClustersRunning: [...warm, ...cold].every((r) => r.clustersRunning === 2),
    runsThatMisreportedAHealthyCluster: { warm: warm.filter((r) => r.misreported).length, cold: cold.filter((r) => r.misreported).length },
    exitCodes: [...new Set([...warm, ...cold].map((r) => r.code))],
  };
  const summary: Summary[] = [
    {
      metric: `kindtray status --json, warm (server running), n=${w.n}`,
      value: `median ${ms(w.median)}, worst ${ms(w.max)} (${round(w.median / n.median, 1)}× node start); CPU median ${ms(cpu.warm.median)}`,
      reference: `node -e 0 in the same run: median ${ms(n.median)} (CPU ${ms(cpu.node.median)}); kindtray --help (CLI entry only): median ${ms(h.median)} (CPU ${ms(cpu.help.median)}); issue 8 target ≤ 0.3 s; load average ${loadBefore.join(', ')}`,
    },
    {
      metric: `kindtray status --json, cold (no server: looks once itself), n=${c.n}`,
      value: `median ${ms(c.median)}, worst ${ms(c.max)} (${round(c.median / n.median, 1)}× node start); CPU median ${ms(cpu.cold.median)}${cold.some((r) => r.misreported) ? `; ${cold.filter((r) => r.misreported).length} of ${cold.length} runs called a healthy cluster ${[...new Set(cold.flatMap((r) => r.misreported ?? []).map((m) => `${m.state}/${m.context}`))].join(', ')}` : ''}`,
      reference: `node -e 0: median ${ms(n.median)}; kindtray --help: median ${ms(h.median)}; warm: median ${ms(w.median)}`,
    },
  ];
  writeResult('status', results, summary);
}
