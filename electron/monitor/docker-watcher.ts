// Keeps the Docker engine's state fresh (see docker.ts for one look at it):
// the engine's event stream and a watch on the socket file carry the news at
// once, a liveness ping on a steady beat catches an engine that froze or a
// permission taken away (neither sends an event), a slow full look is the
// backstop, and while the engine is down it is retried with backoff.

import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DEADLINES, INTERVALS, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from '../../shared/constants.ts';
import { withDeadline } from '../../shared/deadline.ts';
import type { DockerEndpoint } from './docker-endpoint.ts';
import { dockerApi, type DockerApi } from './docker-api.ts';
import { classifyDockerFailure, probeDocker, type DockerObservation, type EngineVersion } from './docker.ts';
import { DockerLiveness } from './docker-liveness.ts';

export interface DockerWatcherOptions {
  endpoint: DockerEndpoint;
  onChange: (o: DockerObservation) => void;
  /** The engine's socket appeared while it was down: it is starting. */
  onStarting?: () => void;
  /** Docker said a KinD control-plane container started (a start, or the second half of a restart). */
  onContainerStart?: (cluster: string) => void;
  deadlineMs?: number;
  idlePingMs?: number;
  downPingMs?: number;
  /** Between liveness pings while the engine is up. Default INTERVALS.dockerLiveness; 0 turns them off. */
  livenessMs?: number;
  /** A liveness ping's deadline. Default DEADLINES.dockerLiveness. */
  livenessDeadlineMs?: number;
}

/**
 * Keeps a DockerObservation fresh without polling storms: follows the engine's
 * event stream for KinD containers, watches the socket file appear and vanish,
 * pings slowly as a backstop, and retries with backoff while the engine is down.
 */
export class DockerWatcher {
  readonly endpoint: DockerEndpoint;
  private readonly opts: DockerWatcherOptions;
  private readonly api: DockerApi;
  private current: DockerObservation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private readonly livenessPing: DockerLiveness;
  private beating = false;
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
  /**
   * The version of the engine followed since it last came up, while its event stream holds: a look then
   * asks for the container list alone. An engine that stops or restarts (a new version, say) breaks the
   * stream, and the next look asks again.
   */
  private known: EngineVersion | undefined;

  constructor(opts: DockerWatcherOptions) {
    this.opts = opts;
    this.endpoint = opts.endpoint;
    this.api = dockerApi(opts.endpoint);
    this.livenessPing = new DockerLiveness(opts.endpoint, this.api);
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
    this.stopBeat();
    this.livenessPing.close();
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
        o = await probeDocker(this.api, this.endpoint, { deadlineMs: this.opts.deadlineMs ?? DEADLINES.docker, ...(this.known ? { known: this.known } : {}) });
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
    this.known = running && this.events ? { version: o.health.version, apiVersion: o.health.apiVersion } : undefined;
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
    if (running) this.scheduleBeat();
    else this.stopBeat();
  }

  private scheduleBeat(): void {
    const every = this.opts.livenessMs ?? INTERVALS.dockerLiveness;
    if (this.stopped || every <= 0 || this.beating) return this.stopBeat();
    // The same timer, armed again: a beat allocates no timer and clears none.
    if (this.beat) this.beat.refresh();
    else {
      this.beat = setTimeout(() => void this.liveness(), every);
      this.beat.unref();
    }
  }

  private stopBeat(): void {
    clearTimeout(this.beat);
    this.beat = undefined;
  }

  /**
   * One liveness beat (docker-liveness.ts: the answer to the last beat's `_ping`, under its short deadline,
   * and the next ping sent) while the engine is believed up. Its failure is the news itself (unresponsive,
   * no permission, stopped), told at once; the full look (version, containers) follows on the down beat.
   */
  private async liveness(): Promise<void> {
    if (this.stopped || this.current?.health.state !== 'running' || this.inFlight) return this.scheduleBeat();
    this.beating = true;
    const ms = this.opts.livenessDeadlineMs ?? DEADLINES.dockerLiveness;
    let failure: unknown;
    try {
      await this.livenessPing.beat(ms);
    } catch (e) {
      failure = e;
    } finally {
      this.beating = false;
    }
    if (this.stopped) return;
    // A full look that ran meanwhile is newer than this ping: it decides.
    if (failure === undefined || this.inFlight || this.current?.health.state !== 'running') return this.scheduleBeat();
    this.accept({ health: classifyDockerFailure(failure, this.endpoint), containers: [], observedAt: Date.now() });
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
        if (existsSync(path)) {
          this.fastUntil = Date.now() + 30_000;
          if (this.current?.health.state !== 'running') this.opts.onStarting?.();
        }
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
    const filters = { type: ['container'], label: [KIND_CLUSTER_LABEL] };
    // Mark the stream as wanted before the call returns, so a refresh does not open a second one.
    this.events = { placeholder: true } as unknown as NodeJS.ReadableStream;
    withDeadline('Docker event stream', this.opts.deadlineMs ?? DEADLINES.docker, () => this.api.events(filters, abort.signal), abort.signal)
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
        let partial = '';
        stream.on('data', (chunk: Buffer | string) => {
          // Newline-delimited JSON; a chunk may end mid-line.
          const lines = (partial + chunk.toString()).split('\n');
          partial = (lines.pop() ?? '').slice(-65_536);
          for (const line of lines) this.onEvent(line);
          this.soon();
        });
        stream.on('end', ended);
        stream.on('close', ended);
        stream.on('error', ended);
        // Events that happened between the list and the subscription.
        this.soon();
      })
      .catch(() => {
        if (this.eventsAbort !== abort) return;
        abort.abort(); // a request past its deadline is not left open
        this.eventsFailed();
      });
  }

  /** A control plane's `start` is the moment its cluster starts; other events only say "look again". */
  private onEvent(line: string): void {
    if (!this.opts.onContainerStart || line.trim() === '') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof e !== 'object' || e === null) return;
    const ev = e as { Action?: unknown; status?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
    const attrs = ev.Actor?.Attributes ?? {};
    const cluster = attrs[KIND_CLUSTER_LABEL];
    if ((ev.Action ?? ev.status) === 'start' && attrs[KIND_ROLE_LABEL] === 'control-plane' && typeof cluster === 'string' && cluster !== '') {
      this.opts.onContainerStart(cluster);
    }
  }

  /** The stream broke: look at the engine now, and reconnect with backoff so a flapping engine costs little. */
  private eventsFailed(): void {
    this.events = undefined;
    this.known = undefined;
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
