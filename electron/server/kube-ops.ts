// Task operations on Kubernetes (create and delete a task's Pod and Service,
// read a Pod's status and log), as the API worker asks for them. The client
// runs in a Kubernetes child process (electron/kube); it can block its event
// loop (legacy auth providers run execSync) and sets no timeout of its own, so
// the caller here keeps every deadline, authentication included, and kills and
// replaces the child (its process group, credential plugins too) when one is
// breached.
//
// Children by risk, not by count: every context with static credentials or an
// exec plugin shares one child; a context whose credentials can block a
// process has its own, so that it costs its own child, never another
// cluster's requests. Children start on first use and end when idle.

import type { V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { DEADLINES, KUBE_CHILD_IDLE_MS } from '../../shared/constants.ts';
import { OP_VALUE_SCHEMAS, type KubeObject, type KubeOp, type KubeOpErrorKind, type KubeOpResult, type KubeTarget, type OpRequest } from '../../shared/contracts/kube-ops.ts';
import type { DeleteInfo, ExecResult, LogRead, OpPhase, PodInfo, ReadLogOptions, ServiceInfo } from '../../shared/contracts/kube-ops.ts';
import { formatMs } from '../../shared/deadline.ts';
import { kubeChildKey, loadKubeconfigCached, startKubeChild, type KubeChild } from '../kube/index.ts';
import { describeExit, killProcessGroup, type ChildLauncher } from '../process/index.ts';

export * from '../../shared/contracts/kube-ops.ts';
export { kubeconfigPaths as defaultKubeconfigPaths, logSlice } from '../kube/index.ts';

export interface OpOptions {
  /** Default DEFAULT_KUBE_OP_DEADLINE_MS. */
  deadlineMs?: number;
}

/** Every operation, authentication included. */
export const DEFAULT_KUBE_OP_DEADLINE_MS = DEADLINES.kubeProbe;
/** At most this many requests of one context wait in its child (each under its deadline); more answer at once that the context is overloaded. Sized for a burst of 100 launches with their status and log polls. */
export const MAX_IN_FLIGHT_PER_CONTEXT = 256;
/** A child silent this long past a deadline (its answer given to the caller already) is killed and replaced. */
export const CHILD_GRACE_MS = 500;

export interface KubeOpsOptions {
  deadlineMs?: number;
  /** How to start a child. Default forkLauncher. */
  launch?: ChildLauncher;
  /** A child with nothing to do for this long is ended. Default KUBE_CHILD_IDLE_MS. */
  idleMs?: number;
  /** How long past a deadline a silent child may still answer before it is replaced. Default CHILD_GRACE_MS. */
  graceMs?: number;
  /** Told each time a child is killed for a breached deadline (for logs and tests). */
  onChildReplaced?: (context: string, why: string) => void;
}

interface Pending {
  id: number;
  context: string;
  op: KubeOp;
  phase: OpPhase | 'starting';
  settle: (r: KubeOpResult<unknown>) => void;
}

interface OpsChild {
  /** Which contexts it serves: SHARED_KUBE_CHILD, or one context's name. */
  key: string;
  process: KubeChild;
  ready: Promise<boolean>;
  pending: Map<number, Pending>;
  /** Requests answered at their deadline whose child has not answered yet, with the timer that kills it. */
  overdue: Map<number, { timer: ReturnType<typeof setTimeout>; context: string; message: string; why: string }>;
  /** Credential plugins it runs, each in its own process group. */
  plugins: Set<number>;
  idleTimer?: ReturnType<typeof setTimeout>;
  dead: boolean;
}

export interface KubeOpsStats {
  /** Children started. */
  started: number;
  /** Children killed because a request breached its deadline. */
  replaced: number;
  /** Children ended because they had nothing to do. */
  idled: number;
  /** Live children's pids by key: SHARED_KUBE_CHILD, or the name of a context with a child of its own. */
  live: Record<string, number | undefined>;
}

export class KubeOps {
  private readonly children = new Map<string, OpsChild>();
  private readonly deadlineMs: number;
  private readonly launch: ChildLauncher | undefined;
  private readonly idleMs: number;
  private readonly graceMs: number;
  private readonly onChildReplaced: ((context: string, why: string) => void) | undefined;
  private nextId = 1;
  private closed = false;
  private counts = { started: 0, replaced: 0, idled: 0 };

  constructor(opts: KubeOpsOptions = {}) {
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_KUBE_OP_DEADLINE_MS;
    this.launch = opts.launch;
    this.idleMs = opts.idleMs ?? KUBE_CHILD_IDLE_MS;
    this.graceMs = opts.graceMs ?? CHILD_GRACE_MS;
    this.onChildReplaced = opts.onChildReplaced;
  }

  stats(): KubeOpsStats {
    const live: Record<string, number | undefined> = {};
    for (const [key, c] of this.children) live[key] = c.process.pid;
    return { ...this.counts, live };
  }

  createPod(target: KubeTarget, namespace: string, pod: V1Pod, opts?: OpOptions): Promise<KubeOpResult<PodInfo>> {
    return this.run(target, { kind: 'createPod', namespace, pod: pod as unknown as KubeObject }, opts);
  }

  createService(target: KubeTarget, namespace: string, service: V1Service, opts?: OpOptions): Promise<KubeOpResult<ServiceInfo>> {
    return this.run(target, { kind: 'createService', namespace, service: service as unknown as KubeObject }, opts);
  }

  /** A Pod already gone answers `{ existed: false }`. */
  deletePod(target: KubeTarget, namespace: string, name: string, opts?: OpOptions & { gracePeriodSeconds?: number }): Promise<KubeOpResult<DeleteInfo>> {
    const op: KubeOp = { kind: 'deletePod', namespace, name };
    if (opts?.gracePeriodSeconds !== undefined) op.gracePeriodSeconds = opts.gracePeriodSeconds;
    return this.run(target, op, opts);
  }

  deleteService(target: KubeTarget, namespace: string, name: string, opts?: OpOptions): Promise<KubeOpResult<DeleteInfo>> {
    return this.run(target, { kind: 'deleteService', namespace, name }, opts);
  }

  /** A task's Secret (its secrets, for the Pod's secretKeyRef). The answer is its name, never its values. */
  createSecret(target: KubeTarget, namespace: string, secret: V1Secret, opts?: OpOptions): Promise<KubeOpResult<{ name: string }>> {
    return this.run(target, { kind: 'createSecret', namespace, secret: secret as unknown as KubeObject }, opts);
  }

  deleteSecret(target: KubeTarget, namespace: string, name: string, opts?: OpOptions): Promise<KubeOpResult<DeleteInfo>> {
    return this.run(target, { kind: 'deleteSecret', namespace, name }, opts);
  }

  getPod(target: KubeTarget, namespace: string, name: string, opts?: OpOptions): Promise<KubeOpResult<PodInfo>> {
    return this.run(target, { kind: 'getPod', namespace, name }, opts);
  }

  /** Merges `annotations` into the Pod's (a merge patch); answers the Pod as it is then. */
  annotatePod(target: KubeTarget, namespace: string, name: string, annotations: Record<string, string>, opts?: OpOptions): Promise<KubeOpResult<PodInfo>> {
    return this.run(target, { kind: 'annotatePod', namespace, name, annotations }, opts);
  }

  /** Runs `command` in the Pod's container with `stdin` sent whole (file copies: `tar xf -`); the deadline covers it all. */
  exec(target: KubeTarget, namespace: string, pod: string, command: string[], opts: OpOptions & { stdin?: Uint8Array; container?: string } = {}): Promise<KubeOpResult<ExecResult>> {
    return this.run(target, { kind: 'exec', namespace, name: pod, command, ...(opts.stdin ? { stdin: opts.stdin } : {}), ...(opts.container ? { container: opts.container } : {}) }, opts);
  }

  /** Pods matching a label selector (`kindtray.dev/task=t-…`), in one namespace or all. */
  listTaskPods(target: KubeTarget, labelSelector: string, opts?: OpOptions & { namespace?: string }): Promise<KubeOpResult<PodInfo[]>> {
    const op: KubeOp = { kind: 'listPods', labelSelector };
    if (opts?.namespace !== undefined) op.namespace = opts.namespace;
    return this.run(target, op, opts);
  }

  /**
   * The Pod's log from byte `sinceBytes` on. The API has no byte offset, so
   * the child reads the whole log and sends only the new bytes across.
   */
  readLog(target: KubeTarget, namespace: string, pod: string, opts: ReadLogOptions & OpOptions = {}): Promise<KubeOpResult<LogRead>> {
    const op: KubeOp = { kind: 'readLog', namespace, name: pod, sinceBytes: opts.sinceBytes ?? 0, stableTail: opts.stableTail ?? false };
    if (opts.container !== undefined) op.container = opts.container;
    return this.run(target, op, opts);
  }

  /** Ends every child. In-flight requests answer `client-crashed`. */
  close(): void {
    this.closed = true;
    for (const child of [...this.children.values()]) this.kill(child, 'Kindtray is shutting down');
  }

  private async run<K extends KubeOp['kind'], T>(target: KubeTarget, op: KubeOp & { kind: K }, opts?: OpOptions): Promise<KubeOpResult<T>> {
    const context = target.context;
    if (this.closed) return fail('client-crashed', `${context}: the Kubernetes client is shut down`);
    const deadlineMs = opts?.deadlineMs ?? this.deadlineMs;
    const child = this.childFor(kubeChildKey(loadKubeconfigCached(target.kubeconfigPaths), context));
    const waiting = [...child.pending.values()].filter((p) => p.context === context).length;
    if (waiting >= MAX_IN_FLIGHT_PER_CONTEXT) {
      return fail('deadline', `${context}: ${waiting} requests are already waiting on its API; not sending more`);
    }
    const id = this.nextId++;
    const result = await new Promise<KubeOpResult<unknown>>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const entry: Pending = {
        id,
        context,
        op,
        phase: 'starting',
        settle: (r) => {
          clearTimeout(timer);
          child.pending.delete(id);
          this.armIdle(child);
          resolve(r);
        },
      };
      child.pending.set(id, entry);
      clearTimeout(child.idleTimer);
      void child.ready.then((ok) => {
        if (!child.pending.has(id)) return;
        if (!ok) return; // the child's end settles every pending request
        // The deadline starts when the request is handed over: loading the client has its own bound.
        timer = setTimeout(() => {
          const what = entry.phase === 'authenticating' ? 'authentication did not finish' : 'no answer from its API';
          const message = `${context}: ${what} in ${formatMs(deadlineMs)}`;
          // The caller has its answer now. The child gets a little grace for its own (late) one;
          // silent past that, its event loop is stuck, and it is replaced.
          entry.settle(fail('deadline', message));
          const why = `${message} (while ${describeOp(op)})`;
          const timer = setTimeout(() => {
            if (child.overdue.has(id)) this.replace(child, context, message, why);
          }, this.graceMs);
          child.overdue.set(id, { timer, context, message, why });
        }, deadlineMs);
        entry.phase = 'authenticating';
        const request: OpRequest = { type: 'op', id, target, deadlineMs, op };
        child.process.send(request);
      });
    });
    if (!result.ok) return result;
    const parsed = OP_VALUE_SCHEMAS[op.kind].safeParse(result.value);
    if (!parsed.success) return fail('api', `${context}: the Kubernetes client process answered ${op.kind} with something unexpected: ${parsed.error.message}`);
    return { ok: true, value: parsed.data as T };
  }

  private childFor(key: string): OpsChild {
    const existing = this.children.get(key);
    const owing = existing?.overdue.values().next().value;
    // A child that owes an answer past its deadline is stuck or nearly so: new work goes to a fresh one.
    if (existing && owing) this.replace(existing, owing.context, owing.message, owing.why);
    else if (existing && !existing.dead) return existing;
    const proc = startKubeChild({ preloadClient: true, ...(this.launch ? { launch: this.launch } : {}) });
    this.counts.started++;
    const child: OpsChild = { key, process: proc, pending: new Map(), overdue: new Map(), plugins: new Set(), dead: false, ready: Promise.resolve(false) };
    child.ready = proc.ready.then(
      () => true,
      (e: unknown) => {
        // Not started in time (the process room kills it) or exited first: either way its requests are lost.
        this.kill(child, `the Kubernetes client process: ${(e as Error).message}`);
        return false;
      },
    );
    proc.onMessage((m) => {
      if (m.type === 'phase') {
        const p = child.pending.get(m.id);
        if (p) p.phase = m.phase;
      } else if (m.type === 'plugin') {
        if (m.running) child.plugins.add(m.pgid);
        else child.plugins.delete(m.pgid);
      } else if (m.type === 'op-result') {
        const late = child.overdue.get(m.id);
        if (late) {
          // Late, but alive: no need to replace it.
          clearTimeout(late.timer);
          child.overdue.delete(m.id);
          this.armIdle(child);
        }
        child.pending.get(m.id)?.settle(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error });
      }
    });
    proc.onExit((exit) => this.forget(child, `the Kubernetes client process exited (${describeExit(exit)})`));
    this.children.set(key, child);
    return child;
  }

  private armIdle(child: OpsChild): void {
    clearTimeout(child.idleTimer);
    if (child.dead || child.pending.size > 0 || child.overdue.size > 0) return;
    child.idleTimer = setTimeout(() => {
      if (child.pending.size > 0) return;
      this.counts.idled++;
      this.kill(child, 'idle');
    }, this.idleMs);
    child.idleTimer.unref();
  }

  /** Kills a child that missed a deadline, and counts it. */
  private replace(child: OpsChild, context: string, message: string, why: string): void {
    if (child.dead) return;
    this.counts.replaced++;
    this.onChildReplaced?.(context, message);
    this.kill(child, why);
  }

  /** Kills the child's whole process group and its plugins' groups, and fails what was in it. */
  private kill(child: OpsChild, why: string): void {
    if (!child.dead) child.process.kill();
    for (const pgid of child.plugins) killProcessGroup(pgid);
    this.forget(child, why);
  }

  private forget(child: OpsChild, why: string): void {
    child.dead = true;
    clearTimeout(child.idleTimer);
    for (const o of child.overdue.values()) clearTimeout(o.timer);
    child.overdue.clear();
    for (const pgid of child.plugins) killProcessGroup(pgid);
    child.plugins.clear();
    if (this.children.get(child.key) === child) this.children.delete(child.key);
    for (const p of [...child.pending.values()]) {
      const said = why.startsWith(`${p.context}: `) ? why : `${p.context}: ${why}`;
      p.settle(fail('client-crashed', `${said}; request ${describeOp(p.op)} was lost`));
    }
  }
}

function describeOp(op: KubeOp): string {
  const object = op.kind === 'createPod' ? op.pod : op.kind === 'createService' ? op.service : op.kind === 'createSecret' ? op.secret : undefined;
  const name = 'name' in op ? op.name : (object?.metadata as { name?: string } | undefined)?.name;
  const words: Record<KubeOp['kind'], string> = {
    createPod: 'creating pod',
    createService: 'creating service',
    deletePod: 'deleting pod',
    deleteService: 'deleting service',
    createSecret: 'creating secret',
    deleteSecret: 'deleting secret',
    getPod: 'reading pod',
    annotatePod: 'annotating pod',
    listPods: 'listing pods',
    readLog: 'reading the log of pod',
    exec: 'running a command in pod',
  };
  return name ? `${words[op.kind]} ${name}` : words[op.kind];
}

export function fail<T>(kind: KubeOpErrorKind, message: string, status?: number): KubeOpResult<T> {
  return { ok: false, error: status === undefined ? { kind, message } : { kind, message, status } };
}
