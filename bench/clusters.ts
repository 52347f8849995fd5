// Creating and deleting a cluster as a user does, through `kindtray serve`
// running the testbed's kind (on PATH) on a private dockerd: create → launchable
// (from the POST until a task with a port on the new cluster validates), and
// delete → gone (from the DELETE until /api/status no longer lists it), each
// beside the time kind's own steps took (the step lines it printed), so the
// figure shows what Kindtray adds around kind: its pre-flight, the monitor
// noticing the cluster and its API answering a probe.

import type { ClusterOperation } from '../shared/contracts/clusters.ts';
import type { HealthSnapshot } from '../shared/snapshot.ts';
import { freePort, serve, tempHome, writeSettings } from '../e2e/helpers/serve.ts';
import { FAKE_KIND_BIN_DIR } from '../e2e/testbed/index.ts';
import { stats, writeResult } from './lib.ts';
import { http, log, onCleanup, poll, round, withTestbed } from './harness.ts';

const ROUNDS = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 2);

interface Round {
  createToLaunchableMs: number;
  /** The create operation itself: kind, then the monitor seeing the cluster answer. */
  createOperationMs: number;
  /** From kind's first step line starting to its last one ending. */
  kindCreateStepsMs: number;
  kindSteps: { title: string; ms: number }[];
  deleteToGoneMs: number;
  /** The `kind delete cluster` step of the delete operation. */
  kindDeleteMs: number;
}

const ms = (from: string, to?: string) => (to ? Date.parse(to) - Date.parse(from) : 0);

export async function run(): Promise<void> {
  await withTestbed(async (tb) => {
    const home = tempHome('kt-bench-clusters-');
    writeSettings(home, { probe: { intervalMs: 1_000, deadlineMs: 2_000 } });
    const server = await serve(tb.env({ KINDTRAY_HOME: home, KINDTRAY_TASK_IMAGE: tb.image, PATH: `${FAKE_KIND_BIN_DIR}:${process.env.PATH ?? ''}` }), { port: await freePort() });
    const off = onCleanup(() => server.stop());
    const auth = { authorization: `Bearer ${server.token}` };
    const api = async <T>(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> => {
      const r = await http(server.port, path, { method, headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), timeoutMs: 30_000 });
      return { status: r.status, body: JSON.parse(r.body || '{}') as T };
    };
    const operation = (id: string) => poll(`operation ${id}`, 300_000, async () => {
      const o = (await api<{ operation: ClusterOperation }>(`/api/operations/${id}`)).body.operation;
      return o.state === 'running' ? undefined : o;
    }, 100);
    const rounds: Round[] = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const name = `bench-${i}-${Date.now().toString(36)}`;
        const task = `name: web\nresources:\n  infra: k8s/kind-${name}\n  ports: [8080]\nrun: exec httpd -f -p 8080\n`;
        const t0 = performance.now();
        const started = await api<{ operation: ClusterOperation }>('/api/clusters', 'POST', { name });
        if (started.status !== 202) throw new Error(`create answered ${started.status}: ${JSON.stringify(started.body)}`);
        await poll('a task on the new cluster validates', 300_000, async () => {
          const v = await http(server.port, '/api/validate', { method: 'POST', headers: auth, body: task, timeoutMs: 10_000 });
          return v.status === 200 ? true : undefined;
        }, 100);
        const launchable = performance.now() - t0;
        const created = await operation(started.body.operation.id);
        if (created.state !== 'succeeded') throw new Error(`create ${created.state}: ${created.error?.message ?? ''}`);
        const kindSteps = created.steps.filter((s) => !s.title.startsWith('Waiting for'));
        const first = kindSteps[0];
        const last = kindSteps.at(-1);
        const t1 = performance.now();
        const deleting = await api<{ operation: ClusterOperation }>(`/api/clusters/${name}`, 'DELETE');
        await poll('the cluster gone from /api/status', 120_000, async () => {
          const s = (await api<HealthSnapshot>('/api/status')).body;
          return s.clusters.some((c) => c.name === name) ? undefined : true;
        }, 100);
        const gone = performance.now() - t1;
        const deleted = await operation(deleting.body.operation.id);
        const kindDelete = deleted.steps.find((s) => s.title.startsWith('kind delete cluster'));
        const r: Round = {
          createToLaunchableMs: round(launchable, 0),
          createOperationMs: created.durationMs ?? 0,
          kindCreateStepsMs: first && last ? ms(first.startedAt, last.endedAt) : 0,
          kindSteps: kindSteps.map((s) => ({ title: s.title, ms: ms(s.startedAt, s.endedAt) })),
          deleteToGoneMs: round(gone, 0),
          kindDeleteMs: kindDelete ? ms(kindDelete.startedAt, kindDelete.endedAt) : 0,
        };
        log(`clusters: round ${i + 1}: launchable in ${r.createToLaunchableMs} ms (kind's steps ${r.kindCreateStepsMs} ms), gone in ${r.deleteToGoneMs} ms (kind delete ${r.kindDeleteMs} ms)`);
        rounds.push(r);
      }
    } finally {
      off();
      await server.stop();
    }
    const s = (k: keyof Omit<Round, 'kindSteps'>) => stats(rounds.map((r) => r[k]));
    const sec = (x: number) => `${(x / 1000).toFixed(1)} s`;
    const results = {
      rounds,
      createToLaunchableMs: s('createToLaunchableMs'),
      createOperationMs: s('createOperationMs'),
      kindCreateStepsMs: s('kindCreateStepsMs'),
      deleteToGoneMs: s('deleteToGoneMs'),
      kindDeleteMs: s('kindDeleteMs'),
      note: "the testbed's kind: its steps are real Docker work (node containers, 100 published ports) and a stand-in API, not kubeadm; a real kind create takes 20-60 s more",
    };
    writeResult('clusters', results, [
      { metric: 'create → launchable (defaults, 100 NodePorts), median', value: sec(results.createToLaunchableMs.median), reference: `kind's own steps ${sec(results.kindCreateStepsMs.median)} (testbed kind)` },
      { metric: 'delete → gone from status, median', value: sec(results.deleteToGoneMs.median), reference: `kind delete ${sec(results.kindDeleteMs.median)}` },
    ]);
  });
}
