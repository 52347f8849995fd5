// What the integration project's global setup hands to every test file, and
// its typing for vitest's provide/inject. Plain data only: it crosses from the
// main vitest process to the workers.

import type { DockerdInfo } from './dockerd.ts';

export interface TestbedInfo {
  /** The shared dockerd of this test run (stop/start it only from a file that runs alone; see README). */
  dockerd: DockerdInfo;
  /** Parent folder of all testbeds (for private dockerds of single test files). */
  root: string;
  /** The testbed folder of the shared dockerd. */
  dir: string;
  /** CA, API server and admin client certificates (see pki.ts). */
  pkiDir: string;
  /** The node image every cluster runs. */
  image: string;
  /** Milliseconds the global setup took to start dockerd and import the image. */
  setupMs: number;
}

/** The key under which the global setup provides TestbedInfo. */
export const TESTBED_KEY = 'kindtrayTestbed';

declare module 'vitest' {
  export interface ProvidedContext {
    kindtrayTestbed: TestbedInfo;
  }
}
