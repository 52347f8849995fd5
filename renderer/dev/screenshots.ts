// Development only: screenshots of every page in every mock scenario, light
// and dark, taken with Debian's Chromium against `vite preview` (which serves
// the built bundle with the supervisor's CSP and the mock routes). Reports
// console errors and CSP violations. Not a test: look at the pictures.
//
//   cd renderer && npx vite build && npx vite preview --port 4173 &
//   node renderer/dev/screenshots.ts [http://localhost:4173] [/tmp/kindtray-shots]

import { mkdirSync } from 'node:fs';
import { chromium, type Page } from 'playwright';

const base = process.argv[2] ?? 'http://localhost:4173';
const out = process.argv[3] ?? '/tmp/kindtray-shots';
const only = process.env.SHOTS?.split(',');
mkdirSync(out, { recursive: true });

const scenario = (name: string) => fetch(`${base}/dev/scenario/${name}`, { method: 'POST' });

interface Shot {
  name: string;
  scenario: string;
  hash: string;
  /** Runs after load, before the picture. */
  act?: (page: Page) => Promise<void>;
  full?: boolean;
}

const SHOTS: Shot[] = [
  { name: 'overview-docker-stopped', scenario: 'docker-stopped', hash: '#/' },
  { name: 'overview-healthy', scenario: 'healthy', hash: '#/' },
  { name: 'overview-cluster-stopped', scenario: 'cluster-stopped', hash: '#/' },
  { name: 'overview-stale-context', scenario: 'stale-context', hash: '#/' },
  { name: 'overview-worker-hung', scenario: 'worker-hung', hash: '#/' },
  { name: 'overview-no-clusters', scenario: 'no-clusters', hash: '#/' },
  { name: 'overview-restarting', scenario: 'restarting', hash: '#/' },
  {
    name: 'overview-fix-running',
    scenario: 'docker-stopped',
    hash: '#/',
    act: async (p) => {
      await p.getByTestId('overall-banner').locator('[data-fix-id="start-docker"]').click();
      await p.waitForTimeout(500);
    },
  },
  {
    name: 'overview-fix-done',
    scenario: 'docker-stopped',
    hash: '#/',
    act: async (p) => {
      // The previous shot's fix is still finishing on the mock: let it, then break Docker again.
      await p.waitForTimeout(2_000);
      await scenario('docker-stopped');
      await p.getByTestId('overall-banner').locator('[data-fix-id="start-docker"]').click();
      await p.locator('[data-testid="overall-banner"][data-state="ok"]').waitFor({ timeout: 5000 });
      await p.waitForTimeout(300);
    },
  },
  { name: 'tasks', scenario: 'healthy', hash: '#/tasks' },
  { name: 'tasks-worker-hung', scenario: 'worker-hung', hash: '#/tasks' },
  { name: 'task-running', scenario: 'healthy', hash: '#/tasks/t-7f3a9c', act: (p) => p.waitForTimeout(1500) },
  { name: 'task-failed', scenario: 'healthy', hash: '#/tasks/t-0c77d1' },
  { name: 'task-missing', scenario: 'healthy', hash: '#/tasks/nope' },
  { name: 'launch-healthy', scenario: 'healthy', hash: '#/launch', act: (p) => p.waitForTimeout(800) },
  { name: 'launch-docker-stopped', scenario: 'docker-stopped', hash: '#/launch', act: (p) => p.waitForTimeout(800) },
  {
    name: 'launch-errors',
    scenario: 'healthy',
    hash: '#/launch',
    act: async (p) => {
      await p.getByLabel('Ports').fill('8080, 70000, 9000-8000');
      await p.getByLabel('Name').fill('Web Demo');
      await p.waitForTimeout(800);
    },
  },
  {
    name: 'launch-syntax-error',
    scenario: 'healthy',
    hash: '#/launch',
    act: async (p) => {
      await p.getByTestId('yaml-editor').fill('name: demo\nresources:\n  ports: [8080\nrun: echo hi\n');
      await p.waitForTimeout(600);
    },
  },
  {
    name: 'launch-pipeline-later-task',
    scenario: 'healthy',
    hash: '#/launch',
    act: async (p) => {
      await p.getByTestId('yaml-editor').fill('name: train-eval\n---\nname: train\nrun: python train.py\n---\nname: eval\nresources:\n  accelerators: A100:8\nrun: python eval.py\n');
      await p.waitForTimeout(900);
    },
    full: true,
  },
  { name: 'launch-worker-hung', scenario: 'worker-hung', hash: '#/launch', act: (p) => p.waitForTimeout(1200) },
  {
    name: 'launch-when-ready',
    scenario: 'docker-stopped',
    hash: '#/launch',
    act: async (p) => {
      await p.getByTestId('launch-when-ready').check();
      await p.waitForTimeout(500);
    },
  },
  {
    name: 'launch-go',
    scenario: 'healthy',
    hash: '#/launch',
    act: async (p) => {
      await p.getByTestId('launch-button').click();
      await p.locator('[data-testid="task-page"][data-state="running"]').waitFor({ timeout: 5000 });
      await p.waitForTimeout(1200);
    },
  },
  {
    name: 'connection-lost',
    scenario: 'docker-stopped',
    hash: '#/',
    act: async (p) => {
      await fetch(`${base}/dev/offline/on`, { method: 'POST' });
      await p.getByTestId('connection-notice').waitFor();
      await p.waitForTimeout(2500);
    },
  },
  { name: 'diagnostics-docker-stopped', scenario: 'docker-stopped', hash: '#/diagnostics', full: true },
  { name: 'diagnostics-healthy', scenario: 'healthy', hash: '#/diagnostics', full: true },
  { name: 'history', scenario: 'healthy', hash: '#/history', full: true },
  { name: 'history-worker-hung', scenario: 'worker-hung', hash: '#/history' },
  { name: 'settings', scenario: 'healthy', hash: '#/settings', full: true },
  {
    name: 'settings-invalid',
    scenario: 'healthy',
    hash: '#/settings',
    act: async (p) => {
      await p.getByLabel('Ping every').fill('abc');
      await p.getByLabel('Port').fill('80');
      await p.getByTestId('settings-save').click().catch(() => undefined);
    },
  },
  {
    name: 'settings-server-error',
    scenario: 'healthy',
    hash: '#/settings',
    act: async (p) => {
      await p.getByLabel('Port').fill('80');
      await p.getByTestId('settings-save').click();
      await p.getByTestId('setting-error-port').waitFor();
    },
  },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems: string[] = [];
for (const scheme of ['light', 'dark'] as const) {
  for (const shot of SHOTS) {
    if (only && !only.some((o) => shot.name.startsWith(o))) continue;
    if (scheme === 'dark' && !['overview-docker-stopped', 'overview-healthy', 'launch-docker-stopped', 'tasks', 'history', 'task-running', 'diagnostics-healthy', 'settings'].includes(shot.name)) continue;
    await scenario(shot.scenario);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: scheme });
    const page = await context.newPage();
    page.on('console', (m) => {
      // Chromium logs every 4xx/5xx answer; those are states the pages are designed for.
      if (/Failed to load resource|ERR_EMPTY_RESPONSE|ERR_CONNECTION/.test(m.text())) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${shot.name}: console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${shot.name}: page error: ${e.message}`));
    await page.goto(`${base}/${shot.hash}`);
    await page.getByTestId('connection-status').and(page.locator('[data-phase="live"]')).waitFor({ timeout: 5000 });
    await page.waitForTimeout(400);
    if (shot.act) await shot.act(page);
    await page.screenshot({ path: `${out}/${shot.name}${scheme === 'dark' ? '-dark' : ''}.png`, fullPage: shot.full ?? false });
    await fetch(`${base}/dev/offline/off`, { method: 'POST' });
    await context.close();
  }
}
await scenario('docker-stopped');
await browser.close();
console.log(problems.length === 0 ? 'no console errors' : problems.join('\n'));
