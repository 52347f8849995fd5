// Deadlines as values. Every call that waits on the outside world goes through
// `withDeadline`, so the answer at the deadline is a typed DeadlineError naming
// what did not answer, never a hang. Runs anywhere AbortSignal does.

export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  readonly what: string;
  readonly ms: number;
  constructor(what: string, ms: number) {
    super(`${what}: no answer in ${formatMs(ms)}`);
    this.what = what;
    this.ms = ms;
  }
}

export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 100 === 0 ? `${ms / 1000} s` : `${Math.round(ms)} ms`;
}

/**
 * Runs `work` with a signal that aborts after `ms` (or when `parent` aborts) and
 * rejects with DeadlineError at the deadline even if `work` ignores its signal.
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const error = new DeadlineError(what, ms);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(error);
      reject(error);
    }, ms);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason ?? error), { once: true });
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
    // Abort the work's signal so sockets and timers it holds are released.
    if (!controller.signal.aborted) controller.abort(new Error(`${what}: finished`));
  }
}

export function isDeadlineError(e: unknown): e is DeadlineError {
  return e instanceof DeadlineError;
}
