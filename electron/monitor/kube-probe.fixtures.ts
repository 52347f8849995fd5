// Test fixtures for the Kubernetes probe: a local HTTPS "API server" with a
// self-signed certificate made by openssl, that can answer, report nodes not
// Ready, refuse credentials, or accept and never answer; and kubeconfig files
// pointing at it. Used by unit tests only (no Docker).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export interface Tls {
  cert: string;
  key: string;
}

export function makeTempDir(prefix = 'kindtray-kube-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A self-signed certificate for 127.0.0.1, made by the openssl CLI. */
export function makeTls(dir: string): Tls {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** hang: accepts, never answers; nodes-hang: answers all but the node list (a slow list on a live API). */
export type FakeApiMode = 'ok' | 'hang' | 'nodes-hang' | 'nodes-not-ready' | 'not-ready';

export interface FakeApi {
  port: number;
  url: string;
  mode: FakeApiMode;
  /** When set, requests must carry `Authorization: Bearer <token>`; others get 401. */
  token?: string;
  /** Requests seen, by path (without query). */
  requests: Map<string, number>;
  /** Told each path (without query) just after it was answered. */
  onAnswered?: (path: string) => void;
  count(pathPrefix: string): number;
  close(): Promise<void>;
}

const nodeList = (notReady: boolean) => ({
  kind: 'NodeList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '1' },
  items: [
    {
      metadata: { name: 'dev-control-plane', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: notReady ? 'False' : 'True', reason: notReady ? 'KubeletNotReady' : 'KubeletReady' }],
      },
    },
    {
      metadata: { name: 'dev-worker', labels: {} },
      status: { capacity: { cpu: '500m', memory: '16318536Ki' }, conditions: [{ type: 'Ready', status: 'True' }] },
    },
  ],
});

export async function startFakeApi(tls: Tls, opts: { mode?: FakeApiMode; token?: string } = {}): Promise<FakeApi> {
  const sockets = new Set<Socket>();
  const api: FakeApi = {
    port: 0,
    url: '',
    mode: opts.mode ?? 'ok',
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    requests: new Map(),
    count: (prefix) => [...api.requests].filter(([p]) => p.startsWith(prefix)).reduce((n, [, c]) => n + c, 0),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const p = (req.url ?? '/').split('?')[0] ?? '/';
    api.requests.set(p, (api.requests.get(p) ?? 0) + 1);
    if (api.mode === 'hang' || (api.mode === 'nodes-hang' && p === '/api/v1/nodes')) return; // accept, never answer
    res.on('finish', () => api.onAnswered?.(p));
    if (api.token !== undefined && req.headers.authorization !== `Bearer ${api.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
      return;
    }
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (p === '/readyz' || p === '/livez' || p === '/healthz') {
      if (api.mode === 'not-ready') {
        res.writeHead(500);
        res.end('[-]etcd failed');
      } else {
        res.writeHead(200);
        res.end('ok');
      }
    } else if (p === '/version') {
      json({ major: '1', minor: '33', gitVersion: 'v1.33.1', gitCommit: 'abc', gitTreeState: 'clean', buildDate: '2025-05-01T00:00:00Z', goVersion: 'go1.24', compiler: 'gc', platform: 'linux/amd64' });
    } else if (p === '/api/v1/nodes') {
      json(nodeList(api.mode === 'nodes-not-ready'));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.port = (server.address() as AddressInfo).port;
  api.url = `https://127.0.0.1:${api.port}`;
  return api;
}

/** A local port on which nothing listens (connections are refused). */
export async function refusedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface ContextDef {
  name: string;
  server: string;
  /** Defaults to the fixture's CA. */
  caData?: string;
  user?: Record<string, unknown>;
}

/** Writes a kubeconfig with one cluster and one user per context, all named after it. */
export function writeKubeconfig(file: string, contexts: ContextDef[], current?: string, ca?: string): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({
      name: c.name,
      cluster: { server: c.server, 'certificate-authority-data': c.caData ?? Buffer.from(ca ?? '').toString('base64') },
    })),
    users: contexts.map((c) => ({ name: c.name, user: c.user ?? { token: 'secret' } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    'current-context': current ?? contexts[0]?.name ?? '',
  };
  writeFileSync(file, stringify(doc));
  return file;
}

/** Writes an executable shell script. */
export function writeScript(file: string, body: string): string {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Pids of live (not zombie) processes whose command line contains `marker`. */
export function processesMatching(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(marker)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
