// `npm run dist:check`: proves, offline, that a packaged Kindtray contains
// what it loads. No Electron binary can be had here, so electron-builder gets
// a stand-in Electron folder (electronDist), builds the unpacked Linux app
// (`--linux dir`), and we list its app.asar: the main process, the preload,
// the API worker, the probe and kube-ops children, the dashboard, the runtime
// dependencies, and nothing that should not ship (sources, tests, e2e).

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { buildApp } from './build.ts';
import { APP_NEEDS, DIST_RENDERER, ROOT } from './paths.ts';

const require = createRequire(join(ROOT, 'package.json'));
const OUT = join(ROOT, 'out');
const FAKE_ELECTRON = join(OUT, '.electron-dist-stand-in');
const ASAR = join(OUT, 'linux-unpacked', 'resources', 'app.asar');

/** Runtime dependencies the main process and its children import. */
const RUNTIME_DEPENDENCIES = ['@kubernetes/client-node', 'dockerode', 'yaml', 'zod'];

/** What must not ship inside the app. */
const MUST_NOT_SHIP: { what: string; test: (path: string) => boolean }[] = [
  { what: 'TypeScript sources', test: (p) => /\.(c|m)?ts$/.test(p) && !p.endsWith('.d.ts') && !p.startsWith('/node_modules/') },
  { what: 'tests', test: (p) => /\.(test|int\.test|spec)\.(c|m)?[jt]s$/.test(p) && !p.startsWith('/node_modules/') },
  { what: 'e2e and benchmarks', test: (p) => /^\/(e2e|bench|test-results|playwright-report)\//.test(p) },
  { what: 'the renderer sources', test: (p) => p.startsWith('/renderer/') },
  { what: 'the specs\' entry and test doubles', test: (p) => p.startsWith('/dist/electron/app/testing/') },
];

/** An Electron folder as electron-builder expects one for Linux: the executable and the files beside it. */
function prepareElectronStandIn(version: string): void {
  rmSync(FAKE_ELECTRON, { recursive: true, force: true });
  mkdirSync(join(FAKE_ELECTRON, 'resources'), { recursive: true });
  const exe = join(FAKE_ELECTRON, 'electron');
  writeFileSync(exe, '#!/bin/sh\necho "stand-in for the Electron binary (dist:check); it cannot run the app" >&2\nexit 1\n');
  chmodSync(exe, 0o755);
  writeFileSync(join(FAKE_ELECTRON, 'version'), `v${version}`);
  writeFileSync(join(FAKE_ELECTRON, 'LICENSE'), 'stand-in\n');
  writeFileSync(join(FAKE_ELECTRON, 'LICENSES.chromium.html'), '<p>stand-in</p>\n');
}

function fail(message: string): never {
  process.stderr.write(`dist:check: FAILED: ${message}\n`);
  process.exit(1);
}

function main(): void {
  if (!buildApp()) fail('build:app did not finish');
  if (!existsSync(join(DIST_RENDERER, 'index.html'))) fail(`no ${relative(ROOT, DIST_RENDERER)}/index.html: build the dashboard (npm run build:renderer), then run dist:check again`);

  const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
  prepareElectronStandIn(electronVersion);
  rmSync(join(OUT, 'linux-unpacked'), { recursive: true, force: true });

  const cli = require.resolve('electron-builder/cli.js');
  const args = [cli, '--linux', 'dir', '--publish', 'never', `-c.electronDist=${FAKE_ELECTRON}`, `-c.electronVersion=${electronVersion}`];
  process.stdout.write(`dist:check: electron-builder ${args.slice(1).join(' ')}\n`);
  const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false' } });
  if (run.status !== 0) fail(`electron-builder exited with ${run.status ?? run.signal}`);
  if (!existsSync(ASAR)) fail(`electron-builder finished but wrote no ${relative(ROOT, ASAR)}`);

  const asar = require('@electron/asar') as { listPackage(archive: string, options: { isPack: boolean }): string[]; extractFile(archive: string, filename: string): Buffer };
  const entries = asar.listPackage(ASAR, { isPack: false }).map((p) => p.replaceAll('\\', '/'));
  const present = new Set(entries);
  const problems: string[] = [];

  for (const need of APP_NEEDS) if (!present.has(`/${need}`)) problems.push(`missing ${need}`);
  for (const dep of RUNTIME_DEPENDENCIES) if (!present.has(`/node_modules/${dep}/package.json`)) problems.push(`missing the runtime dependency ${dep}`);
  for (const rule of MUST_NOT_SHIP) {
    const found = entries.filter(rule.test);
    if (found.length > 0) problems.push(`${rule.what} inside: ${found.slice(0, 5).join(', ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}`);
  }
  const pkg = JSON.parse(asar.extractFile(ASAR, 'package.json').toString('utf8')) as { main?: string; type?: string };
  if (pkg.main !== 'dist/electron/app/main.js') problems.push(`package.json "main" is ${JSON.stringify(pkg.main)}, not dist/electron/app/main.js`);
  if (pkg.type !== 'module') problems.push('package.json "type" is not "module": the compiled main and children are ES modules');
  const preload = asar.extractFile(ASAR, 'dist/electron/app/preload.cjs').toString('utf8');
  const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  if (requires.join() !== 'electron') problems.push(`the preload requires ${JSON.stringify(requires)}; a sandboxed preload may require only electron`);

  const files = entries.filter((p) => !p.startsWith('/node_modules/')).length;
  process.stdout.write(`dist:check: ${relative(ROOT, ASAR)}: ${entries.length} entries (${files} outside node_modules)\n`);
  if (problems.length > 0) fail(`\n  - ${problems.join('\n  - ')}`);
  process.stdout.write(`dist:check: ok: ${APP_NEEDS.join(', ')}; dependencies ${RUNTIME_DEPENDENCIES.join(', ')}; no sources, tests or e2e; preload requires only electron\n`);
}

main();
