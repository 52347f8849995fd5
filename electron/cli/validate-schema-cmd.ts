// `kindtray validate --schema-only FILE`: the file checked against the task
// format alone, as SkyPilot's own loader would check it: no server, no Docker,
// no cluster; local paths (workdir, file_mounts) are checked as SkyPilot's
// loader checks them. Exit 1 only for the file itself; where the task can run (a cloud
// infra, GPUs, memory) is the cluster check's business (`kindtray validate`).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { ValidateResponse } from '../../shared/api.ts';
import { parseTask } from '../../shared/task/parse.ts';
import { childPath, issue } from '../../shared/task/issues.ts';
import type { SourcePositions, ValidationIssue } from '../../shared/task/issues.ts';
import type { TaskSpec } from '../../shared/task/schema.ts';
import { EXIT, UsageError, type CommandContext } from './context.ts';

function readFile(file: string | undefined): string {
  if (!file) throw new UsageError('name the task file');
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const place = (file: string, i: ValidationIssue): string =>
  `${i.line !== undefined ? `${file}:${i.line}${i.column !== undefined ? `:${i.column}` : ''}` : file}: ${i.path || '(document)'}`;

const BUCKET_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * What SkyPilot's loader also checks on this machine: the workdir is a folder
 * and each local file_mounts source exists, relative to where the command runs
 * (as `sky launch` resolves them), `~` expanded.
 */
export function localPathIssues(task: TaskSpec, positions: SourcePositions, cwd: string): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const full = (p: string): string => resolve(cwd, p.replace(/^~(?=$|\/)/, homedir()));
  if (task.workdir !== undefined) {
    const dir = full(task.workdir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      out.push(issue('workdir', `workdir ${task.workdir} is not a folder here (${dir}): paths are relative to where you run the command, as in SkyPilot`, positions.workdir));
    }
  }
  for (const m of task.fileMounts ?? []) {
    if (typeof m.source !== 'string' || BUCKET_URL.test(m.source.trim())) continue;
    const src = full(m.source);
    if (!existsSync(src)) {
      const path = childPath('file_mounts', m.target);
      out.push(issue(path, `${m.source} does not exist here (${src}): paths are relative to where you run the command, as in SkyPilot`, positions[path]));
    }
  }
  return out;
}

/** The schema-only answer, shaped as the server's ValidateResponse so tools read one format. */
export function schemaOnlyAnswer(text: string, cwd = process.cwd()): ValidateResponse {
  const parsed = parseTask(text);
  const required = parsed.task?.requiredAtLaunch;
  const tasks = parsed.pipeline?.tasks ?? (parsed.task ? [parsed.task] : []);
  const errors = [...parsed.errors, ...tasks.flatMap((t, i) => localPathIssues(t, i === 0 ? parsed.positions : {}, cwd))];
  return {
    ok: errors.length === 0,
    errors,
    warnings: parsed.warnings,
    ...(required && { requiredAtLaunch: required }),
    ...(parsed.pipeline && { pipelineTasks: parsed.pipeline.tasks.length }),
  };
}

export function validateSchemaOnlyCommand(ctx: CommandContext, [file]: string[], values: Record<string, unknown>): number {
  if (values.infra !== undefined) throw new UsageError('--schema-only checks the file alone: --infra names a cluster, which only `kindtray validate` checks');
  const v = schemaOnlyAnswer(readFile(file));
  const name = file ?? '';
  if (ctx.json) {
    ctx.out(JSON.stringify(v, null, 2));
    return v.ok ? EXIT.ok : EXIT.notOk;
  }
  ctx.out(v.ok ? `${name}: valid task file${v.pipelineTasks ? ` (a pipeline of ${v.pipelineTasks} tasks)` : ''}` : `${name}: ${v.errors.length} error${v.errors.length === 1 ? '' : 's'}`);
  for (const e of v.errors) ctx.out(`  ${place(name, e)}: ${e.message}`);
  for (const w of v.warnings) ctx.out(`  warning: ${place(name, w)}: ${w.message}`);
  const r = v.requiredAtLaunch;
  if (r) {
    const names = [...r.envs.map((n) => `env ${n}`), ...r.secrets.map((n) => `secret ${n}`)];
    ctx.out(`  required at launch: ${names.join(', ')}`);
  }
  return v.ok ? EXIT.ok : EXIT.notOk;
}
