// The API worker's lifecycle, as the supervisor runs it: start it, know its
// port, watch it with the watchdog, and replace it when it hangs or dies.
// Requests proxied to a worker that is replaced end at once with a clear error
// (they hold its generation's signal), never wait for an answer that cannot come.

import { request } from 'node:http';
import { INTERNAL_SECRET_HEADER, workerMessageSchema, type SupervisorMessage, type WorkerMessage } from '../../shared/contracts/worker.ts';
import { withDeadline } from '../../shared/deadline.ts';
import type { ServerHealth } from '../../shared/snapshot.ts';
import { describeExit, startChild, type Child, type ChildLauncher } from '../process/index.ts';
import { Watchdog, type WatchdogVerdict } from './watchdog.ts';
import type { Settings } from './settings.ts';

/** The worker's name in process lists and messages. */
export const API_WORKER_NAME = 'Kindtray API worker';
const START_DEADLINE_MS = 15_000;

export type WorkerState = 'starting' | 'healthy' | 'slow' | 'hung' | 'down' | 'restarting';

export interface ApiWorkerOptions {
  launch: ChildLauncher;
  modulePath: string;
  env: NodeJS.ProcessEnv;
  /** Shared with the worker only; it refuses requests that do not carry it. */
  internalSecret: string;
  watchdog: Settings['watchdog'];
  /** Every message but the handshake, parsed. */
  onMessage: (message: Exclude<WorkerMessage, { type: 'listening' }>) => void;
  onChange: () => void;
  startDeadlineMs?: number;
}

type WorkerChild = Child<WorkerMessage, number, SupervisorMessage>;

interface Generation {
  child: WorkerChild;
  port?: number;
  abort: AbortController;
  exited: Promise<void>;
}

export class ApiWorker {
  private readonly opts: ApiWorkerOptions;
  private readonly watchdog: Watchdog;
  private gen: Generation | undefined;
  private restarting: Promise<void> | undefined;
  private stopping = false;
  private crashDelay = 500;
  state: WorkerState = 'down';
  restarts = 0;
  latencyMs: number | undefined;
  startedAt: number | undefined;
  cause: string | undefined;

  constructor(opts: ApiWorkerOptions) {
    this.opts = opts;
    this.watchdog = new Watchdog({
      ping: (signal) => this.ping(signal),
      intervalMs: opts.watchdog.intervalMs,
      slowMs: opts.watchdog.slowMs,
      missesBeforeRestart: opts.watchdog.missesBeforeRestart,
      onVerdict: (v, info) => this.onVerdict(v, info),
    });
  }

  get port(): number | undefined {
    return this.gen?.port;
  }

  get pid(): number | undefined {
    return this.gen?.child.pid;
  }

  /** Aborted when this worker generation ends: proxied requests listen to it. */
  get signal(): AbortSignal | undefined {
    return this.gen?.abort.signal;
  }

  health(): Pick<ServerHealth, 'state' | 'latencyMs' | 'restarts' | 'cause'> {
    const state = this.state === 'starting' ? 'restarting' : this.state;
    return {
      state,
      restarts: this.restarts,
      ...(this.latencyMs !== undefined ? { latencyMs: Math.round(this.latencyMs * 10) / 10 } : {}),
      ...(this.cause ? { cause: this.cause } : {}),
    };
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.spawn();
    this.watchdog.start();
  }

  /** Kills the worker (whatever it is doing) and starts a fresh one. Concurrent calls share one restart. */
  restart(reason: string): Promise<void> {
    if (this.restarting) return this.restarting;
    this.restarting = (async () => {
      this.watchdog.stop();
      this.setState('restarting', reason);
      await this.kill(`the API worker was restarted: ${reason}`);
      this.restarts += 1;
      await this.spawn();
      if (!this.stopping) this.watchdog.start();
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.watchdog.stop();
    const gen = this.gen;
    if (!gen) return;
    gen.child.send({ type: 'shutdown' });
    const exited = await Promise.race([gen.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
    if (!exited) await this.kill('Kindtray is shutting down');
    this.setState('down', 'stopped');
  }

  send(message: SupervisorMessage): void {
    this.gen?.child.send(message);
  }

  private async kill(why: string): Promise<void> {
    const gen = this.gen;
    if (!gen) return;
    gen.abort.abort(new Error(why));
    // SIGKILL: a hung worker cannot run handlers, and a SIGSTOPped one cannot even die of SIGTERM.
    gen.child.kill('SIGKILL');
    await Promise.race([gen.exited, new Promise((r) => setTimeout(r, 5_000))]);
  }

  private spawn(): Promise<void> {
    const deadlineMs = this.opts.startDeadlineMs ?? START_DEADLINE_MS;
    const child: WorkerChild = startChild<WorkerMessage, number, SupervisorMessage>({
      launch: this.opts.launch,
      modulePath: this.opts.modulePath,
      env: this.opts.env,
      name: API_WORKER_NAME,
      messages: workerMessageSchema,
      isReady: (m) => (m.type === 'listening' ? m.port : undefined),
      readyDeadlineMs: deadlineMs,
    });
    const gen: Generation = { child, abort: new AbortController(), exited: child.exited.then(() => undefined) };
    this.gen = gen;
    this.setState('starting');
    child.onMessage((m) => {
      if (this.gen === gen && m.type !== 'listening') this.opts.onMessage(m);
    });
    child.onExit((exit) => {
      const how = describeExit(exit);
      gen.abort.abort(new Error(`the API worker exited (${how})`));
      if (this.gen !== gen || gen.port === undefined) return;
      if (this.stopping || this.restarting) return;
      // It died by itself: come back, with backoff so a worker that cannot start does not spin.
      this.setState('down', `the API worker exited (${how}); restarting`);
      const delay = this.crashDelay;
      this.crashDelay = Math.min(this.crashDelay * 2, 30_000);
      setTimeout(() => {
        if (!this.stopping && this.gen === gen) void this.restart('it exited unexpectedly').catch(() => undefined);
      }, delay).unref();
    });
    return child.ready.then(
      (port) => {
        gen.port = port;
        this.startedAt = Date.now();
        this.crashDelay = 500;
        this.setState('healthy');
      },
      async () => {
        // Exited first, or silent past the deadline (then it is being killed).
        const exited = child.hasExited ? await child.exited : undefined;
        throw new Error(exited ? `the API worker exited before listening (${describeExit(exited)})` : `the API worker did not start listening in ${deadlineMs / 1000} s`);
      },
    );
  }

  private ping(signal: AbortSignal): Promise<void> {
    const port = this.gen?.port;
    if (port === undefined) return Promise.reject(new Error('no worker port'));
    return withDeadline('API worker ping', 5_000, (s) =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/internal/ping', headers: { [INTERNAL_SECRET_HEADER]: this.opts.internalSecret }, signal: s },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`ping answered ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end();
      }),
    signal);
  }

  private onVerdict(verdict: WatchdogVerdict, info: { latencyMs?: number; misses: number }): void {
    if (this.restarting || this.stopping) return;
    if (info.latencyMs !== undefined) this.latencyMs = info.latencyMs;
    switch (verdict) {
      case 'healthy':
        this.setState('healthy');
        break;
      case 'slow':
        this.setState('slow', `answered a ping in ${Math.round(info.latencyMs ?? 0)} ms`);
        break;
      case 'missed':
        this.setState('slow', `missed ${info.misses} ping${info.misses > 1 ? 's' : ''} in a row`);
        break;
      case 'hung':
        this.setState('hung', `missed ${info.misses} pings in a row`);
        if (this.opts.watchdog.autoRestart) void this.restart(`it missed ${info.misses} pings in a row`).catch(() => undefined);
        break;
    }
  }

  private setState(state: WorkerState, cause?: string): void {
    if (this.state === state && this.cause === cause) return;
    this.state = state;
    this.cause = cause;
    this.opts.onChange();
  }
}
