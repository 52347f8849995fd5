// The `kind` executable: where it is (settings.kindPath, else PATH), how to
// install it when it is missing, and running it as a child under a deadline
// and an AbortSignal. The child leads its own process group, so a cancel or a
// deadline ends kind and the docker commands it started; its stderr arrives
// line by line (kind's spinner rewrites its line with \r on a terminal).

import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { CheckFix } from '../../shared/contracts/clusters.ts';
import { formatMs } from '../../shared/deadline.ts';
import { killProcessGroup } from '../process/index.ts';

const POSIX = process.platform !== 'win32';
/** The release the install advice names (kind's README at the time of writing). */
export const KIND_INSTALL_VERSION = 'v0.32.0';

export type KindLocation = { found: true; path: string } | { found: false; why: string; install: CheckFix };

const isExecutable = (file: string): boolean => {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** settings.kindPath when set (it must be an executable file), else the first `kind` on PATH. */
export function findKind(opts: { kindPath?: string; env: NodeJS.ProcessEnv; platform?: NodeJS.Platform; arch?: string }): KindLocation {
  const platform = opts.platform ?? process.platform;
  const install = installAdvice(platform, opts.arch ?? process.arch);
  if (opts.kindPath) {
    if (!isAbsolute(opts.kindPath)) return { found: false, why: `settings.kindPath ${JSON.stringify(opts.kindPath)} is not an absolute path`, install };
    if (isExecutable(opts.kindPath)) return { found: true, path: opts.kindPath };
    return { found: false, why: `settings.kindPath ${opts.kindPath} is not an executable file`, install };
  }
  const names = platform === 'win32' ? ['kind.exe', 'kind'] : ['kind'];
  for (const dir of (opts.env.PATH ?? opts.env.Path ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) if (isExecutable(join(dir, name))) return { found: true, path: join(dir, name) };
  }
  return { found: false, why: 'kind is not on PATH (and settings.kindPath is empty)', install };
}

/** How kind's quick start says to install it on this platform. */
export function installAdvice(platform: NodeJS.Platform, arch: string): CheckFix {
  const url = 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation';
  const goArch = arch === 'arm64' ? 'arm64' : 'amd64';
  if (platform === 'darwin') return { label: 'Install kind with Homebrew', command: 'brew install kind', url };
  if (platform === 'win32') return { label: 'Install kind with Chocolatey (or winget install Kubernetes.kind)', command: 'choco install kind', url };
  return {
    label: `Install kind ${KIND_INSTALL_VERSION} (or: go install sigs.k8s.io/kind@${KIND_INSTALL_VERSION})`,
    command: `curl -Lo ./kind https://kind.sigs.k8s.io/dl/${KIND_INSTALL_VERSION}/kind-${platform === 'linux' ? 'linux' : platform}-${goArch} && chmod +x ./kind && sudo mv ./kind /usr/local/bin/kind`,
    url,
  };
}

export interface KindRunResult {
  /** Exit code; null when it was killed. */
  code: number | null;
  stdout: string;
  /** The last 64 KiB of stderr. */
  stderr: string;
  /** Ended by the caller's signal. */
  cancelled: boolean;
  /** Ended by the deadline. */
  timedOut: boolean;
  durationMs: number;
}

export interface KindRunOptions {
  env: NodeJS.ProcessEnv;
  deadlineMs: number;
  signal?: AbortSignal;
  /** Each stderr line, colours stripped, as it comes. */
  onLine?: (line: string) => void;
  /** Given to kind on stdin (`--config -`); stdin is closed otherwise. */
  stdin?: string;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
export const stripAnsi = (s: string): string => s.replace(ANSI, '');

/** Runs `kind ARGS`; never rejects for kind's own failure (a non-zero code), only when it cannot be started. */
export function runKind(kindPath: string, args: string[], opts: KindRunOptions): Promise<KindRunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(kindPath, args, { env: opts.env, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: POSIX, windowsHide: true });
    let stdout = '';
    let stderr = '';
    let partial = '';
    let cancelled = false;
    let timedOut = false;
    let settled = false;
    const emit = (text: string) => {
      partial += text;
      const parts = partial.split(/\r\n|\n|\r/);
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        const line = stripAnsi(raw).trimEnd();
        if (line.trim()) opts.onLine?.(line);
      }
    };
    child.stdout?.on('data', (b: Buffer) => (stdout = (stdout + b.toString()).slice(-64 * 1024)));
    child.stderr?.on('data', (b: Buffer) => {
      const text = b.toString();
      stderr = (stderr + text).slice(-64 * 1024);
      emit(text);
    });
    if (opts.stdin !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.stdin);
    }
    const kill = () => {
      killProcessGroup(child.pid);
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.deadlineMs);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (code: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (partial.trim()) opts.onLine?.(stripAnsi(partial).trimEnd());
      partial = '';
      resolve({ code, stdout, stderr: stripAnsi(stderr), cancelled, timedOut, durationMs: Date.now() - started });
    };
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    // A docker child kind left behind may hold our pipes open: the exit is what we wait for, then a moment for the rest of the output.
    child.on('exit', (code) => setTimeout(() => finish(code), 50));
    child.on('close', (code) => finish(code));
  });
}

/** How much of a failed command's output an error carries (kind prints it whole; a docker error is one line). */
const COMMAND_OUTPUT_CHARS = 400;

/**
 * kind's last `ERROR: ...` line with the output of the command that failed
 * (kind's "Command Output:", where the cause is: "port is already allocated",
 * "no space left on device"), else the last line it printed, else what ended it.
 */
export function kindError(r: KindRunResult, what: string, deadlineMs: number): string {
  if (r.timedOut) return `${what} did not finish within ${formatMs(deadlineMs)}`;
  if (r.cancelled) return `${what} was cancelled`;
  const lines = r.stderr.split(/\r\n|\n|\r/).map((l) => l.trim()).filter(Boolean);
  const at = lines.findLastIndex((l) => l.startsWith('ERROR:'));
  if (at < 0) return lines.at(-1) ?? `${what} exited with code ${r.code}`;
  const error = (lines[at] ?? '').replace(/^ERROR:\s*/, '');
  const from = lines.findIndex((l, i) => i > at && l.startsWith('Command Output:'));
  if (from < 0) return error;
  const output = [(lines[from] ?? '').replace(/^Command Output:\s*/, ''), ...lines.slice(from + 1)].join(' ').trim();
  if (!output) return error;
  return `${error}; it said: ${output.length > COMMAND_OUTPUT_CHARS ? `${output.slice(0, COMMAND_OUTPUT_CHARS)}…` : output}`;
}
