// How the dashboard reaches the Kindtray server. In a browser the page is
// served by the supervisor itself: same origin, and the session cookie (traded
// for the one-time `?token=`) authenticates every request. In the Electron
// window a preload exposes `window.kindtray`, which hands over the server's URL
// and bearer token instead. Everything else in the dashboard calls `api`, and
// gets errors back as values, never as exceptions.

import type { ApiError } from '../../shared/api.ts';
import { FIXES } from '../../shared/fixes.ts';
import { BRIDGE_GLOBAL, type KindtrayBridge as FullBridge } from '../../shared/ipc.ts';

export interface ServerAddress {
  url: string;
  token: string;
}

/** What the dashboard uses of the Electron preload's bridge (shared/ipc.ts): where the server is, and snapshots as they change. */
export type KindtrayBridge = Pick<FullBridge, 'getServer'> & Partial<Pick<FullBridge, 'onSnapshot'>>;

/** `window.kindtray` when the preload put one there; checked, since it crosses a process boundary. */
export function findBridge(w: unknown = globalThis): KindtrayBridge | undefined {
  const k = (w as Record<string, unknown> | undefined)?.[BRIDGE_GLOBAL];
  if (typeof k !== 'object' || k === null) return undefined;
  const b = k as Partial<KindtrayBridge>;
  return typeof b.getServer === 'function' ? (b as KindtrayBridge) : undefined;
}

/** The preload answers `{url, token}`, or (as its other channels do) `{result}` / `{error}`. */
export function parseServerAddress(answer: unknown): ServerAddress {
  let v = answer;
  if (typeof v === 'object' && v !== null && 'error' in v && !('url' in v)) {
    const e = (v as { error: unknown }).error;
    throw new Error(typeof e === 'string' ? e : typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : 'the app did not say where its server is');
  }
  if (typeof v === 'object' && v !== null && 'result' in v) v = (v as { result: unknown }).result;
  const o = v as Partial<ServerAddress> | null;
  if (typeof o?.url !== 'string' || typeof o.token !== 'string') throw new Error('the app did not say where its server is');
  return { url: o.url.replace(/\/+$/, ''), token: o.token };
}

export interface Transport {
  readonly kind: 'browser' | 'electron';
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export function browserTransport(): Transport {
  return {
    kind: 'browser',
    fetch: (path, init = {}) => fetch(path, { ...init, credentials: 'same-origin', cache: 'no-store' }),
  };
}

export function electronTransport(bridge: KindtrayBridge): Transport {
  // Asked once, and again after a failure: the server may have moved to another port.
  let address: Promise<ServerAddress> | undefined;
  const resolve = () => (address ??= bridge.getServer().then(parseServerAddress));
  return {
    kind: 'electron',
    async fetch(path, init = {}) {
      let a: ServerAddress;
      try {
        a = await resolve();
      } catch (e) {
        address = undefined;
        throw e;
      }
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${a.token}`);
      try {
        return await fetch(`${a.url}${path}`, { ...init, headers, credentials: 'omit', cache: 'no-store' });
      } catch (e) {
        address = undefined;
        throw e;
      }
    },
  };
}

export const defaultTransport = (): Transport => {
  const bridge = findBridge();
  return bridge ? electronTransport(bridge) : browserTransport();
};

// ---------------------------------------------------------------------------
// Answers as values

/** A route that did not answer as hoped. status 0: the server could not be reached at all. */
export interface ApiFailure {
  status: number;
  error: ApiError;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; failure: ApiFailure; data?: T };

const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError';

export function unreachable(e: unknown): ApiFailure {
  const why = e instanceof Error ? e.message : String(e);
  return { status: 0, error: { error: `cannot reach the Kindtray server (${why})` } };
}

/** The body of an error answer, whatever shape it came in. */
export function toApiError(status: number, body: unknown, fallbackText = ''): ApiError {
  if (typeof body === 'object' && body !== null && typeof (body as ApiError).error === 'string') return body as ApiError;
  if (status === 401) return { error: 'not signed in: open the dashboard with the link `kindtray dashboard` prints' };
  const text = fallbackText.trim().slice(0, 300);
  return { error: text !== '' ? text : `the server answered ${status}` };
}

/** True for the worker-is-hung answers the supervisor gives for `/api/*` routes it proxies. */
export const isWorkerTrouble = (f: ApiFailure): boolean => f.status === 503 || f.status === 504 || f.error.fix?.id === FIXES.restartServer.id;

export class Api {
  readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /**
   * JSON in, JSON out. Bodies of 2xx answers are `T`; `okStatuses` lists other
   * statuses whose body is still a `T` (validate answers 422 with a ValidateResponse).
   */
  async json<T>(path: string, init: RequestInit & { okStatuses?: number[] } = {}): Promise<ApiResult<T>> {
    const { okStatuses = [], ...rest } = init;
    let res: Response;
    try {
      res = await this.transport.fetch(path, rest);
    } catch (e) {
      if (isAbort(e)) throw e;
      return { ok: false, status: 0, failure: unreachable(e) };
    }
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok) return { ok: true, status: res.status, data: body as T };
    const failure: ApiFailure = { status: res.status, error: toApiError(res.status, body, body === undefined ? text : '') };
    return okStatuses.includes(res.status) ? { ok: false, status: res.status, failure, data: body as T } : { ok: false, status: res.status, failure };
  }

  /**
   * A text stream (task logs, the event stream): calls `onText` with each chunk
   * as it arrives; resolves when the stream ends or `signal` aborts. A failure
   * before the stream starts resolves with it; one midway rejects.
   */
  async stream(path: string, onText: (text: string) => void, signal: AbortSignal, headers: Record<string, string> = {}): Promise<ApiFailure | undefined> {
    let res: Response;
    try {
      res = await this.transport.fetch(path, { signal, headers });
    } catch (e) {
      if (signal.aborted) return undefined;
      return unreachable(e);
    }
    if (!res.ok || res.body === null) {
      const text = await res.text().catch(() => '');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, error: toApiError(res.status, body, text) };
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        if (value) onText(value);
      }
    } catch (e) {
      if (signal.aborted) return undefined;
      throw e;
    } finally {
      reader.releaseLock();
    }
  }
}
