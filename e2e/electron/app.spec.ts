// The tray app under a real Electron: the tray menu comes from the snapshot,
// the window is locked down (context isolation, sandbox, no Node, CSP, no
// navigation away, no new windows, permissions refused) and gets its token
// from the preload, a second launch focuses the first, and quitting removes
// server.json. Each test gets its own Kindtray home (and so its own
// single-instance lock), a free port, and a Docker endpoint that is not there.
//
// No Electron binary can be installed on the machines these were written on:
// there the whole file is skipped, and says so.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import type { KindtrayTestHooks } from '../../electron/app/testing/test-main.ts';
import { buildApp } from '../../electron/app/scripts/build.ts';
import { MAIN_JS, TEST_MAIN_JS, displayAvailable, findElectronBinary } from '../../electron/app/scripts/paths.ts';

const binary = findElectronBinary();
const SKIP_REASON = !binary.found
  ? 'Electron binary not installed: ELECTRON_SKIP_BINARY_DOWNLOAD on this machine'
  : !displayAvailable()
    ? 'No display for Electron here: neither DISPLAY nor WAYLAND_DISPLAY is set'
    : undefined;
if (SKIP_REASON) process.stderr.write(`e2e/electron: skipped: ${SKIP_REASON}\n`);
test.skip(SKIP_REASON !== undefined, SKIP_REASON ?? '');

/** Chromium refuses to start as root without this (CI containers); it does not change webPreferences. */
const CHROMIUM_FLAGS = process.getuid?.() === 0 ? ['--no-sandbox'] : [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Home {
  dir: string;
  env: NodeJS.ProcessEnv;
  serverFile: string;
}

async function newHome(): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), 'kindtray-electron-'));
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ port: await freePort(), notifications: false }));
  const env = {
    ...process.env,
    KINDTRAY_HOME: dir,
    // Docker "stopped": a socket that does not exist, so the tray has a fix to offer.
    DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
    KUBECONFIG: join(dir, 'kubeconfig'),
  };
  return { dir, env, serverFile: join(dir, 'server.json') };
}

async function launch(home: Home, args: string[] = ['--hidden']): Promise<ElectronApplication> {
  return electron.launch({ executablePath: binary.path, args: [...CHROMIUM_FLAGS, TEST_MAIN_JS, ...args], env: home.env as Record<string, string>, timeout: 60_000 });
}

/** Waits until the app has started its supervisor and exposed the test hooks. */
async function hooksReady(app: ElectronApplication): Promise<void> {
  await expect.poll(() => app.evaluate(() => (globalThis as { kindtrayTestHooks?: unknown }).kindtrayTestHooks !== undefined), { timeout: 60_000 }).toBe(true);
}

const trayLabels = (app: ElectronApplication) =>
  app.evaluate(() => (globalThis as { kindtrayTestHooks?: KindtrayTestHooks }).kindtrayTestHooks?.trayView()?.menu.map((i) => i.label) ?? []);

async function openWindow(app: ElectronApplication): Promise<Page> {
  const shown = app.waitForEvent('window');
  await app.evaluate(() => (globalThis as { kindtrayTestHooks?: KindtrayTestHooks }).kindtrayTestHooks?.showWindow());
  const page = await shown;
  await page.waitForLoadState('domcontentloaded');
  return page;
}

test.beforeAll(() => {
  // The specs run the compiled app; build it when it is missing or older than the sources.
  if (!existsSync(TEST_MAIN_JS) || process.env.KINDTRAY_E2E_REBUILD === '1') expect(buildApp()).toBe(true);
});

let home: Home;
let app: ElectronApplication | undefined;

test.beforeEach(async () => {
  home = await newHome();
});

test.afterEach(async () => {
  await app?.close().catch(() => undefined);
  app = undefined;
  rmSync(home.dir, { recursive: true, force: true });
});

test('the tray menu shows Docker, the server, the fix that applies, and the actions', async () => {
  app = await launch(home);
  await hooksReady(app);
  await expect.poll(() => trayLabels(app!)).toContain('Start Docker');
  const labels = await trayLabels(app);
  expect(labels[0]).toBe('Docker: not running');
  expect(labels.some((l) => l.startsWith('Server: '))).toBe(true);
  expect(labels.slice(-6)).toEqual(['Launch task…', 'Create cluster…', 'Open dashboard', 'Start at login', '', 'Quit']);
  // Started with --hidden (as at login): no window until asked for.
  expect(app.windows()).toHaveLength(0);
});

test('the window is isolated, sandboxed, without Node, and gets the server from the preload only', async () => {
  app = await launch(home);
  await hooksReady(app);
  const page = await openWindow(app);

  const prefs = await app.evaluate(({ BrowserWindow }) => {
    const wc = BrowserWindow.getAllWindows()[0]!.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> };
    return wc.getLastWebPreferences();
  });
  expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });

  const serverUrl = await app.evaluate(() => (globalThis as { kindtrayTestHooks?: KindtrayTestHooks }).kindtrayTestHooks!.serverUrl);
  expect(page.url().startsWith(`${serverUrl}/`)).toBe(true);

  const inPage = await page.evaluate(async () => {
    const w = window as unknown as Record<string, unknown> & { kindtray: Record<string, (...a: unknown[]) => Promise<unknown>> };
    let evalRan = false;
    try {
      evalRan = (0, eval)('1') === 1;
    } catch {
      evalRan = false;
    }
    return {
      require: typeof w.require,
      process: typeof w.process,
      bridge: Object.keys(w.kindtray).sort(),
      server: await w.kindtray.getServer!(),
      badFix: await w.kindtray.runFix!('rm -rf /'),
      badLink: await w.kindtray.openExternal!('https://example.com/'),
      evalRan,
      popup: window.open('https://example.com/') === null,
      notification: await Notification.requestPermission(),
    };
  });
  expect(inPage.require).toBe('undefined');
  expect(inPage.process).toBe('undefined');
  expect(inPage.bridge).toEqual(['getDesktopSettings', 'getServer', 'getSnapshot', 'onSnapshot', 'openExternal', 'runFix', 'setNotifications', 'setStartAtLogin']);
  expect(inPage.server).toMatchObject({ result: { url: serverUrl, token: expect.any(String) } });
  expect(inPage.badFix).toMatchObject({ error: { code: 'bad-request' } });
  expect(inPage.badLink).toMatchObject({ error: { code: 'not-allowed' } });
  expect(inPage.evalRan).toBe(false);
  expect(inPage.popup).toBe(true);
  expect(inPage.notification).toBe('denied');

  // Navigating away is refused: the page stays on the dashboard.
  await page.evaluate(() => {
    location.href = 'https://example.com/';
  });
  await page.waitForTimeout(500);
  expect(page.url().startsWith(`${serverUrl}/`)).toBe(true);
  expect(app.windows()).toHaveLength(1);
});

test('a second launch with the same home exits and brings the first one’s window up', async () => {
  app = await launch(home);
  await hooksReady(app);
  expect(app.windows()).toHaveLength(0);
  const shown = app.waitForEvent('window');
  const second = spawn(binary.path!, [...CHROMIUM_FLAGS, MAIN_JS], { env: home.env, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => second.on('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  await shown;
  expect(app.windows()).toHaveLength(1);
});

test('quitting stops the supervisor and removes server.json', async () => {
  app = await launch(home);
  await hooksReady(app);
  const info = JSON.parse(readFileSync(home.serverFile, 'utf8')) as { pid: number; port: number };
  expect(info.port).toBeGreaterThan(0);
  const closed = app.waitForEvent('close');
  await app.evaluate(({ app: electronApp }) => electronApp.quit());
  await closed;
  app = undefined;
  expect(existsSync(home.serverFile)).toBe(false);
  await expect(fetch(`http://127.0.0.1:${info.port}/api/health`)).rejects.toThrow();
});
