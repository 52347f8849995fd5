// Exec credential plugins, run as client-go runs them but never with
// spawnSync: asynchronously, in their own process group, ended with all they
// started at the deadline. So a plugin that hangs costs its request an answer
// (auth-failed, in time), never the process that runs it. Their credentials
// are kept until they expire, as kubectl keeps them.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { KUBE_CHILD_ENV } from '../../shared/contracts/kube-child.ts';
import type { ProbePhase } from '../../shared/contracts/kube-probe.ts';
import { formatMs } from '../../shared/deadline.ts';
import { killProcessGroup } from '../process/index.ts';
import { KubeProblem } from './errors.ts';
import type { KubeExecSpec } from './kubeconfig-model.ts';

const execCredentialSchema = z.object({
  status: z
    .object({
      token: z.string().optional(),
      clientCertificateData: z.string().optional(),
      clientKeyData: z.string().optional(),
      expirationTimestamp: z.string().optional(),
    })
    .optional(),
});
export type ExecCredentialStatus = NonNullable<z.infer<typeof execCredentialSchema>['status']>;

/** Credentials from plugins, until they expire (like kubectl, no expiry means for the process's life). */
export const credentialCache = new Map<string, ExecCredentialStatus>();
export const credentialKey = (user: string, exec: KubeExecSpec) => `${user}\0${JSON.stringify(exec)}`;

export function cachedCredential(key: string): ExecCredentialStatus | undefined {
  const c = credentialCache.get(key);
  if (c?.expirationTimestamp && Date.parse(c.expirationTimestamp) <= Date.now() + 5_000) {
    credentialCache.delete(key);
    return undefined;
  }
  return c;
}

/** What the child tells its parent while it works on a request. */
export interface KubeHooks {
  phase(phase: ProbePhase): void;
  /** A credential plugin started or ended in its own process group: the parent ends it with the child. */
  plugin(pgid: number, running: boolean): void;
}

/**
 * Runs an `exec` credential plugin as client-go does (client-go resolves a relative
 * command with a slash from the kubeconfig file's folder), in its own process
 * group so that it and all it started end at the deadline.
 */
export function runCredentialPlugin(exec: KubeExecSpec, file: string, signal: AbortSignal, deadlineMs: number, hooks: Pick<KubeHooks, 'plugin'>): Promise<ExecCredentialStatus> {
  const command = exec.command.includes('/') && !path.isAbsolute(exec.command) ? path.resolve(path.dirname(file), exec.command) : exec.command;
  const label = `credential plugin "${exec.command}"`;
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env[KUBE_CHILD_ENV];
    for (const e of exec.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
    const child = spawn(command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    const pgid = child.pid;
    if (pgid !== undefined) hooks.plugin(pgid, true);
    let stdout = '';
    let stderr = '';
    let settled = false;
    const end = (why: Error | undefined, value?: ExecCredentialStatus) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      killProcessGroup(child.pid);
      if (pgid !== undefined) hooks.plugin(pgid, false);
      if (why) reject(why);
      else if (value) resolve(value);
    };
    const onAbort = () => end(new KubeProblem('unauthorized', `${label} gave no answer in ${formatMs(deadlineMs)}`));
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1_000_000) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 10_000) stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const hint = exec.installHint ? ` (${exec.installHint.trim()})` : '';
      end(new KubeProblem('unauthorized', e.code === 'ENOENT' ? `${label} not found${hint}` : `${label} could not start: ${e.message}`));
    });
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (code !== 0) {
        const said = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
        end(new KubeProblem('unauthorized', `${label} failed (${sig ? `signal ${sig}` : `exit ${code}`})${said ? `: ${said}` : ''}`));
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        end(new KubeProblem('unauthorized', `${label} printed no ExecCredential JSON`));
        return;
      }
      const parsed = execCredentialSchema.safeParse(json);
      const status = parsed.success ? parsed.data.status : undefined;
      if (!status || (!status.token && !status.clientCertificateData)) {
        end(new KubeProblem('unauthorized', `${label} gave neither a token nor a client certificate`));
        return;
      }
      end(undefined, status);
    };
    child.on('close', finish);
    // 'close' waits for the pipes; a grandchild left running could hold them open forever.
    child.on('exit', (code, sig) => setTimeout(() => finish(code, sig), 200).unref());
  });
}
