// The supervisor: the one process that holds Kindtray's public port. It does
// no risky work itself. It answers health and status from the monitor, runs
// fixes, serves the dashboard, streams events, and proxies /api/* to the API
// worker, which a watchdog replaces when it hangs. The same code runs inside
// Electron's main process and in `kindtray serve`.

import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HealthResponse, ServerEvent, TaskRecord } from '../../shared/api.ts';
import { needsRestart, parseSettings, type Settings } from '../../shared/contracts/settings.ts';
import { VERSION } from '../../shared/contracts/version.ts';
import { formatFixId, formatFixStep, parseFixId, unknownFixResult, type FixResult } from '../../shared/fixes.ts';
import { withDeadline } from '../../shared/deadline.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { runFix } from '../fixes/index.ts';
import { Monitor, dockerClientFor, type MonitorOptions } from '../monitor/index.ts';
import { HttpError, NO_STORE_HEADERS, Router, readJson, sendError, sendJson, sendNoRoute } from '../http/index.ts';
import { Auth, checkHostAndOrigin } from './auth.ts';
import { attachClusters } from './cluster-routes.ts';
import { forkLauncher, moduleBeside, type ChildLauncher } from '../process/index.ts';
import { ensureHome, kindtrayPaths, type KindtrayPaths } from './home.ts';
import { acquirePort } from './port.ts';
import { proxyToWorker } from './proxy.ts';
import { removeServerFile, writeServerFile } from './server-file.ts';
import { History } from './history.ts';
import { loadSettings, saveSettings } from './settings.ts';
import { serveDashboard } from './static.ts';
import { ApiWorker } from './worker.ts';

/** Re-exported for the rooms above (app, cli); declared once in shared/contracts/version.ts. */
export { VERSION };

export interface SupervisorOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides settings.json's port (`kindtray serve --port`). */
  port?: number;
  /** Launches the worker: child_process.fork headless, utilityProcess in Electron. */
  launch?: ChildLauncher;
  monitor?: MonitorOptions;
  /** Extra origins allowed besides our own (the Electron window's). */
  extraOrigins?: string[];
  log?: (line: string) => void;
}

export interface StartedSupervisor {
  port: number;
  token: string;
  url: string;
  /** A one-time dashboard URL (the token in it is traded for a cookie). */
  dashboardUrl: () => string;
  movedFrom?: { port: number; holder: string };
  replacedPid?: number;
}

export class AlreadyRunningError extends Error {
  override readonly name = 'AlreadyRunningError';
  readonly pid: number;
  readonly port: number;
  constructor(pid: number, port: number) {
    super(`Kindtray already runs (pid ${pid}) on http://127.0.0.1:${port}`);
    this.pid = pid;
    this.port = port;
  }
}

export class Supervisor {
  readonly paths: KindtrayPaths;
  settings: Settings;
  readonly settingsError: string | undefined;
  readonly monitor: Monitor;
  readonly auth = new Auth();
  private readonly env: NodeJS.ProcessEnv;
  private readonly opts: SupervisorOptions;
  private readonly internalSecret = randomBytes(24).toString('base64url');
  private readonly worker: ApiWorker;
  private readonly server: Server;
  private readonly router = new Router();
  private readonly sse = new Set<ServerResponse>();
  private readonly runningFixes = new Map<string, Promise<FixResult>>();
  private readonly startedAt = Date.now();
  private readonly history = new History();
  private sampler: NodeJS.Timeout | undefined;
  private port = 0;
  /** Set when the wanted port was held by another program: who, and where we went instead. */
  private portConflict: string | undefined;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: SupervisorOptions = {}) {
    this.opts = opts;
    this.env = opts.env ?? process.env;
    this.paths = kindtrayPaths(this.env);
    ensureHome(this.paths);
    const loaded = loadSettings(this.paths.settings);
    this.settings = loaded.settings;
    this.settingsError = loaded.error;
    if (loaded.error) this.log(loaded.error);
    this.monitor = new Monitor({
      env: this.env,
      probeIntervalMs: this.settings.probe.intervalMs,
      probeDeadlineMs: this.settings.probe.deadlineMs,
      ...opts.monitor,
    });
    this.worker = new ApiWorker({
      launch: opts.launch ?? forkLauncher,
      modulePath: moduleBeside(import.meta.url, '../server/worker-main'),
      env: {
        ...this.env,
        KINDTRAY_INTERNAL_SECRET: this.internalSecret,
        KINDTRAY_DB: this.paths.database,
        KINDTRAY_LOGS: this.paths.logs,
      },
      internalSecret: this.internalSecret,
      watchdog: this.settings.watchdog,
      onMessage: (m) => this.onWorkerMessage(m),
      onChange: () => this.publishServerHealth(),
    });
    // Whatever goes wrong in one request is that request's 500, never the end of the process that holds the port.
    this.server = createServer((req, res) => void this.handle(req, res).catch((e: unknown) => sendError(res, e)));
    this.server.keepAliveTimeout = 30_000;
    this.routes();
  }

  log(line: string): void {
    const stamped = `${new Date().toISOString()} ${line}`;
    (this.opts.log ?? ((l: string) => process.stderr.write(`kindtray: ${l}\n`)))(line);
    try {
      appendFileSync(this.paths.appLog, `${stamped}\n`, { mode: 0o600 });
    } catch {
      // The log is a convenience; failing to write it must not stop the server.
    }
  }

  async start(): Promise<StartedSupervisor> {
    const wanted = this.opts.port ?? this.settings.port;
    const outcome = await acquirePort(this.server, { port: wanted, serverFile: this.paths.serverFile, log: (l) => this.log(l) });
    if (outcome.kind === 'already-running') throw new AlreadyRunningError(outcome.info.pid, outcome.info.port);
    this.port = outcome.port;
    writeServerFile(this.paths.serverFile, {
      pid: process.pid,
      port: this.port,
      token: this.auth.token,
      startedAt: new Date(this.startedAt).toISOString(),
      version: VERSION,
    });
    if (outcome.movedFrom) {
      this.portConflict = `port ${outcome.movedFrom.port} is held by ${outcome.movedFrom.holder.description}; Kindtray listens on ${this.port} instead`;
    }
    this.publishServerHealth();
    this.unsubscribe = this.monitor.subscribe((s) => this.onSnapshot(s));
    await Promise.all([this.worker.start(), this.monitor.start()]);
    this.onSnapshot(this.monitor.current().snapshot);
    this.heartbeat = setInterval(() => this.broadcastComment(), 15_000);
    this.heartbeat.unref();
    this.sampler = setInterval(() => {
      if (this.worker.latencyMs !== undefined) this.history.sampleLatency(this.worker.latencyMs);
    }, 5_000);
    this.sampler.unref();
    const url = `http://127.0.0.1:${this.port}`;
    return {
      port: this.port,
      token: this.auth.token,
      url,
      dashboardUrl: () => `${url}/?token=${this.auth.mintLoginToken()}`,
      ...(outcome.movedFrom ? { movedFrom: { port: outcome.movedFrom.port, holder: outcome.movedFrom.holder.description } } : {}),
      ...(outcome.replaced ? { replacedPid: outcome.replaced.pid } : {}),
    };
  }

  async stop(): Promise<void> {
    // server.json goes whatever else fails on the way out: a file that names a dead server misleads every command after.
    try {
      clearInterval(this.heartbeat);
      clearInterval(this.sampler);
      this.unsubscribe?.();
      for (const res of this.sse) res.end();
      this.sse.clear();
      this.monitor.stop();
      await this.worker.stop();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    } finally {
      removeServerFile(this.paths.serverFile);
    }
  }

  /** Runs a fix; the same fix asked for twice while running shares one run. Text that names no fix is an `unknown-fix` result. */
  runFix(text: string): Promise<FixResult> {
    const parsed = parseFixId(text);
    if (!parsed.ok) return Promise.resolve(unknownFixResult(parsed.error));
    const id = formatFixId(parsed.fix);
    const running = this.runningFixes.get(id);
    if (running) return running;
    this.broadcast({ type: 'fix', fixId: id, state: 'running' });
    this.monitor.setBusy(true);
    const run = runFix(parsed.fix, {
      snapshot: () => this.monitor.current().snapshot,
      refresh: () => this.monitor.refresh(),
      waitFor: (done, ms) => this.waitForSnapshot(done, ms),
      docker: () => dockerClientFor(this.monitor.dockerEndpoint),
      dockerStartCommand: this.settings.dockerStartCommand,
      restartClustersWithDocker: this.settings.restartClustersWithDocker,
      markStarting: (what) => this.monitor.markStarting(what),
      onStep: (step) => {
        this.log(`fix ${id}: ${formatFixStep(step)}`);
        this.broadcast({ type: 'fix', fixId: id, state: 'running', step });
      },
      restartServer: (reason) => this.worker.restart(reason),
      env: this.env,
    }).finally(() => {
      this.runningFixes.delete(id);
      this.monitor.setBusy(this.runningFixes.size > 0);
    });
    this.runningFixes.set(id, run);
    void run.then((r) => {
      this.log(`fix ${id}: ${r.ok ? 'done' : 'failed'}: ${r.message}`);
      this.broadcast({ type: 'fix', fixId: id, state: r.ok ? 'done' : 'failed', message: r.message });
    });
    return run;
  }

  restartWorker(reason: string): Promise<void> {
    return this.worker.restart(reason);
  }

  private waitForSnapshot(done: (s: HealthSnapshot) => boolean, ms: number): Promise<boolean> {
    if (done(this.monitor.current().snapshot)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, ms);
      const off = this.monitor.subscribe((s) => {
        if (!done(s)) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  private publishServerHealth(): void {
    const w = this.worker.health();
    this.monitor.setServer({
      ...w,
      ...(this.portConflict && w.state === 'healthy' ? { state: 'port-conflict', cause: this.portConflict } : {}),
      port: this.port || undefined,
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      autoRestart: this.settings.watchdog.autoRestart,
    });
  }

  private onSnapshot(snapshot: HealthSnapshot): void {
    this.history.observe(snapshot);
    this.worker.send({ type: 'snapshot', snapshot, ageMs: this.monitor.current().ageMs });
    this.broadcast({ type: 'snapshot', snapshot });
  }

  private onWorkerMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { type?: string; requestId?: number; context?: string; task?: TaskRecord };
    if (msg.type === 'task' && msg.task) this.broadcast({ type: 'task', task: msg.task });
    if (msg.type === 'refresh' && typeof msg.requestId === 'number') {
      const requestId = msg.requestId;
      const look = msg.context ? this.monitor.refreshContext(msg.context) : this.monitor.refresh();
      void withDeadline('refresh for the worker', 5_000, () => look)
        .catch(() => undefined)
        .then(() => {
          const { snapshot, ageMs } = this.monitor.current();
          this.worker.send({ type: 'refreshed', requestId, snapshot, ageMs });
        });
    }
  }

  private broadcast(event: ServerEvent): void {
    const text = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const res of this.sse) res.write(text);
  }

  private broadcastComment(): void {
    for (const res of this.sse) res.write(': keep-alive\n\n');
  }

  private health(): HealthResponse {
    const w = this.worker.health();
    return {
      status: w.state === 'healthy' ? 'ok' : 'degraded',
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      version: VERSION,
      port: this.port,
      worker: { ...w, ...(this.worker.pid !== undefined ? { pid: this.worker.pid } : {}) },
    };
  }

  private routes(): void {
    const r = this.router;
    r.on('GET', '/api/status', (_req, res) => {
      const { snapshot, ageMs } = this.monitor.current();
      sendJson(res, 200, { ...snapshot, ageMs });
    });
    r.on('GET', '/api/events', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', ...NO_STORE_HEADERS, connection: 'keep-alive' });
      res.write(`event: snapshot\ndata: ${JSON.stringify({ type: 'snapshot', snapshot: this.monitor.current().snapshot })}\n\n`);
      this.sse.add(res);
      req.on('close', () => this.sse.delete(res));
    });
    r.on('GET', '/api/history', (_req, res) => sendJson(res, 200, this.history.view()));
    attachClusters(this, r, { env: this.env, port: () => this.port, publish: (e) => this.broadcast(e as unknown as ServerEvent), note: (...a) => this.history.note(...a) });
    r.on('GET', '/api/settings', (_req, res) => sendJson(res, 200, this.settings));
    r.on('PUT', '/api/settings', async (req, res) => {
      const parsed = parseSettings(await readJson(req, 64 * 1024, 'settings'));
      if (!parsed.ok) {
        const first = parsed.issues[0];
        throw new HttpError(422, { error: first?.message ?? 'invalid settings', field: first?.field ?? '' });
      }
      const before = this.settings;
      saveSettings(this.paths.settings, parsed.settings);
      this.settings = parsed.settings;
      // The port, the watchdog and the probe timing are read at start; the rest applies at once.
      sendJson(res, 200, { settings: parsed.settings, restartNeeded: needsRestart(before, parsed.settings) });
    });
    r.on('POST', '/control/fixes/:id', async (req, res, { id = '' }) => {
      req.resume();
      const result = await this.runFix(id);
      sendJson(res, result.ok ? 200 : result.code === 'unknown-fix' ? 404 : 409, result);
    });
    r.on('POST', '/control/server/restart', async (req, res) => {
      req.resume();
      await this.worker.restart('asked for over HTTP');
      sendJson(res, 200, this.health());
    });
    r.on('POST', '/control/shutdown', (req, res) => {
      req.resume();
      sendJson(res, 202, { ok: true, pid: process.pid });
      setImmediate(() => void this.stop().then(() => process.emit('kindtray-stopped' as never)));
    });
    r.on('POST', '/control/login-token', (req, res) => {
      req.resume();
      sendJson(res, 200, { url: `http://127.0.0.1:${this.port}/?token=${this.auth.mintLoginToken()}` });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = checkHostAndOrigin(req, this.port, this.opts.extraOrigins);
    if (refusal) {
      req.resume();
      sendJson(res, refusal.status, { error: refusal.error });
      return;
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${this.port}`);
    if (url.pathname === '/api/health') {
      req.resume();
      // Answered here, before any token check: other methods get a plain 405, not the worker's 404.
      if (req.method === 'GET' || req.method === 'HEAD') sendJson(res, 200, this.health());
      else sendJson(res, 405, { error: `${req.method} is not allowed on /api/health` }, { allow: 'GET, HEAD' });
      return;
    }
    const isApi = url.pathname.startsWith('/api/') || url.pathname.startsWith('/control/');
    if (!isApi) {
      serveDashboard(req, res, url, this.auth);
      return;
    }
    if (!this.auth.authorized(req)) {
      req.resume();
      sendJson(res, 401, { error: 'missing or wrong token: send "Authorization: Bearer <token>" with the token from server.json' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (await this.router.handle(req, res, url)) return;
    if (url.pathname.startsWith('/api/')) {
      proxyToWorker(req, res, this.worker, this.internalSecret, url);
      return;
    }
    req.resume();
    sendNoRoute(res, req.method, url.pathname);
  }
}
