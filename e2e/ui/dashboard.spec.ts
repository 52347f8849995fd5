// The dashboard as a user meets it, in Chromium, against `kindtray serve` on a
// dockerd of this file's own (which the tests really stop). Each page is
// screenshotted in each state into test-results/screenshots/ (artifacts, not
// committed).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { HealthResponse } from '../../shared/api.ts';
import { call, freePort, kindtray, serve, tempHome, writeSettings, type Served } from '../helpers/serve.ts';
import { createCluster, ensurePki, NODE_IMAGE_REF, startDockerd, type Cluster, type Dockerd } from '../testbed/index.ts';

const SHOTS = join(process.cwd(), 'test-results', 'screenshots');

let dockerd: Dockerd;
let cluster: Cluster;
let server: Served;
let env: NodeJS.ProcessEnv;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dockerd = await startDockerd({ purpose: 'playwright' });
  await ensurePki(join(dockerd.dir, 'pki'));
  const kubeconfig = join(dockerd.dir, 'kubeconfig');
  cluster = await createCluster(dockerd, { name: 'dev', kubeconfigPath: kubeconfig, extraPortMappings: [{ containerPort: 30000 }] });
  const home = tempHome();
  writeSettings(home, { dockerStartCommand: dockerd.startCommand, probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
  env = { KINDTRAY_HOME: home, DOCKER_HOST: dockerd.dockerHost, KUBECONFIG: kubeconfig, KINDTRAY_TASK_IMAGE: NODE_IMAGE_REF };
  server = await serve(env, { port: await freePort() });
});

test.afterAll(async () => {
  await server?.stop();
  await dockerd?.destroy();
});

async function open(page: Page, hash = '#/'): Promise<void> {
  const link = await kindtray(['dashboard', '--json'], env);
  const { url } = JSON.parse(link.stdout) as { url: string };
  await page.goto(url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'live');
  if (hash !== '#/') await page.goto(`${server.url}/${hash}`);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const fixButton = (page: Page, id: string) => page.locator(`[data-testid="fix-button"][data-fix-id="${id}"]`).first();

test('all healthy: every page, green', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('overall-banner')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
  await expect(page.getByTestId(`card-cluster:${cluster.name}`)).toHaveAttribute('data-state', 'running');
  for (const name of ['overview', 'tasks', 'launch', 'diagnostics', 'history', 'settings']) {
    await page.goto(`${server.url}/#/${name === 'overview' ? '' : name}`);
    await page.waitForTimeout(800);
    await shot(page, `healthy-${name}`);
  }
});

test('Docker stopped: the overview turns red at once and offers Start Docker; one click brings Docker and the cluster back, green', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('overall-banner')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
  const stopped = dockerd.stop();
  const t0 = Date.now();
  await expect(page.getByTestId('overall-banner')).toHaveAttribute('data-state', 'error', { timeout: 3_000 });
  const redAfterMs = Date.now() - t0;
  test.info().annotations.push({ type: 'docker-stop-to-red-ms', description: String(redAfterMs) });
  await expect(page.getByTestId('overall-headline')).toContainText('Docker is not running');
  await stopped;
  // Unknown is never green: what Docker said of the node while it was up is grey, dated history.
  const nodeState = page.locator('[data-testid^="node-state:"]').first();
  await expect(nodeState).toHaveAttribute('data-tone', 'unknown');
  await expect(nodeState).toHaveText(/unknown/);
  await expect(page.getByText(/last seen running/).first()).toBeVisible();
  await shot(page, 'docker-stopped-overview');

  // The seed scenario in the GUI: a task with ports while Docker is down.
  await page.goto(`${server.url}/#/launch`);
  await expect(page.getByTestId('launch-button')).toBeDisabled();
  await expect(page.getByTestId('launch-blocked-reason')).toContainText(/Docker/);
  await expect(page.locator('[data-testid="validation-error"][data-path="resources"]').first()).toContainText('Docker is not running', { timeout: 5_000 });
  await expect(fixButton(page, 'start-docker')).toBeVisible();
  // The page never freezes: it answers input while the cluster is gone.
  const started = Date.now();
  await page.getByTestId('nav-overview').click();
  await expect(page.getByTestId('card-docker')).toBeVisible();
  expect(Date.now() - started).toBeLessThan(2_000);
  await page.goto(`${server.url}/#/launch`);
  await shot(page, 'docker-stopped-launch');

  await page.goto(`${server.url}/#/`);
  await fixButton(page, 'start-docker').click();
  // One click: Start Docker carries the chain (Docker, then the cluster that was running, then its context),
  // its steps shown as they go. Docker brings its containers back stopped; the chain starts them.
  await expect(page.getByTestId('fix-progress')).toBeVisible({ timeout: 10_000 });
  const card = page.getByTestId(`card-cluster:${cluster.name}`);
  // While the cluster starts its card is amber and offers no Restart (the window is a few seconds: caught if it can be).
  const sawStarting = await page
    .locator(`[data-testid="card-cluster:${cluster.name}"][data-state="starting"]`)
    .waitFor({ timeout: 30_000 })
    .then(() => true, () => false);
  if (sawStarting) {
    await shot(page, 'cluster-starting-overview');
    await expect(fixButton(page, `restart-cluster:${cluster.name}`)).toHaveCount(0);
  }
  test.info().annotations.push({ type: 'cluster-starting-seen', description: String(sawStarting) });
  await expect(page.getByTestId('card-docker')).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await expect(card).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await expect(page.locator(`[data-testid="fix-progress"] [data-step-id="cluster:${cluster.name}"]`)).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await shot(page, 'one-click-recovery-overview');
  await expect(page.getByTestId('overall-banner')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
});

test('launch a task with a port: it runs, its logs stream, its endpoint is shown; cancel removes it', async ({ page }) => {
  await open(page, '#/launch');
  const yaml = `name: hello-web
resources:
  ports: [8080]
run: mkdir -p /tmp/www && echo hello-from-the-dashboard > /tmp/www/index.html && echo serving && exec httpd -f -v -p 8080 -h /tmp/www
`;
  await page.getByTestId('yaml-editor').fill(yaml);
  await expect(page.getByTestId('validation-ok')).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId('launch-button')).toBeEnabled();
  await page.getByTestId('launch-button').click();
  const taskPage = page.getByTestId('task-page');
  await expect(taskPage).toBeVisible({ timeout: 10_000 });
  await expect(taskPage).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  await expect(page.getByTestId('task-logs')).toContainText('serving', { timeout: 20_000 });
  const endpoint = page.getByTestId('task-endpoint').first().locator('a');
  const href = await endpoint.getAttribute('href');
  expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  const body = await (await fetch(href ?? '', { signal: AbortSignal.timeout(5_000) })).text();
  expect(body).toContain('hello-from-the-dashboard');
  await shot(page, 'task-running');
  await page.getByTestId('cancel-task').click();
  await expect(taskPage).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
  await page.goto(`${server.url}/#/tasks`);
  await expect(page.getByTestId('task-list')).toBeVisible();
  await shot(page, 'tasks-list');
});

test('worker frozen: the server card shows it hung; Restart server brings it back and the task list reloads', async ({ page }) => {
  // Automatic restarts off, so the user's button is what recovers it.
  await server.stop();
  writeSettings(env.KINDTRAY_HOME ?? '', {
    dockerStartCommand: dockerd.startCommand,
    probe: { intervalMs: 1_000, deadlineMs: 2_000 },
    watchdog: { intervalMs: 500, slowMs: 250, missesBeforeRestart: 3, autoRestart: false },
  });
  server = await serve(env, { port: server.port });
  await open(page, '#/tasks');
  await expect(page.getByTestId('task-list')).toBeVisible({ timeout: 10_000 });
  const worker = (await call<HealthResponse>(`${server.url}/api/health`)).body.worker.pid ?? 0;
  process.kill(worker, 'SIGSTOP');
  try {
    await page.goto(`${server.url}/#/`);
    await expect(page.getByTestId('card-server')).toHaveAttribute('data-state', 'hung', { timeout: 10_000 });
    await shot(page, 'server-hung-overview');
    await fixButton(page, 'restart-server').click();
    await expect(page.getByTestId('card-server')).toHaveAttribute('data-state', 'healthy', { timeout: 20_000 });
    await page.goto(`${server.url}/#/tasks`);
    await expect(page.getByTestId('task-list')).toBeVisible({ timeout: 10_000 });
    await expect(page.locator('[data-testid^="task-row-"]').first()).toBeVisible();
  } finally {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // Replaced and gone already.
    }
  }
});
