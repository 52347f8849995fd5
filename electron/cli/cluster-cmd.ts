// `kindtray cluster create|delete|start|stop NAME`, `kindtray clusters` and
// `kindtray image load IMAGE --cluster NAME`: each asks the server (started
// if none runs), then follows the operation and prints its steps as they
// begin and end. Ctrl-C during an operation cancels it (a create leaves
// nothing behind). Exit 0 when it succeeded, 1 when it failed, was cancelled
// or refused (pre-flight errors printed with their fixes), 2 usage, 3 no server.

import { resolve as resolvePath } from 'node:path';
import {
  CLUSTER_DEADLINES,
  CLUSTER_ROUTES,
  routePath,
  type ClusterError,
  type ClusterOperation,
  type ClustersResponse,
  type CreateClusterInput,
  type OperationStarted,
  type OperationStep,
} from '../../shared/contracts/clusters.ts';
import { formatMs } from '../../shared/deadline.ts';
import { apiRequest, ensureServer, type ServerFile } from './client.ts';
import { EXIT, UsageError, type CommandContext } from './context.ts';

const POLL_MS = 250;

/** `30000-30099` → {from, to}; anything else a usage error naming the flag. */
export function parseRange(text: string): { from: number; to: number } {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--node-ports wants FROM-TO, like 30000-30099 (not ${JSON.stringify(text)})`);
  return { from: Number(m[1]), to: Number(m[2]) };
}

function intFlag(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} wants a whole number (not ${JSON.stringify(v)})`);
  return n;
}

/** The create request from the command line. */
export function createRequestFrom(name: string | undefined, v: Record<string, unknown>, cwd = process.cwd()): CreateClusterInput {
  if (!name) throw new UsageError('name the cluster: kindtray cluster create NAME');
  const workers = intFlag(v.workers, '--workers');
  const http = intFlag(v['ingress-http'], '--ingress-http');
  const https = intFlag(v['ingress-https'], '--ingress-https');
  return {
    name,
    ...(workers !== undefined ? { workers } : {}),
    ...(typeof v.image === 'string' ? { image: v.image } : {}),
    ...(typeof v['node-ports'] === 'string' ? { nodePorts: parseRange(v['node-ports']) } : {}),
    ...(http !== undefined || https !== undefined ? { ingress: { ...(http !== undefined ? { http } : {}), ...(https !== undefined ? { https } : {}) } } : {}),
    ...(typeof v.config === 'string' ? { config: { path: resolvePath(cwd, v.config) } } : {}),
    ...(v['no-switch'] === true ? { makeCurrent: false } : {}),
  };
}

const mark = (s: OperationStep): string => ({ running: '•', succeeded: '✓', failed: '✗', cancelled: '-' })[s.state];

function took(s: OperationStep): string {
  if (!s.endedAt) return '';
  return ` (${formatMs(Date.parse(s.endedAt) - Date.parse(s.startedAt))})`;
}

/** Follows an operation until it ends, printing each step when it begins and when it ends. */
async function follow(ctx: CommandContext, info: ServerFile, op: ClusterOperation): Promise<ClusterOperation> {
  const seen = new Map<number, string>();
  const print = (o: ClusterOperation) => {
    if (ctx.json) return;
    o.steps.forEach((s, i) => {
      if (seen.get(i) === s.state) return;
      // A step that began and ended between two looks is printed once, ended.
      seen.set(i, s.state);
      ctx.out(`  ${mark(s)} ${s.title}${took(s)}`);
    });
  };
  let cancelAsked = false;
  const onSigint = () => {
    if (cancelAsked) return;
    cancelAsked = true;
    ctx.err(`kindtray: cancelling ${op.kind} of ${op.cluster}…`);
    void apiRequest(info, routePath('cancel', { id: op.id }), { method: 'POST' }).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  const until = Date.now() + (CLUSTER_DEADLINES[op.kind === 'load-image' ? 'loadImage' : op.kind] ?? CLUSTER_DEADLINES.create) + 30_000;
  let current = op;
  try {
    print(current);
    while (current.state === 'running') {
      if (Date.now() > until) throw new Error(`operation ${op.id} still runs after ${formatMs(until - Date.parse(op.startedAt))}; see GET /api/operations/${op.id}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
      const answer = await apiRequest<{ operation?: ClusterOperation } & ClusterError>(info, routePath('operation', { id: op.id }), { deadlineMs: 5_000 });
      if (answer.status !== 200 || !answer.body.operation) throw new Error(answer.body.error ?? `the server answered ${answer.status}`);
      current = answer.body.operation;
      print(current);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  return current;
}

function printRefusal(ctx: CommandContext, command: string, body: ClusterError): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(body, null, 2));
    return;
  }
  const errors = body.checks?.filter((c) => c.level !== 'ok') ?? [];
  if (errors.length === 0) ctx.err(`kindtray ${command}: ${body.error}`);
  for (const c of errors) {
    const fix = c.fix ? (c.fix.command ? `\n      run: ${c.fix.command}` : c.fix.fix ? `\n      fix: kindtray fix ${c.fix.fix.id}` : c.fix.value !== undefined ? `\n      try: ${c.fix.label}` : `\n      ${c.fix.label}`) : '';
    ctx.err(`  ${c.level === 'error' ? '✗' : '!'} ${c.message}${fix}`);
  }
}

type OperationRoute = 'create' | 'delete' | 'start' | 'stop' | 'loadImage';

/** Starts an operation on `route` and follows it; the exit code of the design's contract. */
async function runOperation(ctx: CommandContext, command: string, route: OperationRoute, name: string | undefined, body?: unknown): Promise<number> {
  const info = await ensureServer(ctx.env, ctx.err);
  const answer = await apiRequest<OperationStarted & ClusterError>(info, routePath(route, name !== undefined ? { name } : {}), {
    method: CLUSTER_ROUTES[route].method,
    ...(body !== undefined ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
    deadlineMs: 30_000,
  });
  if (answer.status !== 202 || !answer.body.operation) {
    printRefusal(ctx, command, answer.body);
    return answer.status === 0 ? EXIT.noServer : EXIT.notOk;
  }
  const started = answer.body.operation;
  if (!ctx.json) ctx.out(`${describe(started)} (${started.id})`);
  const done = await follow(ctx, info, started);
  if (ctx.json) ctx.out(JSON.stringify(done, null, 2));
  else ctx.out(ending(done));
  return done.state === 'succeeded' ? EXIT.ok : EXIT.notOk;
}

function describe(op: ClusterOperation): string {
  switch (op.kind) {
    case 'create': {
      const workers = op.plan?.nodes.filter((n) => n.role === 'worker').length ?? 0;
      const ports = op.plan?.nodePorts ? `, NodePorts on host ports ${op.plan.nodePorts.from}-${op.plan.nodePorts.to}` : '';
      return `Creating cluster ${op.cluster} (1 control-plane${workers ? `, ${workers} worker${workers > 1 ? 's' : ''}` : ''}${ports})`;
    }
    case 'delete':
      return `Deleting cluster ${op.cluster}`;
    case 'start':
      return `Starting cluster ${op.cluster}`;
    case 'stop':
      return `Stopping cluster ${op.cluster}`;
    case 'load-image':
      return `Loading ${op.image ?? ''} into cluster ${op.cluster}`;
  }
}

function ending(op: ClusterOperation): string {
  const took = formatMs(op.durationMs ?? 0);
  if (op.state === 'succeeded') {
    const removed = op.removed ? `: removed ${op.removed.containers.length} container${op.removed.containers.length === 1 ? '' : 's'}${op.removed.context ? `, context ${op.removed.context}` : ''}${op.removed.tasks.length ? `, cancelled ${op.removed.tasks.length} task${op.removed.tasks.length > 1 ? 's' : ''}` : ''}` : '';
    return `✓ ${op.kind} ${op.cluster} done in ${took}${removed}`;
  }
  const where = op.error?.step ? ` (in: ${op.error.step})` : '';
  return `✗ ${op.kind} ${op.cluster} ${op.state} after ${took}: ${op.error?.message ?? op.state}${where}`;
}

export async function clusterCommand(ctx: CommandContext, [verb, name, ...rest]: string[], v: Record<string, unknown>): Promise<number> {
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.map((r) => JSON.stringify(r)).join(' ')}`);
  switch (verb) {
    case 'create':
      return runOperation(ctx, 'cluster create', 'create', undefined, createRequestFrom(name, v));
    case 'delete':
    case 'start':
    case 'stop':
      if (!name) throw new UsageError(`name the cluster: kindtray cluster ${verb} NAME`);
      return runOperation(ctx, `cluster ${verb}`, verb, name);
    default:
      throw new UsageError(verb ? `unknown action ${JSON.stringify(verb)}: create, delete, start or stop` : 'say what to do: create, delete, start or stop');
  }
}

export async function imageCommand(ctx: CommandContext, [verb, image, ...rest]: string[], v: Record<string, unknown>): Promise<number> {
  if (verb !== 'load') throw new UsageError(verb ? `unknown action ${JSON.stringify(verb)}: load` : 'say what to do: kindtray image load IMAGE --cluster NAME');
  if (!image) throw new UsageError('name the image: kindtray image load IMAGE --cluster NAME');
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.map((r) => JSON.stringify(r)).join(' ')}`);
  if (typeof v.cluster !== 'string' || !v.cluster) throw new UsageError('name the cluster: --cluster NAME');
  return runOperation(ctx, 'image load', 'loadImage', v.cluster, { image });
}

export async function clustersCommand(ctx: CommandContext): Promise<number> {
  const info = await ensureServer(ctx.env, ctx.err);
  const answer = await apiRequest<ClustersResponse>(info, routePath('list'));
  if (answer.status !== 200) throw new Error(`the server answered ${answer.status}`);
  const list = answer.body;
  if (ctx.json) {
    ctx.out(JSON.stringify(list, null, 2));
    return EXIT.ok;
  }
  if (list.clusters.length === 0) ctx.out('No clusters. Create one: kindtray cluster create NAME');
  const width = Math.max(4, ...list.clusters.map((c) => c.name.length));
  for (const c of list.clusters) {
    const ports = c.nodePorts ? `NodePorts on host ports ${c.nodePorts.from}-${c.nodePorts.to}` : '';
    ctx.out(`${c.name.padEnd(width)}  ${c.state.padEnd(9)}  ${String(c.nodes.length).padStart(2)} node${c.nodes.length === 1 ? ' ' : 's'}  ${c.kubernetesVersion ?? ''}  ${ports}`.trimEnd());
  }
  if (!list.kind.found) ctx.err(`kindtray: kind is not installed: ${list.kind.install?.command ?? ''}`);
  return EXIT.ok;
}
