// exec against the testbed's API stand-in: a command in a running Pod gets
// its stdin whole and answers its exit code and output; a Pod that is not
// there or has ended is a typed error; an API that accepts the stream and
// goes silent costs the caller its deadline, no more.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_LABEL } from '../../shared/constants.ts';
import { useTestbed } from '../../e2e/testbed/index.ts';
import type { Cluster } from '../../e2e/testbed/index.ts';
import { KubeOps } from './kube-ops.ts';
import type { KubeTarget } from './kube-ops.ts';

const tb = useTestbed();
let cluster: Cluster;
let ops: KubeOps;
let target: KubeTarget;

beforeAll(async () => {
  cluster = await tb.createCluster({ name: 'exec' });
  ops = new KubeOps();
  target = { context: cluster.context, kubeconfigPaths: [tb.kubeconfigPath] };
});

afterAll(async () => {
  ops.close();
  await cluster.setFault('none');
});

const pod = (name: string, script: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { [TASK_LABEL]: name } },
  spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: tb.info.image, command: ['sh', '-c', script], env: [{ name: 'GREETING', value: 'hello' }] }] },
});

async function running(name: string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const r = await ops.getPod(target, 'default', name);
    if (r.ok && r.value.phase === 'Running') return;
    if (Date.now() > end) throw new Error(`pod ${name} did not start`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('exec into a Pod', () => {
  it('sends stdin whole (2 MB), in the Pod\'s environment, and answers the exit code with the output', async () => {
    await ops.createPod(target, 'default', pod('exec-a', 'sleep 60'));
    await running('exec-a');
    const data = Buffer.alloc(2 * 1024 * 1024, 'k');
    const r = await ops.exec(target, 'default', 'exec-a', ['sh', '-c', 'wc -c; echo "$GREETING" >&2; exit 3'], { stdin: data, deadlineMs: 10_000 });
    expect(r).toEqual({ ok: true, value: { exitCode: 3, stdout: expect.stringMatching(/^\s*2097152\s*$/), stderr: 'hello\n' } });
    const ok = await ops.exec(target, 'default', 'exec-a', ['true'], { deadlineMs: 5_000 });
    expect(ok).toEqual({ ok: true, value: { exitCode: 0, stdout: '', stderr: '' } });
  });

  it('a missing Pod is not-found; a command that cannot start is an error in words', async () => {
    const missing = await ops.exec(target, 'default', 'exec-none', ['true'], { deadlineMs: 5_000 });
    expect(missing).toMatchObject({ ok: false, error: { kind: 'not-found', status: 404 } });
    await ops.createPod(target, 'default', pod('exec-b', 'sleep 60'));
    await running('exec-b');
    const nope = await ops.exec(target, 'default', 'exec-b', ['no-such-command'], { deadlineMs: 5_000 });
    expect(nope).toMatchObject({ ok: false, error: { kind: 'api', message: expect.stringContaining('could not run') } });
  });

  it('an API that accepts the stream and goes silent: the caller has its answer at the deadline', async () => {
    await ops.createPod(target, 'default', pod('exec-c', 'sleep 60'));
    await running('exec-c');
    await cluster.setFault({ kind: 'hang', stage: 'stream' });
    const started = Date.now();
    const r = await ops.exec(target, 'default', 'exec-c', ['sh', '-c', 'cat > /dev/null'], { stdin: Buffer.alloc(8 * 1024 * 1024), deadlineMs: 2_000 });
    const took = Date.now() - started;
    expect(r).toMatchObject({ ok: false, error: { kind: 'deadline' } });
    expect(took).toBeLessThan(3_000);
    // Everything else is served meanwhile.
    expect((await ops.getPod(target, 'default', 'exec-c')).ok).toBe(true);
    await cluster.setFault('none');
  });
});
