// The preload, run the way a sandboxed Electron renderer runs it: compiled to
// CommonJS as the build does, then called as a function of (require, process,
// Buffer, global, setImmediate, clearImmediate, exports, module) whose require
// knows 'electron' only. So this proves both what the bridge does and that
// the compiled preload needs nothing else at run time.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS, type KindtrayBridge } from '../../shared/ipc.ts';
import { electron, electronModule } from './testing/electron-double.ts';

const SOURCE = fileURLToPath(new URL('./preload.cts', import.meta.url));

function compiledPreload(): string {
  const out = ts.transpileModule(readFileSync(SOURCE, 'utf8'), {
    fileName: SOURCE,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  return out.outputText;
}

/** Runs the preload in a sandbox-shaped function; answers the modules it asked for and what it exposed. */
function runPreload(): { required: string[]; bridge: KindtrayBridge } {
  electron.reset();
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electronModule;
    throw new Error(`module not found: ${name} (a sandboxed preload can require only electron and a few built-ins)`);
  };
  const module = { exports: {} };
  const run = new Function('require', 'process', 'Buffer', 'global', 'setImmediate', 'clearImmediate', 'exports', 'module', compiledPreload());
  run(sandboxRequire, {}, undefined, globalThis, setImmediate, clearImmediate, module.exports, module);
  return { required, bridge: electron.exposed.get('kindtray') as KindtrayBridge };
}

let loaded: ReturnType<typeof runPreload>;
beforeAll(() => {
  loaded = runPreload();
});

describe('the preload', () => {
  it('requires electron and nothing else, and exposes window.kindtray once', () => {
    expect(loaded.required).toEqual(['electron']);
    expect(electron.called('contextBridge.exposeInMainWorld')).toEqual([{ what: 'contextBridge.exposeInMainWorld', args: ['kindtray'] }]);
  });

  it('exposes functions only: no ipcRenderer, no way to pick a channel', () => {
    const bridge = loaded.bridge as unknown as Record<string, unknown>;
    expect(Object.keys(bridge).sort()).toEqual(
      ['getDesktopSettings', 'getServer', 'getSnapshot', 'onSnapshot', 'openExternal', 'runFix', 'setNotifications', 'setStartAtLogin'].sort(),
    );
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true);
  });

  it('each method invokes its channel with its arguments, covering every channel of shared/ipc.ts', async () => {
    const { bridge } = loaded;
    electron.ipcRenderer.invoked = [];
    electron.ipcRenderer.answer = (channel) => Promise.resolve({ result: channel });
    await bridge.getServer();
    await bridge.getSnapshot();
    await bridge.runFix('start-cluster:dev');
    await bridge.openExternal('http://127.0.0.1:8080/');
    await bridge.getDesktopSettings();
    await bridge.setStartAtLogin(true);
    expect(await bridge.setNotifications(false)).toEqual({ result: 'kindtray:set-notifications' });
    expect(electron.ipcRenderer.invoked).toEqual([
      { channel: 'kindtray:get-server', args: [] },
      { channel: 'kindtray:get-snapshot', args: [] },
      { channel: 'kindtray:run-fix', args: ['start-cluster:dev'] },
      { channel: 'kindtray:open-external', args: ['http://127.0.0.1:8080/'] },
      { channel: 'kindtray:get-desktop-settings', args: [] },
      { channel: 'kindtray:set-start-at-login', args: [true] },
      { channel: 'kindtray:set-notifications', args: [false] },
    ]);
    expect(electron.ipcRenderer.invoked.map((c) => c.channel).sort()).toEqual([...INVOKE_CHANNELS].sort());
  });

  it('a failed invoke (no handler, main gone) resolves {error}; it never rejects in the page', async () => {
    electron.ipcRenderer.answer = () => Promise.reject(new Error("No handler registered for 'kindtray:get-server'"));
    await expect(loaded.bridge.getServer()).resolves.toEqual({ error: { code: 'failed', message: "No handler registered for 'kindtray:get-server'" } });
  });

  it('onSnapshot hands over the payload only, and its return value unsubscribes', () => {
    const seen: unknown[] = [];
    const off = loaded.bridge.onSnapshot((s) => seen.push(s));
    electron.ipcRenderer.emit('kindtray:snapshot', { sender: 'the IPC event must not reach the page' }, { overall: 'error' });
    off();
    electron.ipcRenderer.emit('kindtray:snapshot', {}, { overall: 'ok' });
    expect(seen).toEqual([{ overall: 'error' }]);
    expect(electron.ipcRenderer.listenerCount('kindtray:snapshot')).toBe(0);
  });
});
