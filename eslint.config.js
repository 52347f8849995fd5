// One lint setup. Besides typescript-eslint's recommended rules it enforces the
// layering of style.md and ARCHITECTURE.md: shared/ is common (no Node, no DOM,
// no Electron), renderer/ is browser, electron/* is node, only electron/app/
// imports electron, and the rooms import each other in one direction only,
// through their doors (eslint.layers.js). Shipped code stays under 400 lines a file.
import tseslint from 'typescript-eslint';
import { layersPlugin } from './eslint.layers.js';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'http', 'https', 'net', 'crypto', 'stream', 'events', 'util'];
export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', 'test-results/**', 'playwright-report/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeBuiltins, message: 'shared/ is common code: no Node built-ins' },
          { group: ['electron', '../electron/*', '../../electron/*', '../renderer/*', '../../renderer/*'], message: 'shared/ imports nothing outside shared/' },
        ],
      }],
    },
  },
  {
    files: ['**/*.{ts,tsx,js,cts,mts}'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/imports': 'error' },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/app/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'only electron/app/ imports electron' }],
      }],
    },
  },
  {
    // Shipped code: a file that grows past this mixes concerns; split it at its seams.
    files: ['electron/**/*.{ts,cts}', 'shared/**/*.ts', 'renderer/src/**/*.{ts,tsx}'],
    ignores: ['**/*.test.{ts,tsx}', '**/*.fixture.ts', '**/*.fixtures.ts', 'electron/app/testing/**', 'electron/app/scripts/**'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  {
    // The dashboard is browser code: it talks to the server over HTTP (or the preload's bridge), never to Node or Electron.
    files: ['renderer/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeBuiltins, message: 'renderer/ is browser code: no Node built-ins' },
          { group: ['electron', '**/electron/*'], message: 'renderer/ reaches the main process only through the preload bridge and HTTP' },
        ],
      }],
    },
  },
);
