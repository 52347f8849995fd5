// Task commands: validate, launch, tasks, logs, cancel; and `fix ID`. Each
// talks to the server (started in the background when none runs) and prints
// for a person, or JSON with --json.

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, resolve } from 'node:path';
import { LAUNCH_REQUEST_TYPE } from '../../shared/api.ts';
import type { LaunchRequest, TaskRecord, ValidateResponse } from '../../shared/api.ts';
import { RECOVERY_DEADLINES } from '../../shared/constants.ts';
import { formatFixId, formatFixStep, parseFixId, type FixResult, type FixStep } from '../../shared/fixes.ts';
import type { ValidationIssue } from '../../shared/task/issues.ts';
import { parseAssignments, parseEnvFile } from '../../shared/task/launch-values.ts';
import { endpointReadiness } from '../../shared/view-words.ts';
import { apiRequest, ensureServer } from './client.ts';
import { EXIT, UsageError, type CommandContext } from './context.ts';

function readTaskFile(file: string | undefined): string {
  if (!file) throw new UsageError('name the task file');
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function formatIssue(file: string, i: ValidationIssue): string {
  const at = i.line !== undefined ? `${file}:${i.line}${i.column !== undefined ? `:${i.column}` : ''}` : file;
  return `  ${at}: ${i.path || '(document)'}: ${i.message}${i.fix ? `\n      fix: kindtray fix ${i.fix.id}   (${i.fix.label})` : ''}`;
}

function printEndpoints(ctx: CommandContext, endpoints: TaskRecord['endpoints'] | undefined, state: TaskRecord['state']): void {
  for (const e of endpoints ?? []) {
    const readiness = endpointReadiness(e, state);
    const word = readiness === 'ready' ? ' (ready)' : readiness === 'starting' ? ' (starting: readiness probe not passing yet)' : '';
    ctx.out(`  port ${e.port}: ${e.url ?? 'not published'}${word} — ${e.how}`);
  }
}

const query = (params: Record<string, string | undefined>): string => {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return q.size ? `?${q}` : '';
};

export async function validateCommand(ctx: CommandContext, [file]: string[], values: Record<string, unknown>): Promise<number> {
  const text = readTaskFile(file);
  const given = launchValues(values, ctx.env);
  const withValues = Object.keys(given.envs ?? {}).length + Object.keys(given.secrets ?? {}).length > 0;
  const info = await ensureServer(ctx.env, ctx.err);
  // With --env/--secret/--env-file: sent as the launch sends them, so the answer is the launch's.
  const request = withValues ? { body: JSON.stringify({ task: text, ...given } satisfies LaunchRequest), contentType: LAUNCH_REQUEST_TYPE } : { body: text };
  const answer = await apiRequest<ValidateResponse>(info, `/api/validate${query({ infra: values.infra as string | undefined })}`, { method: 'POST', ...request });
  if (answer.status !== 200 && answer.status !== 422) {
    ctx.err(`kindtray validate: the server answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return EXIT.notOk;
  }
  const v = answer.body;
  if (ctx.json) ctx.out(JSON.stringify(v, null, 2));
  else {
    ctx.out(v.ok ? `${file}: valid${v.target ? `, runs on ${v.target.context}` : ''}` : `${file}: ${v.errors.length} error${v.errors.length === 1 ? '' : 's'}`);
    for (const e of v.errors) ctx.out(formatIssue(file ?? '', e));
    for (const w of v.warnings) ctx.out(formatIssue(file ?? '', w).replace(/^ {2}/, '  warning: '));
    printEndpoints(ctx, v.endpoints, 'waiting');
  }
  return v.ok ? EXIT.ok : EXIT.notOk;
}

/**
 * `--env K=V` / `--secret K=V` (a bare NAME takes the value from this shell's
 * environment, as `sky launch` does), and `--env-file F` (dotenv), which
 * --env overrides.
 */
export function launchValues(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Pick<LaunchRequest, 'envs' | 'secrets'> {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
  const fromShell = (items: string[], flag: string): string[] =>
    items.map((item) => {
      if (item.includes('=')) return item;
      const value = env[item.trim()];
      if (value === undefined) throw new UsageError(`${flag} ${item}: no value given and ${item} is not set in this shell: write ${flag} ${item}=value`);
      return `${item}=${value}`;
    });
  let fileEnvs: Record<string, string> = {};
  for (const f of list(values['env-file'])) {
    const parsed = parseEnvFile(readTaskFile(f));
    if (parsed.errors.length > 0) throw new UsageError(`--env-file ${f}: ${parsed.errors.join('; ')}`);
    fileEnvs = { ...fileEnvs, ...parsed.values };
  }
  const envs = parseAssignments(fromShell(list(values.env), '--env'), '--env');
  const secrets = parseAssignments(fromShell(list(values.secret), '--secret'), '--secret');
  const errors = [...envs.errors, ...secrets.errors];
  if (errors.length > 0) throw new UsageError(errors.join('; '));
  return { envs: { ...fileEnvs, ...envs.values }, secrets: secrets.values };
}

export async function launchCommand(ctx: CommandContext, [file]: string[], values: Record<string, unknown>): Promise<number> {
  const text = readTaskFile(file);
  const given = launchValues(values, ctx.env);
  const info = await ensureServer(ctx.env, ctx.err);
  const path = `/api/tasks${query({ infra: values.infra as string | undefined, when_ready: values['when-ready'] ? '1' : undefined })}`;
  // The task file's folder: its relative workdir and file_mounts are read from there (not for stdin).
  const body: LaunchRequest = { task: text, ...given, ...(file && file !== '-' ? { folder: dirname(resolve(file)) } : {}) };
  const answer = await apiRequest<{ task?: TaskRecord; errors?: ValidationIssue[]; error?: string }>(info, path, {
    method: 'POST',
    body: JSON.stringify(body),
    contentType: LAUNCH_REQUEST_TYPE,
  });
  if (answer.status !== 201 || !answer.body.task) {
    if (ctx.json) ctx.out(JSON.stringify(answer.body, null, 2));
    else {
      ctx.out(`${file}: not launched: ${answer.body.error ?? `the server answered ${answer.status}`}`);
      for (const e of answer.body.errors ?? []) ctx.out(formatIssue(file ?? '', e));
    }
    return EXIT.notOk;
  }
  const t = answer.body.task;
  if (ctx.json) ctx.out(JSON.stringify(t, null, 2));
  else {
    ctx.out(`Task ${t.id} (${t.name}) ${t.state} on ${t.context}${t.reason ? `: ${t.reason}` : ''}`);
    printEndpoints(ctx, t.endpoints, t.state);
    ctx.out(`Logs: kindtray logs ${t.id} --follow`);
  }
  return EXIT.ok;
}

function age(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export async function tasksCommand(ctx: CommandContext): Promise<number> {
  const info = await ensureServer(ctx.env, ctx.err);
  const answer = await apiRequest<{ tasks: TaskRecord[] }>(info, '/api/tasks');
  if (answer.status !== 200) {
    ctx.err(`kindtray tasks: the server answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return EXIT.notOk;
  }
  const tasks = answer.body.tasks;
  if (ctx.json) {
    ctx.out(JSON.stringify(tasks, null, 2));
    return EXIT.ok;
  }
  if (tasks.length === 0) {
    ctx.out('No tasks yet. Launch one with: kindtray launch task.yaml');
    return EXIT.ok;
  }
  const rows = tasks.map((t) => [t.id, t.name, t.state, t.context, age(t.createdAt), t.endpoints.map((e) => e.url).filter(Boolean).join(' ')]);
  const head = ['ID', 'NAME', 'STATE', 'CONTEXT', 'AGE', 'ENDPOINTS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [head, ...rows]) ctx.out(r.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  return EXIT.ok;
}

// `kindtray logs`: its own file (streamed, resumable).
export { logsCommand } from './logs-cmd.ts';

export async function cancelCommand(ctx: CommandContext, [id]: string[]): Promise<number> {
  if (!id) throw new UsageError('name the task: kindtray cancel ID');
  const info = await ensureServer(ctx.env, ctx.err);
  const answer = await apiRequest<{ task?: TaskRecord; error?: string }>(info, `/api/tasks/${encodeURIComponent(id)}`, { method: 'DELETE' });
  if (ctx.json) ctx.out(JSON.stringify(answer.body, null, 2));
  else ctx.out(answer.body.task ? `Task ${id}: ${answer.body.task.state}${answer.body.task.reason ? ` (${answer.body.task.reason})` : ''}` : `kindtray cancel: ${answer.body.error}`);
  return answer.status === 200 ? EXIT.ok : EXIT.notOk;
}

export async function fixCommand(ctx: CommandContext, [id]: string[]): Promise<number> {
  if (!id) throw new UsageError('name the fix: kindtray fix start-docker (see `kindtray status` for the fixes that apply)');
  // An id that names no fix is the user's typo: said at once, without starting a server for it.
  const parsed = parseFixId(id);
  if (!parsed.ok) throw new UsageError(parsed.error.message);
  const info = await ensureServer(ctx.env, ctx.err);
  const fixId = formatFixId(parsed.fix);
  // A chain's steps are printed as they end (from the event stream), then any the stream did not bring.
  const printed = new Set<string>();
  const print = (step: FixStep) => {
    const key = `${step.id} ${step.state}`;
    if (step.state === 'running' || printed.has(key)) return;
    printed.add(key);
    ctx.out(`  ${formatFixStep(step)}`);
  };
  const unfollow = ctx.json ? () => undefined : followFixSteps(info, fixId, print);
  const answer = await apiRequest<FixResult>(info, `/control/fixes/${encodeURIComponent(fixId)}`, {
    method: 'POST',
    // The longest chain: Docker's restart command, then its answer, then its clusters' APIs (each under its own deadline).
    deadlineMs: RECOVERY_DEADLINES.restartCommand + RECOVERY_DEADLINES.clusterUp + 30_000,
  });
  unfollow();
  if (ctx.json) ctx.out(JSON.stringify(answer.body, null, 2));
  else {
    for (const step of answer.body.steps ?? []) print(step);
    ctx.out(`${answer.body.ok ? '✓' : '✗'} ${id}: ${answer.body.message} (${(answer.body.durationMs / 1000).toFixed(1)} s)`);
  }
  return answer.body.ok ? EXIT.ok : EXIT.notOk;
}

/** Follows /api/events for the steps of fix `fixId`; returns how to stop. A stream that fails costs nothing: the answer carries the steps too. */
function followFixSteps(info: { port: number; token: string }, fixId: string, onStep: (step: FixStep) => void): () => void {
  const req = request({ host: '127.0.0.1', port: info.port, path: '/api/events', headers: { authorization: `Bearer ${info.token}` } }, (res) => {
    let buffered = '';
    res.on('data', (c: Buffer) => {
      buffered += c.toString();
      const parts = buffered.split('\n\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        const data = part.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
        try {
          const e = JSON.parse(data) as { type?: string; fixId?: string; step?: FixStep };
          if (e.type === 'fix' && e.fixId === fixId && e.step) onStep(e.step);
        } catch {
          // Not an event we read (comments, snapshots cut short): the answer still carries every step.
        }
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

