// Workdir copy throughput: a folder of about 50 MB in many files (random
// bytes, so nothing compresses) copied into a running Pod on a testbed
// cluster the way a launch copies it (file-sync-copy.ts: whole tar archives
// of 8 MB through the exec API, from the Kubernetes child process, over TLS
// to the API stand-in, into `tar xf -` in the node container), beside
// `docker cp` of the same folder into the same node container (the Docker
// API's archive upload, the fastest path a local cluster offers). Three runs
// each, alternated; the figure is the median. Every copy is checked in the
// container (file count and bytes).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyTaskFiles, KubeOps } from '../electron/server/index.ts';
import { writeResult, stats } from './lib.ts';
import { loadAverage, log, onCleanup, poll, round, withTestbed } from './harness.ts';

const FOLDERS = 10;
const FILES_PER_FOLDER = Number(process.env.BENCH_COPY_FILES ?? 50);
const FILE_BYTES = 100 * 1024;
const RUNS = Number(process.env.BENCH_COPY_RUNS ?? 3);
const MB = 1024 * 1024;

function makeFolder(): { dir: string; files: number; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kt-bench-workdir-'));
  for (let f = 0; f < FOLDERS; f++) {
    mkdirSync(join(dir, `part${f}`));
    for (let i = 0; i < FILES_PER_FOLDER; i++) writeFileSync(join(dir, `part${f}`, `file${i}.bin`), randomBytes(FILE_BYTES));
  }
  return { dir, files: FOLDERS * FILES_PER_FOLDER, bytes: FOLDERS * FILES_PER_FOLDER * FILE_BYTES };
}

function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 * MB }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
}

export async function run(): Promise<void> {
  await withTestbed(async (tb) => {
    const folder = makeFolder();
    onCleanup(async () => rmSync(folder.dir, { recursive: true, force: true }));
    const cluster = await tb.createCluster('copy');
    const node = `${cluster.name}-control-plane`;
    const ops = new KubeOps();
    onCleanup(async () => ops.close());
    const target = { context: cluster.context, kubeconfigPaths: [tb.kubeconfigPath] };
    const pod = 'bench-copy';
    await ops.createPod(target, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod },
      spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: tb.image, command: ['sleep', '3600'] }] },
    });
    await poll('the pod to run', 30_000, async () => {
      const r = await ops.getPod(target, 'default', pod);
      return r.ok && r.value.phase === 'Running' ? true : undefined;
    });
    const env = tb.env();
    /** Files and bytes under a folder of the node container, as its own find/du see them. */
    const inNode = async (path: string): Promise<{ files: number; bytes: number }> => {
      const out = await runCommand('docker', ['exec', node, 'sh', '-c', `find ${path} -type f | wc -l; find ${path} -type f -exec cat {} + | wc -c`], env);
      const [files = 0, bytes = 0] = out.trim().split(/\s+/).map(Number);
      return { files, bytes };
    };
    const kindtrayMs: number[] = [];
    const dockerMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const taskId = `t-bench${i}`;
      const started = performance.now();
      const r = await copyTaskFiles({ ops, target, namespace: 'default', note: () => undefined }, { resources: { ports: [] }, envs: {}, numNodes: 1, workdir: folder.dir }, taskId, [pod], new AbortController().signal);
      if (!r.ok) throw new Error(r.reason);
      kindtrayMs.push(performance.now() - started);
      const got = await inNode('/root/sky_workdir');
      if (got.files !== folder.files || got.bytes !== folder.bytes) throw new Error(`the Pod has ${got.files} files, ${got.bytes} bytes; expected ${folder.files}, ${folder.bytes}`);
      await runCommand('docker', ['exec', node, 'rm', '-rf', '/root/sky_workdir'], env);

      const t = performance.now();
      await runCommand('docker', ['cp', `${folder.dir}/.`, `${node}:/tmp/dockercp`], env);
      dockerMs.push(performance.now() - t);
      const copied = await inNode('/tmp/dockercp');
      if (copied.files !== folder.files || copied.bytes !== folder.bytes) throw new Error(`docker cp left ${copied.files} files, ${copied.bytes} bytes`);
      await runCommand('docker', ['exec', node, 'rm', '-rf', '/tmp/dockercp'], env);
      log(`workdir-copy: run ${i + 1}: Kindtray ${round(kindtrayMs[i] ?? 0, 0)} ms, docker cp ${round(dockerMs[i] ?? 0, 0)} ms`);
    }
    const k = stats(kindtrayMs);
    const d = stats(dockerMs);
    const mbps = (msTaken: number) => round(folder.bytes / MB / (msTaken / 1000), 1);
    const results = {
      folder: { files: folder.files, folders: FOLDERS, bytes: folder.bytes, fileBytes: FILE_BYTES },
      runs: RUNS,
      kindtray: { ms: k, mbPerS: mbps(k.median), path: 'tar archives of 8 MB through the exec API (WebSocket v5) from the Kubernetes child, into tar xf - in the Pod' },
      dockerCp: { ms: d, mbPerS: mbps(d.median), path: 'docker cp (the Docker API archive upload) into the node container' },
      ratio: round(mbps(k.median) / mbps(d.median), 2),
      loadAverage: loadAverage(),
    };
    writeResult('workdir-copy', results, [
      {
        metric: `workdir copy into a Pod (${round(folder.bytes / MB, 0)} MB, ${folder.files} files)`,
        value: `${results.kindtray.mbPerS} MB/s (median of ${RUNS}, ${round(k.median / 1000, 2)} s)`,
        reference: `docker cp of the same folder into the node: ${results.dockerCp.mbPerS} MB/s (${round(d.median / 1000, 2)} s); ratio ${results.ratio}`,
      },
    ]);
    log(`workdir-copy: Kindtray ${results.kindtray.mbPerS} MB/s, docker cp ${results.dockerCp.mbPerS} MB/s`);
  });
}
