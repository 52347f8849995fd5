import { beforeEach, describe, expect, it, vi } from 'vitest';
import { INVOKE_CHANNELS, type IpcAnswer } from '../../shared/ipc.ts';
import { withProblems } from '../../shared/problems.ts';
import { healthyInput } from '../../shared/snapshot-fixtures.ts';
import { IpcRefusal, registerIpc, type IpcHandlers } from './ipc.ts';
import { electron } from './testing/electron-double.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

const snapshot = withProblems(healthyInput());

function handlers(overrides: Partial<IpcHandlers> = {}): IpcHandlers {
  const settings = { startAtLogin: false, startAtLoginSupported: true, notifications: true };
  return {
    'kindtray:get-server': () => ({ url: 'http://127.0.0.1:46590', token: 't0k', version: '0.1.0' }),
    'kindtray:get-snapshot': () => ({ snapshot, ageMs: 12 }),
    'kindtray:run-fix': async (id) => ({ ok: true, fixId: id, message: 'done', durationMs: 5 }),
    'kindtray:open-external': () => ({ opened: true }),
    'kindtray:get-desktop-settings': () => settings,
    'kindtray:set-start-at-login': (on) => ({ ...settings, startAtLogin: on }),
    'kindtray:set-notifications': (on) => ({ ...settings, notifications: on }),
    ...overrides,
  };
}

/** Calls a registered handler the way ipcMain would. */
const call = (channel: string, ...args: unknown[]) => electron.ipcHandlers.get(channel)!({ sender: { id: 1 }, senderFrame: null }, ...args) as Promise<IpcAnswer<unknown>>;

beforeEach(() => electron.reset());

describe('ipcMain handlers', () => {
  it('one handler per channel of shared/ipc.ts; disposing removes them all', () => {
    const dispose = registerIpc(handlers(), () => true);
    expect([...electron.ipcHandlers.keys()]).toEqual(INVOKE_CHANNELS);
    dispose();
    expect(electron.ipcHandlers.size).toBe(0);
    expect(electron.called('ipcMain.removeHandler').map((c) => c.args[0])).toEqual(INVOKE_CHANNELS);
  });

  it('answer {result} with what the handler gives', async () => {
    registerIpc(handlers(), () => true);
    expect(await call('kindtray:get-server')).toEqual({ result: { url: 'http://127.0.0.1:46590', token: 't0k', version: '0.1.0' } });
    expect(await call('kindtray:get-snapshot')).toEqual({ result: { snapshot, ageMs: 12 } });
    expect(await call('kindtray:run-fix', 'start-docker')).toEqual({ result: { ok: true, fixId: 'start-docker', message: 'done', durationMs: 5 } });
    expect(await call('kindtray:set-notifications', false)).toMatchObject({ result: { notifications: false } });
  });

  it('a fix that ran and failed is a result, not an error', async () => {
    registerIpc(handlers({ 'kindtray:run-fix': async (id) => ({ ok: false, fixId: id, message: 'dockerd did not start in 20 s', durationMs: 20_000 }) }), () => true);
    expect(await call('kindtray:run-fix', 'start-docker')).toMatchObject({ result: { ok: false, message: 'dockerd did not start in 20 s' } });
  });

  it('a handler that throws answers {error}; nothing is thrown across', async () => {
    registerIpc(
      handlers({
        'kindtray:get-snapshot': () => {
          throw new Error('monitor exploded');
        },
        'kindtray:run-fix': () => Promise.reject(new TypeError('nope')),
        'kindtray:open-external': () => {
          throw new IpcRefusal('not-allowed', 'not on the allow-list');
        },
      }),
      () => true,
    );
    await expect(call('kindtray:get-snapshot')).resolves.toEqual({ error: { code: 'failed', message: 'monitor exploded' } });
    await expect(call('kindtray:run-fix', 'start-docker')).resolves.toEqual({ error: { code: 'failed', message: 'nope' } });
    await expect(call('kindtray:open-external', 'https://evil.example/')).resolves.toEqual({ error: { code: 'not-allowed', message: 'not on the allow-list' } });
  });

  it('arguments are parsed before a handler sees them', async () => {
    const runFix = vi.fn(async (id: string) => ({ ok: true, fixId: id, message: '', durationMs: 0 }));
    registerIpc(handlers({ 'kindtray:run-fix': runFix }), () => true);
    expect(await call('kindtray:run-fix', 'format-disk')).toEqual({ error: { code: 'bad-request', message: '"format-disk" is not a fix Kindtray knows' } });
    expect(await call('kindtray:run-fix', { id: 'start-docker' })).toMatchObject({ error: { code: 'bad-request' } });
    expect(await call('kindtray:set-start-at-login', 'yes')).toMatchObject({ error: { code: 'bad-request' } });
    expect(await call('kindtray:get-server', 'extra')).toMatchObject({ error: { code: 'bad-request' } });
    expect(runFix).not.toHaveBeenCalled();
  });

  it('a sender other than the dashboard window gets {error: untrusted-sender} and no handler runs', async () => {
    const getServer = vi.fn(() => ({ url: 'x', token: 'secret', version: '0' }));
    registerIpc(handlers({ 'kindtray:get-server': getServer }), () => false);
    expect(await call('kindtray:get-server')).toEqual({ error: { code: 'untrusted-sender', message: 'kindtray:get-server answers only the Kindtray dashboard window' } });
    expect(getServer).not.toHaveBeenCalled();
  });
});
