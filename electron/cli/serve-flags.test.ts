// `kindtray serve` runs with the V8 flags of Kindtray's children (one V8
// helper thread, a small young generation), started again in the same process:
// the pid it reports is the one its parent spawned, and its stdio still reaches
// that parent.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHILD_V8_FLAGS } from '../process/index.ts';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));
const linux = process.platform === 'linux';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.runIf(linux)('the serve process', () => {
  it('runs with the children\'s V8 flags, in the process its parent spawned', { timeout: 30_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'kt-serve-flags-'));
    const env = { ...process.env, KINDTRAY_HOME: home, DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}`, KUBECONFIG: join(home, 'no-kubeconfig') };
    const child = spawn(process.execPath, [BIN, 'serve', '--json', '--port', String(await freePort())], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
        });
        child.on('exit', (code) => reject(new Error(`serve exited (${code})`)));
      });
      const info = JSON.parse(first) as { pid: number };
      expect(info.pid).toBe(child.pid);
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of CHILD_V8_FLAGS) expect(argv).toContain(flag);
      expect(argv.filter((a) => a === CHILD_V8_FLAGS[0])).toHaveLength(1);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    }
  });

});
