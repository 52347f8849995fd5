// The task store, against real SQLite files: the state machine, durability
// across a kill -9 of the writing process, two connections at once, and
// clear answers for ids that name nothing.

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TASK_STATES } from '../../shared/api.ts';
import type { TaskState } from '../../shared/api.ts';
import type { TaskSpec } from '../../shared/task/schema.ts';
import { TaskStore } from './store.ts';
import { STORE_SCHEMA_VERSION } from './store-schema.ts';
import { TASK_TRANSITIONS, TaskStoreError, isTaskId, newTaskId } from './task-model.ts';
import type { NewTask } from './task-model.ts';

const spec: TaskSpec = { name: 'web', resources: { ports: [8080] }, envs: { A: '1' }, run: 'echo hi', numNodes: 1 };

export function sampleTask(over: Partial<NewTask> = {}): NewTask {
  return {
    name: 'web',
    context: 'kind-dev',
    cluster: 'dev',
    source: 'name: web\nrun: echo hi\n',
    spec,
    portPlan: [{ port: 8080, nodePort: 30080, url: 'http://127.0.0.1:8080', reachable: 'yes', how: 'published by dev-control-plane as 127.0.0.1:8080' }],
    ...over,
  };
}

const writerFixture = fileURLToPath(new URL('./store-crash-writer.fixture.ts', import.meta.url));

let dir: string;
let stores: TaskStore[];
const open = (file = 'kindtray.db'): TaskStore => {
  const s = TaskStore.open(path.join(dir, file));
  stores.push(s);
  return s;
};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-store-'));
  stores = [];
});
afterEach(() => {
  for (const s of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('task ids', () => {
  it('are short, unique and sort by creation time', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => newTaskId(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(isTaskId(id)).toBe(true);
    const byTime = ids.map((id) => id.slice(0, 10));
    expect([...byTime].sort()).toEqual(byTime);
    expect(ids[0]).toHaveLength(14);
  });
});

describe('create, get, list', () => {
  it('records a pending task with its spec, plan, endpoints and first event', () => {
    const store = open();
    const t = store.create(sampleTask());
    expect(t.state).toBe('pending');
    expect(t.namespace).toBe('default');
    expect(t.spec).toEqual(spec);
    expect(t.endpoints).toEqual([{ port: 8080, nodePort: 30080, url: 'http://127.0.0.1:8080', reachable: true, how: 'published by dev-control-plane as 127.0.0.1:8080' }]);
    expect(store.get(t.id)).toEqual(t);
    expect(store.events(t.id)).toEqual([{ taskId: t.id, at: t.createdAt, state: 'pending', message: 'submitted for kind-dev' }]);
  });

  it('keeps a task waiting with what it waits for', () => {
    const store = open();
    const t = store.create(sampleTask({ waitingFor: 'cluster dev to be running' }));
    expect(t.state).toBe('waiting');
    expect(t.reason).toBe('cluster dev to be running');
    expect(store.waiting().map((w) => w.id)).toEqual([t.id]);
    expect(store.inFlight()).toEqual([]);
  });

  it('lists newest first, by limit and by state', () => {
    const store = open();
    const a = store.create(sampleTask({ name: 'a' }));
    const b = store.create(sampleTask({ name: 'b' }));
    const c = store.create(sampleTask({ name: 'c' }));
    store.transition(b.id, 'cancelled', { reason: 'by user' });
    expect(store.list().map((t) => t.name)).toEqual(['c', 'b', 'a']);
    expect(store.list({ limit: 2 }).map((t) => t.name)).toEqual(['c', 'b']);
    expect(store.list({ states: ['pending'] }).map((t) => t.id)).toEqual([c.id, a.id]);
    expect(store.list({ states: [] })).toEqual([]);
    expect(store.inFlight().map((t) => t.id)).toEqual([a.id, c.id]);
  });

  it('knows which NodePorts tasks that are not final hold', () => {
    const store = open();
    const a = store.create(sampleTask());
    store.create(sampleTask({ portPlan: [{ port: 9000, nodePort: 30900, reachable: 'yes', how: 'x' }], waitingFor: 'cluster' }));
    store.create(sampleTask({ context: 'kind-other', portPlan: [{ port: 9000, nodePort: 31000, reachable: 'no', how: 'x' }] }));
    expect([...store.usedNodePorts()].sort()).toEqual([30080, 30900, 31000]);
    expect([...store.usedNodePorts('kind-dev')].sort()).toEqual([30080, 30900]);
    store.transition(a.id, 'cancelled');
    expect([...store.usedNodePorts('kind-dev')]).toEqual([30900]);
  });
});

describe('state machine', () => {
  const legal: [TaskState, TaskState][] = [
    ['waiting', 'pending'], ['waiting', 'cancelled'],
    ['pending', 'launching'], ['pending', 'failed'], ['pending', 'cancelled'],
    ['launching', 'running'], ['launching', 'succeeded'], ['launching', 'failed'], ['launching', 'cancelled'],
    ['running', 'succeeded'], ['running', 'failed'], ['running', 'cancelled'],
    // A pipeline's next stage.
    ['launching', 'launching'], ['running', 'launching'],
  ];

  it('allows exactly the legal moves', () => {
    for (const from of TASK_STATES) {
      for (const to of TASK_STATES) {
        const isLegal = legal.some(([f, t]) => f === from && t === to);
        expect(TASK_TRANSITIONS[from].includes(to), `${from} → ${to}`).toBe(isLegal);
      }
    }
  });

  /** A task driven to `state` through legal moves. */
  function taskIn(store: TaskStore, state: TaskState): string {
    const path: Record<TaskState, TaskState[]> = {
      waiting: [], pending: [], launching: ['launching'], running: ['launching', 'running'],
      succeeded: ['launching', 'running', 'succeeded'], failed: ['failed'], cancelled: ['cancelled'],
    };
    const t = store.create(sampleTask(state === 'waiting' ? { waitingFor: 'x' } : {}));
    for (const s of path[state]) expect(store.transition(t.id, s).ok).toBe(true);
    return t.id;
  }

  it('applies every legal move with its event, and refuses every other one unchanged', () => {
    const store = open();
    for (const from of TASK_STATES) {
      for (const to of TASK_STATES) {
        const id = taskIn(store, from);
        const before = store.get(id);
        const eventsBefore = store.events(id)?.length ?? 0;
        const r = store.transition(id, to, { reason: 'because' });
        if (legal.some(([f, t]) => f === from && t === to)) {
          expect(r.ok, `${from} → ${to}`).toBe(true);
          expect(store.get(id)?.state).toBe(to);
          const events = store.events(id) ?? [];
          expect(events).toHaveLength(eventsBefore + 1);
          expect(events.at(-1)).toMatchObject({ state: to, message: 'because' });
        } else {
          expect(r.ok, `${from} → ${to}`).toBe(false);
          if (!r.ok) expect(r.code).toBe('illegal');
          expect(store.get(id)).toEqual(before);
          expect(store.events(id)).toHaveLength(eventsBefore);
        }
      }
    }
  });

  it('says why a finished task cannot be cancelled', () => {
    const store = open();
    const id = taskIn(store, 'succeeded');
    const r = store.transition(id, 'cancelled');
    expect(r).toMatchObject({ ok: false, code: 'illegal', message: `task ${id} is succeeded: it has already succeeded` });
  });

  it('stamps startedAt on running and finishedAt on a final state, and applies the patch', () => {
    const store = open();
    const t = store.create(sampleTask());
    store.transition(t.id, 'launching', { patch: { podName: 'kt-web-x', serviceName: 'kt-web-x' } });
    const running = store.transition(t.id, 'running');
    expect(running.ok && running.task.startedAt).toBeTruthy();
    const done = store.transition(t.id, 'failed', { reason: 'exited with code 3', patch: { exitCode: 3 } });
    expect(done.ok).toBe(true);
    const got = store.get(t.id);
    expect(got).toMatchObject({ state: 'failed', reason: 'exited with code 3', exitCode: 3, podName: 'kt-web-x', serviceName: 'kt-web-x' });
    expect(got?.finishedAt).toBeTruthy();
    expect(store.events(t.id)?.map((e) => e.state)).toEqual(['pending', 'launching', 'running', 'failed']);
  });
});

describe('ids that name nothing', () => {
  it('gives a clear not-found, and says when the id is not an id at all', () => {
    const store = open();
    const missing = newTaskId();
    expect(store.get(missing)).toBeUndefined();
    expect(store.events(missing)).toBeUndefined();
    expect(store.transition(missing, 'cancelled')).toEqual({ ok: false, code: 'not-found', message: `task ${missing} not found (see \`kindtray tasks\`)` });
    const r = store.transition("x'; DROP TABLE tasks; --", 'cancelled');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/is not a task id: ids look like t-/);
    expect(store.list()).toEqual([]);
    expect(store.note(missing, 'hello')).toBe(false);
  });
});

describe('the database file', () => {
  it('is WAL, synchronous FULL, and versioned', () => {
    const store = open();
    store.create(sampleTask());
    store.close();
    const db = new DatabaseSync(path.join(dir, 'kindtray.db'));
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: STORE_SCHEMA_VERSION });
    db.close();
    const again = open();
    expect(again.list()).toHaveLength(1);
  });

  it('refuses a database from a newer Kindtray, and one that is not a Kindtray database', () => {
    const newer = new DatabaseSync(path.join(dir, 'newer.db'));
    newer.exec(`PRAGMA user_version = ${STORE_SCHEMA_VERSION + 5}`);
    newer.close();
    expect(() => open('newer.db')).toThrow(/written by a newer Kindtray/);

    const foreign = new DatabaseSync(path.join(dir, 'foreign.db'));
    foreign.exec('CREATE TABLE notes (x TEXT)');
    foreign.close();
    expect(() => open('foreign.db')).toThrow(/not a Kindtray task database/);

    writeFileSync(path.join(dir, 'garbage.db'), 'this is not sqlite at all, just text that fills a page '.repeat(100));
    expect(() => open('garbage.db')).toThrow(TaskStoreError);
  });

  it('takes two connections at once without losing or corrupting a row', () => {
    const a = open();
    const b = open();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      ids.push(a.create(sampleTask({ name: `a${i}` })).id);
      ids.push(b.create(sampleTask({ name: `b${i}` })).id);
    }
    // Both race to finish the same tasks: exactly one move wins for each.
    let wins = 0;
    for (const id of ids) {
      const r1 = a.transition(id, 'cancelled', { reason: 'a' });
      const r2 = b.transition(id, 'failed', { reason: 'b' });
      wins += Number(r1.ok) + Number(r2.ok);
      expect(r2.ok).toBe(false);
    }
    expect(wins).toBe(ids.length);
    expect(b.list({ limit: 1000 })).toHaveLength(100);
    expect(new Set(a.list({ limit: 1000 }).map((t) => t.state))).toEqual(new Set(['cancelled']));
    const db = new DatabaseSync(path.join(dir, 'kindtray.db'));
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
  });

  it('takes two processes writing at the same time', async () => {
    const file = path.join(dir, 'shared.db');
    const run = (): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const ids: string[] = [];
        const child = fork(writerFixture, [file, '100'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        child.on('message', (m) => ids.push(String(m)));
        child.on('exit', (code) => (code === 0 ? resolve(ids) : reject(new Error(`writer exited with ${String(code)}`))));
      });
    const [one, two] = await Promise.all([run(), run()]);
    const store = open('shared.db');
    const all = store.list({ limit: 1000 });
    expect(all).toHaveLength(200);
    expect(new Set(all.map((t) => t.id))).toEqual(new Set([...one, ...two]));
    for (const t of all) expect(t.state).toBe('launching');
    const db = new DatabaseSync(file);
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
  });

  it('keeps every task it acknowledged when the writing process is killed with SIGKILL', async () => {
    const file = path.join(dir, 'crash.db');
    const child = fork(writerFixture, [file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const acknowledged: string[] = [];
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m) => {
        acknowledged.push(String(m));
        // Kill mid-stream, while it is writing as fast as it can.
        if (acknowledged.length === 200) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited without being killed (${String(signal)})`))));
    });
    const store = open('crash.db');
    const all = new Set(store.list({ limit: 1000 }).map((t) => t.id));
    for (const id of acknowledged) expect(all.has(id), id).toBe(true);
    for (const id of acknowledged) expect(store.events(id)?.map((e) => e.state)).toEqual(['pending', 'launching']);
  });
});
