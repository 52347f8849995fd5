// Task logs through the product, as users read them: `kindtray serve` on the
// testbed, a task printing lines over time. `kindtray logs ID -f` prints them
// all in order as they come; an SSE reader that drops its connection mid-way
// and comes back with Last-Event-ID gets the rest, nothing lost or repeated;
// plain text (the old contract) still gives the log as printed; a 2-node
// task's logs come with each line's node, or one node's alone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../shared/api.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';
import { useTestbed, type Cluster } from './testbed/index.ts';

const tb = useTestbed();
let cluster: Cluster;
let server: Served;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // Two nodes: a 2-node task's Pods each have one.
  cluster = await tb.createCluster({ name: 'logs', workers: 1 });
  const home = tempHome();
  writeSettings(home, { probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
  env = tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.info.image });
  server = await serve(env, { port: await freePort() });
  const until = Date.now() + 20_000;
  for (;;) {
    const s = (await call<HealthSnapshot>(`${server.url}/api/status`, { token: server.token })).body;
    if (s.contexts.find((c) => c.name === cluster.context)?.state === 'ok') break;
    if (Date.now() > until) throw new Error('cluster context never ok');
    await new Promise((r) => setTimeout(r, 200));
  }
}, 90_000);
afterAll(async () => {
  await server?.stop();
});

const lines = (n: number, name: string) => Array.from({ length: n }, (_, i) => `${name} ${i + 1}\n`).join('');

async function launchPrinter(name: string, n: number, everyS: number): Promise<string> {
  const body = `name: ${name}\nresources:\n  infra: k8s/${cluster.context}\nrun: |\n  i=1; while [ $i -le ${n} ]; do echo "${name} $i"; i=$((i+1)); sleep ${everyS}; done\n`;
  const r = await call<{ task: TaskRecord }>(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body });
  expect(r.status).toBe(201);
  return r.body.task.id;
}

/** Reads SSE log events until `stop` says so or the stream ends; the text and the last id. */
async function readEvents(id: string, lastId: string | undefined, stop: (text: string) => boolean): Promise<{ text: string; lastId: string | undefined; ended: boolean }> {
  const abort = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${server.token}`, accept: 'text/event-stream' };
  if (lastId) headers['last-event-id'] = lastId;
  const res = await fetch(`${server.url}/api/tasks/${id}/logs?follow=1`, { headers, signal: abort.signal });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  let ended = false;
  try {
    while (!stop(text) && !ended) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (block.includes('event: end')) ended = true;
        if (!block.includes('event: log')) continue;
        lastId = /^id: (.*)$/m.exec(block)?.[1];
        text += (JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}') as { text: string }).text;
        // Stop at an event's end, as a client whose connection drops there would have its id.
        if (stop(text)) break;
      }
    }
  } finally {
    abort.abort();
  }
  return { text, lastId, ended };
}

describe('task logs through the server', () => {
  it('kindtray logs -f prints every line in order as it comes, and returns when the task ends', async () => {
    const id = await launchPrinter('cli', 30, 0.1);
    const cli = await kindtray(['logs', id, '-f'], env, 60_000);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toBe(lines(30, 'cli'));
    // The old plain-text answer is the same log.
    const plain = await call<string>(`${server.url}/api/tasks/${id}/logs`, { token: server.token });
    expect(plain.body).toBe(lines(30, 'cli'));
  }, 90_000);

  it('an SSE reader that drops mid-way and comes back with Last-Event-ID gets the rest: nothing lost, nothing twice', async () => {
    const id = await launchPrinter('sse', 40, 0.1);
    const first = await readEvents(id, undefined, (t) => t.split('\n').length > 10);
    expect(first.lastId).toMatch(/^0:\d+$/);
    const rest = await readEvents(id, first.lastId, () => false);
    expect(rest.ended).toBe(true);
    expect(first.text + rest.text).toBe(lines(40, 'sse'));
  }, 90_000);

  it('a 2-node task: every line once with its node, in each node’s order; --node 1 gives the worker’s log alone', async () => {
    const body = `name: pair\nnum_nodes: 2\nresources:\n  infra: k8s/${cluster.context}\nrun: |\n  for i in 1 2 3; do echo "r$SKYPILOT_NODE_RANK line $i"; sleep 0.2; done\n`;
    const r = await call<{ task: TaskRecord }>(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body });
    expect(r.status).toBe(201);
    const id = r.body.task.id;
    const all = await kindtray(['logs', id, '-f'], env, 90_000);
    expect(all.code).toBe(0);
    const out = all.stdout.split('\n').filter(Boolean);
    expect(out.filter((l) => l.startsWith('(head, rank=0) '))).toEqual(['(head, rank=0) r0 line 1', '(head, rank=0) r0 line 2', '(head, rank=0) r0 line 3']);
    expect(out.filter((l) => l.startsWith('(worker1, rank=1) '))).toEqual(['(worker1, rank=1) r1 line 1', '(worker1, rank=1) r1 line 2', '(worker1, rank=1) r1 line 3']);
    expect(out).toHaveLength(6);
    const worker = await kindtray(['logs', id, '--node', '1'], env);
    expect(worker.stdout).toBe('r1 line 1\nr1 line 2\nr1 line 3\n');
  }, 120_000);

  it('a node that is not the task’s is refused, naming the field', async () => {
    const id = await launchPrinter('one', 1, 0);
    const r = await call<{ error: string; field: string }>(`${server.url}/api/tasks/${id}/logs?node=3`, { token: server.token });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('node');
  }, 30_000);
});
