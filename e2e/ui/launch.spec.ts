// The Launch page on a SkyPilot task that uses the whole format: the check
// panel's warnings (fields with no meaning on a local cluster), the resource
// set any_of chose, and the fields a launch needs (envs and secrets the file
// leaves null); then, launched, its endpoint shown starting until its
// readiness probe passes, then ready. In Chromium against `kindtray serve` on
// a dockerd of this file's own; screenshots into test-results/screenshots/
// (the README's come from here: launch-*.png, task-endpoint-*.png).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { freePort, kindtray, serve, tempHome, writeSettings, type Served } from '../helpers/serve.ts';
import { createCluster, ensurePki, NODE_IMAGE_REF, startDockerd, type Cluster, type Dockerd } from '../testbed/index.ts';

const SHOTS = join(process.cwd(), 'test-results', 'screenshots');

let dockerd: Dockerd;
let cluster: Cluster;
let server: Served;
let env: NodeJS.ProcessEnv;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dockerd = await startDockerd({ purpose: 'playwright-launch' });
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

async function open(page: Page, hash: string): Promise<void> {
  const link = await kindtray(['dashboard', '--json'], env);
  const { url } = JSON.parse(link.stdout) as { url: string };
  await page.goto(url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'live');
  await page.goto(`${server.url}/${hash}`);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

// A SkyServe-style task as SkyPilot users write it: a node no local cluster has first, then one it has.
const TASK = `name: llm-demo
resources:
  ports: 8080
  use_spot: true
  any_of:
    - memory: 4096+
    - memory: 1+
envs:
  MODEL: tiny
  HF_TOKEN:
secrets:
  WANDB_API_KEY:
service:
  readiness_probe:
    path: /health
    timeout_seconds: 2
  replicas: 2
run: |
  mkdir -p /tmp/llm && echo ok > /tmp/llm/health
  echo "loading $MODEL"; sleep 8
  echo serving; exec httpd -f -p 8080 -h /tmp/llm
`;

test('the check panel shows the warnings, the resource set chosen and the values a launch needs; launched, the endpoint is starting, then ready', async ({ page }) => {
  await open(page, '#/launch');
  await expect(page.getByTestId(`card-cluster:${cluster.name}`).or(page.getByTestId('yaml-editor'))).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('yaml-editor').fill(TASK);

  const warnings = page.getByTestId('validation-warning');
  await expect(page.locator('[data-testid="validation-warning"][data-path="resources.use_spot"]')).toBeVisible({ timeout: 10_000 });
  await expect(page.locator('[data-testid="validation-warning"][data-path="service"]')).toContainText('runs the task once');
  expect(await warnings.count()).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('chosen-resources')).toContainText(/2|second/);
  await expect(page.getByTestId('required-at-launch')).toContainText('HF_TOKEN');
  await expect(page.getByTestId('required-at-launch')).toContainText('WANDB_API_KEY');
  await expect(page.getByTestId('launch-values')).toBeVisible();
  await expect(page.locator('#value-secrets-WANDB_API_KEY')).toHaveAttribute('type', 'password');
  await expect(page.getByTestId('launch-button')).toBeDisabled();
  await expect(page.locator('[data-testid="validation-error"][data-path="envs.HF_TOKEN"]')).toBeVisible();
  await page.waitForTimeout(600);
  await shot(page, 'launch-needs-values');

  await page.locator('#value-envs-HF_TOKEN').fill('hf_demo_token');
  await page.locator('#value-secrets-WANDB_API_KEY').fill('never-shown-s3cret');
  await expect(page.getByTestId('validation-error')).toHaveCount(0, { timeout: 10_000 });
  await expect(page.getByTestId('launch-button')).toBeEnabled();
  await page.waitForTimeout(600);
  await shot(page, 'launch-ready');

  await page.getByTestId('launch-button').click();
  const taskPage = page.getByTestId('task-page');
  await expect(taskPage).toBeVisible({ timeout: 10_000 });
  await expect(taskPage).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  const readiness = taskPage.getByTestId('endpoint-readiness').first();
  await expect(readiness).toContainText('starting');
  await expect(page.getByTestId('task-logs')).toContainText('loading tiny', { timeout: 20_000 });
  await shot(page, 'task-endpoint-starting');
  await expect(readiness).toHaveText('ready', { timeout: 30_000 });
  await expect(page.getByTestId('task-logs')).toContainText('serving', { timeout: 10_000 });
  await shot(page, 'task-endpoint-ready');
  await expect(page.locator('body')).not.toContainText('never-shown-s3cret');
  await page.getByTestId('cancel-task').click();
  await expect(taskPage).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
});
