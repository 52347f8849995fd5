// `kindtray serve`: the supervisor, the API worker and the dashboard, headless,
// in the foreground until Ctrl-C (or `kindtray server stop`).

import { AlreadyRunningError, Supervisor } from '../supervisor/index.ts';
import { EXIT, UsageError, type CommandContext } from './context.ts';

export function parsePort(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a whole number from 1 to 65535, not "${String(value)}"`);
  return port;
}

export async function serveCommand(ctx: CommandContext, values: Record<string, unknown>): Promise<number> {
  const port = parsePort(values.port);
  const supervisor = new Supervisor({ env: ctx.env, ...(port !== undefined ? { port } : {}), log: (l) => ctx.err(`kindtray: ${l}`) });
  let started;
  try {
    started = await supervisor.start();
  } catch (e) {
    if (e instanceof AlreadyRunningError) {
      ctx.err(`kindtray: ${e.message}; use \`kindtray server restart\` to replace it`);
      return EXIT.notOk;
    }
    throw e;
  }
  // The signal handlers go in before anything announces the server: a SIGTERM that arrives before
  // Node has a listener gets the default action (the process dies on the spot, server.json left behind).
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      supervisor
        .stop()
        .catch((e: unknown) => ctx.err(`kindtray: stopping: ${e instanceof Error ? e.message : String(e)}`))
        .finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('kindtray-stopped' as never, resolve);
  });
  if (ctx.json) {
    ctx.out(JSON.stringify({ port: started.port, pid: process.pid, url: started.url, dashboard: started.dashboardUrl(), movedFrom: started.movedFrom }));
  } else {
    if (started.movedFrom) ctx.err(`kindtray: port ${started.movedFrom.port} is held by ${started.movedFrom.holder}; serving on ${started.port} instead`);
    if (started.replacedPid) ctx.err(`kindtray: replaced a Kindtray that held the port but did not answer (pid ${started.replacedPid})`);
    ctx.out(`Kindtray is serving on ${started.url} (pid ${process.pid})`);
    ctx.out(`Dashboard: ${started.dashboardUrl()}`);
    ctx.out('Press Ctrl-C to stop.');
  }
  await stopped;
  return EXIT.ok;
}
