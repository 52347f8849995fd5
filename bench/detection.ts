// Detection latency: how long after a fault the monitor's snapshot says so,
// with the default settings (probe interval, probe deadline, Docker pings), on
// a private dockerd with two KinD-like clusters.
//
//  - node container stopped → cluster `stopped`: measured from the `docker
//    stop` call, and from its return (negative = seen before it returned);
//  - API hangs (accepts, never answers) → context `unreachable`: the fault is
//    switched at a random point of the probe cycle, so the runs sample the
//    whole range [deadline, interval + deadline];
//  - Docker stopped (dockerd SIGTERM) → docker `stopped`, from the signal and
//    from dockerd's exit; dockerd is started again between runs.

import { DEADLINES, INTERVALS } from '../shared/constants.ts';
import { Monitor } from '../electron/monitor/index.ts';
import { ms, stats, writeResult, type Summary } from './lib.ts';
import { clusterOf, contextOf, loadAverage, log, onCleanup, round, sleep, until, withTestbed } from './harness.ts';

const RUNS = Number(process.env.BENCH_DETECTION_RUNS ?? 5);
const DOCKER_RUNS = Number(process.env.BENCH_DETECTION_DOCKER_RUNS ?? 3);

interface Run {
  fromCallMs: number;
  fromReturnMs?: number;
  callMs?: number;
}

export async function run(): Promise<void> {
  const nodeStop: Run[] = [];
  const apiHang: (Run & { clusterUnreachableMs?: number; offsetMs: number })[] = [];
  const dockerStop: Run[] = [];
  const loadBefore = loadAverage();

  await withTestbed(async (tb) => {
    const [a, b] = await Promise.all([tb.createCluster(`det-a-${process.pid}`), tb.createCluster(`det-b-${process.pid}`)]);
    if (!a || !b) throw new Error('clusters not created');
    // Default settings: the monitor as `kindtray serve` builds it from a settings.json with nothing in it.
    const monitor = new Monitor({ env: tb.env() });
    const off = onCleanup(async () => monitor.stop());
    try {
      await monitor.start();
      const healthy = (c: typeof a) => (s: Parameters<typeof clusterOf>[0]) => clusterOf(s, c)?.state === 'running' && contextOf(s, c)?.state === 'ok';
      await until(monitor, (s) => healthy(a)(s) && healthy(b)(s), 30_000, 'both clusters healthy');

      // 1. Node container stopped.
      for (let i = 0; i < RUNS; i++) {
        await sleep(Math.random() * 1_000);
        const t0 = performance.now();
        const seen = until(monitor, (s) => clusterOf(s, a)?.state === 'stopped', 20_000, 'cluster stopped');
        await a.stopNode();
        const returned = performance.now();
        const { at } = await seen;
        nodeStop.push({ fromCallMs: round(at - t0), fromReturnMs: round(at - returned), callMs: round(returned - t0) });
        log(`detection: node stop ${i + 1}/${RUNS}: ${ms(at - t0)} from the call, ${ms(at - returned)} from its return`);
        await a.startNode();
        await until(monitor, healthy(a), 30_000, 'cluster healthy again');
      }

      // 2. API hangs. The fault lands at a random point of the 5 s probe cycle.
      for (let i = 0; i < RUNS; i++) {
        const offsetMs = Math.round(Math.random() * INTERVALS.kubeProbe);
        await sleep(offsetMs);
        const seenContext = until(monitor, (s) => contextOf(s, a)?.state === 'unreachable', 30_000, 'context unreachable');
        const seenCluster = until(monitor, (s) => clusterOf(s, a)?.state === 'unreachable', 30_000, 'cluster unreachable').catch(() => undefined);
        const t0 = performance.now();
        await a.setFault('hang');
        const { at } = await seenContext;
        const c = await Promise.race([seenCluster, sleep(1_000).then(() => undefined)]);
        apiHang.push({ fromCallMs: round(at - t0), offsetMs, ...(c ? { clusterUnreachableMs: round(c.at - t0) } : {}) });
        log(`detection: API hang ${i + 1}/${RUNS}: context unreachable after ${ms(at - t0)}`);
        await a.setFault('none');
        await until(monitor, healthy(a), 60_000, 'context ok again');
      }

      // 3. Docker stopped (SIGTERM to dockerd), then started again.
      for (let i = 0; i < DOCKER_RUNS; i++) {
        await sleep(Math.random() * 1_000);
        const seen = until(monitor, (s) => s.docker.state === 'stopped', 30_000, 'docker stopped');
        const t0 = performance.now();
        await tb.dockerd.stop();
        const returned = performance.now();
        const { at } = await seen;
        dockerStop.push({ fromCallMs: round(at - t0), fromReturnMs: round(at - returned), callMs: round(returned - t0) });
        log(`detection: docker stop ${i + 1}/${DOCKER_RUNS}: ${ms(at - t0)} from SIGTERM, ${ms(at - returned)} from dockerd's exit`);
        await tb.dockerd.start();
        await until(monitor, (s) => s.docker.state === 'running', 30_000, 'docker running again');
        if (i < DOCKER_RUNS - 1) {
          // The engine brings its containers back stopped: start them, so every run stops the same engine.
          await Promise.all([a.start(), b.start()]);
          await until(monitor, (s) => healthy(a)(s) && healthy(b)(s), 60_000, 'clusters healthy after engine restart');
        }
      }
    } finally {
      off();
      monitor.stop();
    }
  });

  const nodeCall = stats(nodeStop.map((r) => r.fromCallMs));
  const nodeRet = stats(nodeStop.map((r) => r.fromReturnMs ?? NaN));
  const hang = stats(apiHang.map((r) => r.fromCallMs));
  const dockCall = stats(dockerStop.map((r) => r.fromCallMs));
  const dockRet = stats(dockerStop.map((r) => r.fromReturnMs ?? NaN));
  const results = {
    settings: {
      note: 'defaults: no settings.json, Monitor/KubeProber built with no overrides',
      probeIntervalMs: INTERVALS.kubeProbe,
      probeDeadlineMs: DEADLINES.kubeProbe,
      probeMaxBackoffMs: INTERVALS.kubeProbeMaxBackoff,
      dockerDeadlineMs: DEADLINES.docker,
      dockerPingIdleMs: INTERVALS.dockerPingIdle,
      dockerPingDownMs: INTERVALS.dockerPingDown,
    },
    loadAverage: { before: loadBefore, after: loadAverage() },
    nodeStop: {
      what: 'docker stop of the control-plane container → cluster state "stopped" in the snapshot',
      fromCallMs: nodeCall,
      fromReturnMs: nodeRet,
      dockerStopCallMs: stats(nodeStop.map((r) => r.callMs ?? NaN)),
      runs: nodeStop,
    },
    apiHang: {
      what: 'stand-in switched to "hang" (TCP+TLS accepted, never answered) → context state "unreachable"; fault switched at a random offset into the probe cycle',
      fromSwitchMs: hang,
      clusterUnreachableMs: stats(apiHang.filter((r) => r.clusterUnreachableMs !== undefined).map((r) => r.clusterUnreachableMs ?? NaN)),
      runs: apiHang,
    },
    dockerStop: {
      what: 'SIGTERM to dockerd (Dockerd.stop(), waits for its exit) → docker state "stopped"; dockerd restarted between runs',
      fromSignalMs: dockCall,
      fromExitMs: dockRet,
      dockerdStopCallMs: stats(dockerStop.map((r) => r.callMs ?? NaN)),
      runs: dockerStop,
    },
  };
  const summary: Summary[] = [
    {
      metric: `node container stopped → cluster stopped (n=${nodeCall.n}, from docker stop call)`,
      value: `median ${ms(nodeCall.median)}, worst ${ms(nodeCall.max)} (from its return: median ${ms(nodeRet.median)}, worst ${ms(nodeRet.max)})`,
      reference: 'design: 1 s; Podman Desktop polls provider status every 2 s; Headlamp checks cluster status every 30 s',
    },
    {
      metric: `API hangs → context unreachable (n=${hang.n}, default probe every ${ms(INTERVALS.kubeProbe)}, deadline ${ms(DEADLINES.kubeProbe)})`,
      value: `median ${ms(hang.median)}, worst ${ms(hang.max)}`,
      reference: `design: probe deadline (≤ interval + deadline = ${ms(INTERVALS.kubeProbe + DEADLINES.kubeProbe)}); Headlamp 30 s; SkyPilot #5300: unbounded`,
    },
    {
      metric: `Docker stopped (dockerd SIGTERM) → docker stopped (n=${dockCall.n})`,
      value: `median ${ms(dockCall.median)}, worst ${ms(dockCall.max)} from SIGTERM (from dockerd's exit: median ${ms(dockRet.median)}, worst ${ms(dockRet.max)})`,
      reference: 'design: 1 s; Podman Desktop pings the engine every 5 s; SkyPilot #5300: unbounded',
    },
  ];
  writeResult('detection', results, summary);
}
