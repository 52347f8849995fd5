// Streamed task logs against the testbed: a task printing lines over time is
// followed from the Kubernetes log API, in order; a reader that stops mid-way
// and comes back with its cursor, and a stream whose Kubernetes child is
// killed mid-way, lose nothing and repeat nothing; a hung API ends its stream
// within the idle deadline while another cluster's task's log still flows.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../e2e/testbed/index.ts';
import type { Cluster } from '../../e2e/testbed/index.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import { Launcher } from './launcher.ts';
import { StreamingKubeOps } from './log-streams.ts';
import { TaskStore } from './store.ts';
import type { StoredTask } from './task-model.ts';

const tb = useTestbed();

/** Short, so that a silent stream is noticed within the test: the product's is LOG_STREAM_IDLE_MS. */
const IDLE_MS = 2_000;
const OPEN_MS = 2_000;

let clusterA: Cluster;
let clusterB: Cluster;
let dir: string;
let store: TaskStore;
let ops: StreamingKubeOps;
let launcher: Launcher;

beforeAll(async () => {
  [clusterA, clusterB] = await Promise.all([tb.createCluster({ name: 'logs-a' }), tb.createCluster({ name: 'logs-b' })]);
});

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-logs-int-'));
  store = TaskStore.open(path.join(dir, 'kindtray.db'));
  ops = new StreamingKubeOps({ logs: { idleMs: IDLE_MS, openDeadlineMs: OPEN_MS } });
  launcher = new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), defaultImage: tb.info.image, kubeconfigPaths: () => [tb.kubeconfigPath] });
});

afterEach(async () => {
  await launcher.close();
  ops.close();
  store.close();
  await Promise.all([clusterA.setFault('none'), clusterB.setFault('none')]);
  rmSync(dir, { recursive: true, force: true });
});

/** A task printing `count` numbered lines, one every `everyS` seconds. */
function printing(cluster: Cluster, count: number, everyS: number, name = 'printer'): StoredTask {
  const run = `i=1; while [ $i -le ${count} ]; do echo "line $i of ${name}"; i=$((i+1)); sleep ${everyS}; done`;
  const spec: TaskSpec = { name, resources: { ports: [] }, envs: {}, numNodes: 1, run };
  const t = store.create({ name, context: cluster.context, cluster: cluster.name, source: JSON.stringify(spec), spec, portPlan: [] });
  launcher.launch(t.id);
  return t;
}

const expected = (count: number, name = 'printer') => Array.from({ length: count }, (_, i) => `line ${i + 1} of ${name}\n`).join('');

async function until<T>(what: string, get: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fileOf = (id: string): string => {
  try {
    return readFileSync(launcher.logPath(id), 'utf8');
  } catch {
    return '';
  }
};
const linesIn = (text: string) => text.split('\n').filter(Boolean).length;

describe('streamed task logs', () => {
  it('follow gets the lines in order as they are printed, and ends when the task ends', async () => {
    const t = printing(clusterA, 30, 0.1);
    let got = '';
    const seen: number[] = [];
    for await (const c of launcher.openLogStream(t.id, { follow: true })) {
      got += c.data.toString();
      seen.push(linesIn(got));
    }
    expect(got).toBe(expected(30));
    // Followed, not read once at the end: the lines came in several pieces.
    expect(new Set(seen).size).toBeGreaterThan(3);
    expect(store.get(t.id)?.state).toBe('succeeded');
    expect(fileOf(t.id)).toBe(expected(30));
  }, 60_000);

  it('a reader that stops mid-way and comes back with its cursor gets the rest: nothing lost, nothing twice', async () => {
    const t = printing(clusterA, 40, 0.05);
    const abort = new AbortController();
    let first = '';
    let cursor = 0;
    for await (const c of launcher.openLogStream(t.id, { follow: true, signal: abort.signal })) {
      first += c.data.toString();
      cursor = c.end;
      if (linesIn(first) >= 10) abort.abort();
    }
    let rest = '';
    for await (const c of launcher.openLogStream(t.id, { follow: true, from: { 0: cursor } })) rest += c.data.toString();
    expect(first + rest).toBe(expected(40));
  }, 60_000);

  it('a stream whose Kubernetes child is killed mid-way resumes from its cursor on a fresh child: nothing lost, nothing twice', async () => {
    const t = printing(clusterA, 60, 0.05);
    await until('some lines streamed', () => linesIn(fileOf(t.id)) >= 10);
    const [pid] = ops.streams.pids();
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGKILL');
    await until('the task to end', () => store.get(t.id)?.state === 'succeeded', 45_000);
    expect(fileOf(t.id)).toBe(expected(60));
    expect(ops.streams.counts.started).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a hung API ends its stream within the idle deadline while another cluster’s task’s log still flows; once it answers, the log is whole', async () => {
    const a = printing(clusterA, 120, 0.1, 'on-a');
    const b = printing(clusterB, 120, 0.1, 'on-b');
    await until('both logs to flow', () => linesIn(fileOf(a.id)) >= 5 && linesIn(fileOf(b.id)) >= 5);
    await clusterA.setFault('hang');
    const hungAt = Date.now();
    const linesAtHang = linesIn(fileOf(a.id));
    // A's stream goes silent; B's keeps coming, line by line, meanwhile.
    const bBefore = linesIn(fileOf(b.id));
    await until('the hung stream to be ended and said so', () => store.events(a.id)?.some((e) => /log stream of pod .* broke/.test(e.message)), IDLE_MS + OPEN_MS + 5_000);
    const noticedMs = Date.now() - hungAt;
    expect(noticedMs).toBeLessThan(IDLE_MS + OPEN_MS + 3_000);
    expect(linesIn(fileOf(b.id)) - bBefore).toBeGreaterThanOrEqual(Math.floor(noticedMs / 100) - 10);
    expect(linesIn(fileOf(a.id))).toBeLessThanOrEqual(linesAtHang + 2);
    await clusterA.setFault('none');
    await until('both tasks to end', () => store.get(a.id)?.state === 'succeeded' && store.get(b.id)?.state === 'succeeded', 40_000);
    expect(fileOf(a.id)).toBe(expected(120, 'on-a'));
    expect(fileOf(b.id)).toBe(expected(120, 'on-b'));
  }, 90_000);
});
