// Where the app's build puts things, in one place for the build, the launcher
// and the packaging check. Plain Node: these scripts never import electron.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DIST = join(ROOT, 'dist');
/** The compiled main process: package.json "main" in a packaged build. */
export const MAIN_JS = join(DIST, 'electron', 'app', 'main.js');
/** The same app with a handle for its specs (testing/test-main.ts); never packaged. */
export const TEST_MAIN_JS = join(DIST, 'electron', 'app', 'testing', 'test-main.js');
export const PRELOAD_CJS = join(DIST, 'electron', 'app', 'preload.cjs');
export const RENDERER_DIST = join(ROOT, 'renderer', 'dist');
/** Where the supervisor looks for the dashboard, relative to its compiled self (dist/electron/supervisor → dist/renderer/dist). */
export const DIST_RENDERER = join(DIST, 'renderer', 'dist');
export const BUILD_RESOURCES = join(ROOT, 'build');

/**
 * Files an unpacked app must contain, relative to the app root (app.asar's top):
 * every entry point tsconfig.build.json compiles (the main process, the preload
 * and each child process), compiled, and the dashboard. Read from that file so
 * that a new child process cannot be forgotten here. The specs' own entry
 * (electron/app/testing/) is built too but never shipped.
 */
function buildEntryPoints(): string[] {
  // The file is JSON with whole-line // comments, as tsc allows.
  const text = readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  return (JSON.parse(text) as { files: string[] }).files;
}

export const APP_NEEDS: readonly string[] = [
  'package.json',
  ...buildEntryPoints()
    .filter((f) => !f.startsWith('electron/app/testing/'))
    .map((f) => `dist/${f.replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.js')}`),
  'dist/renderer/dist/index.html',
];

export interface ElectronBinary {
  found: boolean;
  /** The executable, when found. */
  path?: string;
  /** Why not, in one line, when not. */
  why?: string;
}

/**
 * Where the Electron executable is, without trying to download it. The
 * electron package's own require('electron') downloads the binary when it is
 * missing (and fails offline after a network attempt), so this reads the same
 * files it reads: ELECTRON_OVERRIDE_DIST_PATH, or path.txt and dist/.
 */
export function findElectronBinary(env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(join(ROOT, 'package.json')).resolve('electron/package.json'));
  } catch {
    return { found: false, why: 'Electron is not installed here (no electron package)' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const name = relative || (process.platform === 'win32' ? 'electron.exe' : 'electron');
  const p = env.ELECTRON_OVERRIDE_DIST_PATH ? join(env.ELECTRON_OVERRIDE_DIST_PATH, name) : relative ? join(pkgDir, 'dist', relative) : undefined;
  if (p && existsSync(p)) return { found: true, path: p };
  return { found: false, why: 'Electron is not installed here (no binary)' };
}

/** Whether a window can be shown: macOS and Windows always; Linux needs an X11 or Wayland display. */
export function displayAvailable(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}
