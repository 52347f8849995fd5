// The dashboard as a user feels it: the bundle's gzipped size, the first
// meaningful paint (the Overview's cards drawn from live data, the page's own
// `kindtray:first-cards` mark), the time from a Docker stop to the red banner
// in an open page, and the supervisor's memory with the page open. Chromium is
// Debian's, driven by Playwright; the paint's baseline is an about:blank
// navigation in the same browser, in the same run.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { call, freePort, serve, tempHome, writeSettings } from '../e2e/helpers/serve.ts';
import { stats, writeResult, ms } from './lib.ts';
import { log, onCleanup, poll, withTestbed } from './harness.ts';

const DIST = fileURLToPath(new URL('../renderer/dist/', import.meta.url));
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 5);

function bundleSizes(): { initialGzipBytes: number; totalGzipBytes: number; files: { file: string; bytes: number; gzipBytes: number }[] } {
  if (!existsSync(join(DIST, 'index.html'))) {
    log('dashboard: building the renderer first');
    const r = spawnSync('npm', ['run', 'build:renderer'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build:renderer failed');
  }
  const assets = join(DIST, 'assets');
  const files = readdirSync(assets)
    .filter((f) => /\.(js|css)$/.test(f))
    .map((f) => {
      const data = readFileSync(join(assets, f));
      return { file: f, bytes: statSync(join(assets, f)).size, gzipBytes: gzipSync(data, { level: 9 }).length };
    });
  // What index.html loads at once; the rest are chunks loaded on demand (the Launch page).
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const initial = files.filter((f) => html.includes(f.file));
  return {
    initialGzipBytes: initial.reduce((a, f) => a + f.gzipBytes, 0),
    totalGzipBytes: files.reduce((a, f) => a + f.gzipBytes, 0),
    files,
  };
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function run(): Promise<void> {
  const bundle = bundleSizes();
  log(`dashboard: bundle ${bundle.initialGzipBytes} B gzipped at load, ${bundle.totalGzipBytes} B in all`);
  await withTestbed(async (tb) => {
    const cluster = await tb.createCluster('dash', { extraPortMappings: [{ containerPort: 30000 }] });
    const home = tempHome('kt-bench-dash-');
    writeSettings(home, { dockerStartCommand: tb.dockerd.startCommand });
    const server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.image }), { port: await freePort() });
    onCleanup(() => server.stop());
    const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    onCleanup(() => browser.close());
    const link = async () => (await call<{ url: string }>(`${server.url}/control/login-token`, { method: 'POST', token: server.token })).body.url;
    await poll('cluster running', 30_000, async () => {
      const s = (await call<{ clusters: { name: string; state: string }[] }>(`${server.url}/api/status`, { token: server.token })).body;
      return s.clusters.find((c) => c.name === cluster.name)?.state === 'running' ? true : undefined;
    });

    // Memory of the supervisor and its worker with no page open.
    const workerPid = (await call<{ worker: { pid: number } }>(`${server.url}/api/health`)).body.worker.pid;
    const idleRss = { supervisorKiB: rssKiB(server.pid), workerKiB: rssKiB(workerPid) };

    // First meaningful paint, each run in a fresh context (no cache, no cookie).
    const paints: number[] = [];
    const blanks: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto('about:blank');
      blanks.push(performance.now() - t0);
      await page.goto(await link());
      await page.waitForFunction(() => performance.getEntriesByName('kindtray:first-cards').length > 0, undefined, { timeout: 20_000 });
      // Measured by the page: from navigation start (the redirected URL's) to the cards drawn from live data.
      paints.push(await page.evaluate(() => performance.getEntriesByName('kindtray:first-cards')[0]?.startTime ?? NaN));
      await context.close();
    }

    // Docker stop → the banner turns red in an open page.
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(await link());
    await page.locator('[data-testid="overall-banner"][data-state="ok"]').waitFor({ timeout: 30_000 });
    const openRss = { supervisorKiB: rssKiB(server.pid), workerKiB: rssKiB(workerPid) };
    const toRed: number[] = [];
    for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) {
      await page.locator('[data-testid="overall-banner"][data-state="ok"]').waitFor({ timeout: 60_000 });
      // Timed in the page: a MutationObserver sees the attribute change the moment React writes it.
      await page.evaluate(() => {
        const w = window as unknown as { redAt?: number };
        delete w.redAt;
        const banner = () => document.querySelector('[data-testid="overall-banner"]');
        const obs = new MutationObserver(() => {
          if (banner()?.getAttribute('data-state') === 'error' && w.redAt === undefined) w.redAt = performance.timeOrigin + performance.now();
        });
        obs.observe(document.body, { subtree: true, attributes: true, childList: true });
      });
      const stoppedAt = Date.now();
      const stopping = tb.dockerd.stop();
      await page.waitForFunction(() => (window as unknown as { redAt?: number }).redAt !== undefined, undefined, { timeout: 20_000 });
      const redAt = await page.evaluate(() => (window as unknown as { redAt: number }).redAt);
      toRed.push(redAt - stoppedAt);
      await stopping;
      await tb.dockerd.start();
      const fix = await call<{ ok: boolean; message: string }>(`${server.url}/control/fixes/start-cluster:${cluster.name}`, { method: 'POST', token: server.token, timeoutMs: 90_000 });
      if (!fix.body.ok) log(`dashboard: start-cluster said: ${fix.body.message}`);
      await poll('all good again', 60_000, async () => {
        const s = (await call<{ overall: string; problems: { id: string }[] }>(`${server.url}/api/status`, { token: server.token })).body;
        return s.overall === 'ok' ? true : undefined;
      }).catch(async (e: unknown) => {
        const s = (await call<{ overall: string; problems: { id: string; title: string }[] }>(`${server.url}/api/status`, { token: server.token })).body;
        throw new Error(`${(e as Error).message}: overall ${s.overall}, problems ${s.problems.map((p) => `${p.id} (${p.title})`).join('; ')}`);
      });
    }
    await context.close();

    const paint = stats(paints);
    const blank = stats(blanks);
    const red = stats(toRed);
    writeResult(
      'dashboard',
      { runs: RUNS, bundle, firstMeaningfulPaintMs: paint, aboutBlankMs: blank, dockerStopToRedBannerMs: red, rss: { idle: idleRss, withDashboardOpen: openRss } },
      [
        {
          metric: 'renderer bundle, gzipped',
          value: `${(bundle.initialGzipBytes / 1024).toFixed(1)} KiB at load, ${(bundle.totalGzipBytes / 1024).toFixed(1)} KiB with the lazy Launch page`,
        },
        {
          metric: `first meaningful paint (Overview cards from live data), n=${paint.n}`,
          value: `median ${ms(paint.median)}, worst ${ms(paint.max)}`,
          reference: `about:blank in the same browser: median ${ms(blank.median)}`,
        },
        {
          metric: `Docker stop → red banner in an open page, n=${red.n}`,
          value: `median ${ms(red.median)}, worst ${ms(red.max)}`,
          reference: 'design: 1 s; Podman Desktop pings the engine every 5 s',
        },
        {
          metric: 'memory (RSS) with the dashboard open',
          value: `supervisor ${((openRss.supervisorKiB ?? NaN) / 1024).toFixed(0)} MiB, API worker ${((openRss.workerKiB ?? NaN) / 1024).toFixed(0)} MiB`,
          reference: `with no page open: ${((idleRss.supervisorKiB ?? NaN) / 1024).toFixed(0)} MiB / ${((idleRss.workerKiB ?? NaN) / 1024).toFixed(0)} MiB`,
        },
      ],
    );
  });
}
