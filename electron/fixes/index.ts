// The fixes behind every Problem's button, menu item and CLI hint: start
// Docker, start or restart a cluster, repair or switch a kube context, restart
// the API server. Each runs under a deadline and answers what happened in
// words; none waits on anything without one.

import { spawn } from 'node:child_process';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Docker from 'dockerode';
import { parseDocument, isMap, isSeq } from 'yaml';
import { KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from '../../shared/constants.ts';
import { withDeadline } from '../../shared/deadline.ts';
import { defaultDockerStartCommand } from '../../shared/docker-start.ts';
import { formatFixId, type FixId, type FixResult } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';

export type { FixResult };

export interface FixContext {
  /** The latest snapshot; fixes read it, never guess. */
  snapshot: () => HealthSnapshot;
  /** Looks again now and resolves with the fresh snapshot. */
  refresh: () => Promise<HealthSnapshot>;
  /** Waits until `done(snapshot)` holds or `ms` passes; resolves with whether it held. */
  waitFor: (done: (s: HealthSnapshot) => boolean, ms: number) => Promise<boolean>;
  docker: () => Docker;
  dockerStartCommand: string;
  restartServer: (reason: string) => Promise<void>;
  env: NodeJS.ProcessEnv;
}

export class FixError extends Error {
  override readonly name = 'FixError';
}

/** Runs a shell command line; resolves with its exit code and output tail, killed at the deadline. */
function runCommand(command: string, ms: number, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return withDeadline(`"${command}"`, ms, (signal) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, env, stdio: ['ignore', 'pipe', 'pipe'], signal, detached: process.platform !== 'win32' });
      let output = '';
      const keep = (b: Buffer) => (output = (output + b.toString()).slice(-2_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ABORT_ERR' ? undefined : reject(e)));
      // A daemon started by the command may keep our pipes open; the command's own exit is what we wait for.
      child.on('exit', (code) => resolve({ code, output: output.trim() }));
    }),
  );
}

/** Also the restart: an engine that accepts and never answers is not `running`, and its start command (Docker Desktop, systemctl) brings it back. */
async function startDocker(ctx: FixContext): Promise<string> {
  const s = ctx.snapshot();
  if (s.docker.state === 'running') return 'Docker is already running';
  const command = ctx.dockerStartCommand || defaultDockerStartCommand(process.platform, s.docker.endpointSource);
  const { code, output } = await runCommand(command, 60_000, ctx.env);
  if (code !== 0) throw new FixError(`"${command}" failed (exit ${code})${output ? `: ${output}` : ''}`);
  const up = await ctx.waitFor((snap) => snap.docker.state === 'running', 60_000);
  if (!up) throw new FixError(`ran "${command}", but Docker did not answer within 60 s`);
  return `Docker is running (started with "${command}")`;
}

async function nodeContainers(ctx: FixContext, cluster: string, signal: AbortSignal): Promise<Docker.ContainerInfo[]> {
  const list = await ctx.docker().listContainers({ all: true, filters: JSON.stringify({ label: [`${KIND_CLUSTER_LABEL}=${cluster}`] }), abortSignal: signal } as Docker.ContainerListOptions);
  if (list.length === 0) throw new FixError(`no node containers for cluster ${cluster}`);
  // The control plane first: workers join it.
  return list.sort((a, b) => Number(b.Labels[KIND_ROLE_LABEL] === 'control-plane') - Number(a.Labels[KIND_ROLE_LABEL] === 'control-plane'));
}

async function startCluster(ctx: FixContext, cluster: string, restart: boolean): Promise<string> {
  // Docker may have come up a moment ago (started outside Kindtray): look again before saying no.
  const docker = ctx.snapshot().docker.state === 'running' ? 'running' : (await ctx.refresh()).docker.state;
  if (docker !== 'running') throw new FixError('Docker is not running; start Docker first');
  await withDeadline(`${restart ? 'restarting' : 'starting'} cluster ${cluster}`, 60_000, async (signal) => {
    for (const c of await nodeContainers(ctx, cluster, signal)) {
      const container = ctx.docker().getContainer(c.Id);
      const opts = { abortSignal: signal } as object;
      if (restart) await container.restart({ ...opts, t: 5 });
      else if (c.State !== 'running') await container.start(opts);
    }
  });
  const up = await ctx.waitFor((s) => s.clusters.some((c) => c.name === cluster && (c.state === 'running' || c.state === 'degraded')), 60_000);
  if (!up) throw new FixError(`the node containers of ${cluster} started, but its API did not answer within 60 s`);
  return `cluster ${cluster} is ${restart ? 'restarted' : 'running'}`;
}

/** Edits one kubeconfig file in place, keeping comments and layout, atomically and with its mode. */
function editKubeconfig(file: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new FixError(`${file} is not valid YAML: ${doc.errors[0]?.message}`);
  edit(doc);
  const tmp = `${file}.kindtray-${process.pid}.tmp`;
  writeFileSync(tmp, doc.toString(), { mode: statSync(file).mode & 0o777 });
  renameSync(tmp, file);
}

function repairContext(ctx: FixContext, contextName: string): string {
  const c = ctx.snapshot().contexts.find((x) => x.name === contextName);
  if (!c) throw new FixError(`no context ${contextName} in the kubeconfig`);
  if (c.state !== 'stale-endpoint' || !c.expectedServer || !c.file || !c.cluster) {
    throw new FixError(`context ${contextName} does not need repair (${c.state})`);
  }
  const { file, cluster, expectedServer } = c;
  editKubeconfig(file, (doc) => {
    const clusters = doc.get('clusters');
    if (!isSeq(clusters)) throw new FixError(`${file} has no clusters list`);
    const entry = clusters.items.find((i) => isMap(i) && i.get('name') === cluster);
    if (!isMap(entry)) throw new FixError(`${file} defines no cluster ${cluster}`);
    entry.setIn(['cluster', 'server'], expectedServer);
  });
  return `context ${contextName} now points at ${expectedServer}`;
}

function useContext(ctx: FixContext, contextName: string): string {
  const s = ctx.snapshot();
  if (!s.contexts.some((c) => c.name === contextName)) throw new FixError(`no context ${contextName} in the kubeconfig`);
  // kubectl writes current-context to the first file of KUBECONFIG (or ~/.kube/config).
  const file = s.kubeconfig?.files.find((f) => f.state === 'ok')?.path;
  if (!file) throw new FixError('no readable kubeconfig file to write current-context to');
  editKubeconfig(file, (doc) => doc.set('current-context', contextName));
  return `current context is now ${contextName}`;
}

/** Runs the fix and says what happened; a fix that fails answers `ok: false` with why, never throws. */
export async function runFix(fix: FixId, ctx: FixContext): Promise<FixResult> {
  const started = Date.now();
  const fixId = formatFixId(fix);
  try {
    const message = await run(fix, ctx);
    return { ok: true, fixId, message, durationMs: Date.now() - started };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, fixId, message, durationMs: Date.now() - started };
  }
}

/** One case per kind of FixId; a kind added there and not here fails to compile (the `never` below). */
async function run(fix: FixId, ctx: FixContext): Promise<string> {
  switch (fix.kind) {
    case 'start-docker':
    case 'restart-docker':
      return startDocker(ctx);
    case 'start-cluster':
      return startCluster(ctx, fix.cluster, false);
    case 'restart-cluster':
      return startCluster(ctx, fix.cluster, true);
    case 'repair-context': {
      const message = repairContext(ctx, fix.context);
      await ctx.refresh();
      return message;
    }
    case 'use-context': {
      const message = useContext(ctx, fix.context);
      await ctx.refresh();
      return message;
    }
    case 'refresh-status':
      await ctx.refresh();
      return 'looked again at Docker, the clusters and their contexts';
    case 'docker-permission-help':
      return 'Docker refuses this user. On Linux: `sudo usermod -aG docker $USER`, then log in again (or run `newgrp docker`). With rootless Docker or Podman, point DOCKER_HOST at your own socket.';
    case 'install-docker-help':
      return 'Install Docker Desktop, Colima, Rancher Desktop or Podman (or `apt-get install docker.io` on Debian), then start it; Kindtray finds its socket by itself.';
    case 'restart-server':
      await ctx.restartServer('asked for by the user');
      return 'the API server was restarted';
    default:
      return unhandled(fix);
  }
}

function unhandled(fix: never): never {
  throw new FixError(`no runner for fix ${JSON.stringify(fix)}`);
}
