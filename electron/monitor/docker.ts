// The Docker engine, seen through its API (docker-api.ts) with a deadline on
// every call. `probeDocker` answers what state the engine is in (and why) plus
// the KinD node containers; docker-watcher.ts keeps that answer fresh.

import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { z } from 'zod';
import { DEADLINES, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from '../../shared/constants.ts';
import { isDeadlineError, withDeadline, formatMs } from '../../shared/deadline.ts';
import type { DockerHealth } from '../../shared/snapshot.ts';
import type { DockerApi } from './docker-api.ts';
import type { DockerEndpoint } from './docker-endpoint.ts';

export interface KindContainer {
  id: string;
  name: string;
  cluster: string;
  role: string;
  /** Docker's state word: running, exited, paused, restarting, created, dead. */
  state: string;
  status: string;
  ports: { privatePort: number; publicPort?: number; ip?: string; type: string }[];
}

export interface DockerObservation {
  health: DockerHealth;
  containers: KindContainer[];
  observedAt: number;
}

const ContainerList = z.array(
  z
    .object({
      Id: z.string(),
      Names: z.array(z.string()).default([]),
      Labels: z.record(z.string(), z.string()).nullable().default({}),
      State: z.string().default('unknown'),
      Status: z.string().default(''),
      Ports: z
        .array(z.object({ IP: z.string().optional(), PrivatePort: z.number(), PublicPort: z.number().optional(), Type: z.string() }).loose())
        .nullable()
        .default([]),
    })
    .loose(),
);

const VersionInfo = z.object({ Version: z.string().optional(), ApiVersion: z.string().optional() }).loose();

export function parseKindContainers(raw: unknown): KindContainer[] {
  const list = ContainerList.parse(raw);
  return list
    .filter((c) => c.Labels?.[KIND_CLUSTER_LABEL])
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      cluster: c.Labels?.[KIND_CLUSTER_LABEL] ?? '',
      role: c.Labels?.[KIND_ROLE_LABEL] ?? 'unknown',
      state: c.State,
      status: c.Status,
      ports: (c.Ports ?? []).map((p) => ({
        privatePort: p.PrivatePort,
        type: p.Type,
        ...(p.PublicPort !== undefined ? { publicPort: p.PublicPort } : {}),
        ...(p.IP !== undefined ? { ip: p.IP } : {}),
      })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function onPath(names: string[], env: NodeJS.ProcessEnv): boolean {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return names.some((n) => dirs.some((d) => existsSync(join(d, n))));
}

function describeSocketAccess(socketPath: string): string {
  const who = typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'this user';
  try {
    const st = statSync(socketPath);
    const mode = (st.mode & 0o777).toString(8);
    return `${who} cannot open ${socketPath} (owner uid ${st.uid}, group gid ${st.gid}, mode ${mode}); join the socket's group (usually "docker") and log in again`;
  } catch {
    return `${who} cannot open ${socketPath}`;
  }
}

/** Turns a failed call into the engine state a person can act on. */
export function classifyDockerFailure(e: unknown, endpoint: DockerEndpoint, env: NodeJS.ProcessEnv = process.env): DockerHealth {
  const base = { endpoint: endpoint.url, endpointSource: endpoint.source };
  if (isDeadlineError(e)) {
    return { ...base, state: 'unresponsive', cause: `the engine at ${endpoint.url} accepted the connection but did not answer in ${formatMs(e.ms)}` };
  }
  const code = errorCode(e);
  if (code === 'EACCES' || code === 'EPERM') {
    return { ...base, state: 'no-permission', cause: endpoint.socketPath ? describeSocketAccess(endpoint.socketPath) : `permission denied at ${endpoint.url}` };
  }
  if (code === 'ENOENT' && endpoint.socketPath) {
    const installed = onPath(['docker', 'dockerd', 'podman', 'colima', 'rdctl'], env) || existsSync('/Applications/Docker.app');
    return installed
      ? { ...base, state: 'stopped', cause: `no Docker socket at ${endpoint.socketPath}` }
      : { ...base, state: 'not-installed', cause: `no Docker socket at ${endpoint.socketPath}, and no docker, podman or colima on PATH` };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE') {
    return { ...base, state: 'stopped', cause: `nothing answers at ${endpoint.url} (${code})` };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { ...base, state: 'unresponsive', cause: `the engine at ${endpoint.url} failed: ${message}` };
}

/** The engine's version words, as a running DockerHealth carries them. */
export type EngineVersion = Pick<DockerHealth, 'version' | 'apiVersion'>;

/**
 * One look at the engine: ping, version, and the KinD node containers, each
 * under the deadline. With `known` (the version of the engine the caller has
 * been following since it last came up) the look is the container list
 * alone: it answers whether the engine is there as the ping would.
 */
export async function probeDocker(
  api: DockerApi,
  endpoint: DockerEndpoint,
  opts: { deadlineMs?: number; signal?: AbortSignal; known?: EngineVersion } = {},
): Promise<DockerObservation> {
  const known = opts.known;
  const ms = opts.deadlineMs ?? DEADLINES.docker;
  try {
    // A live connection can outlast the socket file: dockerd removes the file the moment it
    // begins to stop, and that is the moment new clients can no longer reach it.
    if (endpoint.socketPath && !endpoint.socketPath.startsWith('//') && !existsSync(endpoint.socketPath)) {
      throw Object.assign(new Error(`no socket at ${endpoint.socketPath}`), { code: 'ENOENT' });
    }
    const [version, raw] = await withDeadline(
      `Docker engine at ${endpoint.url}`,
      ms,
      async (signal) => {
        const list = () => api.listContainers({ label: [KIND_CLUSTER_LABEL] }, signal);
        if (known) return [undefined, await list()] as const;
        await api.ping(signal);
        return Promise.all([api.version(signal), list()]);
      },
      opts.signal,
    );
    const v = version === undefined ? { Version: known?.version, ApiVersion: known?.apiVersion } : VersionInfo.parse(version);
    return {
      health: {
        state: 'running',
        endpoint: endpoint.url,
        endpointSource: endpoint.source,
        ...(v.Version ? { version: v.Version } : {}),
        ...(v.ApiVersion ? { apiVersion: v.ApiVersion } : {}),
      },
      containers: parseKindContainers(raw),
      observedAt: Date.now(),
    };
  } catch (e) {
    return { health: classifyDockerFailure(e, endpoint), containers: [], observedAt: Date.now() };
  }
}
