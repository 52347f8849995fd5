// A minimal Docker Engine API client for the testbed, over the private unix
// socket with node:http. The testbed builds the world Kindtray is tested
// against, so it deliberately does not share Kindtray's Docker client
// (dockerode): a bug there must not be able to hide itself in the testbed.
// Every call has a deadline; errors carry the engine's own message.

import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** API version the testbed speaks: Engine 20.10's, the oldest we meet here. */
const API = '/v1.41';

export class DockerApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  State: string;
  Status: string;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number };
  Config: { Labels: Record<string, string>; Hostname: string };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> };
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A raw body (e.g. a tar stream for an image import). */
  stream?: Readable;
  contentType?: string;
  timeoutMs?: number;
}

export class DockerApi {
  readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /** Sends one request and resolves with the status code and body text. */
  raw(path: string, opts: RequestOptions = {}): Promise<{ statusCode: number; body: string }> {
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const query = Object.entries(opts.query ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const fullPath = `${path === '/_ping' ? '' : API}${path}${query ? `?${query}` : ''}`;
    const json = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path: fullPath,
          method: opts.method ?? 'GET',
          headers: {
            Host: 'docker',
            ...(json !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) } : {}),
            ...(opts.stream ? { 'Content-Type': opts.contentType ?? 'application/x-tar' } : {}),
          },
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        const why = err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : err.message;
        reject(new Error(`docker ${opts.method ?? 'GET'} ${path}: ${why}`, { cause: err }));
      });
      if (opts.stream) opts.stream.pipe(req);
      else req.end(json);
    });
  }

  /** Sends a request and parses the JSON answer; a status >= 400 rejects with DockerApiError. */
  async call<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const { statusCode, body } = await this.raw(path, opts);
    if (statusCode >= 400) {
      let message = body.trim();
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? message;
      } catch {
        // Not JSON: keep the text.
      }
      throw new DockerApiError(statusCode, `docker ${opts.method ?? 'GET'} ${path}: ${statusCode} ${message}`);
    }
    if (!body.trim()) return undefined as T;
    try {
      return JSON.parse(body) as T;
    } catch {
      return body as T;
    }
  }

  async ping(timeoutMs = 1_000): Promise<boolean> {
    try {
      const { statusCode, body } = await this.raw('/_ping', { timeoutMs });
      return statusCode === 200 && body === 'OK';
    } catch {
      return false;
    }
  }

  imageExists(name: string): Promise<boolean> {
    return this.raw(`/images/${encodeURIComponent(name)}/json`).then((r) => r.statusCode === 200);
  }

  /** `docker import`: a root filesystem tar becomes image `repo:tag`. */
  async importImage(tar: Readable, repo: string, tag: string): Promise<void> {
    const { statusCode, body } = await this.raw('/images/create', { method: 'POST', query: { fromSrc: '-', repo, tag }, stream: tar, timeoutMs: 60_000 });
    // The progress stream reports errors in-band with a 200.
    const error = /"error":\s*"([^"]*)"/.exec(body)?.[1];
    if (statusCode !== 200 || error) throw new Error(`docker import ${repo}:${tag}: ${error ?? `${statusCode} ${body}`}`);
  }

  createContainer(name: string, spec: Record<string, unknown>): Promise<{ Id: string }> {
    return this.call('/containers/create', { method: 'POST', query: { name }, body: spec });
  }

  /** Starts a container; one already running is fine (304). */
  async startContainer(id: string): Promise<void> {
    await this.call(`/containers/${encodeURIComponent(id)}/start`, { method: 'POST', timeoutMs: 30_000 });
  }

  /** Stops a container (SIGTERM, then SIGKILL after `graceSeconds`); one already stopped is fine (304). */
  async stopContainer(id: string, graceSeconds = 10): Promise<void> {
    await this.call(`/containers/${encodeURIComponent(id)}/stop`, { method: 'POST', query: { t: graceSeconds }, timeoutMs: (graceSeconds + 15) * 1000 });
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.call(`/containers/${encodeURIComponent(id)}`, { method: 'DELETE', query: { force: true, v: true }, timeoutMs: 30_000 });
    } catch (err) {
      if (!(err instanceof DockerApiError && err.statusCode === 404)) throw err;
    }
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.call(`/containers/${encodeURIComponent(id)}/json`);
  }

  listContainers(labelFilters: string[] = []): Promise<ContainerSummary[]> {
    return this.call('/containers/json', { query: { all: true, filters: JSON.stringify({ label: labelFilters }) } });
  }

  /** The container's output (stdout and stderr, demultiplexed) for error messages. */
  async containerLogs(id: string, tail = 50): Promise<string> {
    const { body } = await this.rawBuffer(`/containers/${encodeURIComponent(id)}/logs`, { stdout: true, stderr: true, tail });
    // Without a TTY the stream is multiplexed: 8-byte frame headers, big-endian length at offset 4.
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= body.length; ) {
      const len = body.readUInt32BE(i + 4);
      out.push(body.subarray(i + 8, i + 8 + len));
      i += 8 + len;
    }
    return Buffer.concat(out).toString('utf8');
  }

  private rawBuffer(path: string, query: Record<string, string | number | boolean>): Promise<{ statusCode: number; body: Buffer }> {
    const qs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: `${API}${path}?${qs}`, headers: { Host: 'docker' }, signal: AbortSignal.timeout(10_000) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  async networkExists(name: string): Promise<boolean> {
    return (await this.raw(`/networks/${encodeURIComponent(name)}`)).statusCode === 200;
  }

  createNetwork(spec: Record<string, unknown>): Promise<{ Id: string }> {
    return this.call('/networks/create', { method: 'POST', body: spec });
  }

  /** The bridge devices of this engine's bridge networks (named by option, else br-<id prefix>). */
  async bridgeNames(): Promise<string[]> {
    const networks = await this.call<{ Id: string; Driver: string; Options?: Record<string, string> }[]>('/networks');
    return networks.filter((n) => n.Driver === 'bridge').map((n) => n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.call(`/networks/${encodeURIComponent(name)}`, { method: 'DELETE' });
    } catch (err) {
      if (!(err instanceof DockerApiError && err.statusCode === 404)) throw err;
    }
  }
}
