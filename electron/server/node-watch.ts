// Watching a task's nodes (its Pods, one a node) until its stage ends: each
// poll reads every Pod, records each node's state and IP in the task, gives
// the nodes each other's IPs once all have one (node-plan.ts), and decides for
// the task as SkyPilot's job does: running once every node runs, succeeded
// once every node exited 0, failed as soon as one node fails (the others are
// stopped). Run starts on no node before setup succeeded on all: once every
// node's container has started (its startupProbe saw its setup finish), the
// nodes are told so (node-plan.ts); a node that fails before that failed in
// setup. Launch bounds, lost contact and image-pull trouble are as for one
// Pod: a task never stays launching past its bounds.

import { isFinalTaskState } from '../../shared/api.ts';
import type { TaskNode, TaskState } from '../../shared/api.ts';
import { formatMs } from '../../shared/deadline.ts';
import { sleep } from './launcher-kube.ts';
import type { KubeOpResult, KubeTarget, PodInfo, TaskKubeOps } from './launcher-kube.ts';
import { NODE_IPS_ANNOTATION, NODES_SET_UP_ANNOTATION, nodeIpsText, nodesOutcome } from './node-plan.ts';
import { podVerdict } from './pod-plan.ts';
import type { PodVerdict } from './pod-plan.ts';
import { endpointsReadiness } from './readiness.ts';
import type { TaskStore } from './store.ts';
import type { LauncherTimings, Watch } from './task-life.ts';
import type { StoredTask, TransitionOptions } from './task-model.ts';

export interface NodeWatchDeps {
  store: TaskStore;
  ops: TaskKubeOps;
  timings: LauncherTimings;
  target: (task: StoredTask) => KubeTarget;
  move: (id: string, to: TaskState, opts: TransitionOptions) => StoredTask | undefined;
  changed: (task: StoredTask) => void;
  deleteResources: (task: StoredTask) => Promise<string | undefined>;
  /** The stage's end, once every node's log is drained. */
  finish: (task: StoredTask, verdict: PodVerdict & { kind: 'succeeded' | 'failed' }, podName: string) => Promise<void>;
  drain: (task: StoredTask, node: TaskNode) => Promise<void>;
}

/** A node's state from its Pod's verdict. */
function nodeFrom(node: TaskNode, pod: PodInfo, verdict: PodVerdict): TaskNode {
  const next: TaskNode = { rank: node.rank, podName: node.podName, state: 'pending' };
  const ip = pod.podIP ?? node.ip;
  if (ip) next.ip = ip;
  if (verdict.kind === 'running') next.state = 'running';
  else if (verdict.kind === 'succeeded') Object.assign(next, { state: 'succeeded', exitCode: verdict.exitCode });
  else if (verdict.kind === 'failed') Object.assign(next, { state: 'failed', reason: verdict.reason }, verdict.exitCode !== undefined && { exitCode: verdict.exitCode });
  else if (verdict.kind === 'stuck') next.reason = verdict.reason;
  else if (verdict.detail) next.reason = verdict.detail;
  return next;
}

const sameNodes = (a: readonly TaskNode[], b: readonly TaskNode[]): boolean => JSON.stringify(a) === JSON.stringify(b);

export async function watchNodes(deps: NodeWatchDeps, watch: Watch, initial: StoredTask, nodes0: TaskNode[], launchingSince: number, logStop: AbortController): Promise<void> {
  const { store, ops, timings: t } = deps;
  const signal = watch.abort.signal;
  let task = initial;
  let nodes = nodes0;
  let interval = task.state === 'running' ? t.runningPollMs : t.launchingPollMs;
  let errorWait = 0;
  let lostContactNoted = false;
  let ipsGiven = false;
  let ipsTroubleNoted = false;
  let setUp = false;
  let setUpTroubleNoted = false;
  let pullTroubleSince: number | undefined;
  const failWith = async (reason: string) => {
    logStop.abort();
    const leftovers = await deps.deleteResources(task);
    deps.move(task.id, 'failed', { reason: `${reason}${leftovers ? `; ${leftovers}` : ''}` });
  };
  while (!signal.aborted) {
    const reads = await Promise.all(nodes.map((n) => ops.getPod(deps.target(task), task.namespace, n.podName)));
    if (signal.aborted || watch.cancelling) return;
    const now = store.get(task.id);
    if (!now || isFinalTaskState(now.state)) return;
    task = now;

    const gone = reads.findIndex((r) => !r.ok && r.error.kind === 'not-found');
    if (gone >= 0) {
      await failWith(`pod ${nodes[gone]?.podName ?? '?'} disappeared (deleted outside Kindtray, or its node went away)`);
      return;
    }
    const trouble = reads.find((r): r is Extract<KubeOpResult<PodInfo>, { ok: false }> => !r.ok);
    if (trouble) {
      if (task.state === 'launching' && Date.now() - launchingSince > t.createBoundMs + t.startBoundMs) {
        await failWith(`could not confirm that pod ${nodes[reads.indexOf(trouble)]?.podName ?? '?'} started: ${trouble.error.message}`);
        return;
      }
      if (!lostContactNoted) store.note(task.id, `lost contact with ${task.context}: ${trouble.error.message}; still trying`);
      lostContactNoted = true;
      errorWait = Math.min(Math.max(errorWait * 2, interval), t.errorBackoffMaxMs);
      await sleep(errorWait, signal);
      continue;
    }
    if (lostContactNoted) store.note(task.id, `${task.context} answers again`);
    lostContactNoted = false;
    errorWait = 0;

    const pods = reads.map((r) => (r.ok ? r.value : undefined)).filter((p): p is PodInfo => p !== undefined);
    // What the nodes were told is on the Pods themselves: a watch taken up after a restart reads it there.
    const toldAll = (key: string) => pods.length === nodes.length && pods.every((p) => p.annotations?.[key] !== undefined);
    ipsGiven ||= nodes.length > 1 && toldAll(NODE_IPS_ANNOTATION);
    setUp ||= nodes.length > 1 && toldAll(NODES_SET_UP_ANNOTATION);
    const verdicts = pods.map(podVerdict);
    const head = pods[0];
    const readied = head ? endpointsReadiness(task, head) : undefined;
    if (readied) deps.changed((task = store.update(task.id, { endpoints: readied }) ?? task));
    const seen = nodes.map((n, i) => {
      const pod = pods[i];
      const verdict = verdicts[i];
      const next = pod && verdict ? nodeFrom(n, pod, verdict) : n;
      // Between the IPs and the word that all are set up, a node that ends has failed its setup: run started nowhere.
      if (ipsGiven && !setUp && next.state === 'failed') next.reason = `failed in setup (${next.reason ?? 'failed'}); run started on no node`;
      // A running node of several says where it is before its run: the task page shows it.
      if (nodes.length > 1 && !setUp && next.state === 'running' && next.reason === undefined) next.reason = beforeRun(ipsGiven, pod?.container?.started === true);
      return next;
    });
    if (!sameNodes(seen, nodes)) {
      nodes = seen;
      const updated = store.update(task.id, { nodes });
      if (updated) deps.changed((task = updated));
    }
    if (!ipsGiven && nodes.length > 1) {
      const given = await giveIps(deps, task, nodes);
      if (typeof given === 'string') {
        if (!ipsTroubleNoted) store.note(task.id, `could not give the nodes their IPs yet: ${given}; trying again`);
        ipsTroubleNoted = true;
      } else ipsGiven = given;
    }
    if (ipsGiven && !setUp && pods.length === nodes.length && pods.every((p) => p.container?.state === 'running' && p.container.started === true)) {
      const told = await tellSetUp(deps, task, nodes);
      if (told === true) setUp = true;
      else if (!setUpTroubleNoted) {
        store.note(task.id, `could not tell the nodes that setup finished on all of them yet: ${told}; trying again`);
        setUpTroubleNoted = true;
      }
    }

    const outcome = nodesOutcome(nodes);
    if (outcome.kind === 'failed' || outcome.kind === 'succeeded') {
      logStop.abort();
      if (outcome.kind === 'failed') nodes = await stopOthers(deps, task, nodes);
      await Promise.all(nodes.map((n) => deps.drain(task, n)));
      const verdict: PodVerdict & { kind: 'succeeded' | 'failed' } =
        outcome.kind === 'succeeded' ? { kind: 'succeeded', exitCode: 0 } : { kind: 'failed', reason: outcome.reason, ...(outcome.exitCode !== undefined && { exitCode: outcome.exitCode }) };
      await deps.finish(task, verdict, nodes[0]?.podName ?? '');
      return;
    }
    if (outcome.kind === 'running') {
      if (task.state === 'launching') {
        const which = nodes.length > 1 ? `all ${nodes.length} nodes are running` : `pod ${nodes[0]?.podName ?? ''} is running`;
        const moved = deps.move(task.id, 'running', { message: which });
        if (moved) task = moved;
        interval = t.runningPollMs;
      } else {
        interval = Math.min(Math.round(interval * 1.5), t.runningPollMaxMs);
      }
    } else {
      const stuck = verdicts.find((v): v is Extract<PodVerdict, { kind: 'stuck' }> => v.kind === 'stuck');
      if (stuck) {
        pullTroubleSince ??= Date.now();
        if (stuck.permanent || Date.now() - pullTroubleSince > t.imagePullGraceMs) {
          await failWith(stuck.reason);
          return;
        }
      } else {
        pullTroubleSince = undefined;
      }
      if (Date.now() - launchingSince > t.createBoundMs + t.startBoundMs) {
        const waiting = nodes.find((n) => n.state === 'pending') ?? nodes[0];
        const detail = waiting?.reason ? ` (${waiting.reason})` : '';
        await failWith(`pod ${waiting?.podName ?? ''} did not start within ${formatMs(t.startBoundMs)}${detail}`);
        return;
      }
      interval = t.launchingPollMs;
    }
    await sleep(interval, signal);
  }
}

/** Writes SKYPILOT_NODE_IPS into every node's annotation once all have an IP: true once every node has it, false before all have an IP, else what failed. */
async function giveIps(deps: NodeWatchDeps, task: StoredTask, nodes: readonly TaskNode[]): Promise<boolean | string> {
  const ips = nodeIpsText(nodes);
  if (ips === undefined) return false;
  const results = await Promise.all(nodes.map((n) => deps.ops.annotatePod(deps.target(task), task.namespace, n.podName, { [NODE_IPS_ANNOTATION]: ips })));
  const failed = results.find((r) => !r.ok);
  // Tried again on the next poll (a Pod that went away is that poll's business).
  if (failed && !failed.ok) return failed.error.message;
  deps.store.note(task.id, `node IPs given to the ${nodes.length} nodes: ${ips.split('\n').join(', ')}`);
  return true;
}

/** Where a running node of a multi-node task is before its run starts. */
function beforeRun(ipsGiven: boolean, started: boolean): string {
  if (started) return 'set up; waiting for the other nodes to finish setup';
  return ipsGiven ? 'running setup' : 'waiting for the other nodes\' IPs';
}

/** Every node finished setup: each is told, and goes on to run. True once all were told, else what failed. */
async function tellSetUp(deps: NodeWatchDeps, task: StoredTask, nodes: readonly TaskNode[]): Promise<true | string> {
  const results = await Promise.all(nodes.map((n) => deps.ops.annotatePod(deps.target(task), task.namespace, n.podName, { [NODES_SET_UP_ANNOTATION]: `${nodes.length}` })));
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) return failed.error.message;
  deps.store.note(task.id, `setup finished on all ${nodes.length} nodes; run starts on each`);
  return true;
}

/** One node failed: the others still running are stopped, as SkyPilot cancels the rest of the job. */
async function stopOthers(deps: NodeWatchDeps, task: StoredTask, nodes: TaskNode[]): Promise<TaskNode[]> {
  const running = nodes.filter((n) => n.state === 'running' || n.state === 'pending');
  if (running.length === 0) return nodes;
  await Promise.all(running.map((n) => deps.ops.deletePod(deps.target(task), task.namespace, n.podName, { gracePeriodSeconds: deps.timings.cancelGraceSeconds })));
  const stopped = nodes.map((n): TaskNode => (running.includes(n) ? { ...n, state: 'cancelled', reason: 'stopped: another node failed' } : n));
  const updated = deps.store.update(task.id, { nodes: stopped });
  if (updated) deps.changed(updated);
  return stopped;
}
