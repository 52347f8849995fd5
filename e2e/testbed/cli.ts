// The testbed for humans: bring up a private dockerd with KinD-like clusters
// to point Kindtray (or kubectl, or docker) at, flip fault switches on them,
// and take it all down.
//
//   node e2e/testbed/cli.ts up [--cluster NAME [--workers N] [--map HOST:CONTAINER|A-B]…]… [--kubeconfig PATH]
//   node e2e/testbed/cli.ts fault CLUSTER none|refuse|hang|slow|notready [--delay MS] [--stage request|handshake]
//   node e2e/testbed/cli.ts status
//   node e2e/testbed/cli.ts down
//
// `up` stays in the foreground until Ctrl-C or `down` (from another shell),
// then removes everything it made. Exit codes: 0 ok, 1 failed, 2 usage.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDir, createCluster, writeFault } from './cluster.ts';
import type { Cluster, PortMapping } from './cluster.ts';
import { defaultTestbedRoot } from './constants.ts';
import { listTestbeds, startDockerd } from './dockerd.ts';
import type { Dockerd } from './dockerd.ts';
import { ensurePki } from './pki.ts';
import { isAlive, sleep } from './proc.ts';
import { DEFAULT_SLOW_MS, FAULT_KINDS, parseFault } from './standin/protocol.ts';
import type { FaultKind } from './standin/protocol.ts';

const USAGE = `usage:
  node e2e/testbed/cli.ts up [--cluster NAME [--workers N] [--map HOST:CONTAINER | --map A-B]...]... [--kubeconfig PATH]
      starts a private dockerd and the clusters (default: one named "kind"), prints
      DOCKER_HOST, KUBECONFIG and the Docker start command, and stays up until Ctrl-C or "down".
      --map A-B publishes host ports A..B to the same node ports (as "sky local up" does).
  node e2e/testbed/cli.ts fault CLUSTER ${FAULT_KINDS.join('|')} [--delay MS] [--stage request|handshake]
  node e2e/testbed/cli.ts status
  node e2e/testbed/cli.ts down`;

class UsageError extends Error {}

interface ClusterRequest {
  name: string;
  workers: number;
  maps: PortMapping[];
}

function parseMap(text: string): PortMapping[] {
  let m = /^(\d+)-(\d+)$/.exec(text);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (a > b || b - a > 1000) throw new UsageError(`--map ${text}: a range A-B with A <= B and at most 1000 ports`);
    return Array.from({ length: b - a + 1 }, (_, i) => ({ containerPort: a + i, hostPort: a + i }));
  }
  m = /^(\d+):(\d+)$/.exec(text);
  if (m) return [{ hostPort: Number(m[1]), containerPort: Number(m[2]) }];
  m = /^(\d+)$/.exec(text);
  if (m) return [{ containerPort: Number(m[1]) }];
  throw new UsageError(`--map ${text}: HOST:CONTAINER, CONTAINER or A-B`);
}

function parseUp(args: string[]): { clusters: ClusterRequest[]; kubeconfig?: string } {
  const clusters: ClusterRequest[] = [];
  let kubeconfig: string | undefined;
  const current = (flag: string) => {
    const c = clusters.at(-1);
    if (!c) throw new UsageError(`${flag} belongs after a --cluster NAME`);
    return c;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    if (value === undefined && flag?.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case '--cluster':
        clusters.push({ name: value ?? '', workers: 0, maps: [] });
        break;
      case '--workers':
        current(flag).workers = Number(value);
        if (!Number.isInteger(current(flag).workers) || current(flag).workers < 0) throw new UsageError('--workers N: a whole number');
        break;
      case '--map':
        current(flag).maps.push(...parseMap(value ?? ''));
        break;
      case '--kubeconfig':
        kubeconfig = value;
        break;
      default:
        throw new UsageError(`unknown argument ${flag}`);
    }
    i++;
  }
  return { clusters: clusters.length ? clusters : [{ name: 'kind', workers: 0, maps: [] }], kubeconfig };
}

async function up(args: string[]): Promise<number> {
  const { clusters: requests, kubeconfig: kubeconfigArg } = parseUp(args);
  const started = Date.now();
  const dockerd: Dockerd = await startDockerd({ purpose: 'cli' });
  let stopping = false;
  const teardown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: removing testbed ${dockerd.id}…`);
    await dockerd.destroy();
    console.log('done.');
    process.exit(0);
  };
  process.on('SIGINT', () => void teardown('Ctrl-C'));
  process.on('SIGTERM', () => void teardown('down'));
  try {
    await ensurePki(join(dockerd.dir, 'pki'));
    const kubeconfigPath = kubeconfigArg ?? join(dockerd.dir, 'kubeconfig');
    const clusters: Cluster[] = [];
    for (const r of requests) {
      clusters.push(await createCluster(dockerd, { name: r.name, workers: r.workers, extraPortMappings: r.maps, kubeconfigPath }));
    }
    console.log(`Kindtray testbed ${dockerd.id} is up (${((Date.now() - started) / 1000).toFixed(1)} s):

  export DOCKER_HOST=${dockerd.dockerHost}
  export KUBECONFIG=${kubeconfigPath}

  Docker start command: ${dockerd.startCommand}
  Network: ${dockerd.network} ${dockerd.subnet} (bridge ${dockerd.bridge})
`);
    for (const c of clusters) {
      console.log(`  cluster ${c.name}: context ${c.context}, API ${c.apiServer}, nodes ${c.nodeContainers.map((n) => n.name).join(', ')}`);
    }
    console.log(`
Faults:  node e2e/testbed/cli.ts fault CLUSTER ${FAULT_KINDS.join('|')}
Engine:  kill $(cat ${dockerd.pidFile})   (stop)    ${dockerd.startCommand}   (start)
Stop with Ctrl-C, or: node e2e/testbed/cli.ts down`);
  } catch (err) {
    await teardown(`failed: ${(err as Error).message}`);
  }
  // Stay up; the signal handlers end the process.
  for (;;) await sleep(60_000);
}

async function down(): Promise<number> {
  const root = defaultTestbedRoot();
  const mine = listTestbeds(root).filter((t) => t.purpose === 'cli' && !t.stale);
  if (!mine.length) {
    console.log('no testbed started by "cli.ts up" is running');
    return 0;
  }
  for (const t of mine) {
    console.log(`stopping testbed ${t.id} (up process ${t.ownerPid})`);
    if (t.ownerPid && isAlive(t.ownerPid)) process.kill(t.ownerPid, 'SIGTERM');
  }
  const deadline = Date.now() + 60_000;
  while (mine.some((t) => existsSync(t.dir)) && Date.now() < deadline) await sleep(100);
  const left = mine.filter((t) => existsSync(t.dir));
  if (left.length) {
    console.error(`still there after 60 s: ${left.map((t) => t.dir).join(', ')}`);
    return 1;
  }
  return 0;
}

function fault(args: string[]): number {
  const [cluster, kind, ...rest] = args;
  if (!cluster || !kind) throw new UsageError('fault CLUSTER KIND');
  const opts: Record<string, unknown> = { kind };
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === '--delay') opts.delayMs = Number(rest[i + 1]);
    else if (rest[i] === '--stage') opts.stage = rest[i + 1];
    else throw new UsageError(`unknown argument ${rest[i]}`);
  }
  if (kind === 'slow' && opts.delayMs === undefined) opts.delayMs = DEFAULT_SLOW_MS;
  let parsed;
  try {
    parsed = parseFault(opts as { kind: FaultKind });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // The newest live testbed that has this cluster.
  const testbed = listTestbeds().filter((t) => !t.stale && existsSync(join(clusterDir(t.dir, cluster), 'cluster.json'))).at(-1);
  if (!testbed) {
    console.error(`no running testbed has a cluster named ${cluster} (see: node e2e/testbed/cli.ts status)`);
    return 1;
  }
  writeFault(clusterDir(testbed.dir, cluster), parsed);
  console.log(`cluster ${cluster} (testbed ${testbed.id}): fault ${JSON.stringify(parsed)}`);
  return 0;
}

function status(): number {
  const testbeds = listTestbeds();
  if (!testbeds.length) console.log(`no testbeds under ${defaultTestbedRoot()}`);
  for (const t of testbeds) {
    console.log(`${t.id}  ${t.purpose.padEnd(14)} owner ${String(t.ownerPid ?? '?').padEnd(7)} ${t.stale ? 'STALE' : 'live '}  dockerd ${t.dockerdRunning ? 'running' : 'stopped'}  ${t.dir}`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'up':
        return await up(args);
      case 'down':
        return await down();
      case 'fault':
        return fault(args);
      case 'status':
        return status();
      case undefined:
      case '-h':
      case '--help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    console.error(`testbed: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
