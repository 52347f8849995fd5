// Followed Pod logs, as the API worker asks for them: each stream is one
// request to a Kubernetes child (the child reads the log API and relays whole
// lines, kube/log-follow.ts), answered by chunks and one end. Streams live in
// children of their own, by the same risk as task operations (static
// credentials share one, a context whose credentials run a command has its
// own), so a long stream never shares a process that an operation's deadline
// may kill, and a stuck child costs only its own streams.
//
// The heartbeat: the child must answer a stream within its open deadline and
// then say something at least every idle period (a line, or the end it gives
// a silent stream itself). A child silent past that, plus a grace, is stuck:
// it is killed, its streams end `client-crashed`, and their owners open them
// again from their cursors on a fresh child. Other streams never wait on it.

import type { LogEndOutcome, LogFollowRequest, LogSince } from '../../shared/contracts/kube-log.ts';
import { LOG_STREAM_IDLE_MS, LOG_STREAM_OPEN_MS } from '../../shared/contracts/kube-log.ts';
import { KUBE_CHILD_IDLE_MS } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { kubeChildKey, loadKubeconfigCached, startKubeChild, type KubeChild } from '../kube/index.ts';
import { describeExit, type ChildLauncher } from '../process/index.ts';
import { CHILD_GRACE_MS, KubeOps, type KubeOpError, type KubeOpsOptions, type KubeTarget } from './kube-ops.ts';

/** Which log to follow, from where: the request's own fields (shared/contracts/kube-log.ts), without its routing. */
export type LogFollowSpec = Pick<LogFollowRequest, 'namespace' | 'pod' | 'container' | 'since' | 'follow' | 'final'>;

export type LogStreamEnd = { outcome: Exclude<LogEndOutcome, 'error'> } | { outcome: 'error'; error: KubeOpError };

/** Whole lines (timestamps off) and the cursor after them. */
export type LogChunkListener = (data: Uint8Array, since: LogSince | undefined, lines: number) => void;

/** What a log follower needs (a fake in unit tests). */
export interface LogStreamSource {
  followLog(target: KubeTarget, spec: LogFollowSpec, onChunk: LogChunkListener, signal: AbortSignal): Promise<LogStreamEnd>;
}

export interface LogStreamsOptions {
  launch?: ChildLauncher;
  openDeadlineMs?: number;
  idleMs?: number;
  graceMs?: number;
  childIdleMs?: number;
  /** Told each time a child is killed for silence. */
  onChildReplaced?: (why: string) => void;
}

interface Stream {
  context: string;
  onChunk: LogChunkListener;
  settle: (end: LogStreamEnd) => void;
  watchdog?: ReturnType<typeof setTimeout>;
}

interface StreamChild {
  key: string;
  process: KubeChild;
  ready: Promise<boolean>;
  streams: Map<number, Stream>;
  idleTimer?: ReturnType<typeof setTimeout>;
  dead: boolean;
}

export class LogStreams implements LogStreamSource {
  private readonly children = new Map<string, StreamChild>();
  private readonly opts: Required<Omit<LogStreamsOptions, 'launch' | 'onChildReplaced'>> & Pick<LogStreamsOptions, 'launch' | 'onChildReplaced'>;
  private nextId = 1;
  private closed = false;
  readonly counts = { started: 0, replaced: 0, streams: 0 };

  constructor(opts: LogStreamsOptions = {}) {
    this.opts = {
      openDeadlineMs: LOG_STREAM_OPEN_MS,
      idleMs: LOG_STREAM_IDLE_MS,
      graceMs: CHILD_GRACE_MS,
      childIdleMs: KUBE_CHILD_IDLE_MS,
      ...opts,
    };
  }

  /** Follows one Pod's log; resolves with how the stream ended (never rejects). `signal` stops it. */
  followLog(target: KubeTarget, spec: LogFollowSpec, onChunk: LogChunkListener, signal: AbortSignal): Promise<LogStreamEnd> {
    const context = target.context;
    if (this.closed) return Promise.resolve(crashed(`${context}: the Kubernetes client is shut down`));
    if (signal.aborted) return Promise.resolve({ outcome: 'stopped' });
    let child: StreamChild;
    try {
      child = this.childFor(kubeChildKey(loadKubeconfigCached(target.kubeconfigPaths), context));
    } catch (e) {
      return Promise.resolve({ outcome: 'error', error: { kind: 'config', message: `${context}: ${(e as Error).message}` } });
    }
    const id = this.nextId++;
    this.counts.streams++;
    const { openDeadlineMs, idleMs, graceMs } = this.opts;
    return new Promise<LogStreamEnd>((resolve) => {
      const stream: Stream = {
        context,
        onChunk,
        settle: (end) => {
          clearTimeout(stream.watchdog);
          signal.removeEventListener('abort', onAbort);
          if (child.streams.get(id) !== stream) return;
          child.streams.delete(id);
          this.armIdle(child);
          resolve(end);
        },
      };
      const onAbort = () => {
        if (!child.dead) child.process.send({ type: 'log-stop', id });
        stream.settle({ outcome: 'stopped' });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.streams.set(id, stream);
      clearTimeout(child.idleTimer);
      void child.ready.then((ok) => {
        if (!ok || child.streams.get(id) !== stream) return;
        this.watch(child, id, stream, openDeadlineMs + graceMs, `no answer to a log stream of ${context} in ${formatMs(openDeadlineMs)}`);
        const request: LogFollowRequest = { type: 'log-follow', id, target, ...spec, openDeadlineMs, idleMs };
        child.process.send(request);
      });
    });
  }

  /** The live children's pids (for tests and benchmarks). */
  pids(): number[] {
    return [...this.children.values()].flatMap((c) => (c.process.pid === undefined ? [] : [c.process.pid]));
  }

  /** Ends every child; open streams end `client-crashed`. */
  close(): void {
    this.closed = true;
    for (const child of [...this.children.values()]) this.kill(child, 'Kindtray is shutting down');
  }

  private watch(child: StreamChild, id: number, stream: Stream, ms: number, why: string): void {
    clearTimeout(stream.watchdog);
    stream.watchdog = setTimeout(() => {
      if (child.streams.get(id) !== stream) return;
      this.counts.replaced++;
      this.opts.onChildReplaced?.(why);
      this.kill(child, `${why}; the Kubernetes client process was replaced`);
    }, ms);
  }

  private childFor(key: string): StreamChild {
    const existing = this.children.get(key);
    if (existing && !existing.dead) return existing;
    // Streams need no Kubernetes client where Node's https speaks to the context: the child loads it only when it must.
    const proc = startKubeChild(this.opts.launch ? { launch: this.opts.launch } : {});
    this.counts.started++;
    const child: StreamChild = { key, process: proc, streams: new Map(), dead: false, ready: Promise.resolve(false) };
    child.ready = proc.ready.then(
      () => true,
      (e: unknown) => {
        this.kill(child, `the Kubernetes client process: ${(e as Error).message}`);
        return false;
      },
    );
    const beat = this.opts.idleMs + this.opts.graceMs;
    proc.onMessage((m) => {
      if (m.type !== 'log-open' && m.type !== 'log-chunk' && m.type !== 'log-end') return;
      const stream = child.streams.get(m.id);
      if (!stream) return;
      if (m.type === 'log-end') {
        stream.settle(m.outcome === 'error' ? { outcome: 'error', error: m.error ?? { kind: 'api', message: `${stream.context}: the log stream failed` } } : { outcome: m.outcome });
        return;
      }
      this.watch(child, m.id, stream, beat, `${stream.context}: a log stream said nothing for ${formatMs(beat)}`);
      if (m.type === 'log-chunk') stream.onChunk(m.data, m.since, m.lines);
    });
    proc.onExit((exit) => this.forget(child, `the Kubernetes client process exited (${describeExit(exit)})`));
    this.children.set(key, child);
    return child;
  }

  private armIdle(child: StreamChild): void {
    clearTimeout(child.idleTimer);
    if (child.dead || child.streams.size > 0) return;
    child.idleTimer = setTimeout(() => {
      if (child.streams.size === 0) this.kill(child, 'idle');
    }, this.opts.childIdleMs);
    child.idleTimer.unref();
  }

  private kill(child: StreamChild, why: string): void {
    if (!child.dead) child.process.kill();
    this.forget(child, why);
  }

  private forget(child: StreamChild, why: string): void {
    child.dead = true;
    clearTimeout(child.idleTimer);
    if (this.children.get(child.key) === child) this.children.delete(child.key);
    for (const s of [...child.streams.values()]) s.settle(crashed(why.startsWith(`${s.context}: `) ? why : `${s.context}: ${why}`));
  }
}

function crashed(message: string): LogStreamEnd {
  return { outcome: 'error', error: { kind: 'client-crashed', message } };
}

/**
 * Task operations and followed logs together: what the worker's launcher is
 * given, so that task logs stream (task-logs.ts looks for followLog).
 * KINDTRAY_LOG_FOLLOW=poll keeps the old whole-log reads instead (for the
 * benchmark's comparison, and as a way back).
 */
export class StreamingKubeOps extends KubeOps implements LogStreamSource {
  readonly streams: LogStreams;

  constructor(opts: KubeOpsOptions & { logs?: LogStreamsOptions } = {}) {
    super(opts);
    this.streams = new LogStreams({ ...(opts.launch ? { launch: opts.launch } : {}), ...opts.logs });
  }

  followLog(target: KubeTarget, spec: LogFollowSpec, onChunk: LogChunkListener, signal: AbortSignal): Promise<LogStreamEnd> {
    return this.streams.followLog(target, spec, onChunk, signal);
  }

  override close(): void {
    super.close();
    this.streams.close();
  }
}

/** The worker's KubeOps: streaming logs, unless KINDTRAY_LOG_FOLLOW=poll. */
export function taskKubeOps(env: NodeJS.ProcessEnv = process.env): KubeOps {
  return env.KINDTRAY_LOG_FOLLOW === 'poll' ? new KubeOps() : new StreamingKubeOps();
}
