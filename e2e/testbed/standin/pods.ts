// Runs Pods for real, inside the stand-in's container: each container of a Pod
// is a process (its `command` + `args`, through busybox's sh and applets, with
// the spec's env vars), so phases, exit codes and logs are real. Every process
// shares the container's network, which is what lets a NodePort forward to
// 127.0.0.1:targetPort; each Pod still has an IP of its own on loopback
// (pod-volumes.ts), so Pods reach each other by Pod IP. The runner drives the
// Pod's status through the store, so watchers see Pending → Running →
// Succeeded/Failed as they happen.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ReadinessProber } from './readiness.ts';
import type { ProbeSpec } from './readiness.ts';
import { nextPodIp, writeDownwardVolumes } from './pod-volumes.ts';
import { kubeTime } from './store.ts';
import type { KubeObject, Store } from './store.ts';

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string }; secretKeyRef?: { name?: string; key?: string } } }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
}

interface LogLine {
  time: string;
  text: string;
}

/** One container's process and its log; kept after the process exits, for `logs`. */
class ContainerRun {
  readonly lines: LogLine[] = [];
  private partial = '';
  private readonly followers = new Set<(line: LogLine | null) => void>();
  process: ChildProcess | undefined;
  prober: ReadinessProber | undefined;
  startupProber: ReadinessProber | undefined;
  exited = false;

  append(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.push({ time: new Date().toISOString(), text: part });
  }

  /** The process is gone: flush a last unterminated line and end every follower. */
  finish(): void {
    if (this.partial) this.push({ time: new Date().toISOString(), text: this.partial });
    this.partial = '';
    this.exited = true;
    for (const f of this.followers) f(null);
    this.followers.clear();
  }

  private push(line: LogLine): void {
    this.lines.push(line);
    // A chatty task must not eat the stand-in's memory.
    if (this.lines.length > 50_000) this.lines.splice(0, 10_000);
    for (const f of this.followers) f(line);
  }

  /** Calls `on` for each new line, then with null when the process ends. */
  follow(on: (line: LogLine | null) => void): () => void {
    if (this.exited) {
      on(null);
      return () => {};
    }
    this.followers.add(on);
    return () => this.followers.delete(on);
  }
}

const POD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The container's own address on its Docker network, as a Pod IP (all Pods share it). */
export function containerAddress(): string {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (name === 'lo') continue;
    const v4 = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}

interface PodRun {
  pod: KubeObject;
  containers: Map<string, ContainerRun>;
  restartTimers: Set<NodeJS.Timeout>;
  deleted: boolean;
}

type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; signal?: number; reason: string; message?: string; startedAt?: string; finishedAt: string; containerID: string } };

interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export class PodRunner {
  private readonly runs = new Map<string, PodRun>();
  private readonly store: Store;
  private readonly nodeName: string;
  private ipCursor = 0;

  constructor(store: Store, nodeName: string) {
    this.store = store;
    this.nodeName = nodeName;
  }

  private static key(pod: KubeObject): string {
    return `${pod.metadata.namespace}/${pod.metadata.name}`;
  }

  static containersOf(pod: KubeObject): ContainerSpec[] {
    return (pod.spec?.containers as ContainerSpec[] | undefined) ?? [];
  }

  /** Fills a new Pod's spec defaults and Pending status, and starts its containers on the next tick. */
  admit(pod: KubeObject): void {
    const spec = (pod.spec ??= {});
    spec.nodeName = this.nodeName;
    spec.restartPolicy ??= 'Always';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    const now = kubeTime();
    const statuses: ContainerStatus[] = PodRunner.containersOf(pod).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    }));
    pod.status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
      hostIP: containerAddress(),
      podIP: this.newPodIp(),
      qosClass: 'BestEffort',
      containerStatuses: statuses,
    };
    pod.status.podIPs = [{ ip: pod.status.podIP }];
  }

  /** A Pod IP of its own (pod-volumes.ts), not held by any stored Pod. */
  private newPodIp(): string {
    const held = new Set(this.store.list('pods').map((p) => String(p.status?.podIP ?? '')));
    const { ip, next } = nextPodIp(held, this.ipCursor);
    this.ipCursor = next;
    return ip;
  }

  private static podIp(pod: KubeObject): string {
    return typeof pod.status?.podIP === 'string' ? pod.status.podIP : containerAddress();
  }

  /** The Pod's labels or annotations changed: its downward-API files follow, as the kubelet remounts them. */
  metadataChanged(pod: KubeObject): void {
    writeDownwardVolumes(pod);
  }

  /**
   * Takes over a Pod restored from before a node restart, as the kubelet does
   * when its node comes back: finished Pods stay as they were (their old logs
   * are gone); running ones are restarted when their policy says so, and are
   * otherwise failed as ContainerStatusUnknown.
   */
  adopt(pod: KubeObject): void {
    const run: PodRun = { pod, containers: new Map(), restartTimers: new Set(), deleted: false };
    this.runs.set(PodRunner.key(pod), run);
    writeDownwardVolumes(pod);
    for (const spec of PodRunner.containersOf(pod)) {
      const log = new ContainerRun();
      log.finish();
      run.containers.set(spec.name, log);
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const policy = pod.spec?.restartPolicy;
    const statuses = (pod.status?.containerStatuses as ContainerStatus[] | undefined) ?? [];
    const now = kubeTime();
    for (const st of statuses) {
      if (!('terminated' in st.state)) {
        const previous: ContainerState = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', finishedAt: now, containerID: st.containerID ?? '' } };
        st.lastState = previous;
        st.ready = false;
        st.started = false;
        if (policy === 'Never') st.state = previous;
        else {
          st.state = { waiting: { reason: 'ContainerCreating' } };
          st.restartCount++;
        }
      }
    }
    if (policy === 'Never') {
      this.refreshPod(run);
      return;
    }
    setImmediate(() => {
      for (const spec of PodRunner.containersOf(pod)) {
        const st = this.status(run, spec.name);
        if (st && 'waiting' in st.state) this.startContainer(run, spec);
      }
    });
  }

  /** Starts every container of a stored Pod. */
  start(pod: KubeObject): void {
    const run: PodRun = { pod, containers: new Map(), restartTimers: new Set(), deleted: false };
    this.runs.set(PodRunner.key(pod), run);
    writeDownwardVolumes(pod);
    setImmediate(() => {
      for (const spec of PodRunner.containersOf(pod)) this.startContainer(run, spec);
    });
  }

  private status(run: PodRun, name: string): ContainerStatus | undefined {
    return (run.pod.status?.containerStatuses as ContainerStatus[] | undefined)?.find((s) => s.name === name);
  }

  /** A Secret's key, decoded, as the kubelet gives it to a container; '' when it is missing. */
  private secretValue(namespace: string | undefined, ref: { name?: string; key?: string }): string {
    const data = this.store.get('secrets', namespace ?? 'default', ref.name ?? '')?.data as Record<string, string> | undefined;
    const encoded = data?.[ref.key ?? ''];
    return encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
  }

  private envFor(run: PodRun, spec: ContainerSpec): Record<string, string> {
    const env: Record<string, string> = {
      PATH: POD_PATH,
      HOSTNAME: run.pod.metadata.name,
      HOME: '/root',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    };
    const fields: Record<string, string> = {
      'metadata.name': run.pod.metadata.name,
      'metadata.namespace': run.pod.metadata.namespace ?? 'default',
      'metadata.uid': run.pod.metadata.uid,
      'spec.nodeName': this.nodeName,
      'status.podIP': PodRunner.podIp(run.pod),
      'status.hostIP': containerAddress(),
    };
    for (const e of spec.env ?? []) {
      const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
      const secretRef = e.valueFrom?.secretKeyRef;
      env[e.name] = e.value ?? (fieldPath ? (fields[fieldPath] ?? '') : secretRef ? this.secretValue(run.pod.metadata.namespace, secretRef) : '');
    }
    return env;
  }

  private startContainer(run: PodRun, spec: ContainerSpec): void {
    if (run.deleted) return;
    const log = run.containers.get(spec.name) ?? new ContainerRun();
    run.containers.set(spec.name, log);
    log.exited = false;
    const argv = [...(spec.command ?? []), ...(spec.args ?? [])];
    // busybox's image default command is `sh`; with no stdin it exits at once, as a real one does.
    const [file = 'sh', ...rest] = argv.length ? argv : ['sh'];
    const cwd = spec.workingDir ?? '/';
    const containerID = `containerd://${run.pod.metadata.uid.replace(/-/g, '')}${spec.name}`.slice(0, 77);
    const startedAt = kubeTime();
    try {
      mkdirSync(cwd, { recursive: true });
    } catch {
      // A bad workingDir fails the spawn below with a clear error.
    }
    const child = spawn(file, rest, { cwd, env: this.envFor(run, spec), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    log.process = child;
    child.stdout.setEncoding('utf8').on('data', (d: string) => log.append(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => log.append(d));

    child.once('spawn', () => {
      const st = this.status(run, spec.name);
      if (!st || run.deleted) return;
      st.state = { running: { startedAt } };
      st.containerID = containerID;
      const say = (line: string) => log.append(`${line}\n`);
      const hooks = { exec: (command: string[], timeoutMs: number) => this.execProbe(run, spec, command, timeoutMs) };
      // With a readiness probe, ready only once it passes (readiness.ts); without one, as soon as it has started.
      const startReadiness = () => {
        st.ready = !spec.readinessProbe;
        if (spec.readinessProbe) log.prober = new ReadinessProber(spec.readinessProbe, spec.ports ?? [], PodRunner.podIp(run.pod), (ready) => { st.ready = ready && 'running' in st.state; this.refreshPod(run); }, say, hooks);
      };
      if (spec.startupProbe) {
        // Started only once its startupProbe passes; readiness is probed from then on, as the kubelet does.
        st.started = false;
        st.ready = false;
        log.startupProber = new ReadinessProber(spec.startupProbe, spec.ports ?? [], PodRunner.podIp(run.pod), (passed) => {
          if (!passed || !('running' in st.state)) return;
          st.started = true;
          startReadiness();
          this.refreshPod(run);
        }, say, { ...hooks, giveUp: () => {
          say(`testbed stand-in: startup probe failed ${spec.startupProbe?.failureThreshold ?? 3} times; the container is killed`);
          if (child.pid) killGroup(child.pid, 'SIGKILL');
        } });
      } else {
        st.started = true;
        startReadiness();
      }
      this.refreshPod(run);
    });
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      // ENOENT and friends: the runtime's StartError, exit code 128.
      spawnError = err;
      log.append(`${err.message}\n`);
    });
    child.once('close', (code, signal) => {
      log.prober?.stop();
      log.startupProber?.stop();
      log.finish();
      log.process = undefined;
      const st = this.status(run, spec.name);
      if (!st || run.deleted) return;
      const exitCode = spawnError ? 128 : (code ?? 128 + (SIGNALS[signal ?? ''] ?? 9));
      const terminated: ContainerState = {
        terminated: {
          exitCode,
          ...(signal ? { signal: SIGNALS[signal] ?? 9 } : {}),
          reason: spawnError ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error',
          ...(spawnError ? { message: spawnError.message } : {}),
          startedAt,
          finishedAt: kubeTime(),
          containerID,
        },
      };
      st.ready = false;
      st.started = false;
      const policy = run.pod.spec?.restartPolicy;
      const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
      if (restart) {
        // CrashLoopBackOff with a short, capped backoff: enough to look real, quick enough for tests.
        st.lastState = terminated;
        st.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${spec.name}` } };
        const backoffMs = Math.min(10_000, 1_000 * 2 ** Math.min(st.restartCount, 4));
        const timer = setTimeout(() => {
          run.restartTimers.delete(timer);
          st.restartCount++;
          this.startContainer(run, spec);
        }, backoffMs);
        run.restartTimers.add(timer);
      } else {
        st.state = terminated;
      }
      this.refreshPod(run);
    });
  }

  /** Recomputes phase and conditions from the container states and stores the Pod. */
  private refreshPod(run: PodRun): void {
    const status = run.pod.status ?? {};
    const statuses = (status.containerStatuses as ContainerStatus[] | undefined) ?? [];
    const now = kubeTime();
    const terminated = statuses.map((s) => ('terminated' in s.state ? s.state.terminated : undefined));
    const anyRunning = statuses.some((s) => 'running' in s.state);
    // Waiting to restart after an exit still counts as Running, as the kubelet reports it.
    const anyRestarting = statuses.some((s) => 'waiting' in s.state && 'terminated' in s.lastState);
    let phase: string;
    if (statuses.length > 0 && terminated.every((t) => t !== undefined)) {
      phase = terminated.every((t) => t?.exitCode === 0) ? 'Succeeded' : 'Failed';
    } else if (anyRunning || anyRestarting) {
      phase = 'Running';
    } else {
      phase = 'Pending';
    }
    const ready = statuses.length > 0 && statuses.every((s) => s.ready);
    const done = phase === 'Succeeded' || phase === 'Failed';
    const reason = done ? { reason: 'PodCompleted' } : {};
    status.phase = phase;
    status.podIP = PodRunner.podIp(run.pod);
    status.podIPs = [{ ip: status.podIP }];
    status.startTime ??= now;
    status.conditions = [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now, ...reason },
      { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now, ...reason },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now, ...reason },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
    ];
    run.pod.status = status;
    // The Pod may have been deleted meanwhile; only a stored Pod is updated.
    const stored = this.store.get('pods', run.pod.metadata.namespace, run.pod.metadata.name);
    if (stored === run.pod) this.store.update('pods', run.pod);
  }

  /** An exec probe's command in the container's environment: true on exit 0 within `timeoutMs`. */
  private execProbe(run: PodRun, spec: ContainerSpec, command: string[], timeoutMs: number): Promise<boolean> {
    const [file = 'sh', ...rest] = command;
    return new Promise((resolve) => {
      const child = spawn(file, rest, { cwd: spec.workingDir ?? '/', env: this.envFor(run, spec), stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    });
  }

  /** What an exec into the Pod's running container runs with (exec.ts), or why it cannot, in the apiserver's words. */
  execTarget(pod: KubeObject, container?: string): { env: Record<string, string>; cwd: string } | { error: string } {
    const run = this.runs.get(PodRunner.key(pod));
    const spec = PodRunner.containersOf(pod).find((c) => container === undefined || c.name === container);
    if (!spec) return { error: `container ${container ?? ''} is not valid for pod ${pod.metadata.name}` };
    const phase = String(pod.status?.phase ?? 'Unknown');
    if (phase === 'Succeeded' || phase === 'Failed') return { error: `cannot exec into a container in a completed pod; current phase is ${phase}` };
    if (!run || run.pod !== pod || !run.containers.get(spec.name)?.process) return { error: `unable to upgrade connection: container not found ("${spec.name}")` };
    return { env: this.envFor(run, spec), cwd: spec.workingDir ?? '/' };
  }

  /** The log of one container (the first when none is named), or undefined when the Pod or container is unknown. */
  logOf(pod: KubeObject, container?: string): { run: ContainerRun; name: string } | undefined {
    const run = this.runs.get(PodRunner.key(pod));
    if (!run || run.pod !== pod) return undefined;
    const name = container ?? PodRunner.containersOf(pod)[0]?.name;
    const log = name === undefined ? undefined : run.containers.get(name);
    return log && name !== undefined ? { run: log, name } : undefined;
  }

  /** Stops a Pod's processes: SIGTERM to each process group, SIGKILL after the grace period (capped for tests). */
  stop(pod: KubeObject, graceSeconds?: number): void {
    const key = PodRunner.key(pod);
    const run = this.runs.get(key);
    if (!run || run.pod !== pod) return;
    run.deleted = true;
    this.runs.delete(key);
    for (const t of run.restartTimers) clearTimeout(t);
    const graceMs = Math.min(2_000, 1_000 * (graceSeconds ?? Number(pod.spec?.terminationGracePeriodSeconds ?? 30)));
    for (const c of run.containers.values()) {
      c.prober?.stop();
      c.startupProber?.stop();
      const child = c.process;
      if (!child?.pid) continue;
      killGroup(child.pid, 'SIGTERM');
      if (graceMs <= 0) killGroup(child.pid, 'SIGKILL');
      else setTimeout(() => killGroup(child.pid ?? 0, 'SIGKILL'), graceMs).unref();
    }
  }

  /** On shutdown: kill everything at once, so the container stops promptly. */
  killAll(): void {
    for (const run of this.runs.values()) {
      for (const c of run.containers.values()) if (c.process?.pid) killGroup(c.process.pid, 'SIGKILL');
    }
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
