// The main process wired end to end against the recording double of
// `electron` and a supervisor double: single instance, the tray following the
// monitor, fixes from the tray, the window on demand, IPC answers, and a quit
// that stops the supervisor and removes server.json.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import type { ServerEvent } from '../../shared/api.ts';
import type { FixOutcome, IpcAnswer } from '../../shared/ipc.ts';
import { withProblems } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput } from '../../shared/snapshot-fixtures.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { AlreadyRunningError, kindtrayPaths, type KindtrayPaths, type StartedSupervisor } from '../supervisor/index.ts';
import { runApp, type AppDeps, type RunningApp, type SupervisorLike } from './app-main.ts';
import { trayIconSet } from './icons.ts';
import type { LoginItem } from './login-item.ts';
import type { ServerEventsOptions } from './server-events.ts';
import { electron, type FakeImage } from './testing/electron-double.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

const healthy = withProblems(healthyInput());
const dockerStopped = withProblems(dockerStoppedInput());

class SupervisorDouble implements SupervisorLike {
  readonly paths: KindtrayPaths;
  snapshot: HealthSnapshot = healthy;
  readonly listeners = new Set<(s: HealthSnapshot) => void>();
  readonly monitor = {
    current: () => ({ snapshot: this.snapshot, ageMs: 5 }),
    subscribe: (l: (s: HealthSnapshot) => void) => {
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    },
  };
  readonly started: StartedSupervisor = { port: 46590, token: 'tok-123', url: 'http://127.0.0.1:46590', dashboardUrl: () => 'http://127.0.0.1:46590/?token=once' };
  startResults: (() => Promise<StartedSupervisor>)[] = [];
  readonly start = vi.fn(() => (this.startResults.shift() ?? (() => Promise.resolve(this.started)))());
  readonly stop = vi.fn(async () => undefined);
  readonly runFix = vi.fn(async (id: string): Promise<FixOutcome> => ({ ok: true, fixId: id, message: 'done', durationMs: 3 }));
  readonly log = vi.fn();
  constructor(home: string) {
    this.paths = kindtrayPaths({ KINDTRAY_HOME: home });
  }
  publish(s: HealthSnapshot): void {
    this.snapshot = s;
    for (const l of this.listeners) l(s);
  }
}

let home: string;
let supervisor: SupervisorDouble;
let prober: { dispose: Mock<() => void> };
let follow: { opts?: ServerEventsOptions; stopped: boolean };
let login: LoginItem & { on: boolean };
let running: RunningApp | undefined;

function deps(extra: Partial<AppDeps> = {}): AppDeps {
  return {
    env: { KINDTRAY_HOME: home },
    platform: 'linux',
    argv: ['electron', '.'],
    createProber: () => prober,
    createSupervisor: () => supervisor,
    followEvents: (opts) => {
      follow.opts = opts;
      return { stop: () => (follow.stopped = true) };
    },
    loginItem: login,
    ...extra,
  };
}

async function start(extra: Partial<AppDeps> = {}): Promise<RunningApp> {
  const outcome = await runApp(deps(extra));
  if (outcome.kind !== 'running') throw new Error(`not running: ${outcome.kind}`);
  running = outcome;
  return outcome;
}

type MenuItem = { label?: string; click?: () => void };
const trayMenu = () => (electron.trays[0]!.menu!.template as MenuItem[]).filter((i) => i.label);
const clickTray = (label: string) => trayMenu().find((i) => i.label === label)!.click!();
const ipc = (channel: string, event: unknown, ...args: unknown[]) => electron.ipcHandlers.get(channel)!(event, ...args) as Promise<IpcAnswer<unknown>>;
const windowEvent = () => ({ sender: electron.windows[0]!.webContents, senderFrame: { url: 'http://127.0.0.1:46590/', parent: null } });
const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  electron.reset();
  home = mkdtempSync(join(tmpdir(), 'kindtray-app-'));
  supervisor = new SupervisorDouble(home);
  prober = { dispose: vi.fn<() => void>() };
  follow = { stopped: false };
  login = {
    on: false,
    supported: true,
    enabled: () => login.on,
    set: (v) => (login.on = v),
  };
  running = undefined;
});

afterEach(async () => {
  await running?.shutdown();
  rmSync(home, { recursive: true, force: true });
});

describe('one instance', () => {
  it('a second launch quits at once, before starting anything', async () => {
    electron.app.lock = false;
    const create = vi.fn(() => supervisor);
    expect(await runApp(deps({ createSupervisor: create }))).toEqual({ kind: 'second-instance' });
    expect(electron.app.quitCalls).toBe(1);
    expect(create).not.toHaveBeenCalled();
    expect(electron.trays).toHaveLength(0);
  });

  it('the lock is taken per Kindtray home: Chromium’s profile lives under KINDTRAY_HOME', async () => {
    await start();
    const setPath = electron.called('app.setPath')[0]!;
    expect(setPath.args).toEqual(['userData', join(home, 'electron')]);
    const order = electron.calls.map((c) => c.what);
    expect(order.indexOf('app.setPath')).toBeLessThan(order.indexOf('app.requestSingleInstanceLock'));
  });

  it('the second launch brings the first one’s window to the front', async () => {
    await start({ argv: ['electron', '.', '--hidden'] });
    expect(electron.windows).toHaveLength(0);
    electron.app.emit('second-instance', {}, ['electron', '.'], '/');
    expect(electron.windows).toHaveLength(1);
    const win = electron.windows[0]!;
    win.emit('ready-to-show');
    win.focused = false;
    electron.app.emit('second-instance', {}, ['electron', '.'], '/');
    expect(electron.windows).toHaveLength(1);
    expect(win.focused).toBe(true);
  });

  it('names itself Kindtray (and on Windows gets the app id notifications need)', async () => {
    await start({ platform: 'win32' });
    expect(electron.app.name).toBe('Kindtray');
    expect(electron.app.appUserModelId).toBe('dev.kindtray.app');
  });

  it('closing the last window does not quit: the tray stays', async () => {
    await start();
    expect(electron.app.listenerCount('window-all-closed')).toBe(1);
  });
});

describe('starting', () => {
  it('starts the supervisor once, with a utility-process launcher for the worker', async () => {
    const create = vi.fn((_opts: unknown) => supervisor);
    await start({ createSupervisor: create });
    expect(supervisor.start).toHaveBeenCalledTimes(1);
    const opts = create.mock.calls[0]![0] as { launch: (m: string, env: NodeJS.ProcessEnv) => unknown; env: NodeJS.ProcessEnv };
    expect(opts.env).toEqual({ KINDTRAY_HOME: home });
    opts.launch('/dist/electron/server/worker-main.js', { A: '1' });
    expect(electron.called('utilityProcess.fork')[0]!.args.slice(0, 2)).toEqual(['/dist/electron/server/worker-main.js', []]);
  });

  it('opens the dashboard when launched by hand, not when started at login', async () => {
    await start();
    expect(electron.windows[0]!.loaded).toEqual(['http://127.0.0.1:46590/']);
    await running!.shutdown();
    electron.reset();
    await start({ argv: ['electron', '.', '--hidden'] });
    expect(electron.windows).toHaveLength(0);
  });

  it('another Kindtray on the port: asks; "Quit" keeps it and quits', async () => {
    supervisor.startResults = [() => Promise.reject(new AlreadyRunningError(4242, 46590))];
    electron.dialogResponse = 1;
    expect(await runApp(deps())).toEqual({ kind: 'not-started', reason: 'another Kindtray holds the port and was kept' });
    expect(electron.called('dialog.showMessageBox')[0]!.args[0]).toMatchObject({ message: 'Kindtray is already running', buttons: ['Stop it and start the app', 'Quit'] });
    expect(prober.dispose).toHaveBeenCalled();
    expect(electron.trays).toHaveLength(0);
  });
});

describe('the tray follows the monitor', () => {
  it('is built from the current snapshot, then redrawn on each published one, with no polling', async () => {
    vi.useFakeTimers();
    try {
      await start();
      const tray = electron.trays[0]!;
      expect((tray.image as FakeImage).representations.map((r) => r.buffer)).toEqual(trayIconSet('ok', 'linux').representations.map((r) => r.png));
      const menusBefore = electron.called('tray.setContextMenu').length;
      vi.advanceTimersByTime(60_000);
      expect(electron.called('tray.setContextMenu').length).toBe(menusBefore);
      supervisor.publish(dockerStopped);
      expect((tray.image as FakeImage).representations.map((r) => r.buffer)).toEqual(trayIconSet('error', 'linux').representations.map((r) => r.png));
      expect(tray.tooltip).toBe('Kindtray: Docker is not running: 2 clusters and 2 contexts affected');
    } finally {
      vi.useRealTimers();
    }
  });

  it('Docker stopped → a notification, and the open window gets the snapshot pushed', async () => {
    await start();
    supervisor.publish(dockerStopped);
    expect(electron.notifications.map((n) => n.options.title)).toEqual(['Docker is not running: 2 clusters and 2 contexts affected']);
    expect(electron.windows[0]!.webContents.sent).toEqual([{ channel: 'kindtray:snapshot', payload: dockerStopped }]);
  });

  it('Start Docker in the tray menu runs fix start-docker through the supervisor', async () => {
    await start();
    supervisor.publish(dockerStopped);
    clickTray('Start Docker');
    expect(supervisor.runFix).toHaveBeenCalledWith('start-docker');
  });

  it('a fix that fails from the tray is told in a notification', async () => {
    supervisor.runFix.mockResolvedValueOnce({ ok: false, fixId: 'start-docker', message: 'dockerd did not answer in 20 s', durationMs: 20_000 });
    await start();
    supervisor.publish(dockerStopped);
    clickTray('Start Docker');
    await flush();
    expect(electron.notifications.map((n) => n.options)).toContainEqual({ title: 'Start Docker did not work', body: 'dockerd did not answer in 20 s' });
  });

  it('Open dashboard, Launch task… and Start at login do what they say', async () => {
    await start({ argv: ['electron', '.', '--hidden'] });
    clickTray('Open dashboard');
    clickTray('Launch task…');
    expect(electron.windows).toHaveLength(1);
    expect(electron.windows[0]!.loaded).toEqual(['http://127.0.0.1:46590/', 'http://127.0.0.1:46590/#/launch']);
    trayMenu().find((i) => i.label === 'Create cluster…')!.click!();
    expect(electron.windows[0]!.loaded.at(-1)).toBe('http://127.0.0.1:46590/#/new-cluster');
    clickTray('Start at login');
    expect(login.on).toBe(true);
    expect((electron.trays[0]!.menu!.template as { label?: string; checked?: boolean }[]).find((i) => i.label === 'Start at login')!.checked).toBe(true);
  });

  it('a finished task from the event stream is told in a notification', async () => {
    await start();
    expect(follow.opts).toMatchObject({ url: 'http://127.0.0.1:46590', token: 'tok-123' });
    const event: ServerEvent = { type: 'task', task: { id: 't1', name: 'web-demo', state: 'succeeded', context: 'kind-dev', cluster: 'dev', namespace: 'default', endpoints: [], source: '', createdAt: '', updatedAt: '' } };
    follow.opts!.onEvent(event);
    expect(electron.notifications.map((n) => n.options.title)).toEqual(['Task web-demo finished']);
  });
});

describe('IPC from the window', () => {
  it('get-server hands the window the URL and token; anyone else gets untrusted-sender', async () => {
    await start();
    expect(await ipc('kindtray:get-server', windowEvent())).toEqual({ result: { url: 'http://127.0.0.1:46590', token: 'tok-123', version: '0.1.0' } });
    const stranger = { sender: { id: 999 }, senderFrame: { url: 'http://127.0.0.1:46590/', parent: null } };
    expect(await ipc('kindtray:get-server', stranger)).toMatchObject({ error: { code: 'untrusted-sender' } });
  });

  it('run-fix, get-snapshot, open-external (allow-listed only), settings', async () => {
    await start();
    expect(await ipc('kindtray:run-fix', windowEvent(), 'start-cluster:dev')).toMatchObject({ result: { ok: true, fixId: 'start-cluster:dev' } });
    expect(await ipc('kindtray:get-snapshot', windowEvent())).toEqual({ result: { snapshot: healthy, ageMs: 5 } });
    expect(await ipc('kindtray:open-external', windowEvent(), 'http://127.0.0.1:8080/')).toEqual({ result: { opened: true } });
    expect(await ipc('kindtray:open-external', windowEvent(), 'https://evil.example/')).toMatchObject({ error: { code: 'not-allowed' } });
    expect(electron.openedExternal).toEqual(['http://127.0.0.1:8080/']);
    expect(await ipc('kindtray:set-notifications', windowEvent(), false)).toEqual({ result: { startAtLogin: false, startAtLoginSupported: true, notifications: false } });
    expect(await ipc('kindtray:set-start-at-login', windowEvent(), true)).toMatchObject({ result: { startAtLogin: true } });
    // Saved to settings.json, next to what else is there.
    const saved = JSON.parse((await import('node:fs')).readFileSync(join(home, 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ notifications: false, startAtLogin: true, port: 46590 });
    // And notifications are now off.
    supervisor.publish(dockerStopped);
    expect(electron.notifications).toEqual([]);
  });

  it('a broken settings.json is not overwritten: the setter answers {error}', async () => {
    writeFileSync(join(home, 'settings.json'), '{ not json');
    await start();
    expect(await ipc('kindtray:set-notifications', windowEvent(), false)).toMatchObject({ error: { code: 'failed', message: expect.stringContaining('not saved') } });
  });
});

describe('quitting', () => {
  it('Quit stops the supervisor and its children, disposes the prober, removes server.json, then lets the app quit', async () => {
    await start();
    const serverFile = supervisor.paths.serverFile;
    writeFileSync(serverFile, JSON.stringify({ pid: process.pid, port: 46590, token: 'tok-123', startedAt: new Date().toISOString(), version: '0.1.0' }));
    clickTray('Quit');
    expect(electron.called('app.quit:proceeded')).toHaveLength(0);
    await vi.waitFor(() => expect(electron.called('app.quit:proceeded')).toHaveLength(1));
    expect(supervisor.stop).toHaveBeenCalledTimes(1);
    expect(prober.dispose).toHaveBeenCalledTimes(1);
    expect(existsSync(serverFile)).toBe(false);
    expect(electron.trays[0]!.destroyed).toBe(true);
    expect(follow.stopped).toBe(true);
    expect(electron.ipcHandlers.size).toBe(0);
    expect(process.listenerCount('kindtray-stopped' as never)).toBe(0);
  });

  it('`kindtray server stop` (the supervisor stopped itself) quits without stopping it twice', async () => {
    await start();
    process.emit('kindtray-stopped' as never);
    await vi.waitFor(() => expect(electron.called('app.quit:proceeded')).toHaveLength(1));
    expect(supervisor.stop).not.toHaveBeenCalled();
    expect(prober.dispose).toHaveBeenCalledTimes(1);
  });

  it('a supervisor that does not stop in time does not keep the app from quitting', async () => {
    vi.useFakeTimers();
    try {
      await start();
      supervisor.stop.mockImplementation(() => new Promise(() => undefined));
      electron.app.quit();
      await vi.advanceTimersByTimeAsync(7_000);
      expect(electron.called('app.quit:proceeded')).toHaveLength(1);
      expect(supervisor.log).toHaveBeenCalledWith(expect.stringContaining('exiting anyway'));
    } finally {
      vi.useRealTimers();
    }
  });
});
