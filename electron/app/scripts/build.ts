// `npm run build:app`: compiles what the Electron app runs into dist/
// (tsconfig.build.json: ESM main and children, a single CommonJS preload),
// puts the built dashboard where the compiled supervisor looks for it
// (dist/renderer/dist), and draws the app icons into build/ for
// electron-builder. Plain Node; the dashboard itself is built by the
// renderer's own build (vite), which this does not run.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { appIcon } from '../icons.ts';
import { APP_NEEDS, BUILD_RESOURCES, DIST, DIST_RENDERER, RENDERER_DIST, ROOT } from './paths.ts';

/** Linux icon theme sizes; electron-builder takes the folder as is. macOS and Windows icons come from icon.png. */
const LINUX_ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];

function compile(): boolean {
  for (const dir of ['electron', 'shared', 'renderer']) rmSync(join(DIST, dir), { recursive: true, force: true });
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  return run.status === 0;
}

function copyDashboard(): boolean {
  if (!existsSync(join(RENDERER_DIST, 'index.html'))) return false;
  cpSync(RENDERER_DIST, DIST_RENDERER, { recursive: true });
  return true;
}

/** Writes a file only when its bytes change, so a rebuild leaves git clean. */
function writeIfChanged(file: string, bytes: Buffer): void {
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  writeFileSync(file, bytes);
}

function drawIcons(): void {
  mkdirSync(join(BUILD_RESOURCES, 'icons'), { recursive: true });
  writeIfChanged(join(BUILD_RESOURCES, 'icon.png'), appIcon(1024));
  for (const size of LINUX_ICON_SIZES) writeIfChanged(join(BUILD_RESOURCES, 'icons', `${size}x${size}.png`), appIcon(size));
}

export function buildApp(log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): boolean {
  log('build:app: compiling electron/ and shared/ into dist/ (tsc -p tsconfig.build.json)');
  if (!compile()) {
    log('build:app: tsc failed; nothing to run');
    return false;
  }
  if (copyDashboard()) log(`build:app: dashboard copied from ${relative(ROOT, RENDERER_DIST)} to ${relative(ROOT, DIST_RENDERER)}`);
  else log(`build:app: the dashboard is not built (no ${relative(ROOT, RENDERER_DIST)}/index.html): run "npm run build:renderer" first, or the window shows the supervisor's "not built" page`);
  drawIcons();
  log(`build:app: icons drawn into ${relative(ROOT, BUILD_RESOURCES)}/`);
  const missing = APP_NEEDS.filter((f) => f !== 'package.json' && !existsSync(join(ROOT, f)));
  if (missing.length > 0) log(`build:app: still missing: ${missing.join(', ')}`);
  return true;
}

if (import.meta.main) process.exitCode = buildApp() ? 0 : 1;
