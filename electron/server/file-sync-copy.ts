// The copy of a task's workdir and file_mounts into its Pods, before setup:
// each source listed again (file-sync-plan.ts: the same ignore rules), cut
// into whole tar archives (file-sync-tar.ts), each sent through the exec API
// into `tar xf - -C DIR` under a deadline that grows with its size, every Pod
// (every rank of a multi-node task) in parallel, progress noted in bytes.
// A marker file written last releases the Pod's script (filesWaitScript):
// setup and run start only once every file is there, in ~/sky_workdir when
// the task has a workdir, as SkyPilot runs them.

import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { TaskSpec } from '../../shared/task/index.ts';
import { formatMs } from '../../shared/deadline.ts';
import type { KubeOps, KubeOpResult, KubeTarget } from './kube-ops.ts';
import { copyItemsOf, FILE_COPY_MAX_ENTRIES, listCopy, SKY_REMOTE_WORKDIR } from './file-sync-plan.ts';
import type { CopyItem } from './file-sync-plan.ts';
import { tarArchives } from './file-sync-tar.ts';

/** Each exec carries at most about this much (one bigger file goes alone). */
export const FILE_COPY_CHUNK_BYTES = 8 * 1024 * 1024;
/** An archive's exec may take this long, plus its size at FILE_COPY_MIN_RATE. */
export const FILE_COPY_BASE_DEADLINE_MS = 10_000;
/** Bytes a second the slowest acceptable copy moves: below it, the API (or the Pod) is stuck. */
export const FILE_COPY_MIN_RATE = 1024 * 1024;
/** The whole copy (every item, every Pod) gives up after this long. */
export const FILE_COPY_BOUND_MS = 10 * 60_000;
/** How long a Pod waits for its files before it fails by itself (the launcher's own bound ends first). */
export const FILES_WAIT_SECONDS = 15 * 60;

const MiB = 1024 * 1024;
const mb = (n: number): string => `${(n / MiB).toFixed(1)} MB`;

/** The marker the copy writes last in each Pod; per task, as Pods of one stand-in node share a filesystem. */
export function filesMarker(taskId: string): string {
  return `/tmp/.kindtray-files-${taskId.replace(/[^A-Za-z0-9-]/g, '')}`;
}

/** Whether a task (its spec as planned at launch) has files to copy. */
export const hasFilesToCopy = (spec: TaskSpec): boolean => copyItemsOf(spec).length > 0;

/** Where the copy writes how far it is ("12.0 MB of 50.0 MB"): the waiting Pod prints it to its log. */
export const filesProgress = (taskId: string): string => `${filesMarker(taskId)}.progress`;

/**
 * What the Pod's script runs first: wait for the marker (bounded), printing
 * the copy's progress to the task's log as it changes, then start where
 * SkyPilot starts.
 */
export function filesWaitScript(spec: TaskSpec, taskId: string): string {
  const marker = filesMarker(taskId);
  const cd = spec.workdir !== undefined ? ` cd "$HOME/${SKY_REMOTE_WORKDIR.slice(2)}" || exit 1;` : '';
  return (
    `i=0; p=; while [ ! -e ${marker} ]; do if [ "$i" -ge ${FILES_WAIT_SECONDS} ]; then echo "kindtray: the task's files did not arrive within ${FILES_WAIT_SECONDS} s" >&2; exit 1; fi; ` +
    `q=$(cat ${filesProgress(taskId)} 2>/dev/null); if [ -n "$q" ] && [ "$q" != "$p" ]; then echo "kindtray: copying the task's files: $q"; p=$q; fi; ` +
    `sleep 1; i=$((i+1)); done;${cd} `
  );
}

/** The Pod with its task container's script waiting for the files first; the Pod as it was when there is nothing to copy. */
export function withFilesWait(pod: V1Pod, spec: TaskSpec, taskId: string): V1Pod {
  const container = pod.spec?.containers[0];
  const command = container?.command;
  if (!hasFilesToCopy(spec) || !container || !command || command[0] !== 'sh' || command[1] !== '-c' || command[2] === undefined) return pod;
  container.command = ['sh', '-c', filesWaitScript(spec, taskId) + command[2], ...command.slice(3)];
  return pod;
}

/**
 * The exec's command: extract the archive on stdin into `dest` (`~` is the
 * Pod user's home), making the folder first, then write `progress` to
 * `progressFile`. `head -c` passes exactly the archive's bytes and ends, so
 * tar sees the end of its input even where stdin stays open: on channel
 * protocol v4 it cannot be closed, and busybox tar reads to EOF after the
 * end blocks.
 */
export function extractCommand(dest: string, bytes: number, progress: string, progressFile: string): string[] {
  const script = 'd="$1"; case "$d" in "~") d="$HOME";; "~/"*) d="$HOME/${d#"~/"}";; esac; mkdir -p "$d" && head -c "$2" | tar xf - -C "$d" && echo "$3" > "$4"';
  return ['sh', '-c', script, 'kindtray-copy', dest, String(bytes), progress, progressFile];
}

export interface CopyDeps {
  ops: Pick<KubeOps, 'exec'>;
  target: KubeTarget;
  namespace: string;
  /** Progress and the outcome, in words (the task's events). */
  note: (message: string) => void;
  /** Default FILE_COPY_BOUND_MS. */
  boundMs?: number;
  chunkBytes?: number;
}

export type CopyOutcome = { ok: true; bytes: number; ms: number } | { ok: false; reason: string };

/** The folder an item's archive extracts into, and the name a file source takes there. */
function destination(item: Pick<CopyItem, 'target' | 'kind'>): string {
  if (item.kind === 'dir') return item.target;
  const cut = item.target.replace(/\/+$/, '').lastIndexOf('/');
  return cut <= 0 ? (item.target.startsWith('/') ? '/' : '~') : item.target.slice(0, cut);
}

/**
 * Copies the task's files into every Pod, then writes each Pod's marker.
 * Never throws: a failure is a reason in words, naming the field and Pod.
 */
export async function copyTaskFiles(deps: CopyDeps, spec: TaskSpec, taskId: string, pods: readonly string[], signal: AbortSignal): Promise<CopyOutcome> {
  const started = Date.now();
  const bound = started + (deps.boundMs ?? FILE_COPY_BOUND_MS);
  const wanted = copyItemsOf(spec);
  const listed: { item: CopyItem; entries: Awaited<ReturnType<typeof listCopy>>['entries']; bytes: number }[] = [];
  for (const w of wanted) {
    // The launch route made the first task's sources absolute; a pipeline's later stage comes here as written.
    if (!isAbsolute(w.source)) {
      return { ok: false, reason: `${w.field}: ${w.source} is relative, and this stage was not planned with the task file's folder: write an absolute path` };
    }
    let kind: CopyItem['kind'];
    try {
      kind = (await stat(w.source)).isDirectory() ? 'dir' : 'file';
    } catch (e) {
      return { ok: false, reason: `${w.field}: ${w.source} cannot be read any more: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    const item: CopyItem = { ...w, kind };
    try {
      const l = await listCopy(item, { deadline: Math.min(bound, Date.now() + 30_000), maxEntries: FILE_COPY_MAX_ENTRIES });
      listed.push({ item, entries: l.entries, bytes: l.bytes });
    } catch (e) {
      return { ok: false, reason: `${w.field}: ${(e as Error).message}` };
    }
  }
  const total = listed.reduce((n, l) => n + l.bytes, 0);
  const perPod = async (pod: string): Promise<string | undefined> => {
    let sent = 0;
    let notedAt = Date.now();
    for (const { item, entries } of listed) {
      try {
        // The next archive is read and packed while the current one is sent.
        const archives = tarArchives(entries, deps.chunkBytes ?? FILE_COPY_CHUNK_BYTES);
        let next = archives.next();
        next.catch(() => undefined);
        for (;;) {
          const got = await next;
          if (got.done) break;
          const a = got.value;
          next = archives.next();
          next.catch(() => undefined);
          if (signal.aborted) return 'the launch was stopped';
          const left = bound - Date.now();
          if (left <= 0) return `the copy took longer than ${formatMs(deps.boundMs ?? FILE_COPY_BOUND_MS)}`;
          const deadlineMs = Math.min(left, FILE_COPY_BASE_DEADLINE_MS + Math.ceil((a.archive.length / FILE_COPY_MIN_RATE) * 1000));
          const progress = `${mb(sent + a.dataBytes)} of ${mb(total)}`;
          const command = extractCommand(destination(item), a.archive.length, progress, filesProgress(taskId));
          const r: KubeOpResult<{ exitCode: number; stderr: string }> = await deps.ops.exec(deps.target, deps.namespace, pod, command, { stdin: a.archive, deadlineMs });
          if (!r.ok) return `${item.field} into pod ${pod}: ${r.error.message}`;
          if (r.value.exitCode !== 0) {
            const said = r.value.stderr.trim().split('\n').slice(-3).join(' / ') || 'no message';
            return `${item.field} into pod ${pod}: tar exited with code ${r.value.exitCode} (${said}); the image needs sh and tar`;
          }
          sent += a.dataBytes;
          if (Date.now() - notedAt >= 1_000 && sent < total) {
            notedAt = Date.now();
            deps.note(`copying files into pod ${pod}: ${mb(sent)} of ${mb(total)}`);
          }
        }
      } catch (e) {
        return `${item.field}: ${(e as Error).message}`;
      }
    }
    const marker = await deps.ops.exec(deps.target, deps.namespace, pod, ['sh', '-c', ': > "$1"', 'kindtray-copy', filesMarker(taskId)], { deadlineMs: FILE_COPY_BASE_DEADLINE_MS });
    if (!marker.ok) return `marking the files ready in pod ${pod}: ${marker.error.message}`;
    if (marker.value.exitCode !== 0) return `marking the files ready in pod ${pod}: exit code ${marker.value.exitCode} (${marker.value.stderr.trim()})`;
    return undefined;
  };
  const failures = (await Promise.all(pods.map(perPod))).filter((f): f is string => f !== undefined);
  if (failures.length > 0) return { ok: false, reason: `could not copy the task's files: ${failures.join('; ')}` };
  const ms = Date.now() - started;
  const rate = ms > 0 ? ` (${(total / MiB / (ms / 1000)).toFixed(1)} MB/s)` : '';
  deps.note(`files copied into ${pods.length === 1 ? `pod ${pods[0] ?? ''}` : `${pods.length} pods`}: ${mb(total)} in ${formatMs(Math.max(ms, 1))}${rate}`);
  return { ok: true, bytes: total, ms };
}

/**
 * The launch's step between "Pods created" and "running": once every Pod
 * runs (its script waiting for the marker), copy the files in. Undefined
 * when done, when there is nothing to copy, when the watch stopped, or when
 * the Pods did not come up in `waitMs` (the watch that follows tells why);
 * else the reason the task fails. Only a task still launching copies.
 */
export async function copyFilesBeforeSetup(
  // The launcher's ops are typed without exec (its unit tests' fakes have none); the real KubeOps has it.
  deps: Omit<CopyDeps, 'ops'> & { ops: Pick<KubeOps, 'getPod'> & Partial<Pick<KubeOps, 'exec'>>; waitMs: number; pollMs?: number },
  task: { id: string; spec: TaskSpec; state: string },
  pods: readonly string[],
  signal: AbortSignal,
): Promise<string | undefined> {
  if (task.state !== 'launching' || !hasFilesToCopy(task.spec) || pods.length === 0) return undefined;
  const exec = deps.ops.exec?.bind(deps.ops);
  if (!exec) return 'could not copy the task\'s files: this launcher cannot run commands in Pods';
  const until = Date.now() + deps.waitMs;
  const waiting = new Set(pods);
  while (waiting.size > 0) {
    if (signal.aborted || Date.now() > until) return undefined;
    for (const pod of [...waiting]) {
      const r = await deps.ops.getPod(deps.target, deps.namespace, pod);
      // Ended before its files came (or gone): the watch reports the Pod's own end.
      if (r.ok && (r.value.phase === 'Succeeded' || r.value.phase === 'Failed')) return undefined;
      if (r.ok && r.value.phase === 'Running' && r.value.container?.state === 'running') waiting.delete(pod);
    }
    if (waiting.size > 0) await new Promise((res) => setTimeout(res, deps.pollMs ?? 500));
  }
  // A cancel does not wait for the exec in flight (it ends by its deadline, or with the Pod): the watch returns at once.
  const stopped = new Promise<CopyOutcome>((resolve) => {
    if (signal.aborted) resolve({ ok: false, reason: 'stopped' });
    signal.addEventListener('abort', () => resolve({ ok: false, reason: 'stopped' }), { once: true });
  });
  const outcome = await Promise.race([copyTaskFiles({ ...deps, ops: { exec } }, task.spec, task.id, pods, signal), stopped]);
  return outcome.ok || signal.aborted ? undefined : outcome.reason;
}
