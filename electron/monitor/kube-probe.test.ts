// The Kubernetes probe against a local HTTPS stand-in: answers, refusals,
// hangs, bad credentials and credential helpers that never return. Each probe
// must answer by its deadline; the child process must never multiply, nor
// leave helper processes behind.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkLauncher, type ChildHandle, type ChildLauncher } from '../process/index.ts';
import { KubeProber } from './kube-probe.ts';
import {
  makeTempDir,
  makeTls,
  processesMatching,
  refusedPort,
  removeDir,
  startFakeApi,
  writeKubeconfig,
  writeScript,
  type ContextDef,
  type FakeApi,
  type Tls,
} from './kube-probe.fixtures.ts';

/** Roomy enough for a loaded 2-core CI machine; every bound below is derived from it. */
const DEADLINE = 900;
const GRACE = 500;
/** Scheduling slack on a busy 2-core machine. */
const SLACK = 1_500;

let dir: string;
let tls: Tls;
let otherDir: string;
let otherTls: Tls;
let ok: FakeApi;
let hang: FakeApi;
let notReady: FakeApi;
let withToken: FakeApi;
let refused: number;
/** A distinctive `sleep N`, to find leftover helper processes. */
const nap = 3000 + Math.floor(Math.random() * 6000);
let kubeconfig: string;

const execUser = (command: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command } });

beforeAll(async () => {
  dir = makeTempDir('kindtray-probe-');
  tls = makeTls(dir);
  otherDir = makeTempDir('kindtray-probe-other-');
  otherTls = makeTls(otherDir);
  ok = await startFakeApi(tls);
  hang = await startFakeApi(tls, { mode: 'hang' });
  notReady = await startFakeApi(tls, { mode: 'nodes-not-ready' });
  withToken = await startFakeApi(tls, { token: 'right' });
  refused = await refusedPort();
  const sleeper = writeScript(path.join(dir, 'never-answers.sh'), `sleep ${nap}`);
  const good = writeScript(path.join(dir, 'good-helper.sh'), `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"right"}}'`);
  const failing = writeScript(path.join(dir, 'failing-helper.sh'), `echo 'error: token expired; run: cloud login' >&2; exit 3`);
  const contexts: ContextDef[] = [
    { name: 'kind-dev', server: ok.url },
    { name: 'hang', server: hang.url },
    { name: 'not-ready', server: notReady.url },
    { name: 'refused', server: `https://127.0.0.1:${refused}` },
    { name: 'wrong-ca', server: ok.url, caData: Buffer.from(otherTls.cert).toString('base64') },
    { name: 'wrong-token', server: withToken.url, user: { token: 'wrong' } },
    { name: 'exec-good', server: withToken.url, user: execUser(good) },
    { name: 'exec-failing', server: withToken.url, user: execUser(failing) },
    ...Array.from({ length: 20 }, (_, i) => ({ name: `exec-hang-${i}`, server: ok.url, user: execUser(sleeper) })),
    // The legacy gcp provider runs its command with execSync: it blocks the child's event loop.
    {
      name: 'gcp-hang',
      server: ok.url,
      user: { 'auth-provider': { name: 'gcp', config: { 'cmd-path': sleeper, 'token-key': '{.token}', 'expiry-key': '{.expiry}' } } },
    },
    { name: 'slow-ok', server: ok.url },
  ];
  kubeconfig = writeKubeconfig(path.join(dir, 'config'), contexts, 'kind-dev', tls.cert);
});

afterAll(async () => {
  await Promise.all([ok, hang, notReady, withToken].map((a) => a?.close()));
  removeDir(dir);
  removeDir(otherDir);
});

const newProber = (opts: ConstructorParameters<typeof KubeProber>[0] = {}) =>
  new KubeProber({ kubeconfigPaths: () => [kubeconfig], deadlineMs: DEADLINE, graceMs: GRACE, ...opts });

/** Live Kubernetes child processes that are children of this test process. */
function probeChildren(): number[] {
  const mine: number[] = [];
  for (const pid of processesMatching('kube/kube-child')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) mine.push(pid);
    } catch {
      // gone
    }
  }
  return mine;
}

const helpersLeft = () => processesMatching(`sleep ${nap}`).length + processesMatching('never-answers.sh').length;

const timed = async <T>(work: Promise<T>): Promise<{ value: T; ms: number }> => {
  const t = performance.now();
  const value = await work;
  return { value, ms: performance.now() - t };
};

describe('probing a context', () => {
  let prober: KubeProber;
  beforeAll(async () => {
    prober = newProber();
    expect(await prober.start()).toBe(true);
  });
  afterAll(() => prober.dispose());

  it('healthy API: version, readiness and nodes with their capacity', async () => {
    const r = await prober.probe('kind-dev');
    expect(r).toMatchObject({ context: 'kind-dev', state: 'ok', server: ok.url, version: 'v1.33.1', ready: true });
    expect(r.degraded).toBeUndefined();
    expect(r.nodes).toEqual([
      { name: 'dev-control-plane', ready: true, roles: ['control-plane'], cpus: 4, memoryBytes: 8 * 2 ** 30, gpus: 0 },
      { name: 'dev-worker', ready: true, roles: [], cpus: 0.5, memoryBytes: 16318536 * 1024, gpus: 0 },
    ]);
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.finishedAt).toBeLessThanOrEqual(Date.now());
  });

  it('nodes not Ready: the API is up, the result says what is degraded', async () => {
    const r = await prober.probe('not-ready');
    expect(r.state).toBe('ok');
    expect(r.nodes?.find((n) => n.name === 'dev-control-plane')?.ready).toBe(false);
    expect(r.degraded).toContain('nodes not Ready: dev-control-plane');
  });

  it('connection refused: unreachable at once, saying so', async () => {
    const { value: r, ms } = await timed(prober.probe('refused'));
    expect(r.state).toBe('unreachable');
    expect(r.cause).toBe(`context refused: connection refused by 127.0.0.1:${refused}`);
    expect(ms).toBeLessThan(DEADLINE);
  });

  it('accepts and never answers: unreachable at the deadline, and the child stays usable', async () => {
    const pid = prober.childPid;
    const { value: r, ms } = await timed(prober.probe('hang'));
    expect(r.state).toBe('unreachable');
    expect(r.cause).toBe(`context hang: no answer from ${hang.url} in ${DEADLINE} ms`);
    expect(ms).toBeGreaterThanOrEqual(DEADLINE - 5);
    expect(ms).toBeLessThan(DEADLINE + GRACE + SLACK);
    expect(prober.childPid).toBe(pid);
    expect(prober.restarts).toBe(0);
    expect((await prober.probe('kind-dev', { force: true })).state).toBe('ok');
  });

  it('an API that answered, then hangs: unreachable at the deadline, and the shared child is not taken down', async () => {
    // Its version is known from the kept connection; the failed reads ask /version again after the deadline.
    const api = await startFakeApi(tls);
    const file = writeKubeconfig(path.join(dir, 'turns'), [{ name: 'turns', server: api.url }], 'turns', tls.cert);
    const p = new KubeProber({ kubeconfigPaths: () => [file], deadlineMs: DEADLINE, graceMs: GRACE });
    try {
      await p.start();
      expect((await p.probe('turns')).state).toBe('ok');
      expect((await p.probe('turns', { force: true })).state).toBe('ok');
      const pid = p.childPid;
      api.mode = 'hang';
      for (let i = 0; i < 3; i++) {
        const r = await p.probe('turns', { force: true });
        expect(r.state, r.cause).toBe('unreachable');
        // A crash of the child shows a moment later: give it the time to.
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(p.restarts).toBe(0);
      expect(p.childPid).toBe(pid);
      api.mode = 'ok';
      expect((await p.probe('turns', { force: true })).state).toBe('ok');
    } finally {
      p.dispose();
      await api.close();
    }
  }, 15_000);

  describe('a read unanswered at half the deadline while the others answered', () => {
    const probeOnce = async (setup: (api: FakeApi) => void) => {
      const api = await startFakeApi(tls, { mode: 'nodes-hang' });
      setup(api);
      const file = writeKubeconfig(path.join(dir, `half-${api.port}`), [{ name: 'half', server: api.url }], 'half', tls.cert);
      const p = new KubeProber({ kubeconfigPaths: () => [file], deadlineMs: DEADLINE, graceMs: GRACE });
      try {
        await p.start();
        const { value, ms } = await timed(p.probe('half'));
        return { r: value, ms, readyz: api.count('/readyz') };
      } finally {
        p.dispose();
        await api.close();
      }
    };

    it('an API that goes silent while a probe is in flight (its /readyz answered, its node list never): unreachable by this probe\'s deadline, not the next', async () => {
      // The hang begins just after /readyz is answered, as when the API server stops mid-probe.
      const { r, ms, readyz } = await probeOnce((api) => {
        api.onAnswered = (p) => {
          if (p === '/readyz') api.mode = 'hang';
        };
      });
      expect(r.state, r.cause).toBe('unreachable');
      expect(r.cause).toBe(`context half: it stopped answering during the probe: no answer from https://127.0.0.1:${new URL(r.server ?? '').port} in ${DEADLINE} ms`);
      expect(readyz, 'a second /readyz was asked halfway').toBe(2);
      expect(ms).toBeLessThan(DEADLINE + GRACE + SLACK);
    });

    it('a node list that is only slow (the API still answers /readyz): degraded, saying which read, never unreachable', async () => {
      const { r, readyz } = await probeOnce(() => undefined);
      expect(r.state, r.cause).toBe('ok');
      expect(r.ready).toBe(true);
      expect(r.degraded).toBe(`node list: no answer from ${r.server} in ${DEADLINE} ms`);
      expect(readyz).toBe(2);
    });
  });

  it('a server certificate the CA does not sign: unreachable, naming TLS', async () => {
    const r = await prober.probe('wrong-ca');
    expect(r.state).toBe('unreachable');
    expect(r.cause).toMatch(/^context wrong-ca: TLS with 127\.0\.0\.1:\d+ failed: /);
  });

  it('credentials refused (401): auth-failed', async () => {
    const r = await prober.probe('wrong-token');
    expect(r.state).toBe('auth-failed');
    expect(r.cause).toBe('context wrong-token: the API refused the credentials of user wrong-token (401 Unauthorized)');
  });

  it('a context no file defines: dangling', async () => {
    const r = await prober.probe('kind-gone');
    expect(r.state).toBe('dangling');
    expect(r.cause).toContain(`no context named kind-gone in ${kubeconfig}`);
  });

  it('exec credential helpers: their token is used; their failure is auth-failed with what they said', async () => {
    expect((await prober.probe('exec-good')).state).toBe('ok');
    const r = await prober.probe('exec-failing');
    expect(r.state).toBe('auth-failed');
    expect(r.cause).toMatch(/credential plugin ".*failing-helper\.sh" failed \(exit 3\): error: token expired; run: cloud login$/);
  });

  it('exec credential helpers that never return: auth-failed by the deadline, helpers ended, one child throughout', async () => {
    const pid = prober.childPid;
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, probeChildren().length)), 10);
    try {
      // 20 probes, five at a time.
      for (let round = 0; round < 4; round++) {
        const batch = Array.from({ length: 5 }, (_, i) => prober.probe(`exec-hang-${round * 5 + i}`, { force: true }));
        const { value: results, ms } = await timed(Promise.all(batch));
        expect(ms).toBeLessThan(DEADLINE + GRACE + SLACK);
        for (const r of results) {
          expect(r.state).toBe('auth-failed');
          expect(r.cause).toMatch(/credential plugin ".*never-answers\.sh" gave no answer in 900 ms$/);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBe(1);
    expect(prober.childPid).toBe(pid);
    expect(prober.restarts).toBe(0);
    expect(helpersLeft()).toBe(0);
  });

  it('single flight: two probes of one context at once are one request', async () => {
    await prober.start();
    const before = ok.count('/api/v1/nodes');
    const a = prober.probe('slow-ok', { force: true });
    const b = prober.probe('slow-ok', { force: true });
    expect(b).toBe(a);
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb).toBe(ra);
    expect(ok.count('/api/v1/nodes') - before).toBe(1);
  });
});

describe('a credential helper that blocks the probe process', () => {
  it('ends at the deadline: its own child is killed with its helper and replaced; the shared child never notices', async () => {
    const prober = newProber();
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, probeChildren().length)), 10);
    try {
      await prober.start();
      const shared = prober.childPid;
      // A legacy auth provider can block a process: gcp-hang has a child of its own, kind-dev shares one.
      expect(await prober.start('gcp-hang')).toBe(true);
      const first = prober.childPidOf('gcp-hang');
      const stuck = timed(prober.probe('gcp-hang'));
      expect(first).toBeDefined();
      expect(first).not.toBe(shared);
      const healthy = timed(prober.probe('kind-dev', { deadlineMs: 8_000 }));
      const { value: r, ms } = await stuck;
      expect(r.state).toBe('auth-failed');
      expect(r.cause).toBe('context gcp-hang: no answer from its credential helper in 900 ms (authentication blocked the probe process, which was restarted)');
      expect(ms).toBeLessThan(DEADLINE + GRACE + SLACK);
      // The healthy probe was never in the stuck child: answered at once, not retried.
      const { value: ok, ms: okMs } = await healthy;
      expect(ok.state).toBe('ok');
      expect(okMs).toBeLessThan(DEADLINE + GRACE + SLACK);
      expect(prober.restarts).toBe(1);
      expect(prober.childPid).toBe(shared);
      expect(prober.childPidOf('gcp-hang')).not.toBe(first);
    } finally {
      clearInterval(sampler);
      prober.dispose();
    }
    // The shared child and gcp-hang's own: never a second one of either.
    expect(most).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(probeChildren()).toEqual([]);
    expect(helpersLeft()).toBe(0);
  }, 30_000);

  it('a loop of such probes, kills and restarts: every answer by its deadline, never two children for one context, no helper left', async () => {
    // Short deadlines, so that the loop runs through many kills and restarts in a few seconds.
    const deadlineMs = 150;
    const graceMs = 100;
    const prober = newProber({ deadlineMs, graceMs });
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, probeChildren().length)), 10);
    try {
      // Not started: the child is still loading when the deadlines pass, and after every kill.
      // Two children start cold here (gcp-hang's own, and the shared one for refused): on a loaded machine
      // that takes seconds, so the loop goes on past 16 turns until a kill has happened.
      for (let i = 0; i < 16 || (prober.restarts < 1 && i < 80); i++) {
        const { value, ms } = await timed(prober.probe(i % 4 === 3 ? 'refused' : 'gcp-hang', { force: true }));
        expect(['unknown', 'auth-failed', 'unreachable']).toContain(value.state);
        expect(ms).toBeLessThan(deadlineMs + graceMs + SLACK);
        if (value.state === 'unknown') expect(value.cause).toMatch(/^context (gcp-hang|refused): not probed: /);
      }
      expect(prober.restarts).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(sampler);
      prober.dispose();
    }
    // gcp-hang's own child and the shared one (refused): at most one of each.
    expect(most).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(probeChildren()).toEqual([]);
    expect(helpersLeft()).toBe(0);
  }, 30_000);
});

describe('scheduling', () => {
  it('backoff grows for a dead context, caps, returns the last result until due, and resets on success', async () => {
    const file = path.join(dir, 'moving');
    writeKubeconfig(file, [{ name: 'moving', server: `https://127.0.0.1:${refused}` }], 'moving', tls.cert);
    const prober = new KubeProber({ kubeconfigPaths: () => [file], deadlineMs: DEADLINE, graceMs: GRACE, intervalMs: 10_000, backoffBaseMs: 1_000, maxBackoffMs: 5_000 });
    try {
      await prober.start();
      expect(prober.nextProbeDelay('moving')).toBe(0);
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        expect((await prober.probe('moving', { force: true })).state).toBe('unreachable');
        delays.push(prober.nextProbeDelay('moving'));
      }
      expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
      // Not due yet: no new probe, the last result.
      const last = prober.lastResult('moving');
      expect(await prober.probe('moving')).toBe(last);
      // The cluster comes back: a forced probe runs at once and resets the backoff.
      writeKubeconfig(file, [{ name: 'moving', server: ok.url }], 'moving', tls.cert);
      expect((await prober.probe('moving', { force: true })).state).toBe('ok');
      expect(prober.nextProbeDelay('moving')).toBe(10_000);
    } finally {
      prober.dispose();
    }
  });

  it('a local cluster\'s backoff never exceeds the interval; a watched change resets a context\'s backoff', async () => {
    const file = path.join(dir, 'local-and-remote');
    const dead = `https://127.0.0.1:${refused}`;
    writeKubeconfig(file, [{ name: 'kind-local', server: dead }, { name: 'remote', server: dead }], 'kind-local', tls.cert);
    const prober = new KubeProber({ kubeconfigPaths: () => [file], deadlineMs: DEADLINE, graceMs: GRACE, intervalMs: 3_000, backoffBaseMs: 1_000, maxBackoffMs: 30_000 });
    try {
      await prober.start();
      const local: number[] = [];
      const remote: number[] = [];
      for (let i = 0; i < 5; i++) {
        // `local` is said once and remembered.
        await prober.probe('kind-local', { force: true, ...(i === 0 ? { local: true } : {}) });
        await prober.probe('remote', { force: true });
        local.push(prober.nextProbeDelay('kind-local'));
        remote.push(prober.nextProbeDelay('remote'));
      }
      expect(local).toEqual([1_000, 2_000, 3_000, 3_000, 3_000]);
      expect(remote).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
      // Due only in 16 s: an unforced probe answers the last result.
      const last = prober.lastResult('remote');
      expect(await prober.probe('remote')).toBe(last);
      // Its container started (or Docker came back, or the kubeconfig changed): the backoff is forgotten.
      prober.resetBackoff('remote');
      expect(prober.nextProbeDelay('remote')).toBe(3_000);
      expect(await prober.probe('remote')).not.toBe(last); // due now: probed again
      expect(prober.nextProbeDelay('remote')).toBe(1_000);
    } finally {
      prober.dispose();
    }
  });

  it('probeLoop probes healthy contexts every interval and dead ones with backoff', async () => {
    const prober = newProber({ intervalMs: 100, backoffBaseMs: 400, maxBackoffMs: 400 });
    await prober.start();
    const seen: Record<string, number> = {};
    const stop = new AbortController();
    const loop = prober.probeLoop(() => ['kind-dev', 'refused'], (r) => (seen[r.context] = (seen[r.context] ?? 0) + 1), stop.signal);
    // Run until the healthy context has had several turns, however slow the machine is.
    const until = Date.now() + 20_000;
    while ((seen['kind-dev'] ?? 0) < 6 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await loop;
    expect(prober.nextProbeDelay('kind-dev')).toBe(100);
    expect(prober.nextProbeDelay('refused')).toBe(400);
    prober.dispose();
    expect(seen['kind-dev'] ?? 0).toBeGreaterThanOrEqual(6);
    expect(seen['refused'] ?? 0).toBeGreaterThanOrEqual(1);
    // Backoff: the dead context is asked less often than the healthy one.
    expect(seen['refused'] ?? 0).toBeLessThan(seen['kind-dev'] ?? 0);
  });
});

describe('idle children', () => {
  it('a child asked nothing for the idle time is ended, and started again by the next probe', async () => {
    const prober = newProber({ idleMs: 400 });
    try {
      expect(await prober.start()).toBe(true);
      expect((await prober.probe('kind-dev', { deadlineMs: 8_000 })).state).toBe('ok');
      const first = prober.childPid;
      expect(first).toBeDefined();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(prober.childPid).toBeUndefined();
      expect(prober.idleEnds).toBe(1);
      expect(probeChildren()).toEqual([]);
      expect((await prober.probe('kind-dev', { force: true, deadlineMs: 8_000 })).state).toBe('ok');
      expect(prober.childPid).not.toBe(first);
      expect(prober.restarts).toBe(0);
    } finally {
      prober.dispose();
    }
  }, 30_000);
  it('asked to start while an idle child is still dying: a new child starts once the old one has gone', async () => {
    let started = 0;
    let killed = 0;
    // Says ready at once; never reports its exit when killed (so the prober waits out its exit timeout).
    const fake: ChildLauncher = (): ChildHandle => {
      const pid = 900_000 + started++;
      return {
        pid,
        send: () => {},
        onMessage: (l) => void setTimeout(() => l({ type: 'ready', pid }), 10),
        onExit: () => {},
        kill: () => void killed++,
      };
    };
    const prober = newProber({ launch: fake, idleMs: 200 });
    try {
      expect(await prober.start()).toBe(true);
      await new Promise((r) => setTimeout(r, 400));
      expect(killed).toBe(1);
      expect(prober.childPid).toBeUndefined();
      expect(await prober.start()).toBe(true);
      expect(started).toBe(2);
      expect(prober.childPid).toBe(900_001);
    } finally {
      prober.dispose();
    }
  }, 10_000);
});

describe('the probe process', () => {
  it('can be launched by an injected launcher (as Electron will, with utilityProcess)', async () => {
    const launched: number[] = [];
    const launch: ChildLauncher = (modulePath, env, opts) => {
      const proc = forkLauncher(modulePath, env, opts);
      if (proc.pid !== undefined) launched.push(proc.pid);
      return proc;
    };
    const prober = newProber({ launch });
    try {
      expect((await prober.probe('kind-dev', { deadlineMs: 8_000 })).state).toBe('ok');
      expect(launched).toEqual([prober.childPid]);
    } finally {
      prober.dispose();
    }
  });

  it('a process that never gets ready: probes answer unknown by their deadline', async () => {
    let killed = 0;
    const silent: ChildLauncher = (): ChildHandle => ({
      pid: undefined,
      send: () => {},
      onMessage: () => {},
      onExit: () => {},
      kill: () => void killed++,
    });
    const prober = newProber({ launch: silent });
    const { value, ms } = await timed(prober.probe('kind-dev'));
    expect(value).toMatchObject({ state: 'unknown', cause: 'context kind-dev: not probed: the probe process was not ready within 900 ms' });
    expect(ms).toBeLessThan(DEADLINE + GRACE + SLACK);
    prober.dispose();
    expect(killed).toBe(1);
  });

  it('dispose kills the child; probing afterwards is a programmer error', async () => {
    const prober = newProber();
    await prober.start();
    const pid = prober.childPid;
    expect(pid).toBeDefined();
    prober.dispose();
    await new Promise((r) => setTimeout(r, 100));
    expect(processesMatching('kube/kube-child')).not.toContain(pid);
    await expect(prober.probe('kind-dev')).rejects.toThrow(/disposed/);
  });
});
