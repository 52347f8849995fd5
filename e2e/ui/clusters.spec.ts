// Managing clusters from the dashboard, as a user does it, in Chromium against
// `kindtray serve` on a dockerd of this file's own that starts with no
// cluster at all. The product runs the testbed's `kind` (first on PATH), which
// honours kind's CLI contract; its fault switches make a create fail half-way
// or hang. Screenshots into test-results/screenshots/ (the README's come from
// here: cluster-create-*.png).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from '../helpers/serve.ts';
import { ensurePki, FAKE_KIND_BIN_DIR, FAULT_ENV, NODE_IMAGE_REF, startDockerd, writeFakeKindFaults, type Dockerd, type FakeKindFaults } from '../testbed/index.ts';

const SHOTS = join(process.cwd(), 'test-results', 'screenshots');

let dockerd: Dockerd;
let server: Served;
let env: NodeJS.ProcessEnv;
let faultsFile: string;

// Host ports are the whole machine's: another test's cluster may take the range the pre-flight found free
// before kind publishes it (kind then fails, as it would for a user). One more run, from a fresh dockerd.
test.describe.configure({ mode: 'serial', retries: 1 });

const faults = (f: FakeKindFaults) => writeFakeKindFaults(faultsFile, f);
// Each of kind's steps takes a moment, as a real create does, so the progress is seen step by step.
const STEP_DELAY_MS = 700;

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dockerd = await startDockerd({ purpose: 'playwright-clusters' });
  await ensurePki(join(dockerd.dir, 'pki'));
  faultsFile = join(dockerd.dir, 'kind-faults.json');
  faults({ stepDelayMs: STEP_DELAY_MS });
  const home = tempHome();
  writeSettings(home, { dockerStartCommand: dockerd.startCommand, probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
  env = {
    KINDTRAY_HOME: home,
    DOCKER_HOST: dockerd.dockerHost,
    KUBECONFIG: join(dockerd.dir, 'kubeconfig'),
    KINDTRAY_TASK_IMAGE: NODE_IMAGE_REF,
    PATH: `${FAKE_KIND_BIN_DIR}:${process.env.PATH ?? ''}`,
    [FAULT_ENV.file]: faultsFile,
  };
  server = await serve(env, { port: await freePort() });
});

test.afterAll(async () => {
  await server?.stop();
  await dockerd?.destroy();
});

async function open(page: Page, hash: string): Promise<void> {
  const link = await kindtray(['dashboard', '--json'], env);
  const { url } = JSON.parse(link.stdout) as { url: string };
  await page.goto(url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'live');
  await page.goto(`${server.url}/${hash}`);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const preflight = (page: Page) => page.getByTestId('preflight');
const progress = (page: Page) => page.getByTestId('operation-progress');

/** Waits for the server's check of the form as it stands. */
async function checked(page: Page): Promise<void> {
  await expect(preflight(page)).toHaveAttribute('data-checking', 'false');
  await expect(page.getByTestId('preflight-check').first()).toBeVisible();
}

test('from an empty Docker: one click on Create (defaults), kind’s steps as they go, then the cluster running, and a task with a port on it answers on this machine', async ({ page }) => {
  await open(page, '#/clusters');
  await expect(page.getByTestId('clusters-empty')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('create-cluster-link').click();
  await expect(page.getByTestId('create-form')).toBeVisible();

  // The live check: the server's pre-flight for the defaults, each check passed.
  await expect(page.getByTestId('create-name')).toHaveValue('kind');
  await checked(page);
  await expect(preflight(page)).toHaveAttribute('data-errors', '0');
  for (const id of ['docker', 'kind', 'name', 'node-ports']) {
    await expect(page.locator(`[data-testid="preflight-check"][data-check-id="${id}"]`).first()).toHaveAttribute('data-level', 'ok');
  }
  // The default NodePort range is the first free one, said where the field is.
  await expect(page.getByTestId('create-ports-hint')).toContainText('30000-30099');
  await expect(page.getByTestId('plan-ports').first()).toContainText('30000-30099');

  // As you type: a name kind refuses is an error at its field, and Create says why it is disabled.
  await page.getByTestId('create-name').fill('My_Cluster');
  await expect(page.getByTestId('field-issue:name')).toContainText('lower-case');
  await expect(page.getByTestId('create-button')).toBeDisabled();
  await expect(page.getByTestId('create-blocked-reason')).toContainText('name');
  await page.getByTestId('create-name').fill('kind');
  await checked(page);
  await expect(page.getByTestId('create-button')).toBeEnabled();
  await shot(page, 'cluster-create-form');

  const t0 = Date.now();
  await page.getByTestId('create-button').click();
  await expect(progress(page)).toHaveAttribute('data-state', 'running');
  await expect(progress(page)).toHaveAttribute('data-kind', 'create');
  // Steps arrive one by one: some done, one running.
  await expect(page.locator('[data-testid="operation-step"][data-state="succeeded"]').nth(1)).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('[data-testid="operation-step"][data-state="running"]')).toHaveCount(1);
  await expect(page.getByTestId('operation-cancel')).toBeEnabled();
  await shot(page, 'cluster-create-progress');

  await expect(progress(page)).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(page.locator('[data-testid="operation-step"][data-state="failed"]')).toHaveCount(0);
  await expect(page.getByTestId('operation-duration')).toContainText('took');
  // Running means its API answered: the result turns green only then.
  await expect(page.getByTestId('create-result')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await expect(page.getByTestId('create-result-state')).toHaveText('running');
  test.info().annotations.push({ type: 'create-to-running-ms', description: String(Date.now() - t0) });
  await shot(page, 'cluster-create-done');

  // "Launch a task on it": a task with a port runs there and its endpoint answers on the host.
  await page.getByTestId('create-launch').click();
  await expect(page).toHaveURL(/#\/launch$/);
  await page.getByTestId('yaml-editor').fill(`name: hello-new-cluster
resources:
  ports: [8080]
run: mkdir -p /tmp/www && echo hello-from-a-new-cluster > /tmp/www/index.html && echo serving && exec httpd -f -v -p 8080 -h /tmp/www
`);
  await expect(page.getByTestId('validation-ok')).toContainText('kind-kind', { timeout: 15_000 });
  await expect(page.getByTestId('launch-button')).toBeEnabled();
  await page.getByTestId('launch-button').click();
  const taskPage = page.getByTestId('task-page');
  await expect(taskPage).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  const endpoint = await page.getByTestId('task-endpoint').first().locator('a').getAttribute('href');
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  await expect(async () => {
    const body = await (await fetch(endpoint ?? '', { signal: AbortSignal.timeout(3_000) })).text();
    expect(body).toContain('hello-from-a-new-cluster');
  }).toPass({ timeout: 20_000 });
});

test('the clusters page lists it, truthfully; the tray’s cluster link opens its page', async ({ page }) => {
  await open(page, '#/clusters');
  const row = page.getByTestId('cluster-row:kind');
  await expect(row).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('cluster-state:kind')).toHaveAttribute('data-tone', 'ok');
  await expect(row).toContainText('30000-30099');
  await expect(row).toContainText('kind-kind');
  await shot(page, 'clusters-list');
  await page.goto(`${server.url}/#/clusters/kind`);
  await expect(page.getByTestId('cluster-title')).toContainText('kind');
  await expect(page.getByTestId('cluster-nodes')).toContainText('kind-control-plane');
  await shot(page, 'cluster-page');
});

test('a taken NodePort range is an error at its field with the next free range one click away; a taken name too', async ({ page }) => {
  await open(page, '#/new-cluster');
  await checked(page);
  // The default name moved on: "kind" is taken.
  await expect(page.getByTestId('create-name')).toHaveValue('kind-2');
  // The default range moved on too, past the 100 ports kind holds (further still if something else on this machine holds the next ones).
  const hint = (await page.getByTestId('create-ports-hint').textContent()) ?? '';
  const suggested = /Empty: (\d+)-(\d+)/.exec(hint);
  expect(Number(suggested?.[1])).toBeGreaterThanOrEqual(30100);
  expect(Number(suggested?.[2]) - Number(suggested?.[1])).toBe(99);
  await page.getByTestId('create-name').fill('kind');
  await expect(page.locator('[data-testid="preflight-check"][data-check-id="name"]')).toHaveAttribute('data-level', 'error');
  await expect(page.getByTestId('create-button')).toBeDisabled();
  await page.getByTestId('create-name').fill('second');
  await page.getByTestId('create-ports-from').fill('30000');
  const taken = page.getByTestId('field-check:node-ports');
  await expect(taken).toHaveAttribute('data-level', 'error');
  await expect(page.getByTestId('create-button')).toBeDisabled();
  await shot(page, 'cluster-create-port-taken');
  const fix = taken.getByTestId('check-fix-value');
  const offered = /(\d+)-(\d+)/.exec((await fix.textContent()) ?? '');
  expect(Number(offered?.[1])).toBeGreaterThanOrEqual(30100);
  await fix.click();
  await expect(page.getByTestId('create-ports-from')).toHaveValue(offered?.[1] ?? '');
  await expect(page.getByTestId('create-ports-to')).toHaveValue(offered?.[2] ?? '');
  await checked(page);
  await expect(page.getByTestId('field-check:node-ports')).toHaveCount(0);
  await expect(page.getByTestId('create-button')).toBeEnabled();
});

test('kind failing half-way: its error and the step it failed in, and nothing half-made left behind', async ({ page }) => {
  faults({ stepDelayMs: 200, failAt: 'control-plane' });
  try {
    await open(page, '#/new-cluster');
    await page.getByTestId('create-name').fill('broken');
    // A range of its own: other tests on this machine may hold the first free one by the time kind publishes it.
    await page.getByTestId('create-ports-from').fill('32500');
    await checked(page);
    await page.getByTestId('create-button').click();
    await expect(progress(page)).toHaveAttribute('data-state', 'failed', { timeout: 60_000 });
    await expect(page.locator('[data-testid="operation-step"][data-state="failed"]')).toHaveCount(1);
    await expect(page.getByTestId('operation-error')).toContainText(/control-plane|Starting control-plane/i);
    const result = page.getByTestId('create-result');
    await expect(result).toHaveAttribute('data-state', 'failed');
    // Either nothing was left, or what was left goes in one click.
    if (await page.getByTestId('create-cleanup').isVisible()) {
      await page.getByTestId('create-cleanup').click();
      await expect(result.getByTestId('operation-progress')).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
    }
    await expect(page.getByTestId('create-nothing-left')).toBeVisible({ timeout: 20_000 });
    await shot(page, 'cluster-create-failed');
    await page.getByTestId('create-back').click();
    await expect(page.getByTestId('create-name')).toHaveValue('broken');
  } finally {
    faults({ stepDelayMs: STEP_DELAY_MS });
  }
});

test('Cancel while kind runs: the create stops, cancelled, and leaves nothing', async ({ page }) => {
  faults({ stepDelayMs: 200, hangAt: 'cni' });
  try {
    await open(page, '#/new-cluster');
    await page.getByTestId('create-name').fill('hung');
    await page.getByTestId('create-ports-from').fill('32600');
    await checked(page);
    await page.getByTestId('create-button').click();
    await expect(page.locator('[data-testid="operation-step"][data-state="succeeded"]').nth(2)).toBeVisible({ timeout: 30_000 });
    await page.getByTestId('operation-cancel').click();
    await expect(progress(page)).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
    await expect(page.getByTestId('create-result')).toHaveAttribute('data-state', 'cancelled');
    await expect(page.getByTestId('create-nothing-left')).toBeVisible({ timeout: 30_000 });
  } finally {
    faults({ stepDelayMs: STEP_DELAY_MS });
  }
});

test('Load image: a local image into the cluster, with its progress', async ({ page }) => {
  await open(page, '#/clusters/kind/load-image');
  const card = page.getByTestId('cluster-load-card');
  // The tray's "Load image…" lands here, ready to type.
  await expect(card.getByTestId('load-image-name')).toBeFocused();
  await card.getByTestId('load-image-name').fill(NODE_IMAGE_REF);
  await expect(card.getByTestId('load-image-cluster')).toHaveValue('kind');
  await card.getByTestId('load-image-button').click();
  await expect(card.getByTestId('operation-progress')).toHaveAttribute('data-kind', 'load-image');
  await expect(card.getByTestId('operation-progress')).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await shot(page, 'cluster-load-image');

  // The same from the Launch page: its button opens the form with the task's cluster filled in.
  await page.goto(`${server.url}/#/launch`);
  await page.getByTestId('load-image-open').click();
  await expect(page.getByTestId('load-image-cluster')).toHaveValue('kind');
  await shot(page, 'launch-load-image');
});

test('Stop and Start from the Clusters page: Stop asks first when a task runs there, which ends cancelled with the reason; the row says what runs, then the state the monitor sees', async ({ page }) => {
  type Listed = { id: string; name: string; state: string; context: string; reason?: string };
  const onIt = (await call<{ tasks: Listed[] }>(`${server.url}/api/tasks`, { token: server.token })).body.tasks.filter((t) => t.context === 'kind-kind' && !['succeeded', 'failed', 'cancelled'].includes(t.state));
  expect(onIt.map((t) => t.state), 'the first test left its task running there').toEqual(['running']);
  await open(page, '#/clusters');
  const actions = page.getByTestId('cluster-actions:kind');
  const state = page.getByTestId('cluster-state:kind');
  await actions.getByTestId('cluster-stop').click();
  const confirm = actions.getByTestId('cluster-stop-confirm');
  await expect(confirm).toContainText(`Stopping kind cancels its task (${onIt[0]?.name ?? ''}): it cannot go on without the nodes.`);
  await page.screenshot({ path: join(SHOTS, 'cluster-stop-confirm.png') });
  await confirm.getByTestId('cluster-stop-confirmed').click();
  await expect(page.getByTestId('cluster-row:kind')).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 });
  const after = (await call<{ task: Listed }>(`${server.url}/api/tasks/${onIt[0]?.id ?? ''}`, { token: server.token })).body.task;
  expect([after.state, after.reason]).toEqual(['cancelled', 'cluster kind was stopped']);
  await expect(state).toHaveText('stopped');
  await expect(actions.getByTestId('cluster-stop')).toHaveCount(0);
  await actions.getByTestId('cluster-start').click();
  await expect(page.getByTestId('cluster-row:kind')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  // Green only once its API answers again.
  await expect(state).toHaveAttribute('data-tone', 'ok', { timeout: 30_000 });
});

test('Delete asks first, naming the containers, the context and the task on it; the task ends cancelled, the cluster goes', async ({ page }) => {
  // A task running on it (the first one was cancelled when the cluster stopped).
  const launched = await call<{ task: { id: string } }>(`${server.url}/api/tasks`, {
    method: 'POST',
    token: server.token,
    headers: { 'content-type': 'application/yaml' },
    body: 'name: on-the-cluster\nrun: echo up && sleep 600\n',
  });
  expect(launched.status).toBe(201);
  await expect
    .poll(async () => (await call<{ task: { state: string } }>(`${server.url}/api/tasks/${launched.body.task.id}`, { token: server.token })).body.task.state, { timeout: 60_000 })
    .toBe('running');
  await open(page, '#/clusters');
  await page.getByTestId('cluster-actions:kind').getByTestId('cluster-delete').click();
  const confirm = page.getByTestId('delete-confirm');
  await expect(confirm).toBeVisible();
  await expect(page.getByTestId('delete-plan')).toContainText('kind-control-plane');
  await expect(page.getByTestId('delete-plan')).toContainText('kind-kind');
  await expect(page.getByTestId('delete-tasks')).toContainText('on-the-cluster');
  await expect(page.getByTestId('delete-tasks')).toContainText('cancelled');
  await shot(page, 'cluster-delete-confirm');
  await page.getByTestId('delete-confirm-button').click();
  await expect(progress(page)).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(page.getByTestId('delete-done')).toBeVisible();
  const tasks = await call<{ tasks: { name: string; state: string; reason?: string }[] }>(`${server.url}/api/tasks`, { token: server.token });
  const task = tasks.body.tasks.find((t) => t.name === 'on-the-cluster');
  expect(task?.state).toBe('cancelled');
  expect(task?.reason ?? '').not.toBe('');
  await page.goto(`${server.url}/#/clusters`);
  await expect(page.getByTestId('clusters-empty')).toBeVisible({ timeout: 20_000 });
});
