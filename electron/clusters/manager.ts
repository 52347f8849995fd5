// The cluster room's front: pre-flight, create (kind create cluster, its steps
// streamed, cancellable, nothing half-made left behind), delete (tasks on the
// cluster cancelled with the reason first), start, stop and image load. Each
// answers its operation record at once and runs on; the record follows every
// step (operations.ts). Every call out has a deadline (CLUSTER_DEADLINES).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFinalTaskState } from '../../shared/api.ts';
import {
  CLUSTER_DEADLINES,
  NODE_PORT_MAX,
  NODE_PORT_MIN,
  type ClusterListItem,
  type ClusterOperation,
  type ClusterPlan,
  type ClustersResponse,
  type CreateClusterRequest,
  type DeletePlan,
} from '../../shared/contracts/clusters.ts';
import { kindContextName } from '../../shared/constants.ts';
import { formatMs, withDeadline } from '../../shared/deadline.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { ClusterRequestError, type ClusterHost } from './host.ts';
import { loadImage, stopCluster } from './lifecycle.ts';
import { findKind, kindError, runKind, type KindLocation } from './kind-cli.ts';
import { BusyError, Operations, type OperationHandle } from './operations.ts';
import { preflight, type PreflightResult } from './preflight.ts';

const exists = (s: HealthSnapshot, name: string) => s.clusters.some((c) => c.name === name);
const upIn = (s: HealthSnapshot, name: string) => s.clusters.some((c) => c.name === name && (c.state === 'running' || c.state === 'degraded'));

export class ClusterManager {
  readonly operations = new Operations();
  private readonly host: ClusterHost;
  private readonly cache: { kindClusters?: { at: number; path: string; names: string[] }; mem?: { at: number; bytes: number } } = {};

  constructor(host: ClusterHost) {
    this.host = host;
    this.operations.subscribe(() => host.setBusy?.(this.operations.busy));
  }

  kind(): KindLocation {
    return findKind({ kindPath: this.host.kindPath() || undefined, env: this.host.env, ...(this.host.platform ? { platform: this.host.platform } : {}) });
  }

  /** `kind get clusters`; undefined when kind is missing or did not answer. Kept a moment: the form checks as the user types. */
  async kindClusters(kind = this.kind()): Promise<string[] | undefined> {
    if (!kind.found) return undefined;
    const hit = this.cache.kindClusters;
    if (hit && hit.path === kind.path && Date.now() - hit.at < 2_000 && !this.operations.busy) return hit.names;
    const r = await runKind(kind.path, ['get', 'clusters'], { env: this.host.env, deadlineMs: CLUSTER_DEADLINES.quick }).catch(() => undefined);
    if (!r || r.code !== 0) return undefined;
    const names = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('No kind clusters'));
    this.cache.kindClusters = { at: Date.now(), path: kind.path, names };
    return names;
  }

  /** Ends every running operation (kind's process groups killed): Kindtray is stopping. */
  shutdown(): void {
    for (const op of this.operations.list()) if (op.state === 'running') this.operations.get(op.id)?.abort.abort(new Error('Kindtray is stopping'));
  }

  private async memTotal(): Promise<number | undefined> {
    if (this.host.snapshot().docker.state !== 'running') return undefined;
    if (this.cache.mem && Date.now() - this.cache.mem.at < 30_000) return this.cache.mem.bytes;
    const info = await withDeadline('docker info', CLUSTER_DEADLINES.quick, async (signal) => (this.host.docker().info as (o: object) => Promise<{ MemTotal?: number }>).call(this.host.docker(), { abortSignal: signal })).catch(() => undefined);
    const bytes = typeof info?.MemTotal === 'number' && info.MemTotal > 0 ? info.MemTotal : undefined;
    if (bytes) this.cache.mem = { at: Date.now(), bytes };
    return bytes;
  }

  /** The form's live check, and the create's own. */
  async check(raw: unknown): Promise<PreflightResult> {
    const kind = this.kind();
    const [kindClusters, memTotalBytes] = await Promise.all([this.kindClusters(kind), this.memTotal()]);
    return preflight(raw, { snapshot: this.host.snapshot(), kind, ...(kindClusters ? { kindClusters } : {}), ...(memTotalBytes ? { memTotalBytes } : {}) });
  }

  list(): ClustersResponse {
    const s = this.host.snapshot();
    const ops = this.operations.list();
    const clusters: ClusterListItem[] = s.clusters.map((c) => {
      const op = ops.find((o) => o.cluster === c.name && o.state === 'running');
      const nodePorts = c.portMappings.filter((m) => m.containerPort >= NODE_PORT_MIN && m.containerPort <= NODE_PORT_MAX).map((m) => m.hostPort);
      return {
        name: c.name,
        state: op?.kind === 'delete' ? 'deleting' : c.state,
        context: c.context,
        nodes: c.nodes.map((n) => ({ name: n.name, role: n.role, state: n.state })),
        ...(nodePorts.length ? { nodePorts: { from: Math.min(...nodePorts), to: Math.max(...nodePorts) } } : {}),
        ...(c.kubernetesVersion ? { kubernetesVersion: c.kubernetesVersion } : {}),
        ...(op ? { operation: op.id } : {}),
      };
    });
    // A cluster being created is not in the snapshot yet: listed from its operation.
    for (const op of ops) {
      if (op.kind === 'create' && op.state === 'running' && !clusters.some((c) => c.name === op.cluster)) {
        clusters.push({ name: op.cluster, state: 'creating', context: kindContextName(op.cluster), nodes: [], operation: op.id, ...(op.plan?.nodePorts ? { nodePorts: op.plan.nodePorts } : {}) });
      }
    }
    const kind = this.kind();
    return { clusters, operations: ops, kind: kind.found ? { found: true, path: kind.path } : { found: false, install: kind.install } };
  }

  operation(id: string): ClusterOperation {
    const op = this.operations.get(id);
    if (!op) throw new ClusterRequestError(404, { error: `no operation ${JSON.stringify(id.slice(0, 80))} (finished ones are kept for the last 50)`, field: 'id' });
    return structuredClone(op.record);
  }

  /** Cancels a running operation: kind's process group is killed and what it made so far is deleted. */
  cancel(id: string): ClusterOperation {
    const op = this.operations.get(id);
    if (!op) return this.operation(id);
    if (op.record.state !== 'running') throw new ClusterRequestError(409, { error: `operation ${id} already ${op.record.state}`, operation: id });
    op.abort.abort(new Error('cancelled by the user'));
    op.changed();
    return structuredClone(op.record);
  }

  private begin(kind: ClusterOperation['kind'], cluster: string, extra: Partial<ClusterOperation> = {}): OperationHandle {
    try {
      return this.operations.begin(kind, cluster, extra);
    } catch (e) {
      if (e instanceof BusyError) throw new ClusterRequestError(409, { error: e.message, operation: e.operation.id });
      throw e;
    }
  }

  /** Pre-flight, then kind create cluster in the background; answers the operation at once. A failed pre-flight is a 422 with its checks. */
  async create(raw: unknown): Promise<ClusterOperation> {
    const { answer, request, plan } = await this.check(raw);
    const first = answer.checks.find((c) => c.level === 'error');
    if (!answer.ok || !request || !plan) throw new ClusterRequestError(422, { error: first?.message ?? 'the request is not valid', ...(first?.field ? { field: first.field } : {}), checks: answer.checks });
    const kind = this.kind();
    if (!kind.found) throw new ClusterRequestError(422, { error: kind.why, checks: answer.checks });
    const { configText: _configText, ...shown } = plan;
    const op = this.begin('create', request.name, { plan: shown });
    void this.runCreate(op, request, plan, kind.path).catch((e: unknown) => op.finish('failed', { message: e instanceof Error ? e.message : String(e) }));
    return structuredClone(op.record);
  }

  private async runCreate(op: OperationHandle, req: CreateClusterRequest, plan: ClusterPlan, kindPath: string): Promise<void> {
    const name = req.name;
    const previous = this.host.snapshot().contexts.find((c) => c.current)?.name;
    let configPath: string;
    let written: string | undefined;
    if (req.config && 'path' in req.config) configPath = req.config.path;
    else {
      mkdirSync(this.host.tmpDir, { recursive: true, mode: 0o700 });
      written = configPath = join(this.host.tmpDir, `kind-config-${op.record.id}.yaml`);
      writeFileSync(configPath, plan.configText, { mode: 0o600 });
    }
    this.host.log(`cluster ${name}: kind create cluster (${op.record.id})`);
    const r = await runKind(kindPath, ['create', 'cluster', '--name', name, '--config', configPath], {
      env: this.host.env,
      deadlineMs: CLUSTER_DEADLINES.create,
      signal: op.signal,
      onLine: (l) => op.line(l),
    }).finally(() => written && rmSync(written, { force: true }));
    if (r.code !== 0 || r.cancelled || r.timedOut) {
      const step = op.steps.failedStep() ?? op.steps.running()?.title;
      op.steps.finish(r.cancelled ? 'cancelled' : 'failed');
      await this.undoCreate(op, name, kindPath);
      this.end(op, r.cancelled ? 'cancelled' : 'failed', { message: kindError(r, 'kind create cluster', CLUSTER_DEADLINES.create), ...(step ? { step } : {}) });
      return;
    }
    try {
      await op.step(`Waiting for cluster ${name} to answer`, async () => {
        this.host.markStarting?.({ cluster: name });
        await this.host.refresh().catch(() => undefined);
        const up = await this.untilOrCancel(op, (s) => upIn(s, name), CLUSTER_DEADLINES.start);
        if (!up) throw new Error(op.cancelled ? 'cancelled' : `kind made cluster ${name}, but its API did not answer within ${formatMs(CLUSTER_DEADLINES.start)}`);
      });
      if (!req.makeCurrent && previous && previous !== kindContextName(name)) {
        await op.step(`Keeping ${previous} as the current context`, async () => {
          const fix = await this.host.runFix(`use-context:${previous}`);
          if (!fix.ok) throw new Error(fix.message);
        });
      }
    } catch (e) {
      if (op.cancelled) {
        await this.undoCreate(op, name, kindPath);
        this.end(op, 'cancelled', { message: 'kind create cluster was cancelled' });
      } else {
        // kind made it: it stays for a look, and one click (delete-cluster:NAME) removes it.
        this.end(op, 'failed', { message: `${e instanceof Error ? e.message : String(e)}; the cluster is left as kind made it: delete it with Delete cluster ${name} (kindtray cluster delete ${name})` });
      }
      return;
    }
    this.end(op, 'succeeded');
  }

  /** A create that failed or was cancelled leaves nothing: `kind delete cluster` removes its containers and context. */
  private async undoCreate(op: OperationHandle, name: string, kindPath: string): Promise<void> {
    await op
      .step(`Removing what was made (kind delete cluster --name ${name})`, async () => {
        const d = await runKind(kindPath, ['delete', 'cluster', '--name', name], { env: this.host.env, deadlineMs: CLUSTER_DEADLINES.delete });
        if (d.code !== 0) throw new Error(kindError(d, 'kind delete cluster', CLUSTER_DEADLINES.delete));
      })
      .catch((e: unknown) => this.host.log(`cluster ${name}: could not remove what a failed create made: ${(e as Error).message}`));
    await this.host.refresh().catch(() => undefined);
  }

  private untilOrCancel(op: OperationHandle, done: (s: HealthSnapshot) => boolean, ms: number): Promise<boolean> {
    if (op.cancelled) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      op.signal.addEventListener('abort', onAbort, { once: true });
      void this.host.waitFor(done, ms).then((ok) => {
        op.signal.removeEventListener('abort', onAbort);
        resolve(ok);
      });
    });
  }

  private end(op: OperationHandle, state: 'succeeded' | 'failed' | 'cancelled', error?: { message: string; step?: string }): void {
    if (op.record.state !== 'running') return;
    const rec = op.finish(state, error);
    const took = formatMs(rec.durationMs ?? 0);
    const words = state === 'succeeded' ? `${rec.kind} took ${took}` : `${rec.kind} ${state} after ${took}${error ? `: ${error.message}` : ''}`;
    this.host.log(`cluster ${rec.cluster}: ${words}`);
    const after = { create: 'created', delete: 'deleted', start: 'started', stop: 'stopped', 'load-image': `image ${rec.image ?? ''} loaded` }[rec.kind];
    this.host.note?.(`cluster:${rec.cluster}`, state === 'succeeded' ? after : `${rec.kind} ${state}`, words);
  }

  private mustExist(name: string): void {
    if (!exists(this.host.snapshot(), name)) throw new ClusterRequestError(404, { error: `no cluster named ${JSON.stringify(name.slice(0, 80))}`, field: 'name' });
  }

  /** What a delete takes away: the node containers, the context, the tasks that are not finished. */
  async deletePlan(name: string): Promise<DeletePlan> {
    const s = this.host.snapshot();
    const cluster = s.clusters.find((c) => c.name === name);
    if (!cluster) this.mustExist(name);
    const context = kindContextName(name);
    return {
      cluster: name,
      containers: cluster?.nodes.map((n) => n.name) ?? [],
      ...(s.contexts.some((c) => c.name === context) ? { context } : {}),
      tasks: await this.unfinishedTasks(name),
    };
  }

  /** The tasks on the cluster's context that have not finished. */
  private async unfinishedTasks(name: string): Promise<DeletePlan['tasks']> {
    const context = kindContextName(name);
    const tasks = await withDeadline('the task list', CLUSTER_DEADLINES.quick, () => this.host.tasks.list());
    return tasks.filter((t) => t.context === context && !isFinalTaskState(t.state)).map((t) => ({ id: t.id, name: t.name, state: t.state }));
  }

  /** A step that cancels `tasks` with `reason` (the cluster goes away or stops under them); none: no step. */
  private async cancelTasks(op: OperationHandle, name: string, tasks: DeletePlan['tasks'], reason: string): Promise<void> {
    if (tasks.length === 0) return;
    await op.step(`Cancelling ${tasks.length} task${tasks.length > 1 ? 's' : ''} on ${kindContextName(name)}`, async () => {
      const failed: string[] = [];
      for (const t of tasks) await this.host.tasks.cancel(t.id, reason).catch((e: unknown) => failed.push(`${t.id}: ${(e as Error).message}`));
      // A task the worker could not cancel is not lost: it fails when its pod goes, with that reason.
      if (failed.length) this.host.log(`cluster ${name}: could not cancel ${failed.join('; ')}`);
    });
  }

  async delete(name: string): Promise<ClusterOperation> {
    this.mustExist(name);
    const kind = this.kind();
    if (!kind.found) throw new ClusterRequestError(422, { error: `${kind.why}; kind is needed to delete a cluster`, field: 'kind' });
    const op = this.begin('delete', name);
    void this.runDelete(op, name, kind.path).catch((e: unknown) => this.end(op, 'failed', { message: e instanceof Error ? e.message : String(e) }));
    return structuredClone(op.record);
  }

  private async runDelete(op: OperationHandle, name: string, kindPath: string): Promise<void> {
    const plan = await op.step('Listing what goes', () => this.deletePlan(name));
    op.record.removed = plan;
    await this.cancelTasks(op, name, plan.tasks, `cluster ${name} was deleted`);
    await op.step(`kind delete cluster --name ${name}`, async () => {
      const r = await runKind(kindPath, ['delete', 'cluster', '--name', name], { env: this.host.env, deadlineMs: CLUSTER_DEADLINES.delete, onLine: (l) => op.changed(l) });
      if (r.code !== 0 || r.timedOut) throw new Error(kindError(r, 'kind delete cluster', CLUSTER_DEADLINES.delete));
    });
    await op.step(`Waiting for cluster ${name} to be gone`, async () => {
      await this.host.refresh().catch(() => undefined);
      if (!(await this.host.waitFor((s) => !exists(s, name), CLUSTER_DEADLINES.quick))) throw new Error(`cluster ${name} is still listed after kind deleted it`);
    }).catch(() => undefined);
    this.end(op, 'succeeded');
  }

  async start(name: string): Promise<ClusterOperation> {
    this.mustExist(name);
    const op = this.begin('start', name);
    void op
      .step(`Starting the node containers of ${name} and waiting for its API`, async () => {
        const r = await this.host.runFix(`start-cluster:${name}`);
        if (!r.ok) throw new Error(r.message);
      })
      .then(() => this.end(op, 'succeeded'), (e: unknown) => this.end(op, 'failed', { message: (e as Error).message }));
    return structuredClone(op.record);
  }

  async stop(name: string): Promise<ClusterOperation> {
    this.mustExist(name);
    const op = this.begin('stop', name);
    // Its tasks end first, cancelled with the reason: a stopped node kills their processes, and they cannot resume.
    const stopping = async () => {
      // The stop goes on when the task list cannot be had (a hung worker): those tasks then fail when their pods go.
      const tasks = await this.unfinishedTasks(name).catch((e: unknown) => {
        this.host.log(`cluster ${name}: its tasks could not be listed before the stop: ${(e as Error).message}`);
        return [];
      });
      await this.cancelTasks(op, name, tasks, `cluster ${name} was stopped`);
      await stopCluster(this.host, op, name);
    };
    void stopping().then(() => this.end(op, 'succeeded'), (e: unknown) => this.end(op, 'failed', { message: (e as Error).message }));
    return structuredClone(op.record);
  }

  async loadImage(name: string, image: string): Promise<ClusterOperation> {
    this.mustExist(name);
    const kind = this.kind();
    if (!kind.found) throw new ClusterRequestError(422, { error: `${kind.why}; kind is needed to load an image`, field: 'kind' });
    const op = this.begin('load-image', name, { image });
    void loadImage(this.host, op, name, image, kind.path).then(
      () => this.end(op, 'succeeded'),
      (e: unknown) => this.end(op, op.cancelled ? 'cancelled' : 'failed', { message: (e as Error).message }),
    );
    return structuredClone(op.record);
  }
}
