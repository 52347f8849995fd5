// Test projects: `unit` is pure and fast; `integration` drives a real dockerd
// (started once per run by e2e/testbed/global-setup.ts) and the Kubernetes stand-in.
import { defineConfig } from 'vitest/config';

// `vitest run --project unit` writes test-results/vitest-unit.json, and so on: one report per run.
const projectArg = process.argv.indexOf('--project');
const reportName = projectArg > 0 ? (process.argv[projectArg + 1] ?? 'all') : 'all';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print one closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: `test-results/vitest-${reportName}.json` }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/**/*.test.ts', 'electron/**/*.test.ts', 'bench/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'eslint.layers.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['electron/**/*.int.test.ts', 'e2e/**/*.int.test.ts'],
          globalSetup: ['e2e/testbed/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Files share one dockerd (each makes its own uniquely named clusters) and run one at a
          // time: their timing claims (1 s to notice, a watchdog's beat) are about Kindtray, not
          // about a 2-core machine running two suites of real processes at once.
          fileParallelism: false,
        },
      },
    ],
  },
});
