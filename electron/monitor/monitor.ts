// The monitor: keeps one HealthSnapshot fresh and tells subscribers when it
// changes. Docker news arrives by events (DockerWatcher), kubeconfig news by
// file watches, and Kubernetes health by probes in a child process, each under
// its deadline, single-flight per context, with backoff for dead ones. Reading
// the snapshot never waits on any of them.

import { homedir } from 'node:os';
import { GRACE, INTERVALS } from '../../shared/constants.ts';
import type { HealthSnapshot, ServerHealth } from '../../shared/snapshot.ts';
import { assembleSnapshot, probeStartedAt, type Observations } from './assemble.ts';
import type { DockerObservation } from './docker.ts';
import { DockerWatcher } from './docker-watcher.ts';
import { resolveDockerEndpoint, type DockerEndpoint } from './docker-endpoint.ts';
import { kindClusters, type KindClusterView } from './kind.ts';
import { loadKubeconfig, type KubeconfigModel } from '../kube/index.ts';
import { analyseKubeconfig, watchKubeconfig } from './kubeconfig.ts';
import { KubeProber, type KubeProbeResult } from './kube-probe.ts';

export interface MonitorOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  endpoint?: DockerEndpoint;
  /** Injected so Electron can run probes in a utilityProcess; default forks a Node child. */
  prober?: KubeProber;
  probeIntervalMs?: number;
  probeMaxBackoffMs?: number;
  probeDeadlineMs?: number;
  /** Follow changes (events, file watches, probe timers). Off for a one-shot `kindtray status`. */
  watch?: boolean;
  /** How long a start is shown as `starting`. Default GRACE. */
  grace?: { dockerStart: number; clusterStart: number };
}

/** What is starting: the engine, or one cluster by name. */
export type StartingTarget = { docker: true } | { cluster: string };

/** While a cluster starts its context is probed this often (and past any backoff), so its API's first answer shows at once. */
const STARTING_PROBE_MS = 1_000;

export type SnapshotListener = (snapshot: HealthSnapshot) => void;

/** What changed, for listeners: the snapshot without its timestamps and timings. */
function shapeOf(s: HealthSnapshot): string {
  return JSON.stringify(s, (key, value: unknown) => (key === 'checkedAt' || key === 'probedAt' || key === 'latencyMs' ? undefined : value));
}

export class Monitor {
  private readonly env: NodeJS.ProcessEnv;
  private readonly home: string;
  private readonly watch: boolean;
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly docker: DockerWatcher;
  private readonly prober: KubeProber;
  private readonly ownsProber: boolean;
  private readonly listeners = new Set<SnapshotListener>();
  private readonly probes = new Map<string, KubeProbeResult>();
  private readonly probeTimers = new Map<string, NodeJS.Timeout>();
  private readonly stopController = new AbortController();
  private dockerObs: DockerObservation;
  private clusters: KindClusterView[] = [];
  /** When Docker last answered as running: what the clusters' last-known state dates from. */
  private dockerLastUpAt: number | undefined;
  /** When Docker answered again after being down or silent: older probes no longer count. */
  private dockerBackAt: number | undefined;
  private kube: KubeconfigModel;
  private server: ServerHealth = { state: 'down' };
  private busy = false;
  private snap: HealthSnapshot;
  private shape = '';
  /** Probes wait for the child to be ready, so its start-up does not eat their deadline. */
  private proberReady: Promise<boolean> | undefined;
  private watchedFiles = '';
  private readonly grace: { dockerStart: number; clusterStart: number };
  /** Starts under way (epoch ms): Docker's, and each cluster's by name (see assemble.ts). */
  private dockerStartingSince: number | undefined;
  private readonly clusterStartingSince = new Map<string, number>();
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  /** The engine's last state that was not `running`: a return from `stopped` means its containers just started too. */
  private dockerDownAs: string | undefined;

  constructor(opts: MonitorOptions = {}) {
    this.env = opts.env ?? process.env;
    this.home = opts.home ?? homedir();
    this.watch = opts.watch ?? true;
    this.intervalMs = opts.probeIntervalMs ?? INTERVALS.kubeProbe;
    this.maxBackoffMs = opts.probeMaxBackoffMs ?? INTERVALS.kubeProbeMaxBackoff;
    const endpoint = opts.endpoint ?? resolveDockerEndpoint({ env: this.env, home: this.home });
    this.grace = opts.grace ?? GRACE;
    this.docker = new DockerWatcher({
      endpoint,
      onChange: (o) => this.onDocker(o),
      onStarting: () => this.markStarting({ docker: true }),
      onContainerStart: (cluster) => this.markStarting({ cluster }),
    });
    this.ownsProber = !opts.prober;
    this.prober =
      opts.prober ??
      new KubeProber({
        intervalMs: this.intervalMs,
        maxBackoffMs: this.maxBackoffMs,
        ...(opts.probeDeadlineMs !== undefined ? { deadlineMs: opts.probeDeadlineMs } : {}),
      });
    this.dockerObs = { health: { state: 'stopped', endpoint: endpoint.url, endpointSource: endpoint.source, cause: 'not checked yet' }, containers: [], observedAt: Date.now() };
    this.kube = loadKubeconfig(this.env, this.home);
    this.snap = this.assemble();
  }

  /** First full look: Docker, kubeconfig, and a first probe of each context worth probing. */
  async start(): Promise<HealthSnapshot> {
    // Start the probe child while Docker is asked, so that its start eats no probe's deadline.
    const proberReady = this.prober.start();
    this.proberReady = proberReady;
    const first = await this.docker.refresh();
    this.onDocker(first);
    if (this.watch) {
      await this.docker.start();
      this.watchKubeconfigFiles();
    }
    const toProbe = this.contextsToProbe();
    if (toProbe.length > 0) await proberReady;
    await Promise.all(toProbe.map((c) => this.probe(c, true)));
    return this.snap;
  }

  stop(): void {
    this.stopController.abort();
    this.docker.stop();
    for (const t of this.probeTimers.values()) clearTimeout(t);
    this.probeTimers.clear();
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
    if (this.ownsProber) this.prober.dispose();
  }

  /** The latest snapshot and how old its newest observation is. Never waits. */
  current(): { snapshot: HealthSnapshot; ageMs: number } {
    return { snapshot: this.snap, ageMs: Math.max(0, Date.now() - Date.parse(this.snap.checkedAt)) };
  }

  subscribe(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Looks again at everything now (Docker and every probed context); resolves with the new snapshot. */
  async refresh(): Promise<HealthSnapshot> {
    this.onDocker(await this.docker.refresh());
    this.reloadKubeconfig();
    await Promise.all(this.contextsToProbe().map((c) => this.probe(c, true)));
    return this.snap;
  }

  /** Probes one context now (single flight), e.g. before validating a launch onto it. */
  async refreshContext(context: string): Promise<HealthSnapshot> {
    await this.probe(context, true);
    return this.snap;
  }

  setServer(server: ServerHealth): void {
    this.server = server;
    this.publish();
  }

  /**
   * A start or restart is under way (a fix asked for it, or Docker said a node
   * container started): the thing is `starting` until it answers or its grace
   * passes, and probes that began before now never count for it again.
   */
  markStarting(what: StartingTarget, at = Date.now()): void {
    if ('docker' in what) {
      if (this.dockerObs.health.state === 'running') return;
      this.dockerStartingSince = at;
    } else {
      this.clusterStartingSince.set(what.cluster, at);
      const c = this.clusters.find((x) => x.name === what.cluster);
      if (c?.apiEndpoint) this.probeNow(c.context);
    }
    this.armGrace('docker' in what ? this.grace.dockerStart : this.grace.clusterStart);
    this.publish();
  }

  /** When a grace passes, the real cause shows: look again then. */
  private armGrace(ms: number): void {
    const timer = setTimeout(() => {
      this.graceTimers.delete(timer);
      this.publish();
    }, ms + 10);
    timer.unref();
    this.graceTimers.add(timer);
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.publish();
  }

  get dockerEndpoint(): DockerEndpoint {
    return this.docker.endpoint;
  }

  private onDocker(o: DockerObservation): void {
    const before = new Map(this.clusters.map((c) => [c.context, c.apiEndpoint]));
    const wasRunning = this.dockerObs.health.state === 'running';
    const cpBefore = new Map(this.clusters.map((c) => [c.name, c.controlPlaneRunning]));
    const seenBefore = this.dockerLastUpAt !== undefined;
    this.dockerObs = o;
    if (o.health.state === 'running') {
      if (!wasRunning && seenBefore) this.dockerBackAt = o.observedAt;
      this.dockerLastUpAt = o.observedAt;
      this.dockerStartingSince = undefined;
    }
    this.clusters = o.health.state === 'running' ? kindClusters(o.containers) : this.clusters.map((c) => ({ ...c }));
    if (o.health.state === 'running') {
      // A control plane seen up that was down (or, Docker back from a stop, whose containers came up with it)
      // has just started: its API is not up yet, and what its probes said before is history.
      const engineCameBack = !wasRunning && this.dockerDownAs === 'stopped' && seenBefore;
      for (const c of this.clusters) {
        const was = cpBefore.get(c.name);
        if (c.controlPlaneRunning && (engineCameBack || (was === false && seenBefore)) && !this.clusterStartingSince.has(c.name)) {
          this.clusterStartingSince.set(c.name, o.observedAt);
          this.armGrace(this.grace.clusterStart);
        }
      }
    } else if (o.health.state !== 'starting') {
      this.dockerDownAs = o.health.state;
    }
    this.publish();
    // A cluster that came up, or whose API moved, is probed at once rather than at its next turn.
    // So is every cluster when the engine answers again: probes stopped while it did not.
    const back = !wasRunning && o.health.state === 'running';
    for (const c of this.clusters) {
      if (c.apiEndpoint && (back || before.get(c.context) !== c.apiEndpoint)) this.probeNow(c.context);
    }
  }

  private reloadKubeconfig(): void {
    this.kube = loadKubeconfig(this.env, this.home);
    this.publish();
    if (this.watch) this.watchKubeconfigFiles();
  }

  private watchKubeconfigFiles(): void {
    const files = this.kube.files.map((f) => f.path);
    const key = files.join('\n');
    if (key === this.watchedFiles) return;
    this.watchedFiles = key;
    watchKubeconfig(
      files,
      () => {
        this.reloadKubeconfig();
        for (const c of this.contextsToProbe()) this.probeNow(c);
      },
      this.stopController.signal,
    );
  }

  /** Kind contexts whose cluster runs, plus the current context: the ones a user is about to use. */
  private contextsToProbe(): string[] {
    const running = new Set(this.clusters.filter((c) => c.controlPlaneRunning).map((c) => c.context));
    const out = new Set<string>();
    for (const ctx of this.snap.contexts) {
      if (ctx.state === 'dangling' || ctx.state === 'stale-endpoint') continue;
      if (running.has(ctx.name) && this.dockerObs.health.state === 'running') out.add(ctx.name);
      else if (ctx.current && !this.clusters.some((c) => c.context === ctx.name)) out.add(ctx.name);
    }
    return [...out];
  }

  /** Something watched changed for `context`: probe it now, its backoff forgotten, so the truth shows within a probe's deadline. */
  private probeNow(context: string): void {
    this.prober.resetBackoff(context);
    void this.probe(context, true);
  }

  private async probe(context: string, force = false): Promise<void> {
    if (this.stopController.signal.aborted) return;
    clearTimeout(this.probeTimers.get(context));
    if (this.proberReady) await this.proberReady;
    // A context with a child of its own (its credentials can block one) waits for that child's start too, not its deadline.
    await this.prober.start(context, this.kubeconfigPaths());
    if (this.stopController.signal.aborted) return;
    // A KinD cluster's backoff never exceeds the interval: it is back the moment its container is.
    const local = this.clusters.some((c) => c.context === context);
    const result = await this.prober.probe(context, { kubeconfigPaths: this.kubeconfigPaths(), force, local });
    if (this.stopController.signal.aborted) return;
    this.probes.set(context, result);
    this.settleStart(context, result);
    this.publish();
    if (!this.watch) return;
    // The prober keeps the interval for healthy contexts and the backoff for dead ones; a starting cluster is asked often.
    const starting = this.startingCluster(context) !== undefined;
    const delay = starting ? STARTING_PROBE_MS : Math.max(50, this.prober.nextProbeDelay(context));
    // Two probes of one context can finish close together: keep one timer, not one each.
    clearTimeout(this.probeTimers.get(context));
    const timer = setTimeout(() => {
      this.probeTimers.delete(context);
      if (this.contextsToProbe().includes(context)) void this.probe(context, starting);
    }, delay);
    timer.unref();
    this.probeTimers.set(context, timer);
  }

  /** The name of the cluster of `context` whose start is still remembered, if any. */
  private startingCluster(context: string): string | undefined {
    const c = this.clusters.find((x) => x.context === context);
    return c && this.clusterStartingSince.has(c.name) ? c.name : undefined;
  }

  /** A start is over once a probe begun after it says ok, or, past the grace, says anything at all. */
  private settleStart(context: string, result: KubeProbeResult): void {
    const name = this.startingCluster(context);
    const since = name === undefined ? undefined : this.clusterStartingSince.get(name);
    if (name === undefined || since === undefined || probeStartedAt(result) < since) return;
    if (result.state === 'ok' || Date.now() - since >= this.grace.clusterStart) this.clusterStartingSince.delete(name);
  }

  private kubeconfigPaths(): string[] {
    return this.kube.files.filter((f) => f.state === 'ok').map((f) => f.path);
  }

  private assemble(): HealthSnapshot {
    const running = this.dockerObs.health.state === 'running';
    const analysis = analyseKubeconfig(
      this.kube,
      this.clusters.map((c) => ({ name: c.name, running: running && c.controlPlaneRunning, ...(c.apiHostPort !== undefined ? { apiHostPort: c.apiHostPort } : {}) })),
    );
    const o: Observations = {
      docker: this.dockerObs,
      clusters: this.clusters,
      contexts: analysis.contexts,
      kubeconfig: analysis.kubeconfig,
      probes: this.probes,
      server: this.server,
      busy: this.busy,
      now: Date.now(),
      ...(this.dockerLastUpAt !== undefined ? { dockerLastUpAt: this.dockerLastUpAt } : {}),
      ...(this.dockerBackAt !== undefined ? { dockerBackAt: this.dockerBackAt } : {}),
      starting: { ...(this.dockerStartingSince !== undefined ? { docker: this.dockerStartingSince } : {}), clusters: this.clusterStartingSince },
      grace: this.grace,
    };
    return assembleSnapshot(o);
  }

  private publish(): void {
    this.snap = this.assemble();
    const shape = shapeOf(this.snap);
    if (shape === this.shape) return;
    this.shape = shape;
    for (const l of this.listeners) {
      try {
        l(this.snap);
      } catch {
        // A broken view must not stop the monitor or the other views.
      }
    }
  }
}

