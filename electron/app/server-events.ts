// The supervisor's event stream (GET /api/events), read by the main process
// for what the monitor does not carry: task changes, for the "task finished"
// notification. It is the same public stream the dashboard reads, with the
// same token. Reconnects with backoff while the app runs; stops at quit.

import { request, type ClientRequest } from 'node:http';
import type { ServerEvent } from '../../shared/api.ts';
import type { OperationEvent } from '../../shared/contracts/clusters.ts';

export interface ServerEventsOptions {
  /** `http://127.0.0.1:PORT` */
  url: string;
  token: string;
  /** `operation`: a cluster operation's news (shared/contracts/clusters.ts), for the tray's progress line. */
  onEvent: (event: ServerEvent | OperationEvent) => void;
  log?: (line: string) => void;
  /** First wait before reconnecting; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface ServerEventsFollower {
  stop(): void;
}

/** Splits an SSE byte stream into events; returns the unparsed rest. */
export function parseSse(buffer: string, onData: (event: string, data: string) => void): string {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) onData(event, data.join('\n'));
  }
  return rest;
}

const isServerEvent = (v: unknown): v is ServerEvent | OperationEvent =>
  typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && ['snapshot', 'task', 'fix', 'operation'].includes((v as { type: string }).type);

export function followServerEvents(opts: ServerEventsOptions): ServerEventsFollower {
  const base = opts.retryMs ?? 1_000;
  const max = opts.maxRetryMs ?? 15_000;
  let wait = base;
  let stopped = false;
  let current: ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const again = (why: string) => {
    current = undefined;
    if (stopped) return;
    opts.log?.(`event stream: ${why}; again in ${wait} ms`);
    timer = setTimeout(connect, wait);
    timer.unref();
    wait = Math.min(max, wait * 2);
  };

  function connect(): void {
    if (stopped) return;
    let settled = false;
    const once = (why: string) => {
      if (settled) return;
      settled = true;
      again(why);
    };
    const req = request(`${opts.url}/api/events`, { headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        once(`answered ${res.statusCode}`);
        return;
      }
      wait = base;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer = parseSse(buffer + chunk, (_event, data) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(data);
          } catch {
            return;
          }
          if (isServerEvent(parsed)) opts.onEvent(parsed);
        });
      });
      res.on('end', () => once('ended'));
      res.on('error', (e) => once(e.message));
    });
    req.on('error', (e) => once(e.message));
    req.end();
    current = req;
  }

  connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      current?.destroy();
    },
  };
}
