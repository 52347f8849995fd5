// Engine-level faults and the private dockerd's life cycle. This file stops
// and starts engines, so it uses a dockerd of its own (the run's shared one
// serves the other files in parallel and must stay up).

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCluster } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { attachDockerd, cleanupStaleTestbeds, startDockerd } from './dockerd.ts';
import { kubectl } from './kubectl.ts';
import { run, waitFor } from './proc.ts';
import { useTestbed } from './use-testbed.ts';

const tb = useTestbed({ privateDockerd: true });

function probeTcp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000, () => resolve('timeout'));
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  }).map(Number);
}

describe('the private dockerd', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await tb.createCluster({ name: 'engine' });
  });

  it('stopped: the socket disappears and the cluster API refuses; the start command and startNode bring both back', async () => {
    const d = tb.dockerd;
    const pid = d.pid;
    expect(pid).toBeGreaterThan(0);

    const stopping = Date.now();
    await d.stop();
    const stopMs = Date.now() - stopping;
    expect(d.isRunning()).toBe(false);
    expect(existsSync(d.socketPath)).toBe(false);
    expect(await d.api.ping()).toBe(false);
    expect(await probeTcp(cluster.apiPort)).toBe('ECONNREFUSED');
    expect(stopMs).toBeLessThan(10_000);

    // The start command alone, as Kindtray's "Start Docker" fix will run it.
    await run('/bin/sh', ['-c', d.startCommand]);
    await waitFor('dockerd back', 20_000, async () => ((await d.api.ping()) ? true : undefined));
    expect(d.pid).not.toBe(pid);
    // As with a real engine: containers stay exited until started.
    expect((await d.api.inspectContainer(cluster.controlPlane.id)).State.Running).toBe(false);

    await cluster.startNode();
    const nodes = await kubectl(['--context', cluster.context, 'get', 'nodes', '--no-headers'], { env: tb.env() });
    expect(nodes.stdout).toMatch(/-control-plane\s+Ready/);
  });

  it('start() is a no-op on a running engine and stop() on a stopped one', async () => {
    const d = tb.dockerd;
    const pid = d.pid;
    await d.start();
    expect(d.pid).toBe(pid);
    await d.stop();
    await d.stop();
    await d.start();
    expect(await d.api.ping()).toBe(true);
  });

  it('frozen: the socket stays and accepts, nothing answers; thawed, it answers again', async () => {
    const d = tb.dockerd;
    d.freeze();
    try {
      expect(existsSync(d.socketPath)).toBe(true);
      const started = Date.now();
      expect(await d.api.ping(500)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      await expect(d.api.raw('/version', { timeoutMs: 300 })).rejects.toThrow(/no answer in 300 ms/);
    } finally {
      d.thaw();
    }
    expect(await d.api.ping(5_000)).toBe(true);
  });

  it('coexists with the run\'s shared dockerd: own subnet, own bridge, both clusters answer', async () => {
    const shared = attachDockerd(tb.info.dockerd);
    expect(tb.dockerd.subnet).not.toBe(shared.subnet);
    expect(tb.dockerd.bridge).not.toBe(shared.bridge);
    expect(existsSync(`/sys/class/net/${tb.dockerd.bridge}`)).toBe(true);
    expect(existsSync(`/sys/class/net/${shared.bridge}`)).toBe(true);

    const mine = cluster;
    await mine.startNode();
    const theirs = await createCluster(shared, { name: tb.uniqueName('theirs'), kubeconfigPath: tb.kubeconfigPath });
    try {
      expect((await mine.apiRequest('/readyz')).statusCode).toBe(200);
      expect((await theirs.apiRequest('/readyz')).statusCode).toBe(200);
      const nodes = JSON.parse((await theirs.apiRequest('/api/v1/nodes')).body) as { items: { status: { addresses: { type: string; address: string }[] } }[] };
      const address = nodes.items[0]?.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
      expect(address.startsWith(shared.subnet.replace(/0\/24$/, ''))).toBe(true);
    } finally {
      await theirs.remove();
    }
  });
});

describe('stale testbeds', () => {
  it('a crashed run (owner gone, dockerd SIGKILLed, containers left running) is removed without a trace', async () => {
    // A separate root, so that no other testbed starting meanwhile cleans this one first;
    // named tb-*, so that if this test dies, a later run removes it as a stale testbed too.
    const root = join(tb.info.root, `tb-${tb.uniqueName('stale')}`);
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const d = await startDockerd({ root, ownerPid: owner.pid, purpose: 'stale-test' });
      const left = await createCluster(d, { name: 'left', kubeconfigPath: join(d.dir, 'kubeconfig') });
      expect(await cleanupStaleTestbeds(root)).toEqual([]);

      // The crash: owner and dockerd die at once; shims and containers survive a SIGKILLed dockerd.
      process.kill(d.pid ?? 0, 'SIGKILL');
      owner.kill('SIGKILL');
      await waitFor('owner gone', 5_000, () => (owner.exitCode !== null || owner.signalCode !== null ? true : undefined));
      expect(processesMentioning(d.dir).length).toBeGreaterThan(0);

      expect(await cleanupStaleTestbeds(root)).toEqual([d.dir]);
      expect(existsSync(d.dir)).toBe(false);
      expect(existsSync(`/sys/class/net/${d.bridge}`)).toBe(false);
      expect(processesMentioning(d.dir)).toEqual([]);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(d.dir);
      expect(await probeTcp(left.apiPort)).toBe('ECONNREFUSED');
    } finally {
      owner.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a live testbed is never taken for a stale one', async () => {
    const removed = await cleanupStaleTestbeds(tb.info.root);
    expect(removed).not.toContain(tb.info.dir);
    expect(removed).not.toContain(tb.dockerd.dir);
    expect(await attachDockerd(tb.info.dockerd).api.ping()).toBe(true);
  });
});
