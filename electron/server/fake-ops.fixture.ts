// An in-memory cluster for the launcher's unit tests: Pods, Services and
// Secrets in maps, every call recorded, and switches to make the cluster
// silent or slow. Tests move Pods along (run, exit).

import type { V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { DeleteInfo, KubeOpError, KubeOpResult, KubeTarget, LogRead, PodInfo, ServiceInfo } from './kube-ops.ts';
import { logSlice } from './kube-ops.ts';
import type { TaskKubeOps } from './launcher-kube.ts';

export interface FakePod {
  pod: V1Pod;
  info: PodInfo;
  log: string;
}

export class FakeOps implements TaskKubeOps {
  pods = new Map<string, FakePod>();
  services = new Map<string, V1Service>();
  secrets = new Map<string, V1Secret>();
  calls: string[] = [];
  /** When set, every call answers this error (after `delayMs`). */
  down: KubeOpError | undefined;
  delayMs = 0;
  nextNodePort = 30500;
  private ips = 0;
  /** Called when a Pod is created: tests move it along. */
  onCreate: (p: FakePod) => void = (p) => this.run(p);

  private async answer<T>(call: string, value: () => KubeOpResult<T>): Promise<KubeOpResult<T>> {
    this.calls.push(call);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.down) return { ok: false, error: this.down };
    return value();
  }

  /** Pods whose container runs but has not started (a startupProbe not yet passed: a node still in setup). */
  inSetup = new Set<string>();

  run(p: FakePod, log = ''): void {
    p.info.phase = 'Running';
    p.info.podIP ??= `10.244.0.${++this.ips}`;
    p.info.container = { name: 'task', state: 'running', restartCount: 0, started: !this.inSetup.has(p.info.name) };
    p.log += log;
  }

  /** A node's setup finished: its container counts as started. */
  setUp(name: string): void {
    this.inSetup.delete(name);
    const c = this.pods.get(name)?.info.container;
    if (c?.state === 'running') c.started = true;
  }

  exit(name: string, code: number, log = ''): void {
    const p = this.pods.get(name);
    if (!p) throw new Error(`no pod ${name}`);
    p.log += log;
    p.info.phase = code === 0 ? 'Succeeded' : 'Failed';
    p.info.container = { name: 'task', state: 'terminated', exitCode: code, reason: code === 0 ? 'Completed' : 'Error', restartCount: 0 };
  }

  createPod(_t: KubeTarget, ns: string, pod: V1Pod): Promise<KubeOpResult<PodInfo>> {
    return this.answer('createPod', () => {
      const name = pod.metadata?.name ?? '';
      if (this.pods.has(name)) return { ok: false, error: { kind: 'already-exists', message: `pod ${name} already exists` } };
      const info: PodInfo = { name, namespace: ns, phase: 'Pending', labels: { ...(pod.metadata?.labels ?? {}) }, deleting: false };
      const p = { pod, info, log: '' };
      this.pods.set(name, p);
      this.onCreate(p);
      return { ok: true, value: structuredClone(info) };
    });
  }

  createService(_t: KubeTarget, ns: string, service: V1Service): Promise<KubeOpResult<ServiceInfo>> {
    return this.answer('createService', () => {
      const name = service.metadata?.name ?? '';
      this.services.set(name, service);
      const ports = (service.spec?.ports ?? []).map((p) => ({ port: p.port, targetPort: Number(p.targetPort), nodePort: p.nodePort ?? this.nextNodePort++ }));
      return { ok: true, value: { name, namespace: ns, ports } };
    });
  }

  createSecret(_t: KubeTarget, _ns: string, secret: V1Secret): Promise<KubeOpResult<{ name: string }>> {
    return this.answer('createSecret', () => {
      const name = secret.metadata?.name ?? '';
      if (this.secrets.has(name)) return { ok: false, error: { kind: 'already-exists', message: `secret ${name} already exists` } };
      this.secrets.set(name, secret);
      return { ok: true, value: { name } };
    });
  }

  deleteSecret(_t: KubeTarget, _ns: string, name: string): Promise<KubeOpResult<DeleteInfo>> {
    return this.answer('deleteSecret', () => ({ ok: true, value: { existed: this.secrets.delete(name) } }));
  }

  deletePod(_t: KubeTarget, _ns: string, name: string): Promise<KubeOpResult<DeleteInfo>> {
    return this.answer('deletePod', () => ({ ok: true, value: { existed: this.pods.delete(name) } }));
  }

  deleteService(_t: KubeTarget, _ns: string, name: string): Promise<KubeOpResult<DeleteInfo>> {
    return this.answer('deleteService', () => ({ ok: true, value: { existed: this.services.delete(name) } }));
  }

  getPod(_t: KubeTarget, _ns: string, name: string): Promise<KubeOpResult<PodInfo>> {
    return this.answer('getPod', () => {
      const p = this.pods.get(name);
      return p ? { ok: true, value: structuredClone(p.info) } : { ok: false, error: { kind: 'not-found', message: `pod ${name} not found` } };
    });
  }

  annotatePod(_t: KubeTarget, _ns: string, name: string, annotations: Record<string, string>): Promise<KubeOpResult<PodInfo>> {
    return this.answer('annotatePod', () => {
      const p = this.pods.get(name);
      if (!p) return { ok: false, error: { kind: 'not-found', message: `pod ${name} not found` } };
      p.pod.metadata = { ...p.pod.metadata, annotations: { ...p.pod.metadata?.annotations, ...annotations } };
      p.info.annotations = Object.fromEntries(Object.entries(p.pod.metadata.annotations ?? {}).filter(([k]) => k.startsWith('kindtray.dev/')));
      return { ok: true, value: structuredClone(p.info) };
    });
  }

  listTaskPods(_t: KubeTarget, selector: string): Promise<KubeOpResult<PodInfo[]>> {
    return this.answer('listTaskPods', () => {
      const [key, value] = selector.split('=');
      return { ok: true, value: [...this.pods.values()].filter((p) => p.info.labels[key ?? ''] === value).map((p) => structuredClone(p.info)) };
    });
  }

  readLog(_t: KubeTarget, _ns: string, name: string, opts: { sinceBytes?: number; stableTail?: boolean } = {}): Promise<KubeOpResult<LogRead>> {
    return this.answer('readLog', () => {
      const p = this.pods.get(name);
      if (!p) return { ok: false, error: { kind: 'not-found', message: `pod ${name} not found` } };
      return { ok: true, value: logSlice(p.log, opts.sinceBytes ?? 0, opts.stableTail ?? false) };
    });
  }
}
