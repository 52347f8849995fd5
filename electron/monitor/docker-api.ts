// The few Docker Engine API calls the monitor makes all day (_ping, version,
// the container list, the event stream), with Node's own http over the
// engine's unix socket or named pipe, or tcp (TLS when the endpoint has
// certificates). Every call takes the caller's AbortSignal: its deadline.
// dockerode is the engine's client for everything else, but it costs a process
// about 34 MiB (bench/footprint.ts), so it is loaded only when it is used: for
// an ssh:// engine here, and for what the fixes do (dockerClient).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request, type IncomingMessage, type RequestOptions } from 'node:http';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DEADLINES } from '../../shared/constants.ts';
import type { DockerEndpoint } from './docker-endpoint.ts';

/** What the monitor asks the engine; each call ends when `signal` aborts. */
export interface DockerApi {
  /** Resolves when the engine answers `_ping` with a success. */
  ping(signal: AbortSignal): Promise<void>;
  /** GET /version, parsed JSON. */
  version(signal: AbortSignal): Promise<unknown>;
  /** GET /containers/json?all=1 with these filters, parsed JSON. */
  listContainers(filters: Record<string, string[]>, signal: AbortSignal): Promise<unknown>;
  /** GET /events with these filters: the open stream of newline-delimited JSON, ended when `signal` aborts. */
  events(filters: Record<string, string[]>, signal: AbortSignal): Promise<NodeJS.ReadableStream>;
}

/** A container list of a busy engine is some hundreds of KiB; past this the answer is not one we want. */
const MAX_BODY_BYTES = 16 * 2 ** 20;

/** An answer that is not a success, with the engine's own message (`{"message": ...}`) when it gave one. */
export class DockerApiError extends Error {
  readonly statusCode: number;
  constructor(path: string, statusCode: number, body: string) {
    let message = body.trim().slice(0, 300);
    try {
      const m = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof m === 'string') message = m;
    } catch {
      // Not JSON: the text as it came.
    }
    super(`the engine answered ${statusCode} to ${path}${message ? `: ${message}` : ''}`);
    this.statusCode = statusCode;
  }
}

const require = createRequire(import.meta.url);

/** dockerode, for what DockerApi does not do (starting, stopping and restarting containers: the fixes). Loaded on the first call. */
export function dockerClient(endpoint: DockerEndpoint, opts: { forEvents?: boolean } = {}): Docker {
  const Dockerode = require('dockerode') as typeof Docker;
  return new Dockerode({
    ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port, protocol: endpoint.protocol }),
    ...tlsFiles(endpoint),
    // `timeout` is an inactivity timeout: it would kill an idle event stream.
    ...(opts.forEvents ? {} : { timeout: DEADLINES.docker * 4 }),
  });
}

function tlsFiles(endpoint: DockerEndpoint): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  if (!endpoint.tlsDir) return {};
  const dir = endpoint.tlsDir;
  return { ca: readFileSync(join(dir, 'ca.pem')), cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
}

/** The client for `endpoint`: Node's http for a socket, a pipe or tcp; dockerode (loaded then) for ssh. */
export function dockerApi(endpoint: DockerEndpoint): DockerApi {
  return endpoint.protocol === 'ssh' ? viaDockerode(endpoint) : new HttpDockerApi(endpoint);
}

class HttpDockerApi implements DockerApi {
  private readonly endpoint: DockerEndpoint;
  private tls: ReturnType<typeof tlsFiles> | undefined;

  constructor(endpoint: DockerEndpoint) {
    this.endpoint = endpoint;
  }

  async ping(signal: AbortSignal): Promise<void> {
    await this.text('/_ping', signal);
  }

  async version(signal: AbortSignal): Promise<unknown> {
    return JSON.parse(await this.text('/version', signal)) as unknown;
  }

  async listContainers(filters: Record<string, string[]>, signal: AbortSignal): Promise<unknown> {
    return JSON.parse(await this.text(`/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`, signal)) as unknown;
  }

  async events(filters: Record<string, string[]>, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    const path = `/events?filters=${encodeURIComponent(JSON.stringify(filters))}`;
    const res = await this.get(path, signal);
    if (res.statusCode !== 200) throw new DockerApiError('/events', res.statusCode ?? 0, await body(res, '/events'));
    return res;
  }

  /** The body of a successful answer to GET `path`, as text. */
  private async text(path: string, signal: AbortSignal): Promise<string> {
    const res = await this.get(path, signal);
    const text = await body(res, path);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new DockerApiError(path.split('?')[0] ?? path, status, text);
    return text;
  }

  /** One GET on a connection of its own (as dockerode does: a kept one would outlive a permission taken away). */
  private get(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const e = this.endpoint;
    const https = e.protocol === 'https';
    const options: RequestOptions = {
      method: 'GET',
      path,
      signal,
      agent: false,
      headers: { host: 'docker', 'user-agent': 'kindtray' },
      ...(e.socketPath ? { socketPath: e.socketPath } : { host: e.host, port: e.port }),
    };
    return new Promise<IncomingMessage>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      // node:https (and TLS) only for an engine that needs it: the supervisor never loads them otherwise.
      const req = https
        ? process.getBuiltinModule('node:https').request({ ...options, ...(this.tls ??= tlsFiles(e)) }, resolve)
        : request(options, resolve);
      req.on('error', reject);
      req.end();
    });
  }
}

/** The whole body of `res` as text (at most MAX_BODY_BYTES); rejects when the connection ends before it. */
function body(res: IncomingMessage, path: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) res.destroy(new Error(`the answer to ${path} is larger than ${MAX_BODY_BYTES / 2 ** 20} MiB`));
      else chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error(`the connection closed before the answer to ${path} was complete`));
    });
  });
}

/** dockerode accepts `abortSignal` on every call; its typings omit it on a few. */
interface SignalledDocker {
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  version(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  listContainers(opts: { all: boolean; filters: string; abortSignal: AbortSignal }): Promise<unknown>;
  getEvents(opts: { filters: string; abortSignal: AbortSignal }): Promise<NodeJS.ReadableStream>;
}

/** An ssh:// engine: dockerode speaks ssh (with its ssh2), Node's http does not. */
function viaDockerode(endpoint: DockerEndpoint): DockerApi {
  let calls: SignalledDocker | undefined;
  let stream: SignalledDocker | undefined;
  const d = () => (calls ??= dockerClient(endpoint) as unknown as SignalledDocker);
  return {
    ping: async (signal) => void (await d().ping({ abortSignal: signal })),
    version: (signal) => d().version({ abortSignal: signal }),
    listContainers: (filters, signal) => d().listContainers({ all: true, filters: JSON.stringify(filters), abortSignal: signal }),
    events: (filters, signal) => (stream ??= dockerClient(endpoint, { forEvents: true }) as unknown as SignalledDocker).getEvents({ filters: JSON.stringify(filters), abortSignal: signal }),
  };
}
