// Managing clusters end to end, as users do it: `kindtray serve` runs the
// testbed's kind (found on PATH, exactly as it would run the real one) on the
// run's dockerd. Create with defaults and a task with a port reaches the host;
// workers; a config file; a taken port range and a taken name refused with
// their fixes; kind missing; kind failing half-way leaves nothing; cancel
// (over HTTP, and Ctrl-C on the CLI);
// delete with a running task (cancelled with the reason); image load and the
// validation fix that offers it.

import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../shared/api.ts';
import type { ClusterOperation, ClustersResponse, OperationEvent, PreflightAnswer } from '../shared/contracts/clusters.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { BIN, call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from './helpers/serve.ts';
import { FAKE_KIND_BIN_DIR, NODE_IMAGE_REF, readKubeconfig, useTestbed } from './testbed/index.ts';

const tb = useTestbed();

let server: Served;
let env: NodeJS.ProcessEnv;
let home: string;

const api = <T>(path: string, opts: { method?: string; body?: unknown; timeoutMs?: number } = {}) =>
  call<T>(`${server.url}${path}`, {
    token: server.token,
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body), headers: { 'content-type': 'application/json' } } : {}),
    timeoutMs: opts.timeoutMs ?? 30_000,
  });

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Follows an operation to its end. */
async function finished(op: ClusterOperation, ms = 180_000): Promise<ClusterOperation> {
  return waitFor(`operation ${op.kind} ${op.cluster}`, ms, async () => {
    const o = (await api<{ operation: ClusterOperation }>(`/api/operations/${op.id}`)).body.operation;
    return o.state === 'running' ? undefined : o;
  });
}

async function create(body: object): Promise<ClusterOperation> {
  const r = await api<{ operation: ClusterOperation; error?: string }>('/api/clusters', { method: 'POST', body });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return finished(r.body.operation);
}

const status = async () => (await api<HealthSnapshot>('/api/status')).body;
const containers = (cluster: string): Promise<string[]> =>
  new Promise((resolve) => {
    execFile('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', '{{.Names}}'], { env, timeout: 30_000 }, (_e, out) => resolve(String(out).split('\n').filter(Boolean)));
  });
const contexts = () => readKubeconfig(tb.kubeconfigPath).contexts.map((c) => c.name);
const docker = (args: string[]): Promise<number> => new Promise((resolve) => execFile('docker', args, { env, timeout: 60_000 }, (e) => resolve(e ? 1 : 0)));

// Pods of a testbed cluster share its control-plane container: each task serves on a port of its own.
const webTask = (context: string, image?: string, port = 8080) => `name: web
resources:
  infra: k8s/${context}
  ports: [${port}]${image ? `\n  image_id: docker:${image}` : ''}
run: mkdir -p /tmp/www${port} && echo hello-from-new-cluster > /tmp/www${port}/index.html && exec httpd -f -p ${port} -h /tmp/www${port}
`;

async function launchRunning(context: string, port = 8080): Promise<TaskRecord> {
  const r = await call<{ task: TaskRecord }>(`${server.url}/api/tasks`, { method: 'POST', token: server.token, body: webTask(context, undefined, port), timeoutMs: 30_000 });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return waitFor('task running', 60_000, async () => {
    const t = (await api<{ task: TaskRecord }>(`/api/tasks/${r.body.task.id}`)).body.task;
    if (t.state === 'failed') throw new Error(`task failed: ${t.reason}`);
    return t.state === 'running' ? t : undefined;
  });
}

/** Collects the `operation` events of /api/events until stopped. */
function followEvents(): { stop: () => OperationEvent[] } {
  const got: OperationEvent[] = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${server.url}/api/events`, { headers: { authorization: `Bearer ${server.token}` }, signal: abort.signal });
    let buffered = '';
    for await (const chunk of res.body ?? []) {
      buffered += Buffer.from(chunk as Uint8Array).toString();
      const parts = buffered.split('\n\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        if (!part.startsWith('event: operation\n')) continue;
        got.push(JSON.parse(part.slice(part.indexOf('data: ') + 6)) as OperationEvent);
      }
    }
  })().catch(() => undefined);
  return {
    stop: () => {
      abort.abort();
      return got;
    },
  };
}

beforeAll(async () => {
  home = tempHome();
  writeSettings(home, { probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
  env = tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.info.image, PATH: `${FAKE_KIND_BIN_DIR}:${process.env.PATH ?? ''}` });
  server = await serve(env, { port: await freePort() });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('create, use and delete a cluster', { timeout: 300_000 }, () => {
  const name = tb.uniqueName('made');
  let op: ClusterOperation;

  it('with defaults: kind runs, its steps are recorded, the cluster runs with 100 NodePorts, and a task with a port answers on the host', async () => {
    const check = await api<PreflightAnswer>('/api/clusters/check', { method: 'POST', body: { name } });
    expect(check.body.ok, JSON.stringify(check.body.checks)).toBe(true);
    expect(check.body.suggestedNodePorts && check.body.suggestedNodePorts.to - check.body.suggestedNodePorts.from).toBe(99);
    op = await create({ name });
    expect(op.state, JSON.stringify(op.error)).toBe('succeeded');
    // The first free range when kind ran (other files' clusters on this engine may take one in between).
    const range = op.plan?.nodePorts;
    expect(range && range.to - range.from).toBe(99);
    expect(op.steps.map((s) => s.title)).toEqual(expect.arrayContaining([expect.stringMatching(/^Ensuring node image/), expect.stringMatching(/^Starting control-plane/), `Waiting for cluster ${name} to answer`]));
    expect(op.steps.every((s) => s.state === 'succeeded' && s.endedAt)).toBe(true);
    const s = await status();
    const cluster = s.clusters.find((c) => c.name === name);
    expect(cluster?.state).toBe('running');
    // As sky local up: NodePorts 30000-30099, each on the host range's port in order.
    const published = cluster?.portMappings.filter((m) => m.containerPort >= 30000 && m.containerPort <= 30099) ?? [];
    expect(published).toHaveLength(100);
    expect(published.every((m) => m.hostPort - (range?.from ?? 0) === m.containerPort - 30000)).toBe(true);
    expect(s.contexts.find((c) => c.name === `kind-${name}`)?.current).toBe(true);
    const history = (await api<{ changes: { subject: string; state: string; cause?: string }[] }>('/api/history')).body.changes;
    expect(history.find((c) => c.subject === `cluster:${name}` && c.state === 'created')?.cause).toMatch(/create took/);

    const task = await launchRunning(`kind-${name}`);
    const url = task.endpoints[0]?.url ?? '';
    const hostPort = Number(/:(\d+)$/.exec(url)?.[1]);
    expect(hostPort >= (range?.from ?? 0) && hostPort <= (range?.to ?? 0)).toBe(true);
    const page = await waitFor('endpoint answers', 30_000, async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        return res.ok ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    });
    expect(page).toContain('hello-from-new-cluster');
    const listed = await kindtray(['clusters', '--json'], env);
    expect((JSON.parse(listed.stdout) as ClustersResponse).clusters.find((c) => c.name === name)).toMatchObject({ state: 'running', nodePorts: range });
  });

  it('a taken name and a taken port range are refused before kind runs, each with its fix', async () => {
    const taken = await api<{ field: string; checks: PreflightAnswer['checks'] }>('/api/clusters', { method: 'POST', body: { name } });
    expect(taken.status).toBe(422);
    expect(taken.body.field).toBe('name');
    expect(taken.body.checks.find((c) => c.id === 'name')?.fix?.value).toBe(`${name}-2`);
    const range = op.plan?.nodePorts ?? { from: 0, to: 0 };
    const ports = await api<PreflightAnswer>('/api/clusters/check', { method: 'POST', body: { name: tb.uniqueName('other'), nodePorts: range } });
    const check = ports.body.checks.find((c) => c.id === 'node-ports');
    expect(check).toMatchObject({ level: 'error', field: 'nodePorts' });
    expect(check?.message).toContain(`cluster ${name}`);
    const next = check?.fix?.value as { from: number; to: number };
    expect(next.from > range.to || next.to < range.from).toBe(true);
  });

  it('image load: a locally built image missing on the nodes is a validation error with its fix; after the fix the same launch passes', async () => {
    const image = `kt-local/app:${name}`;
    expect(await docker(['tag', NODE_IMAGE_REF, image])).toBe(0);
    const before = await call<{ ok: boolean; errors: { path: string; fix?: { id: string; label: string } }[] }>(`${server.url}/api/validate`, { method: 'POST', token: server.token, body: webTask(`kind-${name}`, image) });
    const error = before.body.errors.find((e) => e.path === 'resources.image_id');
    expect(error?.fix, JSON.stringify(before.body)).toEqual({ id: `load-image:${name}:${image}`, label: `Load ${image} into cluster ${name}` });
    const fix = await call<{ ok: boolean; message: string }>(`${server.url}/control/fixes/${encodeURIComponent(error?.fix?.id ?? '')}`, { method: 'POST', token: server.token, timeoutMs: 120_000 });
    expect(fix.body, JSON.stringify(fix.body)).toMatchObject({ ok: true });
    const after = await call<{ ok: boolean; errors: unknown[] }>(`${server.url}/api/validate`, { method: 'POST', token: server.token, body: webTask(`kind-${name}`, image) });
    expect(after.body.errors, JSON.stringify(after.body)).toEqual([]);
    // A node that cannot import: the error names it and says why (the node command's own output).
    // An image of its own ID (kind only re-tags an ID the nodes already hold): a commit of an unchanged container.
    const other = `kt-local/other:${name}`;
    expect(await docker(['create', '--name', `kt-commit-${name}`, NODE_IMAGE_REF, 'true'])).toBe(0);
    expect(await docker(['commit', `kt-commit-${name}`, other])).toBe(0);
    await docker(['rm', `kt-commit-${name}`]);
    tb.setKindFaults({ loadFailNode: `${name}-control-plane` });
    const r = await api<{ operation: ClusterOperation }>(`/api/clusters/${name}/images`, { method: 'POST', body: { image: other } });
    expect(r.status).toBe(202);
    const failed = await finished(r.body.operation, 120_000);
    expect(failed.state).toBe('failed');
    expect(failed.error?.message).toMatch(new RegExp(`^node ${name}-control-plane could not import the image: ctr: .+`));
    expect(failed.steps.find((s) => s.title === `Importing into node ${name}-control-plane`)?.state).toBe('failed');
    tb.setKindFaults({});
    // The CLI's load names each node it imports into; a missing image is kind's own words.
    const missing = await kindtray(['image', 'load', 'not/here:1', '--cluster', name], env, 120_000);
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toMatch(/not in the local Docker/);
  });

  it('stop and start through the CLI: the node containers stop, then the cluster runs again', async () => {
    const stop = await kindtray(['cluster', 'stop', name], env, 120_000);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    expect(stop.stdout).toContain(`✓ Stopping node ${name}-control-plane`);
    await waitFor('cluster stopped', 30_000, async () => ((await status()).clusters.find((c) => c.name === name)?.state === 'stopped' ? true : undefined));
    const start = await kindtray(['cluster', 'start', name, '--json'], env, 150_000);
    expect(start.code, start.stderr).toBe(0);
    expect((JSON.parse(start.stdout) as ClusterOperation).state).toBe('succeeded');
    expect((await status()).clusters.find((c) => c.name === name)?.state).toBe('running');
  });

  it('delete: the running task ends cancelled with the reason, the containers and the context go', async () => {
    const task = await launchRunning(`kind-${name}`, 8081);
    const plan = (await api<{ tasks: { id: string }[]; containers: string[]; context?: string }>(`/api/clusters/${name}/delete-plan`)).body;
    expect(plan.tasks.map((t) => t.id)).toContain(task.id);
    expect(plan.containers).toEqual([`${name}-control-plane`]);
    expect(plan.context).toBe(`kind-${name}`);
    const r = await api<{ operation: ClusterOperation }>(`/api/clusters/${name}`, { method: 'DELETE' });
    expect(r.status).toBe(202);
    const done = await finished(r.body.operation);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.removed?.tasks.map((t) => t.id)).toContain(task.id);
    const after = (await api<{ task: TaskRecord }>(`/api/tasks/${task.id}`)).body.task;
    expect(after).toMatchObject({ state: 'cancelled', reason: expect.stringContaining(`cluster ${name} was deleted`) });
    expect(await containers(name)).toEqual([]);
    expect(contexts()).not.toContain(`kind-${name}`);
    expect((await status()).clusters.some((c) => c.name === name)).toBe(false);
  });
});

describe('other ways to create, and failures', { timeout: 300_000 }, () => {
  it('with a worker, through the CLI: step lines as they come, exit 0, two nodes running', async () => {
    const name = tb.uniqueName('cli');
    const r = await kindtray(['cluster', 'create', name, '--workers', '1'], env, 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Creating cluster .* \(1 control-plane, 1 worker, NodePorts on host ports \d+-\d+\)/);
    expect(r.stdout).toMatch(/✓ Joining worker nodes/);
    const cluster = (await status()).clusters.find((c) => c.name === name);
    expect(cluster?.nodes.map((n) => n.role).sort()).toEqual(['control-plane', 'worker']);
    expect((await kindtray(['clusters'], env)).stdout).toMatch(new RegExp(`^${name}\\s+running\\s+2 nodes`, 'm'));
    expect((await kindtray(['cluster', 'delete', name], env, 120_000)).code).toBe(0);
  });

  it('from a config file: the check says what it will create; kind gets the file', async () => {
    const name = tb.uniqueName('cfg');
    const port = await freePort();
    const file = join(home, 'kind.yaml');
    writeFileSync(file, `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 30777\n    hostPort: ${port}\n- role: worker\n`);
    const check = await api<PreflightAnswer>('/api/clusters/check', { method: 'POST', body: { name, config: { path: file } } });
    expect(check.body.checks.find((c) => c.id === 'config')?.message).toBe(`will create 1 control-plane and 1 worker; 1 NodePort on host ports ${port}-${port}`);
    const events = followEvents();
    const op = await create({ name, config: { path: file } });
    const seen = events.stop().filter((e) => e.operation.id === op.id);
    // Streamed on /api/events as it ran: kind's lines, then the record as it ended.
    expect(seen.some((e) => e.line?.startsWith(' • Preparing nodes'))).toBe(true);
    expect(seen.at(-1)?.operation.state).toBe('succeeded');
    expect(op.state, JSON.stringify(op.error)).toBe('succeeded');
    const cluster = (await status()).clusters.find((c) => c.name === name);
    expect(cluster?.nodes).toHaveLength(2);
    expect(cluster?.portMappings.some((m) => m.hostPort === port && m.containerPort === 30777)).toBe(true);
    expect((await finished((await api<{ operation: ClusterOperation }>(`/api/clusters/${name}`, { method: 'DELETE' })).body.operation)).state).toBe('succeeded');
  });

  it('kind failing half-way: its own error and the step it failed in; nothing is left behind', async () => {
    const name = tb.uniqueName('fail');
    tb.setKindFaults({ failAt: 'control-plane' });
    const op = await create({ name });
    expect(op.state).toBe('failed');
    expect(op.error?.step).toMatch(/^Starting control-plane/);
    expect(op.error?.message).toMatch(/failed to create cluster/);
    expect(await containers(name)).toEqual([]);
    expect(contexts()).not.toContain(`kind-${name}`);
  });

  it('cancel: kind is stopped mid-way and what it made is deleted', async () => {
    const name = tb.uniqueName('cancel');
    tb.setKindFaults({ hangAt: 'cni' });
    const r = await api<{ operation: ClusterOperation }>('/api/clusters', { method: 'POST', body: { name } });
    expect(r.status).toBe(202);
    await waitFor('kind in the hanging step', 120_000, async () => {
      const o = (await api<{ operation: ClusterOperation }>(`/api/operations/${r.body.operation.id}`)).body.operation;
      return o.steps.some((s) => /^Installing CNI/.test(s.title) && s.state === 'running') ? true : undefined;
    });
    const cancelled = await api<{ operation: ClusterOperation }>(`/api/operations/${r.body.operation.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    const done = await finished(r.body.operation, 120_000);
    expect(done.state).toBe('cancelled');
    expect(done.steps.find((s) => /^Installing CNI/.test(s.title))?.state).toBe('cancelled');
    expect(await containers(name)).toEqual([]);
    expect(contexts()).not.toContain(`kind-${name}`);
  });

  it('Ctrl-C on `kindtray cluster create`: the CLI cancels the operation, kind stops mid-way, what it made is deleted, and the command fails saying so', async () => {
    const name = tb.uniqueName('sigint');
    tb.setKindFaults({ hangAt: 'cni' });
    const child = spawn(process.execPath, [BIN, 'cluster', 'create', name], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The step line the CLI prints when kind begins the step that hangs.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no CNI step line in 120 s; stdout: ${stdout}`)), 120_000);
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          if (/Installing CNI/.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 120_000))]);
      expect(code, stdout + stderr).toBe(1);
      expect(stderr).toContain(`kindtray: cancelling create of ${name}`);
      expect(stdout).toMatch(new RegExp(`✗ create ${name} cancelled after`));
      expect(await containers(name)).toEqual([]);
      expect(contexts()).not.toContain(`kind-${name}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('kind missing: the check says so with how to install it, and create is refused', async () => {
    const put = await api('/api/settings', { method: 'PUT', body: { probe: { intervalMs: 1_000, deadlineMs: 2_000 }, kindPath: '/nonexistent/kind' } });
    expect(put.status).toBe(200);
    try {
      const check = await api<PreflightAnswer>('/api/clusters/check', { method: 'POST', body: { name: 'x' } });
      expect(check.body.checks.find((c) => c.id === 'kind')).toMatchObject({ level: 'error', fix: { command: expect.stringContaining('kind') } });
      expect((await api('/api/clusters', { method: 'POST', body: { name: tb.uniqueName('nokind') } })).status).toBe(422);
    } finally {
      await api('/api/settings', { method: 'PUT', body: { probe: { intervalMs: 1_000, deadlineMs: 2_000 } } });
    }
  });
});
