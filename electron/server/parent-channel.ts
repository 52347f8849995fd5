// The worker's line to its supervisor: Electron's parentPort in a
// utilityProcess, Node's IPC channel in a forked child.

export interface ParentChannel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onDisconnect(listener: () => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function parentChannel(): ParentChannel {
  const port = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (port) {
    return {
      send: (m) => port.postMessage(m),
      onMessage: (l) => port.on('message', (e) => l(e.data)),
      // A utilityProcess dies with its parent.
      onDisconnect: () => undefined,
    };
  }
  if (!process.send) throw new Error('the API worker must be started by the Kindtray supervisor (no IPC channel)');
  return {
    send: (m) => {
      if (process.connected) process.send?.(m);
    },
    onMessage: (l) => process.on('message', l),
    onDisconnect: (l) => process.on('disconnect', l),
  };
}
