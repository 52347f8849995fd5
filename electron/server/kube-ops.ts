// Task operations on Kubernetes (create and delete a task's Pod and Service,
// read a Pod's status and log), run by @kubernetes/client-node in a child
// process. The client can block its event loop (legacy auth providers run
// execSync) and sets no timeout of its own, so the caller here keeps every
// deadline, authentication included, and kills and replaces the child (its
// whole process group, credential plugins too) when one is breached.
//
// One child per context: a context whose credential plugin hangs costs its own
// child, never another cluster's requests. Children start on first use and
// exit after a quiet minute. This file is also the protocol: the child imports
// its schemas, and no Kubernetes client code is loaded in this process.

import { homedir } from 'node:os';
import path from 'node:path';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { z } from 'zod';
import { DEADLINES } from '../../shared/constants.ts';
import { formatMs } from '../../shared/deadline.ts';
import { describeExit, forkLauncher, moduleBeside, startChild, type Child, type ChildLauncher } from '../process/index.ts';

// ---------------------------------------------------------------------------
// What callers get

/** Which cluster to talk to: a kubeconfig context, read from these files (KUBECONFIG's list). */
export interface KubeTarget {
  context: string;
  kubeconfigPaths: string[];
}

export const KUBE_OP_ERROR_KINDS = [
  /** No answer within the deadline (authentication included). */
  'deadline',
  /** The API could not be reached: refused, reset, TLS failure, DNS. */
  'unreachable',
  /** The object asked about does not exist. */
  'not-found',
  'namespace-not-found',
  'already-exists',
  /** The API refused the object as written (422, 400). */
  'invalid',
  'unauthorized',
  'forbidden',
  /** The kubeconfig cannot be used for this context. */
  'config',
  /** The log cannot be read yet: the container has not started. */
  'not-started',
  /** The child process died or was replaced while this request was in it. */
  'client-crashed',
  /** Anything else the API answered. */
  'api',
] as const;
export type KubeOpErrorKind = (typeof KUBE_OP_ERROR_KINDS)[number];

export interface KubeOpError {
  kind: KubeOpErrorKind;
  /** In words, naming the context: "kind-dev: no answer from its API in 2 s", "pod kt-web-1 already exists". */
  message: string;
  /** The HTTP status when the API answered. */
  status?: number;
}

export type KubeOpResult<T> = { ok: true; value: T } | { ok: false; error: KubeOpError };

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ContainerInfo {
  name: string;
  state: 'waiting' | 'running' | 'terminated' | 'unknown';
  /** `ContainerCreating`, `ErrImagePull`, `Completed`, `Error`, `OOMKilled`, ... */
  reason?: string;
  message?: string;
  exitCode?: number;
  signal?: number;
  startedAt?: string;
  finishedAt?: string;
  restartCount: number;
}

export interface PodInfo {
  name: string;
  namespace: string;
  uid?: string;
  phase: PodPhase;
  labels: Record<string, string>;
  /** Deletion has been asked for (the Pod is terminating). */
  deleting: boolean;
  /** The Pod's own reason and message (`Evicted`, `DeadlineExceeded`, ...). */
  reason?: string;
  message?: string;
  /** The first container: a task's Pod has one. */
  container?: ContainerInfo;
  /** Why it is not scheduled, from the PodScheduled condition, when it is not. */
  unschedulable?: string;
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  ports: { port: number; targetPort?: number; nodePort?: number }[];
}

export interface DeleteInfo {
  /** False when it was already gone (a 404, which is fine). */
  existed: boolean;
}

export interface LogRead {
  /** The log's bytes from `sinceBytes`, up to `nextOffset`. */
  data: Uint8Array;
  /** The offset to ask from next time. */
  nextOffset: number;
  /** Bytes the log has now, whole. */
  totalBytes: number;
  /** The log is shorter than `sinceBytes`: it was rotated or the container restarted. Data is then from 0. */
  reset: boolean;
}

export interface ReadLogOptions {
  sinceBytes?: number;
  container?: string;
  /** The container still writes: hold back a UTF-8 character cut in two at the end (see logSlice). */
  stableTail?: boolean;
}

export interface OpOptions {
  /** Default DEFAULT_KUBE_OP_DEADLINE_MS. */
  deadlineMs?: number;
}

/** Every operation, authentication included. */
export const DEFAULT_KUBE_OP_DEADLINE_MS = DEADLINES.kubeProbe;
/** Loading the Kubernetes client in a fresh child (about 0.8 s on an idle 2-core machine). */
export const CHILD_START_DEADLINE_MS = 10_000;
/** A child with nothing to do for this long exits. */
export const CHILD_IDLE_MS = 60_000;
/** At most this many requests wait in one child (each under its deadline); more answer at once that the context is overloaded. Sized for a burst of 100 launches with their status and log polls. */
export const MAX_IN_FLIGHT_PER_CONTEXT = 256;
/** A child silent this long past a deadline (its answer given to the caller already) is killed and replaced. */
export const CHILD_GRACE_MS = 500;
/** The child gives up on the HTTP request this much before the parent's deadline, so it can answer in time. */
export const CHILD_ANSWER_MARGIN_MS = 150;

// ---------------------------------------------------------------------------
// The protocol

export type KubeOp =
  | { kind: 'createPod'; namespace: string; pod: V1Pod }
  | { kind: 'createService'; namespace: string; service: V1Service }
  | { kind: 'deletePod'; namespace: string; name: string; gracePeriodSeconds?: number }
  | { kind: 'deleteService'; namespace: string; name: string }
  | { kind: 'getPod'; namespace: string; name: string }
  | { kind: 'listPods'; namespace?: string; labelSelector: string }
  | { kind: 'readLog'; namespace: string; name: string; container?: string; sinceBytes: number; stableTail: boolean };

export interface OpRequest {
  type: 'op';
  id: number;
  target: KubeTarget;
  /** The child answers on its own within this, less CHILD_ANSWER_MARGIN_MS. */
  deadlineMs: number;
  op: KubeOp;
}

const targetSchema = z.object({ context: z.string().min(1), kubeconfigPaths: z.array(z.string()) });
const objectSchema = z.record(z.string(), z.unknown());
export const opRequestSchema = z.object({
  type: z.literal('op'),
  id: z.number().int(),
  target: targetSchema,
  deadlineMs: z.number().positive(),
  op: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('createPod'), namespace: z.string(), pod: objectSchema }),
    z.object({ kind: z.literal('createService'), namespace: z.string(), service: objectSchema }),
    z.object({ kind: z.literal('deletePod'), namespace: z.string(), name: z.string(), gracePeriodSeconds: z.number().int().min(0).optional() }),
    z.object({ kind: z.literal('deleteService'), namespace: z.string(), name: z.string() }),
    z.object({ kind: z.literal('getPod'), namespace: z.string(), name: z.string() }),
    z.object({ kind: z.literal('listPods'), namespace: z.string().optional(), labelSelector: z.string() }),
    z.object({
      kind: z.literal('readLog'),
      namespace: z.string(),
      name: z.string(),
      container: z.string().optional(),
      sinceBytes: z.number().int().min(0),
      stableTail: z.boolean(),
    }),
  ]),
});

const containerInfoSchema = z.object({
  name: z.string(),
  state: z.enum(['waiting', 'running', 'terminated', 'unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  exitCode: z.number().int().optional(),
  signal: z.number().int().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  restartCount: z.number().int(),
}) satisfies z.ZodType<ContainerInfo>;

export const podInfoSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  uid: z.string().optional(),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
  labels: z.record(z.string(), z.string()),
  deleting: z.boolean(),
  reason: z.string().optional(),
  message: z.string().optional(),
  container: containerInfoSchema.optional(),
  unschedulable: z.string().optional(),
}) satisfies z.ZodType<PodInfo>;

const serviceInfoSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  ports: z.array(z.object({ port: z.number().int(), targetPort: z.number().int().optional(), nodePort: z.number().int().optional() })),
}) satisfies z.ZodType<ServiceInfo>;

const logReadSchema = z.object({
  data: z.instanceof(Uint8Array),
  nextOffset: z.number().int().min(0),
  totalBytes: z.number().int().min(0),
  reset: z.boolean(),
}) satisfies z.ZodType<LogRead>;

/** What each operation answers with. */
export const OP_VALUE_SCHEMAS = {
  createPod: podInfoSchema,
  createService: serviceInfoSchema,
  deletePod: z.object({ existed: z.boolean() }),
  deleteService: z.object({ existed: z.boolean() }),
  getPod: podInfoSchema,
  listPods: z.array(podInfoSchema),
  readLog: logReadSchema,
} as const satisfies Record<KubeOp['kind'], z.ZodType>;

const opErrorSchema = z.object({ kind: z.enum(KUBE_OP_ERROR_KINDS), message: z.string(), status: z.number().int().optional() });

export type OpPhase = 'authenticating' | 'requesting';

export type OpChildMessage =
  | { type: 'ready'; pid: number }
  /** Where a request is, so that the parent can say what hung when the child stops answering. */
  | { type: 'phase'; id: number; phase: OpPhase }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: KubeOpError };

export const opChildMessageSchema = z.union([
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('phase'), id: z.number().int(), phase: z.enum(['authenticating', 'requesting']) }),
  z.object({ type: z.literal('result'), id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ type: z.literal('result'), id: z.number().int(), ok: z.literal(false), error: opErrorSchema }),
]);

/** Set in the child's environment: the child module starts its message loop only then. */
export const KUBE_OPS_CHILD_ENV = 'KINDTRAY_KUBE_OPS_CHILD';

// ---------------------------------------------------------------------------
// The parent

/** The child's name in process lists and messages. */
export const KUBE_OPS_NAME = 'Kindtray Kubernetes client';

export interface KubeOpsOptions {
  deadlineMs?: number;
  /** How to start a child. Default forkLauncher. */
  launch?: ChildLauncher;
  idleMs?: number;
  /** How long past a deadline a silent child may still answer before it is replaced. Default CHILD_GRACE_MS. */
  graceMs?: number;
  /** Told each time a child is killed for a breached deadline (for logs and tests). */
  onChildReplaced?: (context: string, why: string) => void;
}

interface Pending {
  id: number;
  op: KubeOp['kind'];
  phase: OpPhase | 'starting';
  settle: (r: KubeOpResult<unknown>) => void;
}

interface OpsChild {
  context: string;
  process: Child<OpChildMessage, true, OpRequest>;
  ready: Promise<boolean>;
  pending: Map<number, Pending>;
  /** Requests answered at their deadline whose child has not answered yet, with the timer that kills it. */
  overdue: Map<number, { timer: ReturnType<typeof setTimeout>; message: string; why: string }>;
  idleTimer?: ReturnType<typeof setTimeout>;
  dead: boolean;
}

export interface KubeOpsStats {
  /** Children started, all contexts. */
  started: number;
  /** Children killed because a request breached its deadline. */
  replaced: number;
  /** Live children by context. */
  live: Record<string, number | undefined>;
}

export class KubeOps {
  private readonly children = new Map<string, OpsChild>();
  private readonly deadlineMs: number;
  private readonly launch: ChildLauncher;
  private readonly idleMs: number;
  private readonly graceMs: number;
  private readonly onChildReplaced: ((context: string, why: string) => void) | undefined;
  private readonly childModule: string;
  private nextId = 1;
  private closed = false;
  private counts = { started: 0, replaced: 0 };

  constructor(opts: KubeOpsOptions = {}) {
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_KUBE_OP_DEADLINE_MS;
    this.launch = opts.launch ?? forkLauncher;
    this.idleMs = opts.idleMs ?? CHILD_IDLE_MS;
    this.graceMs = opts.graceMs ?? CHILD_GRACE_MS;
    this.onChildReplaced = opts.onChildReplaced;
    this.childModule = moduleBeside(import.meta.url, './kube-ops-child');
  }

  stats(): KubeOpsStats {
    const live: Record<string, number | undefined> = {};
    for (const [context, c] of this.children) live[context] = c.process.pid;
    return { ...this.counts, live };
  }

  createPod(target: KubeTarget, namespace: string, pod: V1Pod, opts?: OpOptions): Promise<KubeOpResult<PodInfo>> {
    return this.run(target, { kind: 'createPod', namespace, pod }, opts);
  }

  createService(target: KubeTarget, namespace: string, service: V1Service, opts?: OpOptions): Promise<KubeOpResult<ServiceInfo>> {
    return this.run(target, { kind: 'createService', namespace, service }, opts);
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

  getPod(target: KubeTarget, namespace: string, name: string, opts?: OpOptions): Promise<KubeOpResult<PodInfo>> {
    return this.run(target, { kind: 'getPod', namespace, name }, opts);
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
    const child = this.childFor(context);
    if (child.pending.size >= MAX_IN_FLIGHT_PER_CONTEXT) {
      return fail('deadline', `${context}: ${child.pending.size} requests are already waiting on its API; not sending more`);
    }
    const id = this.nextId++;
    const result = await new Promise<KubeOpResult<unknown>>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const entry: Pending = {
        id,
        op: op.kind,
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
        if (!ok) return; // the child's exit settles every pending request
        // The deadline starts when the request is handed over: loading the client has its own bound.
        timer = setTimeout(() => {
          const what = entry.phase === 'authenticating' ? 'authentication did not finish' : 'no answer from its API';
          const message = `${context}: ${what} in ${formatMs(deadlineMs)}`;
          // The caller has its answer now. The child gets a little grace for its own (late) one;
          // silent past that, its event loop is stuck, and it is replaced.
          entry.settle(fail('deadline', message));
          const why = `${message} (while ${describeOp(op)})`;
          const timer = setTimeout(() => {
            if (child.overdue.has(id)) this.replace(child, message, why);
          }, this.graceMs);
          child.overdue.set(id, { timer, message, why });
        }, deadlineMs);
        entry.phase = 'authenticating';
        const request: OpRequest = { type: 'op', id, target, deadlineMs, op };
        try {
          child.process.send(request);
        } catch (err) {
          entry.settle(fail('client-crashed', `${context}: cannot reach the Kubernetes client process: ${(err as Error).message}`));
        }
      });
    });
    if (!result.ok) return result;
    const parsed = OP_VALUE_SCHEMAS[op.kind].safeParse(result.value);
    if (!parsed.success) return fail('api', `${context}: the Kubernetes client process answered ${op.kind} with something unexpected: ${parsed.error.message}`);
    return { ok: true, value: parsed.data as T };
  }

  private childFor(context: string): OpsChild {
    const existing = this.children.get(context);
    const owing = existing?.overdue.values().next().value;
    // A child that owes an answer past its deadline is stuck or nearly so: new work goes to a fresh one.
    if (existing && owing) this.replace(existing, owing.message, owing.why);
    else if (existing && !existing.dead) return existing;
    const proc = startChild<OpChildMessage, true, OpRequest>({
      launch: this.launch,
      modulePath: this.childModule,
      env: { ...process.env, [KUBE_OPS_CHILD_ENV]: '1' },
      name: KUBE_OPS_NAME,
      messages: opChildMessageSchema,
      isReady: (m) => (m.type === 'ready' ? true : undefined),
      readyDeadlineMs: CHILD_START_DEADLINE_MS,
    });
    this.counts.started++;
    const child: OpsChild = { context, process: proc, pending: new Map(), overdue: new Map(), dead: false, ready: Promise.resolve(false) };
    child.ready = proc.ready.then(
      () => true,
      (e: unknown) => {
        // Not started in time (the layer kills it) or exited first: either way its requests are lost.
        this.kill(child, `${context}: ${(e as Error).message}`);
        return false;
      },
    );
    proc.onMessage((m) => {
      if (m.type === 'phase') {
        const p = child.pending.get(m.id);
        if (p) p.phase = m.phase;
      } else if (m.type === 'result') {
        const late = child.overdue.get(m.id);
        if (late) {
          // Late, but alive: no need to replace it.
          clearTimeout(late.timer);
          child.overdue.delete(m.id);
          this.armIdle(child);
        }
        const p = child.pending.get(m.id);
        if (!p) return;
        p.settle(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error });
      }
    });
    proc.onExit((exit) => this.forget(child, `${context}: the Kubernetes client process exited (${describeExit(exit)})`));
    this.children.set(context, child);
    return child;
  }

  private armIdle(child: OpsChild): void {
    clearTimeout(child.idleTimer);
    if (child.dead || child.pending.size > 0 || child.overdue.size > 0) return;
    child.idleTimer = setTimeout(() => {
      if (child.pending.size === 0) this.kill(child, 'idle');
    }, this.idleMs);
    child.idleTimer.unref();
  }

  /** Kills a child that missed a deadline, and counts it. */
  private replace(child: OpsChild, message: string, why: string): void {
    if (child.dead) return;
    this.counts.replaced++;
    this.onChildReplaced?.(child.context, message);
    this.kill(child, why);
  }

  /** Kills the child's whole process group (plugins included) and fails what was in it. */
  private kill(child: OpsChild, why: string): void {
    if (!child.dead) child.process.kill();
    this.forget(child, why);
  }

  private forget(child: OpsChild, why: string): void {
    child.dead = true;
    clearTimeout(child.idleTimer);
    for (const o of child.overdue.values()) clearTimeout(o.timer);
    child.overdue.clear();
    if (this.children.get(child.context) === child) this.children.delete(child.context);
    for (const p of [...child.pending.values()]) p.settle(fail('client-crashed', `${why}; request ${describeOp({ kind: p.op } as KubeOp)} was lost`));
  }
}

function describeOp(op: Pick<KubeOp, 'kind'> & Partial<{ name: string; pod: V1Pod; service: V1Service }>): string {
  const name = op.name ?? op.pod?.metadata?.name ?? op.service?.metadata?.name;
  const words: Record<KubeOp['kind'], string> = {
    createPod: 'creating pod',
    createService: 'creating service',
    deletePod: 'deleting pod',
    deleteService: 'deleting service',
    getPod: 'reading pod',
    listPods: 'listing pods',
    readLog: 'reading the log of pod',
  };
  return name ? `${words[op.kind]} ${name}` : words[op.kind];
}

export function fail<T>(kind: KubeOpErrorKind, message: string, status?: number): KubeOpResult<T> {
  return { ok: false, error: status === undefined ? { kind, message } : { kind, message, status } };
}

/** KUBECONFIG's files (path-list separated), else ~/.kube/config: what kubectl reads. */
export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const list = (env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p.trim() !== '');
  return list.length > 0 ? list : [path.join(home, '.kube', 'config')];
}
