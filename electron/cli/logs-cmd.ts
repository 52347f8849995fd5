// `kindtray logs ID [--follow] [--node N]`: a task's logs, read as server-sent
// events (shared/contracts/task-logs.ts) so that each piece comes with the
// cursor after it. Several nodes' lines are prefixed with their node, as
// SkyPilot's `sky logs` does. A follow whose connection breaks (the server
// restarted, the machine slept) comes back with its last cursor and goes on
// where it was, without losing or repeating a line; it gives up after a while
// without an answer, and says so.

import { request, type IncomingMessage } from 'node:http';
import { LinePrefixer, LOG_EVENTS, type LogEvent } from '../../shared/contracts/task-logs.ts';
import { ensureServer } from './client.ts';
import { EXIT, UsageError, type CommandContext } from './context.ts';

/** Only the answer has a deadline: a followed log may rightly stay quiet. */
const ANSWER_DEADLINE_MS = 15_000;
/** A follow tries to come back this long after its connection broke. */
const RESUME_FOR_MS = 60_000;

type Outcome = { kind: 'ended' } | { kind: 'refused'; status: number; message: string } | { kind: 'broken'; message: string };

export async function logsCommand(ctx: CommandContext, [id]: string[], values: Record<string, unknown>): Promise<number> {
  if (!id) throw new UsageError('name the task: kindtray logs ID');
  const follow = values.follow === true;
  let node: number | undefined;
  if (values.node !== undefined) {
    node = Number(values.node);
    if (!Number.isInteger(node) || node < 0) throw new UsageError(`--node is a node rank (0 is the head), not ${String(values.node)}`);
  }
  let cursor = '';
  let nodes: number[] = [];
  let prefixer: LinePrefixer | undefined;
  let brokeAt: number | undefined;
  for (let attempt = 0; ; attempt++) {
    const info = await ensureServer(ctx.env, ctx.err).catch((e: unknown) => (brokeAt === undefined ? Promise.reject(e) : undefined));
    const outcome: Outcome = info
      ? await readOnce(info, id, { follow, node, cursor }, {
          nodes: (n) => {
            nodes = n;
            prefixer ??= n.length > 1 ? new LinePrefixer() : undefined;
          },
          log: (e, eventId) => {
            cursor = eventId;
            brokeAt = undefined;
            return process.stdout.write(prefixer ? prefixer.push(e.node, e.text) : e.text);
          },
        })
      : { kind: 'broken', message: 'no server answers' };
    if (outcome.kind === 'ended') break;
    if (outcome.kind === 'refused') {
      ctx.err(`kindtray logs: ${outcome.message}`);
      return EXIT.notOk;
    }
    if (!follow || nodes.length === 0) {
      ctx.err(`kindtray logs: ${outcome.message}`);
      return EXIT.noServer;
    }
    brokeAt ??= Date.now();
    if (Date.now() - brokeAt > RESUME_FOR_MS) {
      ctx.err(`kindtray logs: the connection broke (${outcome.message}) and did not come back in ${RESUME_FOR_MS / 1000} s; run the command again to go on`);
      return EXIT.noServer;
    }
    if (attempt === 0 || Date.now() - brokeAt < 1_000) ctx.err(`kindtray logs: the connection broke (${outcome.message}); resuming where it was…`);
    await new Promise((r) => setTimeout(r, Math.min(4_000, 500 * 2 ** Math.min(attempt, 3))));
  }
  if (prefixer) process.stdout.write(prefixer.flush());
  return EXIT.ok;
}

interface Handlers {
  nodes: (nodes: number[]) => void;
  /** False when the output is full: reading waits for it to drain. */
  log: (e: LogEvent, id: string) => boolean;
}

/** One request: events until the stream ends, breaks, or is refused. */
function readOnce(info: { port: number; token: string }, id: string, q: { follow: boolean; node: number | undefined; cursor: string }, on: Handlers): Promise<Outcome> {
  const query = new URLSearchParams();
  if (q.follow) query.set('follow', '1');
  if (q.node !== undefined) query.set('node', String(q.node));
  const headers: Record<string, string> = { authorization: `Bearer ${info.token}`, accept: 'text/event-stream' };
  if (q.cursor) headers['last-event-id'] = q.cursor;
  return new Promise<Outcome>((resolve) => {
    let done = false;
    const settle = (o: Outcome) => {
      if (!done) resolve(o);
      done = true;
    };
    const req = request({ host: '127.0.0.1', port: info.port, path: `/api/tasks/${encodeURIComponent(id)}/logs?${query.toString()}`, headers }, (res: IncomingMessage) => {
      req.setTimeout(0);
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: string) => (body += c));
        res.on('end', () => settle({ kind: 'refused', status: res.statusCode ?? 0, message: errorOf(body) }));
        return;
      }
      let buffer = '';
      let ended = false;
      res.on('data', (c: string) => {
        let full = false;
        buffer += c;
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
          }
          const event = fields.get('event');
          const data = fields.get('data');
          if (data === undefined) continue;
          if (event === LOG_EVENTS.nodes) on.nodes((JSON.parse(data) as { nodes: number[] }).nodes);
          else if (event === LOG_EVENTS.log) full = !on.log(JSON.parse(data) as LogEvent, fields.get('id') ?? '') || full;
          else if (event === LOG_EVENTS.end) ended = true;
          else if (event === 'error') settle({ kind: 'broken', message: errorOf(data) });
        }
        // A big log piped into a slow reader: read no faster than it is written.
        if (full) {
          res.pause();
          process.stdout.once('drain', () => res.resume());
        }
      });
      res.on('end', () => settle(ended ? { kind: 'ended' } : { kind: 'broken', message: 'the stream ended early' }));
      res.on('error', (e) => settle({ kind: 'broken', message: e.message }));
      res.on('close', () => settle(ended ? { kind: 'ended' } : { kind: 'broken', message: 'the connection closed' }));
    });
    req.setTimeout(ANSWER_DEADLINE_MS, () => req.destroy(new Error(`no answer in ${ANSWER_DEADLINE_MS / 1000} s`)));
    req.on('error', (e) => settle({ kind: 'broken', message: e.message }));
    req.end();
  });
}

function errorOf(body: string): string {
  try {
    return (JSON.parse(body) as { error?: string }).error ?? body;
  } catch {
    return body;
  }
}
