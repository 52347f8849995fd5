// The testbed's door: a real world to test Kindtray against. A private
// dockerd per test run, KinD-like clusters whose control-plane container runs a
// Kubernetes API stand-in, and fault switches for the engine, the node
// containers and the API. See README.md.

export { Cluster, apiRequest, attachCluster, clusterDir, createCluster, listClusterNames, writeFault } from './cluster.ts';
export type { ApiResponse, CreateClusterOptions, NodeContainer, PortMapping, TestbedDocker } from './cluster.ts';
export { NODE_IMAGE_REF, NODE_NETWORK, TESTBED_LABEL, defaultTestbedRoot } from './constants.ts';
export { DockerApi, DockerApiError } from './docker-api.ts';
export { Dockerd, attachDockerd, cleanupStaleTestbeds, ensureNodeImage, listTestbeds, nodeBinds, startDockerd } from './dockerd.ts';
export type { DockerdInfo, StartDockerdOptions, TestbedEntry } from './dockerd.ts';
export { CREATE_STEPS, DEFAULT_NODE_IMAGE, FAKE_KIND_BIN, FAKE_KIND_BIN_DIR, FAULT_ENV, KIND_VERSION, NODE_IMAGE_STORE, writeFakeKindFaults } from './kind/index.ts';
export type { CreateStep, FakeKindFaults } from './kind/index.ts';
export { kubectl } from './kubectl.ts';
export type { KubectlResult } from './kubectl.ts';
export {
  editKubeconfig, emptyKubeconfig, mergeKindEntry, readKubeconfig, removeKindEntry, setContextServer, setContextServerPort, setContextUser,
  setCurrentContext, writeKubeconfig,
} from './kubeconfig.ts';
export type { Kubeconfig } from './kubeconfig.ts';
export { ensurePki, makeForeignClientCert, pkiPaths } from './pki.ts';
export type { Pki } from './pki.ts';
export type { TestbedInfo } from './provided.ts';
export { FAULT_KINDS, parseFault } from './standin/protocol.ts';
export type { Fault, FaultKind } from './standin/protocol.ts';
export { useTestbed } from './use-testbed.ts';
export type { Testbed } from './use-testbed.ts';
