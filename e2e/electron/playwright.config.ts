// The Electron specs: `npx playwright test -c e2e/electron`. They launch the
// real app (the compiled dist/, built by the specs when stale) with a real
// Electron binary; where none is installed they skip and say why.

import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  // One app at a time: each test starts its own Kindtray home, but Electron start-up is heavy.
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['json', { outputFile: '../../test-results/playwright-electron.json' }]],
  outputDir: '../../test-results/electron',
});
