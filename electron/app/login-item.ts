// Start at login. macOS and Windows keep login items themselves
// (app.setLoginItemSettings); Electron does nothing there on Linux, where the
// freedesktop way is a .desktop file in ~/.config/autostart, so we write one.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { app } from 'electron';

export interface LoginItem {
  /** False where Kindtray cannot start at login on this platform. */
  readonly supported: boolean;
  enabled(): boolean;
  /** Turns it on or off; answers the state afterwards. */
  set(enabled: boolean): boolean;
}

export interface LoginItemOptions {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

export const AUTOSTART_FILE_NAME = 'kindtray.desktop';

/** Started from a login item: stay in the tray, open no window. */
export const HIDDEN_FLAG = '--hidden';

/** The command that starts this app at login: the AppImage when we run from one, else Electron with our app; hidden. */
export function launchCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.APPIMAGE) return [env.APPIMAGE, HIDDEN_FLAG];
  return app.isPackaged ? [process.execPath, HIDDEN_FLAG] : [process.execPath, app.getAppPath(), HIDDEN_FLAG];
}

/** freedesktop Exec quoting: each argument in double quotes, with ", `, $ and \ escaped. */
const quoteExec = (arg: string): string => `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;

export function autostartEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Kindtray',
    'Comment=Local KinD clusters at a glance',
    `Exec=${command.map(quoteExec).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

function linuxLoginItem(env: NodeJS.ProcessEnv, home: string): LoginItem {
  const dir = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'autostart');
  const file = join(dir, AUTOSTART_FILE_NAME);
  const enabled = (): boolean => {
    try {
      return !/^X-GNOME-Autostart-enabled=false$/m.test(readFileSync(file, 'utf8')) && !/^Hidden=true$/m.test(readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
  };
  return {
    supported: true,
    enabled,
    set(on) {
      if (on) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, autostartEntry(launchCommand(env)), { mode: 0o644 });
      } else {
        rmSync(file, { force: true });
      }
      return enabled();
    },
  };
}

export function loginItem(opts: LoginItemOptions = {}): LoginItem {
  const platform = opts.platform ?? process.platform;
  if (platform === 'darwin' || platform === 'win32') {
    return {
      supported: true,
      enabled: () => app.getLoginItemSettings({ args: [HIDDEN_FLAG] }).openAtLogin,
      set(on) {
        // `args` is read on Windows; macOS says wasOpenedAtLogin instead.
        app.setLoginItemSettings({ openAtLogin: on, args: [HIDDEN_FLAG] });
        return app.getLoginItemSettings({ args: [HIDDEN_FLAG] }).openAtLogin;
      },
    };
  }
  if (platform === 'linux') return linuxLoginItem(opts.env ?? process.env, opts.home ?? homedir());
  return { supported: false, enabled: () => false, set: () => false };
}
