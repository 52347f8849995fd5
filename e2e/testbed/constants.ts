// The testbed's own facts, each in one place. The testbed stands for the
// outside world, so it spells kind's facts (labels, API port, context names)
// itself, as kind's own source does (pkg/cluster/constants, the kubeconfig
// writer), instead of importing Kindtray's constants: a wrong constant shared
// by both sides could never fail a test.

import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** kind labels each node container with its cluster's name and the node's role. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const KIND_ROLE_LABEL = 'io.x-k8s.kind.role';
/** The API server listens on 6443 inside the control-plane container. */
export const KIND_API_CONTAINER_PORT = 6443;
/** kind writes its kubeconfig context, cluster and user as `kind-NAME`. */
export const kindContextName = (cluster: string): string => `kind-${cluster}`;

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
