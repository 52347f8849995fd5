// Idle cost of the monitor: two healthy KinD-like clusters, the monitor with
// default settings watching them, nothing happening, for BENCH_IDLE_SECONDS
// (default 60). CPU time (utime + stime) of this process plus the probe child
// (and any other descendant but the testbed's dockerd) as a share of one core,
// against a baseline window of the same length in the same process with no
// monitor. dockerd's own CPU in both windows is recorded too: what the
// monitor's Docker calls cost the engine.
//
// Docker API calls are counted by a small unix-socket proxy in front of the
// engine (the monitor's DOCKER_HOST points at it; it parses request lines);
// probes by a KubeProber subclass that counts probe() calls.

import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { DEADLINES, INTERVALS } from '../shared/constants.ts';
import { KubeProber, Monitor } from '../electron/monitor/index.ts';
import { fmtInt, loadAverage, log, descendantsOf, onCleanup, procCpuMs, round, sleep, until, clusterOf, contextOf, withTestbed } from './harness.ts';
import { writeResult, type Summary } from './lib.ts';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);

/**
 * Counts probe() calls, and the probes that really go to a cluster: a call
 * made while one of the same context is in flight gets that probe's promise
 * (single flight), so a promise seen before is not a new probe.
 */
class CountingProber extends KubeProber {
  calls = 0;
  probes = 0;
  readonly byContext = new Map<string, number>();
  private readonly seen = new WeakSet<object>();
  override probe(context: string, opts?: Parameters<KubeProber['probe']>[1]): ReturnType<KubeProber['probe']> {
    this.calls++;
    const p = super.probe(context, opts);
    if (!this.seen.has(p)) {
      this.seen.add(p);
      this.probes++;
      this.byContext.set(context, (this.byContext.get(context) ?? 0) + 1);
    }
    return p;
  }
}

interface DockerCounter {
  socketPath: string;
  requests: Map<string, number>;
  connections: number;
  reset(): void;
  close(): Promise<void>;
}

/** A unix-socket proxy to the engine that counts the HTTP requests going through it. */
async function dockerCounter(target: string, socketPath: string): Promise<DockerCounter> {
  const requests = new Map<string, number>();
  const c: DockerCounter = {
    socketPath,
    requests,
    connections: 0,
    reset() {
      requests.clear();
      c.connections = 0;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const line = /(GET|POST|HEAD|PUT|DELETE) (\/[^ ?]*)[^ ]* HTTP\/1\.[01]\r\n/g;
  const server: Server = createServer((client) => {
    c.connections++;
    const upstream = createConnection(target);
    client.on('data', (b: Buffer) => {
      for (const m of b.toString('latin1').matchAll(line)) {
        const key = `${m[1]} ${(m[2] ?? '').replace(/^\/v[\d.]+\//, '/')}`;
        requests.set(key, (requests.get(key) ?? 0) + 1);
      }
      upstream.write(b);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  return c;
}

interface Window {
  wallMs: number;
  selfCpuMs: number;
  childCpuMs: number;
  children: { pid: number; cpuMs: number }[];
  dockerdCpuMs: number | undefined;
  /** (self + children) / wall, as a share of one core, in %. */
  cpuPercentOfOneCore: number;
  loadAverage: number[];
}

/** CPU used in the next `seconds`: this process, its descendants (dockerd's tree excluded), and dockerd. */
async function measure(seconds: number, dockerdPid: number | undefined): Promise<Window> {
  const excluded = new Set(dockerdPid ? [dockerdPid, ...descendantsOf(dockerdPid)] : []);
  const kids = () => descendantsOf(process.pid).filter((p) => !excluded.has(p));
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const look = () => {
    for (const pid of kids()) {
      const cpu = procCpuMs(pid);
      if (cpu === undefined) continue;
      // A child born during the window counts from zero; one seen at the start, from then.
      if (!first.has(pid)) first.set(pid, cpu);
      last.set(pid, cpu);
    }
  };
  look();
  const startKids = new Set(first.keys());
  const self0 = process.cpuUsage();
  const dockerd0 = dockerdPid ? procCpuMs(dockerdPid) : undefined;
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  while (performance.now() < endAt) {
    await sleep(Math.min(1_000, endAt - performance.now()));
    look();
  }
  const wallMs = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const selfCpuMs = (self.user + self.system) / 1000;
  const dockerd1 = dockerdPid ? procCpuMs(dockerdPid) : undefined;
  const children = [...last.entries()].map(([pid, cpu]) => ({ pid, cpuMs: round(cpu - (startKids.has(pid) ? (first.get(pid) ?? 0) : 0)) }));
  const childCpuMs = children.reduce((a, c) => a + c.cpuMs, 0);
  return {
    wallMs: Math.round(wallMs),
    selfCpuMs: round(selfCpuMs),
    childCpuMs: round(childCpuMs),
    children,
    dockerdCpuMs: dockerd0 !== undefined && dockerd1 !== undefined ? round(dockerd1 - dockerd0) : undefined,
    cpuPercentOfOneCore: round(((selfCpuMs + childCpuMs) / wallMs) * 100, 3),
    loadAverage: loadAverage(),
  };
}

const perMinute = (n: number, wallMs: number) => round((n / wallMs) * 60_000, 1);

export async function run(): Promise<void> {
  let baseline: Window | undefined;
  let monitored: Window | undefined;
  let dockerCalls: Record<string, number> = {};
  let dockerConnections = 0;
  let probes = 0;
  let probeCalls = 0;
  let probesByContext: Record<string, number> = {};
  let proberPid: number | undefined;
  let proberRestarts = 0;

  await withTestbed(async (tb) => {
    const [a, b] = await Promise.all([tb.createCluster(`idle-a-${process.pid}`), tb.createCluster(`idle-b-${process.pid}`)]);
    if (!a || !b) throw new Error('clusters not created');
    const counter = await dockerCounter(tb.dockerd.socketPath, join(tb.dockerd.dir, 'bench-proxy.sock'));
    const prober = new CountingProber({});
    const monitor = new Monitor({ env: tb.env({ DOCKER_HOST: `unix://${counter.socketPath}` }), prober });
    const off = onCleanup(async () => {
      monitor.stop();
      prober.dispose();
      await counter.close();
    });
    try {
      await sleep(2_000); // let cluster creation's own work settle
      log(`idle-cpu: baseline, no monitor, ${SECONDS} s`);
      baseline = await measure(SECONDS, tb.dockerd.pid);

      await monitor.start();
      const healthy = (c: typeof a) => (s: Parameters<typeof clusterOf>[0]) => clusterOf(s, c)?.state === 'running' && contextOf(s, c)?.state === 'ok';
      await until(monitor, (s) => healthy(a)(s) && healthy(b)(s), 30_000, 'both clusters healthy');
      await sleep(2_000); // past the start-up looks
      counter.reset();
      prober.calls = 0;
      prober.probes = 0;
      prober.byContext.clear();
      proberPid = prober.childPid;
      log(`idle-cpu: monitor idle with 2 healthy clusters, ${SECONDS} s (probe child pid ${proberPid})`);
      monitored = await measure(SECONDS, tb.dockerd.pid);
      dockerCalls = Object.fromEntries([...counter.requests.entries()].sort());
      dockerConnections = counter.connections;
      probes = prober.probes;
      probeCalls = prober.calls;
      probesByContext = Object.fromEntries(prober.byContext);
      proberRestarts = prober.restarts;
      const s = monitor.current().snapshot;
      if (!healthy(a)(s) || !healthy(b)(s)) log('idle-cpu: warning: a cluster was not healthy at the end of the window');
    } finally {
      off();
      monitor.stop();
      prober.dispose();
      await counter.close();
    }
  });
  if (!baseline || !monitored) throw new Error('no measurement');

  const dockerTotal = Object.values(dockerCalls).reduce((x, y) => x + y, 0);
  const net = round(monitored.cpuPercentOfOneCore - baseline.cpuPercentOfOneCore, 3);
  const proberCpu = monitored.children.find((c) => c.pid === proberPid)?.cpuMs;
  const results = {
    seconds: SECONDS,
    settings: { probeIntervalMs: INTERVALS.kubeProbe, probeDeadlineMs: DEADLINES.kubeProbe, dockerPingIdleMs: INTERVALS.dockerPingIdle, note: 'defaults' },
    clusters: 2,
    baseline: { what: 'this process, same testbed and clusters, no monitor', ...baseline },
    monitor: { what: 'this process (monitor + counting Docker proxy) + its descendants (the probe child), dockerd excluded', ...monitored, proberPid, proberCpuMs: proberCpu, proberRestarts },
    netCpuPercentOfOneCore: net,
    dockerApi: {
      what: 'HTTP requests through a counting proxy in front of the engine (the long-lived GET /events stream counts once)',
      total: dockerTotal,
      perMinute: perMinute(dockerTotal, monitored.wallMs),
      connections: dockerConnections,
      byRoute: dockerCalls,
    },
    probes: {
      what: 'probes sent to the probe child (a probe() call that joins one in flight is not counted); calls: every probe() call',
      total: probes,
      perMinute: perMinute(probes, monitored.wallMs),
      byContext: probesByContext,
      calls: probeCalls,
    },
  };
  const share = (w: Window) => `${w.cpuPercentOfOneCore.toFixed(2)} %`;
  const summary: Summary[] = [
    {
      metric: `monitor idle, 2 healthy clusters, ${SECONDS} s: CPU share of one core (this process + probe child)`,
      value: `${share(monitored)} (self ${round((monitored.selfCpuMs / monitored.wallMs) * 100, 2)} %, probe child ${round(((proberCpu ?? 0) / monitored.wallMs) * 100, 2)} %); net of baseline ${net.toFixed(2)} points`,
      reference: `same process without a monitor, same ${SECONDS} s: ${share(baseline)}`,
    },
    {
      metric: 'monitor idle: calls to the outside world',
      value: `${fmtInt(dockerTotal)} Docker API calls (${perMinute(dockerTotal, monitored.wallMs)}/min), ${fmtInt(probes)} Kubernetes probes (${perMinute(probes, monitored.wallMs)}/min for 2 contexts)`,
      reference: 'Podman Desktop: engine ping every 5 s (12/min) and provider status every 2 s (30/min); Headlamp: cluster status every 30 s',
    },
  ];
  writeResult('idle-cpu', results, summary);
}
