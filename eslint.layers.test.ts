// The layering rule fails a build that breaks it: deliberate bad imports,
// linted with the repository's own eslint.config.js as `npm run lint` does.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: import.meta.dirname });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/imports' || m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering, as the lint enforces it', () => {
  it.each([
    ['the supervisor imports the API worker (spawned, never imported)', 'electron/supervisor/bad.ts', "import { x } from '../server/index.ts';\nvoid x;\n", /may not import electron\/server/],
    ['the monitor imports the supervisor (upwards)', 'electron/monitor/bad.ts', "import { x } from '../supervisor/index.ts';\nvoid x;\n", /may not import electron\/supervisor/],
    ['shared imports a room', 'shared/bad.ts', "import { x } from '../electron/monitor/index.ts';\nvoid x;\n", /may not import electron\/monitor/],
    ['the dashboard imports the main side', 'renderer/src/bad.ts', "import { x } from '../../electron/supervisor/index.ts';\nvoid x;\n", /may not import electron\/supervisor|renderer\/ reaches the main process/],
    ['the dashboard\'s dev server imports the main side', 'renderer/dev/bad.ts', "import { x } from '../../electron/supervisor/index.ts';\nvoid x;\n", /may not import electron\/supervisor/],
    ['a room reaches past another room\'s door', 'electron/supervisor/bad.ts', "import { x } from '../monitor/docker.ts';\nvoid x;\n", /through its door, electron\/monitor\/index\.ts/],
    ['a lazy import past a door counts too', 'electron/cli/bad.ts', "export const load = () => import('../monitor/docker.ts');\n", /through its door/],
    ['e2e imports a benchmark', 'e2e/bad.int.test.ts', "import { x } from '../bench/lib.ts';\nvoid x;\n", /may not import bench/],
    ['a product test imports a benchmark', 'electron/server/bad.test.ts', "import { x } from '../../bench/lib.ts';\nvoid x;\n", /may not import bench/],
    ['the testbed imports Kindtray\'s constants', 'e2e/testbed/bad.ts', "import { x } from '../../shared/constants.ts';\nvoid x;\n", /testbed may not import shared/],
    ['the cluster room imports the supervisor (upwards)', 'electron/clusters/bad.ts', "import { x } from '../supervisor/index.ts';\nvoid x;\n", /may not import electron\/supervisor/],
    ['the fixes import the cluster room (upwards)', 'electron/fixes/bad.ts', "import { x } from '../clusters/index.ts';\nvoid x;\n", /may not import electron\/fixes|may not import electron\/clusters/],
    ['the supervisor reaches past the cluster room\'s door', 'electron/supervisor/bad.ts', "import { x } from '../clusters/manager.ts';\nvoid x;\n", /through its door, electron\/clusters\/index\.ts/],
    ['a room other than app imports electron', 'electron/monitor/bad.ts', "import { app } from 'electron';\nvoid app;\n", /only electron\/app\/ imports electron/],
  ])('%s: an error', async (_what, file, code, expected) => {
    const errors = await layerErrors(file, code);
    expect(errors.join('\n')).toMatch(expected);
  });

  it.each([
    ['the supervisor uses the monitor through its door', 'electron/supervisor/ok.ts', "import { x } from '../monitor/index.ts';\nvoid x;\n"],
    ['the supervisor uses the cluster room through its door', 'electron/supervisor/ok.ts', "import { x } from '../clusters/index.ts';\nvoid x;\n"],
    ['the cluster room uses the fixes and the monitor', 'electron/clusters/ok.ts', "import { x } from '../fixes/index.ts';\nimport { y } from '../monitor/index.ts';\nvoid x;\nvoid y;\n"],
    ['the app uses the supervisor', 'electron/app/ok.ts', "import { x } from '../supervisor/index.ts';\nvoid x;\n"],
    ['a room uses shared/ files directly', 'electron/server/ok.ts', "import { x } from '../../shared/constants.ts';\nvoid x;\n"],
    ['a product integration test uses the testbed', 'electron/server/ok.int.test.ts', "import { x } from '../../e2e/testbed/index.ts';\nvoid x;\n"],
    ['a benchmark uses e2e\'s tools', 'bench/ok.ts', "import { x } from '../e2e/helpers/serve.ts';\nvoid x;\n"],
  ])('%s: allowed', async (_what, file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
