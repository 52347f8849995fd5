// How a task's logs travel from the worker (`GET /api/tasks/:id/logs`) to the
// CLI and the dashboard. Plain text by default, as it always was (a one-node
// task's log as printed; several nodes' lines each prefixed with their node,
// as SkyPilot's `sky logs` does). With `Accept: text/event-stream`, server-
// sent events: `nodes` first, then `log` events, each with an id that is the
// reader's cursor, then `end`. A reader that reconnects with that id
// (`Last-Event-ID`, or `?cursor=`) gets what follows it: nothing lost, nothing
// twice. Query: `follow=1`, `node=N` (one node; default all), `cursor=`.

/** A reader's place: a byte offset into each node's log, by rank. */
export type LogCursor = Record<number, number>;

export const LOG_EVENTS = {
  /** `{ nodes: number[] }`: the ranks this stream carries. */
  nodes: 'nodes',
  /** `{ node, text }`; its id is the cursor after it. */
  log: 'log',
  /** `{ state }`: the task is final and its logs are all sent. */
  end: 'end',
} as const;

export interface LogEvent {
  node: number;
  text: string;
}

/** `0:1234,1:56`. */
export function formatLogCursor(cursor: LogCursor): string {
  return Object.entries(cursor)
    .map(([node, offset]) => `${node}:${offset}`)
    .join(',');
}

/** A cursor from its text; an error in words naming it when it is not one. */
export function parseLogCursor(text: string): { ok: true; cursor: LogCursor } | { ok: false; error: string } {
  const cursor: LogCursor = {};
  if (text.trim() === '') return { ok: true, cursor };
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,4}):(\d{1,15})\s*$/.exec(part);
    if (!m) return { ok: false, error: `cursor must be NODE:OFFSET pairs separated by commas (as a log event's id), not ${JSON.stringify(text.slice(0, 80))}` };
    cursor[Number(m[1])] = Number(m[2]);
  }
  return { ok: true, cursor };
}

/** A node's name as SkyPilot's logs give it: the head, then worker1, worker2… */
export function nodeLabel(rank: number): string {
  return rank === 0 ? 'head' : `worker${rank}`;
}

/** What starts each line of a node when several nodes' logs are shown together. */
export function linePrefix(rank: number): string {
  return `(${nodeLabel(rank)}, rank=${rank}) `;
}

/** Prefixes whole lines of several nodes' logs; a line's start waits for its end. */
export class LinePrefixer {
  private readonly partial = new Map<number, string>();

  push(node: number, text: string): string {
    const all = (this.partial.get(node) ?? '') + text;
    const cut = all.lastIndexOf('\n');
    this.partial.set(node, cut < 0 ? all : all.slice(cut + 1));
    if (cut < 0) return '';
    return all
      .slice(0, cut + 1)
      .split(/(?<=\n)/)
      .map((line) => linePrefix(node) + line)
      .join('');
  }

  /** What is left (lines without their newline), once nothing more comes. */
  flush(): string {
    const out = [...this.partial.entries()].filter(([, t]) => t !== '').map(([node, t]) => `${linePrefix(node)}${t}\n`);
    this.partial.clear();
    return out.join('');
  }
}
