// The tray app's entry for its own specs (e2e/electron, scripts/smoke.ts): the
// real app, started as main.ts starts it, plus a handle on globalThis through
// which a spec reads what the tray shows and opens the window. Shipped builds
// start main.ts; this file is compiled next to it for the specs only and is
// left out of the package (electron-builder.yml; dist:check verifies it).

import type { DashboardPage } from '../../../shared/ipc.ts';
import type { TrayView } from '../../../shared/tray-view.ts';
import { runApp, type RunningApp } from '../app-main.ts';

/** What a spec can ask of the running app. */
export interface KindtrayTestHooks {
  trayView(): TrayView | undefined;
  showWindow(page?: DashboardPage): void;
  serverUrl: string;
}

function expose(r: RunningApp): void {
  const hooks: KindtrayTestHooks = {
    trayView: () => r.tray.view,
    showWindow: (page) => void r.window.show(page),
    serverUrl: r.started.url,
  };
  (globalThis as { kindtrayTestHooks?: KindtrayTestHooks }).kindtrayTestHooks = hooks;
}

runApp().then(
  (outcome) => {
    if (outcome.kind === 'running') expose(outcome);
  },
  (e: unknown) => {
    process.stderr.write(`kindtray (test entry): the app could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
