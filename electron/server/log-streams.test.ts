// The relay of a followed log without a cluster: a small log API of our own
// (https, a token, timestamps=true lines, sinceTime honoured to the second as
// the kubelet does) and the real Kubernetes child. Lines arrive stripped of
// their timestamps with the cursor after them; the child ends a silent stream
// at its idle deadline and a request without answer at its open deadline; a
// child that stops answering altogether (SIGSTOP) is replaced by the parent's
// watchdog, and the next stream runs on a fresh child. A context Node's https
// cannot speak to (plain http here) streams through the Kubernetes client.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogSince } from '../../shared/contracts/kube-log.ts';
import { LogStreams, type LogFollowSpec } from './log-streams.ts';
import type { KubeTarget } from './kube-ops.ts';

let dir: string;
let server: Server;
let plainServer: HttpServer;
let target: KubeTarget;
/** A context Node's https cannot speak to (a plain-http server): the child streams through the Kubernetes client's Log. */
let plainTarget: KubeTarget;
const sockets = new Set<Socket>();
/** Per Pod: its lines, and how the API behaves. */
const pods = new Map<string, { lines: { time: string; text: string }[]; mode: 'end' | 'silent' | 'hang' }>();

const time = (s: number, ms = 0) => `2026-12-06T00:00:${String(s).padStart(2, '0')}.${String(ms).padStart(3, '0')}000000Z`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-log-streams-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => handler(req, res));
  plainServer = createHttpServer((req, res) => handler(req, res));
  await new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r));
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const m = /^\/api\/v1\/namespaces\/ns\/pods\/([^/]+)\/log$/.exec(url.pathname);
    const pod = m ? pods.get(m[1] ?? '') : undefined;
    if (req.headers.authorization !== 'Bearer t0ken') return void res.writeHead(401).end('{"kind":"Status","code":401}');
    if (!pod) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404,"message":"pods not found"}');
    if (pod.mode === 'hang') return;
    // sinceTime cut to the second, as the kubelet reads it.
    const since = url.searchParams.get('sinceTime')?.slice(0, 19);
    res.writeHead(200, { 'content-type': 'text/plain' });
    const ts = url.searchParams.get('timestamps') === 'true';
    for (const l of pod.lines) if (!since || l.time.slice(0, 19) >= since) res.write(`${ts ? `${l.time} ` : ''}${l.text}\n`);
    if (pod.mode === 'end' || url.searchParams.get('follow') !== 'true') res.end();
  };
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kubeconfig = path.join(dir, 'kubeconfig');
  const name = 'fake';
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': name,
      clusters: [{ name, cluster: { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name, user: { token: 't0ken' } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
    }),
  );
  target = { context: name, kubeconfigPaths: [kubeconfig] };
  const plainConfig = path.join(dir, 'kubeconfig-http');
  writeFileSync(
    plainConfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'plain',
      // The client takes plain http only with TLS checks off (there is no TLS to check).
      clusters: [{ name: 'plain', cluster: { server: `http://127.0.0.1:${(plainServer.address() as AddressInfo).port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'plain', user: { token: 't0ken' } }],
      contexts: [{ name: 'plain', context: { cluster: 'plain', user: 'plain' } }],
    }),
  );
  plainTarget = { context: 'plain', kubeconfigPaths: [plainConfig] };
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  plainServer.closeAllConnections();
  await new Promise((r) => plainServer.close(r));
  rmSync(dir, { recursive: true, force: true });
});

let streams: LogStreams | undefined;
afterEach(() => {
  streams?.close();
  streams = undefined;
});

const spec = (pod: string, since?: LogSince): LogFollowSpec => ({ namespace: 'ns', pod, follow: true, final: false, ...(since ? { since } : {}) });

async function follow(s: LogStreams, pod: string, since?: LogSince, signal = new AbortController().signal) {
  let text = '';
  let cursor: LogSince | undefined;
  const t0 = performance.now();
  const end = await s.followLog(target, spec(pod, since), (d, c) => ((text += Buffer.from(d).toString()), (cursor = c ?? cursor)), signal);
  return { end, text, cursor, ms: performance.now() - t0 };
}

describe('a followed log through the Kubernetes child', () => {
  it('relays the lines without timestamps, with the cursor after the last; a resumed stream repeats nothing', async () => {
    pods.set('p1', { mode: 'end', lines: [{ time: time(1, 100), text: 'a' }, { time: time(1, 200), text: 'b' }, { time: time(2), text: 'c' }] });
    streams = new LogStreams();
    const first = await follow(streams, 'p1');
    expect(first.end).toEqual({ outcome: 'eof' });
    expect(first.text).toBe('a\nb\nc\n');
    expect(first.cursor).toEqual({ time: time(2), seen: 1 });
    pods.get('p1')?.lines.push({ time: time(2, 500), text: 'd' });
    // Resumed from b: the API sends from second 1 again; only c and d are new.
    const again = await follow(streams, 'p1', { time: time(1, 200), seen: 1 });
    expect(again.text).toBe('c\nd\n');
  }, 20_000);

  it('a stream that says nothing is ended by the child at its idle deadline', async () => {
    pods.set('quiet', { mode: 'silent', lines: [{ time: time(1), text: 'only' }] });
    streams = new LogStreams({ idleMs: 600 });
    const r = await follow(streams, 'quiet');
    expect(r.end).toEqual({ outcome: 'idle' });
    expect(r.text).toBe('only\n');
    expect(r.ms).toBeLessThan(5_000);
  }, 20_000);

  it('an API that accepts and never answers ends the stream at its open deadline, as an error naming the context', async () => {
    pods.set('hung', { mode: 'hang', lines: [] });
    streams = new LogStreams({ openDeadlineMs: 800 });
    const r = await follow(streams, 'hung');
    expect(r.end.outcome).toBe('error');
    if (r.end.outcome === 'error') {
      expect(r.end.error.kind).toBe('deadline');
      expect(r.end.error.message).toMatch(/^fake: /);
    }
    expect(r.ms).toBeLessThan(4_000);
  }, 20_000);

  it('a context Node’s https cannot speak to streams through the Kubernetes client, with the same lines and cursor', async () => {
    pods.set('p3', { mode: 'end', lines: [{ time: time(3, 100), text: 'via' }, { time: time(3, 200), text: 'client' }] });
    streams = new LogStreams();
    let text = '';
    let cursor: LogSince | undefined;
    const end = await streams.followLog(plainTarget, spec('p3'), (d, c) => ((text += Buffer.from(d).toString()), (cursor = c ?? cursor)), new AbortController().signal);
    expect(end, JSON.stringify(end)).toEqual({ outcome: 'eof' });
    expect(text).toBe('via\nclient\n');
    expect(cursor).toEqual({ time: time(3, 200), seen: 1 });
    const missing = await streams.followLog(plainTarget, spec('nobody'), () => undefined, new AbortController().signal);
    expect(missing.outcome).toBe('error');
  }, 20_000);

  it('a Pod the API does not know is not-found', async () => {
    streams = new LogStreams();
    const r = await follow(streams, 'nobody');
    expect(r.end.outcome === 'error' && r.end.error.kind).toBe('not-found');
  }, 20_000);

  it('a child that stops answering is replaced by the watchdog; its stream ends client-crashed and the next runs on a fresh child', async () => {
    pods.set('slow', { mode: 'silent', lines: [{ time: time(1), text: 'x' }] });
    pods.set('p2', { mode: 'end', lines: [{ time: time(1), text: 'fine' }] });
    const replaced: string[] = [];
    streams = new LogStreams({ idleMs: 1_000, graceMs: 300, onChildReplaced: (why) => replaced.push(why) });
    const s = streams;
    let opened: () => void = () => undefined;
    const open = new Promise<void>((r) => (opened = r));
    const stuck = s.followLog(target, spec('slow'), () => opened(), new AbortController().signal);
    // Once its line came, freeze the child: it can no longer end the stream itself.
    await open;
    const [pid] = s.pids();
    process.kill(pid as number, 'SIGSTOP');
    const t0 = performance.now();
    const end = await stuck;
    const ms = performance.now() - t0;
    process.kill(pid as number, 'SIGCONT');
    expect(end.outcome === 'error' && end.error.kind).toBe('client-crashed');
    // The beat: idle deadline plus grace, from the last word (the line), with room for a busy machine.
    expect(ms).toBeLessThan(1_000 + 300 + 1_500);
    expect(replaced.length).toBe(1);
    const next = await follow(s, 'p2');
    expect(next.text).toBe('fine\n');
    expect(s.counts.started).toBe(2);
  }, 20_000);
});
