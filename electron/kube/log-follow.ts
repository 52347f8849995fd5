// A Pod's log followed in the Kubernetes child: one long GET of the log API
// (follow=true, timestamps=true, sinceTime from the cursor), cut into whole
// lines after the cursor (log-lines.ts) and relayed to the parent in chunks.
// Node's https does it when it can speak to the context (api-get.ts), the
// Kubernetes client's Log otherwise. The child keeps the stream's deadlines
// itself: the answer within openDeadlineMs, then something at least every
// idleMs, else the stream ends (`idle`) and the parent opens it again from
// where it was; the parent ends a child that misses them by more.

import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { Writable } from 'node:stream';
import { LOG_CHUNK_FLUSH_MS, LOG_CHUNK_MAX_BYTES, type LogEndOutcome, type LogFollowRequest, type LogStreamMessage } from '../../shared/contracts/kube-log.ts';
import { CHILD_ANSWER_MARGIN_MS, type KubeOpError, type OpRequest } from '../../shared/contracts/kube-ops.ts';
import { ApiStatusError, nativeConnection, speaksNatively } from './api-get.ts';
import { classifyOpError, KubeProblem } from './errors.ts';
import type { KubeHooks } from './exec-plugin.ts';
import { LogLineCutter } from './log-lines.ts';
import { applyCredential, clientConfig, resolveTarget } from './target.ts';

type ClientNode = typeof import('@kubernetes/client-node');

/** An error answer's body is read up to this, for its message. */
const MAX_ERROR_BODY = 64 * 1024;

/** The log API's query for `req`. */
export function logQuery(req: Pick<LogFollowRequest, 'container' | 'since' | 'follow'>): URLSearchParams {
  const q = new URLSearchParams({ timestamps: 'true' });
  if (req.follow) q.set('follow', 'true');
  if (req.container !== undefined) q.set('container', req.container);
  if (req.since) q.set('sinceTime', req.since.time);
  return q;
}

/** Starts following; answers a stop. Every outcome ends in exactly one `log-end`. */
export function followLog(loadClient: () => Promise<ClientNode>, req: LogFollowRequest, send: (m: LogStreamMessage) => void, hooks: KubeHooks): () => void {
  const controller = new AbortController();
  let why: LogEndOutcome | 'deadline' | undefined;
  const stop = (reason: LogEndOutcome | 'deadline') => {
    why ??= reason;
    controller.abort();
  };
  const cutter = new LogLineCutter(req.since);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingLines = 0;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  let phase: 'authenticating' | 'requesting' = 'authenticating';
  let server: string | undefined;

  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pendingBytes === 0) return;
    const since = cutter.since();
    const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    const lines = pendingLines;
    pendingLines = 0;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    send(since ? { type: 'log-chunk', id: req.id, data: bytes, since, lines } : { type: 'log-chunk', id: req.id, data: bytes, lines });
  };
  const keep = (cut: { data: Buffer; lines: number }) => {
    if (cut.data.length === 0) return;
    pending.push(cut.data);
    pendingBytes += cut.data.length;
    pendingLines += cut.lines;
    if (pendingBytes >= LOG_CHUNK_MAX_BYTES) flush();
    else flushTimer ??= setTimeout(flush, LOG_CHUNK_FLUSH_MS);
  };
  const armIdle = () => {
    clearTimeout(idleTimer);
    if (req.follow) idleTimer = setTimeout(() => stop('idle'), req.idleMs);
  };
  const end = (outcome: LogEndOutcome, error?: KubeOpError) => {
    if (ended) return;
    ended = true;
    clearTimeout(openTimer);
    clearTimeout(idleTimer);
    if (outcome === 'eof') keep(cutter.end(req.final));
    flush();
    send(error ? { type: 'log-end', id: req.id, outcome, error } : { type: 'log-end', id: req.id, outcome });
  };
  const fail = (err: unknown) => {
    if (ended) return;
    if (why === 'idle' || why === 'stopped') return end(why);
    if (err instanceof KubeProblem && why === undefined) return end('error', { kind: err.kind, message: `${req.target.context}: ${err.message}` });
    end('error', classifyOpError(err, asOpRequest(req), phase, why === 'deadline', server));
  };
  const openTimer = setTimeout(() => stop('deadline'), Math.max(50, req.openDeadlineMs - CHILD_ANSWER_MARGIN_MS));

  const onBody = (status: number, body: NodeJS.ReadableStream) => {
    if (status !== 200) {
      let text = '';
      body.on('data', (c: Buffer) => {
        if (text.length < MAX_ERROR_BODY) text += c.toString('utf8');
      });
      body.on('end', () => fail(new ApiStatusError(`the log of pod ${req.pod}`, status, text)));
      body.on('error', fail);
      return;
    }
    clearTimeout(openTimer);
    send({ type: 'log-open', id: req.id });
    armIdle();
    body.on('data', (c: Buffer) => {
      armIdle();
      keep(cutter.push(c));
    });
    body.on('end', () => end('eof'));
    body.on('error', fail);
    body.on('close', () => {
      if (!ended) fail(new Error('the connection closed in the middle of the log'));
    });
  };

  void (async () => {
    const target = resolveTarget(req.target.kubeconfigPaths, req.target.context);
    server = target.server;
    const path = `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods/${encodeURIComponent(req.pod)}/log`;
    const query = logQuery(req);
    if (speaksNatively(target)) {
      await applyCredential(target, controller.signal, req.openDeadlineMs, hooks);
      phase = 'requesting';
      hooks.phase('requesting');
      const conn = nativeConnection(target);
      const r = request(conn.url(`${path}?${query.toString()}`), { method: 'GET', agent: conn.agent, headers: { ...conn.headers, accept: '*/*' }, signal: controller.signal }, (res: IncomingMessage) =>
        onBody(res.statusCode ?? 0, res),
      );
      r.on('error', fail);
      r.end();
      return;
    }
    const k8s = await loadClient();
    const { config } = await clientConfig(k8s, target, controller.signal, req.openDeadlineMs, hooks);
    phase = 'requesting';
    hooks.phase('requesting');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        armIdle();
        keep(cutter.push(chunk));
        done();
      },
      final(done) {
        end('eof');
        done();
      },
    });
    const options = { follow: req.follow, timestamps: true, ...(req.since ? { sinceTime: req.since.time } : {}) };
    const abort = await new k8s.Log(config).log(req.namespace, req.pod, req.container ?? '', sink, options);
    clearTimeout(openTimer);
    send({ type: 'log-open', id: req.id });
    armIdle();
    controller.signal.addEventListener('abort', () => {
      abort.abort();
      fail(new Error('aborted'));
    });
  })().catch(fail);

  return () => stop('stopped');
}

/** The request as the op classifier reads it: a log read of this Pod, under the open deadline. */
function asOpRequest(req: LogFollowRequest): OpRequest {
  return { type: 'op', id: req.id, target: req.target, deadlineMs: req.openDeadlineMs, op: { kind: 'readLog', namespace: req.namespace, name: req.pod, sinceBytes: 0, stableTail: false } };
}
