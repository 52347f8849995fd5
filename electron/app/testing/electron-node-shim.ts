// `electron` for running the compiled main process under plain Node (see
// scripts/smoke.ts): the recording double, except that utilityProcess.fork
// really starts the child, with Node's IPC channel standing in for
// parentPort (the worker and the probe speak both).

import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { electron, electronModule } from './electron-double.ts';

(globalThis as { kindtrayElectronRecorder?: typeof electron }).kindtrayElectronRecorder = electron;

export const app = electronModule.app;
export const { Tray, BrowserWindow, Notification, Menu, nativeImage, session, shell, ipcMain, dialog, contextBridge } = electronModule;

export const utilityProcess = {
  fork(modulePath: string, args: string[] = [], options: { env?: NodeJS.ProcessEnv; serviceName?: string } = {}) {
    const child = fork(modulePath, args, { env: options.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const proc = Object.assign(new EventEmitter(), {
      get pid() {
        return child.pid;
      },
      postMessage: (message: unknown) => {
        if (child.connected) child.send(message as never);
      },
      kill: () => child.kill(),
    });
    child.on('message', (message) => proc.emit('message', message));
    child.on('exit', (code) => proc.emit('exit', code ?? 1));
    child.on('error', () => undefined);
    electron.record('utilityProcess.fork', modulePath, options.serviceName);
    return proc;
  },
};

export default { ...electronModule, app, utilityProcess };
