// Kindtray's API under loopback load, with `kindtray serve` as users run it on
// one testbed cluster:
//
//  - GET /api/health and GET /api/status under 1,000 concurrent keep-alive
//    connections, against a bare node:http server (own process, same Node)
//    answering the same bytes, in the same run: the ceiling;
//  - 100 concurrent launches (POST /api/tasks): acknowledgment latency, then
//    every acknowledged task followed to a final state in GET /api/tasks;
//  - 200 concurrent validations (POST /api/validate) while the cluster hangs,
//    right after the fault and once the monitor has seen it, with
//    GET /api/health sampled alongside.
//
// The load generator shares the machine (2 cores) with the server: its CPU
// share is recorded so that a saturated generator is not read as a slow server.

import { rmSync } from 'node:fs';
import { request } from 'node:http';
import type { TaskRecord, ValidateResponse } from '../shared/api.ts';
import { DEADLINES } from '../shared/constants.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { freePort, serve, tempHome, writeSettings } from '../e2e/helpers/serve.ts';
import { ms, stats, writeResult, type Stats, type Summary } from './lib.ts';
import { bareServer, fmtInt, http, keepAlive, load, loadAverage, log, onCleanup, poll, round, sample, sleep, withTestbed, type HttpAnswer, type LoadResult } from './harness.ts';

const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 5);
const CONNECTIONS = 1_000;
const MAX_REQUESTS = 300_000;
const LAUNCHES = 100;
const VALIDATIONS = 200;
const FINAL_WITHIN_MS = 180_000;

type Answer = { headers: Record<string, string>; body: string };


const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/** An answer's headers (minus per-connection ones) and body. */
function capture(port: number, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (!PER_CONNECTION.has(k) && typeof v === 'string') h[k] = v;
        resolve({ headers: h, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

interface Wave {
  when: string;
  n: number;
  statuses: Record<string, number>;
  latencyMs: Stats;
  withinDeadline: number;
  firstError?: string;
  healthDuring: Stats & { failed: number };
}

const countBy = (xs: (string | number)[]): Record<string, number> => xs.reduce<Record<string, number>>((a, x) => ((a[x] = (a[x] ?? 0) + 1), a), {});

export async function run(): Promise<void> {
  const loadBefore = loadAverage();
  const rps: Record<string, LoadResult & { generatorCpuShareOfOneCore: number }> = {};
  const bodyBytes: Record<string, number> = {};
  let launch: Record<string, unknown> = {};
  const waves: Wave[] = [];

  await withTestbed(async (tb) => {
    const cluster = await tb.createCluster(`load-${process.pid}`, { extraPortMappings: [{ containerPort: 30000 }] });
    const home = tempHome('kt-bench-load-');
    writeSettings(home, { probe: { intervalMs: 1000, deadlineMs: 2000 } });
    const server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.image }), { port: await freePort() });
    let bare: Awaited<ReturnType<typeof bareServer>> | undefined;
    const off = onCleanup(async () => {
      bare?.stop();
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    });
    try {
      const { port, token } = server;
      const auth = { authorization: `Bearer ${token}` };
      const agent = keepAlive(1);
      const status = async () => JSON.parse((await http(port, '/api/status', { headers: auth, agent })).body) as HealthSnapshot;
      const ctxState = (s: HealthSnapshot) => s.contexts.find((c) => c.name === cluster.context)?.state;
      await poll('cluster healthy', 60_000, async () => {
        const s = await status();
        return s.clusters.find((c) => c.name === cluster.name)?.state === 'running' && ctxState(s) === 'ok' ? true : undefined;
      }, 200);

      // 1. Throughput: Kindtray vs a bare node:http server with the same answers.
      const answers = { '/api/health': await capture(port, '/api/health', {}), '/api/status': await capture(port, '/api/status', auth) };
      bodyBytes.health = Buffer.byteLength(answers['/api/health'].body);
      bodyBytes.status = Buffer.byteLength(answers['/api/status'].body);
      bare = await bareServer(answers);
      const configs: [string, number, string, Record<string, string>][] = [
        ['kindtray health', port, '/api/health', {}],
        ['bare health', bare.port, '/api/health', {}],
        ['kindtray status', port, '/api/status', auth],
        ['bare status', bare.port, '/api/status', {}],
      ];
      // Warm-up, not measured: code paths compiled, connections' first handshake out of the way.
      for (const [, p, path, headers] of configs) await load(p, path, { headers, connections: 100, durationMs: 500, maxRequests: 20_000 });
      for (const [key, p, path, headers] of configs) {
        const gen0 = process.cpuUsage();
        const res = await load(p, path, { headers, connections: CONNECTIONS, durationMs: LOAD_SECONDS * 1000, maxRequests: MAX_REQUESTS, timeoutMs: 10_000 });
        const gen = process.cpuUsage(gen0);
        rps[key] = { ...res, generatorCpuShareOfOneCore: round((gen.user + gen.system) / 1000 / res.durationMs, 3) };
        log(`load: ${key}: ${fmtInt(res.reqPerSec)} 2xx/s, p50 ${ms(res.latencyMs.p50)}, p99 ${ms(res.latencyMs.p99)}, ${res.failed} failed ${JSON.stringify(res.statuses)}`);
        await sleep(500);
      }
      bare.stop();
      bare = undefined;

      // 2. 100 concurrent launches, then every acknowledged one followed to a final state.
      const body = `resources:\n  infra: k8s/${cluster.context}\nrun: echo hi\n`;
      const launchAgent = keepAlive(LAUNCHES);
      const t0 = performance.now();
      const posts = await Promise.all(
        Array.from({ length: LAUNCHES }, () => http(port, '/api/tasks', { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body, agent: launchAgent, timeoutMs: 30_000 })),
      );
      launchAgent.destroy();
      const ids = posts.filter((a) => a.status === 201).map((a) => (JSON.parse(a.body) as { task: TaskRecord }).task.id);
      const notAcked = posts.filter((a) => a.status !== 201);
      log(`load: ${ids.length}/${LAUNCHES} launches acknowledged (201) in ${ms(performance.now() - t0)}`);
      let listed: TaskRecord[] = [];
      let allFinalMs: number | undefined;
      const finalStart = performance.now();
      while (performance.now() - finalStart < FINAL_WITHIN_MS) {
        const a = await http(port, '/api/tasks?limit=1000', { headers: auth, agent, timeoutMs: 10_000 });
        if (a.status === 200) {
          const byId = new Map((JSON.parse(a.body) as { tasks: TaskRecord[] }).tasks.map((t) => [t.id, t]));
          listed = ids.map((id) => byId.get(id)).filter((t): t is TaskRecord => t !== undefined);
          if (listed.length === ids.length && listed.every((t) => ['succeeded', 'failed', 'cancelled'].includes(t.state))) {
            allFinalMs = performance.now() - t0;
            break;
          }
        }
        await sleep(1_000);
      }
      const states = countBy(listed.map((t) => t.state));
      const reasons = countBy(listed.filter((t) => t.state !== 'succeeded').map((t) => (t.reason ?? '').slice(0, 160)));
      launch = {
        n: LAUNCHES,
        acknowledged: ids.length,
        ackStatuses: countBy(posts.map((a) => a.status)),
        ackMs: stats(posts.map((a) => a.ms)),
        ...(notAcked[0] ? { firstRefusal: notAcked[0].body.slice(0, 300) } : {}),
        distinctIds: new Set(ids).size,
        listed: listed.length,
        lost: ids.length - listed.length,
        states,
        ...(Object.keys(reasons).length ? { notSucceededReasons: reasons } : {}),
        allFinalMs: allFinalMs === undefined ? null : round(allFinalMs),
        finalWithinMs: FINAL_WITHIN_MS,
      };
      log(`load: launches: ${JSON.stringify(states)}, lost ${ids.length - listed.length}, all final ${allFinalMs === undefined ? 'NOT within the bound' : `after ${ms(allFinalMs)}`}`);

      // 3. 200 concurrent validations while the cluster hangs, with health sampled alongside.
      const wave = async (when: string): Promise<Wave> => {
        const vAgent = keepAlive(VALIDATIONS);
        let busy = true;
        const health = sample(() => http(port, '/api/health', { agent, timeoutMs: 10_000 }), { gapMs: 20, maxSamples: 1_000, maxMs: 20_000, stop: () => !busy });
        const answered: HttpAnswer[] = await Promise.all(
          Array.from({ length: VALIDATIONS }, () =>
            http(port, '/api/validate', { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body, agent: vAgent, timeoutMs: 15_000 }),
          ),
        );
        busy = false;
        const h = await health;
        vAgent.destroy();
        let firstError: string | undefined;
        for (const a of answered) {
          try {
            firstError = (JSON.parse(a.body) as ValidateResponse).errors?.[0]?.message.slice(0, 200);
          } catch {
            firstError = a.body.slice(0, 200);
          }
          if (firstError) break;
        }
        const w: Wave = {
          when,
          n: VALIDATIONS,
          statuses: countBy(answered.map((a) => a.status)),
          latencyMs: stats(answered.map((a) => a.ms)),
          withinDeadline: answered.filter((a) => a.status > 0 && a.ms <= DEADLINES.validation).length,
          ...(firstError ? { firstError } : {}),
          healthDuring: { ...stats(h.map((a) => a.ms)), failed: h.filter((a) => a.status !== 200).length },
        };
        log(`load: validations ${when}: p50 ${ms(w.latencyMs.median)}, p99 ${ms(w.latencyMs.p99)}, max ${ms(w.latencyMs.max)}, ${w.withinDeadline}/${w.n} by ${DEADLINES.validation} ms, ${JSON.stringify(w.statuses)}; health p50 ${ms(w.healthDuring.median)} max ${ms(w.healthDuring.max)}`);
        return w;
      };
      await cluster.setFault('hang');
      try {
        waves.push(await wave('right after the hang'));
        await poll('the hang seen', 30_000, async () => (ctxState(await status()) !== 'ok' ? true : undefined), 200);
        waves.push(await wave('once the monitor sees the hang'));
      } finally {
        await cluster.setFault('none');
      }
    } finally {
      off();
      bare?.stop();
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });

  const r = (k: string) => rps[k] as LoadResult & { generatorCpuShareOfOneCore: number };
  const pct = (a: number, b: number) => `${Math.round((a / b) * 100)} %`;
  const row = (route: string): Summary => {
    const k = r(`kindtray ${route}`);
    const b = r(`bare ${route}`);
    return {
      metric: `GET /api/${route}, ${fmtInt(CONNECTIONS)} keep-alive connections, ${LOAD_SECONDS} s`,
      value: `${fmtInt(k.reqPerSec)} 2xx/s, p50 ${ms(k.latencyMs.p50)}, p99 ${ms(k.latencyMs.p99)}, ${fmtInt(k.failed)} errors`,
      reference: `bare node:http, same bytes: ${fmtInt(b.reqPerSec)} 2xx/s, p50 ${ms(b.latencyMs.p50)}, p99 ${ms(b.latencyMs.p99)}, ${fmtInt(b.failed)} errors; Kindtray/bare ${pct(k.reqPerSec, b.reqPerSec)}`,
    };
  };
  const ack = launch.ackMs as Stats;
  const summary: Summary[] = [
    row('health'),
    row('status'),
    {
      metric: `${LAUNCHES} concurrent launches (POST /api/tasks)`,
      value: `${launch.acknowledged} × 201, ack p50 ${ms(ack.median)}, p99 ${ms(ack.p99)}; ${(launch.states as Record<string, number>).succeeded ?? 0} succeeded, ${launch.lost} lost, all final ${launch.allFinalMs === null ? `not within ${FINAL_WITHIN_MS / 1000} s` : `after ${ms(launch.allFinalMs as number)}`}`,
      reference: 'every acknowledged id listed in GET /api/tasks',
    },
    ...waves.map((w) => ({
      metric: `${w.n} concurrent validations, cluster hanging (${w.when})`,
      value: `p50 ${ms(w.latencyMs.median)}, p99 ${ms(w.latencyMs.p99)}, max ${ms(w.latencyMs.max)}; ${w.withinDeadline}/${w.n} answered by ${ms(DEADLINES.validation)}; GET /api/health meanwhile max ${ms(w.healthDuring.max)}`,
      reference: 'SkyPilot #5300: one hanging cluster, "the whole API server hung"',
    })),
  ];
  writeResult(
    'load',
    { loadSeconds: LOAD_SECONDS, connections: CONNECTIONS, maxRequests: MAX_REQUESTS, bodyBytes, throughput: rps, launches: launch, hangingValidations: waves, deadlineMs: DEADLINES.validation, loadAverage: { before: loadBefore, after: loadAverage() } },
    summary,
  );
}
