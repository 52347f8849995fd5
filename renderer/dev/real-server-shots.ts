// Development only: the dashboard against a real `kindtray serve`, page by
// page, in Chromium. Pass the one-time dashboard URL the server printed.
//
//   node renderer/dev/real-server-shots.ts 'http://127.0.0.1:47000/?token=…' [/tmp/kindtray-real]

import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright';

const link = process.argv[2];
const out = process.argv[3] ?? '/tmp/kindtray-real';
if (!link) throw new Error('usage: real-server-shots.ts DASHBOARD_URL [OUT_DIR]');
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
const log: string[] = [];
page.on('console', (m) => log.push(`console ${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
page.on('response', (r) => {
  if (r.status() >= 400) log.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
});
await page.goto(link);
await page.locator('[data-testid="connection-status"][data-phase="live"]').waitFor({ timeout: 10_000 });
for (const hash of ['#/', '#/tasks', '#/launch', '#/diagnostics', '#/history', '#/settings']) {
  await page.goto(`${new URL(link).origin}/${hash}`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/${hash.replace(/[#/]/g, '') || 'overview'}.png` });
}
await browser.close();
console.log(log.join('\n') || 'no console errors, no failed requests');
