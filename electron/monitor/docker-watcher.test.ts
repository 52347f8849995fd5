// The Docker watcher against a small engine of our own on a unix socket: it
// answers _ping, version, the container list and a silent event stream, and
// can freeze (accept connections, never answer), as a hung dockerd does. A
// frozen engine sends no event and keeps its stream open: only the liveness
// ping can tell, and it must within the fault table's 1 s.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerObservation } from './docker.ts';
import { DockerWatcher } from './docker-watcher.ts';

interface Engine {
  socketPath: string;
  frozen: boolean;
  pings: number;
  /** Connections the engine accepted. */
  connections: number;
  /** Paths asked, in order. */
  asked: string[];
  /** Writes raw bytes to every open event stream. */
  emit(raw: string): void;
  /** Ends every open event stream, as an engine that stops does. */
  endStreams(): void;
  close(): Promise<void>;
}

async function startEngine(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'kindtray-docker-watcher-'));
  const socketPath = join(dir, 'docker.sock');
  const held: ServerResponse[] = [];
  const streams: ServerResponse[] = [];
  const engine: Engine = { socketPath, frozen: false, pings: 0, connections: 0, asked: [], emit: (raw) => streams.forEach((s) => s.write(raw)), endStreams: () => streams.splice(0).forEach((s) => s.end()), close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[0-9.]+/, '').split('?')[0];
    engine.asked.push(path ?? '');
    if (path === '/events') {
      // Open and silent, as a healthy engine with nothing happening (and a frozen one) keeps it.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      held.push(res);
      streams.push(res);
      return;
    }
    if (engine.frozen) {
      held.push(res);
      return;
    }
    res.setHeader('content-type', path === '/_ping' ? 'text/plain' : 'application/json');
    if (path === '/_ping') {
      engine.pings++;
      res.end('OK');
    } else if (path === '/version') res.end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41' }));
    else if (path === '/containers/json') res.end('[]');
    else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  server.on('connection', () => engine.connections++);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  engine.close = async () => {
    for (const r of held) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  return engine;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function watch(engine: Engine, opts: { livenessMs?: number; onContainerStart?: (cluster: string) => void } = {}): { watcher: DockerWatcher; seen: DockerObservation[]; until(state: string, timeoutMs: number): Promise<number> } {
  const seen: DockerObservation[] = [];
  const waiters: (() => void)[] = [];
  const watcher = new DockerWatcher({
    endpoint: { url: `unix://${engine.socketPath}`, source: 'test', socketPath: engine.socketPath },
    onChange: (o) => {
      seen.push(o);
      for (const w of waiters.splice(0)) w();
    },
    ...opts,
  });
  cleanups.push(() => watcher.stop());
  const until = async (state: string, timeoutMs: number): Promise<number> => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const hit = seen.find((o) => o.health.state === state);
      if (hit) return hit.observedAt;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, end - Date.now());
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    throw new Error(`Docker never seen ${state} in ${timeoutMs} ms; seen: ${seen.map((o) => o.health.state).join(', ')}`);
  };
  return { watcher, seen, until };
}

describe('Docker liveness', () => {
  it('a frozen engine (accepts, never answers; its event stream open and silent) is unresponsive within the 1 s bound', async () => {
    const engine = await startEngine();
    cleanups.push(() => engine.close());
    const w = watch(engine);
    expect((await w.watcher.start()).health.state).toBe('running');
    // Let the event stream open and a few beats pass, as in a long idle day.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(engine.pings).toBeGreaterThan(1);
    const frozenAt = Date.now();
    engine.frozen = true;
    const noticedAt = await w.until('unresponsive', 5_000);
    // The design's bound is 1 s; room for a loaded 2-core machine, at most 1.5 times.
    expect(noticedAt - frozenAt).toBeLessThanOrEqual(1_500);
    expect(w.seen.at(-1)?.health.cause).toMatch(/did not answer/);
  });

  it('thaws: once the engine answers again, it is running again without any event', async () => {
    const engine = await startEngine();
    cleanups.push(() => engine.close());
    const w = watch(engine);
    await w.watcher.start();
    engine.frozen = true;
    await w.until('unresponsive', 5_000);
    const thawedAt = Date.now();
    engine.frozen = false;
    w.seen.length = 0;
    const runningAt = await w.until('running', 10_000);
    expect(runningAt - thawedAt).toBeLessThan(10_000);
  });

  it('the beat is cheap: its pings share one kept-alive connection', async () => {
    const engine = await startEngine();
    cleanups.push(() => engine.close());
    const w = watch(engine);
    await w.watcher.start();
    await new Promise((r) => setTimeout(r, 600));
    const pings = engine.pings;
    const connections = engine.connections;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(engine.pings - pings).toBeGreaterThanOrEqual(3);
    // One connection for the beat (opened at most once in the window), none per ping.
    expect(engine.connections - connections).toBeLessThanOrEqual(1);
  });

  it('pings only while the engine is up, and not at all when turned off', async () => {
    const engine = await startEngine();
    cleanups.push(() => engine.close());
    const w = watch(engine, { livenessMs: 0 });
    await w.watcher.start();
    // The first look, and the one after the event stream opened, have pinged.
    await new Promise((r) => setTimeout(r, 500));
    const before = engine.pings;
    await new Promise((r) => setTimeout(r, 1_200));
    // No beat followed (the idle full look is 15 s away).
    expect(engine.pings - before).toBe(0);
  });
});

describe('looks at the engine', () => {
  it('while its event stream holds, a look is the container list alone; once the stream broke, version and ping again', async () => {
    const engine = await startEngine();
    cleanups.push(() => engine.close());
    const w = watch(engine, { livenessMs: 0 });
    await w.watcher.start();
    // The stream opens a moment after the first look, and a look follows it.
    const until = Date.now() + 5_000;
    while (Date.now() < until && !engine.asked.includes('/events')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    engine.asked.length = 0;
    const o = await w.watcher.refresh();
    expect(engine.asked).toEqual(['/containers/json']);
    expect(o.health).toMatchObject({ state: 'running', version: '20.10.24', apiVersion: '1.41' });

    // The engine restarted (its stream ends): the next look asks everything again.
    engine.asked.length = 0;
    engine.endStreams();
    const again = Date.now() + 5_000;
    while (Date.now() < again && !engine.asked.includes('/version')) await new Promise((r) => setTimeout(r, 50));
    expect(engine.asked).toContain('/_ping');
    expect(engine.asked).toContain('/version');
  });
});

describe('starts seen on the event stream', () => {
  it('a KinD control plane\'s start names its cluster (even split across chunks); a worker\'s or a stop does not', async () => {
    const engine = await startEngine();
    cleanups.push(() => engine.close());
    const started: string[] = [];
    const w = watch(engine, { onContainerStart: (c) => started.push(c) });
    await w.watcher.start();
    const event = (action: string, role: string, cluster: string) =>
      JSON.stringify({ Type: 'container', Action: action, status: action, Actor: { ID: 'x', Attributes: { 'io.x-k8s.kind.cluster': cluster, 'io.x-k8s.kind.role': role } } });
    const until = Date.now() + 5_000;
    // The stream opens a moment after the first look.
    while (Date.now() < until && started.length === 0) {
      const line = `${event('stop', 'control-plane', 'old')}\n${event('start', 'worker', 'dev')}\n${event('start', 'control-plane', 'dev')}\n`;
      engine.emit(line.slice(0, 50));
      engine.emit(line.slice(50));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(started[0]).toBe('dev');
    expect(new Set(started)).toEqual(new Set(['dev']));
  });
});

