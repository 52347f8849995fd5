// Kindtray's child processes as Electron utility processes: the one adapter
// from utilityProcess to the process room's launcher type. The API worker and
// the Kubernetes child already speak `process.parentPort` when it is there, so
// this only translates names: postMessage for send, the 'exit' event, and a
// kill that is really a kill.

import { utilityProcess } from 'electron';
import type { ChildLauncher } from '../process/index.ts';

/** What a child is called in Electron's process list when its starter names none. */
export const DEFAULT_SERVICE_NAME = 'Kindtray child';

export const utilityLauncher: ChildLauncher = (modulePath, env, opts) => {
  // stdin is always 'ignore' for a utility process; its output goes where ours goes.
  const proc = utilityProcess.fork(modulePath, [], { env: { ...env }, serviceName: opts?.name ?? DEFAULT_SERVICE_NAME, stdio: 'inherit' });
  let exited = false;
  proc.on('exit', () => {
    exited = true;
  });
  return {
    get pid() {
      return proc.pid;
    },
    send: (message) => {
      if (!exited) proc.postMessage(message);
    },
    onMessage: (listener) => {
      proc.on('message', (message: unknown) => listener(message));
    },
    // A utility process reports its exit code only; a signal shows as a non-zero code.
    onExit: (listener) => {
      proc.on('exit', (code) => listener(code, null));
    },
    // utilityProcess.kill() sends SIGTERM, which a child whose event loop is blocked never acts on
    // (and a hung child is exactly why we kill it), so SIGKILL goes through process.kill.
    // Credential helpers a Kubernetes child starts run in process groups its parent ends itself.
    kill: (signal = 'SIGKILL') => {
      if (exited) return;
      const pid = proc.pid;
      if (signal === 'SIGTERM' || pid === undefined) {
        proc.kill();
        return;
      }
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone: its 'exit' event says the rest.
        proc.kill();
      }
    },
  };
};
