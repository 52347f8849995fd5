// Idle cost of the monitor: two healthy KinD-like clusters, the monitor with
// default settings watching them, nothing happening, for BENCH_IDLE_WINDOWS
// windows in a row (default 3) of BENCH_IDLE_SECONDS (default 60); the median
// window is the result. CPU time of this process (getrusage) plus the probe
// child (and any other descendant but the testbed's dockerd; their threads'
// schedstat run times, to the nanosecond) as a share of one core, against a
// baseline window of the same length in the same process with no monitor. dockerd's own CPU in both windows is recorded too: what the
// monitor's Docker calls cost the engine. The counting Docker proxy is a
// process of its own, left out of both windows.
//
// Calls to the outside world, printed beside the CPU: Docker API calls are
// counted at the engine's side by a small unix-socket proxy in front of it (the
// monitor's DOCKER_HOST points at it; it parses request lines); Kubernetes API
// calls (and new connections) inside the probe child, by outside-calls.ts,
// which the child loads through NODE_OPTIONS (the stand-in keeps no request log).
//
// The monitor runs here with the V8 flags it has in `kindtray serve` (bin.js
// starts serve again with them): without them this process is started again
// with them, as a child the run waits for.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEADLINES, INTERVALS } from '../shared/constants.ts';
import { Monitor } from '../electron/monitor/index.ts';
import { CHILD_V8_FLAGS } from '../electron/process/index.ts';
import { fmtInt, loadAverage, log, descendantsOf, onCleanup, procCommandLine, procCpuPreciseMs, round, runCleanups, sleep, until, clusterOf, contextOf, withTestbed } from './harness.ts';
import { writeResult, type Summary } from './lib.ts';
import { CALL_LOG_ENV, parseCallLog, type OutsideCall } from './outside-calls.ts';
import { startDockerCounter } from './docker-counter.ts';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
/**
 * Monitor windows in a row (BENCH_IDLE_WINDOWS, default 3); the median one is the result. On a shared VM one
 * window can read 0.15 points off the next with nothing changed: the median of three, with the range beside
 * it, says more than any one of them.
 */
const WINDOWS = Math.max(1, Number(process.env.BENCH_IDLE_WINDOWS ?? 3));

interface Window {
  wallMs: number;
  /** performance.timeOrigin-based epoch ms of the window's start and end (to pick its calls from the call log). */
  startedAt: number;
  endedAt: number;
  selfCpuMs: number;
  childCpuMs: number;
  children: { pid: number; cpuMs: number; cmd: string }[];
  dockerdCpuMs: number | undefined;
  /** (self + children) / wall, as a share of one core, in %. */
  cpuPercentOfOneCore: number;
  /** Times this process went to sleep and was woken (voluntary context switches of all its threads), per second: at an idle app's rate, most of its CPU. */
  selfWakeupsPerSecond: number | undefined;
  /** The same by thread name (main thread = the process's name), for this process and each child: where the wake-ups come from. */
  wakeupsPerSecondByThread: Record<string, Record<string, number>>;
  loadAverage: number[];
}

/** Voluntary context switches of every thread of `pid` so far, or undefined where /proc cannot tell. */
function wakeups(pid: number | 'self'): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((n, tid) => n + Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0), 0);
  } catch {
    return undefined;
  }
}

/** Voluntary context switches of `pid` so far by thread name ("node" for the main thread; libuv's and V8's workers have their own names). */
function wakeupsByThread(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? tid;
        out.set(name, (out.get(name) ?? 0) + Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // The thread ended.
      }
    }
  } catch {
    // The process ended, or no /proc.
  }
  return out;
}

/** How often a window looks for new descendants: each look costs this process CPU, which both windows pay alike. */
const LOOK_EVERY_MS = 5_000;

/** Direct children of `pid` (every thread's /proc/PID/task/TID/children). */
function childrenOf(pid: number): number[] {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/**
 * CPU used in the next `seconds`: this process, its descendants (dockerd's tree and `leftOut` excluded), and dockerd.
 * The walk never enters dockerd's tree (its engine, shims and containers: hundreds of threads to read), so the
 * measuring itself stays a small, equal part of both windows.
 */
async function measure(seconds: number, dockerdPid: number | undefined, leftOut: number[] = []): Promise<Window> {
  const excluded = new Set([...leftOut, ...(dockerdPid ? [dockerdPid, ...descendantsOf(dockerdPid)] : [])]);
  const kids = () => {
    const out: number[] = [];
    const queue = [process.pid];
    while (queue.length > 0 && out.length < 1_000) {
      for (const c of childrenOf(queue.shift() ?? 0)) {
        if (excluded.has(c)) continue;
        out.push(c);
        queue.push(c);
      }
    }
    return out;
  };
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const firstWakes = new Map<number | 'self', Map<string, number>>([['self', wakeupsByThread('self')]]);
  const lastWakes = new Map<number | 'self', Map<string, number>>();
  const look = () => {
    for (const pid of kids()) {
      const cpu = procCpuPreciseMs(pid);
      if (cpu === undefined) continue;
      // A child born during the window counts from zero; one seen at the start, from then.
      if (!first.has(pid)) {
        first.set(pid, cpu);
        firstWakes.set(pid, wakeupsByThread(pid));
      }
      last.set(pid, cpu);
      lastWakes.set(pid, wakeupsByThread(pid));
    }
  };
  look();
  const startKids = new Set(first.keys());
  const self0 = process.cpuUsage();
  const wakeups0 = wakeups('self');
  const dockerd0 = dockerdPid ? procCpuPreciseMs(dockerdPid) : undefined;
  const t0 = performance.now();
  const startedAt = Date.now();
  const endAt = t0 + seconds * 1000;
  while (performance.now() < endAt) {
    await sleep(Math.min(LOOK_EVERY_MS, endAt - performance.now()));
    look();
  }
  const wallMs = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const wakeups1 = wakeups('self');
  lastWakes.set('self', wakeupsByThread('self'));
  const selfCpuMs = (self.user + self.system) / 1000;
  const dockerd1 = dockerdPid ? procCpuPreciseMs(dockerdPid) : undefined;
  const children = [...last.entries()].map(([pid, cpu]) => ({ pid, cpuMs: round(cpu - (startKids.has(pid) ? (first.get(pid) ?? 0) : 0)), cmd: procCommandLine(pid).replace(/^\S+\s/, '').slice(0, 200) }));
  const childCpuMs = children.reduce((a, c) => a + c.cpuMs, 0);
  return {
    wallMs: Math.round(wallMs),
    startedAt,
    endedAt: Date.now(),
    selfCpuMs: round(selfCpuMs),
    childCpuMs: round(childCpuMs),
    children,
    dockerdCpuMs: dockerd0 !== undefined && dockerd1 !== undefined ? round(dockerd1 - dockerd0) : undefined,
    cpuPercentOfOneCore: round(((selfCpuMs + childCpuMs) / wallMs) * 100, 3),
    selfWakeupsPerSecond: wakeups0 !== undefined && wakeups1 !== undefined ? round(((wakeups1 - wakeups0) / wallMs) * 1000, 1) : undefined,
    wakeupsPerSecondByThread: Object.fromEntries(
      [...lastWakes.entries()].map(([pid, byName]) => [
        String(pid),
        Object.fromEntries([...byName.entries()].map(([name, n]) => [name, round(((n - (firstWakes.get(pid)?.get(name) ?? 0)) / wallMs) * 1000, 2)]).filter(([, r]) => Number(r) > 0)),
      ]),
    ),
    loadAverage: loadAverage(),
  };
}

const perMinute = (n: number, wallMs: number) => round((n / wallMs) * 60_000, 1);

/** Kubernetes calls of the window from the call log: requests and new connections, by context (from the API's port) and by path. */
function kubernetesCalls(calls: OutsideCall[], w: Window, contextByPort: Map<string, string>) {
  const portOf = (c: OutsideCall) => /:(\d+)$/.exec(c.origin)?.[1] ?? '';
  const inWindow = calls.filter((c) => c.at >= w.startedAt && c.at <= w.endedAt && contextByPort.has(portOf(c)));
  const requests = inWindow.filter((c) => c.kind === 'request');
  const connections = inWindow.filter((c) => c.kind === 'connect');
  const count = (xs: OutsideCall[], key: (c: OutsideCall) => string) => {
    const m: Record<string, number> = {};
    for (const x of xs) m[key(x)] = (m[key(x)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(m).sort());
  };
  const contextOfCall = (c: OutsideCall) => contextByPort.get(portOf(c)) ?? c.origin;
  return {
    what: 'HTTPS requests (and new connections) the probe child sent to the clusters\' APIs, seen through Node\'s diagnostics channels (outside-calls.ts)',
    total: requests.length,
    perMinute: perMinute(requests.length, w.wallMs),
    byContext: count(requests, contextOfCall),
    byRoute: count(requests, (c) => `${c.method ?? ''} ${c.path ?? ''}`),
    connections: connections.length,
    connectionsPerMinute: perMinute(connections.length, w.wallMs),
    byProcess: count(requests, (c) => String(c.pid)),
  };
}

export async function run(): Promise<void> {
  if (CHILD_V8_FLAGS.every((f) => process.execArgv.includes(f))) return measureIdle();
  log(`idle-cpu: started again with serve's V8 flags (${CHILD_V8_FLAGS.join(' ')})`);
  const child = spawn(process.execPath, [...CHILD_V8_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  const off = onCleanup(async () => void child.kill('SIGTERM'));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  off();
  if (code !== 0) throw new Error(`idle-cpu with serve's V8 flags exited ${code}`);
}

if (import.meta.main) {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void runCleanups().finally(() => process.exit(130)));
  try {
    await measureIdle();
  } finally {
    await runCleanups();
  }
}

async function measureIdle(): Promise<void> {
  let baseline: Window | undefined;
  let monitored: Window | undefined;
  const windows: Window[] = [];
  let dockerCalls: Record<string, number> = {};
  let dockerConnections = 0;
  let calls: OutsideCall[] = [];
  const contextByPort = new Map<string, string>();

  await withTestbed(async (tb) => {
    const [a, b] = await Promise.all([tb.createCluster(`idle-a-${process.pid}`), tb.createCluster(`idle-b-${process.pid}`)]);
    if (!a || !b) throw new Error('clusters not created');
    for (const c of [a, b]) contextByPort.set(String(c.apiPort), c.context);
    const counter = await startDockerCounter(tb.dockerd.socketPath, join(tb.dockerd.dir, 'bench-proxy.sock'));
    // The call log is in a folder of its own: the testbed's folder holds the kubeconfig and the engine's socket, which the
    // monitor watches, and a line appended there would wake the monitor (twice: the event, then the
    // kubeconfig watch's debounce) for the benchmark's own bookkeeping.
    const callLogDir = mkdtempSync(join(tmpdir(), 'kindtray-bench-calls-'));
    const callLog = join(callLogDir, 'calls.log');
    // The probe child is forked with this process's environment: it loads the call counter.
    const nodeOptions = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --import ${new URL('./outside-calls.ts', import.meta.url).href}`.trim();
    process.env[CALL_LOG_ENV] = callLog;
    const restoreEnv = () => {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
      delete process.env[CALL_LOG_ENV];
      rmSync(callLogDir, { recursive: true, force: true });
    };
    const monitor = new Monitor({ env: tb.env({ DOCKER_HOST: `unix://${counter.socketPath}` }) });
    const off = onCleanup(async () => {
      monitor.stop();
      restoreEnv();
      counter.close();
    });
    try {
      await sleep(2_000); // let cluster creation's own work settle
      log(`idle-cpu: baseline, no monitor, ${SECONDS} s`);
      baseline = await measure(SECONDS, tb.dockerd.pid, [counter.pid]);

      await monitor.start();
      const healthy = (c: typeof a) => (s: Parameters<typeof clusterOf>[0]) => clusterOf(s, c)?.state === 'running' && contextOf(s, c)?.state === 'ok';
      await until(monitor, (s) => healthy(a)(s) && healthy(b)(s), 30_000, 'both clusters healthy');
      await sleep(2_000); // past the start-up looks
      counter.reset();
      log(`idle-cpu: monitor idle with 2 healthy clusters, ${WINDOWS} windows of ${SECONDS} s (children ${descendantsOf(process.pid).join(', ')})`);
      for (let i = 0; i < WINDOWS; i++) {
        const w = await measure(SECONDS, tb.dockerd.pid, [counter.pid]);
        log(`idle-cpu: window ${i + 1}: ${w.cpuPercentOfOneCore.toFixed(3)} % (self ${w.selfCpuMs} ms, children ${w.childCpuMs} ms)`);
        windows.push(w);
      }
      monitored = [...windows].sort((x, y) => x.cpuPercentOfOneCore - y.cpuPercentOfOneCore)[Math.floor((windows.length - 1) / 2)];
      const counted = await counter.report();
      dockerCalls = counted.requests;
      dockerConnections = counted.connections;
      try {
        calls = parseCallLog(readFileSync(callLog, 'utf8'));
      } catch {
        log('idle-cpu: warning: no call log (did the probe child load outside-calls.ts?)');
      }
      const s = monitor.current().snapshot;
      if (!healthy(a)(s) || !healthy(b)(s)) log('idle-cpu: warning: a cluster was not healthy at the end of the window');
    } finally {
      off();
      monitor.stop();
      restoreEnv();
      counter.close();
    }
  });
  if (!baseline || !monitored) throw new Error('no measurement');

  const dockerTotal = Object.values(dockerCalls).reduce((x, y) => x + y, 0);
  // The Docker proxy counted over every window.
  const countedWallMs = windows.reduce((x, w) => x + w.wallMs, 0);
  const range = windows.map((w) => w.cpuPercentOfOneCore);
  const kube = kubernetesCalls(calls, monitored, contextByPort);
  // Two healthy clusters are probed every few seconds: none counted means the counter missed them.
  if (kube.total === 0) throw new Error('idle-cpu: no Kubernetes request was counted (does outside-calls.ts still listen where api-get.ts tells them?)');
  const net = round(monitored.cpuPercentOfOneCore - baseline.cpuPercentOfOneCore, 3);
  const kubeChildren = monitored.children.filter((c) => String(c.pid) in kube.byProcess);
  const childCpu = (pred: (c: Window['children'][number]) => boolean) => monitored?.children.filter(pred).reduce((x, c) => x + c.cpuMs, 0) ?? 0;
  const proberCpu = childCpu((c) => String(c.pid) in kube.byProcess);
  const results = {
    seconds: SECONDS,
    settings: { probeIntervalMs: INTERVALS.kubeProbe, probeDeadlineMs: DEADLINES.kubeProbe, dockerPingIdleMs: INTERVALS.dockerPingIdle, v8Flags: process.execArgv, note: 'defaults' },
    clusters: 2,
    baseline: { what: 'this process, same testbed and clusters, no monitor', ...baseline },
    windows: windows.map((w) => ({ cpuPercentOfOneCore: w.cpuPercentOfOneCore, selfCpuMs: w.selfCpuMs, childCpuMs: w.childCpuMs, selfWakeupsPerSecond: w.selfWakeupsPerSecond, loadAverage: w.loadAverage })),
    monitor: {
      what: `the median of ${windows.length} windows in a row: this process (the monitor) + its descendants (the probe child); dockerd and the counting Docker proxy (a process of its own) excluded`,
      ...monitored,
      kubernetesChildren: kubeChildren.map((c) => c.pid),
      kubernetesChildrenCpuMs: round(proberCpu),
    },
    netCpuPercentOfOneCore: net,
    dockerApi: {
      what: 'HTTP requests through a counting proxy (its own process) in front of the engine (the long-lived GET /events stream counts once)',
      total: dockerTotal,
      overMs: countedWallMs,
      perMinute: perMinute(dockerTotal, countedWallMs),
      connections: dockerConnections,
      byRoute: dockerCalls,
    },
    kubernetesApi: kube,
  };
  const share = (w: Window) => `${w.cpuPercentOfOneCore.toFixed(2)} %`;
  const summary: Summary[] = [
    {
      metric: `monitor idle, 2 healthy clusters: CPU share of one core (this process + probe child), the median of ${windows.length} windows of ${SECONDS} s`,
      value: `${share(monitored)} (windows ${range.map((r) => r.toFixed(2)).join(', ')} %; median's self ${round((monitored.selfCpuMs / monitored.wallMs) * 100, 2)} %, probe child ${round((proberCpu / monitored.wallMs) * 100, 2)} %); net of baseline ${net.toFixed(2)} points; beside it ${perMinute(dockerTotal, countedWallMs)} Docker + ${kube.perMinute} Kubernetes API calls/min`,
      reference: `issue 8 target ≤ 0.5 %; same process without a monitor, same ${SECONDS} s: ${share(baseline)}; this process woken ${monitored.selfWakeupsPerSecond ?? '?'}/s with the monitor, ${baseline.selfWakeupsPerSecond ?? '?'}/s without; load average ${monitored.loadAverage[0] ?? '?'}`,
    },
    {
      metric: 'monitor idle: calls to the outside world',
      value: `${perMinute(dockerTotal, countedWallMs)} Docker API calls/min (${fmtInt(dockerTotal)} in ${windows.length} windows), ${kube.perMinute} Kubernetes API requests/min (${fmtInt(kube.total)} in the median window, for 2 contexts: ${Object.entries(kube.byRoute).map(([r, n]) => `${r} ×${n}`).join(', ')}) over ${fmtInt(kube.connections)} new connections`,
      reference: 'Podman Desktop: engine ping every 5 s (12/min) and provider status every 2 s (30/min); Headlamp: cluster status every 30 s',
    },
  ];
  const line = `idle-cpu: ${share(monitored)} of one core; ${perMinute(dockerTotal, countedWallMs)} Docker and ${kube.perMinute} Kubernetes API calls per minute (${kube.connectionsPerMinute} new connections per minute)`;
  log(line);
  writeResult('idle-cpu', results, summary);
}
