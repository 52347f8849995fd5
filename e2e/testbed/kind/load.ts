// `kind load docker-image IMAGE... [--name N] [--nodes a,b]` on the testbed,
// as kind's pkg/cmd/kind/load/docker-image does it: the image's ID from
// `docker image inspect`, a check per node with `crictl inspecti`, then
// `docker save` once and, per selected node at once,
// `docker exec --privileged -i NODE ctr --namespace=k8s.io images import
// --all-platforms --digests --snapshotter=S -` (S from `containerd config dump`).
// The node side is node/containerd-tools.sh. Commands run through the real
// `docker` CLI against DOCKER_HOST, with a deadline each.

import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listNodes } from './clusters.ts';
import type { Logger } from './output.ts';
import { KindError, runError } from './output.ts';
import { engine, readFaults } from './world.ts';

interface CmdResult {
  code: number;
  stdout: string;
  output: string;
}

/**
 * Runs `docker ARGS` (stdin from a file when given) under a deadline; never
 * rejects. kind's node commands are `docker exec --privileged`; the testbed's
 * nodes are not privileged containers (this machine refuses the capabilities),
 * so the flag is shown in messages but not passed.
 */
function docker(args: string[], opts: { stdinFile?: string; timeoutMs?: number } = {}): Promise<CmdResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const child = spawn('docker', args.filter((a) => a !== '--privileged'), { stdio: [opts.stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let output = '';
    child.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); output += c.toString(); });
    child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
    const timer = setTimeout(() => {
      output += `\n(no answer in ${timeoutMs} ms: killed)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    if (opts.stdinFile && child.stdin) {
      const input = createReadStream(opts.stdinFile);
      input.on('error', (err) => child.stdin?.destroy(err));
      child.stdin.on('error', () => {});
      input.pipe(child.stdin);
    }
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, output: `${output}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, output });
    });
  });
}

const exec = (node: string, stdin: boolean, ...cmd: string[]) => ['exec', '--privileged', ...(stdin ? ['-i'] : []), node, ...cmd];

/** kind's sanitizeImage: the name containerd stores ("foo" -> "docker.io/library/foo:latest"). */
export function sanitizeImage(image: string): string {
  let name = image.includes('/') ? image : `library/${image}`;
  const i = name.indexOf('/');
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost')) name = `docker.io/${name}`;
  if (name.lastIndexOf(':') <= name.lastIndexOf('/') && !name.includes('@')) name += ':latest';
  return name;
}

/** `crictl inspecti` on a node: the image's ID and tags there, or undefined when absent. */
async function inspectOnNode(node: string, image: string): Promise<{ id: string; repoTags: string[] } | undefined> {
  const r = await docker(exec(node, false, 'crictl', 'inspecti', image), { timeoutMs: 30_000 });
  if (r.code !== 0) return undefined;
  try {
    const status = (JSON.parse(r.stdout) as { status?: { id?: string; repoTags?: string[] } }).status;
    return status?.id ? { id: status.id, repoTags: status.repoTags ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

export async function loadDockerImage(logger: Logger, clusterName: string, nodeFilter: string[], args: string[]): Promise<void> {
  const imageNames = [...new Set(args)];
  const eng = await engine(['docker', 'image', 'inspect', '-f', '{{ .Id }}', imageNames[0] ?? '']).catch(() => undefined);
  const imageIds: string[] = [];
  for (const imageName of imageNames) {
    const r = eng ? await docker(['image', 'inspect', '-f', '{{ .Id }}', imageName], { timeoutMs: 30_000 }) : undefined;
    const lines = r?.stdout.trim().split('\n').filter(Boolean) ?? [];
    if (!r || r.code !== 0 || lines.length !== 1) throw new KindError(`image: "${imageName}" not present locally`);
    imageIds.push(lines[0] ?? '');
  }
  if (!eng) throw new KindError(`no nodes found for cluster "${clusterName}"`);

  const nodes = (await listNodes(eng, clusterName)).filter((n) => n.role !== 'external-load-balancer');
  if (!nodes.length) throw new KindError(`no nodes found for cluster "${clusterName}"`);
  let candidates = nodes;
  if (nodeFilter.length) {
    candidates = nodeFilter.map((want) => {
      const node = nodes.find((n) => n.name === want);
      if (!node) throw new KindError(`unknown node: "${want}"`);
      return node;
    });
  }

  const selected = new Set<string>();
  for (const [i, imageName] of imageNames.entries()) {
    const imageId = imageIds[i] ?? '';
    let processed = false;
    for (const node of candidates) {
      const byId = await inspectOnNode(node.name, imageId);
      const sanitized = sanitizeImage(imageName);
      if (byId?.repoTags.length) {
        if (byId.repoTags.includes(sanitized)) continue;
        logger.info(`Image with ID: ${imageId} already present on the node ${node.name} but is missing the tag ${sanitized}. re-tagging...`);
        const r = await docker(exec(node.name, false, 'ctr', '--namespace=k8s.io', 'images', 'tag', '--force', imageId, sanitized), { timeoutMs: 30_000 });
        if (r.code !== 0) {
          logger.info(`ERROR: failed to re-tag image on the node ${node.name} due to an error exit status ${r.code}. Will load it instead...`);
          selected.add(node.name);
        } else {
          processed = true;
        }
        continue;
      }
      const byName = await inspectOnNode(node.name, imageName);
      if (byName?.id !== imageId) {
        selected.add(node.name);
        logger.info(`Image: "${imageName}" with ID "${imageId}" not yet present on node "${node.name}", loading...`);
      }
    }
    if (!selected.size && !processed) logger.info(`Image: "${imageName}" with ID "${imageId}" found to be already present on all nodes.`);
  }
  if (!selected.size) return;

  const dir = mkdtempSync(join(tmpdir(), 'images-tar'));
  try {
    const tar = join(dir, 'images.tar');
    const saveArgs = ['save', '-o', tar, ...imageNames];
    const saved = await docker(saveArgs, { timeoutMs: 300_000 });
    if (saved.code !== 0) throw runError(['docker', ...saveArgs], saved.code, saved.output.trim());
    const faults = readFaults();
    // errors.UntilErrorConcurrent: all nodes at once, the first error wins.
    const results = await Promise.all([...selected].map((node) => loadOnNode(node, tar, faults.loadFailNode === node)));
    const firstError = results.find((e) => e !== undefined);
    if (firstError) throw firstError;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** nodeutils.LoadImageArchive on one node; resolves with kind's error, or undefined. */
async function loadOnNode(node: string, tar: string, injectFailure: boolean): Promise<KindError | undefined> {
  const dumpArgs = exec(node, false, 'containerd', 'config', 'dump');
  const dump = await docker(dumpArgs, { timeoutMs: 30_000 });
  if (dump.code !== 0) return runError(['docker', ...dumpArgs], dump.code, dump.output.trim()).wrap('failed to detect containerd snapshotter');
  const snapshotter = /snapshotter\s*=\s*["']([^"']+)["']/.exec(dump.stdout)?.[1];
  if (!snapshotter) return new KindError('failed to detect containerd snapshotter (config version 3)');
  const importArgs = exec(node, true, 'ctr', '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--digests', `--snapshotter=${snapshotter}`, '-');
  if (injectFailure) {
    return runError(['docker', ...importArgs], 1, 'ctr: failed to extract layer: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs: no space left on device: unknown (testbed fault: loadFailNode)')
      .wrap('failed to load image');
  }
  const r = await docker(importArgs, { stdinFile: tar, timeoutMs: 300_000 });
  if (r.code !== 0) return runError(['docker', ...importArgs], r.code, r.output.trim()).wrap('failed to load image');
  return undefined;
}
