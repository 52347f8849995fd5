// A container's readinessProbe or startupProbe, run as the kubelet runs it:
// nothing before initialDelaySeconds, then one probe every periodSeconds, each
// given timeoutSeconds; not ready until successThreshold successes in a row,
// not ready again after failureThreshold failures in a row. httpGet succeeds
// on a 2xx or 3xx answer (to the Pod's IP unless `host` is given), tcpSocket
// on a connection, exec on exit 0 of its command in the container (pods.ts
// runs it). The Pod's Ready and ContainersReady conditions follow (pods.ts).
// A startupProbe stops at its first success (the container has `started`),
// and gives up after failureThreshold failures in a row (the kubelet then
// kills the container). grpc probes are not run: the container stays not
// ready and its log says why, rather than pretending.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface ProbeSpec {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

/** What a probe needs besides the spec: how to run an exec probe's command, and for a startupProbe what to do when it gives up. */
export interface ProbeHooks {
  /** Runs the command in the container; true on exit 0 within the time. */
  exec?: (command: string[], timeoutMs: number) => Promise<boolean>;
  /** Set for a startupProbe: called once failureThreshold probes in a row failed. */
  giveUp?: () => void;
}

/** Kubernetes' defaults for a probe's timing fields. */
const DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

export class ReadinessProber {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private ready = false;
  private readonly probe: ProbeSpec;
  private readonly ports: readonly { name?: string; containerPort: number }[];
  private readonly podIP: string;
  private readonly onChange: (ready: boolean) => void;

  /** Starts probing at once (after the initial delay); `onChange` hears each change of readiness. */
  private readonly hooks: ProbeHooks;

  constructor(probe: ProbeSpec, ports: readonly { name?: string; containerPort: number }[], podIP: string, onChange: (ready: boolean) => void, say: (line: string) => void, hooks: ProbeHooks = {}) {
    this.probe = probe;
    this.ports = ports;
    this.podIP = podIP;
    this.onChange = onChange;
    this.hooks = hooks;
    if (!probe.httpGet && !probe.tcpSocket && !(probe.exec?.command?.length && hooks.exec)) {
      say('testbed stand-in: only httpGet, tcpSocket and exec probes are run; this container stays not ready');
      return;
    }
    this.timer = setTimeout(() => this.tick(), 1_000 * (probe.initialDelaySeconds ?? DEFAULTS.initialDelaySeconds));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    const p = this.probe;
    const ok = await this.once(1_000 * Math.max(1, p.timeoutSeconds ?? DEFAULTS.timeoutSeconds));
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.ready && this.successes >= Math.max(1, p.successThreshold ?? DEFAULTS.successThreshold)) this.set(true);
      // A startupProbe is done once it passed.
      if (this.ready && this.hooks.giveUp) return;
    } else {
      this.successes = 0;
      this.failures++;
      const threshold = Math.max(1, p.failureThreshold ?? DEFAULTS.failureThreshold);
      if (this.hooks.giveUp && this.failures >= threshold) {
        this.hooks.giveUp();
        return;
      }
      if (this.ready && this.failures >= threshold) this.set(false);
    }
    // The kubelet's period runs from probe to probe; a slow probe delays the next one.
    this.timer = setTimeout(() => void this.tick(), 1_000 * Math.max(1, p.periodSeconds ?? DEFAULTS.periodSeconds));
  }

  private set(ready: boolean): void {
    this.ready = ready;
    this.onChange(ready);
  }

  /** A named port through the container's ports, as the kubelet resolves it. */
  private port(port: number | string): number | undefined {
    if (typeof port === 'number') return port;
    if (/^\d+$/.test(port)) return Number(port);
    return this.ports.find((p) => p.name === port)?.containerPort;
  }

  private once(timeoutMs: number): Promise<boolean> {
    const command = this.probe.exec?.command;
    if (command?.length && this.hooks.exec) return this.hooks.exec(command, timeoutMs);
    const get = this.probe.httpGet;
    const tcp = this.probe.tcpSocket;
    const port = this.port(get?.port ?? tcp?.port ?? 0);
    if (port === undefined) return Promise.resolve(false);
    const host = get?.host ?? tcp?.host ?? this.podIP;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      let settled = false;
      const done = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      if (!get) {
        const socket = connect({ host, port }, () => {
          socket.destroy();
          done(true);
        });
        socket.once('error', () => done(false));
        socket.setTimeout(timeoutMs, () => socket.destroy());
        socket.once('close', () => done(false));
        return;
      }
      const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
      for (const h of get.httpHeaders ?? []) headers[h.name] = h.value;
      const send = get.scheme?.toUpperCase() === 'HTTPS' ? httpsRequest : httpRequest;
      const path = get.path ?? '/';
      // The kubelet does not check a probe's certificate.
      const req = send({ host, port, path: path.startsWith('/') ? path : `/${path}`, method: 'GET', headers, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        done(code >= 200 && code < 400);
      });
      req.once('timeout', () => req.destroy());
      req.once('error', () => done(false));
      req.once('close', () => done(false));
      req.end();
    });
  }
}
