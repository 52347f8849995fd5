// Runs the real kubectl (the gcloud dispatcher in /usr/bin, which picks the
// kubectl matching the server's version from /version) against a testbed, so
// tests can check that a real Kubernetes client is satisfied by the stand-in.

import { execFile } from 'node:child_process';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `kubectl ARGS` with `env` (KUBECONFIG…) and optional stdin; never throws on a
 * non-zero exit: the code is part of the answer. Killed at the deadline.
 */
export function kubectl(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<KubectlResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env: opts.env, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(kubectl killed after ${timeoutMs} ms)` : stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}
