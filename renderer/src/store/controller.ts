// The dashboard's side effects: the connection to the server (the snapshot
// and the event stream, reconnecting with backoff), the task list, and fixes.
// Each turns answers into reducer actions; none keeps state of its own that
// the page could show.

import type { TaskRecord } from '../../../shared/api.ts';
import { FIXES } from '../../../shared/fixes.ts';
import type { HealthSnapshot } from '../../../shared/snapshot.ts';
import type { ClusterOperation, ClustersResponse, OperationKind } from '../../../shared/contracts/clusters.ts';
import { asOperation, toOperationEvent } from '../clusters/operations.ts';
import { SseParser, backoffMs, toServerEvent } from '../sse.ts';
import type { ServerApi } from '../server-api.ts';
import { unreachable, type ApiFailure, type KindtrayBridge } from '../transport.ts';
import { serverRecovered, type Action } from './state.ts';
import type { DashboardStore } from './store.ts';

/** No byte (not even the server's 15 s keep-alive) for this long: the stream is dead, whatever TCP says. */
export const STREAM_SILENCE_MS = 40_000;
/**
 * While live, snapshots arrive only when something changes; the monitor keeps
 * looking meanwhile. Asking /api/status this often keeps the age shown honest
 * (the monitor's own age, not the time since the last change).
 */
export const STATUS_REFRESH_MS = 30_000;
/** After a 401, retry slowly: a new login in another tab may make it work again. */
const UNAUTHORIZED_RETRY_MS = 10_000;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function looksLikeSnapshot(v: unknown): v is HealthSnapshot {
  const s = v as Partial<HealthSnapshot> | null;
  return typeof s === 'object' && s !== null && typeof s.overall === 'string' && Array.isArray(s.problems) && typeof s.docker === 'object';
}

export class Controller {
  private readonly store: DashboardStore;
  private readonly api: ServerApi;
  private readonly bridge: KindtrayBridge | undefined;
  private tasksInFlight: Promise<void> | undefined;

  constructor(store: DashboardStore, api: ServerApi, bridge?: KindtrayBridge) {
    this.store = store;
    this.api = api;
    this.bridge = bridge;
  }

  get server(): ServerApi {
    return this.api;
  }

  private dispatch(a: Action): void {
    const before = this.store.getState().status?.snapshot;
    this.store.getState().dispatch(a);
    const after = this.store.getState().status?.snapshot;
    // The worker is back (restarted by us, the watchdog or anyone): what it failed to answer, ask again.
    if (after && after !== before && serverRecovered(before, after) && this.store.getState().taskList.state !== 'idle') void this.loadTasks();
  }

  /** Starts following the server; returns the function that stops it. */
  start(): () => void {
    const stop = new AbortController();
    void this.loadStatus(stop.signal);
    void this.follow(stop.signal);
    const refresh = setInterval(() => {
      if (this.store.getState().connection.phase === 'live') void this.loadStatus(stop.signal);
    }, STATUS_REFRESH_MS);
    const unsubscribe = this.bridge?.onSnapshot?.((s) => {
      if (looksLikeSnapshot(s)) this.dispatch({ type: 'status', snapshot: s, at: Date.now() });
    });
    return () => {
      stop.abort();
      clearInterval(refresh);
      unsubscribe?.();
    };
  }

  private async loadStatus(signal: AbortSignal): Promise<void> {
    const r = await this.api.status(signal).catch(() => undefined);
    if (r?.ok && looksLikeSnapshot(r.data)) {
      const { ageMs, ...snapshot } = r.data;
      this.dispatch({ type: 'status', snapshot, ...(typeof ageMs === 'number' ? { ageMs } : {}), at: Date.now() });
    }
  }

  /** The event stream, for as long as the page lives: reconnects with backoff and says so meanwhile. */
  private async follow(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    let first = true;
    while (!signal.aborted) {
      const reopening = !first;
      first = false;
      const once = new AbortController();
      const abortOnce = () => once.abort();
      signal.addEventListener('abort', abortOnce, { once: true });
      let lastByte = Date.now();
      let opened = false;
      let silent = false;
      const watchdog = setInterval(() => {
        if (Date.now() - lastByte > STREAM_SILENCE_MS) {
          silent = true;
          once.abort();
        }
      }, 2_000);
      const parser = new SseParser();
      let failure: ApiFailure | undefined;
      try {
        failure = await this.api.events((text) => {
          lastByte = Date.now();
          if (!opened) {
            opened = true;
            attempt = 0;
            this.dispatch({ type: 'connected', at: Date.now() });
            // Whatever happened while we were away is in the lists, not in events we missed.
            if (reopening && this.store.getState().taskList.state !== 'idle') void this.loadTasks();
          }
          for (const m of parser.push(text)) {
            const event = toServerEvent(m);
            if (event) this.dispatch({ type: 'event', event, at: Date.now() });
            const op = event ? undefined : toOperationEvent(m);
            if (op) this.dispatch({ type: 'operation', operation: op.operation, ...(op.line !== undefined ? { line: op.line } : {}) });
          }
        }, once.signal);
      } catch (e) {
        failure = unreachable(e);
      } finally {
        clearInterval(watchdog);
        signal.removeEventListener('abort', abortOnce);
      }
      if (signal.aborted) return;
      if (failure?.status === 401) {
        this.dispatch({ type: 'unauthorized', at: Date.now(), error: failure.error.error });
        await sleep(UNAUTHORIZED_RETRY_MS, signal);
        continue;
      }
      const error = failure?.error.error ?? (silent ? `no word from the server in ${STREAM_SILENCE_MS / 1000} s` : 'the server closed the event stream');
      const wait = backoffMs(attempt);
      this.dispatch({ type: 'disconnected', at: Date.now(), error, attempt: attempt + 1, retryAt: Date.now() + wait });
      attempt++;
      await sleep(wait, signal);
    }
  }

  /** Reloads the task list; concurrent calls share one request. */
  loadTasks(): Promise<void> {
    this.tasksInFlight ??= (async () => {
      if (this.store.getState().taskList.state !== 'ok') this.dispatch({ type: 'tasks-loading' });
      const r = await this.api.tasks();
      if (r.ok && Array.isArray(r.data?.tasks)) this.dispatch({ type: 'tasks-loaded', tasks: r.data.tasks, at: Date.now() });
      else this.dispatch({ type: 'tasks-failed', failure: r.ok ? { status: r.status, error: { error: 'the server sent no task list' } } : r.failure, at: Date.now() });
    })().finally(() => {
      this.tasksInFlight = undefined;
    });
    return this.tasksInFlight;
  }

  /** One task, fresh from the server. */
  async loadTask(id: string): Promise<ApiFailure | undefined> {
    const r = await this.api.task(id);
    if (r.ok && r.data?.task) {
      this.dispatch({ type: 'task', task: r.data.task });
      return undefined;
    }
    return r.ok ? { status: r.status, error: { error: 'the server sent no task' } } : r.failure;
  }

  taskLaunched(task: TaskRecord): void {
    this.dispatch({ type: 'task', task });
  }

  async cancelTask(id: string): Promise<ApiFailure | undefined> {
    const r = await this.api.cancel(id);
    if (r.ok && r.data?.task) {
      this.dispatch({ type: 'task', task: r.data.task });
      return undefined;
    }
    return r.ok ? undefined : r.failure;
  }

  /** Runs a fix on the supervisor; its progress and outcome land in the store (also for other windows, via events). */
  async runFix(fixId: string): Promise<void> {
    const state = this.store.getState();
    if (state.fixes[fixId]?.state === 'running') return;
    this.dispatch({ type: 'fix-started', fixId, at: Date.now() });
    const r = await this.api.runFix(fixId);
    const body = r.data;
    if (body && typeof body.ok === 'boolean') {
      this.dispatch({
        type: 'fix-finished',
        fixId,
        ok: body.ok,
        message: body.message ?? '',
        at: Date.now(),
        ...(typeof body.durationMs === 'number' ? { durationMs: body.durationMs } : {}),
        ...(Array.isArray(body.steps) ? { steps: body.steps } : {}),
      });
    } else {
      this.dispatch({ type: 'fix-finished', fixId, ok: false, message: r.ok ? 'the server did not say how it went' : r.failure.error.error, at: Date.now() });
    }
    if (fixId === FIXES.restartServer.id && body?.ok && this.store.getState().taskList.state !== 'idle') void this.loadTasks();
  }

  /** The cluster list with its operations (running and recent); each operation lands in the store. */
  async loadClusters(signal?: AbortSignal): Promise<{ data?: ClustersResponse; failure?: ApiFailure }> {
    const r = await this.api.clusters(signal);
    if (!r.ok) return { failure: r.failure };
    if (!r.data || !Array.isArray(r.data.clusters)) return { failure: { status: r.status, error: { error: 'the server sent no cluster list' } } };
    for (const o of Array.isArray(r.data.operations) ? r.data.operations : []) this.operation(o);
    return { data: r.data };
  }

  /** Starts a cluster operation; its record lands in the store and the stream carries it on. Answers the record, or why none started. */
  async clusterOperation(kind: Exclude<OperationKind, 'create'>, cluster: string, image = ''): Promise<{ operation?: ClusterOperation; failure?: ApiFailure }> {
    const r =
      kind === 'delete'
        ? await this.api.deleteCluster(cluster)
        : kind === 'start'
          ? await this.api.startCluster(cluster)
          : kind === 'stop'
            ? await this.api.stopCluster(cluster)
            : await this.api.loadImage(cluster, image);
    return this.started(r.ok ? { data: r.data, status: r.status } : { data: r.data, status: r.status, failure: r.failure });
  }

  /** An answer that carries an operation (202, or 409 naming the one already running): its record into the store. */
  started(r: { data?: { operation?: unknown } | undefined; status: number; failure?: ApiFailure }): { operation?: ClusterOperation; failure?: ApiFailure } {
    const operation = asOperation(r.data?.operation);
    if (operation) this.operation(operation);
    if (r.failure) return { failure: r.failure, ...(operation ? { operation } : {}) };
    return operation ? { operation } : { failure: { status: r.status, error: { error: 'the server did not say which operation started' } } };
  }

  /** Asks the server to cancel an operation; the stream says when it has. */
  async cancelOperation(id: string): Promise<ApiFailure | undefined> {
    const r = await this.api.cancelOperation(id);
    if (!r.ok) return r.failure;
    const operation = asOperation(r.data?.operation);
    if (operation) this.operation(operation);
    return undefined;
  }

  operation(o: unknown): void {
    const operation = asOperation(o);
    if (operation) this.dispatch({ type: 'operation', operation });
  }
}
