// Development only, never shipped: a Vite plugin that answers the Kindtray
// server's routes from fixtures, so the dashboard can be built and looked at
// in every state without Docker or a cluster. Scenarios switch with
// `POST /dev/scenario/NAME` (healthy, docker-stopped, cluster-stopped,
// stale-context, worker-hung, no-clusters, restarting); fixes really change
// the scenario after a short delay, tasks move through their states and
// stream logs. Under `vite preview` it also sends the supervisor's CSP, so the
// built bundle is checked against it.
//
// With KINDTRAY_API=http://127.0.0.1:PORT and KINDTRAY_TOKEN=… it proxies to
// a real `kindtray serve` instead.

import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Connect, Plugin } from 'vite';
import { LAUNCH_REQUEST_TYPE, type LaunchRequest, type ServerEvent, type TaskRecord, type TaskState } from '../../shared/api.ts';
import { withProblems, type SnapshotInput } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput, kindCluster, kubeContext } from '../../shared/snapshot-fixtures.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { defaultSettings, needsRestart, parseSettings, type Settings } from '../../shared/contracts/settings.ts';
import { VERSION } from '../../shared/contracts/version.ts';
import { FIXES, isWaitableFix, parseFixId, unknownFixResult, type FixId, type FixResult } from '../../shared/fixes.ts';
import { redactSecrets, validateResponseOf, validateTask, type LaunchValues } from '../../shared/task/index.ts';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.ts';

export const SCENARIOS = ['healthy', 'docker-stopped', 'cluster-stopped', 'stale-context', 'worker-hung', 'no-clusters', 'restarting'] as const;
export type Scenario = (typeof SCENARIOS)[number];

const START = Date.now();
const MIN = 60_000;

function inputFor(scenario: Scenario, restarts: number): SnapshotInput {
  const base = healthyInput();
  const server = { state: 'healthy' as const, port: 46590, pid: 4242, latencyMs: 3.2, restarts, uptimeMs: Date.now() - START + 42 * MIN };
  const withThird = {
    ...base,
    clusters: [
      ...base.clusters,
      kindCluster(
        'gpu-lab',
        {
          nodes: [
            { name: 'gpu-lab-control-plane', role: 'control-plane', state: 'running', ready: true },
            { name: 'gpu-lab-worker', role: 'worker', state: 'running', ready: true },
            { name: 'gpu-lab-worker2', role: 'worker', state: 'running', ready: true },
          ],
          portMappings: [
            { containerPort: 30080, hostPort: 9080, hostIp: '127.0.0.1', protocol: 'tcp' },
            { containerPort: 30443, hostPort: 9443, hostIp: '127.0.0.1', protocol: 'tcp' },
          ],
        },
        41003,
      ),
    ],
    contexts: [...base.contexts, kubeContext('kind-gpu-lab', { server: 'https://127.0.0.1:41003', latencyMs: 12 })],
  };
  switch (scenario) {
    case 'healthy':
      return { ...withThird, server, contexts: withThird.contexts.map((c) => ({ ...c, latencyMs: c.latencyMs ?? 8 })) };
    case 'docker-stopped':
      return { ...dockerStoppedInput(), server };
    case 'cluster-stopped':
      return {
        ...withThird,
        server,
        clusters: withThird.clusters.map((c) =>
          c.name === 'dev' ? { ...c, state: 'stopped', apiEndpoint: undefined, nodes: c.nodes.map((n) => ({ ...n, state: 'exited', ready: undefined })) } : c,
        ),
        contexts: withThird.contexts.map((c) => (c.name === 'kind-dev' ? { ...c, state: 'unreachable', cause: 'connect ECONNREFUSED 127.0.0.1:41001' } : c)),
      };
    case 'stale-context':
      return {
        ...withThird,
        server,
        contexts: withThird.contexts.map((c) =>
          c.name === 'kind-test' ? { ...c, state: 'stale-endpoint', server: 'https://127.0.0.1:39002', expectedServer: 'https://127.0.0.1:41002', file: '/home/me/.kube/config' } : c,
        ),
      };
    case 'worker-hung':
      return { ...withThird, server: { ...server, state: 'hung', latencyMs: undefined, cause: 'the API worker (pid 4243) missed 2 pings in a row' } };
    case 'restarting':
      return { ...withThird, server: { ...server, state: 'restarting', cause: 'asked for over HTTP' } };
    case 'no-clusters':
      return { ...base, server, clusters: [], contexts: [], kubeconfig: { files: [{ path: '/home/me/.kube/config', state: 'ok' }] } };
  }
}

interface MockTask extends TaskRecord {
  log: string[];
}

class Mock {
  scenario: Scenario;
  /** When set, every route fails as if nothing listened: a supervisor that is gone. */
  offline = false;
  restarts = 1;
  readonly fixes = new Set<string>();
  readonly clients = new Set<ServerResponse>();
  readonly tasks = new Map<string, MockTask>();
  settings: Settings = {
    ...defaultSettings(),
    watchdog: { intervalMs: 750, slowMs: 300, missesBeforeRestart: 3, autoRestart: true },
    probe: { intervalMs: 10_000, deadlineMs: 2_000 },
  };
  private seq = 100;

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    this.seed();
    setInterval(() => {
      for (const c of this.clients) c.write(': keep-alive\n\n');
    }, 15_000).unref();
    // Running tasks print.
    setInterval(() => {
      for (const t of this.tasks.values()) if (t.state === 'running') t.log.push(`${new Date().toISOString()} 127.0.0.1 - - "GET / HTTP/1.1" 200 -`);
    }, 1_500).unref();
  }

  snapshot(): HealthSnapshot {
    const s = withProblems({ ...inputFor(this.scenario, this.restarts), checkedAt: new Date(Date.now() - 1200).toISOString() }, { busy: [...this.fixes] });
    return s;
  }

  broadcast(e: ServerEvent): void {
    const text = `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
    for (const c of this.clients) c.write(text);
  }

  setScenario(s: Scenario): void {
    this.scenario = s;
    this.broadcast({ type: 'snapshot', snapshot: this.snapshot() });
  }

  private seed(): void {
    const ago = (m: number) => new Date(Date.now() - m * MIN).toISOString();
    const source = (name: string, port?: number) =>
      `name: ${name}\nresources:\n  infra: k8s/kind-dev\n  cpus: 1\n${port ? `  ports: [${port}]\n` : ''}run: python -m http.server ${port ?? 8000}\n`;
    const add = (t: Omit<MockTask, 'namespace' | 'source' | 'log'> & { log?: string[]; port?: number }) => {
      const { port, log, ...rest } = t;
      this.tasks.set(t.id, { namespace: 'default', source: source(t.name, port), log: log ?? [], ...rest });
    };
    add({
      id: 't-7f3a9c', name: 'web-demo', state: 'running', context: 'kind-dev', cluster: 'dev', podName: 'web-demo-7f3a9c', serviceName: 'web-demo',
      endpoints: [{ port: 8080, nodePort: 30080, url: 'http://127.0.0.1:8080', reachable: true, how: 'NodePort 30080, which cluster kind-dev publishes on 127.0.0.1:8080' }],
      createdAt: ago(14), updatedAt: ago(13), startedAt: ago(13), port: 8080,
      log: ['Serving HTTP on 0.0.0.0 port 8080 (http://0.0.0.0:8080/) ...', '10.244.0.1 - - "GET / HTTP/1.1" 200 -'],
    });
    add({
      id: 't-51be02', name: 'train-small', state: 'succeeded', context: 'kind-test', cluster: 'test', podName: 'train-small-51be02', exitCode: 0, endpoints: [],
      createdAt: ago(41), updatedAt: ago(33), startedAt: ago(40), finishedAt: ago(33), log: ['epoch 1 loss 0.93', 'epoch 2 loss 0.61', 'epoch 3 loss 0.48', 'done'],
    });
    add({
      id: 't-0c77d1', name: 'api-check', state: 'failed', reason: 'the container exited with code 2', context: 'kind-dev', cluster: 'dev', exitCode: 2,
      endpoints: [{ port: 9000, reachable: false, how: 'no free published NodePort on cluster kind-dev: reach it with `kubectl port-forward svc/api-check 9000`' }],
      createdAt: ago(52), updatedAt: ago(51), startedAt: ago(52), finishedAt: ago(51), log: ['python: can\'t open file \'/app/check.py\': [Errno 2] No such file or directory'], port: 9000,
    });
  }

  launch(text: string, whenReady: boolean, launch?: LaunchValues): { status: number; body: unknown } {
    const snap = this.snapshot();
    const used = [...this.tasks.values()].filter((t) => t.state === 'running').flatMap((t) => t.endpoints.map((e) => e.nodePort ?? 0));
    const v = validateTask(text, snap, { snapshotAgeMs: 1000, maxAgeMs: 30_000, usedNodePorts: used, ...(launch ? { launch } : {}) });
    const waitable = !v.ok && whenReady && v.task && v.target && v.errors.every((e) => e.fix !== undefined && isWaitableFix(e.fix.id));
    if (!v.ok && !waitable) return { status: 422, body: { error: v.errors[0]?.message ?? 'invalid task', field: v.errors[0]?.path, errors: v.errors, warnings: v.warnings } };
    const id = `t-${(this.seq++).toString(16)}${Math.random().toString(16).slice(2, 5)}`;
    const now = new Date().toISOString();
    const name = v.task?.name ?? `task-${id.slice(-6)}`;
    const t: MockTask = {
      id, name, state: waitable ? 'waiting' : 'pending', context: v.target?.context ?? 'kind-dev', ...(v.target?.cluster ? { cluster: v.target.cluster } : {}),
      namespace: 'default', endpoints: v.endpoints ?? [], source: redactSecrets(text), createdAt: now, updatedAt: now, log: [],
      ...(waitable ? { reason: v.errors.map((e) => e.message).join('; ') } : {}),
    };
    this.tasks.set(id, t);
    this.broadcast({ type: 'task', task: strip(t) });
    if (!waitable) {
      setTimeout(() => this.move(t, 'launching'), 600);
      setTimeout(() => {
        t.startedAt = new Date().toISOString();
        t.podName = `${name}-${id.slice(-6)}`;
        t.log.push(`$ ${v.task?.run ?? 'true'}`, 'Serving HTTP on 0.0.0.0 port 8080 (http://0.0.0.0:8080/) ...');
        this.move(t, 'running');
      }, 1_600);
    }
    return { status: 201, body: { task: strip(t), warnings: v.warnings } };
  }

  move(t: MockTask, state: TaskState, reason?: string): void {
    t.state = state;
    t.updatedAt = new Date().toISOString();
    if (reason) t.reason = reason;
    if (state === 'cancelled' || state === 'succeeded' || state === 'failed') t.finishedAt = t.updatedAt;
    this.broadcast({ type: 'task', task: strip(t) });
  }

  runFix(text: string): Promise<FixResult> {
    const parsed = parseFixId(text);
    if (!parsed.ok) return Promise.resolve(unknownFixResult(parsed.error));
    const started = Date.now();
    const id = text;
    this.fixes.add(id);
    this.broadcast({ type: 'fix', fixId: id, state: 'running' });
    this.broadcast({ type: 'snapshot', snapshot: this.snapshot() });
    return new Promise((resolve) =>
      setTimeout(() => {
        this.fixes.delete(id);
        const message = this.pretendFix(parsed.fix);
        this.broadcast({ type: 'fix', fixId: id, state: 'done', message });
        this.broadcast({ type: 'snapshot', snapshot: this.snapshot() });
        resolve({ ok: true, fixId: id, message, durationMs: Date.now() - started });
      }, parsed.fix.kind === 'refresh-status' ? 400 : 1_800),
    );
  }

  /** What the real fix would do to the scenario, and what it would say. */
  private pretendFix(fix: FixId): string {
    switch (fix.kind) {
      case 'start-docker':
      case 'restart-docker':
        this.scenario = 'healthy';
        return 'Docker is running (27.3.1)';
      case 'start-cluster':
      case 'restart-cluster':
        this.scenario = 'healthy';
        return `cluster ${fix.cluster} is running`;
      case 'restart-server':
        this.restarts++;
        this.scenario = 'healthy';
        return 'the API worker was restarted and answers again';
      case 'repair-context':
        this.scenario = 'healthy';
        return `context ${fix.context} now points at https://127.0.0.1:41002`;
      case 'use-context':
        return `current context is now ${fix.context}`;
      case 'refresh-status':
        return 'checked again';
      case 'docker-permission-help':
        return 'Add yourself to the docker group: sudo usermod -aG docker $USER, then log in again.';
      case 'install-docker-help':
        return 'Install Docker Desktop, Colima, Rancher Desktop or Podman, then start it.';
      case 'load-image':
        return `image ${fix.image} loaded into cluster ${fix.cluster}`;
      case 'delete-cluster':
        return `cluster ${fix.cluster} deleted`;
      default:
        return fix satisfies never;
    }
  }

  history(): { changes: { at: string; subject: string; state: string; cause?: string }[]; latency: { at: string; ms: number }[] } {
    const now = Date.now();
    const at = (m: number) => new Date(now - m * MIN).toISOString();
    const changes = [
      { at: at(60), subject: 'docker', state: 'running' },
      { at: at(60), subject: 'cluster:dev', state: 'running' },
      { at: at(60), subject: 'cluster:test', state: 'running' },
      { at: at(60), subject: 'context:kind-dev', state: 'ok' },
      { at: at(60), subject: 'context:kind-test', state: 'ok' },
      { at: at(60), subject: 'server', state: 'healthy' },
      { at: at(44), subject: 'server', state: 'slow', cause: 'the API answered in 420 ms' },
      { at: at(43), subject: 'server', state: 'healthy' },
      { at: at(31), subject: 'docker', state: 'stopped', cause: 'no Docker socket at /var/run/docker.sock' },
      { at: at(31), subject: 'cluster:dev', state: 'unknown' },
      { at: at(31), subject: 'cluster:test', state: 'unknown' },
      { at: at(31), subject: 'context:kind-dev', state: 'unreachable', cause: 'connect ECONNREFUSED 127.0.0.1:41001' },
      { at: at(26), subject: 'docker', state: 'running' },
      { at: at(26), subject: 'cluster:test', state: 'running' },
      { at: at(25.5), subject: 'cluster:dev', state: 'running' },
      { at: at(25.5), subject: 'context:kind-dev', state: 'ok' },
      { at: at(12), subject: 'server', state: 'hung', cause: 'the API worker missed 3 pings' },
      { at: at(11.7), subject: 'server', state: 'restarting' },
      { at: at(11.5), subject: 'server', state: 'healthy' },
      { at: at(6), subject: 'cluster:gpu-lab', state: 'running' },
      { at: at(6), subject: 'context:kind-gpu-lab', state: 'ok' },
    ];
    // And the present, when the scenario is not the healthy one.
    const s = this.snapshot();
    const last = new Map<string, string>();
    for (const c of changes) last.set(c.subject, c.state);
    const present: [string, string, string | undefined][] = [
      ['docker', s.docker.state, s.docker.cause],
      ...s.clusters.map((c): [string, string, string | undefined] => [`cluster:${c.name}`, c.state, c.cause]),
      ...s.contexts.map((c): [string, string, string | undefined] => [`context:${c.name}`, c.state, c.cause]),
      ['server', s.server.state, s.server.cause],
    ];
    for (const [subject, state, cause] of present) {
      if (last.get(subject) !== state) changes.push({ at: at(2), subject, state, ...(cause ? { cause } : {}) });
    }
    const latency: { at: string; ms: number }[] = [];
    for (let m = 60; m >= 0; m -= 0.5) {
      const spike = m <= 44.5 && m >= 43 ? 420 : m <= 12.5 && m >= 11.5 ? 2600 : 0;
      latency.push({ at: at(m), ms: Math.round((3 + 2 * Math.sin(m / 3) + ((m * 7) % 3) + spike) * 10) / 10 });
    }
    return { changes, latency };
  }
}

function strip(t: MockTask): TaskRecord {
  const { log: _log, ...rest } = t;
  return rest;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => resolve(text));
  });
}

const HUNG = { error: 'the API worker did not answer in 2 s (it is hung); restart the server', fix: { id: FIXES.restartServer.id } };

function mockRoutes(mock: Mock): Connect.NextHandleFunction {
  return (req, res, next) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://mock');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      let m: RegExpExecArray | null;

      if ((m = /^\/dev\/scenario\/([\w-]+)$/.exec(path)) && method === 'POST') {
        const s = m[1] as Scenario;
        if (!SCENARIOS.includes(s)) return json(res, 404, { error: `no scenario ${s}`, scenarios: SCENARIOS });
        mock.setScenario(s);
        return json(res, 200, { scenario: s });
      }
      if ((m = /^\/dev\/offline\/(on|off)$/.exec(path)) && method === 'POST') {
        mock.offline = m[1] === 'on';
        if (mock.offline) {
          for (const c of mock.clients) c.destroy();
          mock.clients.clear();
        }
        return json(res, 200, { offline: mock.offline });
      }
      if (path === '/dev/disconnect' && method === 'POST') {
        // Drop every event stream, as a supervisor that went away would.
        for (const c of mock.clients) c.destroy();
        mock.clients.clear();
        return json(res, 200, { ok: true });
      }
      if (!path.startsWith('/api/') && !path.startsWith('/control/')) return next();
      if (mock.offline) {
        req.socket.destroy();
        return;
      }

      if (path === '/api/health') {
        return json(res, 200, { status: mock.scenario === 'worker-hung' ? 'degraded' : 'ok', pid: 4242, uptimeMs: Date.now() - START, version: VERSION, port: 46590, worker: mock.snapshot().server });
      }
      if (path === '/api/status') return json(res, 200, { ...mock.snapshot(), ageMs: 1200 });
      if (path === '/api/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`event: snapshot\ndata: ${JSON.stringify({ type: 'snapshot', snapshot: mock.snapshot() })}\n\n`);
        mock.clients.add(res);
        req.on('close', () => mock.clients.delete(res));
        return;
      }
      if ((m = /^\/control\/fixes\/(.+)$/.exec(path)) && method === 'POST') {
        const r = await mock.runFix(decodeURIComponent(m[1] ?? ''));
        return json(res, r.ok ? 200 : r.code === 'unknown-fix' ? 404 : 409, r);
      }
      if (path === '/control/server/restart' && method === 'POST') {
        const r = await mock.runFix(FIXES.restartServer.id);
        return json(res, 200, r);
      }

      // Everything below is the API worker's.
      if (mock.scenario === 'worker-hung') {
        await new Promise((r) => setTimeout(r, 400));
        return json(res, 503, HUNG);
      }
      if (path === '/api/validate' && method === 'POST') {
        const text = await readBody(req);
        const v = validateTask(text, mock.snapshot(), { snapshotAgeMs: 1200, maxAgeMs: 30_000 });
        return json(res, v.ok ? 200 : 422, validateResponseOf(v));
      }
      if (path === '/api/tasks' && method === 'POST') {
        const body = await readBody(req);
        const given = (req.headers['content-type'] ?? '').startsWith(LAUNCH_REQUEST_TYPE) ? (JSON.parse(body) as LaunchRequest) : undefined;
        const r = mock.launch(given ? given.task : body, ['1', 'true'].includes(url.searchParams.get('when_ready') ?? ''), given);
        return json(res, r.status, r.body);
      }
      if (path === '/api/tasks' && method === 'GET') return json(res, 200, { tasks: [...mock.tasks.values()].map(strip) });
      if ((m = /^\/api\/tasks\/([^/]+)(\/logs)?$/.exec(path))) {
        const t = mock.tasks.get(decodeURIComponent(m[1] ?? ''));
        if (!t) return json(res, 404, { error: `no task ${m[1]}`, field: 'id' });
        if (m[2] && method === 'GET') {
          // Plain text, or server-sent events as the worker sends them (shared/contracts/task-logs.ts), resumed from Last-Event-ID.
          const sse = (req.headers.accept ?? '').includes('text/event-stream');
          res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          const from = Number(/^0:(\d+)$/.exec(String(req.headers['last-event-id'] ?? ''))?.[1] ?? 0);
          let sent = 0;
          let bytes = 0;
          if (sse) res.write('event: nodes\ndata: {"nodes":[0]}\n\n');
          const flush = () => {
            for (; sent < t.log.length; sent++) {
              const text = `${t.log[sent]}\n`;
              bytes += Buffer.byteLength(text);
              if (!sse) res.write(text);
              else if (bytes > from) res.write(`id: 0:${bytes}\nevent: log\ndata: ${JSON.stringify({ node: 0, text })}\n\n`);
            }
          };
          const end = () => res.end(sse ? 'event: end\ndata: {}\n\n' : '');
          flush();
          const follow = url.searchParams.get('follow') === '1';
          if (!follow || ['succeeded', 'failed', 'cancelled'].includes(t.state)) return end();
          const timer = setInterval(() => {
            flush();
            if (['succeeded', 'failed', 'cancelled'].includes(t.state)) {
              clearInterval(timer);
              end();
            }
          }, 300);
          req.on('close', () => clearInterval(timer));
          return;
        }
        if (method === 'DELETE') {
          if (!['succeeded', 'failed', 'cancelled'].includes(t.state)) {
            t.log.push('[kindtray: cancelled by the user]');
            mock.move(t, 'cancelled', 'cancelled from the dashboard');
          }
          return json(res, 200, { task: strip(t) });
        }
        return json(res, 200, { task: strip(t) });
      }
      if (path === '/api/history') return json(res, 200, mock.history());
      if (path === '/api/settings' && method === 'GET') return json(res, 200, mock.settings);
      if (path === '/api/settings' && method === 'PUT') {
        let raw: unknown;
        try {
          raw = JSON.parse(await readBody(req));
        } catch {
          return json(res, 400, { error: 'settings must be a JSON object' });
        }
        const parsed = parseSettings(raw);
        if (!parsed.ok) return json(res, 422, { error: parsed.issues[0]?.message ?? 'invalid settings', field: parsed.issues[0]?.field ?? '' });
        const restartNeeded = needsRestart(mock.settings, parsed.settings);
        mock.settings = parsed.settings;
        return json(res, 200, { settings: parsed.settings, restartNeeded });
      }
      return json(res, 404, { error: `no route ${method} ${path}` });
    })();
  };
}

/** Forwards /api and /control to a real server with its bearer token; the browser's Origin is not the server's, so it is dropped. */
function proxy(target: string, token: string | undefined): Connect.NextHandleFunction {
  const base = new URL(target);
  return (req, res, next) => {
    const path = req.url ?? '/';
    if (!path.startsWith('/api/') && !path.startsWith('/control/')) return next();
    const headers = { ...req.headers, host: base.host, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    delete headers.origin;
    delete headers.cookie;
    const out = request({ host: base.hostname, port: base.port, path, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', (e) => json(res, 502, { error: `proxy: ${e.message}` }));
    req.pipe(out);
  };
}

export function mockServer(opts: { proxyTo?: string | undefined; token?: string | undefined } = {}): Plugin {
  const scenario = (process.env.KINDTRAY_SCENARIO ?? 'docker-stopped') as Scenario;
  let mock: Mock | undefined;
  const handler = (): Connect.NextHandleFunction => (opts.proxyTo ? proxy(opts.proxyTo, opts.token) : mockRoutes((mock ??= new Mock(SCENARIOS.includes(scenario) ? scenario : 'docker-stopped'))));
  return {
    name: 'kindtray-dev-server',
    configureServer(server) {
      server.middlewares.use(handler());
    },
    configurePreviewServer(server) {
      server.middlewares.use((_req, res, next) => {
        res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
        next();
      });
      server.middlewares.use(handler());
    },
  };
}
