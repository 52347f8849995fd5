// The headless launcher: child_process.fork, the child leading its own process
// group on POSIX, so that one SIGKILL to the group also ends what it spawned
// (a credential helper run with execSync, say).

import { fork } from 'node:child_process';
import { getCompileCacheDir } from 'node:module';
import type { ChildHandle, ChildLauncher } from './types.ts';
import { CHILD_V8_FLAGS } from './v8-flags.ts';

const POSIX = process.platform !== 'win32';

/** SIGKILL to a process group (POSIX) or a process; one already gone is fine. */
export function killProcessGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(POSIX ? -pid : pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export const forkLauncher: ChildLauncher = (modulePath, env): ChildHandle => {
  // The parent's compile cache, from the child's first line: its entry module and every static import are read
  // from the cache instead of being type-stripped again, so the child never loads the type stripper (about 17 MiB).
  const cacheDir = getCompileCacheDir?.();
  const childEnv = cacheDir && env.NODE_COMPILE_CACHE === undefined ? { ...env, NODE_COMPILE_CACHE: cacheDir } : env;
  const child = fork(modulePath, [], {
    // Under Electron (a utilityProcess forking its own children), process.execPath is Electron: run it as Node.
    env: process.versions.electron ? { ...childEnv, ELECTRON_RUN_AS_NODE: '1' } : childEnv,
    execArgv: [...CHILD_V8_FLAGS],
    detached: POSIX,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Structured clone, so that binary data (a log's bytes) crosses as it is.
    serialization: 'advanced',
  });
  // An IPC write to a child that just died raises EPIPE on the channel; the exit handler reports it.
  child.on('error', () => undefined);
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => {
      if (child.connected) child.send(m as never, (err) => void err);
    },
    onMessage: (l) => child.on('message', (m: unknown) => l(m)),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: (signal = 'SIGKILL') => {
      if (gone()) return;
      if (signal === 'SIGKILL' && POSIX) killProcessGroup(child.pid);
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    },
  };
};
