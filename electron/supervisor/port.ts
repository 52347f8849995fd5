// Getting the public port. If it is taken by a stale Kindtray (known from
// server.json, and its process is Kindtray but does not answer), that process
// is replaced. Anything else holding the port is never killed: we name it and
// move to the next free port.

import { request, type Server } from 'node:http';
import { withDeadline } from '../../shared/deadline.ts';
import { findPortHolder, isAlive, isKindtrayProcess, stopProcess, type PortHolder } from './processes.ts';
import { readServerFile, type ServerFile } from './server-file.ts';

export const LOOPBACK = '127.0.0.1';
/** How many ports after the wanted one we try before giving up. */
const PORT_SEARCH = 20;

export type PortOutcome =
  | { kind: 'listening'; port: number; replaced?: { pid: number; why: string }; movedFrom?: { port: number; holder: PortHolder } }
  | { kind: 'already-running'; info: ServerFile };

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE') resolve(false);
      else reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host: LOOPBACK, exclusive: true });
  });
}

/** Whether the Kindtray at `port` answers its health route within `ms`. */
export async function answersHealth(port: number, ms = 1_000): Promise<boolean> {
  try {
    return await withDeadline(`Kindtray on port ${port}`, ms, (signal) =>
      new Promise<boolean>((resolve) => {
        const req = request({ host: LOOPBACK, port, path: '/api/health', signal }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.end();
      }),
    );
  } catch {
    return false;
  }
}

/** Whether server.json describes a live Kindtray on `port` (alive, and its command line says so). */
export function kindtrayOnPort(serverFile: string, port: number): ServerFile | undefined {
  const info = readServerFile(serverFile);
  if (!info || info.port !== port || info.pid === process.pid) return undefined;
  if (!isAlive(info.pid) || isKindtrayProcess(info.pid) === false) return undefined;
  return info;
}

export async function acquirePort(server: Server, opts: { port: number; serverFile: string; log?: (line: string) => void }): Promise<PortOutcome> {
  const log = opts.log ?? (() => undefined);
  if (await listen(server, opts.port)) return { kind: 'listening', port: opts.port };

  const info = kindtrayOnPort(opts.serverFile, opts.port);
  if (info) {
    if (await answersHealth(opts.port)) return { kind: 'already-running', info };
    const why = `Kindtray pid ${info.pid} holds port ${opts.port} but does not answer`;
    log(`${why}; replacing it`);
    await stopProcess(info.pid);
    // The kernel frees the port as the process dies; give it a moment.
    for (let i = 0; i < 40; i++) {
      if (await listen(server, opts.port)) return { kind: 'listening', port: opts.port, replaced: { pid: info.pid, why } };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const holder = (await findPortHolder(opts.port).catch(() => undefined)) ?? { description: 'an unknown program' };
  for (let port = opts.port + 1; port <= Math.min(65535, opts.port + PORT_SEARCH); port++) {
    if (await listen(server, port)) {
      log(`port ${opts.port} is held by ${holder.description}; Kindtray listens on ${port} instead`);
      return { kind: 'listening', port, movedFrom: { port: opts.port, holder } };
    }
  }
  throw new Error(`port ${opts.port} is held by ${holder.description}, and the next ${PORT_SEARCH} ports are taken too; set another port in settings or with --port`);
}
