// The server as users meet it: `kindtray serve` as a real process (supervisor
// + API worker + probe child), default settings, on a private dockerd with
// three KinD-like clusters: one healthy, one whose node container is stopped,
// one whose API hangs (accepts, never answers).
//
//  - GET /api/health latency, idle and while 50 validations against the
//    hanging cluster are kept in flight (closed loop), and the ratio;
//  - POST /api/validate latency against the healthy, stopped and hanging cluster;
//  - requests/s of GET /api/health and GET /api/status over 50 keep-alive
//    connections, against a bare node:http server (own process, same Node)
//    answering the same bytes and headers, measured in the same run;
//  - recovery: API worker frozen (SIGSTOP) → health shows a new healthy
//    worker; `kindtray server restart` of a frozen (SIGSTOPped) server →
//    health answers ok again;
//  - launch to running of a task (POST /api/tasks → GET /api/tasks/:id says
//    running), against creating the same Pod straight on the stand-in.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthResponse, TaskRecord, ValidateResponse } from '../shared/api.ts';
import { DEADLINES } from '../shared/constants.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { freePort, kindtray, serve, tempHome, type Served } from '../e2e/helpers/serve.ts';
import type { Cluster } from '../e2e/testbed/index.ts';
import { ms, stats, writeResult, type Stats, type Summary } from './lib.ts';
import { bareServer, descendantsOf, fmtInt, followSnapshots, http, keepAlive, load, procCpuMs, loadAverage, log, onCleanup, poll, round, sample, sleep, withTestbed, type HttpAnswer, type LoadResult } from './harness.ts';

const LOAD_SECONDS = Number(process.env.BENCH_SERVER_LOAD_SECONDS ?? 5);
const CONNECTIONS = 50;
/** The load time of each server and route is cut into this many rounds, interleaved. */
const ROUNDS = 5;
/** The first launch also starts the worker's Kubernetes child: reported apart; the rest are the ≥5 measured. */
const LAUNCHES = Number(process.env.BENCH_SERVER_LAUNCHES ?? 6);
const RECOVERIES = Number(process.env.BENCH_SERVER_RECOVERIES ?? 3);
const VALIDATIONS = Number(process.env.BENCH_SERVER_VALIDATIONS ?? 10);
/** Episodes of "the worker's snapshot is older than 30 s" (each waits for 31 s without a snapshot change). */
const STALE_EPISODES = Number(process.env.BENCH_SERVER_STALE_EPISODES ?? 1);

const taskYaml = (context: string, run = 'echo hi; sleep 30') => `resources:\n  infra: k8s/${context}\n  ports: [8080]\nrun: ${run}\n`;


const HOP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/** The answer's headers (minus per-connection ones) and body, via a raw node:http request. */
function capture(port: number, path: string, token?: string): Promise<{ headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    import('node:http').then(({ request }) => {
      const req = request({ host: '127.0.0.1', port, path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (!HOP_HEADERS.has(k) && typeof v === 'string') headers[k] = v;
          resolve({ headers, body });
        });
      });
      req.on('error', reject);
      req.end();
    }, reject);
  });
}

function isKindtrayPid(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bin.js');
  } catch {
    return false;
  }
}

const kill = (pid: number | undefined, sig: NodeJS.Signals) => {
  if (!pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
};

interface ValidationRun {
  target: string;
  ms: number;
  status: number;
  snapshotAgeMs?: number;
  /** How long before the request the supervisor last sent the worker a snapshot. */
  sinceLastSnapshotMs?: number;
  firstError?: string;
}

export async function run(): Promise<void> {
  const loadBefore = loadAverage();
  let healthIdle: HttpAnswer[] = [];
  let healthBusy: HttpAnswer[] = [];
  let busyValidations: LoadResult | undefined;
  const validations: ValidationRun[] = [];
  const staleValidations: (ValidationRun & { episode: number; nth: number; sinceLastRenewalMs: number })[] = [];
  const rounds: Record<string, (LoadResult & { serverCpuMs: number; generatorCpuMs: number })[]> = {};
  const rps: Record<
    string,
    {
      reqPerSec: number;
      ok: number;
      failed: number;
      durationMs: number;
      medianRoundP50Ms: number;
      medianRoundP99Ms: number;
      serverCpuUsPerRequest: number;
      serverCpuShareOfOneCore: number;
      generatorCpuShareOfOneCore: number;
    }
  > = {};
  const bodyBytes: Record<string, number> = {};
  const workerRecovery: { ms: number; firstNotHealthyMs?: number; hungOrRestartingMs?: number; slowestHealthMs: number; restarts?: number; interrupted?: number }[] = [];
  const serverRestart: { cliMs: number; healthyMs: number; code: number | null; oldPid: number; newPid?: number; stderr?: string }[] = [];
  const launches: { postMs: number; runningMs: number; state: string; reason?: string }[] = [];
  const podBaseline: { runningMs: number }[] = [];

  await withTestbed(async (tb) => {
    const tag = process.pid;
    const [ok, stopped, hung] = (await Promise.all([
      tb.createCluster(`srv-ok-${tag}`, { extraPortMappings: [{ containerPort: 30080 }] }),
      tb.createCluster(`srv-stop-${tag}`),
      tb.createCluster(`srv-hang-${tag}`),
    ])) as [Cluster, Cluster, Cluster];
    const home = tempHome('kt-bench-server-');
    const env = tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.image });
    let server: Served | undefined;
    let bare: Awaited<ReturnType<typeof bareServer>> | undefined;
    let stopFollowing = () => {};
    const stopAll = async () => {
      stopFollowing();
      bare?.stop();
      const pid = (() => {
        try {
          return (JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number }).pid;
        } catch {
          return undefined;
        }
      })();
      kill(pid, 'SIGCONT');
      await kindtray(['server', 'stop'], env, 30_000);
      if (pid && isKindtrayPid(pid)) kill(pid, 'SIGKILL');
      await server?.stop();
      rmSync(home, { recursive: true, force: true });
    };
    const off = onCleanup(stopAll);
    try {
      server = await serve(env, { port: await freePort() });
      const { port, token } = server;
      const snapshots = followSnapshots(port, token);
      /** When we last sent a request that validates (and so may renew the worker's snapshot). */
      let lastValidation = performance.now();
      stopFollowing = snapshots.close;
      const agent = keepAlive(1);
      const auth = { authorization: `Bearer ${token}` };
      const status = async () => JSON.parse((await http(port, '/api/status', { headers: auth, agent })).body) as HealthSnapshot;
      const ctxState = (s: HealthSnapshot, c: Cluster) => s.contexts.find((x) => x.name === c.context)?.state;
      const clState = (s: HealthSnapshot, c: Cluster) => s.clusters.find((x) => x.name === c.name)?.state;
      await poll('all three clusters healthy', 30_000, async () => {
        const s = await status();
        return [ok, stopped, hung].every((c) => clState(s, c) === 'running' && ctxState(s, c) === 'ok') ? true : undefined;
      }, 200);
      await stopped.stopNode();
      await hung.setFault('hang');
      await poll('the stopped and the hanging cluster seen', 30_000, async () => {
        const s = await status();
        return clState(s, stopped) === 'stopped' && ctxState(s, hung) === 'unreachable' ? true : undefined;
      }, 200);
      log('server: faults in place (one cluster stopped, one hanging)');

      // Health, idle.
      const health = () => http(port, '/api/health', { agent, timeoutMs: 5_000 });
      healthIdle = await sample(health, { gapMs: 10, maxSamples: 300, maxMs: 5_000 });

      // Health while 50 validations against the hanging cluster are in flight.
      let busy = true;
      const healthDuring = sample(health, { gapMs: 10, maxSamples: 1_000, maxMs: 10_000, stop: () => !busy });
      busyValidations = await load(port, '/api/validate', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/yaml' },
        body: taskYaml(hung.context),
        connections: CONNECTIONS,
        durationMs: 3_000,
        maxRequests: 20_000,
        timeoutMs: 15_000,
        overMs: DEADLINES.validation,
      });
      lastValidation = performance.now();
      busy = false;
      healthBusy = await healthDuring;
      log(`server: health idle p50 ${ms(stats(healthIdle.map((a) => a.ms)).median)}, under 50 validations p50 ${ms(stats(healthBusy.map((a) => a.ms)).median)} (${busyValidations.requests} validations)`);

      // Validation latency per target, sequential.
      const validate = async (target: string, c: Cluster): Promise<ValidationRun> => {
        const since = performance.now() - snapshots.lastAt();
        lastValidation = performance.now();
        const a = await http(port, '/api/validate', { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: taskYaml(c.context), agent, timeoutMs: 30_000 });
        let firstError: string | undefined;
        let snapshotAgeMs: number | undefined;
        try {
          const v = JSON.parse(a.body) as ValidateResponse;
          firstError = v.errors?.[0]?.message.slice(0, 160);
          snapshotAgeMs = v.snapshotAgeMs;
        } catch {
          firstError = a.body.slice(0, 160);
        }
        return { target, ms: round(a.ms), status: a.status, ...(snapshotAgeMs !== undefined ? { snapshotAgeMs } : {}), sinceLastSnapshotMs: Math.round(since), ...(firstError ? { firstError } : {}) };
      };
      for (const [name, c] of [['healthy', ok], ['stopped', stopped], ['hanging', hung]] as const) {
        for (let i = 0; i < VALIDATIONS; i++) validations.push(await validate(name, c));
      }

      // Requests/s: Kindtray vs a bare node:http server with the same answers.
      const healthAnswer = await capture(port, '/api/health');
      const statusAnswer = await capture(port, '/api/status', token);
      bodyBytes.health = Buffer.byteLength(healthAnswer.body);
      bodyBytes.status = Buffer.byteLength(statusAnswer.body);
      bare = await bareServer({ '/api/health': healthAnswer, '/api/status': statusAnswer });
      // Interleaved rounds (ABBA order), so that the machine's noise falls on both servers alike.
      // CPU of the server side (Kindtray: the supervisor and every process under it; bare: its
      // one process) and of the load generator (this process), per round: requests/s alone
      // cannot tell a slower server from a saturated generator.
      const kindtrayPids = () => [server?.pid ?? 0, ...descendantsOf(server?.pid ?? 0)];
      const bareChild = bare.child.pid ?? 0;
      const cpuOf = (pids: number[]) => pids.reduce((a, pid) => a + (procCpuMs(pid) ?? 0), 0);
      const configs: [string, number, string, Record<string, string>, () => number[]][] = [
        ['kindtray health', port, '/api/health', {}, kindtrayPids],
        ['bare health', bare.port, '/api/health', {}, () => [bareChild]],
        ['kindtray status', port, '/api/status', auth, kindtrayPids],
        ['bare status', bare.port, '/api/status', {}, () => [bareChild]],
      ];
      // Warm-up (not measured): both servers' and the generator's code paths get compiled.
      for (const [, p, path, headers] of configs) await load(p, path, { headers, connections: CONNECTIONS, durationMs: 500, maxRequests: 100_000, timeoutMs: 10_000 });
      const roundMs = (LOAD_SECONDS * 1000) / ROUNDS;
      for (let r = 0; r < ROUNDS; r++) {
        for (const [key, p, path, headers, pids] of r % 2 ? [...configs].reverse() : configs) {
          const serverPids = pids();
          const server0 = cpuOf(serverPids);
          const gen0 = process.cpuUsage();
          const res = await load(p, path, { headers, connections: CONNECTIONS, durationMs: roundMs, maxRequests: 1_000_000, timeoutMs: 10_000 });
          const gen = process.cpuUsage(gen0);
          (rounds[key] ??= []).push({ ...res, serverCpuMs: round(cpuOf(serverPids) - server0), generatorCpuMs: round((gen.user + gen.system) / 1000) });
          await sleep(200);
        }
      }
      for (const [key] of configs) {
        const list = rounds[key] ?? [];
        const okTotal = list.reduce((a, x) => a + x.ok, 0);
        const msTotal = list.reduce((a, x) => a + x.durationMs, 0);
        const serverCpu = list.reduce((a, x) => a + x.serverCpuMs, 0);
        const genCpu = list.reduce((a, x) => a + x.generatorCpuMs, 0);
        rps[key] = {
          reqPerSec: Math.round((okTotal / msTotal) * 1000),
          ok: okTotal,
          failed: list.reduce((a, x) => a + x.failed, 0),
          durationMs: msTotal,
          medianRoundP50Ms: stats(list.map((x) => x.latencyMs.p50)).median,
          medianRoundP99Ms: stats(list.map((x) => x.latencyMs.p99)).median,
          serverCpuUsPerRequest: round((serverCpu * 1000) / Math.max(1, okTotal), 1),
          serverCpuShareOfOneCore: round(serverCpu / msTotal, 3),
          generatorCpuShareOfOneCore: round(genCpu / msTotal, 3),
        };
        log(`server: ${key}: ${fmtInt(rps[key]?.reqPerSec ?? 0)} req/s (${rps[key]?.failed} failed), server CPU ${rps[key]?.serverCpuUsPerRequest} µs/request, generator ${Math.round((rps[key]?.generatorCpuShareOfOneCore ?? 0) * 100)} % of a core`);
      }
      bare.stop();
      bare = undefined;

      // The same Pod as a task's, made straight on the stand-in: the floor for launch to running.
      for (let i = 0; i < LAUNCHES; i++) {
        const name = `bench-pod-${tag}-${i}`;
        const t0 = performance.now();
        await ok.apiRequest('/api/v1/namespaces/default/pods', {
          method: 'POST',
          body: {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, labels: { bench: 'baseline' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: tb.image, command: ['sh', '-c', 'echo hi; sleep 30'], ports: [{ containerPort: 8080 }] }] },
          },
        });
        await poll('pod running', 60_000, async () => {
          const r = await ok.apiRequest(`/api/v1/namespaces/default/pods/${name}`);
          return r.statusCode === 200 && (JSON.parse(r.body) as { status?: { phase?: string } }).status?.phase === 'Running' ? true : undefined;
        }, 25);
        podBaseline.push({ runningMs: round(performance.now() - t0) });
        await ok.apiRequest(`/api/v1/namespaces/default/pods/${name}`, { method: 'DELETE' });
      }

      // A validation of the healthy cluster once the worker's snapshot is older than
      // its 30 s limit, while another cluster hangs: 31 s after both the last snapshot
      // the supervisor sent and the last request of ours that could have renewed it.
      for (let e = 0; e < STALE_EPISODES; e++) {
        const quietSince = await poll('31 s without a snapshot change', 60_000, () => (performance.now() - Math.max(snapshots.lastAt(), lastValidation) > 31_000 ? true : undefined), 200).then(
          () => true,
          () => false,
        );
        if (!quietSince) {
          log('server: the snapshot kept changing; no stale-snapshot episode');
          break;
        }
        for (let nth = 0; nth < 3; nth++) {
          const sinceLastRenewalMs = Math.round(performance.now() - Math.max(snapshots.lastAt(), lastValidation));
          staleValidations.push({ ...(await validate('healthy', ok)), episode: e, nth, sinceLastRenewalMs });
        }
        log(`server: stale snapshot episode ${e + 1}: healthy-cluster validations ${staleValidations.filter((v) => v.episode === e).map((v) => ms(v.ms)).join(', ')}`);
      }

      // Launch to running (each launch validates first, and may renew the worker's snapshot).
      for (let i = 0; i < LAUNCHES; i++) {
        const t0 = performance.now();
        const posted = await http(port, '/api/tasks', { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: taskYaml(ok.context), agent, timeoutMs: 30_000 });
        const postMs = performance.now() - t0;
        if (posted.status !== 201) {
          launches.push({ postMs: round(postMs), runningMs: NaN, state: `http ${posted.status}`, reason: posted.body.slice(0, 200) });
          continue;
        }
        const id = (JSON.parse(posted.body) as { task: TaskRecord }).task.id;
        const t: { state: string; reason?: string } = await poll('task running', 60_000, async () => {
          const a = await http(port, `/api/tasks/${id}`, { headers: auth, agent });
          const task = (JSON.parse(a.body) as { task: TaskRecord }).task;
          return task.state === 'running' || ['failed', 'succeeded', 'cancelled'].includes(task.state) ? task : undefined;
        }, 25).catch((e: Error) => ({ state: 'timeout', reason: e.message }));
        launches.push({ postMs: round(postMs), runningMs: round(performance.now() - t0), state: t.state, ...(t.reason ? { reason: t.reason } : {}) });
        log(`server: launch ${i + 1}/${LAUNCHES}: ${t.state} after ${ms(performance.now() - t0)}`);
        await http(port, `/api/tasks/${id}`, { method: 'DELETE', headers: auth, agent, timeoutMs: 30_000 });
      }

      // Recovery from a frozen API worker.
      for (let i = 0; i < RECOVERIES; i++) {
        const before = JSON.parse((await health()).body) as HealthResponse;
        const workerPid = before.worker.pid;
        if (!workerPid) throw new Error('health names no worker pid');
        kill(workerPid, 'SIGSTOP');
        const t0 = performance.now();
        const interrupted = http(port, '/api/tasks', { headers: auth, timeoutMs: 15_000 });
        let slowest = 0;
        let notHealthyAt: number | undefined;
        let hungAt: number | undefined;
        const after = await poll('a new healthy worker', 30_000, async () => {
          const a = await http(port, '/api/health', { timeoutMs: 2_000 });
          slowest = Math.max(slowest, a.ms);
          if (a.status !== 200) return undefined;
          const h = JSON.parse(a.body) as HealthResponse;
          if (h.worker.pid === workerPid && h.worker.state !== 'healthy') notHealthyAt ??= performance.now();
          if (h.worker.state === 'hung' || h.worker.state === 'restarting' || h.worker.pid !== workerPid) hungAt ??= performance.now();
          return h.worker.pid !== workerPid && h.worker.state === 'healthy' ? h : undefined;
        }, 50);
        const recoveredMs = performance.now() - t0;
        kill(workerPid, 'SIGKILL');
        workerRecovery.push({
          ms: round(recoveredMs),
          ...(notHealthyAt ? { firstNotHealthyMs: round(notHealthyAt - t0) } : {}),
          ...(hungAt ? { hungOrRestartingMs: round(hungAt - t0) } : {}),
          slowestHealthMs: round(slowest),
          ...(after.worker.restarts !== undefined ? { restarts: after.worker.restarts } : {}),
          interrupted: (await interrupted).status,
        });
        log(`server: frozen worker ${i + 1}/${RECOVERIES}: replaced after ${ms(recoveredMs)}`);
        await sleep(1_000);
      }

      // `kindtray server restart` of a frozen server.
      let serverPid = server.pid;
      for (let i = 0; i < RECOVERIES; i++) {
        kill(serverPid, 'SIGSTOP');
        const t0 = performance.now();
        const r = await kindtray(['server', 'restart', '--json'], env, 90_000);
        const cliMs = performance.now() - t0;
        let newPid: number | undefined;
        let newPort = port;
        try {
          const out = JSON.parse(r.stdout) as { pid: number; port: number };
          newPid = out.pid;
          newPort = out.port;
        } catch {
          log(`server: restart printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
        }
        await poll('healthy after restart', 60_000, async () => {
          const a = await http(newPort, '/api/health', { timeoutMs: 2_000 });
          if (a.status !== 200) return undefined;
          const h = JSON.parse(a.body) as HealthResponse;
          return h.status === 'ok' && h.worker.state === 'healthy' ? true : undefined;
        }, 50);
        const healthyMs = performance.now() - t0;
        serverRestart.push({ cliMs: round(cliMs), healthyMs: round(healthyMs), code: r.code, oldPid: serverPid, ...(newPid ? { newPid } : {}), ...(r.stderr.trim() ? { stderr: r.stderr.trim().slice(0, 300) } : {}) });
        log(`server: restart of a frozen server ${i + 1}/${RECOVERIES}: CLI ${ms(cliMs)}, healthy after ${ms(healthyMs)}`);
        if (serverPid !== newPid && isKindtrayPid(serverPid)) kill(serverPid, 'SIGKILL');
        if (!newPid) break;
        serverPid = newPid;
        await sleep(1_000);
      }
      agent.destroy();
    } finally {
      off();
      await stopAll();
    }
  });

  const hi = stats(healthIdle.map((a) => a.ms));
  const hb = stats(healthBusy.map((a) => a.ms));
  const v = (t: string): Stats => stats(validations.filter((x) => x.target === t).map((x) => x.ms));
  const vOk = v('healthy');
  const vStop = v('stopped');
  const vHang = v('hanging');
  const ratio = (k: string, b: string) => round((rps[k]?.reqPerSec ?? NaN) / (rps[b]?.reqPerSec ?? NaN), 2);
  const wr = stats(workerRecovery.map((r) => r.ms));
  const sr = stats(serverRestart.map((r) => r.healthyMs));
  const firstLaunch = launches[0];
  const lr = stats(launches.slice(1).filter((l) => l.state === 'running').map((l) => l.runningMs));
  const pb = stats(podBaseline.map((p) => p.runningMs));
  const statusesOf = (t: string) => [...new Set(validations.filter((x) => x.target === t).map((x) => x.status))];

  const results = {
    settings: { note: 'default settings (no settings.json)', validationDeadlineMs: DEADLINES.validation, probeDeadlineMs: DEADLINES.kubeProbe, watchdog: { intervalMs: 750, slowMs: 300, missesBeforeRestart: 3 } },
    loadAverage: { before: loadBefore, after: loadAverage() },
    health: {
      idle: { ms: hi, samples: healthIdle.length, non200: healthIdle.filter((a) => a.status !== 200).length },
      under50Validations: { ms: hb, samples: healthBusy.length, non200: healthBusy.filter((a) => a.status !== 200).length },
      p50Ratio: round(hb.median / hi.median),
      p99Ratio: round(hb.p99 / hi.p99),
      validationsInFlight: busyValidations,
    },
    validation: {
      what: 'POST /api/validate of a task with ports, sequential, after the monitor has seen each state',
      healthy: { ms: vOk, statuses: statusesOf('healthy') },
      stopped: { ms: vStop, statuses: statusesOf('stopped') },
      hanging: { ms: vHang, statuses: statusesOf('hanging') },
      runs: validations,
      staleSnapshot: {
        what: 'POST /api/validate of the healthy cluster after 31 s without a snapshot change (the worker only gets snapshots when they change, and refreshes one older than 30 s before reading it), with another cluster hanging; 3 in a row per episode',
        runs: staleValidations,
      },
    },
    throughput: {
      what: `closed loop, ${CONNECTIONS} keep-alive connections, ${LOAD_SECONDS} s per server and route in ${ROUNDS} interleaved rounds (ABBA), load generator in the bench process; bare = node:http in its own process answering the same body and headers`,
      bodyBytes,
      results: rps,
      healthRatio: ratio('kindtray health', 'bare health'),
      statusRatio: ratio('kindtray status', 'bare status'),
      perRoundRatio: {
        health: stats((rounds['kindtray health'] ?? []).map((x, i) => x.reqPerSec / (rounds['bare health']?.[i]?.reqPerSec ?? NaN))),
        status: stats((rounds['kindtray status'] ?? []).map((x, i) => x.reqPerSec / (rounds['bare status']?.[i]?.reqPerSec ?? NaN))),
      },
      rounds,
    },
    recovery: {
      frozenWorker: {
        what: 'SIGSTOP of the API worker → GET /api/health names a new worker, healthy (health polled every 50 ms; firstNotHealthyMs: the watchdog marks it slow/missed; hungOrRestartingMs: declared hung or being replaced)',
        ms: wr,
        hungOrRestartingMs: stats(workerRecovery.filter((r) => r.hungOrRestartingMs !== undefined).map((r) => r.hungOrRestartingMs ?? NaN)),
        runs: workerRecovery,
      },
      serverRestart: { what: 'SIGSTOP of the server (supervisor) → `kindtray server restart --json` → GET /api/health ok with a healthy worker', ms: sr, cliMs: stats(serverRestart.map((r) => r.cliMs)), runs: serverRestart },
    },
    launch: {
      what: 'POST /api/tasks (task with ports) → GET /api/tasks/:id says running (polled every 25 ms); baseline: the same Pod POSTed straight to the stand-in, polled until phase Running. The first launch of a fresh server is reported apart (ms excludes it)',
      first: firstLaunch,
      ms: lr,
      runs: launches,
      podBaseline: { ms: pb, runs: podBaseline },
      ratio: round(lr.median / pb.median),
    },
  };
  const rpsOf = (k: string) => fmtInt(rps[k]?.reqPerSec ?? NaN);
  const summary: Summary[] = [
    {
      metric: `GET /api/health latency, idle (n=${hi.n}) vs with ${CONNECTIONS} validations against a hanging cluster in flight (n=${hb.n})`,
      value: `idle p50 ${ms(hi.median)} / p99 ${ms(hi.p99)}; busy p50 ${ms(hb.median)} / p99 ${ms(hb.p99)} (ratio ${round(hb.median / hi.median, 1)}× / ${round(hb.p99 / hi.p99, 1)}×)`,
      reference: 'SkyPilot #5300: the whole API server hung (no answer at all)',
    },
    {
      metric: `POST /api/validate against a hanging cluster, ${CONNECTIONS} kept in flight for ${ms(busyValidations?.durationMs ?? NaN)}`,
      value: `${fmtInt(busyValidations?.requests ?? 0)} answered (${fmtInt(busyValidations?.answeredPerSec ?? 0)}/s; ${Object.entries(busyValidations?.statuses ?? {}).map(([k, n]) => `${n}× ${k}`).join(', ')}), p50 ${ms(busyValidations?.latencyMs.p50 ?? NaN)}, p99 ${ms(busyValidations?.latencyMs.p99 ?? NaN)}, max ${ms(busyValidations?.latencyMs.max ?? NaN)}; ${busyValidations?.over?.count ?? 0} over the deadline`,
      reference: `design deadline ${ms(DEADLINES.validation)} each; SkyPilot after PR #5328: each Kubernetes call waits 5 s and retries 3 times`,
    },
    {
      metric: `POST /api/validate latency (n=${vOk.n} each): healthy / node stopped / API hanging`,
      value: `p50 ${ms(vOk.median)} / ${ms(vStop.median)} / ${ms(vHang.median)}; worst ${ms(vOk.max)} / ${ms(vStop.max)} / ${ms(vHang.max)}`,
      reference: `design deadline ${ms(DEADLINES.validation)}; SkyPilot after PR #5328: each Kubernetes call waits 5 s and retries 3 times`,
    },
    ...(staleValidations.length
      ? [
          {
            metric: 'POST /api/validate of a healthy cluster, worker snapshot > 30 s old, another cluster hanging (1st, 2nd, 3rd request)',
            value: `${staleValidations.map((x) => ms(x.ms)).join(', ')} (snapshot age in the answers: ${staleValidations.map((x) => ms(x.snapshotAgeMs ?? NaN)).join(', ')})`,
            reference: `design deadline ${ms(DEADLINES.validation)}; the same request with a fresh snapshot: p50 ${ms(vOk.median)}`,
          },
        ]
      : []),
    ...(['health', 'status'] as const).map((route) => {
      const k = rps[`kindtray ${route}`];
      const b = rps[`bare ${route}`];
      const gen = Math.round(Math.max(k?.generatorCpuShareOfOneCore ?? 0, b?.generatorCpuShareOfOneCore ?? 0) * 100);
      return {
        metric: `GET /api/${route} throughput (${CONNECTIONS} keep-alive connections, ${LOAD_SECONDS} s in ${ROUNDS} interleaved rounds${route === 'status' ? `, ${fmtInt(bodyBytes.status ?? 0)} B body` : ''})`,
        value: `${rpsOf(`kindtray ${route}`)} req/s; server CPU ${k?.serverCpuUsPerRequest} µs/request`,
        reference: `bare node:http: ${rpsOf(`bare ${route}`)} req/s (ratio ${ratio(`kindtray ${route}`, `bare ${route}`)}), ${b?.serverCpuUsPerRequest} µs/request (Kindtray ${round((k?.serverCpuUsPerRequest ?? NaN) / (b?.serverCpuUsPerRequest ?? NaN), 1)}×); load generator at up to ${gen} % of a core`,
      };
    }),
    {
      metric: `API worker frozen (SIGSTOP) → new healthy worker (n=${wr.n})`,
      value: `median ${ms(wr.median)}, worst ${ms(wr.max)} (declared hung after: median ${ms(stats(workerRecovery.map((r) => r.hungOrRestartingMs ?? NaN)).median)})`,
      reference: 'design: hung noticed within 3 s, restarted automatically; SkyPilot: a dead server must be found and killed by hand',
    },
    {
      metric: `kindtray server restart of a frozen server → healthy (n=${sr.n})`,
      value: `median ${ms(sr.median)}, worst ${ms(sr.max)}`,
      reference: 'SkyPilot #5300: restart failed, the hung process kept the port',
    },
    {
      metric: `task launch → running (n=${lr.n}${lr.n < launches.length - 1 ? ` of ${launches.length - 1}` : ''}, after a first launch)`,
      value: `median ${ms(lr.median)}, worst ${ms(lr.max)}; first launch on a fresh server ${firstLaunch ? `${ms(firstLaunch.runningMs)} (${firstLaunch.state})` : 'n/a'}`,
      reference: `the same Pod made straight on the stand-in: median ${ms(pb.median)} (ratio ${round(lr.median / pb.median, 1)})`,
    },
  ];
  writeResult('server', results, summary);
}
