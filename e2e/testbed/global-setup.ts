// Vitest global setup of the `integration` project: starts one private
// dockerd for the whole test run (with its `kind` network, node image and
// certificates), provides its coordinates to every test file, and tears it all
// down when the run ends, failed or not. A run that is killed before teardown
// leaves a folder whose owner is dead; the next run's startDockerd removes it.

import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { defaultTestbedRoot, NODE_IMAGE_REF } from './constants.ts';
import { startDockerd } from './dockerd.ts';
import { ensurePki } from './pki.ts';
import type { TestbedInfo } from './provided.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const root = defaultTestbedRoot();
  const dockerd = await startDockerd({ root, purpose: 'vitest' });
  let info: TestbedInfo;
  try {
    const pki = await ensurePki(join(dockerd.dir, 'pki'));
    info = { dockerd: dockerd.info, root, dir: dockerd.dir, pkiDir: pki.dir, image: NODE_IMAGE_REF, setupMs: Date.now() - started };
  } catch (err) {
    await dockerd.destroy();
    throw err;
  }
  project.provide('kindtrayTestbed', info);
  if (process.env.KINDTRAY_TESTBED_VERBOSE) console.error(`testbed: dockerd ${dockerd.dockerHost} ready in ${info.setupMs} ms`);
  return async () => {
    await dockerd.destroy();
  };
}
