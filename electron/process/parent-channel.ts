// The child's side: its line to the process that started it. Electron's
// parentPort in a utilityProcess, Node's IPC channel in a forked child.

export interface ParentChannel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** The parent is gone (a forked child only: a utilityProcess dies with its parent). */
  onDisconnect(listener: () => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

/** The channel to our parent; throws when this process was not started as a child. */
export function parentChannel(): ParentChannel {
  const port = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (port) {
    return {
      send: (m) => port.postMessage(m),
      onMessage: (l) => port.on('message', (e) => l(e.data)),
      onDisconnect: () => undefined,
    };
  }
  if (!process.send) throw new Error('this module must be started by Kindtray as a child process (no IPC channel)');
  return {
    send: (m) => {
      if (process.connected) process.send?.(m, undefined, undefined, (err) => void err);
    },
    onMessage: (l) => process.on('message', (m: unknown) => l(m)),
    onDisconnect: (l) => process.on('disconnect', l),
  };
}
