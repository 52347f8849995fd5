// Time to truth after a fault clears (issue 9): a watched change probes the
// affected contexts at once, their backoff forgotten; a KinD context is probed
// as local (its backoff never exceeds the interval). The monitor runs against
// a small Docker engine of our own on a unix socket (one KinD control plane,
// an event stream the test writes to) and a prober that only records calls.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeProbeResult } from '../../shared/contracts/kube-probe.ts';
import { KubeProber, type ProbeOptions } from './kube-probe.ts';
import { Monitor } from './monitor.ts';

const CLUSTER = 'dev';
const CONTEXT = `kind-${CLUSTER}`;

interface Engine {
  socketPath: string;
  /** Sends one Docker event to every open event stream. */
  emit(event: Record<string, unknown>): void;
  close(): Promise<void>;
}

async function startEngine(dir: string): Promise<Engine> {
  const socketPath = join(dir, 'docker.sock');
  const streams: ServerResponse[] = [];
  const container = {
    Id: 'c1',
    Names: [`/${CLUSTER}-control-plane`],
    Labels: { 'io.x-k8s.kind.cluster': CLUSTER, 'io.x-k8s.kind.role': 'control-plane' },
    State: 'running',
    Status: 'Up 1 minute',
    Ports: [{ PrivatePort: 6443, PublicPort: 41234, Type: 'tcp', IP: '127.0.0.1' }],
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[0-9.]+/, '').split('?')[0];
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      streams.push(res);
      return;
    }
    res.setHeader('content-type', path === '/_ping' ? 'text/plain' : 'application/json');
    if (path === '/_ping') res.end('OK');
    else if (path === '/version') res.end(JSON.stringify({ Version: '27.0.0', ApiVersion: '1.46' }));
    else if (path === '/containers/json') res.end(JSON.stringify([container]));
    else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    emit: (event) => {
      for (const s of streams) s.write(`${JSON.stringify(event)}\n`);
    },
    close: async () => {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A prober that answers at once (the API is down) and records what the monitor asks of it. */
class RecordingProber extends KubeProber {
  readonly calls: string[] = [];
  override start(): Promise<boolean> {
    return Promise.resolve(true);
  }
  override probe(context: string, opts: ProbeOptions = {}): Promise<KubeProbeResult> {
    this.calls.push(`probe ${context}${opts.force ? ' force' : ''}${opts.local ? ' local' : ''}`);
    return Promise.resolve({ context, state: 'unreachable', cause: `context ${context}: connection refused`, latencyMs: 1, finishedAt: Date.now() });
  }
  override resetBackoff(context: string): void {
    this.calls.push(`reset ${context}`);
  }
  /** A long backoff: without a watched change the context would not be asked again during the test. */
  override nextProbeDelay(): number {
    return 60_000;
  }
}

const kubeconfig = (server: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT, cluster: { server } }],
    users: [{ name: CONTEXT, user: { token: 't' } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT } }],
    'current-context': CONTEXT,
  });

const until = async (what: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'kindtray-monitor-probes-'));
  const engine = await startEngine(dir);
  const file = join(dir, 'config');
  writeFileSync(file, kubeconfig('https://127.0.0.1:41234'));
  const prober = new RecordingProber();
  const monitor = new Monitor({ env: { DOCKER_HOST: `unix://${engine.socketPath}`, KUBECONFIG: file, PATH: process.env.PATH ?? '' }, home: dir, prober, grace: { dockerStart: 200, clusterStart: 200 } });
  cleanup = async () => {
    monitor.stop();
    prober.dispose();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  };
  await monitor.start();
  return { engine, file, prober, monitor };
}

describe('watched changes probe at once, with the backoff forgotten', { timeout: 20_000 }, () => {
  it('a KinD context is probed as local', async () => {
    const { prober } = await setUp();
    expect(prober.calls).toContain(`probe ${CONTEXT} force local`);
  });

  it('a control-plane container start: its context is probed at once and its backoff reset', async () => {
    const { engine, prober } = await setUp();
    prober.calls.length = 0;
    engine.emit({ Type: 'container', Action: 'start', status: 'start', id: 'c1', Actor: { ID: 'c1', Attributes: { 'io.x-k8s.kind.cluster': CLUSTER, 'io.x-k8s.kind.role': 'control-plane' } } });
    await until(() => prober.calls.includes(`probe ${CONTEXT} force local`));
    expect(prober.calls.slice(0, 2)).toEqual([`reset ${CONTEXT}`, `probe ${CONTEXT} force local`]);
  });

  it('a kubeconfig change: every context worth probing is probed at once and its backoff reset', async () => {
    const { file, prober } = await setUp();
    prober.calls.length = 0;
    writeFileSync(file, kubeconfig('https://127.0.0.1:41234/'));
    await until(() => prober.calls.includes(`probe ${CONTEXT} force local`));
    expect(prober.calls.slice(0, 2)).toEqual([`reset ${CONTEXT}`, `probe ${CONTEXT} force local`]);
  });
});
