// The worker's routes: validate, launch, list, inspect, logs, cancel. Input is
// parsed before anything is written; a task is recorded before the cluster is
// touched, so an acknowledged task is never lost.

import type { IncomingMessage } from 'node:http';
import { isAbsolute } from 'node:path';
import { LAUNCH_REQUEST_TYPE } from '../../shared/api.ts';
import type { TaskRecord } from '../../shared/api.ts';
import type { TaskSpec } from '../../shared/task/schema.ts';
import type { PortPlan } from '../../shared/task/cluster-check.ts';
import { isWaitableFix } from '../../shared/fixes.ts';
import { redactSecrets, validateResponseOf } from '../../shared/task/index.ts';
import type { LaunchValues, ValidationIssue } from '../../shared/task/index.ts';
import { HttpError, Router, readBody, sendJson } from '../http/index.ts';
import { planTaskFiles } from './file-sync-plan.ts';
import type { SnapshotCache } from './snapshot-cache.ts';
import { validateWithFreshSnapshot } from './validate.ts';
import { streamLogs, type OpenLogs } from './log-route.ts';

/** What the routes need of the task store and launcher. */
export interface TaskService {
  create(input: {
    name: string;
    context: string;
    cluster?: string;
    spec: TaskSpec;
    source: string;
    plan: PortPlan[];
    waitingFor?: string;
    /** A multi-document file: its text (the pipeline's name) and every stage as validation checked it, files resolved (pipeline.ts). */
    pipeline?: { text: string; stages: TaskSpec[] };
  }): TaskRecord;
  get(id: string): TaskRecord | undefined;
  list(limit: number): TaskRecord[];
  usedNodePorts(): number[];
  launch(id: string): void;
  /** `why` is the task's reason (`cluster dev was deleted`); without it, cancelled by the user. */
  cancel(id: string, why?: string): Promise<TaskRecord>;
  /** A task's logs, node by node, from a reader's cursor (log-route.ts). */
  openLogs: OpenLogs;
}

const flag = (url: URL, name: string): boolean => ['1', 'true', 'yes'].includes(url.searchParams.get(name) ?? '');

function taskName(spec: TaskSpec, id: string): string {
  return spec.name ?? `task-${id.slice(-6)}`;
}

export function workerRoutes(cache: SnapshotCache, tasks: TaskService): Router {
  const router = new Router();

  router.on('GET', '/internal/ping', (_req, res) => sendJson(res, 200, { ok: true }));

  // A LaunchRequest body (envs, secrets given at launch) is validated as the launch would be: a value still missing is an error.
  router.on('POST', '/api/validate', async (req, res, _p, url) => {
    const { text, launch } = await readLaunch(req);
    const v = await validateWithFreshSnapshot(text, cache, { usedNodePorts: tasks.usedNodePorts(), ...infra(url), ...(launch ? { launch } : {}) });
    sendJson(res, v.ok ? 200 : 422, validateResponseOf(v));
  });

  router.on('POST', '/api/tasks', async (req, res, _p, url) => {
    const { text, launch, folder } = await readLaunch(req);
    const v = await validateWithFreshSnapshot(text, cache, { usedNodePorts: tasks.usedNodePorts(), ...infra(url), ...(launch ? { launch } : {}) });
    const whenReady = flag(url, 'when_ready') || flag(url, 'whenReady');
    const waitable = !v.ok && whenReady && v.task && v.target && v.errors.length > 0 && v.errors.every((e) => e.waitable === true || (e.fix !== undefined && isWaitableFix(e.fix.id)));
    if (!v.ok && !waitable) {
      sendJson(res, 422, { error: v.errors[0]?.message ?? 'invalid task', field: v.errors[0]?.path, errors: v.errors, warnings: v.warnings });
      return;
    }
    if (!v.task || !v.target) throw new HttpError(500, { error: 'validation passed without a task or target' });
    // workdir and file_mounts: resolved from the task file's folder and checked before anything is recorded (file-sync-plan.ts), every stage's.
    const files = await planTaskFiles(v.task, folder);
    const stages = v.stages && v.stages.length > 1 ? await planStageFiles(v.stages, folder) : undefined;
    const fileErrors = [...(files.ok ? [] : files.errors), ...(stages?.errors ?? [])];
    if (!files.ok || fileErrors.length > 0) return sendJson(res, 422, { error: fileErrors[0]?.message ?? 'the task\'s files cannot be copied', field: fileErrors[0]?.path, errors: fileErrors, warnings: v.warnings });
    const record = tasks.create({
      name: taskName(v.task, String(Date.now())),
      context: v.target.context,
      ...(v.target.cluster ? { cluster: v.target.cluster } : {}),
      // Secrets' values stay in the spec (the database file is the owner's alone) until the launch makes the Secret; the shown source never has them.
      spec: files.spec,
      source: redactSecrets(text),
      plan: v.ports,
      ...(waitable ? { waitingFor: v.errors.map((e) => e.message).join('; ') } : {}),
      ...(stages ? { pipeline: { text, stages: [files.spec, ...stages.specs] } } : {}),
    });
    if (!waitable) tasks.launch(record.id);
    sendJson(res, 201, { task: record, warnings: [...v.warnings, ...files.warnings, ...(stages?.warnings ?? [])] }, { location: `/api/tasks/${record.id}` });
  });

  router.on('GET', '/api/tasks', (_req, res, _p, url) => {
    const limit = Math.min(1_000, Math.max(1, Number(url.searchParams.get('limit') ?? 200) || 200));
    sendJson(res, 200, { tasks: tasks.list(limit) });
  });

  router.on('GET', '/api/tasks/:id', (_req, res, { id = '' }) => sendJson(res, 200, { task: found(tasks, id) }));

  router.on('DELETE', '/api/tasks/:id', async (_req, res, { id = '' }, url) => {
    found(tasks, id);
    // ?reason=: who cancels says why (the supervisor deleting the task's cluster); kept short.
    const reason = url.searchParams.get('reason')?.trim().slice(0, 200);
    sendJson(res, 200, { task: await tasks.cancel(id, reason || undefined) });
  });

  router.on('GET', '/api/tasks/:id/logs', async (req, res, { id = '' }, url) => streamLogs(req, res, (i, o) => tasks.openLogs(i, o), found(tasks, id), url, flag(url, 'follow')));

  return router;
}

/** The files of a pipeline's later stages (`specs` are all of them), planned as the first's; their issues say which task. */
async function planStageFiles(specs: TaskSpec[], folder: string | undefined): Promise<{ specs: TaskSpec[]; errors: ValidationIssue[]; warnings: ValidationIssue[] }> {
  const out = { specs: [] as TaskSpec[], errors: [] as ValidationIssue[], warnings: [] as ValidationIssue[] };
  for (const [i, spec] of specs.slice(1).entries()) {
    const which = (e: ValidationIssue): ValidationIssue => ({ path: e.path, message: `task ${i + 2} of ${specs.length}: ${e.message}` });
    const plan = await planTaskFiles(spec, folder);
    if (!plan.ok) {
      out.errors.push(...plan.errors.map(which));
      continue;
    }
    out.specs.push(plan.spec);
    out.warnings.push(...plan.warnings.map(which));
  }
  return out;
}

/** The task text, and with LAUNCH_REQUEST_TYPE the values the launch gives (a LaunchRequest). */
async function readLaunch(req: IncomingMessage): Promise<{ text: string; launch?: LaunchValues; folder?: string }> {
  const body = await readBody(req);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== LAUNCH_REQUEST_TYPE) return { text: body };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, { error: `a ${LAUNCH_REQUEST_TYPE} body must be JSON: {"task": "…", "envs": {…}, "secrets": {…}}` });
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { task?: unknown }).task !== 'string') {
    throw new HttpError(400, { error: 'the launch body needs "task": the task text', field: 'task' });
  }
  const { task, envs, secrets, folder } = parsed as { task: string; envs?: unknown; secrets?: unknown; folder?: unknown };
  const launch = { envs: textMap(envs, 'envs'), secrets: textMap(secrets, 'secrets') };
  return typeof folder === 'string' && isAbsolute(folder) ? { text: task, launch, folder } : { text: task, launch };
}

function textMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, { error: `${field} must be an object of NAME: text`, field });
  const out: [string, string][] = [];
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new HttpError(400, { error: `${field}.${k} must be text`, field: `${field}.${k}` });
    out.push([k, value]);
  }
  return Object.fromEntries(out);
}

function infra(url: URL): { infra?: string } {
  const v = url.searchParams.get('infra');
  return v ? { infra: v } : {};
}

function found(tasks: TaskService, id: string): TaskRecord {
  const t = tasks.get(id);
  if (!t) throw new HttpError(404, { error: `no task ${id}`, field: 'id' });
  return t;
}
