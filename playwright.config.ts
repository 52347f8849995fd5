// Browser specs: the dashboard in Debian's Chromium against `kindtray serve`
// on the testbed (a real dockerd of their own). The Electron specs have their
// own config in e2e/electron/ and skip, saying why, where no Electron exists.

import { defineConfig } from '@playwright/test';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: 'e2e/ui',
  testMatch: '*.spec.ts',
  // The specs share one dockerd that some of them stop: one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  outputDir: 'test-results/ui',
  use: {
    viewport: { width: 1280, height: 860 },
    launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
