// The dashboard's state reads like the fault table: what the page shows after
// each thing the server says, or fails to say.

import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../../shared/api.ts';
import { withProblems } from '../../../shared/problems.ts';
import { dockerStoppedInput, healthyInput } from '../../../shared/snapshot-fixtures.ts';
import { initialState, isFixRunning, reduce, serverRecovered, snapshotAgeMs, taskList, type Action, type DashboardState } from './state.ts';

const T = Date.parse('2026-01-15T10:00:00.000Z');
const healthy = () => withProblems({ ...healthyInput(), checkedAt: new Date(T).toISOString() });
const stopped = () => withProblems({ ...dockerStoppedInput(), checkedAt: new Date(T).toISOString() });
const run = (...actions: Action[]): DashboardState => actions.reduce(reduce, initialState());

function task(id: string, state: TaskRecord['state'], updatedAt: string, createdAt = updatedAt): TaskRecord {
  return { id, name: id, state, context: 'kind-dev', cluster: 'dev', namespace: 'default', endpoints: [], source: 'run: x', createdAt, updatedAt };
}

describe('snapshot', () => {
  it('starts connecting, with nothing to show', () => {
    const s = initialState();
    expect(s.connection).toEqual({ phase: 'connecting', attempt: 0 });
    expect(s.status).toBeUndefined();
  });

  it('keeps /api/status’s age, and counts on from when it arrived', () => {
    const s = run({ type: 'status', snapshot: healthy(), ageMs: 1200, at: T + 5000 });
    expect(s.status?.ageAtReceiptMs).toBe(1200);
    expect(snapshotAgeMs(s.status, T + 8000)).toBe(4200);
  });

  it('dates an event’s snapshot by its checkedAt', () => {
    const s = run({ type: 'event', event: { type: 'snapshot', snapshot: healthy() }, at: T + 700 });
    expect(s.status?.ageAtReceiptMs).toBe(700);
  });

  it('Docker stopped → the newest snapshot replaces the old one', () => {
    const s = run(
      { type: 'status', snapshot: healthy(), at: T },
      { type: 'event', event: { type: 'snapshot', snapshot: stopped() }, at: T + 1 },
    );
    expect(s.status?.snapshot.overall).toBe('error');
    expect(s.status?.snapshot.docker.state).toBe('stopped');
  });
});

describe('connection', () => {
  it('goes live when the stream opens', () => {
    expect(run({ type: 'connected', at: T }).connection).toEqual({ phase: 'live', since: T });
  });

  it('says when it was lost, and keeps that time across retries', () => {
    const s = run(
      { type: 'connected', at: T },
      { type: 'disconnected', at: T + 1000, error: 'cannot reach', attempt: 1, retryAt: T + 1500 },
      { type: 'disconnected', at: T + 1600, error: 'cannot reach', attempt: 2, retryAt: T + 2600 },
    );
    expect(s.connection).toEqual({ phase: 'lost', since: T + 1000, attempt: 2, retryAt: T + 2600, error: 'cannot reach' });
  });

  it('keeps the last snapshot while the connection is lost, so the page can show it as stale', () => {
    const s = run(
      { type: 'status', snapshot: healthy(), ageMs: 0, at: T },
      { type: 'disconnected', at: T + 1000, error: 'x', attempt: 1, retryAt: T + 1500 },
    );
    expect(s.status?.snapshot.overall).toBe('ok');
    expect(snapshotAgeMs(s.status, T + 60_000)).toBe(60_000);
  });

  it('a 401 is its own state: retrying will not help without a new link', () => {
    expect(run({ type: 'unauthorized', at: T, error: 'not signed in' }).connection.phase).toBe('unauthorized');
  });
});

describe('fixes', () => {
  it('a fix runs from our click until its answer, then keeps its outcome and duration', () => {
    const running = run({ type: 'fix-started', fixId: 'start-docker', at: T });
    expect(isFixRunning(running, 'start-docker')).toBe(true);
    const done = reduce(running, { type: 'fix-finished', fixId: 'start-docker', ok: true, message: 'Docker is running', at: T + 1800 });
    expect(isFixRunning(done, 'start-docker')).toBe(false);
    expect(done.fixes['start-docker']).toEqual({ state: 'done', message: 'Docker is running', finishedAt: T + 1800, durationMs: 1800 });
  });

  it('a fix started elsewhere (the tray, the CLI) shows as running from its event or from the snapshot', () => {
    const byEvent = run({ type: 'event', event: { type: 'fix', fixId: 'start-cluster:dev', state: 'running' }, at: T });
    expect(isFixRunning(byEvent, 'start-cluster:dev')).toBe(true);
    const bySnapshot = run({ type: 'status', snapshot: withProblems(dockerStoppedInput(), { busy: ['start-docker'] }), at: T });
    expect(isFixRunning(bySnapshot, 'start-docker')).toBe(true);
    expect(isFixRunning(bySnapshot, 'restart-server')).toBe(false);
  });

  it('the event and our own answer both report the end: one outcome, the answer’s duration kept', () => {
    const s = run(
      { type: 'fix-started', fixId: 'restart-server', at: T },
      { type: 'event', event: { type: 'fix', fixId: 'restart-server', state: 'failed', message: 'worker did not come back' }, at: T + 900 },
      { type: 'fix-finished', fixId: 'restart-server', ok: false, message: 'worker did not come back', at: T + 910, durationMs: 880 },
    );
    expect(s.fixes['restart-server']).toEqual({ state: 'failed', message: 'worker did not come back', finishedAt: T + 900, durationMs: 880 });
  });

  it('a chain\'s steps arrive as events: each step replaces its earlier state, and the outcome keeps them', () => {
    const step = (id: string, state: 'running' | 'done', at: number) => ({ id, label: id, state, at });
    const ev = (s: ReturnType<typeof step>, at: number): Action => ({ type: 'event', event: { type: 'fix', fixId: 'start-docker', state: 'running', step: s }, at });
    const s = run(
      ev(step('docker', 'running', T), T),
      ev(step('docker', 'done', T + 900), T + 900),
      ev(step('cluster:dev', 'running', T + 950), T + 950),
    );
    expect(s.fixes['start-docker']).toMatchObject({ state: 'running', startedAt: T });
    expect(s.fixes['start-docker']?.steps?.map((x) => `${x.id} ${x.state}`)).toEqual(['docker done', 'cluster:dev running']);
    const end = reduce(s, { type: 'event', event: { type: 'fix', fixId: 'start-docker', state: 'done', message: 'all back' }, at: T + 5000 });
    expect(end.fixes['start-docker']).toMatchObject({ state: 'done', durationMs: 5000 });
    expect(end.fixes['start-docker']?.steps).toHaveLength(2);
    // A step that lost the race with the answer does not start the fix again.
    expect(reduce(end, ev(step('cluster:dev', 'done', T + 4990), T + 5100))).toBe(end);
  });

  it('a second "running" while one runs changes nothing; a new run after an outcome starts afresh', () => {
    const a = run({ type: 'fix-started', fixId: 'start-docker', at: T });
    expect(reduce(a, { type: 'fix-started', fixId: 'start-docker', at: T + 5 })).toBe(a);
    const again = reduce(reduce(a, { type: 'fix-finished', fixId: 'start-docker', ok: false, message: 'no', at: T + 10 }), {
      type: 'fix-started',
      fixId: 'start-docker',
      at: T + 5000,
    });
    expect(again.fixes['start-docker']).toEqual({ state: 'running', startedAt: T + 5000 });
  });
});

describe('tasks', () => {
  it('loads the list, newest first', () => {
    const s = run({ type: 'tasks-loaded', tasks: [task('a', 'running', '2026-01-15T09:00:00Z'), task('b', 'pending', '2026-01-15T09:30:00Z')], at: T });
    expect(s.taskList).toEqual({ state: 'ok', at: T });
    expect(taskList(s.tasks).map((t) => t.id)).toEqual(['b', 'a']);
  });

  it('a task event updates its row; an older record never overwrites a newer one', () => {
    const s = run(
      { type: 'tasks-loaded', tasks: [task('a', 'pending', '2026-01-15T09:00:00Z')], at: T },
      { type: 'event', event: { type: 'task', task: task('a', 'running', '2026-01-15T09:00:05Z', '2026-01-15T09:00:00Z') }, at: T },
      { type: 'task', task: task('a', 'pending', '2026-01-15T09:00:01Z', '2026-01-15T09:00:00Z') },
    );
    expect(s.tasks.a?.state).toBe('running');
  });

  it('worker hung → the list says why and offers the fix, and keeps rows it had', () => {
    const failure = { status: 503, error: { error: 'the API worker did not answer', fix: { id: 'restart-server', label: 'Restart server' } } };
    const s = run({ type: 'tasks-loaded', tasks: [task('a', 'running', '2026-01-15T09:00:00Z')], at: T }, { type: 'tasks-failed', failure, at: T + 1 });
    expect(s.taskList).toEqual({ state: 'error', failure, at: T + 1 });
    expect(Object.keys(s.tasks)).toEqual(['a']);
  });
});

describe('the server coming back', () => {
  it('is noticed when its state turns healthy again, so the task list reloads', () => {
    const hung = withProblems({ ...healthyInput(), server: { state: 'hung', port: 46590, pid: 1 } });
    expect(serverRecovered(hung, healthy())).toBe(true);
    expect(serverRecovered(healthy(), healthy())).toBe(false);
    expect(serverRecovered(undefined, healthy())).toBe(false);
  });
});
