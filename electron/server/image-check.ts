// Validation knows local images: a task whose image exists in the local Docker
// but not on its KinD cluster's nodes cannot start there (a locally built image
// is in no registry the nodes could pull from). It gets an error on
// resources.image_id with the fix "Load IMG into cluster NAME"
// (load-image:NAME:IMG); a pulled image the nodes lack only gets a warning,
// since they can pull it themselves. The nodes are asked as kind asks them
// (`crictl` in the node container, through Docker), under the caller's
// deadline; their answers are kept for a moment.

import type Docker from 'dockerode';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { FIXES } from '../../shared/fixes.ts';
import { withDeadline } from '../../shared/deadline.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import type { ValidationIssue } from '../../shared/task/issues.ts';

/** A node's list that has the image is reused this long (one that lacks it is asked again: a load may just have put it there). */
const NODE_CACHE_MS = 3_000;

/** `app` → `docker.io/library/app:latest`, as containerd names what `ctr images import` stores. */
export function normalizeImageRef(ref: string): string {
  const [nameTag = '', digest] = ref.split('@');
  const slash = nameTag.indexOf('/');
  const first = slash < 0 ? '' : nameTag.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let name = hasDomain ? nameTag : slash < 0 ? `docker.io/library/${nameTag}` : `docker.io/${nameTag}`;
  const lastSlash = name.lastIndexOf('/');
  if (name.lastIndexOf(':') <= lastSlash && digest === undefined) name = `${name}:latest`;
  return digest === undefined ? name : `${name}@${digest}`;
}

export interface ImageFacts {
  /** The local image's ID, or undefined when the local Docker has no such image. */
  localId?: string;
  /** Whether the local image came from a registry (it has repo digests): the nodes could pull it. */
  pulled?: boolean;
  /** Node name → whether it has the image (same name and ID). */
  nodes: Map<string, boolean>;
}

/** How the worker asks Docker; tests hand in another. */
export interface ImageProbe {
  inspect(image: string, signal: AbortSignal): Promise<{ id: string; pulled: boolean } | undefined>;
  /** The image IDs and names a node's containerd holds (`crictl images -o json`). */
  nodeImages(node: string, signal: AbortSignal): Promise<{ id: string; repoTags: string[] }[]>;
}

const require = createRequire(import.meta.url);

/**
 * A client for the endpoint, or undefined for one it cannot speak to. dockerode
 * (with the gRPC, protobuf and ssh libraries it loads: about 30 MiB) is loaded
 * here, at the first validation of a task with an image, never at the worker's start.
 */
function dockerFor(endpoint: string): Docker | undefined {
  const socketPath = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : undefined;
  const tcp = /^tcp:\/\/([^:/]+):(\d+)/.exec(endpoint);
  if (socketPath === undefined && !tcp) return undefined;
  const Dockerode = require('dockerode') as typeof Docker;
  return socketPath !== undefined ? new Dockerode({ socketPath }) : new Dockerode({ host: tcp?.[1], port: Number(tcp?.[2]), protocol: 'http' });
}

/** The probe over Docker's API at the snapshot's endpoint (plain unix socket or tcp). */
export function dockerImageProbe(endpoint: string): ImageProbe | undefined {
  const docker = dockerFor(endpoint);
  if (!docker) return undefined;
  return {
    async inspect(image, signal) {
      const img = docker.getImage(image);
      try {
        const info = (await (img.inspect as (o: object) => Promise<{ Id: string; RepoDigests?: string[] | null }>).call(img, { abortSignal: signal }));
        return { id: info.Id, pulled: (info.RepoDigests ?? []).length > 0 };
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return undefined;
        throw e;
      }
    },
    async nodeImages(node, signal) {
      const exec = await docker.getContainer(node).exec({ Cmd: ['crictl', 'images', '-o', 'json'], AttachStdout: true, AttachStderr: true, abortSignal: signal } as Docker.ExecCreateOptions);
      const stream = await exec.start({ hijack: true, stdin: false, abortSignal: signal } as Docker.ExecStartOptions);
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      docker.modem.demuxStream(stream, out, new PassThrough().resume());
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          stream.destroy();
          reject(new Error('aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', reject);
      });
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { images?: { id?: unknown; repoTags?: unknown }[] };
      return (parsed.images ?? []).map((i) => ({ id: String(i.id ?? ''), repoTags: Array.isArray(i.repoTags) ? i.repoTags.map(String) : [] }));
    },
  };
}

/** Per probe (one per Docker endpoint): node → its last list. */
const nodeCache = new WeakMap<ImageProbe, Map<string, { at: number; images: NodeImage[] }>>();
const probes = new Map<string, ImageProbe | undefined>();
const probeFor = (endpoint: string): ImageProbe | undefined => {
  if (!probes.has(endpoint)) probes.set(endpoint, dockerImageProbe(endpoint));
  return probes.get(endpoint);
};

type NodeImage = { id: string; repoTags: string[] };

async function nodeHas(probe: ImageProbe, node: string, has: (i: NodeImage) => boolean, signal: AbortSignal): Promise<boolean> {
  let cache = nodeCache.get(probe);
  if (!cache) nodeCache.set(probe, (cache = new Map()));
  const hit = cache.get(node);
  if (hit && Date.now() - hit.at < NODE_CACHE_MS && hit.images.some(has)) return true;
  const images = await probe.nodeImages(node, signal);
  cache.set(node, { at: Date.now(), images });
  return images.some(has);
}

/**
 * The issue for the task's image on its cluster, if any: an error (a local-only image missing on a node),
 * a warning (a pulled image the nodes will pull themselves), or nothing (not local, on every node, or not
 * answerable in time: the launch then finds out, as before this check).
 */
export async function imageIssue(
  image: string,
  cluster: string,
  snapshot: HealthSnapshot,
  opts: { deadlineMs: number; probe?: ImageProbe },
): Promise<{ kind: 'error' | 'warning'; issue: ValidationIssue } | undefined> {
  const c = snapshot.clusters.find((x) => x.name === cluster);
  const nodes = c?.nodes.filter((n) => n.state === 'running').map((n) => n.name) ?? [];
  if (!c || nodes.length === 0 || snapshot.docker.state !== 'running' || opts.deadlineMs <= 0) return undefined;
  const probe = opts.probe ?? probeFor(snapshot.docker.endpoint);
  if (!probe) return undefined;
  const facts = await withDeadline(`checking image ${image} on cluster ${cluster}`, opts.deadlineMs, async (signal) => {
    const local = await probe.inspect(image, signal);
    if (!local) return undefined;
    const want = normalizeImageRef(image);
    const has = await Promise.all(nodes.map((n) => nodeHas(probe, n, (i) => i.id === local.id && i.repoTags.includes(want), signal)));
    return { local, missing: nodes.filter((_, i) => !has[i]) };
  }).catch(() => undefined);
  if (!facts || facts.missing.length === 0) return undefined;
  const fix = FIXES.loadImage(cluster, image);
  const where = facts.missing.length === nodes.length ? `the nodes of cluster ${cluster}` : `node${facts.missing.length > 1 ? 's' : ''} ${facts.missing.join(', ')} of cluster ${cluster}`;
  if (facts.local.pulled) {
    return { kind: 'warning', issue: { path: 'resources.image_id', message: `image ${image} is in the local Docker but not on ${where}: they will pull it from its registry (or load it: faster, and offline)`, fix } };
  }
  return {
    kind: 'error',
    issue: { path: 'resources.image_id', message: `image ${image} is in the local Docker but not on ${where}, and no registry has it: load it into the cluster first`, fix },
  };
}

/** The validation answer with the image's issue added, at the field's place in the text when known. */
export async function withImageCheck<R extends { ok: boolean; errors: ValidationIssue[]; warnings: ValidationIssue[]; task?: { resources: { image?: string } }; target?: { cluster?: string } }>(
  result: R,
  snapshot: HealthSnapshot | undefined,
  opts: { deadlineMs: number; positions?: Record<string, { line: number; column: number }>; probe?: ImageProbe },
): Promise<R> {
  const image = result.task?.resources.image;
  const cluster = result.target?.cluster;
  if (!image || !cluster || !snapshot) return result;
  const found = await imageIssue(image, cluster, snapshot, opts);
  if (!found) return result;
  const at = opts.positions?.['resources.image_id'];
  const issue = at ? { ...found.issue, line: at.line, column: at.column } : found.issue;
  return found.kind === 'error' ? { ...result, ok: false, errors: [...result.errors, issue] } : { ...result, warnings: [...result.warnings, issue] };
}
