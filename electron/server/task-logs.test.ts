// Streamed task logs without a cluster: a fake log API source stands for the
// Kubernetes child. The copy resumes from its cursor after every kind of end
// (a break, a silent stream, a crash of the worker between the log and its
// cursor file), so the file has every line once; readers get each node's log
// from their cursor; the HTTP route speaks plain text and resumable SSE.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../shared/api.ts';
import type { LogSince } from '../../shared/contracts/kube-log.ts';
import { formatLogCursor, LinePrefixer, parseLogCursor } from '../../shared/contracts/task-logs.ts';
import { streamLogs, utf8Tail, type OpenLogs } from './log-route.ts';
import type { LogFollowSpec, LogStreamEnd, LogStreamSource } from './log-streams.ts';
import { NodeLogFile } from './task-log-files.ts';
import { TaskLogs } from './task-logs.ts';
import type { StoredTask } from './task-model.ts';

/** A Pod's log as the API has it: lines with their times; each stream sends some of what follows the cursor, then ends as told. */
class FakeLogApi implements LogStreamSource {
  lines: { time: string; text: string }[] = [];
  /** How each next stream ends, and after how many lines. */
  plan: { lines: number; end: LogStreamEnd }[] = [];
  asked: (LogSince | undefined)[] = [];

  followLog(_t: unknown, spec: LogFollowSpec, onChunk: (d: Uint8Array, s: LogSince | undefined, n: number) => void, signal: AbortSignal): Promise<LogStreamEnd> {
    this.asked.push(spec.since);
    const step = this.plan.shift() ?? { lines: Infinity, end: { outcome: 'eof' } as LogStreamEnd };
    // Resumes at the cursor's second, as a server that cuts sinceTime does; drops what the cursor took, as the child does.
    let skip = spec.since?.seen ?? 0;
    const after = this.lines.filter((l) => {
      if (!spec.since) return true;
      if (l.time < spec.since.time) return false;
      if (l.time === spec.since.time && skip > 0) return skip-- < 0;
      return true;
    });
    const sent = after.slice(0, step.lines);
    if (sent.length > 0) {
      const last = sent[sent.length - 1] as { time: string };
      const before = spec.since?.time === last.time ? spec.since.seen : 0;
      const seen = before + sent.filter((l) => l.time === last.time).length;
      onChunk(new TextEncoder().encode(sent.map((l) => `${l.text}\n`).join('')), { time: last.time, seen }, sent.length);
    }
    return Promise.resolve(signal.aborted ? { outcome: 'stopped' } : step.end);
  }
}

const time = (s: number) => `2026-12-06T00:00:${String(s).padStart(2, '0')}.000000000Z`;
const task = (over: Partial<StoredTask> = {}): StoredTask =>
  ({ id: 't-1', name: 'demo', state: 'running', context: 'kind-x', namespace: 'default', endpoints: [], source: '', createdAt: '', updatedAt: '', spec: { numNodes: 1 }, portPlan: [], ...over }) as StoredTask;

let dir: string;
let notes: string[];
let current: StoredTask;

function makeLogs(api: LogStreamSource, watched = () => false): TaskLogs {
  const ops = { readLog: () => Promise.reject(new Error('streams only')), followLog: api.followLog.bind(api) };
  return new TaskLogs({
    dir,
    ops,
    store: { get: () => current, note: (_id: string, m: string) => notes.push(m) > 0 },
    target: () => ({ context: 'kind-x', kubeconfigPaths: [] }),
    isWatched: watched,
    pollMs: 5,
    pollMaxMs: 20,
  });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-logs-'));
  notes = [];
  current = task();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the copy of a streamed log', () => {
  it('resumes from its cursor after a break, a silent stream and an end: every line once, in order, even with several lines in one second', async () => {
    const api = new FakeLogApi();
    api.lines = [1, 1, 1, 2, 2, 3, 4, 4, 4, 5].map((s, i) => ({ time: time(s), text: `line ${i}` }));
    api.plan = [
      { lines: 2, end: { outcome: 'error', error: { kind: 'unreachable', message: 'kind-x: connection reset' } } },
      { lines: 3, end: { outcome: 'idle' } },
      { lines: 1, end: { outcome: 'error', error: { kind: 'client-crashed', message: 'kind-x: child replaced' } } },
      { lines: 100, end: { outcome: 'eof' } },
    ];
    const logs = makeLogs(api);
    const stop = new AbortController();
    const following = logs.follow(current, 'pod-0', stop.signal);
    for (let i = 0; i < 100 && api.plan.length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await following;
    expect(readFileSync(logs.path('t-1'), 'utf8')).toBe(api.lines.map((l) => `${l.text}\n`).join(''));
    expect(api.asked.slice(0, 4)).toEqual([undefined, { time: time(1), seen: 2 }, { time: time(2), seen: 2 }, { time: time(3), seen: 1 }]);
    // A break is said once per kind, with the cause.
    expect(notes.some((n) => n.includes('connection reset') && n.includes('resuming'))).toBe(true);
  });

  it('an API that refuses at once is tried again with a growing wait, never in a tight loop', async () => {
    const api = new FakeLogApi();
    api.plan = Array.from({ length: 1_000 }, () => ({ lines: 0, end: { outcome: 'error', error: { kind: 'unreachable', message: 'kind-x: connection refused' } } as LogStreamEnd }));
    api.plan.unshift({ lines: 0, end: { outcome: 'idle' } });
    const logs = makeLogs(api);
    const stop = new AbortController();
    const following = logs.follow(current, 'pod-0', stop.signal);
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    await following;
    // pollMs 5, pollMaxMs 20: at most about 200 / 5 tries, and far fewer once the wait reaches 20 ms.
    expect(api.asked.length).toBeLessThan(25);
    expect(notes.filter((n) => n.includes('connection refused'))).toHaveLength(1);
  });

  it('a worker that died between a write and its cursor file cuts the file back to what the cursor covers, and streams the rest again once', async () => {
    const first = new NodeLogFile(dir, 't-1', 0);
    await first.append(Buffer.from('a\nb\n'), { time: time(1), seen: 2 });
    await first.settled();
    // The crash: bytes written past what the cursor file covers.
    writeFileSync(first.file, 'a\nb\nc\n');
    const again = new NodeLogFile(dir, 't-1', 0);
    expect(readFileSync(again.file, 'utf8')).toBe('a\nb\n');
    expect(again.since).toEqual({ time: time(1), seen: 2 });
  });

  it('the last read of an ended container takes the rest from the cursor, with the last line even without its newline', async () => {
    const api = new FakeLogApi();
    api.lines = [{ time: time(1), text: 'one' }];
    const logs = makeLogs(api);
    await logs.drain(current, 'pod-0');
    api.lines.push({ time: time(2), text: 'two' });
    await logs.drain(current, 'pod-0');
    expect(readFileSync(logs.path('t-1'), 'utf8')).toBe('one\ntwo\n');
  });
});

describe('reading the logs of several nodes', () => {
  it('gives each node’s chunks with the cursor after them; from a cursor, what follows it', async () => {
    current = task({ state: 'succeeded', spec: { numNodes: 2 } as StoredTask['spec'] });
    const logs = makeLogs(new FakeLogApi());
    writeFileSync(logs.path('t-1', 0), 'head 1\nhead 2\n');
    writeFileSync(logs.path('t-1', 1), 'worker 1\n');
    const all: string[] = [];
    for await (const c of logs.openNodes('t-1')) all.push(`${c.node}@${c.end}:${c.data.toString()}`);
    expect(all).toEqual(['0@14:head 1\nhead 2\n', '1@9:worker 1\n']);
    const rest: string[] = [];
    for await (const c of logs.openNodes('t-1', { from: { 0: 7, 1: 9 } })) rest.push(c.data.toString());
    expect(rest).toEqual(['head 2\n']);
  });
});

describe('the log cursor and line prefixes (the wire contract)', () => {
  it('round-trips, and says what is wrong with a bad one', () => {
    expect(parseLogCursor(formatLogCursor({ 0: 12, 3: 7 }))).toEqual({ ok: true, cursor: { 0: 12, 3: 7 } });
    expect(parseLogCursor('')).toEqual({ ok: true, cursor: {} });
    const bad = parseLogCursor('0:x');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/cursor must be NODE:OFFSET/);
  });

  it('prefixes whole lines with their node as SkyPilot does, holding a line until its end', () => {
    const p = new LinePrefixer();
    expect(p.push(0, 'a\nb')).toBe('(head, rank=0) a\n');
    expect(p.push(1, 'x\n')).toBe('(worker1, rank=1) x\n');
    expect(p.push(0, 'c\n')).toBe('(head, rank=0) bc\n');
    expect(p.push(1, 'tail')).toBe('');
    expect(p.flush()).toBe('(worker1, rank=1) tail\n');
  });

  it('finds a UTF-8 character cut at the end of a chunk', () => {
    const e = Buffer.from('aé€😀');
    expect(utf8Tail(e)).toBe(0);
    expect(utf8Tail(e.subarray(0, e.length - 1))).toBe(3);
    expect(utf8Tail(e.subarray(0, 2))).toBe(1);
    expect(utf8Tail(e.subarray(0, 4))).toBe(1);
  });
});

describe('GET /api/tasks/:id/logs', () => {
  let server: Server;
  let base: string;
  const record = { id: 't-1', state: 'running', nodes: [{ rank: 0 }, { rank: 1 }] } as unknown as TaskRecord;
  const pieces = [
    { node: 0, data: Buffer.from('h1\n'), end: 3 },
    { node: 1, data: Buffer.from('w1\nw'), end: 4 },
    { node: 0, data: Buffer.from([0x68, 0xc3]), end: 5 },
    { node: 0, data: Buffer.from([0xa9, 0x0a]), end: 7 },
    { node: 1, data: Buffer.from('2\n'), end: 6 },
  ];
  let asked: Parameters<OpenLogs>[1][];

  beforeEach(async () => {
    asked = [];
    const open: OpenLogs = async function* (_id, o) {
      asked.push(o);
      for (const p of pieces) if ((o.nodes ?? [0, 1]).includes(p.node) && p.end > (o.from?.[p.node] ?? 0)) yield p;
    };
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      streamLogs(req, res, open, record, url, false).catch((e: unknown) => res.writeHead(400).end(JSON.stringify(e)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const get = (p: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(`${base}${p}`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });

  it('plain text of several nodes: each line with its node', async () => {
    const r = await get('/logs');
    expect(r.body).toBe('(head, rank=0) h1\n(worker1, rank=1) w1\n(head, rank=0) hé\n(worker1, rank=1) w2\n');
  });

  it('plain text of one node: its log as printed', async () => {
    expect((await get('/logs?node=1')).body).toBe('w1\nw2\n');
    expect(asked[0]?.nodes).toEqual([1]);
  });

  it('SSE: every event’s id is the cursor after it (a character cut in two waits for its end); Last-Event-ID resumes after it', async () => {
    const r = await get('/logs', { accept: 'text/event-stream' });
    const events = r.body.split('\n\n').filter(Boolean);
    expect(events[0]).toBe('event: nodes\ndata: {"nodes":[0,1]}');
    const logs = events.filter((e) => e.includes('event: log'));
    expect(logs.map((e) => /^id: (.*)$/m.exec(e)?.[1])).toEqual(['0:3,1:0', '0:3,1:4', '0:4,1:4', '0:7,1:4', '0:7,1:6']);
    expect(logs.map((e) => (JSON.parse(/^data: (.*)$/m.exec(e)?.[1] ?? '{}') as { text: string }).text).join('')).toBe('h1\nw1\nwhé\n2\n');
    expect(events.at(-1)).toMatch(/^event: end/);
    await get('/logs', { accept: 'text/event-stream', 'last-event-id': '0:4,1:4' });
    expect(asked[1]?.from).toEqual({ 0: 4, 1: 4 });
  });

  it('a bad node or cursor is refused, naming the field', async () => {
    expect((await get('/logs?node=2')).body).toMatch(/node must be a rank from 0 to 1/);
    expect((await get('/logs?cursor=zz')).body).toMatch(/cursor/);
  });
});
