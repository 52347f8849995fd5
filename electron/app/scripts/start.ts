// `npm start`: the tray app when Electron can run here, else `kindtray serve`
// (the same supervisor and dashboard, headless, for a browser). It says which
// and why. Plain Node, so that it runs where Electron does not.
//
//   node electron/app/scripts/start.ts [args for the app or for `kindtray serve`]

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from './build.ts';
import { MAIN_JS, ROOT, displayAvailable, findElectronBinary } from './paths.ts';

/** The newest modification time of the sources the app is compiled from. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.c?ts$/.test(entry.name) && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function builtAndFresh(): boolean {
  if (!existsSync(MAIN_JS)) return false;
  const built = statSync(MAIN_JS).mtimeMs;
  return newestSource(join(ROOT, 'electron')) <= built && newestSource(join(ROOT, 'shared')) <= built;
}

/** Runs a child in the foreground; this process waits and passes on its exit code. */
function foreground(command: string, args: string[]): void {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal too; passing it on as SIGTERM (which
  // both `kindtray serve` and the app treat like SIGINT, once) covers a signal sent to us alone.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

function serveHeadless(why: string, args: string[]): void {
  process.stderr.write(`${why}; serving the dashboard headless instead (kindtray serve).\n`);
  foreground(process.execPath, [join(ROOT, 'electron', 'cli', 'bin.js'), 'serve', ...args]);
}

export function start(args: string[]): void {
  const electron = findElectronBinary();
  if (!electron.found || !electron.path) return serveHeadless(electron.why ?? 'Electron is not installed here', args);
  if (!displayAvailable()) return serveHeadless('No display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so Electron cannot show a tray or window', args);
  if (!builtAndFresh() && !buildApp()) return serveHeadless('The app did not compile (see above)', args);
  process.stderr.write(`Starting the Kindtray tray app (${electron.path}).\n`);
  foreground(electron.path, [MAIN_JS, ...args]);
}

if (import.meta.main) start(process.argv.slice(2));
