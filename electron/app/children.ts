// Kindtray's child processes as Electron utility processes: the API worker
// (the supervisor's LaunchChild) and the Kubernetes probe (KubeProber's
// launcher). Both sides already speak `process.parentPort` when it is there,
// so these adapters only translate names: postMessage for send, the 'exit'
// event, and a kill that is really a kill.

import { utilityProcess, type UtilityProcess } from 'electron';
import type { KubeProber } from '../monitor/index.ts';
import type { ChildLike, LaunchChild } from '../supervisor/index.ts';

/** KubeProber's launcher option, as the monitor room declares it. */
export type ProbeLauncher = NonNullable<NonNullable<ConstructorParameters<typeof KubeProber>[0]>['launch']>;

/** What each child is called in Electron's process list and crash reports. */
export const SERVICE_NAMES = {
  worker: 'Kindtray API worker',
  probe: 'Kindtray Kubernetes probe',
} as const;

interface Tracked {
  proc: UtilityProcess;
  exited: boolean;
}

function fork(modulePath: string, env: NodeJS.ProcessEnv, serviceName: string): Tracked {
  // stdin is always 'ignore' for a utility process; its output goes where ours goes.
  const proc = utilityProcess.fork(modulePath, [], { env: { ...env }, serviceName, stdio: 'inherit' });
  const tracked: Tracked = { proc, exited: false };
  proc.on('exit', () => {
    tracked.exited = true;
  });
  return tracked;
}

/**
 * Ends the child. utilityProcess.kill() sends SIGTERM, which a process whose
 * event loop is blocked may never act on (and a hung worker is exactly why we
 * kill it), so SIGKILL, the supervisor's default, goes through process.kill.
 */
function end(t: Tracked, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (t.exited) return;
  const pid = t.proc.pid;
  if (signal === 'SIGTERM' || pid === undefined) {
    t.proc.kill();
    return;
  }
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: its 'exit' event says the rest.
    t.proc.kill();
  }
}

export function utilityChildLauncher(serviceName: string = SERVICE_NAMES.worker): LaunchChild {
  return (modulePath, env): ChildLike => {
    const t = fork(modulePath, env, serviceName);
    return {
      get pid() {
        return t.proc.pid;
      },
      send: (message) => {
        if (!t.exited) t.proc.postMessage(message);
      },
      onMessage: (listener) => {
        t.proc.on('message', (message: unknown) => listener(message));
      },
      // A utility process reports its exit code only; a signal shows as a non-zero code.
      onExit: (listener) => {
        t.proc.on('exit', (code) => listener(code, null));
      },
      kill: (signal) => end(t, signal),
    };
  };
}

export function utilityProbeLauncher(serviceName: string = SERVICE_NAMES.probe): ProbeLauncher {
  return (modulePath, env) => {
    const t = fork(modulePath, env, serviceName);
    return {
      get pid() {
        return t.proc.pid;
      },
      send: (message) => {
        if (!t.exited) t.proc.postMessage(message);
      },
      on(event: 'message' | 'exit', listener: (message: unknown) => void) {
        if (event === 'message') t.proc.on('message', (m: unknown) => listener(m));
        else t.proc.on('exit', () => listener(undefined));
      },
      // Credential helpers the probe starts run in their own process groups, which the prober ends itself.
      kill: () => end(t, 'SIGKILL'),
    };
  };
}
