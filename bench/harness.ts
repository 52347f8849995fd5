// What every benchmark needs besides lib.ts: a private testbed (dockerd +
// KinD-like clusters) that is torn down whatever happens, waits on the
// monitor's snapshots, CPU time from /proc, a small loopback HTTP client with
// keep-alive agents, and a bounded closed-loop load generator on top of it.
// Every loop here is bounded in count and in time, and talks to 127.0.0.1 only.

import { readdirSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import type { Monitor } from '../electron/monitor/index.ts';
import { createCluster, ensurePki, NODE_IMAGE_REF, startDockerd, type Cluster, type CreateClusterOptions, type Dockerd } from '../e2e/testbed/index.ts';

// ---------------------------------------------------------------------------
// Cleanup that also runs on Ctrl-C

const cleanups = new Set<() => Promise<void>>();

/** Registers `fn` to run at the end of the benchmark, or when the run is interrupted. Returns its unregister. */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs every registered cleanup (newest first), each bounded, errors reported not thrown. */
export async function runCleanups(): Promise<void> {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      await withTimeout(fn(), 60_000, 'cleanup');
    } catch (e) {
      console.error(`bench: cleanup failed: ${(e as Error).message}`);
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------
// The testbed

export interface BenchTestbed {
  dockerd: Dockerd;
  kubeconfigPath: string;
  image: string;
  /** process.env + DOCKER_HOST + KUBECONFIG (+ extra). */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  createCluster(name: string, opts?: Partial<CreateClusterOptions>): Promise<Cluster>;
}

/** Starts a private dockerd (with the node image and the testbed CA), runs `fn`, destroys it all whatever happens. */
export async function withTestbed<T>(fn: (tb: BenchTestbed) => Promise<T>): Promise<T> {
  const dockerd = await startDockerd({ purpose: 'bench' });
  const off = onCleanup(() => dockerd.destroy());
  try {
    await ensurePki(join(dockerd.dir, 'pki'));
    const kubeconfigPath = join(dockerd.dir, 'kubeconfig');
    const tb: BenchTestbed = {
      dockerd,
      kubeconfigPath,
      image: NODE_IMAGE_REF,
      env: (extra = {}) => ({ ...process.env, DOCKER_HOST: dockerd.dockerHost, KUBECONFIG: kubeconfigPath, ...extra }),
      createCluster: (name, opts = {}) => createCluster(dockerd, { ...opts, name, kubeconfigPath: opts.kubeconfigPath ?? kubeconfigPath }),
    };
    return await fn(tb);
  } finally {
    off();
    await dockerd.destroy();
  }
}

// ---------------------------------------------------------------------------
// Waiting on the monitor

export const clusterOf = (s: HealthSnapshot, c: Cluster) => s.clusters.find((x) => x.name === c.name);
export const contextOf = (s: HealthSnapshot, c: Cluster) => s.contexts.find((x) => x.name === c.context);

/** The first snapshot for which `done` holds (the current one included), and when it came (performance.now()). */
export function until(m: Monitor, done: (s: HealthSnapshot) => boolean, timeoutMs: number, what = 'condition'): Promise<{ snapshot: HealthSnapshot; at: number }> {
  return new Promise((resolve, reject) => {
    let off = (): void => {};
    const check = (s: HealthSnapshot): boolean => {
      if (!done(s)) return false;
      clearTimeout(timer);
      off();
      resolve({ snapshot: s, at: performance.now() });
      return true;
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${what}: not seen within ${timeoutMs} ms`));
    }, timeoutMs);
    off = m.subscribe((s) => void check(s));
    check(m.current().snapshot);
  });
}

/** Polls `probe` every `everyMs` until it gives a value, at most `timeoutMs`. */
export async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------
// CPU time from /proc

const CLK_TCK = 100; // USER_HZ; the same on every Linux ABI Node runs on

/** utime + stime of a process in ms, or undefined when it is gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm field: state(0) ppid(1) … utime(11) stime(12).
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of `pid`'s live threads in ms, to the nanosecond: the sum of their
 * /proc/PID/task/TID/schedstat run times. Finer than procCpuMs (whole clock
 * ticks, 10 ms), which matters for a process that uses a few ms a second; the
 * time of a thread that ended is not in it. Undefined when the process is gone.
 */
export function procCpuPreciseMs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended.
    }
  }
  return ns / 1e6;
}

/**
 * Memory of a process from /proc/PID/status, in KiB (VmRSS = RssAnon + RssFile +
 * RssShmem; VmHWM its peak), and its PSS from /proc/PID/smaps_rollup (pages shared
 * with other processes, such as the Node binary's, divided among them), or
 * undefined when it is gone.
 */
export interface ProcMemory {
  rssKiB: number;
  pssKiB: number;
  hwmKiB: number;
  anonKiB: number;
  fileKiB: number;
  shmemKiB: number;
}

export function procMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rssKiB = kib('VmRSS');
  // A zombie or a kernel thread has no VmRSS line.
  if (Number.isNaN(rssKiB)) return undefined;
  let pssKiB = NaN;
  try {
    pssKiB = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    // Gone in between, or a kernel without smaps_rollup: PSS unknown.
  }
  return { rssKiB, pssKiB, hwmKiB: kib('VmHWM'), anonKiB: kib('RssAnon'), fileKiB: kib('RssFile'), shmemKiB: kib('RssShmem') };
}

/** A process's command line, arguments joined by spaces ('' when it is gone). */
export function procCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Parent pid of a process, or undefined. */
export function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` from /proc/PID/task/TID/children (cheap), or undefined where the kernel lacks it. */
function childrenOf(pid: number): number[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && tid === String(pid)) return undefined;
    }
  }
  return out;
}

/** Every descendant of `root`: through /proc/…/children when the kernel has it, else by walking every process's parent link. */
export function descendantsOf(root: number): number[] {
  if (childrenOf(root) !== undefined) {
    const out: number[] = [];
    const queue = [root];
    while (queue.length && out.length < 10_000) {
      for (const c of childrenOf(queue.shift() ?? 0) ?? []) {
        out.push(c);
        queue.push(c);
      }
    }
    return out.sort((a, b) => a - b);
  }
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pp = ppidOf(Number(d));
    if (pp !== undefined) parent.set(Number(d), pp);
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    let p = parent.get(pid);
    for (let hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
      p = parent.get(p);
    }
  }
  return out.sort((a, b) => a - b);
}

export const loadAverage = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

// ---------------------------------------------------------------------------
// A loopback HTTP client with keep-alive agents

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  agent?: Agent;
}

export const keepAlive = (maxSockets = 1): Agent => new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

/** One request to 127.0.0.1; resolves status -1 on a network error or at the deadline, never rejects. */
export function http(port: number, path: string, opts: HttpOptions = {}): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, body: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, body, ms: performance.now() - started });
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        agent: opts.agent ?? false,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString()));
        res.on('error', (e) => done(-1, e.message));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done(-1, 'timeout');
    });
    req.on('error', (e) => done(-1, e.message));
    req.end(opts.body);
  });
}

export interface LoadResult {
  connections: number;
  durationMs: number;
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** Everything else: other statuses, network errors and timeouts (status -1). */
  failed: number;
  statuses: Record<string, number>;
  /** 2xx answers per second. */
  reqPerSec: number;
  /** Any HTTP answer (not a network error or timeout) per second. */
  answeredPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Whether the request cap (not the clock) ended the run. */
  cappedByCount: boolean;
  /** Answers slower than opts.overMs, when asked. */
  over?: { thresholdMs: number; count: number };
}

/**
 * Closed loop: `connections` keep-alive connections, each sending its next
 * request when the previous answer is in, for `durationMs` or until
 * `maxRequests` were sent, whichever comes first.
 */
export async function load(port: number, path: string, opts: HttpOptions & { connections: number; durationMs: number; maxRequests: number; overMs?: number }): Promise<LoadResult> {
  const agent = keepAlive(opts.connections);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  const started = performance.now();
  const endAt = started + opts.durationMs;
  const worker = async () => {
    while (performance.now() < endAt && sent < opts.maxRequests) {
      sent++;
      const a = await http(port, path, { ...opts, agent, timeoutMs: opts.timeoutMs ?? 10_000 });
      latencies.push(a.ms);
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const elapsed = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (x: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(x * latencies.length) - 1))] ?? NaN) * 100) / 100;
  const ok = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((a, [, n]) => a + n, 0);
  return {
    connections: opts.connections,
    durationMs: Math.round(elapsed),
    requests: latencies.length,
    ok,
    failed: latencies.length - ok,
    statuses,
    reqPerSec: Math.round((ok / elapsed) * 1000),
    answeredPerSec: Math.round(((latencies.length - (statuses['-1'] ?? 0)) / elapsed) * 1000),
    latencyMs: { p50: q(0.5), p99: q(0.99), max: q(1) },
    cappedByCount: sent >= opts.maxRequests,
    ...(opts.overMs !== undefined ? { over: { thresholdMs: opts.overMs, count: latencies.filter((x) => x > (opts.overMs ?? Infinity)).length } } : {}),
  };
}

/** Sequential requests every `gapMs` until `stop()` says so, at most `maxSamples` or `maxMs`; their latencies. */
export async function sample(fn: () => Promise<HttpAnswer>, opts: { gapMs: number; maxSamples: number; maxMs: number; stop?: () => boolean }): Promise<HttpAnswer[]> {
  const out: HttpAnswer[] = [];
  const endAt = performance.now() + opts.maxMs;
  while (out.length < opts.maxSamples && performance.now() < endAt && !opts.stop?.()) {
    out.push(await fn());
    if (opts.gapMs > 0) await sleep(opts.gapMs);
  }
  return out;
}

/**
 * Follows a Kindtray server's event stream (GET /api/events) and remembers when
 * the last `snapshot` event came: the supervisor sends the worker a snapshot at
 * the same moment it sends one to the stream.
 */
export function followSnapshots(port: number, token: string): { lastAt: () => number; count: () => number; close: () => void } {
  let lastAt = performance.now();
  let count = 0;
  let buffered = '';
  const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
    res.on('data', (b: Buffer) => {
      buffered += b.toString();
      const events = buffered.split('\n\n');
      buffered = events.pop() ?? '';
      for (const e of events) {
        if (e.startsWith('event: snapshot')) {
          lastAt = performance.now();
          count++;
        }
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
  return { lastAt: () => lastAt, count: () => count, close: () => void req.destroy() };
}

// ---------------------------------------------------------------------------
// Formatting

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------
// The ceiling: a bare node:http server

/** A bare node:http server in its own process, answering each path with the given bytes and headers. */
export async function bareServer(answers: Record<string, { headers: Record<string, string>; body: string }>): Promise<{ port: number; child: ChildProcess; stop: () => void }> {
  const script = `
const http = require('node:http');
const answers = JSON.parse(process.env.BENCH_BARE_ANSWERS);
const server = http.createServer((req, res) => {
  const a = answers[req.url];
  if (!a) { res.writeHead(404).end(); return; }
  res.writeHead(200, { ...a.headers, 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', 2048, () => process.stdout.write(server.address().port + '\\n'));
// Gone with the benchmark: its end of stdin closes when the benchmark exits, however it exits.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, BENCH_BARE_ANSWERS: JSON.stringify(answers) }, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare server did not start')), 15_000);
    child.stdout?.once('data', (b: Buffer) => {
      clearTimeout(timer);
      resolve(Number(b.toString().trim()));
    });
    child.once('exit', () => reject(new Error('bare server exited')));
  });
  return { port, child, stop: () => void child.kill('SIGKILL') };
}
