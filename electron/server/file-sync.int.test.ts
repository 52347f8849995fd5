// workdir and file_mounts against the testbed: the files of a local folder
// (less what its .gitignore leaves out) and a mounted file are in the Pod
// where SkyPilot puts them before setup runs, and run starts in
// ~/sky_workdir; every rank of a multi-node task gets them; an API that goes silent during the copy ends the launch at
// the copy's deadline with the reason, and what it made is deleted.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../shared/task/index.ts';
import { useTestbed } from '../../e2e/testbed/index.ts';
import type { Cluster } from '../../e2e/testbed/index.ts';
import { FILE_COPY_BASE_DEADLINE_MS } from './file-sync-copy.ts';
import { planTaskFiles } from './file-sync-plan.ts';
import { KubeOps } from './kube-ops.ts';
import { Launcher } from './launcher.ts';
import { TaskStore } from './store.ts';
import type { StoredTask } from './task-model.ts';

const tb = useTestbed();
let cluster: Cluster;
let dir: string;
let store: TaskStore;
let ops: KubeOps;
let launcher: Launcher;

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'files' });
});

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-files-int-'));
  store = TaskStore.open(path.join(dir, 'kindtray.db'));
  ops = new KubeOps();
  launcher = new Launcher({ store, ops, logsDir: path.join(dir, 'logs'), defaultImage: tb.info.image, kubeconfigPaths: () => [tb.kubeconfigPath] });
});

afterEach(async () => {
  await launcher.close();
  ops.close();
  store.close();
  await cluster.setFault('none');
  rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): void {
  const abs = path.join(dir, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

async function submit(spec: Partial<TaskSpec> & { run: string; name: string }): Promise<StoredTask> {
  const full: TaskSpec = { resources: { ports: [] }, envs: {}, numNodes: 1, ...spec };
  // As the launch route does: sources resolved from the task file's folder.
  const plan = await planTaskFiles(full, dir);
  if (!plan.ok) throw new Error(plan.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return store.create({ name: spec.name, context: cluster.context, cluster: cluster.name, source: JSON.stringify(full), spec: plan.spec, portPlan: [] });
}

async function until<T>(what: string, get: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ended = (id: string) => () => {
  const t = store.get(id);
  return t && ['succeeded', 'failed', 'cancelled'].includes(t.state) ? t : undefined;
};

describe('workdir and file_mounts', () => {
  it('are in the Pod before setup, where SkyPilot puts them; run starts in ~/sky_workdir; ignored files stay home', async () => {
    write('proj/main.txt', 'hello from main\n');
    write('proj/sub/inner.txt', 'inner\n');
    write('proj/.gitignore', '*.log\n');
    write('proj/debug.log', 'not wanted\n');
    write('cfg.json', '{"k": 1}\n');
    const task = await submit({
      name: 'files-ok',
      workdir: 'proj',
      fileMounts: [{ target: '/data/files-ok/cfg.json', source: './cfg.json' }, { target: 'extra', source: 'proj/sub' }],
      setup: 'test -e main.txt && echo setup-sees-files',
      run: 'pwd; cat main.txt sub/inner.txt /data/files-ok/cfg.json extra/inner.txt; if [ -e debug.log ]; then echo IGNORED-FILE-COPIED; else echo no-ignored-file; fi',
    });
    launcher.launch(task.id);
    const done = await until('the task to end', ended(task.id), 40_000);
    const log = readFileSync(launcher.logPath(task.id), 'utf8');
    expect(done.state, `${done.reason ?? ''}\n${log}`).toBe('succeeded');
    expect(log).toContain('setup-sees-files');
    expect(log).toContain('/root/sky_workdir\n');
    expect(log).toContain('hello from main\ninner\n{"k": 1}\ninner\n');
    expect(log).toContain('no-ignored-file');
    expect(log).not.toContain('IGNORED-FILE-COPIED');
    expect((store.events(task.id) ?? []).map((e) => e.message).join('\n')).toMatch(/files copied into pod .*MB in/);
  });

  it('every rank of a multi-node task gets the copy before its setup', async () => {
    write('mn/main.txt', 'shared\n');
    const task = await submit({ name: 'files-2n', workdir: 'mn', numNodes: 2, setup: 'test -e main.txt', run: 'cat main.txt' });
    launcher.launch(task.id);
    const done = await until('the task to end', ended(task.id), 60_000);
    expect(done.state, done.reason).toBe('succeeded');
    expect(done.nodes?.map((n) => n.state)).toEqual(['succeeded', 'succeeded']);
    expect((store.events(task.id) ?? []).map((e) => e.message).join('\n')).toMatch(/files copied into 2 pods/);
  });

  it('a cancel during a copy that hangs answers at once: the task is cancelled, its Pod deleted', async () => {
    write('c/a.txt', 'a');
    const task = await submit({ name: 'files-cancel', workdir: 'c', run: 'cat a.txt' });
    await cluster.setFault({ kind: 'hang', stage: 'stream' });
    launcher.launch(task.id);
    await until('the copy to start', () => (store.events(task.id) ?? []).some((e) => /pod \S+ created/.test(e.message)) || undefined, 20_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const started = Date.now();
    const r = await launcher.cancel(task.id);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(r.ok && r.task.state).toBe('cancelled');
  });

  it('an API that goes silent during the copy: the launch fails at the copy\'s deadline, saying so, and its Pod is deleted', async () => {
    write('w/a.txt', 'a');
    const task = await submit({ name: 'files-hang', workdir: 'w', run: 'cat a.txt' });
    await cluster.setFault({ kind: 'hang', stage: 'stream' });
    const started = Date.now();
    launcher.launch(task.id);
    const done = await until('the task to fail', ended(task.id), 40_000);
    const took = Date.now() - started;
    expect(done.state).toBe('failed');
    expect(done.reason).toMatch(/could not copy the task's files: workdir into pod \S+: .*no answer from its API/);
    expect(took).toBeLessThan(FILE_COPY_BASE_DEADLINE_MS + 15_000);
    await cluster.setFault('none');
    const pod = await cluster.apiRequest(`/api/v1/namespaces/default/pods/${done.podName ?? ''}`);
    expect(pod.statusCode === 404 || JSON.parse(pod.body).metadata?.deletionTimestamp !== undefined).toBe(true);
  });
});
