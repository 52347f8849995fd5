// What a task's workdir and file_mounts copy into its Pods, decided at launch:
// each local source resolved (relative paths from the task file's folder,
// which only the CLI can send; `~` is this user's home), walked with the
// ignore rules SkyPilot applies (file-sync-ignore.ts), and refused on its
// field when it cannot be copied: missing, a cloud bucket, or over the size
// limit. Where things land in the Pod is SkyPilot's: the workdir in
// ~/sky_workdir (setup and run start there), a file mount at its path, a
// relative one under ~/sky_workdir.

import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { childPath } from '../../shared/task/issues.ts';
import type { ValidationIssue } from '../../shared/task/issues.ts';
import type { TaskSpec } from '../../shared/task/index.ts';
import { GIT_EXCLUDE_FILE, GIT_IGNORE_FILE, isIgnored, parseIgnoreFile, SKY_IGNORE_FILE } from './file-sync-ignore.ts';
import type { IgnoreMode, IgnoreRule } from './file-sync-ignore.ts';

/** The most a task may copy into each Pod (all sources together): more goes through the API server too slowly to be worth it. */
export const FILE_COPY_MAX_BYTES = 256 * 1024 * 1024;
/** The most files (and folders) a task may copy. */
export const FILE_COPY_MAX_ENTRIES = 50_000;
/** Listing the sources at launch gives up after this long. */
export const FILE_WALK_DEADLINE_MS = 5_000;
/** SkyPilot's SKY_REMOTE_WORKDIR: where the workdir goes, and where setup and run start. */
export const SKY_REMOTE_WORKDIR = '~/sky_workdir';

/** Cloud storage, which SkyPilot mounts from buckets with cloud credentials. */
const BUCKET_URL = /^(s3|gs|r2|cos|oci|az|https?|nebius|hf|skypilot):\/\//i;

/** One thing to copy: a folder's contents into `target`, or one file to `target`. */
export interface CopyItem {
  /** The task field it comes from: `workdir`, `file_mounts["/data"]`. */
  field: string;
  /** Absolute local path. */
  source: string;
  /** Where in the Pod, as SkyPilot resolves it (`~/…` is the Pod user's home). */
  target: string;
  kind: 'dir' | 'file';
}

export interface LocalEntry {
  /** Relative to the copied folder, `/`-separated (a file source: its target's name). */
  path: string;
  abs: string;
  kind: 'dir' | 'file' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  linkTarget?: string;
}

export interface Listing {
  entries: LocalEntry[];
  bytes: number;
  mode?: IgnoreMode;
  /** `!pattern` lines seen: they re-include nothing (SkyPilot's rsync). */
  negations: string[];
}

export type FilePlan =
  | { ok: true; spec: TaskSpec; items: CopyItem[]; bytes: number; entries: number; warnings: ValidationIssue[] }
  | { ok: false; errors: ValidationIssue[] };

/** Where a file mount's target lands, as SkyPilot's _execute_file_mounts puts it. */
export function podTarget(dst: string): string {
  return posix.isAbsolute(dst) || dst === '~' || dst.startsWith('~/') ? dst : `${SKY_REMOTE_WORKDIR}/${dst}`;
}

function localPath(source: string, folder: string | undefined): string | undefined {
  if (source === '~' || source.startsWith('~/')) return join(homedir(), source.slice(1));
  if (isAbsolute(source)) return source;
  return folder === undefined ? undefined : resolve(folder, source);
}

const MiB = 1024 * 1024;
const mb = (n: number): string => `${(n / MiB).toFixed(n < 10 * MiB ? 1 : 0)} MB`;

/**
 * Resolves and checks every local source of the task. `folder` is the task
 * file's folder (absolute), when the launch knows it. The spec comes back
 * with absolute sources, so the copy needs no folder later.
 */
export async function planTaskFiles(spec: TaskSpec, folder: string | undefined, opts: { maxBytes?: number; deadlineMs?: number } = {}): Promise<FilePlan> {
  const maxBytes = opts.maxBytes ?? FILE_COPY_MAX_BYTES;
  const deadline = Date.now() + (opts.deadlineMs ?? FILE_WALK_DEADLINE_MS);
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const wanted: { field: string; source: string; target: string }[] = [];
  if (spec.workdir !== undefined) wanted.push({ field: 'workdir', source: spec.workdir, target: SKY_REMOTE_WORKDIR });
  for (const m of spec.fileMounts ?? []) {
    const field = childPath('file_mounts', m.target);
    if (typeof m.source !== 'string') {
      errors.push({ path: field, message: `a storage spec is a cloud bucket SkyPilot creates or mounts with cloud credentials: Kindtray copies local files only; copy the data into a local folder (or a volume) and name that path` });
      continue;
    }
    if (BUCKET_URL.test(m.source.trim())) {
      errors.push({ path: field, message: `${m.source} is a cloud bucket: mounting it needs cloud credentials in the Pod, which Kindtray does not have; copy the data to a local folder and name that path, or mount it yourself with config.kubernetes.pod_config` });
      continue;
    }
    if (spec.workdir !== undefined && podTarget(m.target).replace(/\/+$/, '') === SKY_REMOTE_WORKDIR) {
      errors.push({ path: field, message: `${SKY_REMOTE_WORKDIR} is where the workdir goes: mount into a folder under it (e.g. ${SKY_REMOTE_WORKDIR}/data), as SkyPilot asks` });
      continue;
    }
    wanted.push({ field, source: m.source, target: podTarget(m.target) });
  }
  const items: CopyItem[] = [];
  let bytes = 0;
  let entries = 0;
  for (const w of wanted) {
    const abs = localPath(w.source, folder);
    if (abs === undefined) {
      errors.push({ path: w.field, message: `${w.source} is relative to the task file's folder, which only a launch from the CLI can tell (kindtray launch FILE): launch it with the CLI, or write an absolute path` });
      continue;
    }
    let kind: 'dir' | 'file';
    try {
      const st = await stat(abs);
      kind = st.isDirectory() ? 'dir' : 'file';
      if (w.field === 'workdir' && kind !== 'dir') {
        errors.push({ path: w.field, message: `${w.source} (${abs}) is a file: workdir is a folder` });
        continue;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      errors.push({ path: w.field, message: code === 'ENOENT' ? `${w.source} does not exist (looked at ${abs}): check the path` : `${w.source} (${abs}) cannot be read: ${code}` });
      continue;
    }
    const item: CopyItem = { field: w.field, source: abs, target: w.target, kind };
    let listing: Listing;
    try {
      listing = await listCopy(item, { deadline, maxEntries: FILE_COPY_MAX_ENTRIES - entries });
    } catch (e) {
      errors.push({ path: w.field, message: `${w.source}: ${(e as Error).message}` });
      continue;
    }
    bytes += listing.bytes;
    entries += listing.entries.length;
    if (listing.negations.length > 0) {
      warnings.push({ path: w.field, message: `${listing.negations.join(', ')} in ${listing.mode === 'skyignore' ? SKY_IGNORE_FILE : GIT_IGNORE_FILE}: a negation re-includes nothing when SkyPilot copies a folder (its rsync reads every line as an exclude), so Kindtray leaves those files out too` });
    }
    if (bytes > maxBytes) {
      const where = kind === 'dir' ? ` in ${abs}` : '';
      errors.push({
        path: w.field,
        message: `${mb(bytes)} to copy, over Kindtray's limit of ${mb(maxBytes)} per Pod: list what the task does not need in a ${SKY_IGNORE_FILE}${where} (one pattern a line, as .gitignore), or put large data in a volume instead of copying it`,
      });
      continue;
    }
    items.push(item);
  }
  if (errors.length > 0) return { ok: false, errors };
  const byField = new Map(items.map((i) => [i.field, i.source]));
  const resolved: TaskSpec = {
    ...spec,
    ...(spec.workdir !== undefined ? { workdir: byField.get('workdir') ?? spec.workdir } : {}),
    ...(spec.fileMounts ? { fileMounts: spec.fileMounts.map((m) => ({ ...m, source: byField.get(childPath('file_mounts', m.target)) ?? m.source })) } : {}),
  };
  return { ok: true, spec: resolved, items, bytes, entries, warnings };
}

/** The copy items of a task whose spec planTaskFiles resolved (sources absolute). */
export function copyItemsOf(spec: TaskSpec): Omit<CopyItem, 'kind'>[] {
  const out: Omit<CopyItem, 'kind'>[] = [];
  if (spec.workdir !== undefined) out.push({ field: 'workdir', source: spec.workdir, target: SKY_REMOTE_WORKDIR });
  for (const m of spec.fileMounts ?? []) {
    if (typeof m.source === 'string' && !BUCKET_URL.test(m.source.trim())) out.push({ field: childPath('file_mounts', m.target), source: m.source, target: podTarget(m.target) });
  }
  return out;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Everything a copy item sends, with its ignore rules applied; throws, in
 * words, past the deadline or the entry limit. A file source is one entry,
 * named as its target's last name.
 */
export async function listCopy(item: Pick<CopyItem, 'source' | 'target' | 'kind'>, limits: { deadline: number; maxEntries: number }): Promise<Listing> {
  if (item.kind === 'file') {
    const st = await stat(item.source);
    return { entries: [{ path: posix.basename(item.target), abs: item.source, kind: 'file', size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs }], bytes: st.size, negations: [] };
  }
  const root = item.source;
  const mode: IgnoreMode = (await readText(join(root, SKY_IGNORE_FILE))) !== undefined ? 'skyignore' : 'gitignore';
  const ignoreName = mode === 'skyignore' ? SKY_IGNORE_FILE : GIT_IGNORE_FILE;
  const negations: string[] = [];
  const rootRules: IgnoreRule[] = [];
  if (mode === 'gitignore') {
    const exclude = await readText(join(root, GIT_EXCLUDE_FILE));
    if (exclude !== undefined) {
      const parsed = parseIgnoreFile(exclude, '');
      rootRules.push(...parsed.rules);
      negations.push(...parsed.negations);
    }
  }
  const entries: LocalEntry[] = [];
  let bytes = 0;
  const walk = async (dir: string, rel: string, inherited: IgnoreRule[]): Promise<void> => {
    if (Date.now() > limits.deadline) throw new Error(`listing the folder took too long (over ${FILE_WALK_DEADLINE_MS / 1000} s): leave out what the task does not need with a ${SKY_IGNORE_FILE}`);
    const rules = [...inherited];
    const own = await readText(join(dir, ignoreName));
    if (own !== undefined) {
      const parsed = parseIgnoreFile(own, rel);
      rules.push(...parsed.rules);
      negations.push(...parsed.negations);
    }
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(abs);
      const isDir = st.isDirectory();
      if (isIgnored(rules, path, isDir)) continue;
      if (entries.length >= limits.maxEntries) throw new Error(`more than ${FILE_COPY_MAX_ENTRIES} files and folders to copy: leave out what the task does not need with a ${SKY_IGNORE_FILE}`);
      const base = { path, abs, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      if (st.isSymbolicLink()) entries.push({ ...base, kind: 'symlink', size: 0, linkTarget: await readlink(abs) });
      else if (isDir) {
        entries.push({ ...base, kind: 'dir', size: 0 });
        await walk(abs, path, rules);
      } else if (st.isFile()) {
        entries.push({ ...base, kind: 'file', size: st.size });
        bytes += st.size;
      }
      // Sockets, FIFOs and devices are not copied (rsync -a without root skips them too).
    }
  };
  await walk(root, '', rootRules);
  return { entries, bytes, mode, negations };
}
