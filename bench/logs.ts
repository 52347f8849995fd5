// Task logs with 50 tasks running on one testbed cluster, `kindtray serve` as
// users run it: the log lines per second copied from the Pods into the task
// log files (what every reader is served from), and the CPU the server's
// process tree (supervisor, API worker, Kubernetes children) spends on it.
// Measured twice in the same run with the same load: the log API followed as
// a stream (today), and the old way, a whole-log read of every running Pod
// every 0.5-5 s (KINDTRAY_LOG_FOLLOW=poll), for the ratio. Each task prints
// bursts of 10 numbered lines every 0.5 s (20 lines/s, 1,000 lines/s in all):
// enough to weigh on a 2-core machine shared with the stand-in and the tasks.
//
// Also recorded: how far behind the files are at the end of the window
// (each task's last line in its file against the count of lines printed), and
// whether every copied log is whole and in order (no line lost or repeated).

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskRecord } from '../shared/api.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { freePort, serve, tempHome, writeSettings } from '../e2e/helpers/serve.ts';
import { writeResult } from './lib.ts';
import { descendantsOf, http, type BenchTestbed, keepAlive, loadAverage, log, onCleanup, poll, round, sleep, withTestbed } from './harness.ts';

const TASKS = Number(process.env.BENCH_LOG_TASKS ?? 50);
const WINDOW_S = Number(process.env.BENCH_LOG_SECONDS ?? 15);
const LINES_PER_BURST = 10;
const BURST_EVERY_S = 0.5;
const LAUNCH_BATCH = 5;

type Mode = 'stream' | 'poll';

interface ModeResult {
  mode: Mode;
  tasks: number;
  running: number;
  /** Launches the busy cluster failed (replaced by others). */
  launchFailures: number;
  firstLaunchFailure?: string;
  windowS: number;
  linesPerSecond: number;
  /** Lines the tasks print per second in all (the offered load). */
  printedPerSecond: number;
  serverCpuShareOfOneCore: number;
  cpuMsPer1000Lines: number;
  processes: number;
  /** After the window: lines a task has printed (by the API) and its file has not yet, median and worst over tasks. */
  lagLines: { median: number; worst: number };
  /** Logs whose lines are not 1..n in order, each once. */
  logsNotWhole: number;
  loadAverage: number[];
}

/** Line count and last line number of each task's log files (rank 0). */
function readLogs(dir: string, only?: string): Map<string, { lines: number; last: number; whole: boolean }> {
  const out = new Map<string, { lines: number; last: number; whole: boolean }>();
  let names: string[] = [];
  try {
    names = only ? [`${only}.log`] : readdirSync(dir).filter((f) => /^t-[^.]+\.log$/.test(f));
  } catch {
    return out;
  }
  for (const f of names) {
    let text = '';
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n').filter((l) => l.startsWith('n '));
    let whole = true;
    lines.forEach((l, i) => {
      if (Number(l.slice(2)) !== i + 1) whole = false;
    });
    out.set(f.slice(0, -4), { lines: lines.length, last: lines.length ? Number(lines[lines.length - 1]?.slice(2)) : 0, whole });
  }
  return out;
}

/**
 * CPU of the server's tree in ms: each live process's own time plus what its
 * ended children spent (cutime + cstime, added when it reaps them), so that a
 * Kubernetes child replaced or ended in the window still counts.
 */
function treeCpuMs(root: number): number {
  let sum = 0;
  for (const pid of [root, ...descendantsOf(root)]) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the comm field: state(0) … utime(11) stime(12) cutime(13) cstime(14), in USER_HZ (100 a second).
      sum += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
    } catch {
      // Gone in between: its time is in its parent's cutime once reaped.
    }
  }
  return sum;
}

/** The testbed, and the last line number a Pod has printed, from the API itself. */
type LogBench = BenchTestbed & { apiTail: (pod: string) => Promise<number | undefined> };

async function measure(tb: LogBench, context: string, mode: Mode): Promise<ModeResult> {
  const home = tempHome(`kt-bench-logs-${mode}-`);
  writeSettings(home, { probe: { intervalMs: 5_000, deadlineMs: 2_000 } });
  const server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.image, KINDTRAY_LOG_FOLLOW: mode }), { port: await freePort() });
  const off = onCleanup(async () => {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  });
  try {
    const auth = { authorization: `Bearer ${server.token}` };
    const agent = keepAlive(8);
    await poll('context ok', 120_000, async () => {
      const s = JSON.parse((await http(server.port, '/api/status', { headers: auth, agent })).body) as HealthSnapshot;
      return s.contexts.find((c) => c.name === context)?.state === 'ok' ? true : undefined;
    }, 200);
    const run = `i=0; while true; do j=0; while [ $j -lt ${LINES_PER_BURST} ]; do i=$((i+1)); echo "n $i"; j=$((j+1)); done; sleep ${BURST_EVERY_S}; done`;
    const body = `resources:\n  infra: k8s/${context}\nrun: |\n  ${run}\n`;
    // Launched a batch at a time, each batch started before the next: the stand-in starts Pods as processes, and a
    // burst of 50 on a busy 2-core machine is not what is measured here. A launch the busy cluster fails (its create
    // call past its deadline) is replaced by another, and counted.
    let ids: string[] = [];
    let launchFailures = 0;
    let firstFailure: string | undefined;
    let states: Record<string, number> = {};
    {
      while (ids.length < TASKS) {
        if (launchFailures > TASKS) throw new Error(`more launches failed than the ${TASKS} asked for: ${firstFailure ?? ''}`);
        const batch = Math.min(LAUNCH_BATCH, TASKS - ids.length);
        for (let i = 0; i < batch; i++) {
          const a = await http(server.port, '/api/tasks', { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body, agent, timeoutMs: 30_000 });
          if (a.status !== 201) throw new Error(`a launch was refused (${a.status}): ${a.body.slice(0, 300)}`);
          ids.push((JSON.parse(a.body) as { task: TaskRecord }).task.id);
        }
        await poll('the batch started', 120_000, async () => {
          const list = (JSON.parse((await http(server.port, '/api/tasks?limit=1000', { headers: auth, agent })).body) as { tasks: TaskRecord[] }).tasks.filter((t) => ids.includes(t.id));
          states = list.reduce<Record<string, number>>((a, t) => ((a[t.state] = (a[t.state] ?? 0) + 1), a), {});
          return (states.running ?? 0) + (states.failed ?? 0) === ids.length ? true : undefined;
        }, 1_000);
        const list = (JSON.parse((await http(server.port, '/api/tasks?limit=1000', { headers: auth, agent })).body) as { tasks: TaskRecord[] }).tasks;
        const failed = list.filter((t) => ids.includes(t.id) && t.state === 'failed');
        launchFailures += failed.length;
        firstFailure ??= failed[0]?.reason;
        ids = ids.filter((id) => !failed.some((t) => t.id === id));
      }
    }
    const running = ids.length;
    log(`logs: ${mode}: ${running} tasks running (${launchFailures} launches failed on the busy cluster and were replaced)`);
    // Settle: every stream open (or every poll loop at its pace) before the window.
    await sleep(5_000);
    const logsDir = join(home, 'logs');
    const before = readLogs(logsDir);
    const processes = new Set([server.pid, ...descendantsOf(server.pid)]);
    const cpu0 = treeCpuMs(server.pid);
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const cpu1 = treeCpuMs(server.pid);
    for (const p of descendantsOf(server.pid)) processes.add(p);
    const elapsedS = (performance.now() - t0) / 1000;
    const after = readLogs(logsDir);
    // How far behind the files are: each task's last line printed (from the API), then its last line in the file, read right after.
    const lags: number[] = [];
    for (const id of ids) {
      const a = await http(server.port, `/api/tasks/${id}`, { headers: auth, agent });
      const pod = (JSON.parse(a.body) as { task: TaskRecord }).task.podName;
      const tail = pod ? await tb.apiTail(pod) : undefined;
      const inFile = readLogs(logsDir, id).get(id)?.last ?? 0;
      if (tail !== undefined) lags.push(Math.max(0, tail - inFile));
    }
    let copied = 0;
    for (const [id, a] of after) copied += a.lines - (before.get(id)?.lines ?? 0);
    lags.sort((x, y) => x - y);
    const cpuMs = cpu1 - cpu0;
    for (const id of ids) await http(server.port, `/api/tasks/${id}`, { method: 'DELETE', headers: auth, agent, timeoutMs: 30_000 }).catch(() => undefined);
    agent.destroy();
    return {
      mode,
      tasks: ids.length,
      running,
      launchFailures,
      ...(firstFailure ? { firstLaunchFailure: firstFailure.slice(0, 300) } : {}),
      windowS: round(elapsedS, 1),
      linesPerSecond: round(copied / elapsedS, 1),
      printedPerSecond: round((TASKS * LINES_PER_BURST) / BURST_EVERY_S, 1),
      serverCpuShareOfOneCore: round(cpuMs / 1000 / elapsedS, 3),
      cpuMsPer1000Lines: round((cpuMs / Math.max(1, copied)) * 1000, 1),
      processes: processes.size,
      lagLines: { median: lags[Math.floor(lags.length / 2)] ?? 0, worst: lags[lags.length - 1] ?? 0 },
      logsNotWhole: [...after.values()].filter((a) => !a.whole).length,
      loadAverage: loadAverage(),
    };
  } finally {
    off();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const results: ModeResult[] = [];
  await withTestbed(async (tb) => {
    const cluster = await tb.createCluster(`logs-${process.pid}`);
    const apiTail = async (pod: string): Promise<number | undefined> => {
      const r = await cluster.apiRequest(`/api/v1/namespaces/default/pods/${pod}/log?tailLines=1`, { timeoutMs: 5_000 }).catch(() => undefined);
      const m = r && /n (\d+)/.exec(r.body);
      return m ? Number(m[1]) : undefined;
    };
    for (const mode of ['stream', 'poll'] as const) {
      log(`logs: ${mode}: ${TASKS} tasks, ${WINDOW_S} s window`);
      const r = await measure({ ...tb, apiTail }, cluster.context, mode);
      log(`logs: ${mode}: ${r.linesPerSecond} lines/s copied, server ${(r.serverCpuShareOfOneCore * 100).toFixed(1)} % of a core (${r.cpuMsPer1000Lines} ms CPU per 1,000 lines), lag median ${r.lagLines.median} worst ${r.lagLines.worst} lines, ${r.logsNotWhole} logs not whole`);
      results.push(r);
      // The next mode starts on a quiet cluster: the cancelled tasks' Pods gone.
      await poll('pods deleted', 120_000, async () => {
        const pods = await cluster.apiRequest('/api/v1/namespaces/default/pods', { timeoutMs: 5_000 }).catch(() => undefined);
        return pods && (JSON.parse(pods.body) as { items?: unknown[] }).items?.length === 0 ? true : undefined;
      }, 1_000).catch(() => log('logs: the Pods of the last mode are not all gone; going on'));
    }
  });
  const [stream, poll_] = results;
  if (!stream || !poll_) throw new Error('a mode did not complete');
  const share = (r: ModeResult) => `${(r.serverCpuShareOfOneCore * 100).toFixed(1)} % of a core`;
  const perLine = (r: ModeResult) => (r.linesPerSecond > 0 ? `${r.cpuMsPer1000Lines} ms CPU / 1,000 lines` : 'no line copied in the window');
  // CPU per line copied, when the old way copied any; else the CPU alone says what it costs.
  const ratio = poll_.linesPerSecond > 0 ? round(poll_.cpuMsPer1000Lines / Math.max(0.001, stream.cpuMsPer1000Lines), 1) : null;
  writeResult('logs', { tasks: TASKS, windowS: WINDOW_S, offeredLinesPerSecond: stream.printedPerSecond, stream, poll: poll_, cpuPerLineRatioPollOverStream: ratio }, [
    {
      metric: `log lines/s streamed with ${stream.running} tasks running (${stream.printedPerSecond} printed/s in all)`,
      value: `${stream.linesPerSecond} lines/s, server ${share(stream)} (${perLine(stream)}), files behind the API by a median ${stream.lagLines.median} lines (worst ${stream.lagLines.worst}); ${stream.logsNotWhole} logs not whole`,
      reference: `old whole-log polling, same run: ${poll_.linesPerSecond} lines/s, ${share(poll_)} (${perLine(poll_)}${ratio !== null ? `, ${ratio}× the CPU per line` : ''}), behind by a median ${poll_.lagLines.median} lines (worst ${poll_.lagLines.worst})`,
    },
  ]);
}
