// What a child process is to Kindtray, whichever way it was started: Node's
// child_process.fork when headless, Electron's utilityProcess in the app. The
// launcher is the one thing that differs; everything above it (handshake,
// deadlines, kill, exit) is written once, in child.ts.

export interface ChildHandle {
  readonly pid: number | undefined;
  /** Posts a message; a child that already exited gets nothing (and no error). */
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Once, when the process has ended. A utility process reports its code only. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /**
   * Ends the process. The default, SIGKILL, is a kill that really kills: a
   * hung child never runs a handler, and on POSIX the forked child leads its
   * own process group, so what it spawned synchronously goes with it.
   */
  kill(signal?: NodeJS.Signals): void;
}

export interface LaunchOptions {
  /** What the child is called in Electron's process list and crash reports. */
  name?: string;
}

/** Starts `modulePath` as a Node module in a child process whose environment is `env`. */
export type ChildLauncher = (modulePath: string, env: NodeJS.ProcessEnv, opts?: LaunchOptions) => ChildHandle;
