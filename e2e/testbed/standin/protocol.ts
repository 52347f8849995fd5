// The contract between the testbed on the host and the Kubernetes API stand-in
// inside a node container: where things are mounted, the per-cluster config
// file, and the fault switch file. Both sides import this file, so it uses
// Node built-ins only (the stand-in's container has no node_modules).

import { readFileSync } from 'node:fs';

/** Paths inside the control-plane container (bind mounts made by the testbed). */
export const IN_CONTAINER = {
  /** The host's Node binary, mounted read-only. */
  node: '/usr/local/bin/node',
  /** This folder, mounted read-only. */
  standin: '/kindtray/standin',
  /** The cluster's host folder (config + faults), mounted read-only. */
  cluster: '/kindtray/cluster',
  /** The testbed's PKI folder (CA, server and client certs), mounted read-only. */
  pki: '/kindtray/pki',
  /** The API's objects, saved in the container's writable layer so they survive a restart. */
  state: '/var/lib/kindtray-standin/state.json',
} as const;

export const CONFIG_FILE = 'cluster.json';
export const FAULTS_FILE = 'faults.json';
/** In the cluster's folder: an id the engine's start script writes at each engine start (nodes-ready.ts). */
export const ENGINE_BOOT_FILE = 'engine-boot';

/** The API's port inside the container, as on a KinD node. */
export const API_CONTAINER_PORT = 6443;

/** Kubernetes' default Service NodePort range. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** File names in the PKI folder. */
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'apiserver.crt',
  serverKey: 'apiserver.key',
  clientCert: 'admin.crt',
  clientKey: 'admin.key',
} as const;

export type NodeRole = 'control-plane' | 'worker';

/** What the stand-in serves about its cluster; written by the host at creation. */
export interface StandinConfig {
  clusterName: string;
  /** e.g. "v1.32.2", what `/version` and the nodes report. */
  kubernetesVersion: string;
  nodes: { name: string; role: NodeRole }[];
  /** Bearer tokens accepted besides client certificates signed by the CA. */
  tokens: string[];
  /** KinD's multi-node failure: after an engine restart the workers stay NotReady until the cluster restarts (nodes-ready.ts). */
  workersLostOnEngineRestart?: boolean;
}

/**
 * The fault switches. Each takes effect for the next connection or request:
 * - `none`: healthy.
 * - `refuse`: every new connection is reset at once (through docker-proxy the
 *   client sees its connection accepted and then closed or reset).
 * - `hang`: connections are accepted; with `stage: 'request'` (default) TLS
 *   completes and requests are never answered; with `stage: 'handshake'` the
 *   TLS handshake never completes; with `stage: 'stream'` everything is
 *   served but a WebSocket (exec) is accepted and then never read nor
 *   answered (a proxy that swallows streams).
 * - `slow`: every request is answered after `delayMs`.
 * - `notready`: the API answers, but every node reports Ready=False.
 */
export type Fault =
  | { kind: 'none' }
  | { kind: 'refuse' }
  | { kind: 'hang'; stage?: 'request' | 'handshake' | 'stream' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'notready' };

export type FaultKind = Fault['kind'];
export const FAULT_KINDS: readonly FaultKind[] = ['none', 'refuse', 'hang', 'slow', 'notready'];
export const DEFAULT_SLOW_MS = 3_000;

/** Turns a name or an object into a Fault, or throws saying what is wrong. */
export function parseFault(input: unknown): Fault {
  const value: unknown = typeof input === 'string' ? { kind: input } : input;
  if (typeof value !== 'object' || value === null) throw new Error(`not a fault: ${JSON.stringify(input)}`);
  const record = value as Record<string, unknown>;
  switch (record.kind) {
    case 'none':
    case 'refuse':
    case 'notready':
      return { kind: record.kind };
    case 'hang': {
      const stage = record.stage ?? 'request';
      if (stage !== 'request' && stage !== 'handshake' && stage !== 'stream') throw new Error(`hang stage must be request, handshake or stream, not ${String(stage)}`);
      return { kind: 'hang', stage };
    }
    case 'slow': {
      const delayMs = record.delayMs ?? DEFAULT_SLOW_MS;
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw new Error(`slow delayMs must be a number >= 0, not ${String(delayMs)}`);
      return { kind: 'slow', delayMs };
    }
    default:
      throw new Error(`unknown fault ${JSON.stringify(record.kind)}; one of ${FAULT_KINDS.join(', ')}`);
  }
}

/** Reads and checks a cluster config file. */
export function readStandinConfig(file: string): StandinConfig {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const c = raw as Partial<StandinConfig> | null;
  if (!c || typeof c.clusterName !== 'string' || typeof c.kubernetesVersion !== 'string' || !Array.isArray(c.nodes) || !Array.isArray(c.tokens)) {
    throw new Error(`${file}: not a stand-in config`);
  }
  return c as StandinConfig;
}
