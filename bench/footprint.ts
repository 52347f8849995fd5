// The footprint of the whole headless tree: `kindtray serve` (the supervisor,
// its API worker and every child either starts) with 3 KinD-like clusters and
// 1 context whose user is an exec credential plugin (the current context), idle, for
// BENCH_FOOTPRINT_SECONDS (default 60). Every second, VmRSS (and its anon/file
// split) of every process of the tree is read from /proc/PID/status; the total
// is their sum. CPU time of each process over the same window comes along.
//
// Two windows: right after start (the monitor has looked at everything; no task
// was ever launched), and after one short task was launched on each of the 4
// contexts (which starts the API worker's Kubernetes children). Both on a warm
// Node compile cache: a first start (cache empty, every process strips its
// TypeScript) is sampled once before, then stopped. A last table
// says what a bare Node process pays for loading each of the big dependencies,
// so the per-process figures can be read as "which module".
//
// The exec plugin is a two-line shell script printing an ExecCredential with the
// testbed's admin client certificate, so its context really reaches a cluster.

import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import type { TaskRecord } from '../shared/api.ts';
import { editKubeconfig, pkiPaths, readKubeconfig, setCurrentContext, type Cluster } from '../e2e/testbed/index.ts';
import { call, freePort, serve, tempHome, type Served } from '../e2e/helpers/serve.ts';
import { descendantsOf, loadAverage, log, onCleanup, poll, ppidOf, procCommandLine, procCpuMs, procMemory, round, sleep, withTestbed, type BenchTestbed } from './harness.ts';
import { stats, writeResult, type Stats, type Summary } from './lib.ts';

const SECONDS = Number(process.env.BENCH_FOOTPRINT_SECONDS ?? 60);
const EXEC_CONTEXT = 'exec-plugin';
const MiB = (kib: number) => round(kib / 1024, 1);
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** What a process of the tree is, from its command line (the entry file it runs). */
function roleOf(cmd: string): string {
  if (/\bbin\.js serve\b/.test(cmd)) return 'supervisor (kindtray serve)';
  if (/bench-exec-plugin/.test(cmd)) return 'exec credential plugin';
  const entry = cmd.split(' ').find((a) => /\.(ts|js|cjs|mjs)$/.test(a));
  const name = entry ? basename(entry).replace(/\.(ts|js|cjs|mjs)$/, '') : (cmd.split(' ')[0] ?? '?');
  if (/worker/.test(name)) return `API worker (${name})`;
  if (/probe/.test(name)) return `Kubernetes probe child (${name})`;
  if (/kube|ops/.test(name)) return `Kubernetes child (${name})`;
  return name;
}

interface ProcessFootprint {
  pid: number;
  role: string;
  cmd: string;
  pssMiB: number;
  /** VmRSS at the last sample it was alive in, its largest, its peak (VmHWM) then, in MiB. */
  rssMiB: number;
  maxRssMiB: number;
  hwmMiB: number;
  anonMiB: number;
  fileMiB: number;
  cpuMs: number;
  /** In how many of the samples it was alive. */
  samples: number;
}

interface TreeWindow {
  wallMs: number;
  samples: number;
  /** Sum of VmRSS over the tree at each sample, in MiB. */
  totalRssMiB: Stats & { last: number };
  /** Sum of PSS at each sample: the Node binary's pages, which every process maps, counted once. */
  totalPssMiB: Stats & { last: number };
  /** How many processes the tree had at each sample. */
  processCount: { min: number; max: number };
  processes: ProcessFootprint[];
  /** CPU of the whole tree over the window, as a share of one core (processes born in it count from zero). */
  cpuPercentOfOneCore: number;
  loadAverage: number[];
}

/** Samples the tree under `root` every second for `seconds`. */
async function observeTree(root: number, seconds: number): Promise<TreeWindow> {
  const seen = new Map<number, ProcessFootprint & { cpu0: number }>();
  const totals: number[] = [];
  const pssTotals: number[] = [];
  const counts: number[] = [];
  const look = (first: boolean) => {
    let total = 0;
    let pss = 0;
    let count = 0;
    for (const pid of [root, ...descendantsOf(root)]) {
      const mem = procMemory(pid);
      const cpu = procCpuMs(pid);
      if (!mem || cpu === undefined) continue;
      total += mem.rssKiB;
      pss += mem.pssKiB;
      count++;
      let p = seen.get(pid);
      if (!p) {
        const cmd = procCommandLine(pid);
        // Whose child it is tells the monitor's Kubernetes child (the supervisor's) from the API worker's.
        const parent = seen.get(ppidOf(pid) ?? 0);
        const role = parent ? `${roleOf(cmd)}, child of the ${parent.role.replace(/ \(.*$/, '')}` : roleOf(cmd);
        p = { pid, role, cmd: cmd.replaceAll(REPO, '').slice(0, 300), pssMiB: 0, rssMiB: 0, maxRssMiB: 0, hwmMiB: 0, anonMiB: 0, fileMiB: 0, cpuMs: 0, samples: 0, cpu0: first ? cpu : 0 };
        seen.set(pid, p);
      }
      p.samples++;
      p.rssMiB = MiB(mem.rssKiB);
      p.pssMiB = MiB(mem.pssKiB);
      p.maxRssMiB = Math.max(p.maxRssMiB, p.rssMiB);
      p.hwmMiB = MiB(mem.hwmKiB);
      p.anonMiB = MiB(mem.anonKiB);
      p.fileMiB = MiB(mem.fileKiB);
      p.cpuMs = round(cpu - p.cpu0);
    }
    totals.push(MiB(total));
    pssTotals.push(MiB(pss));
    counts.push(count);
  };
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  look(true);
  while (performance.now() < endAt) {
    await sleep(Math.min(1_000, endAt - performance.now()));
    look(false);
  }
  const wallMs = Math.round(performance.now() - t0);
  const processes = [...seen.values()].map(({ cpu0: _cpu0, ...p }) => p).sort((a, b) => b.rssMiB - a.rssMiB);
  const cpuMs = processes.reduce((a, p) => a + p.cpuMs, 0);
  return {
    wallMs,
    samples: totals.length,
    totalRssMiB: { ...stats(totals), last: totals.at(-1) ?? NaN },
    totalPssMiB: { ...stats(pssTotals), last: pssTotals.at(-1) ?? NaN },
    processCount: { min: Math.min(...counts), max: Math.max(...counts) },
    processes,
    cpuPercentOfOneCore: round((cpuMs / wallMs) * 100, 3),
    loadAverage: loadAverage(),
  };
}

/** A kubeconfig context `exec-plugin` on `target`'s API whose user is an exec credential plugin; made the current context. */
async function addExecPluginContext(tb: BenchTestbed, target: Cluster): Promise<string> {
  const pki = pkiPaths(join(tb.dockerd.dir, 'pki'));
  const credential = {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    // As cloud plugins do (tokens of an hour or less): the client asks again when it expires.
    status: {
      clientCertificateData: readFileSync(pki.clientCertPath, 'utf8'),
      clientKeyData: readFileSync(pki.clientKeyPath, 'utf8'),
      expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString(),
    },
  };
  const credentialFile = join(tb.dockerd.dir, 'bench-exec-credential.json');
  const plugin = join(tb.dockerd.dir, 'bench-exec-plugin.sh');
  writeFileSync(credentialFile, JSON.stringify(credential));
  writeFileSync(plugin, `#!/bin/sh\nexec cat '${credentialFile}'\n`);
  chmodSync(plugin, 0o755);
  const targetCluster = readKubeconfig(tb.kubeconfigPath).clusters.find((c) => c.name === target.context);
  if (!targetCluster) throw new Error(`no kubeconfig cluster ${target.context}`);
  await editKubeconfig(tb.kubeconfigPath, (doc) => {
    doc.clusters.push({ name: EXEC_CONTEXT, cluster: { ...targetCluster.cluster } });
    doc.users.push({ name: EXEC_CONTEXT, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin, args: [], interactiveMode: 'Never' } } });
    doc.contexts.push({ name: EXEC_CONTEXT, context: { cluster: EXEC_CONTEXT, user: EXEC_CONTEXT } });
  });
  // The current context: the monitor probes a context that is no KinD cluster's only when it is current
  // (a user's cloud cluster, whose plugin is the risky kind of credentials).
  await setCurrentContext(tb.kubeconfigPath, EXEC_CONTEXT);
  return EXEC_CONTEXT;
}

/** Launches a short task on `context` and waits until it has finished (or 60 s passed). */
async function launchOnce(s: Served, context: string): Promise<string> {
  const body = `name: footprint\nresources:\n  infra: k8s/${context}\nrun: echo footprint\n`;
  const posted = await call<{ task?: TaskRecord; error?: string }>(`${s.url}/api/tasks`, { method: 'POST', token: s.token, body, headers: { 'content-type': 'application/yaml' }, timeoutMs: 30_000 });
  const id = posted.body.task?.id;
  if (!id) return `not launched: HTTP ${posted.status} ${JSON.stringify(posted.body).slice(0, 300)}`;
  const end = await poll(`task on ${context} finished`, 60_000, async () => {
    const t = (await call<{ task: TaskRecord }>(`${s.url}/api/tasks/${id}`, { token: s.token })).body.task;
    return ['succeeded', 'failed', 'cancelled'].includes(t.state) ? t : undefined;
  }, 250).catch((e: Error) => ({ state: e.message, reason: undefined }));
  return `${end.state}${end.reason ? `: ${end.reason}` : ''}`;
}

/** RSS of a fresh Node process before, and what it gains by importing `what` (after a gc), medians of 3 processes, in MiB. */
async function importCost(what: string): Promise<{ before: number; gain: number }> {
  const script = `const before = process.memoryUsage().rss; await import(${JSON.stringify(what)}); globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); process.stdout.write(before + ' ' + (process.memoryUsage().rss - before));`;
  const befores: number[] = [];
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    const [before, gain] = out.split(' ').map((x) => Number(x) / 2 ** 20);
    befores.push(before ?? NaN);
    runs.push(gain ?? NaN);
  }
  return { before: round(stats(befores).median, 1), gain: round(stats(runs).median, 1) };
}

const IMPORTS = ['@kubernetes/client-node', 'dockerode', 'zod', 'yaml', 'node:sqlite', './electron/monitor/index.ts', './electron/supervisor/index.ts'];

export async function run(): Promise<void> {
  let cold: TreeWindow | undefined;
  let idle: TreeWindow | undefined;
  let used: TreeWindow | undefined;
  const launches: Record<string, string> = {};
  let contexts: { name: string; state: string; cause?: string }[] = [];
  const loadBefore = loadAverage();

  await withTestbed(async (tb) => {
    const clusters = await Promise.all(['fp-a', 'fp-b', 'fp-c'].map((n) => tb.createCluster(`${n}-${process.pid}`)));
    const [a] = clusters;
    if (!a) throw new Error('clusters not created');
    const execContext = await addExecPluginContext(tb, a);
    const home = tempHome('kt-bench-footprint-');
    // A compile cache of its own, so the first start is cold whatever ran on this machine before.
    const env = tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.image, NODE_COMPILE_CACHE: join(tb.dockerd.dir, 'bench-compile-cache') });
    let server: Served | undefined;
    const off = onCleanup(async () => {
      await server?.stop();
      rmSync(home, { recursive: true, force: true });
    });
    const names = [...clusters.map((c) => c.context), execContext];
    const settled = (s: Served) =>
      poll('server sees 3 clusters running and every context probed', 60_000, async () => {
        const snap = (await call<HealthSnapshot>(`${s.url}/api/status`, { token: s.token })).body;
        const running = clusters.every((c) => snap.clusters.find((x) => x.name === c.name)?.state === 'running');
        const probed = names.every((n) => !['checking', undefined].includes(snap.contexts.find((x) => x.name === n)?.state));
        contexts = snap.contexts.filter((c) => names.includes(c.name)).map((c) => ({ name: c.name, state: c.state, ...(c.cause ? { cause: c.cause } : {}) }));
        return running && probed ? true : undefined;
      }, 250);
    try {
      // First start with Node's compile cache empty for this checkout (as after an install, or a reboot
      // that empties the temporary folder the cache lives in): every process strips its TypeScript again.
      // One short look at that tree; then the measured start, on the cache that first start wrote.
      server = await serve(env, { port: await freePort() });
      await settled(server);
      await sleep(5_000);
      cold = await observeTree(server.pid, 1);
      log(`footprint: first start (cold compile cache): ${cold.totalRssMiB.last} MiB; starting again`);
      await server.stop();
      rmSync(join(home, 'server.json'), { force: true });
      server = await serve(env, { port: await freePort() });
      const s = server;
      await settled(s);
      log(`footprint: contexts ${contexts.map((c) => `${c.name} ${c.state}`).join(', ')}`);
      await sleep(2_000);
      log(`footprint: idle tree of pid ${s.pid}, ${SECONDS} s`);
      idle = await observeTree(s.pid, SECONDS);
      for (const n of names) launches[n] = await launchOnce(s, n);
      log(`footprint: launched once on each context (${Object.entries(launches).map(([k, v]) => `${k}: ${v}`).join('; ')}); idle again, ${SECONDS} s`);
      used = await observeTree(s.pid, SECONDS);
    } finally {
      off();
      await server?.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });
  if (!cold || !idle || !used) throw new Error('no measurement');

  log('footprint: what each big import costs a bare Node process');
  const imports: Record<string, number> = {};
  let bare = NaN;
  for (const m of IMPORTS) {
    const cost = await importCost(m);
    imports[m] = cost.gain;
    bare = cost.before;
  }

  // Each process at its last sample; a role with several processes is summed and says how many, and
  // how many of them ended within the window (the API worker ends an idle Kubernetes child).
  const byRole = (w: TreeWindow) => {
    const roles = new Map<string, { n: number; ended: number; rss: number }>();
    for (const p of w.processes) {
      const r = roles.get(p.role) ?? { n: 0, ended: 0, rss: 0 };
      roles.set(p.role, { n: r.n + 1, ended: r.ended + (p.samples < w.samples ? 1 : 0), rss: round(r.rss + p.rssMiB, 1) });
    }
    return Object.fromEntries([...roles].map(([role, r]) => [`${role}${r.n > 1 ? ` ×${r.n}` : ''}${r.ended ? ` (${r.ended} ended in the window)` : ''}`, r.rss]));
  };
  const results = {
    seconds: SECONDS,
    clusters: 3,
    execPluginContexts: 1,
    contextsAtStart: contexts,
    loadAverage: { before: loadBefore, after: loadAverage() },
    target: 'issue 8: ≤ 250 MiB RSS in total, idle, 60 s (recorded, not asserted)',
    firstStart: { what: 'the first kindtray serve on this checkout (compile cache empty), one sample 5 s after every context was probed; then stopped', rssByRoleMiB: byRole(cold), ...cold },
    idle: { what: 'kindtray serve (started again: compile cache warm) and every descendant, right after every context was probed; no task ever launched', rssByRoleMiB: byRole(idle), ...idle },
    afterOneLaunchPerContext: { what: 'the same tree after one short task on each of the 4 contexts (starts the API worker\'s Kubernetes children)', launches, rssByRoleMiB: byRole(used), ...used },
    importCostMiB: { what: 'RSS a fresh Node process gains by importing each (after a gc), median of 3 processes; bareNodeMiB: its RSS before', bareNodeMiB: bare, ...imports },
  };
  const line = (w: TreeWindow) => `${w.totalRssMiB.median} MiB median (max ${w.totalRssMiB.max}; PSS ${w.totalPssMiB.median}) in ${w.processCount.max} processes: ${Object.entries(byRole(w)).map(([r, m]) => `${r} ${m}`).join(', ')}; CPU ${w.cpuPercentOfOneCore.toFixed(2)} % of one core`;
  const summary: Summary[] = [
    { metric: `kindtray serve, whole tree, 3 KinD contexts + 1 exec-plugin context (the current one), idle ${SECONDS} s (compile cache warm): RSS summed over the tree`, value: line(idle), reference: 'issue 8 target ≤ 250 MiB; issue 8 before: 341 MiB with no clusters at all' },
    {
      metric: 'the same tree at its first start on a checkout (Node compile cache empty: every process strips its TypeScript)',
      value: `${cold.totalRssMiB.last} MiB (PSS ${cold.totalPssMiB.last}): ${Object.entries(byRole(cold)).map(([r, m]) => `${r} ${m}`).join(', ')}`,
      reference: 'the cache lives in the temporary folder: a reboot empties it',
    },
    { metric: `the same after one task launched on each of the 4 contexts, idle ${SECONDS} s`, value: line(used), reference: `import costs (MiB over a bare Node of ${bare}): ${Object.entries(imports).map(([m, v]) => `${m.replace(/^\.\/electron\//, '')} ${v}`).join(', ')}` },
  ];
  writeResult('footprint', results, summary);
}
