// Runs a shell command line for a fix (an engine's start or restart): killed
// with its process group at the deadline, answering its exit code and the
// tail of its output.

import { spawn } from 'node:child_process';
import { withDeadline } from '../../shared/deadline.ts';

export function runCommand(command: string, ms: number, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return withDeadline(`"${command}"`, ms, (signal) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, env, stdio: ['ignore', 'pipe', 'pipe'], signal, detached: process.platform !== 'win32' });
      let output = '';
      const keep = (b: Buffer) => (output = (output + b.toString()).slice(-2_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ABORT_ERR' ? undefined : reject(e)));
      // A daemon started by the command may keep our pipes open; the command's own exit is what we wait for.
      child.on('exit', (code) => resolve({ code, output: output.trim() }));
    }),
  );
}
