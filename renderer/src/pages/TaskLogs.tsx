// A task's logs on its page, live: read as server-sent events
// (shared/contracts/task-logs.ts), each piece with the cursor after it, so a
// stream that breaks while the task runs comes back where it was (nothing
// lost, nothing twice) instead of starting over. A task with several nodes has
// a tab per node, and one with them all, each line marked with its node.

import { useEffect, useRef, useState } from 'react';
import { isFinalTaskState, type TaskRecord } from '../../../shared/api.ts';
import { LinePrefixer, LOG_EVENTS, nodeLabel, type LogEvent } from '../../../shared/contracts/task-logs.ts';
import { Failure, Spinner } from '../components/common.tsx';
import { backoffMs } from '../sse.ts';
import { useController } from '../store/store.ts';
import type { ApiFailure } from '../transport.ts';

/** Most log text kept on screen; older text is dropped from the top. */
const MAX_LOG_CHARS = 1_000_000;

/** Splits SSE text into events with their ids; keeps an unfinished tail. */
export class LogEventParser {
  private buffer = '';

  push(chunk: string): { event: string; id?: string; data: string }[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: { event: string; id?: string; data: string }[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) out.push({ event, ...(id !== undefined ? { id } : {}), data: data.join('\n') });
    }
    return out;
  }
}

const keep = (t: string, more: string) => (t.length + more.length > MAX_LOG_CHARS ? (t + more).slice(-MAX_LOG_CHARS) : t + more);

export function TaskLogView({ task }: { task: TaskRecord }) {
  const controller = useController();
  const nodeCount = Math.max(1, task.nodes?.length ?? 1, ...(task.stages ?? []).map((s) => s.numNodes));
  const [node, setNode] = useState<number | 'all'>('all');
  const [text, setText] = useState('');
  const [follow, setFollow] = useState(true);
  const [phase, setPhase] = useState<'streaming' | 'ended' | 'waiting' | 'resuming'>('streaming');
  const [failure, setFailure] = useState<ApiFailure | undefined>();
  const [attempt, setAttempt] = useState(0);
  const box = useRef<HTMLPreElement>(null);
  const atBottom = useRef(true);
  const final = isFinalTaskState(task.state);
  // Restart the stream when the task leaves `waiting`/`pending` (its Pod exists now) or ends.
  const stage = final ? 'final' : task.state === 'running' ? 'running' : 'starting';
  // A waiting or pending task has no Pod, so no logs yet: ask once it is launching.
  const noPodYet = task.state === 'waiting' || task.state === 'pending';
  const shown = nodeCount > 1 ? node : 0;

  useEffect(() => {
    setText('');
    setFailure(undefined);
    if (noPodYet) {
      setPhase('waiting');
      return;
    }
    const abort = new AbortController();
    const following = follow && !final;
    const query = `${following ? 'follow=1&' : ''}${shown === 'all' ? '' : `node=${shown}`}`;
    let lastId: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let prefixer: LinePrefixer | undefined;
    let tries = 0;
    const read = () => {
      const parser = new LogEventParser();
      let ended = false;
      setPhase(lastId ? 'resuming' : 'streaming');
      void controller.server
        .logEvents(
          task.id,
          query,
          (chunk) => {
            let more = '';
            for (const e of parser.push(chunk)) {
              if (e.event === LOG_EVENTS.nodes) {
                const nodes = (JSON.parse(e.data) as { nodes: number[] }).nodes;
                prefixer ??= nodes.length > 1 ? new LinePrefixer() : undefined;
              } else if (e.event === LOG_EVENTS.log) {
                const ev = JSON.parse(e.data) as LogEvent;
                lastId = e.id ?? lastId;
                more += prefixer ? prefixer.push(ev.node, ev.text) : ev.text;
              } else if (e.event === LOG_EVENTS.end) ended = true;
            }
            if (more) {
              tries = 0;
              setPhase('streaming');
              setText((t) => keep(t, more));
            }
          },
          abort.signal,
          lastId,
        )
        .then((f) => {
          if (abort.signal.aborted) return;
          if (f) {
            setFailure(f);
            setPhase('ended');
          } else if (ended || !following) {
            const rest = prefixer?.flush();
            if (rest) setText((t) => keep(t, rest));
            setPhase('ended');
          } else {
            // Broken while the task runs: come back where it was.
            setPhase('resuming');
            timer = setTimeout(read, backoffMs(tries++));
          }
        })
        .catch(() => {
          if (abort.signal.aborted) return;
          setPhase('resuming');
          timer = setTimeout(read, backoffMs(tries++));
        });
    };
    read();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [controller, task.id, follow, final, stage, attempt, noPodYet, shown]);

  useEffect(() => {
    const el = box.current;
    if (el && follow && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [text, follow]);

  return (
    <section className="card logs-card" aria-labelledby="logs-title">
      <div className="card-head">
        <h2 id="logs-title">Logs</h2>
        <span className="logs-state muted small" role="status" data-testid="logs-state" data-phase={phase}>
          {phase === 'streaming' && follow && !final && (
            <>
              <Spinner /> following
            </>
          )}
          {phase === 'resuming' && (
            <>
              <Spinner /> reconnecting, from where it was…
            </>
          )}
          {phase === 'waiting' && 'waiting for output…'}
          {phase === 'ended' && !failure && (final ? `task ${task.state}` : 'end of log')}
        </span>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} disabled={final} data-testid="logs-follow" /> Follow
        </label>
      </div>
      {nodeCount > 1 && (
        <div className="log-nodes" role="tablist" aria-label="Nodes" data-testid="log-nodes">
          {(['all', ...Array.from({ length: nodeCount }, (_, i) => i)] as const).map((n) => (
            <button
              key={n}
              type="button"
              role="tab"
              aria-selected={node === n}
              className={node === n ? 'tab selected' : 'tab'}
              data-testid={`log-node-${n}`}
              onClick={() => setNode(n)}
            >
              {n === 'all' ? 'All nodes' : `${nodeLabel(n)} (rank ${n})`}
            </button>
          ))}
        </div>
      )}
      {failure && <Failure title="Logs cannot be read" failure={failure} onRetry={() => setAttempt((a) => a + 1)} />}
      <pre
        className="logs"
        ref={box}
        tabIndex={0}
        aria-label={`Logs of ${task.name}`}
        data-testid="task-logs"
        data-node={String(shown)}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {text || <span className="muted">{noPodYet ? 'No output yet: the task has not started.' : phase === 'streaming' ? 'Reading logs…' : 'No output.'}</span>}
      </pre>
    </section>
  );
}
