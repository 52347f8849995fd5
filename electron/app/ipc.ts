// The main process's side of the bridge: one ipcMain.handle per channel of
// shared/ipc.ts, each wrapped so that it answers `{ result }` or `{ error }`
// and never throws across. Before a handler runs, the sender is checked (only
// the dashboard window's top frame on the supervisor's origin) and the
// arguments are parsed; handlers then get typed values.

import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS, PARSE_ARGS, type ArgsOf, type InvokeChannel, type IpcAnswer, type IpcErrorCode, type ResultOf } from '../../shared/ipc.ts';

export type IpcHandlers = { [C in InvokeChannel]: (...args: ArgsOf<C>) => ResultOf<C> | Promise<ResultOf<C>> };

/** A refusal a handler means (a URL off the allow-list, say), as opposed to a failure. */
export class IpcRefusal extends Error {
  override readonly name = 'IpcRefusal';
  readonly code: IpcErrorCode;
  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type SenderCheck = (event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>) => boolean;

/** Answers one call: sender, then arguments, then the handler; whatever happens, a value. */
export async function answer<C extends InvokeChannel>(
  channel: C,
  handlers: IpcHandlers,
  trusted: boolean,
  rawArgs: readonly unknown[],
): Promise<IpcAnswer<ResultOf<C>>> {
  if (!trusted) return { error: { code: 'untrusted-sender', message: `${channel} answers only the Kindtray dashboard window` } };
  const parsed = (PARSE_ARGS[channel] as (args: readonly unknown[]) => ArgsOf<C> | { problem: string })(rawArgs);
  if (!Array.isArray(parsed)) return { error: { code: 'bad-request', message: (parsed as { problem: string }).problem } };
  const handler = handlers[channel] as (...args: ArgsOf<C>) => ResultOf<C> | Promise<ResultOf<C>>;
  try {
    return { result: await handler(...parsed) };
  } catch (e) {
    if (e instanceof IpcRefusal) return { error: { code: e.code, message: e.message } };
    return { error: { code: 'failed', message: e instanceof Error ? e.message : String(e) } };
  }
}

/** Registers every channel; returns a function that removes them again. */
export function registerIpc(handlers: IpcHandlers, isTrustedSender: SenderCheck): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      let trusted = false;
      try {
        trusted = isTrustedSender(event);
      } catch {
        // A sender we cannot even inspect is not trusted.
      }
      return answer(channel, handlers, trusted, args);
    });
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}
