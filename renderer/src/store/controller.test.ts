// The connection and the fixes, against a scripted server: lost → retrying
// with backoff → live again with the lists reloaded; a fix's progress and
// outcome; Restart server bringing the task list back.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskRecord } from '../../../shared/api.ts';
import { withProblems } from '../../../shared/problems.ts';
import { healthyInput } from '../../../shared/snapshot-fixtures.ts';
import type { ServerApi } from '../server-api.ts';
import type { ApiFailure, ApiResult } from '../transport.ts';
import { Controller } from './controller.ts';
import { createDashboardStore } from './store.ts';

const snapshot = withProblems(healthyInput());
const sse = (type: string, body: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;
const ok = <T>(data: T): ApiResult<T> => ({ ok: true, status: 200, data });
const fail = (status: number, error: string): { ok: false; status: number; failure: ApiFailure } => ({ ok: false, status, failure: { status, error: { error } } });
const task: TaskRecord = {
  id: 't1', name: 'web', state: 'running', context: 'kind-dev', namespace: 'default', endpoints: [], source: 'run: x',
  createdAt: '2026-01-15T10:00:00Z', updatedAt: '2026-01-15T10:00:00Z',
};

/** A server whose event stream is scripted call by call: each entry fails, or opens and sends its text, staying open until aborted. */
function fakeServer(streams: ({ fail: ApiFailure } | { send: string })[]) {
  let call = 0;
  const api = {
    status: vi.fn(async () => ok({ ...snapshot, ageMs: 100 })),
    events: vi.fn((onText: (t: string) => void, signal: AbortSignal) => {
      const step = streams[Math.min(call++, streams.length - 1)];
      if (!step || 'fail' in step) return Promise.resolve(step?.fail);
      onText(step.send);
      return new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    }),
    tasks: vi.fn(async () => ok({ tasks: [task] })),
    runFix: vi.fn(async (fixId: string) => ok({ ok: true, fixId, message: 'done', durationMs: 1500 })),
  };
  return api;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the connection', () => {
  it('server unreachable → "lost, retrying" with backoff, then live once it answers, and the task list reloads', async () => {
    const server = fakeServer([{ fail: fail(0, 'cannot reach the Kindtray server').failure }, { fail: fail(0, 'cannot reach').failure }, { send: sse('snapshot', { snapshot }) }]);
    const store = createDashboardStore();
    const c = new Controller(store, server as unknown as ServerApi);
    store.getState().dispatch({ type: 'tasks-loaded', tasks: [], at: 0 });
    const stop = c.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().connection).toMatchObject({ phase: 'lost', attempt: 1, error: 'cannot reach the Kindtray server' });
    await vi.advanceTimersByTimeAsync(500);
    expect(store.getState().connection).toMatchObject({ phase: 'lost', attempt: 2 });
    await vi.advanceTimersByTimeAsync(999);
    expect(store.getState().connection.phase).toBe('lost');
    await vi.advanceTimersByTimeAsync(1);
    expect(store.getState().connection.phase).toBe('live');
    expect(store.getState().status?.snapshot.overall).toBe('ok');
    expect(server.tasks).toHaveBeenCalled();
    stop();
  });

  it('a 401 is reported as "not signed in", not as a flapping connection', async () => {
    const server = fakeServer([{ fail: fail(401, 'missing or wrong token').failure }]);
    const store = createDashboardStore();
    const stop = new Controller(store, server as unknown as ServerApi).start();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().connection).toMatchObject({ phase: 'unauthorized', error: 'missing or wrong token' });
    stop();
  });

  it('a stream that goes silent past the keep-alives is dropped and reopened', async () => {
    const server = fakeServer([{ send: sse('snapshot', { snapshot }) }]);
    const store = createDashboardStore();
    const stop = new Controller(store, server as unknown as ServerApi).start();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().connection.phase).toBe('live');
    await vi.advanceTimersByTimeAsync(40_000);
    expect(server.events).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(server.events).toHaveBeenCalledTimes(2);
    expect(store.getState().connection.phase).toBe('live');
    stop();
  });
});

describe('fixes', () => {
  it('shows a fix running while it runs, then its outcome', async () => {
    const server = fakeServer([{ send: '' }]);
    let finish: (v: ApiResult<{ ok: boolean; fixId: string; message: string; durationMs: number }>) => void = () => undefined;
    server.runFix.mockImplementationOnce(() => new Promise((r) => (finish = r)));
    const store = createDashboardStore();
    const c = new Controller(store, server as unknown as ServerApi);
    const done = c.runFix('start-docker');
    expect(store.getState().fixes['start-docker']?.state).toBe('running');
    finish(ok({ ok: false, fixId: 'start-docker', message: 'the start command exited with 1', durationMs: 900 }));
    await done;
    expect(store.getState().fixes['start-docker']).toMatchObject({ state: 'failed', message: 'the start command exited with 1', durationMs: 900 });
  });

  it('an unreachable server is a failed fix with the reason, not a hang', async () => {
    const server = fakeServer([{ send: '' }]);
    server.runFix.mockResolvedValueOnce(fail(0, 'cannot reach the Kindtray server') as never);
    const store = createDashboardStore();
    await new Controller(store, server as unknown as ServerApi).runFix('restart-server');
    expect(store.getState().fixes['restart-server']).toMatchObject({ state: 'failed', message: 'cannot reach the Kindtray server' });
  });

  it('worker hung → Restart server → the task list reloads', async () => {
    const server = fakeServer([{ send: '' }]);
    server.tasks.mockResolvedValueOnce(fail(503, 'the API worker did not answer') as never);
    const store = createDashboardStore();
    const c = new Controller(store, server as unknown as ServerApi);
    await c.loadTasks();
    expect(store.getState().taskList.state).toBe('error');
    await c.runFix('restart-server');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().taskList.state).toBe('ok');
    expect(store.getState().tasks.t1?.name).toBe('web');
  });

  it('the worker coming back by itself (watchdog) also reloads the task list', async () => {
    const hung = withProblems({ ...healthyInput(), server: { state: 'hung', port: 1, pid: 2 } });
    const server = fakeServer([{ send: sse('snapshot', { snapshot: hung }) + sse('snapshot', { snapshot }) }]);
    const store = createDashboardStore();
    store.getState().dispatch({ type: 'tasks-failed', failure: fail(503, 'hung').failure, at: 0 });
    const stop = new Controller(store, server as unknown as ServerApi).start();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.tasks).toHaveBeenCalled();
    expect(store.getState().taskList.state).toBe('ok');
    stop();
  });
});
