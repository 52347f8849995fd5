// The helper test files call at their top: `const tb = useTestbed()`. It
// connects to the run's shared dockerd (from the global setup) or, with
// `{ privateDockerd: true }`, starts one for this file alone, and creates
// clusters with unique names; each test's clusters are removed after that
// test, clusters made in beforeAll after the file.
//
// Test files run in parallel against the shared dockerd: a file that stops or
// restarts an engine must use a private one, or it takes every other file's
// clusters down with it.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { attachCluster, createCluster } from './cluster.ts';
import type { Cluster, CreateClusterOptions } from './cluster.ts';
import { attachDockerd, startDockerd } from './dockerd.ts';
import type { Dockerd } from './dockerd.ts';
import { FAULT_ENV, OWNER_ENV, OWNER_LABEL, writeFakeKindFaults } from './kind/index.ts';
import type { FakeKindFaults } from './kind/index.ts';
import { KIND_CLUSTER_LABEL } from './constants.ts';
import type { TestbedInfo } from './provided.ts';
import './provided.ts';

export interface Testbed {
  /** What the global setup provided. */
  readonly info: TestbedInfo;
  /** The engine this file uses (shared, or private). `stop()`/`start()` on a shared one affect every file. */
  readonly dockerd: Dockerd;
  /** DOCKER_HOST for the engine this file uses. */
  readonly dockerHost: string;
  /** This file's kubeconfig; clusters merge their `kind-NAME` entries into it unless told otherwise. */
  readonly kubeconfigPath: string;
  /** DOCKER_HOST and KUBECONFIG (plus `extra`) over this process's environment, for spawning kubectl or Kindtray. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** `prefix-xxxxxx`: unique across files and runs sharing the dockerd. */
  uniqueName(prefix?: string): string;
  /**
   * Creates a cluster; `name` is a prefix made unique (default "c"). Removed
   * after the current test, or after the file when called from beforeAll.
   */
  createCluster(opts?: Partial<CreateClusterOptions>): Promise<Cluster>;
  /**
   * The testbed's kind (FAKE_KIND_BIN) run with env() fails, hangs or slows
   * down as told (see README, "The testbed's kind"); set inside a test, the
   * switches are cleared after it. Clusters that kind makes with env() are
   * removed after the file.
   */
  setKindFaults(faults: FakeKindFaults): void;
}

export function useTestbed(opts: { privateDockerd?: boolean } = {}): Testbed {
  const info = inject('kindtrayTestbed');
  if (!info) throw new Error('no testbed provided: run this file in the `integration` vitest project (its globalSetup starts the testbed)');
  const fileKey = randomBytes(3).toString('hex');
  let dockerd: Dockerd | undefined = opts.privateDockerd ? undefined : attachDockerd(info.dockerd);
  const testClusters: Cluster[] = [];
  const fileClusters: Cluster[] = [];

  if (opts.privateDockerd) {
    beforeAll(async () => {
      dockerd = await startDockerd({ root: info.root, purpose: 'vitest-private' });
    }, 60_000);
    afterAll(async () => {
      await dockerd?.destroy();
    }, 60_000);
  }

  const removeAll = async (list: Cluster[]) => {
    const clusters = list.splice(0);
    // With the engine down (a test stopped it) removal cannot work; the engine's teardown removes them.
    if (!dockerd?.isRunning() || !(await dockerd.api.ping())) return;
    await Promise.all(clusters.map((c) => c.remove()));
  };
  afterEach(() => removeAll(testClusters), 60_000);
  afterAll(() => removeAll(fileClusters), 60_000);
  // Clusters made by the testbed's kind with env() carry this file's owner label.
  afterAll(async () => {
    if (!dockerd?.isRunning() || !(await dockerd.api.ping())) return;
    const d = dockerd;
    const names = new Set((await d.api.listContainers([`${OWNER_LABEL}=${fileKey}`])).map((c) => c.Labels[KIND_CLUSTER_LABEL] ?? ''));
    await Promise.all([...names].filter(Boolean).map(async (n) => (await attachCluster(d, n, kubeconfigPath()).catch(() => undefined))?.remove()));
  }, 60_000);
  let faultsSetInTest = false;
  afterEach(() => {
    if (faultsSetInTest && dockerd) writeFakeKindFaults(kindFaultsPath(), {});
    faultsSetInTest = false;
  });

  const need = (): Dockerd => {
    if (!dockerd) throw new Error('the private dockerd starts in beforeAll: use it from hooks and tests, not at collection time');
    return dockerd;
  };
  const kubeconfigPath = () => join(need().dir, 'kubeconfigs', `${fileKey}.yaml`);
  const kindFaultsPath = () => join(need().dir, 'kind-faults', `${fileKey}.json`);
  const uniqueName = (prefix = 'c') => `${prefix}-${randomBytes(3).toString('hex')}`;

  return {
    info,
    get dockerd() {
      return need();
    },
    get dockerHost() {
      return need().dockerHost;
    },
    get kubeconfigPath() {
      return kubeconfigPath();
    },
    env(extra = {}) {
      return { ...process.env, DOCKER_HOST: need().dockerHost, KUBECONFIG: kubeconfigPath(), [OWNER_ENV]: fileKey, [FAULT_ENV.file]: kindFaultsPath(), ...extra };
    },
    uniqueName,
    async createCluster(options = {}) {
      const cluster = await createCluster(need(), {
        ...options,
        name: uniqueName(options.name ?? 'c'),
        kubeconfigPath: options.kubeconfigPath ?? kubeconfigPath(),
      });
      // Inside a test → removed after it; in beforeAll → after the file.
      (expect.getState().currentTestName ? testClusters : fileClusters).push(cluster);
      return cluster;
    },
    setKindFaults(faults) {
      writeFakeKindFaults(kindFaultsPath(), faults);
      if (expect.getState().currentTestName) faultsSetInTest = true;
    },
  };
}
