// The Electron main process, wired: one instance per Kindtray home, the
// supervisor in this process with its API worker and Kubernetes probe as
// utility processes, the tray, the dashboard window on demand, IPC and
// notifications. Everything it shows comes from the monitor's snapshots
// (pushed, never polled); everything it does goes through the supervisor.
// Quitting stops the children and removes server.json before the app exits.

import { join } from 'node:path';
import { app, dialog, shell } from 'electron';
import type { TaskRecord } from '../../shared/api.ts';
import { withDeadline } from '../../shared/deadline.ts';
import { isAllowedExternalUrl, SNAPSHOT_EVENT, type DashboardPage, type DesktopSettings, type FixOutcome } from '../../shared/ipc.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import type { TrayAction, TrayTarget } from '../../shared/tray-view.ts';
import { KubeProber } from '../monitor/index.ts';
import {
  AlreadyRunningError,
  Supervisor,
  VERSION,
  kindtrayHome,
  kindtrayPaths,
  loadSettings,
  removeServerFile,
  saveSettings,
  stopProcess,
  type KindtrayPaths,
  type Settings,
  type StartedSupervisor,
  type SupervisorOptions,
} from '../supervisor/index.ts';
import { utilityLauncher } from './children.ts';
import { IpcRefusal, registerIpc, type IpcHandlers } from './ipc.ts';
import { HIDDEN_FLAG, loginItem as platformLoginItem, type LoginItem } from './login-item.ts';
import { Notifier } from './notifications.ts';
import { followServerEvents, type ServerEventsFollower, type ServerEventsOptions } from './server-events.ts';
import { TrayController } from './tray.ts';
import { stopClusterFromTray } from './tray-clusters.ts';
import { DashboardWindow } from './window.ts';

/** What the app uses of the supervisor (the real one, or a double in tests). */
export interface SupervisorLike {
  readonly paths: KindtrayPaths;
  readonly monitor: {
    current(): { snapshot: HealthSnapshot; ageMs: number };
    subscribe(listener: (snapshot: HealthSnapshot) => void): () => void;
  };
  start(): Promise<StartedSupervisor>;
  stop(): Promise<void>;
  runFix(id: string): Promise<FixOutcome>;
  log(line: string): void;
}

export interface ProberLike {
  dispose(): void;
}

export interface AppDeps {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  argv?: readonly string[];
  createProber?: (settings: Settings) => ProberLike;
  createSupervisor?: (opts: SupervisorOptions, prober: ProberLike) => SupervisorLike;
  followEvents?: (opts: ServerEventsOptions) => ServerEventsFollower;
  loginItem?: LoginItem;
}

export const PRODUCT_NAME = 'Kindtray';
/** electron-builder.yml's appId. */
export const APP_ID = 'dev.kindtray.app';

/** How long quitting waits for the supervisor and its children before exiting anyway. */
const STOP_DEADLINE_MS = 6_000;

export interface RunningApp {
  kind: 'running';
  started: StartedSupervisor;
  supervisor: SupervisorLike;
  tray: TrayController;
  window: DashboardWindow;
  notifier: Notifier;
  /** Stops everything (what quitting runs); safe to call twice. */
  shutdown(): Promise<void>;
}

export type AppOutcome = RunningApp | { kind: 'second-instance' } | { kind: 'not-started'; reason: string };

const defaultProber = (settings: Settings): KubeProber =>
  new KubeProber({
    launch: utilityLauncher,
    intervalMs: settings.probe.intervalMs,
    deadlineMs: settings.probe.deadlineMs,
  });

const defaultSupervisor = (opts: SupervisorOptions, prober: ProberLike): SupervisorLike =>
  new Supervisor({ ...opts, monitor: { prober: prober as KubeProber } });

export async function runApp(deps: AppDeps = {}): Promise<AppOutcome> {
  const env = deps.env ?? process.env;
  const platform = deps.platform ?? process.platform;
  const argv = deps.argv ?? process.argv;

  // Also when run as `electron dist/electron/app/main.js`, where no package.json names the app.
  app.setName(PRODUCT_NAME);
  // Windows shows notifications only for an app with an id (electron-builder.yml's appId).
  if (platform === 'win32') app.setAppUserModelId(APP_ID);
  // Chromium's profile lives under Kindtray's home, so KINDTRAY_HOME separates
  // instances completely, single-instance lock included (it is per userData).
  app.setPath('userData', join(kindtrayHome(env), 'electron'));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return { kind: 'second-instance' };
  }

  // Filled in once started; a second launch before then only asks for the window.
  const state: { running?: RunningApp; showWhenStarted: boolean } = { showWhenStarted: false };
  app.on('second-instance', () => {
    if (state.running) state.running.window.show();
    else state.showWhenStarted = true;
  });
  // A tray app outlives its window.
  app.on('window-all-closed', () => undefined);

  await app.whenReady();
  if (platform === 'darwin') app.dock?.hide();

  const paths = kindtrayPaths(env);
  const settings = loadSettings(paths.settings).settings;
  const prober = (deps.createProber ?? defaultProber)(settings);
  const supervisor = (deps.createSupervisor ?? defaultSupervisor)(
    { env, launch: utilityLauncher, log: (line) => process.stderr.write(`kindtray: ${line}\n`) },
    prober,
  );

  const started = await startOrAsk(supervisor);
  if (!started) {
    prober.dispose();
    app.quit();
    return { kind: 'not-started', reason: 'another Kindtray holds the port and was kept' };
  }

  const login = deps.loginItem ?? platformLoginItem({ platform, env });
  let notificationsOn = settings.notifications;
  const window = new DashboardWindow({ origin: started.url, log: (l) => supervisor.log(l) });
  const open = (page: DashboardPage = 'overview') => window.show(page);
  const notifier = new Notifier({ enabled: () => notificationsOn, onClick: (page) => open(page) });

  const runFix = (id: string, label = id): Promise<FixOutcome> =>
    supervisor.runFix(id).then((outcome) => {
      notifier.fixFailed(outcome, label);
      return outcome;
    });

  const persist = (change: Partial<Pick<Settings, 'notifications' | 'startAtLogin'>>) => {
    const loaded = loadSettings(paths.settings);
    if (loaded.error) throw new IpcRefusal('failed', `not saved: ${loaded.error}`);
    saveSettings(paths.settings, { ...loaded.settings, ...change });
  };
  const desktopSettings = (): DesktopSettings => ({ startAtLogin: login.enabled(), startAtLoginSupported: login.supported, notifications: notificationsOn });
  const setStartAtLogin = (on: boolean): DesktopSettings => {
    if (!login.supported) throw new IpcRefusal('not-allowed', `Kindtray cannot start at login on ${platform}`);
    const now = login.set(on);
    persist({ startAtLogin: now });
    tray.refresh();
    return desktopSettings();
  };

  const trayAction = (action: TrayAction, target?: TrayTarget) => {
    switch (action) {
      case 'open-dashboard':
        // A cluster's submenu and "Create cluster…" name their page.
        if (target?.route) window.showLink(target.route);
        else open();
        return;
      case 'launch-task':
        open('launch');
        return;
      case 'stop-cluster':
        if (target?.cluster) {
          const label = `Stop cluster ${target.cluster}`;
          void stopClusterFromTray(started, target.cluster).then((outcome) => notifier.fixFailed(outcome, label));
        }
        return;
      case 'toggle-start-at-login':
        try {
          setStartAtLogin(!login.enabled());
        } catch (e) {
          supervisor.log(`start at login: ${(e as Error).message}`);
          tray.refresh();
        }
        return;
      case 'quit':
        app.quit();
        return;
    }
  };

  const tray = new TrayController(supervisor.monitor.current().snapshot, {
    platform,
    startAtLogin: () => login.enabled(),
    handlers: {
      runFix: (id, label) => void runFix(id, label).catch((e: unknown) => supervisor.log(`fix ${id} from the tray: ${(e as Error).message}`)),
      action: trayAction,
    },
  });
  notifier.snapshot(supervisor.monitor.current().snapshot);

  const handlers: IpcHandlers = {
    'kindtray:get-server': () => ({ url: started.url, token: started.token, version: VERSION }),
    'kindtray:get-snapshot': () => supervisor.monitor.current(),
    'kindtray:run-fix': (id) => runFix(id),
    'kindtray:open-external': async (url) => {
      if (!isAllowedExternalUrl(url)) throw new IpcRefusal('not-allowed', 'only task endpoints on this machine and the Kindtray docs open from the dashboard');
      await shell.openExternal(url);
      return { opened: true };
    },
    'kindtray:get-desktop-settings': () => desktopSettings(),
    'kindtray:set-start-at-login': (on) => setStartAtLogin(on),
    'kindtray:set-notifications': (on) => {
      persist({ notifications: on });
      notificationsOn = on;
      return desktopSettings();
    },
  };
  const unregisterIpc = registerIpc(handlers, (event) => window.isTrustedSender(event));

  const unsubscribe = supervisor.monitor.subscribe((snapshot) => {
    tray.render(snapshot);
    notifier.snapshot(snapshot);
    window.send(SNAPSHOT_EVENT, snapshot);
  });
  const events = (deps.followEvents ?? followServerEvents)({
    url: started.url,
    token: started.token,
    onEvent: (e) => {
      if (e.type === 'task') notifier.task(e.task as TaskRecord);
      if (e.type === 'operation' && typeof e.operation === 'object' && e.operation !== null && Array.isArray(e.operation.steps)) tray.operation(e.operation);
    },
  });

  let stopping: Promise<void> | undefined;
  let supervisorStopped = false;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      forgetProcessEvents();
      unsubscribe();
      events.stop();
      unregisterIpc();
      tray.destroy();
      window.close();
      if (!supervisorStopped) {
        try {
          await withDeadline('stopping the supervisor', STOP_DEADLINE_MS, () => supervisor.stop());
        } catch (e) {
          supervisor.log(`quit: ${(e as Error).message}; exiting anyway`);
        }
      }
      prober.dispose();
      removeServerFile(supervisor.paths.serverFile);
    })());

  let quitReady = false;
  app.on('before-quit', (event) => {
    if (quitReady) return;
    event.preventDefault();
    void shutdown().finally(() => {
      quitReady = true;
      app.quit();
    });
  });
  // `kindtray server stop` (POST /control/shutdown) stops the supervisor itself, then says so.
  const stoppedOverHttp = () => {
    supervisorStopped = true;
    app.quit();
  };
  const quitOnSignal = () => app.quit();
  process.once('kindtray-stopped' as never, stoppedOverHttp);
  process.once('SIGINT', quitOnSignal);
  process.once('SIGTERM', quitOnSignal);
  const forgetProcessEvents = () => {
    process.off('kindtray-stopped' as never, stoppedOverHttp);
    process.off('SIGINT', quitOnSignal);
    process.off('SIGTERM', quitOnSignal);
  };

  const running: RunningApp = { kind: 'running', started, supervisor, tray, window, notifier, shutdown };
  state.running = running;
  if (state.showWhenStarted || !startedHidden(argv, platform)) open();
  return running;
}

function startedHidden(argv: readonly string[], platform: NodeJS.Platform): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}

/**
 * Starts the supervisor. When another Kindtray answers on the port (usually
 * `kindtray serve` left in a terminal), asks whether to stop it and take over.
 */
async function startOrAsk(supervisor: SupervisorLike): Promise<StartedSupervisor | undefined> {
  try {
    return await supervisor.start();
  } catch (e) {
    if (!(e instanceof AlreadyRunningError)) throw e;
    const { response } = await dialog.showMessageBox({
      type: 'question',
      message: 'Kindtray is already running',
      detail: `${e.message}. It is probably \`kindtray serve\` in a terminal. Stop it and run the app instead?`,
      buttons: ['Stop it and start the app', 'Quit'],
      defaultId: 0,
      cancelId: 1,
    });
    if (response !== 0) return undefined;
    await stopProcess(e.pid);
    return supervisor.start();
  }
}
