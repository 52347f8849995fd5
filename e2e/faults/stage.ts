// The stage the fault matrix and the chaos soak play on: a real dockerd with
// three KinD-like clusters (dev, spare, and drift whose API port Docker assigns
// anew at every start), and `kindtray serve` running against them as a real
// process. Used by bench/fault-matrix.ts, bench/soak.ts and by the CI tests
// e2e/faults.int.test.ts and e2e/soak.int.test.ts, so that the bench and the
// tests drive Kindtray the same way.
//
// Everything here talks to 127.0.0.1 only, and every wait is bounded.

import { spawn } from 'node:child_process';
import { chownSync, copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { HealthResponse, TaskRecord } from '../../shared/api.ts';
import type { HealthSnapshot, Problem } from '../../shared/snapshot.ts';
import { defaultSettings } from '../../electron/supervisor/index.ts';
import { BIN, call, kindtray, readToken, serve, tempHome, writeSettings, freePort, type Served } from '../helpers/serve.ts';
import {
  editKubeconfig,
  readKubeconfig,
  setContextServer,
  setCurrentContext,
  type Cluster,
  type CreateClusterOptions,
  type Dockerd,
  type Kubeconfig,
} from '../testbed/index.ts';

// ---------------------------------------------------------------------------
// What the stage needs of a testbed (bench/harness.ts's BenchTestbed and the
// vitest Testbed both give it).

export interface FaultBed {
  dockerd: Dockerd;
  kubeconfigPath: string;
  /** The node image (busybox inside): what tasks run in. */
  image: string;
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  createCluster(name: string, opts?: Partial<CreateClusterOptions>): Promise<Cluster>;
}

/** settings.json as the stage writes it (the fields the supervisor reads). */
export interface StageSettings {
  dockerStartCommand: string;
  probe: { intervalMs: number; deadlineMs: number };
  watchdog: { intervalMs: number; slowMs: number; missesBeforeRestart: number; autoRestart: boolean };
}

/** Kindtray's own defaults (electron/supervisor/settings.ts), but for the Docker start command, which the testbed gives. */
export const DEFAULT_SETTINGS: Omit<StageSettings, 'dockerStartCommand'> = (() => {
  const d = defaultSettings();
  return { probe: { ...d.probe }, watchdog: { ...d.watchdog } };
})();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const now = (): number => performance.now();
export const round = (x: number): number => Math.round(x);

// ---------------------------------------------------------------------------
// The event stream: every snapshot the supervisor publishes, with when it came.

export interface Seen {
  snapshot: HealthSnapshot;
  /** performance.now() when the event arrived. */
  at: number;
}

/**
 * Follows GET /api/events and keeps the snapshots it brings (the last 2,000).
 * The supervisor sends one event per change of the snapshot, the same object
 * GET /api/status answers, so the stream shows states too short-lived for
 * polling (a worker `hung` for the instant before its restart). Reconnects
 * when the stream breaks, until closed.
 */
export class SnapshotFeed {
  readonly seen: Seen[] = [];
  private readonly listeners = new Set<(s: Seen) => void>();
  private closed = false;
  private req: ReturnType<typeof request> | undefined;
  private readonly port: number;
  private readonly token: string;
  connects = 0;

  constructor(port: number, token: string) {
    this.port = port;
    this.token = token;
    this.connect();
  }

  get latest(): Seen | undefined {
    return this.seen[this.seen.length - 1];
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }

  /** The first snapshot at or after `since` for which `done` holds (past ones included), or undefined at the deadline. */
  waitFor(done: (s: HealthSnapshot) => boolean, opts: { since?: number; timeoutMs: number }): Promise<Seen | undefined> {
    const since = opts.since ?? now();
    const past = this.seen.find((x) => x.at >= since && done(x.snapshot));
    if (past) return Promise.resolve(past);
    // The state at `since` may already be the one wanted (no change comes then).
    const last = this.latest;
    if (last && last.at < since && done(last.snapshot)) return Promise.resolve({ snapshot: last.snapshot, at: since });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        resolve(undefined);
      }, opts.timeoutMs);
      const listener = (x: Seen) => {
        if (!done(x.snapshot)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(x);
      };
      this.listeners.add(listener);
    });
  }

  private connect(): void {
    if (this.closed) return;
    this.connects++;
    let buffered = '';
    const req = request({ host: '127.0.0.1', port: this.port, path: '/api/events', headers: { authorization: `Bearer ${this.token}` }, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        const events = buffered.split('\n\n');
        buffered = events.pop() ?? '';
        for (const e of events) {
          if (!e.startsWith('event: snapshot')) continue;
          const data = e.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          try {
            const parsed = JSON.parse(data.slice(6)) as { snapshot: HealthSnapshot };
            const x = { snapshot: parsed.snapshot, at: now() };
            this.seen.push(x);
            if (this.seen.length > 2_000) this.seen.splice(0, this.seen.length - 2_000);
            for (const l of [...this.listeners]) l(x);
          } catch {
            // A torn event: the next one carries the state again.
          }
        }
      });
      res.on('end', () => this.reconnect());
      res.on('error', () => this.reconnect());
    });
    req.on('error', () => this.reconnect());
    req.end();
    this.req = req;
  }

  private reconnect(): void {
    if (this.closed) return;
    setTimeout(() => this.connect(), 200).unref();
  }
}

// ---------------------------------------------------------------------------
// One Kindtray server, as its users reach it.

export interface FixAnswer {
  status: number;
  ok: boolean;
  message: string;
  ms: number;
}

export class Kindtray {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  port: number;
  token: string;
  /** The supervisor's pid. */
  pid: number;
  feed: SnapshotFeed;
  /** Set when this handle started the process itself (`serve`); a server started by the CLI is detached. */
  served: Served | undefined;

  constructor(opts: { home: string; env: NodeJS.ProcessEnv; port: number; token: string; pid: number; served?: Served }) {
    this.home = opts.home;
    this.env = opts.env;
    this.port = opts.port;
    this.token = opts.token;
    this.pid = opts.pid;
    this.served = opts.served;
    this.feed = new SnapshotFeed(this.port, this.token);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async status(timeoutMs = 5_000): Promise<(HealthSnapshot & { ageMs?: number }) | undefined> {
    try {
      const r = await call<HealthSnapshot & { ageMs?: number }>(`${this.url}/api/status`, { token: this.token, timeoutMs });
      return r.status === 200 ? r.body : undefined;
    } catch {
      return undefined;
    }
  }

  async health(timeoutMs = 3_000): Promise<HealthResponse | undefined> {
    try {
      const r = await call<HealthResponse>(`${this.url}/api/health`, { timeoutMs });
      return r.status === 200 ? r.body : undefined;
    } catch {
      return undefined;
    }
  }

  async fix(id: string, timeoutMs = 90_000): Promise<FixAnswer> {
    const started = now();
    try {
      const r = await call<{ ok?: boolean; message?: string; error?: string }>(`${this.url}/control/fixes/${encodeURIComponent(id)}`, { method: 'POST', token: this.token, timeoutMs });
      return { status: r.status, ok: r.status === 200 && r.body.ok === true, message: r.body.message ?? r.body.error ?? '', ms: now() - started };
    } catch (e) {
      return { status: -1, ok: false, message: `no answer: ${(e as Error).message}`, ms: now() - started };
    }
  }

  /** POST /api/tasks; status -1 when no answer came within the deadline. */
  async launch(yaml: string, query = '', timeoutMs = 20_000): Promise<{ status: number; ms: number; task?: TaskRecord; error?: string; field?: string; fixId?: string }> {
    const started = now();
    try {
      const r = await call<{ task?: TaskRecord; error?: string; field?: string; errors?: { path: string; message: string; fix?: { id: string } }[] }>(
        `${this.url}/api/tasks${query}`,
        { method: 'POST', token: this.token, body: yaml, headers: { 'content-type': 'application/yaml' }, timeoutMs },
      );
      const b = typeof r.body === 'object' && r.body !== null ? r.body : {};
      return {
        status: r.status,
        ms: r.ms,
        ...(b.task ? { task: b.task } : {}),
        ...(b.error ? { error: b.error } : {}),
        ...(b.field !== undefined ? { field: b.field } : {}),
        ...(b.errors?.[0]?.fix?.id ? { fixId: b.errors[0].fix.id } : {}),
      };
    } catch (e) {
      return { status: -1, ms: now() - started, error: (e as Error).message };
    }
  }

  async tasks(timeoutMs = 10_000): Promise<TaskRecord[] | undefined> {
    try {
      const r = await call<{ tasks: TaskRecord[] }>(`${this.url}/api/tasks?limit=1000`, { token: this.token, timeoutMs });
      return r.status === 200 ? r.body.tasks : undefined;
    } catch {
      return undefined;
    }
  }

  async task(id: string, timeoutMs = 10_000): Promise<TaskRecord | undefined> {
    try {
      const r = await call<{ task: TaskRecord }>(`${this.url}/api/tasks/${id}`, { token: this.token, timeoutMs });
      return r.status === 200 ? r.body.task : undefined;
    } catch {
      return undefined;
    }
  }

  async cancel(id: string, timeoutMs = 30_000): Promise<{ status: number; task?: TaskRecord }> {
    try {
      const r = await call<{ task?: TaskRecord }>(`${this.url}/api/tasks/${id}`, { method: 'DELETE', token: this.token, timeoutMs });
      return { status: r.status, ...(r.body?.task ? { task: r.body.task } : {}) };
    } catch {
      return { status: -1 };
    }
  }

  /** Stops the server whatever state it is in: SIGCONT (a frozen one), then `kindtray server stop`, then SIGKILL. */
  async stop(): Promise<void> {
    this.feed.close();
    signal(this.pid, 'SIGCONT');
    for (const w of workerPids(this.pid)) signal(w, 'SIGCONT');
    await kindtray(['server', 'stop'], this.env, 30_000);
    if (isKindtray(this.pid)) signal(this.pid, 'SIGKILL');
    await this.served?.stop();
  }
}

/** Starts `kindtray serve` with its own KINDTRAY_HOME and settings. */
export async function startKindtray(bed: FaultBed, settings: StageSettings, opts: { port?: number; home?: string } = {}): Promise<Kindtray> {
  const home = opts.home ?? tempHome('kt-faults-');
  writeSettings(home, settings);
  const env = bed.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: bed.image });
  const served = await serve(env, { port: opts.port ?? (await freePort()), timeoutMs: 60_000 });
  return new Kindtray({ home, env, port: served.port, token: served.token, pid: served.pid, served });
}

/** The unprivileged user the stage runs Kindtray as, to meet a Docker socket it may not open (nobody). */
export const UNPRIVILEGED = { uid: 65534, gid: 65534 };

/**
 * Starts `kindtray serve` as an unprivileged user (root drops to `uid`/`gid`,
 * with no supplementary groups): its own KINDTRAY_HOME, HOME and a copy of the
 * stage's kubeconfig, all owned by that user. Resolves when it listens.
 */
export async function startKindtrayAs(bed: FaultBed, settings: StageSettings, user = UNPRIVILEGED): Promise<Kindtray> {
  const home = tempHome('kt-faults-user-');
  writeSettings(home, settings);
  const kubeconfig = join(home, 'kubeconfig');
  copyFileSync(bed.kubeconfigPath, kubeconfig);
  for (const f of [home, join(home, 'settings.json'), kubeconfig]) chownSync(f, user.uid, user.gid);
  const env = bed.env({ KINDTRAY_HOME: home, HOME: home, KUBECONFIG: kubeconfig, KINDTRAY_TASK_IMAGE: bed.image });
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--json', '--port', String(port)], { env, uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const info = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kindtray serve (uid ${user.uid}) did not start in time; stderr:\n${err}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kindtray serve (uid ${user.uid}) exited (${code}); stderr:\n${err}`));
    });
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve(JSON.parse(out.split('\n')[0] ?? '{}') as { port: number; pid: number });
    });
  });
  const k = new Kindtray({ home, env, port: info.port, token: readToken(home), pid: info.pid });
  const stop = k.stop.bind(k);
  k.stop = async () => {
    await stop();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return k;
}

/** A handle on the server server.json names (one the CLI started in the background). */
export function attachKindtray(home: string, env: NodeJS.ProcessEnv): Kindtray | undefined {
  try {
    const info = JSON.parse(readFileSync(`${home}/server.json`, 'utf8')) as { pid: number; port: number; token: string };
    return new Kindtray({ home, env, port: info.port, token: info.token, pid: info.pid });
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Processes, from /proc

export function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is a Kindtray process (its command line runs electron/cli/bin.js or a worker/probe module). */
export function isKindtray(pid: number): boolean {
  try {
    return /bin\.js|worker-main|kube-child/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Every descendant of `root` (children, grandchildren…), by each process's parent link. */
export function descendants(root: number): number[] {
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

/** The direct children of the supervisor that run the API worker. */
export function workerPids(supervisor: number): number[] {
  return descendants(supervisor).filter((p) => ppidOf(p) === supervisor && cmdline(p).includes('worker-main'));
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Resident set size in KiB. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Processes (anywhere) whose command line contains `needle`. */
export function processesMatching(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    if (cmdline(Number(d)).includes(needle)) out.push(Number(d));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The stage

export interface Stage {
  bed: FaultBed;
  settings: StageSettings;
  dev: Cluster;
  spare: Cluster;
  /** Published API port assigned by Docker at each start: a node restart makes a real stale endpoint. (Not made with `drift: false`.) */
  drift: Cluster | undefined;
  clusters: Cluster[];
  server: Kindtray;
  /** Servers started besides `server` (rows that need their own), stopped by dispose(). */
  extra: Kindtray[];
  log: (line: string) => void;
}

export interface StageOptions {
  settings?: Partial<Omit<StageSettings, 'dockerStartCommand'>>;
  log?: (line: string) => void;
  /** Part of every cluster name. */
  tag?: string;
  /** Make the drift cluster (default true). */
  drift?: boolean;
}

export async function setupStage(bed: FaultBed, opts: StageOptions = {}): Promise<Stage> {
  const log = opts.log ?? (() => undefined);
  const tag = opts.tag ?? String(process.pid);
  const started = now();
  const [dev, spare, drift] = await Promise.all([
    bed.createCluster(`dev-${tag}`, { extraPortMappings: [{ containerPort: 30080 }] }),
    bed.createCluster(`spare-${tag}`),
    opts.drift === false ? Promise.resolve(undefined) : bed.createCluster(`drift-${tag}`, { apiPort: 'docker-assigned' }),
  ]);
  await setCurrentContext(bed.kubeconfigPath, dev.context);
  const clusters = drift ? [dev, spare, drift] : [dev, spare];
  log(`stage: ${clusters.length} clusters in ${round(now() - started)} ms`);
  const settings: StageSettings = {
    dockerStartCommand: bed.dockerd.startCommand,
    probe: { ...DEFAULT_SETTINGS.probe, ...opts.settings?.probe },
    watchdog: { ...DEFAULT_SETTINGS.watchdog, ...opts.settings?.watchdog },
  };
  const server = await startKindtray(bed, settings);
  log(`stage: kindtray serve pid ${server.pid} on ${server.port}`);
  const stage: Stage = { bed, settings, dev, spare, drift, clusters, server, extra: [], log };
  const healthyAt = await untilHealthy(stage, 60_000);
  if (healthyAt === undefined) throw new Error(`stage: not healthy within 60 s: ${JSON.stringify(await server.status())}`);
  log(`stage: healthy after ${round(now() - started)} ms`);
  return stage;
}

export async function disposeStage(stage: Stage | undefined): Promise<void> {
  if (!stage) return;
  stage.bed.dockerd.thaw();
  for (const k of [stage.server, ...stage.extra]) await k.stop().catch(() => undefined);
}

/** The whole stage as it should be: Docker up, every cluster running, every context ok, the worker healthy, nothing to fix. */
export function healthy(stage: Stage, s: HealthSnapshot): boolean {
  return (
    s.docker.state === 'running' &&
    stage.clusters.every((c) => s.clusters.find((x) => x.name === c.name)?.state === 'running') &&
    stage.clusters.every((c) => s.contexts.find((x) => x.name === c.context)?.state === 'ok') &&
    s.server.state === 'healthy' &&
    s.overall === 'ok'
  );
}

/** When (performance.now()) the server showed the healthy stage, or undefined after `timeoutMs`. */
export async function untilHealthy(stage: Stage, timeoutMs: number, since = now()): Promise<number | undefined> {
  const seen = await stage.server.feed.waitFor((s) => healthy(stage, s), { since, timeoutMs });
  return seen?.at;
}

/** What an unhealthy snapshot says, in one line (for logs and violations). */
export function describe(s: HealthSnapshot | undefined): string {
  if (!s) return 'no snapshot';
  const roots = s.problems.filter((p) => p.causedBy === undefined).map((p) => `${p.id}${p.fix ? ` [${p.fix.id}]` : ''}`);
  return `overall ${s.overall}, docker ${s.docker.state}, server ${s.server.state}; ${roots.join(', ') || 'no problems'}`;
}

/** Root problems that offer a fix that acts (not advice). */
export function actionableRoots(s: HealthSnapshot): Problem[] {
  return s.problems.filter((p) => p.causedBy === undefined && p.fix && !p.fix.id.endsWith('-help') && p.severity !== 'info');
}

/**
 * Puts the testbed back the way the stage began, whatever a row left: engine
 * thawed and running, every node container started, no API fault, each
 * context's server the port its container publishes now, the users as they
 * were, current-context dev.
 */
export async function heal(stage: Stage, users?: Kubeconfig['users']): Promise<void> {
  const { dockerd } = stage.bed;
  dockerd.thaw();
  if (!dockerd.isRunning() || !(await dockerd.api.ping(2_000))) {
    if (dockerd.isRunning()) await dockerd.stop();
    await dockerd.start();
  }
  for (const c of stage.clusters) await c.setFault('none');
  for (const c of stage.clusters) await c.start();
  for (const c of stage.clusters) await setContextServer(c.kubeconfigPath, c.context, c.apiServer);
  if (users) {
    await editKubeconfig(stage.bed.kubeconfigPath, (doc) => {
      doc.users = users;
    });
  }
  await setCurrentContext(stage.bed.kubeconfigPath, stage.dev.context);
}

/** The kubeconfig's users as they are now (to put back after a row replaced one). */
export function savedUsers(stage: Stage): Kubeconfig['users'] {
  return structuredClone(readKubeconfig(stage.bed.kubeconfigPath).users);
}

/**
 * Models a hung API server that a restart cures: while `active`, watches the
 * control-plane container and clears the stand-in's hang as soon as Docker
 * shows the container started anew. (The stand-in's fault switch is a file
 * that survives restarts; a real hung kube-apiserver does not.)
 */
export function clearFaultOnRestart(stage: Stage, cluster: Cluster): { stop: () => Promise<boolean> } {
  const api = stage.bed.dockerd.api;
  let running = true;
  let cleared = false;
  const loop = (async () => {
    const first = (await api.inspectContainer(cluster.controlPlane.id)) as unknown as { State: { StartedAt: string } };
    while (running) {
      await sleep(100);
      try {
        const s = (await api.inspectContainer(cluster.controlPlane.id)) as unknown as { State: { StartedAt: string } };
        if (s.State.StartedAt !== first.State.StartedAt) {
          await cluster.setFault('none');
          cleared = true;
          return;
        }
      } catch {
        // Docker busy with the restart: look again.
      }
    }
  })().catch(() => undefined);
  return {
    stop: async () => {
      running = false;
      await loop;
      return cleared;
    },
  };
}
