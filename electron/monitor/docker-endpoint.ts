// Finds the Docker engine the way its users expect: DOCKER_HOST, then the
// current Docker context (DOCKER_CONTEXT or ~/.docker/config.json), then the
// sockets that Docker Desktop, Colima, Rancher Desktop and Podman create, then
// /var/run/docker.sock. dockerode reads none of the context files, so we do.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

export interface DockerEndpoint {
  /** `unix:///path/docker.sock`, `tcp://host:port`, `ssh://user@host`, `npipe:////./pipe/docker_engine` */
  url: string;
  /** Why this endpoint: `DOCKER_HOST`, `docker context "colima"`, `Docker Desktop socket`, `default socket`. */
  source: string;
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https' | 'ssh';
  /** Folder holding ca.pem/cert.pem/key.pem, for tcp with TLS. */
  tlsDir?: string;
}

export interface EndpointEnv {
  env: NodeJS.ProcessEnv;
  home: string;
  platform: NodeJS.Platform;
  exists: (path: string) => boolean;
  readFile: (path: string) => string;
}

const defaultEndpointEnv = (): EndpointEnv => ({
  env: process.env,
  home: homedir(),
  platform: process.platform,
  exists: existsSync,
  readFile: (p) => readFileSync(p, 'utf8'),
});

const ConfigJson = z.object({ currentContext: z.string().optional() }).loose();
const ContextMeta = z
  .object({ Name: z.string().optional(), Endpoints: z.object({ docker: z.object({ Host: z.string() }).loose() }).loose() })
  .loose();

/** Parses a Docker host URL into dockerode's connection options. */
export function endpointFromUrl(url: string, source: string, tlsDir?: string): DockerEndpoint {
  if (url.startsWith('unix://')) return { url, source, socketPath: url.slice('unix://'.length) || '/var/run/docker.sock' };
  if (url.startsWith('npipe://')) return { url, source, socketPath: url.slice('npipe://'.length) || '//./pipe/docker_engine' };
  const parsed = new URL(url.includes('://') ? url : `tcp://${url}`);
  const ssh = parsed.protocol === 'ssh:';
  return {
    url,
    source,
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : ssh ? 22 : tlsDir ? 2376 : 2375,
    protocol: ssh ? 'ssh' : tlsDir ? 'https' : 'http',
    ...(tlsDir ? { tlsDir } : {}),
  };
}

/** The current Docker context's endpoint, when a non-default context is selected. */
function contextEndpoint(e: EndpointEnv): DockerEndpoint | undefined {
  const configDir = e.env.DOCKER_CONFIG || join(e.home, '.docker');
  let name = e.env.DOCKER_CONTEXT;
  if (!name) {
    const configPath = join(configDir, 'config.json');
    if (!e.exists(configPath)) return undefined;
    try {
      name = ConfigJson.parse(JSON.parse(e.readFile(configPath))).currentContext;
    } catch {
      return undefined; // A broken config.json is Docker CLI's problem; fall through to the sockets.
    }
  }
  if (!name || name === 'default') return undefined;
  // Docker stores each context under the SHA-256 of its name.
  const digest = createHash('sha256').update(name).digest('hex');
  const metaPath = join(configDir, 'contexts', 'meta', digest, 'meta.json');
  if (!e.exists(metaPath)) return undefined;
  try {
    const meta = ContextMeta.parse(JSON.parse(e.readFile(metaPath)));
    const tlsDir = join(configDir, 'contexts', 'tls', digest, 'docker');
    return endpointFromUrl(meta.Endpoints.docker.Host, `docker context "${name}"`, e.exists(tlsDir) ? tlsDir : undefined);
  } catch {
    return undefined;
  }
}

/** Sockets of the engines users install, most specific first. */
export function knownSockets(e: Pick<EndpointEnv, 'env' | 'home' | 'platform'>): { path: string; source: string }[] {
  const h = e.home;
  const runtime = e.env.XDG_RUNTIME_DIR;
  return [
    { path: join(h, '.docker/run/docker.sock'), source: 'Docker Desktop socket' },
    { path: join(h, '.docker/desktop/docker.sock'), source: 'Docker Desktop socket' },
    { path: join(h, '.colima/default/docker.sock'), source: 'Colima socket' },
    { path: join(h, '.colima/docker.sock'), source: 'Colima socket' },
    { path: join(h, '.rd/docker.sock'), source: 'Rancher Desktop socket' },
    ...(runtime ? [{ path: join(runtime, 'docker.sock'), source: 'rootless Docker socket' }] : []),
    ...(runtime ? [{ path: join(runtime, 'podman/podman.sock'), source: 'Podman socket' }] : []),
    { path: '/run/podman/podman.sock', source: 'Podman socket' },
  ];
}

export function resolveDockerEndpoint(overrides: Partial<EndpointEnv> = {}): DockerEndpoint {
  const e = { ...defaultEndpointEnv(), ...overrides };
  const fromEnv = e.env.DOCKER_HOST;
  if (fromEnv) {
    const tls = e.env.DOCKER_TLS_VERIFY && e.env.DOCKER_CERT_PATH ? e.env.DOCKER_CERT_PATH : undefined;
    return endpointFromUrl(fromEnv, 'DOCKER_HOST', tls);
  }
  const ctx = contextEndpoint(e);
  if (ctx) return ctx;
  if (e.platform === 'win32') return endpointFromUrl('npipe:////./pipe/docker_engine', 'default pipe');
  for (const s of knownSockets(e)) {
    if (e.exists(s.path)) return endpointFromUrl(`unix://${s.path}`, s.source);
  }
  return endpointFromUrl('unix:///var/run/docker.sock', 'default socket');
}
