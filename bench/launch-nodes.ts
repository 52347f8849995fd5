// Launch → running for a task of 1 and of 4 nodes on a 2-node testbed
// cluster, through the launcher as the API worker runs it (its default
// timings: a Pod status poll every second while launching), each node a Pod
// running `sleep`. "Running" is the task's state: every node's Pod running.
// Three launches each, alternated; the figure is the median; each task is
// cancelled (every Pod and Service deleted) before the next.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskSpec } from '../shared/task/index.ts';
import { KubeOps, Launcher, TaskStore } from '../electron/server/index.ts';
import { stats, writeResult } from './lib.ts';
import { loadAverage, log, onCleanup, poll, round, withTestbed } from './harness.ts';

const RUNS = Number(process.env.BENCH_NODES_RUNS ?? 3);
const SIZES = [1, 4];

export async function run(): Promise<void> {
  await withTestbed(async (tb) => {
    const cluster = await tb.createCluster('nodes', { workers: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'kt-bench-nodes-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const store = TaskStore.open(join(dir, 'kindtray.db'));
    const ops = new KubeOps();
    const launcher = new Launcher({ store, ops, logsDir: join(dir, 'logs'), defaultImage: tb.image, kubeconfigPaths: () => [tb.kubeconfigPath] });
    onCleanup(async () => {
      await launcher.close();
      ops.close();
      store.close();
    });
    const target = { context: cluster.context, kubeconfigPaths: [tb.kubeconfigPath] };
    const times: Record<number, number[]> = Object.fromEntries(SIZES.map((n) => [n, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const numNodes of SIZES) {
        const spec: TaskSpec = { name: `bench-${numNodes}`, resources: { ports: [] }, envs: {}, run: 'exec sleep 600', numNodes };
        const task = store.create({ name: spec.name ?? 'bench', context: cluster.context, cluster: cluster.name, source: 'run: sleep', spec });
        const started = performance.now();
        launcher.launch(task.id);
        const running = await poll(`${numNodes}-node task running`, 120_000, () => {
          const t = store.get(task.id);
          if (t?.state === 'failed') throw new Error(`the ${numNodes}-node task failed: ${t.reason ?? ''}`);
          return t?.state === 'running' ? t : undefined;
        }, 5);
        times[numNodes]?.push(performance.now() - started);
        const r = await launcher.cancel(task.id);
        if (!r.ok || r.leftovers) throw new Error(`cancel left something: ${r.ok ? r.leftovers : r.message}`);
        await poll('the Pods to go', 30_000, async () => {
          const left = await ops.listTaskPods(target, `kindtray.dev/task=${task.id}`, { namespace: 'default' });
          return left.ok && left.value.length === 0 ? true : undefined;
        });
        log(`launch-nodes: run ${i + 1}: ${numNodes} node(s) running in ${round(times[numNodes]?.at(-1) ?? 0, 0)} ms (${running.nodes?.length ?? 0} Pods)`);
      }
    }
    const byNodes = Object.fromEntries(SIZES.map((n) => [n, stats(times[n] ?? [])]));
    const results = {
      runs: RUNS,
      cluster: { nodes: 2, note: 'the stand-in runs every Pod in the control-plane container' },
      launchingPollMs: launcher.timings.launchingPollMs,
      launchToRunningMs: byNodes,
      loadAverage: loadAverage(),
    };
    const median = (n: number) => byNodes[n]?.median ?? NaN;
    writeResult('launch-nodes', results, [
      {
        metric: 'launch → running, 1 node / 4 nodes (2-node testbed cluster)',
        value: `${round(median(1) / 1000, 2)} s / ${round(median(4) / 1000, 2)} s (median of ${RUNS})`,
        reference: `status polled every ${launcher.timings.launchingPollMs} ms while launching; 4 Pods are created in parallel`,
      },
    ]);
    log(`launch-nodes: 1 node ${round(median(1), 0)} ms, 4 nodes ${round(median(4), 0)} ms`);
  });
}
