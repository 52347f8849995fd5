import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUTOSTART_FILE_NAME, HIDDEN_FLAG, autostartEntry, loginItem } from './login-item.ts';
import { electron } from './testing/electron-double.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

let dir: string;
beforeEach(() => {
  electron.reset();
  dir = mkdtempSync(join(tmpdir(), 'kindtray-login-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('start at login', () => {
  it('macOS and Windows: app.setLoginItemSettings, started hidden', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      electron.reset();
      const item = loginItem({ platform });
      expect(item.supported).toBe(true);
      expect(item.enabled()).toBe(false);
      expect(item.set(true)).toBe(true);
      expect(electron.called('app.setLoginItemSettings')).toEqual([{ what: 'app.setLoginItemSettings', args: [{ openAtLogin: true, args: [HIDDEN_FLAG] }] }]);
      expect(item.set(false)).toBe(false);
    }
  });

  it('Linux: an XDG autostart entry that starts the app hidden, removed when turned off', () => {
    const item = loginItem({ platform: 'linux', env: { XDG_CONFIG_HOME: dir, APPIMAGE: '/home/me/Apps/Kindtray.AppImage' } });
    const file = join(dir, 'autostart', AUTOSTART_FILE_NAME);
    expect(item.enabled()).toBe(false);
    expect(item.set(true)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('Exec="/home/me/Apps/Kindtray.AppImage" "--hidden"');
    expect(electron.called('app.setLoginItemSettings')).toEqual([]);
    expect(item.set(false)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('Linux without an AppImage, unpackaged: Electron with the app path', () => {
    const item = loginItem({ platform: 'linux', env: {}, home: dir });
    item.set(true);
    expect(readFileSync(join(dir, '.config', 'autostart', AUTOSTART_FILE_NAME), 'utf8')).toContain(`Exec="${process.execPath}" "/fake/app" "--hidden"`);
  });

  it('Exec arguments are quoted the freedesktop way', () => {
    expect(autostartEntry(['/opt/My "App"/$bin'])).toContain('Exec="/opt/My \\"App\\"/\\$bin"');
  });

  it('elsewhere it says it cannot', () => {
    const item = loginItem({ platform: 'freebsd' });
    expect(item.supported).toBe(false);
    expect(item.set(true)).toBe(false);
  });
});
