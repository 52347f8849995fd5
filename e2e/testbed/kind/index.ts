// The testbed's `kind` executable, for tests and humans: where it is, and its
// fault switches. A product under test runs it exactly as it would the real
// kind (put FAKE_KIND_BIN_DIR first on PATH, or give FAKE_KIND_BIN as the kind
// path); it acts on the testbed engine its DOCKER_HOST names.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../proc.ts';
import { parseFaults } from './world.ts';
import type { FakeKindFaults } from './world.ts';

/** The folder holding the `kind` executable (prepend it to PATH). */
export const FAKE_KIND_BIN_DIR = join(import.meta.dirname, 'bin');
/** The `kind` executable itself (a sh shim running main.ts under the repository's Node 24). */
export const FAKE_KIND_BIN = join(FAKE_KIND_BIN_DIR, 'kind');

/** Writes the fault switches file a `kind` run reads (KINDTRAY_FAKE_KIND_FAULTS_FILE); `{}` turns them off. */
export function writeFakeKindFaults(path: string, faults: FakeKindFaults): void {
  const checked = parseFaults(faults, path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify(checked)}\n`);
}

export { CREATE_STEPS, FAULT_ENV, OWNER_ENV, OWNER_LABEL, parseFaults } from './world.ts';
export type { CreateStep, FakeKindFaults } from './world.ts';
export { NODE_IMAGE_STORE, nodeToolBinds } from './node-tools.ts';
export { DEFAULT_NODE_IMAGE } from './config.ts';
export { KIND_VERSION } from './version.ts';
