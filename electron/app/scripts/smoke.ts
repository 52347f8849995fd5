// Runs the compiled app (dist/electron/app/testing/test-main.js: main.js plus a
// handle for the checks below; from
// `npm run build:app`) under plain Node, with a stand-in `electron` that
// records instead of drawing but really forks the utility processes. Where no
// Electron binary exists this is the closest thing to starting the app: the
// ESM output loads, the supervisor starts its worker and probe from dist/, the
// tray menu is built, the window's IPC answers, and quitting removes
// server.json. Exits non-zero when any of that does not happen.
//
//   node electron/app/scripts/smoke.ts

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KindtrayTestHooks } from '../testing/test-main.ts';
import type { electron as Recorder } from '../testing/electron-double.ts';
import { APP_NEEDS, TEST_MAIN_JS } from './paths.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`smoke: ${what} did not happen in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  if (!existsSync(TEST_MAIN_JS)) throw new Error(`smoke: ${TEST_MAIN_JS} is missing: run npm run build:app first`);
  register(new URL('../testing/electron-loader-hooks.ts', import.meta.url));
  const home = mkdtempSync(join(tmpdir(), 'kindtray-smoke-'));
  try {
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ port: await freePort(), notifications: false }));
    Object.assign(process.env, { KINDTRAY_HOME: home, DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}`, KUBECONFIG: join(home, 'kubeconfig') });
    process.argv.push('--hidden');
    await import(pathToFileURL(TEST_MAIN_JS).href);
    const g = globalThis as { kindtrayTestHooks?: KindtrayTestHooks; kindtrayElectronRecorder?: typeof Recorder };
    const hooks = await until('the app starting', () => g.kindtrayTestHooks);
    const rec = g.kindtrayElectronRecorder!;
    const forks = rec.called('utilityProcess.fork').map((c) => String(c.args[0]).replace(/^.*\/dist\//, 'dist/'));
    const labels = hooks.trayView()?.menu.map((i) => i.label) ?? [];
    const health = (await (await fetch(`${hooks.serverUrl}/api/health`)).json()) as { status: string; worker: { state: string } };
    const page = await fetch(`${hooks.serverUrl}/`);
    hooks.showWindow('launch');
    const win = rec.windows[0]!;
    const fromWindow = (await rec.ipcHandlers.get('kindtray:get-server')!({ sender: win.webContents, senderFrame: { url: `${hooks.serverUrl}/`, parent: null } })) as { result?: { url: string } };
    const serverFileWhileRunning = existsSync(join(home, 'server.json'));
    rec.app.quit();
    await until('quitting', () => rec.called('app.quit:proceeded').length > 0 || undefined);
    const checks: [string, boolean][] = [
      [`worker and Kubernetes child forked from dist, each an entry point the package ships (${forks.join(', ')})`, forks.includes('dist/electron/server/worker-main.js') && forks.length >= 2 && forks.every((f) => APP_NEEDS.includes(f))],
      [`worker healthy (${health.status}, ${health.worker.state})`, health.worker.state === 'healthy'],
      [`dashboard served (${page.status})`, page.status === 200],
      [`tray menu (${labels.filter(Boolean).join(' / ')})`, labels.includes('Start Docker') && labels.includes('Quit')],
      [`window at ${win.loaded.join(', ')}`, win.loaded.at(-1) === `${hooks.serverUrl}/#/launch`],
      ['IPC get-server answers the window', fromWindow.result?.url === hooks.serverUrl],
      ['server.json written while running, removed at quit', serverFileWhileRunning && !existsSync(join(home, 'server.json'))],
    ];
    for (const [what, ok] of checks) process.stdout.write(`smoke: ${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
    process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
