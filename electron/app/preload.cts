// The dashboard window's preload: `window.kindtray`, one small typed API, and
// nothing else. The window is sandboxed, so this runs as a CommonJS script
// whose require() knows only 'electron' (and a few Node built-ins): it imports
// nothing of ours at run time, only types, and tsc compiles it to a single
// self-contained preload.cjs. The channel names are written out here rather
// than imported, and checked against shared/ipc.ts by the compiler.
//
// Nothing is thrown across the bridge: a failed invoke becomes `{ error }`,
// and a subscriber sees only the payload, never the IPC event (which would
// hand the page a way to send on any channel).

import type { IpcRenderer, IpcRendererEvent } from 'electron';
import type { ArgsOf, EventChannel, IpcAnswer, IpcEventMap, InvokeChannel, KindtrayBridge, ResultOf } from '../../shared/ipc.ts';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS; this is its one import
const electron = require('electron') as typeof import('electron');

function createBridge(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): KindtrayBridge {
  const invoke = <C extends InvokeChannel>(channel: C, ...args: ArgsOf<C>): Promise<IpcAnswer<ResultOf<C>>> =>
    ipc.invoke(channel, ...args).then(
      (answer: IpcAnswer<ResultOf<C>>) => answer,
      (e: unknown): IpcAnswer<ResultOf<C>> => ({ error: { code: 'failed', message: e instanceof Error ? e.message : String(e) } }),
    );

  const subscribe = <E extends EventChannel>(channel: E, listener: (payload: IpcEventMap[E]) => void): (() => void) => {
    const relay = (_event: IpcRendererEvent, payload: IpcEventMap[E]) => listener(payload);
    ipc.on(channel, relay);
    return () => {
      ipc.removeListener(channel, relay);
    };
  };

  return {
    getServer: () => invoke('kindtray:get-server'),
    getSnapshot: () => invoke('kindtray:get-snapshot'),
    onSnapshot: (listener) => subscribe('kindtray:snapshot', listener),
    runFix: (fixId) => invoke('kindtray:run-fix', fixId),
    openExternal: (url) => invoke('kindtray:open-external', url),
    getDesktopSettings: () => invoke('kindtray:get-desktop-settings'),
    setStartAtLogin: (enabled) => invoke('kindtray:set-start-at-login', enabled),
    setNotifications: (enabled) => invoke('kindtray:set-notifications', enabled),
  };
}

// BRIDGE_GLOBAL of shared/ipc.ts, written out (a type-only import cannot carry a value) and checked against it.
const BRIDGE_GLOBAL: typeof import('../../shared/ipc.ts').BRIDGE_GLOBAL = 'kindtray';
electron.contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, createBridge(electron.ipcRenderer));
