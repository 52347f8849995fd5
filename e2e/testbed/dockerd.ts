// A private Docker Engine per testbed: its own socket, data root, exec root,
// pidfile, config file and network, so that it never touches a system Docker
// and two testbeds (a developer's and a CI run, or two test runs) can run on
// one machine at once.
//
// Networking, and why: two dockerds that both manage the default bridge
// (docker0, its iptables chains) fight over it. So each dockerd runs with
// `--bridge=none --iptables=false --ip-masq=false` (Docker's documented recipe
// for running several daemons) and its nodes join a user-defined bridge
// network named `kind`, as KinD's do, with a bridge device named after the
// testbed and a /24 of its own. The subnet must be chosen by us: Docker picks
// a user network's subnet from its default pools without looking at the host,
// so two dockerds would both take 172.17.0.0/16 and one bridge would become
// unreachable (seen here). Without iptables, published ports are served by
// docker-proxy, which is all 127.0.0.1 publishing needs.
//
// Each testbed folder records its owner process (pid + start time). A folder
// whose owner is gone is stale: it is torn down (dockerd, containerd shims and
// container processes, mounts, bridge, files) before a new testbed starts.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { DockerApi } from './docker-api.ts';
import { defaultTestbedRoot, NODE_IMAGE, NODE_IMAGE_REF, NODE_NETWORK, SUBNET_POOL_PREFIX, TIMEOUTS } from './constants.ts';
import { cmdlineOf, isAlive, run, sleep, startTimeOf, waitFor } from './proc.ts';

/** What a test process needs to reach (and stop/start) a testbed's dockerd; plain data, so vitest can `provide` it. */
export interface DockerdInfo {
  id: string;
  /** The testbed folder. */
  dir: string;
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  dockerHost: string;
  socketPath: string;
  pidFile: string;
  /** A shell command line that starts this dockerd again, detached (what "Start Docker" runs). */
  startCommand: string;
  /** The user-defined network the nodes join, its subnet and bridge device. */
  network: string;
  subnet: string;
  bridge: string;
}

/** The testbed folder's record of who owns it; see isStale(). */
interface TestbedRecord {
  id: string;
  ownerPid: number;
  ownerStart: string | undefined;
  purpose: string;
  createdAt: string;
  subnet: string;
  bridge: string;
}

const RECORD_FILE = 'testbed.json';

export class Dockerd implements DockerdInfo {
  readonly id: string;
  readonly dir: string;
  readonly dockerHost: string;
  readonly socketPath: string;
  readonly pidFile: string;
  readonly startCommand: string;
  readonly network: string;
  readonly subnet: string;
  readonly bridge: string;
  readonly api: DockerApi;

  constructor(info: DockerdInfo) {
    this.id = info.id;
    this.dir = info.dir;
    this.dockerHost = info.dockerHost;
    this.socketPath = info.socketPath;
    this.pidFile = info.pidFile;
    this.startCommand = info.startCommand;
    this.network = info.network;
    this.subnet = info.subnet;
    this.bridge = info.bridge;
    this.api = new DockerApi(this.socketPath);
  }

  /** Plain data for `provide`/`inject` or a state file; attachDockerd() turns it back into a handle. */
  get info(): DockerdInfo {
    const { id, dir, dockerHost, socketPath, pidFile, startCommand, network, subnet, bridge } = this;
    return { id, dir, dockerHost, socketPath, pidFile, startCommand, network, subnet, bridge };
  }

  /** dockerd's pid from its pidfile, when that process is alive and is this testbed's dockerd. */
  get pid(): number | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!isAlive(pid)) return undefined;
    const cmd = cmdlineOf(pid);
    return cmd.some((a) => a.includes('dockerd')) && cmd.some((a) => a.includes(this.socketPath)) ? pid : undefined;
  }

  isRunning(): boolean {
    return this.pid !== undefined;
  }

  /** Starts dockerd by running the start command, as the app's fix would, and resolves once /_ping answers. */
  async start(timeoutMs: number = TIMEOUTS.dockerdReady): Promise<void> {
    if (this.isRunning() && (await this.api.ping())) return;
    await run('/bin/sh', ['-c', this.startCommand], { timeoutMs: 10_000 });
    try {
      await waitFor('dockerd answering /_ping', timeoutMs, async () => ((await this.api.ping(500)) ? true : undefined), 50);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ${join(this.dir, 'dockerd.log')} (tail) ---\n${tail(join(this.dir, 'dockerd.log'), 30)}`, { cause: err });
    }
  }

  /**
   * Stops dockerd: SIGTERM (its socket disappears at once, containers get
   * stopped), wait until it has exited, SIGKILL after the deadline.
   */
  async stop(timeoutMs: number = TIMEOUTS.dockerdStop): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    await terminate(pid, timeoutMs);
  }

  /**
   * "Docker unresponsive": freezes dockerd (SIGSTOP). Its socket stays and the
   * kernel still accepts connections, but nothing is answered until thaw();
   * the containers keep running (containerd is another process).
   */
  freeze(): void {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`dockerd of testbed ${this.id} is not running`);
    process.kill(pid, 'SIGSTOP');
    // The signal is delivered asynchronously: on a busy 2-core machine dockerd's threads can still answer a
    // request for a moment. Return only once the kernel reports the process stopped (state T), at most 1 s.
    const until = Date.now() + 1_000;
    while (Date.now() < until && processStateLetter(pid) !== 'T') Atomics.wait(SLEEP_CELL, 0, 0, 5);
  }

  /** Undoes freeze() (SIGCONT). */
  thaw(): void {
    const pid = this.pid;
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
  }

  /** Stops dockerd and removes everything this testbed made: containers, mounts, bridges, folder. */
  async destroy(): Promise<void> {
    // Bridges outlive dockerd; learn the names of any networks a test added while the engine can still tell.
    const extra = this.isRunning() ? await this.api.bridgeNames().catch(() => []) : [];
    await destroyTestbedDir(this.dir, [this.bridge, ...extra], this.pid);
  }
}

/** A handle on a dockerd started elsewhere (global setup, another process), from its provided info. */
export function attachDockerd(info: DockerdInfo): Dockerd {
  return new Dockerd(info);
}

export interface StartDockerdOptions {
  /** Parent folder of testbed folders (default: $KINDTRAY_TESTBED_ROOT or TMPDIR/kindtray-testbed). */
  root?: string;
  /** Recorded in the folder, for humans and `cli.ts down` ("vitest", "cli", …). */
  purpose?: string;
  /** The process whose death makes this testbed stale (default: this process). */
  ownerPid?: number;
  /** Import the node image too (default true). */
  importImage?: boolean;
}

/**
 * Starts a new private dockerd in a fresh testbed folder, after cleaning up
 * stale ones, and makes its `kind` network (and node image, unless told not to).
 */
export async function startDockerd(opts: StartDockerdOptions = {}): Promise<Dockerd> {
  const started = Date.now();
  await ensureTools();
  const root = opts.root ?? defaultTestbedRoot();
  mkdirSync(root, { recursive: true });
  await cleanupStaleTestbeds(root);

  const id = randomBytes(4).toString('hex');
  const dir = join(root, `tb-${id}`);
  const socketPath = join(dir, 'docker.sock');
  // containerd's sockets live deeper still; unix socket paths stop at 107 bytes.
  if (Buffer.byteLength(join(dir, 'exec/containerd/containerd.sock.ttrpc')) > 100) {
    throw new Error(`testbed root ${root} is too long a path for unix sockets; set KINDTRAY_TESTBED_ROOT to a shorter one`);
  }
  mkdirSync(dir, { recursive: true });
  const bridge = `ktb-${id}`;
  const ownerPid = opts.ownerPid ?? process.pid;

  // The lock covers choosing the subnet and recording it; once recorded, others see it taken.
  const subnet = await withRootLock(root, async () => {
    const chosen = pickSubnet(root);
    const record: TestbedRecord = { id, ownerPid, ownerStart: startTimeOf(ownerPid), purpose: opts.purpose ?? 'test', createdAt: new Date().toISOString(), subnet: chosen, bridge };
    writeFileSync(join(dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    return chosen;
  });
  const dockerd = new Dockerd({
    id, dir, socketPath, dockerHost: `unix://${socketPath}`, pidFile: join(dir, 'docker.pid'),
    startCommand: writeStartScript(dir, socketPath), network: NODE_NETWORK, subnet, bridge,
  });
  try {
    await dockerd.start();
    await ensureNetwork(dockerd);
    if (opts.importImage !== false) await ensureNodeImage(dockerd);
  } catch (err) {
    await destroyTestbedDir(dir, [bridge], dockerd.pid).catch(() => {});
    throw err;
  }
  if (process.env.KINDTRAY_TESTBED_VERBOSE) console.error(`testbed ${id}: dockerd ready in ${Date.now() - started} ms`);
  return dockerd;
}

/** Writes DIR/start-dockerd.sh: starts this dockerd detached (own session, output to dockerd.log) and returns. */
function writeStartScript(dir: string, socketPath: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // An empty config file: a system /etc/docker/daemon.json must not leak into the testbed.
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const script = `#!/bin/sh
# Starts the Kindtray testbed's private dockerd (testbed ${dir}), detached, and
# returns at once. Written by e2e/testbed/dockerd.ts; this is the testbed's
# "Docker start command" (what Kindtray's Start Docker fix runs).
DIR=${q(dir)}
# Already running? (the pid must still be this testbed's dockerd, not a reused pid)
PID=$(cat "$DIR/docker.pid" 2>/dev/null)
if [ -n "$PID" ] && tr '\\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -q -- "$DIR/docker.sock"; then exit 0; fi
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
# A new engine boot, told to every cluster's stand-in (standin/nodes-ready.ts).
BOOT="$(date +%s%N)-$$"
for d in "$DIR"/clusters/*/; do [ -d "$d" ] && echo "$BOOT" >"$d/engine-boot"; done
setsid nohup dockerd \\
  --host ${q(`unix://${socketPath}`)} \\
  --data-root "$DIR/root" --exec-root "$DIR/exec" --pidfile "$DIR/docker.pid" \\
  --config-file "$DIR/daemon.json" \\
  --bridge=none --iptables=false --ip-masq=false \\
  </dev/null >>"$DIR/dockerd.log" 2>&1 &
exit 0
`;
  const path = join(dir, 'start-dockerd.sh');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

/** Creates the `kind` network with the testbed's subnet and bridge name (once; it survives dockerd restarts). */
async function ensureNetwork(d: Dockerd): Promise<void> {
  if (await d.api.networkExists(d.network)) return;
  await d.api.createNetwork({
    Name: d.network,
    Driver: 'bridge',
    CheckDuplicate: true,
    IPAM: { Driver: 'default', Config: [{ Subnet: d.subnet, Gateway: d.subnet.replace(/\.0\/24$/, '.1') }] },
    Options: { 'com.docker.network.bridge.name': d.bridge },
    Labels: { 'dev.kindtray.testbed': d.id },
  });
}

// ---------------------------------------------------------------------------
// Subnets

/** IPv4 routes of the host as [network, mask] numbers, from /proc/net/route (little-endian hex). */
function hostRoutes(): [number, number][] {
  const routes: [number, number][] = [];
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || !f[1] || !f[7]) continue;
      const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
      const dest = le(f[1]);
      const mask = le(f[7]);
      if (mask !== 0) routes.push([dest >>> 0, mask >>> 0]);
    }
  } catch {
    // No /proc/net/route: rely on the other testbeds' records.
  }
  return routes;
}

const ipNum = (ip: string): number => ip.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);

/** A /24 in the pool that no host route and no other testbed (running or not) uses. Call under the root lock. */
function pickSubnet(root: string): string {
  const taken = new Set<string>();
  for (const entry of safeReaddir(root)) {
    const rec = readRecord(join(root, entry));
    if (rec) taken.add(rec.subnet);
  }
  const routes = hostRoutes();
  // Two prefixes overlap when they agree on the bits of the shorter mask.
  const overlaps = (net: number) => routes.some(([dest, mask]) => (((net ^ dest) & mask & 0xffffff00) >>> 0) === 0);
  const start = randomBytes(1)[0] ?? 0;
  for (let i = 0; i < 256; i++) {
    const third = (start + i) % 256;
    const subnet = `${SUBNET_POOL_PREFIX}.${third}.0/24`;
    if (!taken.has(subnet) && !overlaps(ipNum(`${SUBNET_POOL_PREFIX}.${third}.0`))) return subnet;
  }
  throw new Error(`no free /24 left in ${SUBNET_POOL_PREFIX}.0.0/16 for a testbed network`);
}

/** Serialises subnet choice between testbeds starting at the same moment (O_EXCL lock file, stale after 60 s). */
async function withRootLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const lock = join(root, '.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      try {
        const holder = Number(readFileSync(lock, 'utf8'));
        if (!isAlive(holder) || Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
      } catch {
        // Gone meanwhile: try again.
      }
      if (Date.now() > deadline) throw new Error(`could not take ${lock}`);
      await sleep(50);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------------------
// Stale testbeds

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((e) => e.startsWith('tb-'));
  } catch {
    return [];
  }
}

function readRecord(dir: string): TestbedRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, RECORD_FILE), 'utf8')) as TestbedRecord;
  } catch {
    return undefined;
  }
}

/** A testbed is stale when its owner process is gone (pid dead, or reused by another process). */
function isStale(dir: string): boolean {
  const rec = readRecord(dir);
  if (!rec) {
    // No record yet: a testbed being created right now, unless the folder is old.
    try {
      return Date.now() - statSync(dir).mtimeMs > 60_000;
    } catch {
      return false;
    }
  }
  return !isAlive(rec.ownerPid) || (rec.ownerStart !== undefined && startTimeOf(rec.ownerPid) !== rec.ownerStart);
}

export interface TestbedEntry {
  dir: string;
  id: string;
  purpose: string;
  ownerPid: number | undefined;
  createdAt: string | undefined;
  stale: boolean;
  dockerdRunning: boolean;
}

/** The testbeds under `root`, for humans (`cli.ts status`) and the CLI's down/fault. */
export function listTestbeds(root: string = defaultTestbedRoot()): TestbedEntry[] {
  return safeReaddir(root).map((entry) => {
    const dir = join(root, entry);
    const rec = readRecord(dir);
    const pid = Number(safeRead(join(dir, 'docker.pid')));
    return {
      dir, id: rec?.id ?? entry.slice(3), purpose: rec?.purpose ?? '?', ownerPid: rec?.ownerPid, createdAt: rec?.createdAt,
      stale: isStale(dir), dockerdRunning: isAlive(pid) && cmdlineOf(pid).some((a) => a.includes(dir)),
    };
  }).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
}

/** Tears down every testbed under `root` whose owner has died (crashed or killed test runs). */
export async function cleanupStaleTestbeds(root: string = defaultTestbedRoot()): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of safeReaddir(root)) {
    const dir = join(root, entry);
    if (!isStale(dir)) continue;
    const rec = readRecord(dir);
    console.error(`testbed: removing stale ${dir}${rec ? ` (owner pid ${rec.ownerPid} is gone)` : ''}`);
    const pid = Number(safeRead(join(dir, 'docker.pid')));
    await destroyTestbedDir(dir, [rec?.bridge ?? `ktb-${entry.slice(3)}`], isAlive(pid) && cmdlineOf(pid).some((a) => a.includes(dir)) ? pid : undefined);
    removed.push(dir);
  }
  return removed;
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** SIGTERM, wait for exit, SIGKILL after `timeoutMs`, wait again. */
async function terminate(pid: number, timeoutMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
    // A frozen dockerd (freeze()) would sit on its SIGTERM until continued.
    process.kill(pid, 'SIGCONT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(25);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
    await waitFor(`pid ${pid} to exit after SIGKILL`, 5_000, () => (isAlive(pid) ? undefined : true), 25);
  }
}

/**
 * Removes a testbed completely, whatever state it is in: stops its dockerd
 * (gracefully: it stops its containers), kills what a crashed dockerd leaves
 * (containerd shims and container processes survive a SIGKILLed dockerd),
 * unmounts what is mounted under the folder, deletes the bridge and the folder.
 */
export async function destroyTestbedDir(dir: string, bridges: string[], dockerdPid: number | undefined): Promise<void> {
  if (dockerdPid !== undefined) await terminate(dockerdPid, TIMEOUTS.dockerdStop);

  const containerIds = readdirSafe(join(dir, 'root', 'containers'));
  const leftovers: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmd = cmdlineOf(pid).join(' ');
    let cgroup = '';
    if (containerIds.length) cgroup = safeRead(`/proc/${pid}/cgroup`);
    if (cmd.includes(dir) || containerIds.some((cid) => cgroup.includes(cid))) leftovers.push(pid);
  }
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  for (const pid of leftovers) await waitFor(`leftover pid ${pid} to exit`, 5_000, () => (isAlive(pid) ? undefined : true), 25).catch(() => {});

  // Deepest mounts first; lazy, so a busy mount cannot block the cleanup.
  const mounts = safeRead('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });

  for (const bridge of new Set(bridges)) {
    if (existsSync(`/sys/class/net/${bridge}`)) spawnSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// Tools and image

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let toolsChecked = false;

/** dockerd, busybox, openssl, kubectl, chromium: installs the Debian packages that are missing (as root), saying so on stderr. */
export async function ensureTools(): Promise<void> {
  if (toolsChecked) return;
  const packages: string[] = [];
  if (!which('dockerd')) packages.push('docker.io');
  if (!existsSync('/bin/busybox')) packages.push('busybox-static');
  if (!which('openssl')) packages.push('openssl');
  // kubectl checks that the stand-in satisfies a real client; Chromium runs the dashboard specs.
  if (!which('kubectl')) packages.push('kubernetes-client');
  if (!which('chromium')) packages.push('chromium');
  if (packages.length) {
    if (process.getuid?.() !== 0) throw new Error(`the testbed needs ${packages.join(', ')} (apt-get install -y ${packages.join(' ')}, as root)`);
    console.error(`testbed: installing ${packages.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // docker.io's postinst would start a system dockerd on /var/run/docker.sock where
    // an init system allows it; the testbed never wants one, so deny service starts
    // (policy-rc.d exit 101, the Debian convention) for the duration of the install.
    const policy = '/usr/sbin/policy-rc.d';
    const ownPolicy = !existsSync(policy);
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# written by Kindtray e2e/testbed during apt-get install; removed after\nexit 101\n', { mode: 0o755 });
    try {
      await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { timeoutMs: 600_000, env });
    } catch {
      await run('apt-get', ['update'], { timeoutMs: 300_000, env });
      await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { timeoutMs: 600_000, env });
    } finally {
      if (ownPolicy) rmSync(policy, { force: true });
    }
  }
  toolsChecked = true;
}

/**
 * Imports the node image, `kindtray/node-busybox:1`, from /bin/busybox: a
 * root filesystem with busybox and a link per applet (sh, sleep, nc, …).
 * Node itself is not in the image: it is bind-mounted from the host (see nodeBinds()).
 */
export async function ensureNodeImage(d: { api: DockerApi; dir: string }): Promise<void> {
  if (await d.api.imageExists(NODE_IMAGE_REF)) return;
  const rootfs = join(d.dir, 'image-rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const sub of ['bin', 'tmp', 'root', 'etc', 'usr/local/bin', 'var/tmp']) mkdirSync(join(rootfs, sub), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await d.api.importImage(tar.stdout, NODE_IMAGE.repo, NODE_IMAGE.tag);
  rmSync(rootfs, { recursive: true, force: true });
}

/** Read-only binds that let the host's Node run in a busybox container: the binary, and the folders of its shared libraries. */
export function nodeBinds(nodePath: string = process.execPath, inContainer = '/usr/local/bin/node'): string[] {
  const out = spawnSync('ldd', [nodePath], { encoding: 'utf8' }).stdout ?? '';
  const dirs = new Set<string>();
  for (const line of out.split('\n')) {
    const path = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1];
    if (path) dirs.add(dirname(path));
  }
  return [`${nodePath}:${inContainer}:ro`, ...[...dirs].sort().map((d) => `${d}:${d}:ro`)];
}

function tail(file: string, lines: number): string {
  return safeRead(file).split('\n').slice(-lines).join('\n');
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

/** The state letter of /proc/PID/stat (R, S, T = stopped, ...), or undefined off Linux or once it is gone. */
function processStateLetter(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
