// Task operations under deadlines, without a cluster: an API that accepts and
// never answers, a port that refuses, a credential plugin that blocks the
// child's event loop (answer at the deadline, child replaced, plugin ended),
// a kubeconfig that names nothing. And the log slicing the follower relies on.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { logSlice } from './kube-ops.ts';
import { CHILD_GRACE_MS, KubeOps, defaultKubeconfigPaths } from './kube-ops.ts';
import type { KubeTarget } from './kube-ops.ts';

let dir: string;
let hangServer: Server;
let hangPort: number;
let closedPort: number;
const sockets = new Set<Socket>();
let ops: KubeOps | undefined;

function kubeconfig(name: string, server: string, user: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': name,
      clusters: [{ name, cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name, user }],
      contexts: [{ name, context: { cluster: name, user: name } }],
    }),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kt-kube-ops-'));
  // Accepts and never says a word: the TLS handshake never completes.
  hangServer = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => hangServer.listen(0, '127.0.0.1', r));
  hangPort = (hangServer.address() as { port: number }).port;
  // A port nothing listens on: bound once, then closed.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});

afterEach(() => {
  ops?.close();
  ops = undefined;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hangServer.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('answers at the deadline', { timeout: 20_000 }, () => {
  it('an API that accepts and never answers: a deadline error naming the context, in time, without killing the child', async () => {
    const file = kubeconfig('kind-hang', `https://127.0.0.1:${hangPort}`, { token: 'x' });
    ops = new KubeOps({ deadlineMs: 1_000 });
    const target: KubeTarget = { context: 'kind-hang', kubeconfigPaths: [file] };
    // Warm the child, so the timing below is the request's alone.
    await ops.getPod(target, 'default', 'warm');
    const started = Date.now();
    const r = await ops.getPod(target, 'default', 'web');
    const took = Date.now() - started;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('deadline');
      expect(r.error.message).toBe('kind-hang: no answer from its API in 1 s');
    }
    expect(took).toBeLessThan(1_300);
    expect(ops.stats()).toMatchObject({ started: 1, replaced: 0 });
  });

  it('a credential plugin that blocks the child: answered at the deadline, the child and its plugin killed, the next call gets a fresh child', async () => {
    const marker = `kt-plugin-${process.pid}-${Date.now()}`;
    // The legacy gcp provider runs its command with execSync: the child's event loop stops dead.
    const file = kubeconfig('kind-blocked', `https://127.0.0.1:${hangPort}`, {
      'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh', 'cmd-args': `-c "sleep 30; echo ${marker}"`, 'token-key': '{.t}', 'expiry-key': '{.e}' } },
    });
    const replaced: string[] = [];
    ops = new KubeOps({ deadlineMs: 1_000, onChildReplaced: (_c, why) => replaced.push(why) });
    const target: KubeTarget = { context: 'kind-blocked', kubeconfigPaths: [file] };
    const first = await ops.getPod(target, 'default', 'web');
    const firstPid = ops.stats().live['kind-blocked'];
    expect(firstPid).toBeGreaterThan(0);
    expect(first.ok).toBe(false);
    if (!first.ok) expect(first.error).toEqual({ kind: 'deadline', message: 'kind-blocked: authentication did not finish in 1 s' });
    // The caller had its answer at the deadline; the silent child goes once its grace is over.
    expect(replaced).toEqual([]);
    await new Promise((r) => setTimeout(r, CHILD_GRACE_MS + 200));
    expect(replaced).toEqual(['kind-blocked: authentication did not finish in 1 s']);
    expect(ops.stats()).toMatchObject({ started: 1, replaced: 1, live: {} });
    // The plugin's shell went with the child's process group.
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);

    const second = ops.getPod(target, 'default', 'web');
    const secondPid = ops.stats().live['kind-blocked'];
    expect(secondPid).toBeGreaterThan(0);
    expect(secondPid).not.toBe(firstPid);
    expect((await second).ok).toBe(false);
    expect(ops.stats().started).toBe(2);
  });

  it('a blocked context does not take another context down with it', async () => {
    const blocked = kubeconfig('kind-b2', `https://127.0.0.1:${hangPort}`, {
      'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sleep', 'cmd-args': '30', 'token-key': '{.t}', 'expiry-key': '{.e}' } },
    });
    const refused = kubeconfig('kind-other', `https://127.0.0.1:${closedPort}`, { token: 'x' });
    ops = new KubeOps({ deadlineMs: 1_500 });
    const [a, b] = await Promise.all([
      ops.getPod({ context: 'kind-b2', kubeconfigPaths: [blocked] }, 'default', 'x'),
      ops.getPod({ context: 'kind-other', kubeconfigPaths: [refused] }, 'default', 'x'),
    ]);
    expect(a.ok || a.error.kind).toBe('deadline');
    expect(b.ok || b.error.kind).toBe('unreachable');
  });
});

describe('children by risk, not by count', { timeout: 30_000 }, () => {
  it('contexts with static credentials share one child; a context whose auth provider can block has its own', async () => {
    const a = kubeconfig('kind-sa', `https://127.0.0.1:${closedPort}`, { token: 'x' });
    const b = kubeconfig('kind-sb', `https://127.0.0.1:${closedPort}`, { token: 'y' });
    const risky = kubeconfig('gke-risky', `https://127.0.0.1:${closedPort}`, {
      'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/echo', 'token-key': '{.t}', 'expiry-key': '{.e}' } },
    });
    ops = new KubeOps({ deadlineMs: 8_000 });
    await Promise.all([
      ops.getPod({ context: 'kind-sa', kubeconfigPaths: [a] }, 'default', 'x'),
      ops.getPod({ context: 'kind-sb', kubeconfigPaths: [b] }, 'default', 'x'),
      ops.getPod({ context: 'gke-risky', kubeconfigPaths: [risky] }, 'default', 'x'),
    ]);
    const { started, live } = ops.stats();
    expect(started).toBe(2);
    expect(Object.keys(live).sort()).toEqual(['(shared)', 'gke-risky']);
    expect(live['(shared)']).not.toBe(live['gke-risky']);
  });

  it('a child with nothing to do is ended after the idle time, and started again on demand', async () => {
    const file = kubeconfig('kind-idle', `https://127.0.0.1:${closedPort}`, { token: 'x' });
    const target: KubeTarget = { context: 'kind-idle', kubeconfigPaths: [file] };
    ops = new KubeOps({ deadlineMs: 8_000, idleMs: 300 });
    expect((await ops.getPod(target, 'default', 'x')).ok).toBe(false);
    const first = ops.stats().live['(shared)'];
    expect(first).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 800));
    expect(ops.stats()).toMatchObject({ started: 1, idled: 1, replaced: 0, live: {} });
    const again = await ops.getPod(target, 'default', 'x');
    expect(again.ok || again.error.kind).toBe('unreachable');
    expect(ops.stats().started).toBe(2);
  });
});

describe('typed failures', { timeout: 20_000 }, () => {
  it('a refused port is unreachable, in words', async () => {
    const file = kubeconfig('kind-refused', `https://127.0.0.1:${closedPort}`, { token: 'x' });
    ops = new KubeOps();
    const r = await ops.deletePod({ context: 'kind-refused', kubeconfigPaths: [file] }, 'default', 'x');
    expect(r).toEqual({ ok: false, error: { kind: 'unreachable', message: `kind-refused: cannot reach its API at https://127.0.0.1:${closedPort}: connection refused` } });
  });

  it('a context the kubeconfig does not have, or no kubeconfig at all, is a config error', async () => {
    const file = kubeconfig('kind-a', `https://127.0.0.1:${closedPort}`, { token: 'x' });
    ops = new KubeOps();
    const r = await ops.listTaskPods({ context: 'kind-nope', kubeconfigPaths: [file] }, 'kindtray.dev/task=t-x');
    expect(r.ok || r.error).toEqual({ kind: 'config', message: `kind-nope: no context named kind-nope in ${file}` });
    const none = await ops.listTaskPods({ context: 'kind-nope', kubeconfigPaths: [path.join(dir, 'missing')] }, 'x=y');
    expect(none.ok || none.error.message).toMatch(/^kind-nope: no kubeconfig file found/);
  });
});

describe('log slicing', () => {
  it('gives the bytes after the offset', () => {
    const text = 'one\ntwo\nthr';
    const first = logSlice(text, 0, true);
    expect(first).toMatchObject({ nextOffset: 11, totalBytes: 11, reset: false });
    expect(Buffer.from(first.data).toString()).toBe(text);
    const next = logSlice(`${text}ee\n`, first.nextOffset, true);
    expect(Buffer.from(next.data).toString()).toBe('ee\n');
    expect(logSlice(text, 11, true)).toMatchObject({ nextOffset: 11, data: new Uint8Array() });
  });

  it('counts bytes, not characters, and holds back a character the API cut in two until it is whole', () => {
    // The client decodes the log: half of "✓" at the end arrives as U+FFFD.
    const cut = 'héllo \uFFFD';
    const r = logSlice(cut, 0, true);
    expect(Buffer.from(r.data).toString()).toBe('héllo ');
    expect(r.nextOffset).toBe(Buffer.byteLength('héllo '));
    const whole = logSlice('héllo ✓\n', r.nextOffset, true);
    expect(Buffer.from(whole.data).toString()).toBe('✓\n');
    // Once the container has ended, everything is taken as it is.
    expect(Buffer.from(logSlice(cut, 0, false).data).toString()).toBe(cut);
  });

  it('says when the log got shorter than the offset (rotated, restarted)', () => {
    expect(logSlice('new\n', 100, true)).toMatchObject({ reset: true, nextOffset: 4 });
  });
});

describe('kubeconfig files', () => {
  it('reads KUBECONFIG as kubectl does, else ~/.kube/config', () => {
    expect(defaultKubeconfigPaths({ KUBECONFIG: `/a${path.delimiter}${path.delimiter}/b` }, '/home/u')).toEqual(['/a', '/b']);
    expect(defaultKubeconfigPaths({}, '/home/u')).toEqual(['/home/u/.kube/config']);
  });
});
