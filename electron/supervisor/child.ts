// A child process as the supervisor sees it, whether it came from Node's
// child_process.fork (headless) or Electron's utilityProcess (the app).

import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ChildLike {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type LaunchChild = (modulePath: string, env: NodeJS.ProcessEnv) => ChildLike;

/** The default launcher: a Node child with an IPC channel, its output passed through. */
export const forkChild: LaunchChild = (modulePath, env) => {
  const child = fork(modulePath, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  // An IPC write to a child that just died raises EPIPE on the channel; the exit handler reports it.
  child.on('error', () => undefined);
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => {
      if (child.connected) child.send(m as never, (err) => void err);
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
};

/**
 * Resolves a module next to `fromUrl`: the `.ts` source when running from the
 * repository (Node strips the types), the compiled `.js` in a packaged build.
 */
export function moduleBeside(fromUrl: string, relativeWithoutExtension: string): string {
  for (const ext of ['.ts', '.js']) {
    const path = fileURLToPath(new URL(`${relativeWithoutExtension}${ext}`, fromUrl));
    if (existsSync(path)) return path;
  }
  throw new Error(`cannot find ${relativeWithoutExtension} beside ${fileURLToPath(fromUrl)}`);
}
