// One child process, as every part of Kindtray that starts one sees it: a
// ready handshake with a deadline, typed messages (parsed, since they cross a
// process boundary), a kill that really kills, and its exit, reported once.

import type { z } from 'zod';
import { forkLauncher } from './fork.ts';
import type { ChildHandle, ChildLauncher } from './types.ts';

export interface ChildExit {
  code: number | null;
  signal: string | null;
}

export interface StartChildOptions<Message, Ready> {
  /** Default forkLauncher; Electron supplies utilityProcess. */
  launch?: ChildLauncher;
  modulePath: string;
  env: NodeJS.ProcessEnv;
  /** What the child is called (Electron's process list, error messages). */
  name: string;
  /** Every message from the child is parsed with this; what does not parse is dropped. */
  messages: z.ZodType<Message>;
  /** The handshake: picks the child's "I am ready" out of its messages. */
  isReady: (message: Message) => Ready | undefined;
  /** Not ready by then: the child is killed and `ready` rejects. */
  readyDeadlineMs: number;
}

export class Child<Message, Ready = Message, Request = unknown> {
  readonly name: string;
  /** Resolves with the ready message; rejects at the deadline (the child is then killed) or when it exits first. */
  readonly ready: Promise<Ready>;
  /** Resolves when the process has ended, however it ended. */
  readonly exited: Promise<ChildExit>;
  private readonly handle: ChildHandle;
  private readonly listeners = new Set<(m: Message) => void>();
  private readonly exitListeners = new Set<(e: ChildExit) => void>();
  private exit: ChildExit | undefined;
  private killed = false;
  private isReady = false;

  constructor(opts: StartChildOptions<Message, Ready>) {
    this.name = opts.name;
    const launch = opts.launch ?? forkLauncher;
    this.handle = launch(opts.modulePath, opts.env, { name: opts.name });
    let onReady: (r: Ready) => void = () => undefined;
    let notReady: (e: Error) => void = () => undefined;
    this.ready = new Promise<Ready>((resolve, reject) => {
      onReady = resolve;
      notReady = reject;
    });
    // Nobody may be waiting for it; a rejection nobody hears is not an error.
    this.ready.catch(() => undefined);
    let exited: (e: ChildExit) => void = () => undefined;
    this.exited = new Promise<ChildExit>((resolve) => (exited = resolve));

    const deadline = setTimeout(() => {
      notReady(new Error(`${this.name} did not start in ${opts.readyDeadlineMs / 1000} s`));
      this.kill();
    }, opts.readyDeadlineMs);
    deadline.unref?.();

    this.handle.onMessage((raw) => {
      const parsed = opts.messages.safeParse(raw);
      if (!parsed.success) return;
      const m = parsed.data;
      if (!this.isReady) {
        const r = opts.isReady(m);
        if (r !== undefined) {
          this.isReady = true;
          clearTimeout(deadline);
          onReady(r);
          return;
        }
      }
      for (const l of this.listeners) l(m);
    });
    this.handle.onExit((code, signal) => {
      if (this.exit) return;
      clearTimeout(deadline);
      this.exit = { code, signal };
      notReady(new Error(`${this.name} exited before it was ready (${describeExit(this.exit)})`));
      exited(this.exit);
      for (const l of this.exitListeners) l(this.exit);
    });
  }

  get pid(): number | undefined {
    return this.handle.pid;
  }

  /** Neither exited nor killed. */
  get alive(): boolean {
    return !this.exit && !this.killed;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  get readyNow(): boolean {
    return this.isReady && this.alive;
  }

  send(message: Request): void {
    if (!this.exit) this.handle.send(message);
  }

  /** Every parsed message but the ready one. */
  onMessage(listener: (message: Message) => void): void {
    this.listeners.add(listener);
  }

  /** Called once when the process ends (at once if it already has). */
  onExit(listener: (exit: ChildExit) => void): void {
    if (this.exit) listener(this.exit);
    else this.exitListeners.add(listener);
  }

  /** SIGKILL (to its process group where it leads one). Idempotent. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit || (this.killed && signal === 'SIGKILL')) return;
    if (signal === 'SIGKILL') this.killed = true;
    this.handle.kill(signal);
  }
}

/** Starts a child; throws when the launcher cannot start one at all. */
export function startChild<Message, Ready, Request = unknown>(opts: StartChildOptions<Message, Ready>): Child<Message, Ready, Request> {
  return new Child<Message, Ready, Request>(opts);
}

/** "code 1", "SIGKILL": how a child ended, in words. */
export function describeExit(e: ChildExit): string {
  return e.signal ?? `code ${String(e.code)}`;
}
