// The monitor's small Docker client against an engine of our own on a unix
// socket: what it asks (paths, filters), what it makes of the answers and of
// failures (the engine's own message; the socket's error code, which
// classifyDockerFailure reads), that every call ends when its signal aborts,
// and that the monitor's door does not load dockerode.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerApi, DockerApiError } from './docker-api.ts';
import { classifyDockerFailure } from './docker.ts';
import { endpointFromUrl } from './docker-endpoint.ts';

interface Engine {
  socketPath: string;
  requests: string[];
  streams: ServerResponse[];
  close(): Promise<void>;
}

const dirs: string[] = [];
const engines: Engine[] = [];

async function startEngine(handle: (req: IncomingMessage, res: ServerResponse, engine: Engine) => void): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'kindtray-docker-api-'));
  dirs.push(dir);
  const engine: Engine = { socketPath: join(dir, 'docker.sock'), requests: [], streams: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    engine.requests.push(req.url ?? '');
    handle(req, res, engine);
  });
  await new Promise<void>((resolve) => server.listen(engine.socketPath, resolve));
  engine.close = async () => {
    for (const s of engine.streams) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  engines.push(engine);
  return engine;
}

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const signal = () => AbortSignal.timeout(5_000);

describe('the monitor\'s Docker client', () => {
  it('asks the engine what dockerode asked: _ping, version, the containers with their filters, the events', async () => {
    const engine = await startEngine((req, res, e) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/events') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"Action":"start"}\n');
        e.streams.push(res);
      } else if (path === '/_ping') res.end('OK');
      else if (path === '/version') res.end(JSON.stringify({ Version: '27.3.1', ApiVersion: '1.47' }));
      else if (path === '/containers/json') res.end(JSON.stringify([{ Id: 'abc', Names: ['/kind-control-plane'] }]));
      else res.writeHead(404).end();
    });
    const api = dockerApi(endpointFromUrl(`unix://${engine.socketPath}`, 'test'));
    await api.ping(signal());
    expect(await api.version(signal())).toEqual({ Version: '27.3.1', ApiVersion: '1.47' });
    expect(await api.listContainers({ label: ['io.x-k8s.kind.cluster'] }, signal())).toEqual([{ Id: 'abc', Names: ['/kind-control-plane'] }]);
    const listed = new URL(engine.requests.at(-1) ?? '', 'http://docker');
    expect(listed.searchParams.get('all')).toBe('1');
    expect(JSON.parse(listed.searchParams.get('filters') ?? '')).toEqual({ label: ['io.x-k8s.kind.cluster'] });

    const abort = new AbortController();
    const stream = await api.events({ type: ['container'] }, abort.signal);
    const first = await new Promise<string>((resolve) => stream.once('data', (b: Buffer) => resolve(b.toString())));
    expect(first).toBe('{"Action":"start"}\n');
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.on('error', () => undefined);
    abort.abort();
    await closed; // the signal ends the stream
  });

  it('a failure carries the engine\'s own message and status', async () => {
    const engine = await startEngine((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'the daemon is shutting down' }));
    });
    const api = dockerApi(endpointFromUrl(`unix://${engine.socketPath}`, 'test'));
    const failed = await api.version(signal()).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DockerApiError);
    expect(failed).toMatchObject({ statusCode: 500, message: 'the engine answered 500 to /version: the daemon is shutting down' });
    await expect(api.ping(signal())).rejects.toThrow(/500 to \/_ping/);
  });

  it('ends a call when its signal aborts, even when the engine never answers', async () => {
    const engine = await startEngine(() => undefined);
    const api = dockerApi(endpointFromUrl(`unix://${engine.socketPath}`, 'test'));
    const started = performance.now();
    await expect(api.listContainers({}, AbortSignal.timeout(200))).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('no socket is ENOENT, which the monitor reads as a stopped engine', async () => {
    const endpoint = endpointFromUrl(`unix://${join(tmpdir(), `kindtray-no-such-${process.pid}.sock`)}`, 'test');
    const failed = await dockerApi(endpoint).ping(signal()).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'ENOENT' });
    expect(classifyDockerFailure(failed, endpoint, { PATH: '/nonexistent' }).state).toBe('not-installed');
  });

  it('the monitor\'s door does not load dockerode; the fixes\' client loads it when first asked', () => {
    const door = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = `
      const m = await import(${JSON.stringify(door)});
      const { createRequire } = await import('node:module');
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((k) => k.includes('/node_modules/dockerode/'));
      const before = loaded();
      m.dockerClientFor(m.resolveDockerEndpoint());
      process.stdout.write(JSON.stringify([before, loaded()]));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([false, true]);
  });
});
