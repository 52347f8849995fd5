// The worker's task routes with launch values: envs and secrets given at
// launch fill the file's nulls, a value still missing is refused on its field,
// and a secret's value never comes back, from any route or from the stored source.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAUNCH_REQUEST_TYPE } from '../../shared/api.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import type { TaskService } from './routes.ts';
import { workerRoutes } from './routes.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { TaskStore, toTaskRecord } from './store.ts';

const GiB = 1024 ** 3;
const snapshot: HealthSnapshot = {
  overall: 'ok',
  checkedAt: new Date().toISOString(),
  docker: { state: 'running', endpoint: 'unix:///var/run/docker.sock', version: '27.0.0' },
  clusters: [
    {
      name: 'dev',
      state: 'running',
      context: 'kind-dev',
      apiEndpoint: 'https://127.0.0.1:41234',
      nodes: [{ name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true, cpus: 4, memoryBytes: 16 * GiB }],
      portMappings: [],
    },
  ],
  contexts: [{ name: 'kind-dev', current: true, state: 'ok' }],
  server: { state: 'healthy' },
  problems: [],
};

let dir: string;
let store: TaskStore;
let server: Server;
let base: string;
const launched: string[] = [];
const cancels: { id: string; why?: string }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-routes-'));
  store = TaskStore.open(path.join(dir, 'kindtray.db'));
  const cache = new SnapshotCache(() => undefined);
  cache.accept({ type: 'snapshot', snapshot, ageMs: 0 });
  const tasks: TaskService = {
    create: (input) =>
      toTaskRecord(store.create({ name: input.name, context: input.context, source: input.source, spec: input.spec, portPlan: input.plan, ...(input.cluster ? { cluster: input.cluster } : {}) })),
    get: (id) => {
      const t = store.get(id);
      return t ? toTaskRecord(t) : undefined;
    },
    list: (limit) => store.list({ limit }).map(toTaskRecord),
    usedNodePorts: () => [],
    launch: (id) => void launched.push(id),
    cancel: async (id, why) => {
      cancels.push({ id, ...(why ? { why } : {}) });
      const t = store.get(id);
      if (!t) throw new Error('not here');
      return toTaskRecord(t);
    },
    openLogs: async function* () {},
  };
  const router = workerRoutes(cache, tasks);
  server = createServer((req, res) => {
    void router.handle(req, res, new URL(req.url ?? '/', 'http://x'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise((r) => server.close(r));
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const TASK = 'name: hf\nenvs:\n  MODEL: small\n  HF_TOKEN:\nsecrets:\n  IN_FILE: file-s3cret\n  WANDB_KEY:\nrun: echo $HF_TOKEN\n';

async function launch(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${base}/api/tasks`, { method: 'POST', headers: { 'content-type': LAUNCH_REQUEST_TYPE }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('POST /api/tasks with launch values', () => {
  it('a value still missing is refused on its field, naming it', async () => {
    const r = await launch({ task: TASK, envs: { HF_TOKEN: 'hf' } });
    expect(r.status).toBe(422);
    expect(r.body.field).toBe('secrets.WANDB_KEY');
    expect(String(r.body.error)).toContain('WANDB_KEY is required at launch');
    const none = await launch({ task: TASK, secrets: { WANDB_KEY: 'w' } });
    expect(none.body.field).toBe('envs.HF_TOKEN');
  });

  it('a malformed body is a 400', async () => {
    expect((await launch({ envs: {} })).status).toBe(400);
    expect((await launch({ task: TASK, envs: { A: 1 } })).status).toBe(400);
  });

  it('launches with the values; secrets appear nowhere it answers, nor in the stored source', async () => {
    const r = await launch({ task: TASK, envs: { HF_TOKEN: 'hf-visible', MODEL: 'big' }, secrets: { WANDB_KEY: 'given-s3cret' } });
    expect(r.status).toBe(201);
    const id = (r.body.task as { id: string }).id;
    expect(launched).toContain(id);
    const stored = store.get(id);
    expect(stored?.spec.envs).toEqual({ MODEL: 'big', HF_TOKEN: 'hf-visible' });
    // Kept for the launch, which makes the Secret from them; the database file is the owner's alone.
    expect(stored?.spec.secrets).toEqual({ IN_FILE: 'file-s3cret', WANDB_KEY: 'given-s3cret' });
    const answers = [
      JSON.stringify(r.body),
      await (await fetch(`${base}/api/tasks`)).text(),
      await (await fetch(`${base}/api/tasks/${id}`)).text(),
      JSON.stringify(store.events(id)),
    ];
    const db = new DatabaseSync(path.join(dir, 'kindtray.db'));
    const row = db.prepare('SELECT source FROM tasks WHERE id = ?').get(id) as { source: string };
    db.close();
    answers.push(row.source);
    for (const text of answers) {
      expect(text).not.toContain('file-s3cret');
      expect(text).not.toContain('given-s3cret');
    }
    expect(row.source).toContain('IN_FILE: "<redacted>"');
  });

  it('the task text alone, as before, still launches', async () => {
    const r = await fetch(`${base}/api/tasks`, { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: 'run: echo hi\n' });
    expect(r.status).toBe(201);
  });
});

describe('POST /api/tasks with a workdir and file_mounts', () => {
  it('relative sources are read from the folder the CLI sends; the stored spec has them absolute', async () => {
    mkdirSync(path.join(dir, 'proj'));
    writeFileSync(path.join(dir, 'proj', 'main.py'), 'print(1)');
    const r = await launch({ task: 'workdir: proj\nfile_mounts:\n  /data/main.py: proj/main.py\nrun: ls\n', folder: dir });
    expect(r.status).toBe(201);
    const stored = store.get((r.body.task as { id: string }).id);
    expect(stored?.spec.workdir).toBe(path.join(dir, 'proj'));
    expect(stored?.spec.fileMounts).toEqual([{ target: '/data/main.py', source: path.join(dir, 'proj', 'main.py') }]);
  });

  it('without a folder (a dashboard or plain HTTP launch) a relative workdir is refused on its field; a bucket too', async () => {
    const r = await fetch(`${base}/api/tasks`, { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: 'workdir: .\nrun: ls\n' });
    const body = (await r.json()) as Record<string, unknown>;
    expect(r.status).toBe(422);
    expect(body.field).toBe('workdir');
    expect(String(body.error)).toContain('launch it with the CLI');
    const bucket = await launch({ task: 'file_mounts:\n  /data: s3://bucket/x\nrun: ls\n', folder: dir });
    expect(bucket.status).toBe(422);
    expect(bucket.body.field).toBe('file_mounts["/data"]');
    expect(store.list({ limit: 10 })).toHaveLength(0);
  });
});

describe('POST /api/validate with launch values: passes where the launch would', () => {
  async function validate(body: unknown, type = LAUNCH_REQUEST_TYPE): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(`${base}/api/validate`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }
  const paths = (b: Record<string, unknown>) => ((b.errors as { path: string }[] | undefined) ?? []).map((e) => e.path);

  it('the file alone (as before): each value it leaves null is an error on its field, and listed as required', async () => {
    const r = await validate(TASK, 'text/yaml');
    expect(r.status).toBe(422);
    expect(paths(r.body)).toEqual(['envs.HF_TOKEN', 'secrets.WANDB_KEY']);
    expect(r.body.requiredAtLaunch).toEqual({ envs: ['HF_TOKEN'], secrets: ['WANDB_KEY'] });
  });

  it('with values: a value still missing is an error on its field, as the launch refuses it; all given, valid', async () => {
    const missing = await validate({ task: TASK, envs: { HF_TOKEN: 'hf' } });
    expect(missing.status).toBe(422);
    expect(paths(missing.body)).toEqual(['secrets.WANDB_KEY']);
    const given = await validate({ task: TASK, envs: { HF_TOKEN: 'hf' }, secrets: { WANDB_KEY: 'given-s3cret' } });
    expect(given.status).toBe(200);
    expect(given.body.ok).toBe(true);
    expect(JSON.stringify(given.body)).not.toContain('given-s3cret');
    expect((await launch({ task: TASK, envs: { HF_TOKEN: 'hf' }, secrets: { WANDB_KEY: 'given-s3cret' } })).status).toBe(201);
  });

  it('a malformed launch body is a 400 naming the field', async () => {
    const r = await validate({ task: TASK, secrets: { WANDB_KEY: 3 } });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('secrets.WANDB_KEY');
  });
});

describe('DELETE /api/tasks/:id', () => {
  it('?reason= is the reason the task is cancelled with (the supervisor deleting its cluster); none: cancelled by the user', async () => {
    const r = await launch({ task: TASK, envs: { HF_TOKEN: 'hf' }, secrets: { WANDB_KEY: 'w' } });
    const id = (r.body.task as { id: string }).id;
    cancels.length = 0;
    expect((await fetch(`${base}/api/tasks/${id}?reason=${encodeURIComponent('cluster dev was deleted')}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${base}/api/tasks/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect(cancels).toEqual([{ id, why: 'cluster dev was deleted' }, { id }]);
  });
});
