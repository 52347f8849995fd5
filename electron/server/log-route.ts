// `GET /api/tasks/:id/logs`: a task's logs, plain text or server-sent events
// (shared/contracts/task-logs.ts has the contract), one node or all, from a
// reader's cursor, following while the task runs.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskRecord } from '../../shared/api.ts';
import { formatLogCursor, LinePrefixer, LOG_EVENTS, parseLogCursor, type LogCursor } from '../../shared/contracts/task-logs.ts';
import { HttpError, NO_STORE_HEADERS } from '../http/index.ts';

/** One piece of one node's log, and where it ends in that node's log. */
export interface LogPiece {
  node: number;
  data: Uint8Array;
  end: number;
}

export interface OpenLogsOptions {
  follow: boolean;
  signal: AbortSignal;
  /** Default: all of the task's nodes. */
  nodes?: number[];
  from?: LogCursor;
}

export type OpenLogs = (id: string, opts: OpenLogsOptions) => AsyncIterable<LogPiece | string | Uint8Array>;

/** An idle event stream says so this often (a comment), so that nothing between closes it. */
const KEEPALIVE_MS = 15_000;

/** How many bytes at the end of `b` are a UTF-8 character not yet whole. */
export function utf8Tail(b: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back] ?? 0;
    if ((byte & 0xc0) !== 0x80) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return need > back ? back : 0;
    }
  }
  return 0;
}

/** How many nodes the task's logs have: its Pods, or the most any stage of a pipeline asks for. */
export function nodeCount(task: Pick<TaskRecord, 'nodes' | 'stages'>): number {
  return Math.max(1, task.nodes?.length ?? 1, ...(task.stages ?? []).map((s) => s.numNodes));
}

function nodesParam(url: URL, task: TaskRecord): number[] | undefined {
  const raw = url.searchParams.get('node');
  if (raw === null || raw === '' || raw === 'all') return undefined;
  const count = nodeCount(task);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n >= count) throw new HttpError(400, { error: `node must be a rank from 0 to ${count - 1} (or all), not ${raw}`, field: 'node' });
  return [n];
}

export async function streamLogs(req: IncomingMessage, res: ServerResponse, openLogs: OpenLogs, task: TaskRecord, url: URL, follow: boolean): Promise<void> {
  const nodes = nodesParam(url, task);
  const shown = nodes ?? Array.from({ length: nodeCount(task) }, (_, i) => i);
  const lastId = req.headers['last-event-id'];
  const cursorText = url.searchParams.get('cursor') ?? (typeof lastId === 'string' ? lastId : '');
  const parsed = parseLogCursor(cursorText);
  if (!parsed.ok) throw new HttpError(400, { error: parsed.error, field: 'cursor' });
  const sse = (req.headers.accept ?? '').includes('text/event-stream');
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  const write = async (text: string | Uint8Array) => {
    if (!res.write(text)) await new Promise((r) => res.once('drain', r));
  };
  const cursor: LogCursor = Object.fromEntries(shown.map((n) => [n, parsed.cursor[n] ?? 0]));
  const pieces = openLogs(task.id, { follow, signal: abort.signal, nodes: shown, from: { ...cursor } });
  if (!sse) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-log-cursor': formatLogCursor(cursor), ...NO_STORE_HEADERS });
    const prefixer = shown.length > 1 ? new LinePrefixer() : undefined;
    const decoders = new Map<number, TextDecoder>();
    try {
      for await (const p of pieces) {
        if (!isPiece(p)) await write(p);
        else if (!prefixer) await write(p.data);
        else {
          let d = decoders.get(p.node);
          if (!d) decoders.set(p.node, (d = new TextDecoder()));
          await write(prefixer.push(p.node, d.decode(p.data, { stream: true })));
        }
      }
      if (prefixer) await write(prefixer.flush());
    } catch (e) {
      if (!abort.signal.aborted) res.write(`\n[kindtray: log stream ended: ${e instanceof Error ? e.message : String(e)}]\n`);
    }
    res.end();
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...NO_STORE_HEADERS });
  await write(`event: ${LOG_EVENTS.nodes}\ndata: ${JSON.stringify({ nodes: shown })}\n\n`);
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  /** Bytes of a character cut in two, per node, held for the next piece. */
  const held = new Map<number, Uint8Array>();
  const decoder = new TextDecoder();
  try {
    for await (const p of pieces) {
      if (!isPiece(p)) continue;
      const before = held.get(p.node);
      const all = before ? concat(before, p.data) : p.data;
      const tail = utf8Tail(all);
      held.set(p.node, all.slice(all.length - tail));
      if (all.length === tail) continue;
      cursor[p.node] = p.end - tail;
      const text = decoder.decode(all.subarray(0, all.length - tail));
      await write(`id: ${formatLogCursor(cursor)}\nevent: ${LOG_EVENTS.log}\ndata: ${JSON.stringify({ node: p.node, text })}\n\n`);
    }
    if (!abort.signal.aborted) await write(`event: ${LOG_EVENTS.end}\ndata: ${JSON.stringify({ reason: follow ? 'the task ended' : 'end of log' })}\n\n`);
  } catch (e) {
    if (!abort.signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n\n`);
  } finally {
    clearInterval(keepalive);
  }
  res.end();
}

function isPiece(p: LogPiece | string | Uint8Array): p is LogPiece {
  return typeof p === 'object' && !(p instanceof Uint8Array) && 'node' in p;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
