// What the testbed's kind learns from its environment, as the real one does:
// the Docker engine from DOCKER_HOST (here: a testbed's private dockerd, whose
// folder holds everything else), the kubeconfig from --kubeconfig, KUBECONFIG
// or ~/.kube/config, and the test's fault switches (see FakeKindFaults).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestbedDocker } from '../cluster.ts';
import { NODE_NETWORK } from '../constants.ts';
import { DockerApi } from '../docker-api.ts';
import { KindError, runError } from './output.ts';

/** The create steps a fault can name (kind's own steps, in order). */
export const CREATE_STEPS = ['image', 'nodes', 'config', 'control-plane', 'cni', 'storage', 'join', 'wait', 'kubeconfig'] as const;
export type CreateStep = (typeof CREATE_STEPS)[number];

/**
 * Fault switches for tests. Read at every run from the JSON file named by
 * KINDTRAY_FAKE_KIND_FAULTS_FILE (a test can flip it between two runs of a
 * long-lived product), then from single environment variables, which win.
 */
export interface FakeKindFaults {
  /** `kind create cluster` fails in this step with kind's error for it (KINDTRAY_FAKE_KIND_FAIL_AT). */
  failAt?: CreateStep;
  /** `kind create cluster` stops in this step until killed (KINDTRAY_FAKE_KIND_HANG_AT). */
  hangAt?: CreateStep;
  /** Every create step takes this long at least (KINDTRAY_FAKE_KIND_STEP_DELAY_MS). */
  stepDelayMs?: number;
  /** `kind load docker-image` fails to import on this node (KINDTRAY_FAKE_KIND_LOAD_FAIL_NODE). */
  loadFailNode?: string;
}

export const FAULT_ENV = {
  file: 'KINDTRAY_FAKE_KIND_FAULTS_FILE',
  failAt: 'KINDTRAY_FAKE_KIND_FAIL_AT',
  hangAt: 'KINDTRAY_FAKE_KIND_HANG_AT',
  stepDelayMs: 'KINDTRAY_FAKE_KIND_STEP_DELAY_MS',
  loadFailNode: 'KINDTRAY_FAKE_KIND_LOAD_FAIL_NODE',
} as const;

/** Label value for clusters this kind makes (KINDTRAY_TESTBED_OWNER), so a test file's cleanup finds them. */
export const OWNER_ENV = 'KINDTRAY_TESTBED_OWNER';
export const OWNER_LABEL = 'dev.kindtray.testbed.owner';

const isStep = (s: unknown): s is CreateStep => typeof s === 'string' && (CREATE_STEPS as readonly string[]).includes(s);

/** Checks a faults object (from a file or a test), naming the bad field. */
export function parseFaults(raw: unknown, source: string): FakeKindFaults {
  if (raw === null || typeof raw !== 'object') throw new Error(`${source}: fake kind faults must be an object`);
  const r = raw as Record<string, unknown>;
  const out: FakeKindFaults = {};
  for (const key of ['failAt', 'hangAt'] as const) {
    if (r[key] === undefined || r[key] === '') continue;
    if (!isStep(r[key])) throw new Error(`${source}: ${key} must be one of ${CREATE_STEPS.join(', ')} (got ${JSON.stringify(r[key])})`);
    out[key] = r[key];
  }
  if (r.stepDelayMs !== undefined && r.stepDelayMs !== '') {
    const n = Number(r.stepDelayMs);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${source}: stepDelayMs must be a number of milliseconds >= 0 (got ${JSON.stringify(r.stepDelayMs)})`);
    out.stepDelayMs = n;
  }
  if (typeof r.loadFailNode === 'string' && r.loadFailNode) out.loadFailNode = r.loadFailNode;
  for (const key of Object.keys(r)) if (!['failAt', 'hangAt', 'stepDelayMs', 'loadFailNode'].includes(key)) throw new Error(`${source}: unknown fault ${key}`);
  return out;
}

export function readFaults(env: NodeJS.ProcessEnv = process.env): FakeKindFaults {
  const file = env[FAULT_ENV.file];
  let fromFile: FakeKindFaults = {};
  if (file && existsSync(file)) fromFile = parseFaults(JSON.parse(readFileSync(file, 'utf8') || '{}'), file);
  const fromEnv = parseFaults({
    failAt: env[FAULT_ENV.failAt], hangAt: env[FAULT_ENV.hangAt], stepDelayMs: env[FAULT_ENV.stepDelayMs], loadFailNode: env[FAULT_ENV.loadFailNode],
  }, 'environment');
  return { ...fromFile, ...Object.fromEntries(Object.entries(fromEnv).filter(([, v]) => v !== undefined)) };
}

/** The engine as kind would reach it; `docker` CLI commands are run against the same DOCKER_HOST. */
export interface Engine extends TestbedDocker {
  dockerHost: string;
  socketPath: string;
}

/**
 * The testbed behind DOCKER_HOST. A missing socket or a silent engine gives
 * the error kind prints when `docker` cannot reach the daemon (`what` names the
 * docker command kind would have run).
 */
export async function engine(what: string[], env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const dockerHost = env.DOCKER_HOST ?? '';
  const socketPath = dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '';
  const dir = dirname(socketPath);
  const record = join(dir, 'testbed.json');
  if (!socketPath || !existsSync(record)) {
    throw new KindError(`the testbed's kind works only against a Kindtray testbed's dockerd: set DOCKER_HOST=unix://…/tb-ID/docker.sock (got ${JSON.stringify(dockerHost)})`);
  }
  const api = new DockerApi(socketPath);
  const alive = existsSync(socketPath) && statSync(socketPath).isSocket() && (await api.ping(5_000));
  if (!alive) throw runError(what, 1, `Cannot connect to the Docker daemon at ${dockerHost}. Is the docker daemon running?`);
  const { id } = JSON.parse(readFileSync(record, 'utf8')) as { id: string };
  return { id, dir, network: NODE_NETWORK, api, dockerHost, socketPath };
}

/** kind's kubeconfig paths(): --kubeconfig alone, else the KUBECONFIG list, else ~/.kube/config. */
export function kubeconfigPaths(explicit: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit) return [explicit];
  const list = [...new Set((env.KUBECONFIG ?? '').split(':').filter(Boolean))];
  return list.length ? list : [join(env.HOME || homedir(), '.kube', 'config')];
}

/** pathForMerge: the only path, else the first that exists, else the last. */
export function kubeconfigPathForMerge(explicit: string, env: NodeJS.ProcessEnv = process.env): string {
  const paths = kubeconfigPaths(explicit, env);
  if (paths.length === 1) return paths[0] ?? '';
  return paths.find((p) => existsSync(p) && statSync(p).isFile()) ?? paths[paths.length - 1] ?? '';
}
