// The Kubernetes child process: the only place Kindtray runs the Kubernetes
// client. It answers probes (for the supervisor's prober) and task operations
// (for the API worker), each request on its own, each under its deadline. Its
// parent never runs the client: some auth providers block their event loop
// (gcp and azure run their command with execSync), and only a process can be
// killed. Which contexts share a child is credentials.ts's business.
//
// Started through electron/process (child_process.fork, or Electron's
// utilityProcess); it talks over the parent's IPC channel or `parentPort`.
//
// The client (@kubernetes/client-node, about 60 MiB) is loaded on first use:
// task operations need it, and probes of contexts Node's https cannot speak
// to (probe-reads.ts); a child that only probes KinD and exec-plugin
// contexts never loads it. A parent whose requests all need it asks for it at
// start (KUBE_CHILD_PRELOAD_ENV), so that loading it eats no request's deadline.

import { enableCompileCache, flushCompileCache } from 'node:module';
import { KUBE_CHILD_ENV, KUBE_CHILD_PRELOAD_ENV, kubeChildRequestSchema, type KubeChildMessage } from '../../shared/contracts/kube-child.ts';
import { parentChannel } from '../process/index.ts';
import type { KubeHooks } from './exec-plugin.ts';
import { followLog } from './log-follow.ts';
import { runOp } from './ops.ts';
import { probeContext, type LoadClientNode } from './probe.ts';

async function serve(): Promise<void> {
  // Starting fast matters: a replaced child must be ready before the next deadline.
  enableCompileCache?.();
  let client: ReturnType<LoadClientNode> | undefined;
  const loadClient: LoadClientNode = () => (client ??= import('@kubernetes/client-node'));
  if (process.env[KUBE_CHILD_PRELOAD_ENV] === '1') await loadClient();
  const parent = parentChannel();
  const send = (m: KubeChildMessage): void => parent.send(m);
  /** Followed logs, by request id: their stop. */
  const streams = new Map<number, () => void>();
  parent.onMessage((raw) => {
    const parsed = kubeChildRequestSchema.safeParse(raw);
    if (!parsed.success) {
      process.stderr.write(`kindtray kube child: ignored a message that is not a request: ${parsed.error.message}\n`);
      return;
    }
    const req = parsed.data;
    const hooks: KubeHooks = {
      phase: (phase) => send({ type: 'phase', id: req.id, phase }),
      plugin: (pgid, running) => send({ type: 'plugin', pgid, running }),
    };
    if (req.type === 'log-stop') {
      streams.get(req.id)?.();
      return;
    }
    if (req.type === 'log-follow') {
      const stop = followLog(loadClient, req, (m) => {
        if (m.type === 'log-end') streams.delete(req.id);
        send(m);
      }, hooks);
      streams.set(req.id, stop);
      return;
    }
    if (req.type === 'probe') {
      void probeContext(loadClient, req, hooks).then((result) => send({ type: 'probe-result', id: req.id, result }));
      return;
    }
    hooks.phase('authenticating');
    void loadClient()
      .then((k8s) => runOp(k8s, req, hooks))
      .then(
        (r) => send(r.ok ? { type: 'op-result', id: req.id, ok: true, value: r.value } : { type: 'op-result', id: req.id, ok: false, error: r.error }),
        (e: unknown) => send({ type: 'op-result', id: req.id, ok: false, error: { kind: 'api', message: `${req.target.context}: the Kubernetes client could not load: ${(e as Error).message}` } }),
      );
  });
  // The parent is gone: nothing to answer to.
  parent.onDisconnect(() => process.exit(0));
  send({ type: 'ready', pid: process.pid });
  // Children are ended with SIGKILL, which writes no cache: write it now, so the next child skips type stripping (about 17 MiB).
  flushCompileCache?.();
}

if (process.env[KUBE_CHILD_ENV] === '1') void serve();
