// The Docker engine, seen through dockerode with a deadline on every call.
// `probeDocker` answers what state the engine is in (and why) plus the KinD
// node containers; `DockerWatcher` keeps that answer fresh: the engine's event
// stream and a watch on the socket file carry the news at once, a slow ping is
// the backstop, and while the engine is down it is retried with backoff.

import { existsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { z } from 'zod';
import { DEADLINES, INTERVALS, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from '../../shared/constants.ts';
import { isDeadlineError, withDeadline, formatMs } from '../../shared/deadline.ts';
import type { DockerHealth } from '../../shared/snapshot.ts';
import type { DockerEndpoint } from './docker-endpoint.ts';

export interface KindContainer {
  id: string;
  name: string;
  cluster: string;
  role: string;
  /** Docker's state word: running, exited, paused, restarting, created, dead. */
  state: string;
  status: string;
  ports: { privatePort: number; publicPort?: number; ip?: string; type: string }[];
}

export interface DockerObservation {
  health: DockerHealth;
  containers: KindContainer[];
  observedAt: number;
}

const ContainerList = z.array(
  z
    .object({
      Id: z.string(),
      Names: z.array(z.string()).default([]),
      Labels: z.record(z.string(), z.string()).nullable().default({}),
      State: z.string().default('unknown'),
      Status: z.string().default(''),
      Ports: z
        .array(z.object({ IP: z.string().optional(), PrivatePort: z.number(), PublicPort: z.number().optional(), Type: z.string() }).loose())
        .nullable()
        .default([]),
    })
    .loose(),
);

const VersionInfo = z.object({ Version: z.string().optional(), ApiVersion: z.string().optional() }).loose();

/** dockerode accepts `abortSignal` on every call; its typings omit it on a few. */
interface SignalledDocker {
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  version(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  listContainers(opts: { all: boolean; filters: string; abortSignal: AbortSignal }): Promise<unknown>;
}

export function dockerClient(endpoint: DockerEndpoint, opts: { forEvents?: boolean } = {}): Docker {
  const tls = endpoint.tlsDir
    ? {
        ca: readFileSync(join(endpoint.tlsDir, 'ca.pem')),
        cert: readFileSync(join(endpoint.tlsDir, 'cert.pem')),
        key: readFileSync(join(endpoint.tlsDir, 'key.pem')),
      }
    : {};
  return new Docker({
    ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port, protocol: endpoint.protocol }),
    ...tls,
    // `timeout` is an inactivity timeout: it would kill an idle event stream.
    ...(opts.forEvents ? {} : { timeout: DEADLINES.docker * 4 }),
  });
}

export function parseKindContainers(raw: unknown): KindContainer[] {
  const list = ContainerList.parse(raw);
  return list
    .filter((c) => c.Labels?.[KIND_CLUSTER_LABEL])
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      cluster: c.Labels?.[KIND_CLUSTER_LABEL] ?? '',
      role: c.Labels?.[KIND_ROLE_LABEL] ?? 'unknown',
      state: c.State,
      status: c.Status,
      ports: (c.Ports ?? []).map((p) => ({
        privatePort: p.PrivatePort,
        type: p.Type,
        ...(p.PublicPort !== undefined ? { publicPort: p.PublicPort } : {}),
        ...(p.IP !== undefined ? { ip: p.IP } : {}),
      })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function onPath(names: string[], env: NodeJS.ProcessEnv): boolean {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return names.some((n) => dirs.some((d) => existsSync(join(d, n))));
}

function describeSocketAccess(socketPath: string): string {
  const who = typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'this user';
  try {
    const st = statSync(socketPath);
    const mode = (st.mode & 0o777).toString(8);
    return `${who} cannot open ${socketPath} (owner uid ${st.uid}, group gid ${st.gid}, mode ${mode}); join the socket's group (usually "docker") and log in again`;
  } catch {
    return `${who} cannot open ${socketPath}`;
  }
}

/** Turns a failed call into the engine state a person can act on. */
export function classifyDockerFailure(e: unknown, endpoint: DockerEndpoint, env: NodeJS.ProcessEnv = process.env): DockerHealth {
  const base = { endpoint: endpoint.url, endpointSource: endpoint.source };
  if (isDeadlineError(e)) {
    return { ...base, state: 'unresponsive', cause: `the engine at ${endpoint.url} accepted the connection but did not answer in ${formatMs(e.ms)}` };
  }
  const code = errorCode(e);
  if (code === 'EACCES' || code === 'EPERM') {
    return { ...base, state: 'no-permission', cause: endpoint.socketPath ? describeSocketAccess(endpoint.socketPath) : `permission denied at ${endpoint.url}` };
  }
  if (code === 'ENOENT' && endpoint.socketPath) {
    const installed = onPath(['docker', 'dockerd', 'podman', 'colima', 'rdctl'], env) || existsSync('/Applications/Docker.app');
    return installed
      ? { ...base, state: 'stopped', cause: `no Docker socket at ${endpoint.socketPath}` }
      : { ...base, state: 'not-installed', cause: `no Docker socket at ${endpoint.socketPath}, and no docker, podman or colima on PATH` };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE') {
    return { ...base, state: 'stopped', cause: `nothing answers at ${endpoint.url} (${code})` };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { ...base, state: 'unresponsive', cause: `the engine at ${endpoint.url} failed: ${message}` };
}

/** One look at the engine: ping, version, and the KinD node containers, each under the deadline. */
export async function probeDocker(
  docker: Docker,
  endpoint: DockerEndpoint,
  opts: { deadlineMs?: number; signal?: AbortSignal } = {},
): Promise<DockerObservation> {
  const ms = opts.deadlineMs ?? DEADLINES.docker;
  const d = docker as unknown as SignalledDocker;
  try {
    // A live connection can outlast the socket file: dockerd removes the file the moment it
    // begins to stop, and that is the moment new clients can no longer reach it.
    if (endpoint.socketPath && !endpoint.socketPath.startsWith('//') && !existsSync(endpoint.socketPath)) {
      throw Object.assign(new Error(`no socket at ${endpoint.socketPath}`), { code: 'ENOENT' });
    }
    const [version, raw] = await withDeadline(
      `Docker engine at ${endpoint.url}`,
      ms,
      async (signal) => {
        await d.ping({ abortSignal: signal });
        return Promise.all([
          d.version({ abortSignal: signal }),
          d.listContainers({ all: true, filters: JSON.stringify({ label: [KIND_CLUSTER_LABEL] }), abortSignal: signal }),
        ]);
      },
      opts.signal,
    );
    const v = VersionInfo.parse(version);
    return {
      health: {
        state: 'running',
        endpoint: endpoint.url,
        endpointSource: endpoint.source,
        ...(v.Version ? { version: v.Version } : {}),
        ...(v.ApiVersion ? { apiVersion: v.ApiVersion } : {}),
      },
      containers: parseKindContainers(raw),
      observedAt: Date.now(),
    };
  } catch (e) {
    return { health: classifyDockerFailure(e, endpoint), containers: [], observedAt: Date.now() };
  }
}

export interface DockerWatcherOptions {
  endpoint: DockerEndpoint;
  onChange: (o: DockerObservation) => void;
  deadlineMs?: number;
  idlePingMs?: number;
  downPingMs?: number;
}

/**
 * Keeps a DockerObservation fresh without polling storms: follows the engine's
 * event stream for KinD containers, watches the socket file appear and vanish,
 * pings slowly as a backstop, and retries with backoff while the engine is down.
 */
export class DockerWatcher {
  readonly endpoint: DockerEndpoint;
  private readonly opts: DockerWatcherOptions;
  private readonly docker: Docker;
  private readonly eventsDocker: Docker;
  private current: DockerObservation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private events: NodeJS.ReadableStream | undefined;
  private eventsAbort: AbortController | undefined;
  private socketWatch: FSWatcher | undefined;
  private inFlight: Promise<DockerObservation> | undefined;
  private again = false;
  private downDelay: number;
  /** Until when to look again quickly: the socket just appeared, and the engine is coming up. */
  private fastUntil = 0;
  private eventsBackoff = 250;
  private eventsRetryAt = 0;
  private stopped = false;

  constructor(opts: DockerWatcherOptions) {
    this.opts = opts;
    this.endpoint = opts.endpoint;
    this.docker = dockerClient(opts.endpoint);
    this.eventsDocker = dockerClient(opts.endpoint, { forEvents: true });
    this.downDelay = opts.downPingMs ?? INTERVALS.dockerPingDown;
  }

  get observation(): DockerObservation | undefined {
    return this.current;
  }

  async start(): Promise<DockerObservation> {
    this.watchSocket();
    return this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.debounce);
    this.closeEvents();
    this.socketWatch?.close();
    this.socketWatch = undefined;
  }

  /** Looks again now. Single flight: a refresh asked for during one runs once more after it. */
  refresh(): Promise<DockerObservation> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      let o: DockerObservation;
      do {
        this.again = false;
        o = await probeDocker(this.docker, this.endpoint, { deadlineMs: this.opts.deadlineMs ?? DEADLINES.docker });
        if (this.stopped) return o;
        this.accept(o);
      } while (this.again);
      return o;
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private accept(o: DockerObservation): void {
    const wasRunning = this.current?.health.state === 'running';
    this.current = o;
    const running = o.health.state === 'running';
    if (running) {
      this.downDelay = this.opts.downPingMs ?? INTERVALS.dockerPingDown;
      if (!this.events && Date.now() >= this.eventsRetryAt) this.followEvents();
    } else {
      this.closeEvents();
      if (!wasRunning) this.downDelay = Math.min(this.downDelay * 1.5, 5_000);
    }
    this.opts.onChange(o);
    const startingUp = !running && Date.now() < this.fastUntil;
    this.schedule(running && this.events ? (this.opts.idlePingMs ?? INTERVALS.dockerPingIdle) : startingUp ? 250 : this.downDelay);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), ms);
    this.timer.unref();
  }

  private soon(): void {
    clearTimeout(this.debounce);
    if (this.stopped) return;
    this.debounce = setTimeout(() => void this.refresh(), 25);
  }

  /** The socket file vanishes the moment dockerd stops and appears when it starts. */
  private watchSocket(): void {
    const path = this.endpoint.socketPath;
    if (!path || path.startsWith('//')) return;
    const dir = dirname(path);
    try {
      this.socketWatch = watch(dir, { persistent: false }, (_event, file) => {
        if (file !== null && file !== basename(path)) return;
        // An engine creates its socket a moment before it answers on it: look often until it does.
        if (existsSync(path)) this.fastUntil = Date.now() + 30_000;
        this.soon();
      });
      this.socketWatch.on('error', () => {
        this.socketWatch?.close();
        this.socketWatch = undefined;
      });
    } catch {
      // The folder may not exist (Docker never installed); the backoff ping covers it.
    }
  }

  private followEvents(): void {
    const abort = new AbortController();
    this.eventsAbort = abort;
    const filters = JSON.stringify({ type: ['container'], label: [KIND_CLUSTER_LABEL] });
    const opts = { filters, abortSignal: abort.signal } as unknown as Docker.GetEventsOptions;
    // Mark the stream as wanted before the call returns, so a refresh does not open a second one.
    this.events = { placeholder: true } as unknown as NodeJS.ReadableStream;
    withDeadline('Docker event stream', this.opts.deadlineMs ?? DEADLINES.docker, () => this.eventsDocker.getEvents(opts), abort.signal)
      .then((stream) => {
        if (abort.signal.aborted || this.stopped) {
          (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
          return;
        }
        this.events = stream;
        this.eventsBackoff = 250;
        const ended = () => {
          if (this.eventsAbort !== abort) return;
          this.eventsFailed();
        };
        stream.on('data', () => this.soon());
        stream.on('end', ended);
        stream.on('close', ended);
        stream.on('error', ended);
        // Events that happened between the list and the subscription.
        this.soon();
      })
      .catch(() => {
        if (this.eventsAbort !== abort) return;
        this.eventsFailed();
      });
  }

  /** The stream broke: look at the engine now, and reconnect with backoff so a flapping engine costs little. */
  private eventsFailed(): void {
    this.events = undefined;
    this.eventsAbort = undefined;
    this.eventsRetryAt = Date.now() + this.eventsBackoff;
    this.eventsBackoff = Math.min(this.eventsBackoff * 2, 10_000);
    this.soon();
  }

  private closeEvents(): void {
    const abort = this.eventsAbort;
    const stream = this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.eventsAbort = undefined;
    this.events = undefined;
    abort?.abort();
    stream?.destroy?.();
  }
}
