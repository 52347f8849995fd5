// Kindtray's layering, as a lint rule: which part of the repository may import
// which (ARCHITECTURE.md explains the why). Every relative import, static or
// dynamic, is resolved to the file it names and checked against ALLOWED; an
// import into another room must go through that room's index.ts (its door).
// Package imports (electron, node:*) are checked by eslint.config.js itself.

import path from 'node:path';

/** Where a file lives, in the words of the table below. */
export function zoneOf(file) {
  const p = file.split(path.sep).join('/');
  if (p.startsWith('shared/')) return 'shared';
  if (p.startsWith('renderer/src/')) return 'renderer';
  if (p.startsWith('renderer/')) return 'renderer-dev';
  // The app's build scripts and its specs' entry are tooling around the app, not the app.
  if (/^electron\/app\/(scripts|testing)\//.test(p)) return 'electron/app-tooling';
  const room = /^electron\/([^/]+)\//.exec(p);
  if (room) return `electron/${room[1]}`;
  if (p.startsWith('e2e/testbed/')) return 'testbed';
  if (p.startsWith('e2e/')) return 'e2e';
  if (p.startsWith('bench/')) return 'bench';
  return 'root';
}

const ROOMS = ['process', 'http', 'kube', 'monitor', 'fixes', 'clusters', 'server', 'supervisor', 'cli', 'app'].map((r) => `electron/${r}`);

/**
 * What each zone may import besides itself. Read top to bottom as layers:
 * shared is common code and imports nothing of ours; the dashboard only shared;
 * process and http are the ground floor of the main side; kube stands on
 * process; the monitor and fixes on kube; clusters on the fixes; the supervisor on all of those; cli
 * and app on the supervisor. The API worker (server) is spawned, never
 * imported. The testbed stands for the outside world and imports nothing of
 * Kindtray's. e2e drives the product from outside; bench may use e2e's tools,
 * never the other way round.
 */
export const ALLOWED = {
  shared: [],
  renderer: ['shared'],
  'renderer-dev': ['shared', 'renderer'],
  'electron/process': ['shared'],
  'electron/http': ['shared'],
  'electron/kube': ['shared', 'electron/process'],
  'electron/monitor': ['shared', 'electron/process', 'electron/kube'],
  'electron/fixes': ['shared', 'electron/process', 'electron/kube', 'electron/monitor'],
  'electron/clusters': ['shared', 'electron/process', 'electron/kube', 'electron/http', 'electron/monitor', 'electron/fixes'],
  'electron/server': ['shared', 'electron/process', 'electron/kube', 'electron/http'],
  'electron/supervisor': ['shared', 'electron/process', 'electron/kube', 'electron/http', 'electron/monitor', 'electron/fixes', 'electron/clusters'],
  'electron/cli': ['shared', 'electron/process', 'electron/kube', 'electron/http', 'electron/monitor', 'electron/fixes', 'electron/clusters', 'electron/supervisor'],
  'electron/app': ['shared', 'electron/process', 'electron/kube', 'electron/http', 'electron/monitor', 'electron/fixes', 'electron/clusters', 'electron/supervisor'],
  'electron/app-tooling': ['shared', 'electron/process', 'electron/kube', 'electron/http', 'electron/monitor', 'electron/fixes', 'electron/clusters', 'electron/supervisor', 'electron/app'],
  testbed: [],
  e2e: ['shared', 'renderer', ...ROOMS, 'electron/app-tooling', 'testbed', 'root'],
  bench: ['shared', ...ROOMS, 'electron/app-tooling', 'testbed', 'e2e', 'root'],
  root: ['shared', ...ROOMS, 'electron/app-tooling', 'renderer', 'renderer-dev', 'testbed', 'e2e', 'bench'],
};

const TEST_FILE = /\.(test|int\.test|property\.test|spec|fixtures?)\.(ts|tsx|js)$/;

/**
 * Tests of a room may also use the testbed (the outside world they run
 * against) and their room's own tooling (the app's Electron double), never
 * bench or e2e's tools.
 */
function allowedFor(zone, file) {
  const allowed = ALLOWED[zone] ?? [];
  return TEST_FILE.test(file) && zone !== 'e2e' && zone !== 'bench' ? [...allowed, 'testbed', `${zone}-tooling`] : allowed;
}

/**
 * Rooms (and the testbed) are entered through their index.ts; shared/ and the
 * dashboard are libraries of files. The app is the top: nothing imports it but
 * its own tooling, and the tooling's scripts are entry points of their own.
 */
function needsDoor(targetZone) {
  if (targetZone === 'electron/app' || targetZone === 'electron/app-tooling') return false;
  return targetZone.startsWith('electron/') || targetZone === 'testbed';
}

function doorOf(targetZone) {
  return targetZone === 'testbed' ? 'e2e/testbed/index.ts' : `${targetZone}/index.ts`;
}

export const layersPlugin = {
  rules: {
    'imports': {
      meta: { type: 'problem', schema: [], messages: { layer: '{{from}} may not import {{to}} ({{target}}): {{why}}', door: 'import {{to}} through its door, {{door}} (not {{target}})' } },
      create(context) {
        const file = path.relative(context.cwd, context.filename).split(path.sep).join('/');
        const zone = zoneOf(file);
        const check = (node, spec) => {
          if (typeof spec !== 'string' || !spec.startsWith('.')) return;
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
          const to = zoneOf(target);
          if (to === zone) return;
          if (!allowedFor(zone, file).includes(to)) {
            const why = to === 'electron/server' ? 'the API worker is spawned as a process, never imported' : to === 'bench' ? 'benchmarks use the product and its tests, never the other way round' : 'see ARCHITECTURE.md';
            context.report({ node, messageId: 'layer', data: { from: zone, to, target, why } });
            return;
          }
          if (needsDoor(to) && target !== doorOf(to) && zone !== 'root') context.report({ node, messageId: 'door', data: { to, door: doorOf(to), target } });
        };
        return {
          ImportDeclaration: (node) => check(node.source, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
          ExportAllDeclaration: (node) => check(node.source, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
        };
      },
    },
  },
};
