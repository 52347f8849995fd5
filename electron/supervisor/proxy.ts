// Forwards /api/* to the API worker with a deadline. A worker that does not
// answer costs the caller one clear 503/504, never a hang; a worker that is
// replaced mid-request ends the request at once.

import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { INTERNAL_SECRET_HEADER } from '../../shared/contracts/worker.ts';
import { FIXES } from '../../shared/fixes.ts';
import { sendJson } from '../http/index.ts';
import type { ApiWorker } from './worker.ts';

/** Requests that stream (logs with follow) have no total deadline, only one for the first byte. */
export const PROXY_DEADLINE_MS = 10_000;

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'];

export function proxyToWorker(req: IncomingMessage, res: ServerResponse, worker: ApiWorker, secret: string, url: URL): void {
  const port = worker.port;
  const generation = worker.signal;
  if (port === undefined || !generation || generation.aborted || worker.state === 'restarting' || worker.state === 'starting') {
    sendJson(res, 503, { error: 'the API worker is restarting; try again in a moment' }, { 'retry-after': '1' });
    req.resume();
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.includes(k) || k === 'authorization' || k === 'cookie' || k === 'host') continue;
    headers[k] = v;
  }
  headers[INTERNAL_SECRET_HEADER] = secret;

  const abort = new AbortController();
  let finished = false;
  const fail = (status: number, error: string) => {
    if (finished) return;
    finished = true;
    abort.abort();
    if (res.headersSent) res.destroy();
    else sendJson(res, status, { error, fix: FIXES.restartServer });
  };
  const timer = setTimeout(
    () => fail(504, `the API worker did not answer in ${PROXY_DEADLINE_MS / 1000} s; the watchdog restarts it if it is hung`),
    PROXY_DEADLINE_MS,
  );
  const onRestart = () => fail(503, `${String((generation.reason as Error | undefined)?.message ?? 'the API worker was restarted')}; try again`);
  generation.addEventListener('abort', onRestart, { once: true });
  const cleanup = () => {
    clearTimeout(timer);
    generation.removeEventListener('abort', onRestart);
  };
  res.on('close', () => {
    cleanup();
    if (!finished) abort.abort();
  });

  const upstream = request(
    { host: '127.0.0.1', port, method: req.method, path: url.pathname + url.search, headers, signal: abort.signal },
    (answer) => {
      // Headers arrived: the worker is alive; a stream may now take as long as it needs.
      clearTimeout(timer);
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.on('end', () => {
        finished = true;
        cleanup();
      });
      answer.on('error', () => fail(502, 'the API worker closed the connection'));
    },
  );
  upstream.on('error', () => fail(502, 'the API worker closed the connection'));
  req.pipe(upstream);
}
