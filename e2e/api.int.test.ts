// The HTTP API on a live cluster: validation under a hanging cluster, bad input
// refused with the field and nothing written, task logs and cancel, events.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse, TaskRecord, ValidateResponse } from '../shared/api.ts';
import { DEADLINES } from '../shared/constants.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';
import { useTestbed, type Cluster } from './testbed/index.ts';

const tb = useTestbed();
let cluster: Cluster;
let server: Served;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cluster = await tb.createCluster({ extraPortMappings: [{ containerPort: 30100 }] });
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

// Resolved when a test runs: the cluster exists only after beforeAll.
const task = (body: string) => `resources:\n  infra: k8s/${cluster.context}\n${body}`;
const tasksNow = async () => (await call<{ tasks: TaskRecord[] }>(`${server.url}/api/tasks`, { token: server.token })).body.tasks;

describe('bad input: a clear 4xx naming the field, and nothing written', () => {
  const cases: [string, () => string, RegExp][] = [
    ['malformed YAML', () => 'name: [unclosed\nrun: x\n', /^$/],
    ['wrong type for cpus', () => task('  cpus: lots\nrun: echo\n'), /resources\.cpus/],
    ['port 0', () => task('  ports: [0]\nrun: echo\n'), /resources\.ports\[0\]/],
    ['port 65536', () => task('  ports: 65536\nrun: echo\n'), /resources\.ports/],
    ['reversed range', () => task('  ports: ["80-70"]\nrun: echo\n'), /resources\.ports\[0\]/],
    ['not a port', () => task('  ports: ["abc"]\nrun: echo\n'), /resources\.ports\[0\]/],
    ['a 10,000-port range', () => task('  ports: ["20000-29999"]\nrun: echo\n'), /resources\.ports/],
    ['duplicate ports', () => task('  ports: [8080, 8080]\nrun: echo\n'), /resources\.ports\[1\]/],
    ['a name Kubernetes refuses', () => 'name: My_Task!\nrun: echo\n', /^name$/],
    ['an unknown field', () => 'name: ok\nresource:\n  cpus: 1\nrun: echo\n', /^resource$/],
  ];
  for (const [what, makeBody, field] of cases) {
    it(what, async () => {
      const body = makeBody();
      const before = (await tasksNow()).length;
      const v = await call<ValidateResponse>(`${server.url}/api/validate`, { method: 'POST', token: server.token, body });
      expect(v.status).toBe(422);
      expect(v.body.ok).toBe(false);
      expect(v.body.errors.some((e) => field.test(e.path))).toBe(true);
      expect(v.body.errors.every((e) => e.message.length > 10)).toBe(true);
      const l = await call<{ error: string; field: string }>(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body });
      expect(l.status).toBe(422);
      expect(l.body.field).toMatch(field);
      expect((await tasksNow()).length).toBe(before);
    });
  }

  it('a syntax error carries its line and column', async () => {
    const v = await call<ValidateResponse>(`${server.url}/api/validate`, { method: 'POST', token: server.token, body: 'name: ok\nrun: "unterminated\n' });
    expect(v.body.errors[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });

  it('the CLI says the same, with file:line and exit 1', async () => {
    const file = `${tb.dockerd.dir}/bad-${cluster.name}.yaml`;
    writeFileSync(file, task('  ports: [0]\nrun: echo\n'));
    const r = await kindtray(['validate', file], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${file}:\\d+:\\d+: resources\\.ports\\[0\\]`));
  });
});

describe('validation never waits on a cluster', () => {
  it('the stand-in hangs: 50 concurrent validations all answer by their deadline; health stays fast throughout', async () => {
    await cluster.setFault('hang');
    try {
      const body = task('  ports: [8080]\nrun: echo hi\n');
      const health: number[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          health.push((await call<HealthResponse>(`${server.url}/api/health`, { timeoutMs: 5_000 })).ms);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => call<ValidateResponse>(`${server.url}/api/validate`, { method: 'POST', token: server.token, body, timeoutMs: 15_000 })),
      );
      polling = false;
      await poller;
      for (const a of answers) {
        expect([200, 422]).toContain(a.status);
        expect(a.ms).toBeLessThan(DEADLINES.validation + 1_500);
      }
      // Milliseconds, not the validation deadline: health never waits on validation (on a loaded 2-core CI box, well under 1.5 s).
      expect(Math.max(...health)).toBeLessThan(1_500);
    } finally {
      await cluster.setFault('none');
      // A probe begun during the hang reports it up to a deadline later: the next tests start once one begun since says ok.
      const cleared = Date.now();
      const until = cleared + 15_000;
      for (;;) {
        const ctx = (await call<HealthSnapshot>(`${server.url}/api/status`, { token: server.token })).body.contexts.find((c) => c.name === cluster.context);
        if (ctx?.state === 'ok' && ctx.probedAt && Date.parse(ctx.probedAt) - (ctx.latencyMs ?? 0) >= cleared) break;
        if (Date.now() > until) throw new Error(`cluster context not ok again 15 s after the hang cleared: ${JSON.stringify(ctx)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 60_000);
});

describe('tasks on a running cluster', () => {
  it('a task that exits 3 is failed with its exit code; its logs are kept; cancel of a finished task is refused', async () => {
    const r = await call<{ task: TaskRecord }>(`${server.url}/api/tasks`, {
      method: 'POST',
      token: server.token,
      body: task('run: echo line-one; echo line-two; exit 3\n'),
    });
    expect(r.status).toBe(201);
    const id = r.body.task.id;
    const until = Date.now() + 30_000;
    let t = r.body.task;
    while (!['failed', 'succeeded'].includes(t.state) && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 200));
      t = (await call<{ task: TaskRecord }>(`${server.url}/api/tasks/${id}`, { token: server.token })).body.task;
    }
    expect(t).toMatchObject({ state: 'failed', exitCode: 3 });
    const logs = await call<string>(`${server.url}/api/tasks/${id}/logs`, { token: server.token });
    expect(logs.body).toContain('line-one');
    expect(logs.body).toContain('line-two');
    const cli = await kindtray(['logs', id], env);
    expect(cli.stdout).toContain('line-two');
    const cancel = await call(`${server.url}/api/tasks/${id}`, { method: 'DELETE', token: server.token });
    expect(cancel.status).toBe(409);
    expect((await call(`${server.url}/api/tasks/t-nope`, { token: server.token })).status).toBe(404);
  }, 60_000);

  it('logs follow a running task until it ends', async () => {
    const r = await call<{ task: TaskRecord }>(`${server.url}/api/tasks`, {
      method: 'POST',
      token: server.token,
      body: task('run: for i in 1 2 3; do echo tick-$i; sleep 0.5; done\n'),
    });
    const id = r.body.task.id;
    const res = await fetch(`${server.url}/api/tasks/${id}/logs?follow=1`, { headers: { authorization: `Bearer ${server.token}` }, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    expect(text).toMatch(/tick-1[\s\S]*tick-2[\s\S]*tick-3/);
  }, 60_000);

  it('events stream snapshot and task changes', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/events`, { headers: { authorization: `Bearer ${server.token}` }, signal: controller.signal });
    const reader = res.body?.getReader();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        text += Buffer.from(chunk.value).toString();
        if (text.includes('event: task')) break;
      }
    })();
    await call(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body: task('run: echo evt\n') });
    await Promise.race([reading, new Promise((r) => setTimeout(r, 10_000))]);
    controller.abort();
    expect(text).toContain('event: snapshot');
    expect(text).toContain('event: task');
  }, 30_000);
});
