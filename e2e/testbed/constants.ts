// The testbed's own facts, each in one place. The KinD facts (labels, API
// port, context names) come from shared/constants.ts, which Kindtray itself
// reads, so the testbed and the app cannot drift apart on them.

import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { KIND_API_CONTAINER_PORT, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL, kindContextName } from '../../shared/constants.ts';

/** Where testbeds live: one folder `tb-ID` each. Override with KINDTRAY_TESTBED_ROOT. */
export const defaultTestbedRoot = (): string => process.env.KINDTRAY_TESTBED_ROOT ?? join(tmpdir(), 'kindtray-testbed');

/** The node image, imported from /bin/busybox into each testbed's dockerd. */
export const NODE_IMAGE = { repo: 'kindtray/node-busybox', tag: '1' } as const;
export const NODE_IMAGE_REF = `${NODE_IMAGE.repo}:${NODE_IMAGE.tag}`;

/** Label on every container a testbed creates, with the testbed's id as value. */
export const TESTBED_LABEL = 'dev.kindtray.testbed';

/** The user-defined Docker network the nodes join, named as KinD's. */
export const NODE_NETWORK = 'kind';

/**
 * Each testbed's network gets its own /24 out of this /16, checked against
 * the host's routes and the other testbeds', so two testbeds never share a
 * subnet (two bridges with one subnet make one of them unreachable).
 */
export const SUBNET_POOL_PREFIX = '10.213';

/** What the stand-in reports, as the node image of kind v0.27 does. */
export const DEFAULT_KUBERNETES_VERSION = 'v1.32.2';

export const TIMEOUTS = {
  /** dockerd answering /_ping after start (about 0.6 s here). */
  dockerdReady: 30_000,
  /** dockerd exiting after SIGTERM before it gets SIGKILL (about 2.5 s here). */
  dockerdStop: 20_000,
  /** A cluster's API answering /readyz after its container starts (under 1 s here). */
  apiReady: 20_000,
} as const;
