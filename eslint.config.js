// One lint setup. Besides typescript-eslint's recommended rules it enforces the
// layering of style.md: shared/ is common (no Node, no DOM, no Electron),
// renderer/ is browser, electron/* is node, and only electron/app/ imports electron.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'http', 'https', 'net', 'crypto', 'stream', 'events', 'util'];
const roomsOf = (room) => ['monitor', 'supervisor', 'server', 'fixes', 'cli', 'app']
  .filter((r) => r !== room)
  .map((r) => ({ group: [`../${r}/*`, `!../${r}/index.ts`], message: `import ${r}/ through its index.ts` }));

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
  ...['monitor', 'supervisor', 'server', 'fixes', 'cli'].map((room) => ({
    files: [`electron/${room}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'only electron/app/ imports electron' }],
        patterns: [...roomsOf(room), { group: ['**/renderer/*'], message: 'the main process never imports renderer code' }],
      }],
    },
  })),
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
