// Probes over Node's own https (api-get.ts): they answer as the Kubernetes
// client would, for the same resolved Target, and a probe of a context Node's
// https can speak to never loads the client.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { nativeApi, speaksNatively } from './api-get.ts';
import type { KubeHooks } from './exec-plugin.ts';
import { probeContext, type LoadClientNode } from './probe.ts';
import { clientNodeReads, nativeReads, type ProbeReads } from './probe-reads.ts';
import { applyCredential, resolveTarget } from './target.ts';


// A small API server of our own: /readyz, /version and the node list, a bearer
// token it may require, a not-ready mode, and a mode that accepts and never answers.
interface Tls {
  cert: string;
  key: string;
}
interface FakeApi {
  url: string;
  /** Paths asked, in order. */
  asked: string[];
  /** What /version answers; what /api/v1/nodes answers besides a list (a status, as a narrow role gets). */
  version: string;
  nodesStatus?: number;
  /** Ends every open connection, as a restarted API server does. */
  dropConnections(): void;
  close(): Promise<void>;
}

function makeTls(dir: string): Tls {
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/**
 * `chunked`: every body in two chunks, as a Go server sends a large one. `dropSecond`: each connection's
 * second request is read and the connection closed without an answer, as a server ending an idle
 * keep-alive connection just as a request arrives.
 */
async function startFakeApi(tls: Tls, opts: { mode?: 'ok' | 'hang' | 'not-ready'; token?: string; chunked?: boolean; dropSecond?: boolean } = {}): Promise<FakeApi> {
  const sockets = new Set<Socket>();
  const asked: string[] = [];
  const requestsOn = new WeakMap<object, number>();
  const server = createServer(tls, (req, rawRes) => {
    const p = (req.url ?? '/').split('?')[0];
    asked.push(p ?? '');
    if (opts.mode === 'hang') return;
    const n = (requestsOn.get(req.socket) ?? 0) + 1;
    requestsOn.set(req.socket, n);
    if (opts.dropSecond && n === 2) {
      req.socket.destroy();
      return;
    }
    const res = opts.chunked ? inChunks(rawRes) : rawRes;
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' }));
      return;
    }
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (p === '/readyz') res.writeHead(opts.mode === 'not-ready' ? 500 : 200).end(opts.mode === 'not-ready' ? '[-]etcd failed' : 'ok');
    else if (p === '/version') json({ major: '1', minor: '33', gitVersion: api.version });
    else if (p === '/api/v1/nodes' && api.nodesStatus) res.writeHead(api.nodesStatus, { 'content-type': 'application/json' }).end('{"kind":"Status"}');
    else if (p === '/api/v1/nodes') {
      const node = (name: string) => ({ metadata: { name, labels: {} }, status: { capacity: { cpu: '2', memory: '4Gi' }, conditions: [{ type: 'Ready', status: 'True' }] } });
      json({ kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: [node('dev-control-plane'), node('dev-worker')] });
    } else res.writeHead(404).end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const api: FakeApi = {
    url: '',
    asked,
    version: 'v1.33.1',
    dropConnections: () => sockets.forEach((s) => s.destroy()),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

/** A response whose end(body) goes out as two chunks (no Content-Length). */
function inChunks(res: ServerResponse): ServerResponse {
  const end = res.end.bind(res);
  return Object.assign(res, {
    end: (body?: string) => {
      const text = body ?? '';
      res.write(text.slice(0, Math.ceil(text.length / 2)));
      return end(text.slice(Math.ceil(text.length / 2)));
    },
  }) as ServerResponse;
}

function writeKubeconfig(file: string, contexts: { name: string; server: string; user?: Record<string, unknown> }[], current: string, ca: string): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } })),
    users: contexts.map((c) => ({ name: c.name, user: c.user ?? { token: 'secret' } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    'current-context': current,
  };
  writeFileSync(file, stringify(doc));
  return file;
}

let dir: string;
let tls: Tls;
let ok: FakeApi;
let withToken: FakeApi;
let notReady: FakeApi;
let kubeconfig: string;
const hooks: KubeHooks = { phase: () => undefined, plugin: () => undefined };
const DEADLINE = 3_000;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindtray-api-get-'));
  tls = makeTls(dir);
  ok = await startFakeApi(tls);
  withToken = await startFakeApi(tls, { token: 'right' });
  notReady = await startFakeApi(tls, { mode: 'not-ready' });
  kubeconfig = writeKubeconfig(
    path.join(dir, 'config'),
    [
      { name: 'kind-dev', server: ok.url },
      { name: 'token-right', server: withToken.url, user: { token: 'right' } },
      { name: 'token-wrong', server: withToken.url, user: { token: 'wrong' } },
      { name: 'not-ready', server: notReady.url },
      { name: 'nodes-at-a-path', server: `${ok.url}/` },
    ],
    'kind-dev',
    tls.cert,
  );
  // Contexts the fixture's writer does not express: no CA but insecure-skip-tls-verify, and a proxy-url.
  const doc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[]; users: unknown[]; contexts: unknown[] };
  doc.clusters.push({ name: 'insecure', cluster: { server: ok.url, 'insecure-skip-tls-verify': true } });
  doc.clusters.push({ name: 'proxied', cluster: { server: ok.url, 'certificate-authority-data': Buffer.from(tls.cert).toString('base64'), 'proxy-url': 'http://127.0.0.1:9' } });
  doc.contexts.push({ name: 'insecure', context: { cluster: 'insecure', user: 'kind-dev' } }, { name: 'proxied', context: { cluster: 'proxied', user: 'kind-dev' } });
  // A server whose certificate the kubeconfig's CA did not sign, and a port nobody listens on.
  const otherCa = makeTls(mkdtempSync(path.join(dir, 'other-ca-')));
  doc.clusters.push({ name: 'wrong-ca', cluster: { server: ok.url, 'certificate-authority-data': Buffer.from(otherCa.cert).toString('base64') } });
  doc.clusters.push({ name: 'refused', cluster: { server: 'https://127.0.0.1:9', 'certificate-authority-data': Buffer.from(tls.cert).toString('base64') } });
  doc.contexts.push({ name: 'wrong-ca', context: { cluster: 'wrong-ca', user: 'kind-dev' } }, { name: 'refused', context: { cluster: 'refused', user: 'kind-dev' } });
  writeFileSync(kubeconfig, stringify(doc));
});

afterAll(async () => {
  await Promise.all([ok, withToken, notReady].map((a) => a?.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A loader that counts its calls: the real client, or one that must never be asked. */
function loader(allowed: boolean): LoadClientNode & { calls: number } {
  const load = Object.assign(
    () => {
      load.calls++;
      return allowed ? import('@kubernetes/client-node') : Promise.reject(new Error('the Kubernetes client was loaded'));
    },
    { calls: 0 },
  );
  return load;
}

const probe = (context: string, load: LoadClientNode) => probeContext(load, { type: 'probe', id: 1, context, kubeconfigPaths: [kubeconfig], deadlineMs: DEADLINE }, hooks);

describe('probes over Node https', { timeout: 20_000 }, () => {
  it('static contexts are probed without loading the Kubernetes client', async () => {
    const load = loader(false);
    const healthy = await probe('kind-dev', load);
    expect(healthy).toMatchObject({ state: 'ok', version: 'v1.33.1', ready: true, server: ok.url });
    expect(healthy.nodes?.map((n) => n.name)).toEqual(['dev-control-plane', 'dev-worker']);
    expect((await probe('token-right', load)).state).toBe('ok');
    expect(await probe('token-wrong', load)).toMatchObject({
      state: 'auth-failed',
      cause: 'context token-wrong: the API refused the credentials of user token-wrong (401 Unauthorized)',
    });
    expect(await probe('not-ready', load)).toMatchObject({ state: 'ok', ready: false, degraded: 'the API server reports it is not ready (/readyz)' });
    expect((await probe('insecure', load)).state).toBe('ok');
    expect((await probe('nodes-at-a-path', load)).state).toBe('ok');
    expect(load.calls).toBe(0);
  });

  it('a context with a proxy-url is left to the Kubernetes client', async () => {
    const target = resolveTarget([kubeconfig], 'proxied');
    expect(speaksNatively(target)).toBe(false);
    const load = loader(true);
    const r = await probe('proxied', load);
    expect(load.calls).toBe(1);
    expect(r.state).toBe('unreachable');
  });

  it('reads the same as the Kubernetes client, from the same Target', async () => {
    const k8s = await import('@kubernetes/client-node');
    const read = async (reads: ProbeReads) => {
      const [readyz, version, nodes] = await Promise.allSettled([reads.readyz(), reads.version(), reads.nodes()]);
      const value = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? r.value : { failed: (r.reason as { code?: unknown }).code });
      return { readyz: value(readyz), version: (value(version) as { gitVersion?: string }).gitVersion ?? value(version), nodes: JSON.parse(JSON.stringify(value(nodes))) as unknown };
    };
    for (const context of ['kind-dev', 'token-wrong', 'not-ready', 'insecure']) {
      const signal = new AbortController().signal;
      const native = resolveTarget([kubeconfig], context);
      await applyCredential(native, signal, DEADLINE, hooks);
      const viaClient = await clientNodeReads(k8s, resolveTarget([kubeconfig], context), signal, DEADLINE, hooks);
      const a = await read(nativeReads(nativeApi(native), signal));
      const b = await read(viaClient.reads);
      expect({ context, ...a, nodes: (a.nodes as { items?: { metadata?: { name?: string } }[] }).items?.map((n) => n.metadata?.name) ?? a.nodes }).toEqual({
        context,
        ...b,
        nodes: (b.nodes as { items?: { metadata?: { name?: string } }[] }).items?.map((n) => n.metadata?.name) ?? b.nodes,
      });
    }
  });

  it('a certificate the CA did not sign and a port nobody listens on are told as such', async () => {
    // The words node:https gave before the kept connections: the same TLS and socket errors, read alike.
    const load = loader(false);
    expect(await probe('wrong-ca', load)).toMatchObject({ state: 'unreachable', cause: expect.stringMatching(/^context wrong-ca: TLS with 127\.0\.0\.1:\d+ failed: self-signed certificate/) });
    expect(await probe('refused', load)).toMatchObject({ state: 'unreachable', cause: 'context refused: connection refused by 127.0.0.1:9' });
    expect(load.calls).toBe(0);
  });

  it('asks /version once per connection: again after a read failed or the server\'s connections were new', async () => {
    const api = await startFakeApi(tls);
    try {
      const f = path.join(dir, 'version-config');
      writeKubeconfig(f, [{ name: 'versioned', server: api.url }], 'versioned', tls.cert);
      const probeIt = () => probeContext(loader(false), { type: 'probe', id: 1, context: 'versioned', kubeconfigPaths: [f], deadlineMs: DEADLINE }, hooks);
      const versionAsks = () => api.asked.filter((p) => p === '/version').length;
      for (let i = 0; i < 3; i++) expect(await probeIt()).toMatchObject({ state: 'ok', version: 'v1.33.1' });
      expect(versionAsks()).toBe(1);
      expect(api.asked.filter((p) => p === '/api/v1/nodes')).toHaveLength(3);

      // A restarted (upgraded) server: its connections are new, and the probe that sees them says its version.
      api.version = 'v1.34.0';
      api.dropConnections();
      await new Promise((r) => setTimeout(r, 100)); // the client's agent sees its kept sockets close
      expect(await probeIt()).toMatchObject({ state: 'ok', version: 'v1.34.0' });
      await probeIt();
      expect(versionAsks()).toBe(2);

      // A read that fails is judged with a fresh /version, as every probe was before.
      api.nodesStatus = 403;
      expect(await probeIt()).toMatchObject({ state: 'ok', version: 'v1.34.0', cause: expect.stringContaining('may not list nodes (403 Forbidden)') });
      expect(versionAsks()).toBe(3);
      await probeIt();
      expect(versionAsks()).toBe(4);
    } finally {
      await api.close();
    }
  });

  it('reads chunked answers, and sends a GET once more when its kept connection was lost before any answer', async () => {
    const api = await startFakeApi(tls, { chunked: true, dropSecond: true });
    try {
      const f = path.join(dir, 'lossy-config');
      writeKubeconfig(f, [{ name: 'lossy', server: api.url }], 'lossy', tls.cert);
      const probeIt = () => probeContext(loader(false), { type: 'probe', id: 1, context: 'lossy', kubeconfigPaths: [f], deadlineMs: DEADLINE }, hooks);
      for (let i = 0; i < 4; i++) {
        const r = await probeIt();
        expect(r).toMatchObject({ state: 'ok', version: 'v1.33.1', ready: true });
        expect(r.nodes?.map((x) => x.name)).toEqual(['dev-control-plane', 'dev-worker']);
      }
      // Requests were lost (asked, never answered) and every probe still read everything.
      expect(api.asked.filter((p) => p === '/api/v1/nodes').length).toBeGreaterThan(4);
    } finally {
      await api.close();
    }
  });

  it('an abort ends a request at once', async () => {
    const hang = await startFakeApi(tls, { mode: 'hang' });
    try {
      const f = path.join(dir, 'hang-config');
      writeKubeconfig(f, [{ name: 'hang', server: hang.url }], 'hang', tls.cert);
      const target = resolveTarget([f], 'hang');
      const controller = new AbortController();
      const t = performance.now();
      setTimeout(() => controller.abort(new Error('deadline')), 200);
      await expect(nativeApi(target)('/version', controller.signal)).rejects.toThrow();
      expect(performance.now() - t).toBeLessThan(1_000);
    } finally {
      await hang.close();
    }
  });
});
