import { describe, expect, it } from 'vitest';
import type { ClusterHealth, ContextHealth, HealthSnapshot, PortMapping } from '../snapshot.ts';
import { checkAgainstSnapshot } from './cluster-check.ts';
import type { ClusterCheckOptions } from './cluster-check.ts';
import { parseTask } from './parse.ts';
import type { TaskSpec } from './schema.ts';
import { validateResponseOf, validateTask } from './validate.ts';

// Plain data: a KinD cluster "dev" (context kind-dev) on one 8-CPU, 16 GiB node,
// publishing NodePorts 30080-30082 on 127.0.0.1:8080-8082, and a remote context "prod".

const GiB = 1024 ** 3;
const mapping = (containerPort: number, hostPort: number, hostIp = '127.0.0.1'): PortMapping => ({ containerPort, hostPort, hostIp, protocol: 'tcp' });

function cluster(over: Partial<ClusterHealth> = {}): ClusterHealth {
  return {
    name: 'dev',
    state: 'running',
    context: 'kind-dev',
    apiEndpoint: 'https://127.0.0.1:41234',
    nodes: [{ name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true, cpus: 8, memoryBytes: 16 * GiB }],
    portMappings: [mapping(30080, 8080), mapping(30081, 8081), mapping(30082, 8082)],
    ...over,
  };
}

const context = (name: string, over: Partial<ContextHealth> = {}): ContextHealth => ({ name, current: false, state: 'ok', ...over });

function snapshot(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    overall: 'ok',
    checkedAt: '2025-01-01T00:00:00.000Z',
    docker: { state: 'running', endpoint: 'unix:///var/run/docker.sock', version: '27.0.0' },
    clusters: [cluster()],
    contexts: [context('kind-dev', { current: true }), context('prod')],
    server: { state: 'healthy' },
    problems: [],
    ...over,
  };
}

const FRESH: ClusterCheckOptions = { snapshotAgeMs: 500, maxAgeMs: 5_000 };

function task(yaml: string): TaskSpec {
  const parsed = parseTask(yaml);
  expect(parsed.errors).toEqual([]);
  if (!parsed.task) throw new Error('no task');
  return parsed.task;
}

describe('the target context', () => {
  it('infra: k8s/CONTEXT names it', () => {
    const r = checkAgainstSnapshot(task('resources: {infra: k8s/prod}\nrun: x'), snapshot(), FRESH);
    expect(r.target).toEqual({ context: 'prod' });
    expect(r.errors).toEqual([]);
  });

  it('otherwise the only running KinD cluster, even when another context is current', () => {
    const snap = snapshot({ contexts: [context('kind-dev'), context('prod', { current: true })] });
    expect(checkAgainstSnapshot(task('run: x'), snap, FRESH).target).toEqual({ context: 'kind-dev', cluster: 'dev' });
  });

  it('otherwise the current context', () => {
    const snap = snapshot({
      clusters: [cluster(), cluster({ name: 'b', context: 'kind-b' })],
      contexts: [context('kind-dev'), context('kind-b'), context('prod', { current: true })],
    });
    expect(checkAgainstSnapshot(task('run: x'), snap, FRESH).target).toEqual({ context: 'prod' });
  });

  it('an unknown context is an error on resources.infra listing the known ones', () => {
    const r = checkAgainstSnapshot(task('resources: {infra: k8s/dev}\nrun: x'), snapshot(), FRESH);
    expect(r.target).toBeUndefined();
    expect(r.errors).toEqual([
      { path: 'resources.infra', message: 'there is no context "dev": did you mean k8s/kind-dev? known contexts are kind-dev and prod' },
    ]);
  });

  it('no target at all says why', () => {
    const snap = snapshot({ clusters: [], contexts: [] });
    expect(checkAgainstSnapshot(task('run: x'), snap, FRESH).errors).toEqual([
      {
        path: 'resources',
        message: 'no cluster to launch on: no KinD cluster runs and your kubeconfig has no current context; there are no contexts in your kubeconfig',
      },
    ]);
  });
});

describe('a target that cannot run tasks now: error on resources, with its cause and fix', () => {
  it('Docker stopped → "Docker is not running, so cluster kind-dev cannot run tasks", fix Start Docker', () => {
    // With Docker down the monitor cannot list containers: clusters are unknown or gone.
    const snap = snapshot({ docker: { state: 'stopped', endpoint: 'unix:///var/run/docker.sock' }, clusters: [] });
    const r = checkAgainstSnapshot(task('resources: {ports: 8080}\nrun: x'), snap, FRESH);
    expect(r.errors).toEqual([
      {
        path: 'resources',
        message: 'Docker is not running, so cluster kind-dev cannot run tasks',
        fix: { id: 'start-docker', label: 'Start Docker' },
      },
    ]);
    expect(r.target).toEqual({ context: 'kind-dev', cluster: 'dev' });
    expect(r.ports).toEqual([{ port: 8080, reachable: 'unknown', how: 'cluster kind-dev is not known to Docker now' }]);
  });

  it('the same on resources when infra names the cluster, placed at resources in the text', () => {
    const yaml = 'name: web\nresources:\n  infra: k8s/kind-dev\nrun: x\n';
    const snap = snapshot({ docker: { state: 'stopped', endpoint: 'unix:///var/run/docker.sock' }, clusters: [cluster({ state: 'unknown' })] });
    const r = validateTask(yaml, snap, FRESH);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([
      {
        path: 'resources',
        message: 'Docker is not running, so cluster kind-dev cannot run tasks',
        line: 2,
        column: 1,
        fix: { id: 'start-docker', label: 'Start Docker' },
      },
    ]);
  });

  it('something starting (Docker, the cluster, the context\'s first check) → not yet: no fix offered (no Restart while it starts), and a --when-ready launch may wait', () => {
    const cases: [string, HealthSnapshot, RegExp][] = [
      ['Docker starting', snapshot({ docker: { state: 'starting', endpoint: 'unix:///var/run/docker.sock' }, clusters: [cluster({ state: 'unknown' })] }), /^Docker is starting, so cluster kind-dev cannot run tasks until it answers$/],
      ['cluster starting', snapshot({ clusters: [cluster({ state: 'starting' })] }), /^cluster kind-dev is starting: its API has not answered yet/],
      ['context checking', snapshot({ contexts: [context('kind-dev', { current: true, state: 'checking' })] }), /^context kind-dev: its first check has not answered yet$/],
    ];
    for (const [what, snap, message] of cases) {
      const r = checkAgainstSnapshot(task('resources: {ports: 8080}\nrun: x'), snap, FRESH);
      expect(r.errors, what).toHaveLength(1);
      expect(r.errors[0]?.path, what).toBe('resources');
      expect(r.errors[0]?.message, what).toMatch(message);
      expect(r.errors[0]?.fix, what).toBeUndefined();
      expect(r.errors[0]?.waitable, what).toBe(true);
    }
  });

  it('Docker stopped does not matter for a context that is not KinD', () => {
    const snap = snapshot({ docker: { state: 'stopped', endpoint: 'unix:///var/run/docker.sock' }, clusters: [] });
    expect(checkAgainstSnapshot(task('resources: {infra: k8s/prod}\nrun: x'), snap, FRESH).errors).toEqual([]);
  });

  it('cluster stopped → Start cluster dev', () => {
    const r = checkAgainstSnapshot(task('run: x'), snapshot({ clusters: [cluster({ state: 'stopped' })] }), FRESH);
    expect(r.errors).toEqual([
      { path: 'resources', message: 'cluster kind-dev is stopped', fix: { id: 'start-cluster:dev', label: 'Start cluster dev' } },
    ]);
  });

  it('stale endpoint → Repair context kind-dev', () => {
    const contexts = [
      context('kind-dev', { current: true, state: 'stale-endpoint', server: 'https://127.0.0.1:41234', expectedServer: 'https://127.0.0.1:45555' }),
    ];
    const r = checkAgainstSnapshot(task('run: x'), snapshot({ contexts }), FRESH);
    expect(r.errors).toEqual([
      {
        path: 'resources',
        message: 'context kind-dev has a stale API address: it points at https://127.0.0.1:41234, the cluster listens at https://127.0.0.1:45555',
        fix: { id: 'repair-context:kind-dev', label: 'Repair context kind-dev' },
      },
    ]);
  });

  it('unreachable and auth-failed name their cause', () => {
    const unreachable = snapshot({ clusters: [cluster({ state: 'unreachable', cause: 'no answer from its API in 2 s' })] });
    expect(checkAgainstSnapshot(task('run: x'), unreachable, FRESH).errors).toEqual([
      {
        path: 'resources',
        message: 'cluster kind-dev does not answer (no answer from its API in 2 s)',
        fix: { id: 'restart-cluster:dev', label: 'Restart cluster dev' },
      },
    ]);
    const auth = snapshot({ contexts: [context('prod', { state: 'auth-failed', cause: 'credential plugin timed out after 2 s' })] });
    expect(checkAgainstSnapshot(task('resources: {infra: k8s/prod}\nrun: x'), auth, FRESH).errors).toEqual([
      { path: 'resources', message: 'cannot sign in to context prod (credential plugin timed out after 2 s)' },
    ]);
  });

  it('a snapshot too old → "cluster state unknown (last checked N s ago)", fix Check again', () => {
    const r = checkAgainstSnapshot(task('resources: {ports: 8080}\nrun: x'), snapshot(), { snapshotAgeMs: 42_000, maxAgeMs: 5_000 });
    expect(r.errors).toEqual([
      {
        path: 'resources',
        message: 'cluster state unknown (last checked 42 s ago), so kind-dev cannot be confirmed ready',
        fix: { id: 'refresh-status', label: 'Check again' },
      },
    ]);
    expect(r.ports).toEqual([]);
  });

  it('a degraded cluster only warns', () => {
    const r = checkAgainstSnapshot(task('run: x'), snapshot({ clusters: [cluster({ state: 'degraded' })] }), FRESH);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([{ path: 'resources', message: 'cluster kind-dev is degraded: not every node is Ready' }]);
  });
});

describe('cpus and memory must fit a Ready node', () => {
  it('cpus too big names the largest node', () => {
    const r = checkAgainstSnapshot(task('resources: {cpus: 16}\nrun: x'), snapshot(), FRESH);
    expect(r.errors).toEqual([
      { path: 'resources.cpus', message: '16 CPUs do not fit cluster kind-dev: its largest Ready node, dev-control-plane, has 8' },
    ]);
  });

  it('memory too big, in GiB', () => {
    const r = checkAgainstSnapshot(task('resources: {memory: "32+"}\nrun: x'), snapshot(), FRESH);
    expect(r.errors).toEqual([
      { path: 'resources.memory', message: '32 GiB of memory does not fit cluster kind-dev: its largest Ready node, dev-control-plane, has 16 GiB' },
    ]);
  });

  it('nodes that are not Ready do not count; a fit on some node is fine', () => {
    const nodes = [
      { name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true, cpus: 2, memoryBytes: 4 * GiB },
      { name: 'dev-worker', role: 'worker', state: 'running', ready: false, cpus: 32, memoryBytes: 64 * GiB },
      { name: 'dev-worker2', role: 'worker', state: 'running', ready: true, cpus: 4, memoryBytes: 8 * GiB },
    ];
    const snap = snapshot({ clusters: [cluster({ nodes })] });
    expect(checkAgainstSnapshot(task('resources: {cpus: 4, memory: 8}\nrun: x'), snap, FRESH).errors).toEqual([]);
    expect(checkAgainstSnapshot(task('resources: {cpus: 8}\nrun: x'), snap, FRESH).errors[0]?.message).toContain('dev-worker2, has 4');
  });

  it('positions from the text are kept', () => {
    const r = validateTask('resources:\n  cpus: 64\nrun: x\n', snapshot(), FRESH);
    expect(r.errors[0]).toMatchObject({ path: 'resources.cpus', line: 2, column: 9 });
  });
});

describe('ports: which are reachable from this machine, and how', () => {
  it('3 mapped NodePorts and 4 ports asked: 3 get URLs, the 4th a warning with port-forward', () => {
    const r = checkAgainstSnapshot(task('name: web\nresources: {ports: [8080, 8081, 8082, 9000]}\nrun: x'), snapshot(), FRESH);
    expect(r.errors).toEqual([]);
    expect(r.ports).toEqual([
      {
        port: 8080,
        reachable: 'yes',
        nodePort: 30080,
        hostIp: '127.0.0.1',
        hostPort: 8080,
        url: 'http://127.0.0.1:8080',
        how: 'NodePort 30080, which cluster kind-dev publishes on 127.0.0.1:8080',
      },
      expect.objectContaining({ port: 8081, reachable: 'yes', nodePort: 30081, url: 'http://127.0.0.1:8081' }),
      expect.objectContaining({ port: 8082, reachable: 'yes', nodePort: 30082, url: 'http://127.0.0.1:8082' }),
      {
        port: 9000,
        reachable: 'no',
        how: 'no free published NodePort on cluster kind-dev: reach it with `kubectl --context kind-dev port-forward svc/web 9000`',
      },
    ]);
    expect(r.warnings).toEqual([
      {
        path: 'resources.ports',
        message:
          'port 9000 will not be reachable from this machine: cluster kind-dev publishes 3 NodePorts, and the task asks for 4; reach it with `kubectl --context kind-dev port-forward svc/web 9000`',
      },
    ]);
  });

  it('a mapping whose host port is the task port is preferred; others go in NodePort order', () => {
    const r = checkAgainstSnapshot(task('resources: {ports: [3000, 8082]}\nrun: x'), snapshot(), FRESH);
    expect(r.ports.map((p) => [p.port, p.nodePort, p.url])).toEqual([
      [3000, 30080, 'http://127.0.0.1:8080'],
      [8082, 30082, 'http://127.0.0.1:8082'],
    ]);
  });

  it('NodePorts used by other tasks are not picked', () => {
    const r = checkAgainstSnapshot(task('resources: {ports: [8080, 8081]}\nrun: x'), snapshot(), { ...FRESH, usedNodePorts: [30080, 30081] });
    expect(r.ports.map((p) => [p.port, p.reachable, p.nodePort])).toEqual([
      [8080, 'yes', 30082],
      [8081, 'no', undefined],
    ]);
    expect(r.warnings[0]?.message).toContain('publishes 3 NodePorts, 1 of them free');
  });

  it('published ports outside the NodePort range, or UDP, are not NodePorts; 0.0.0.0 is reached on loopback', () => {
    const portMappings = [mapping(80, 80), { ...mapping(30090, 9090), protocol: 'udp' as const }, mapping(31000, 9999, '0.0.0.0')];
    const r = checkAgainstSnapshot(task('resources: {ports: [8080, 8081]}\nrun: x'), snapshot({ clusters: [cluster({ portMappings })] }), FRESH);
    expect(r.ports[0]).toMatchObject({ nodePort: 31000, url: 'http://127.0.0.1:9999' });
    expect(r.warnings[0]?.message).toContain('port 8081 will not be reachable');
  });

  it('a cluster without extraPortMappings: every port is reached by port-forward', () => {
    const r = checkAgainstSnapshot(task('resources: {ports: [8080, "9000-9001"]}\nrun: x'), snapshot({ clusters: [cluster({ portMappings: [] })] }), FRESH);
    expect(r.ports.every((p) => p.reachable === 'no')).toBe(true);
    expect(r.warnings[0]?.message).toBe(
      'ports 8080, 9000-9001 will not be reachable from this machine: cluster kind-dev publishes no NodePorts (kind extraPortMappings in 30000-32767); reach them with `kubectl --context kind-dev port-forward svc/<task name> 8080 9000 9001`',
    );
  });

  it('a context that is not KinD: NodePorts whose reachability is unknown, one warning', () => {
    const r = checkAgainstSnapshot(task('resources: {infra: k8s/prod, ports: 8080}\nrun: x'), snapshot(), FRESH);
    expect(r.errors).toEqual([]);
    expect(r.ports).toEqual([expect.objectContaining({ port: 8080, reachable: 'unknown' })]);
    expect(r.warnings).toEqual([{ path: 'resources.ports', message: expect.stringContaining('context prod is not a KinD cluster') }]);
  });
});

describe('a pipeline: every task checked where the first runs', () => {
  const opts = { ...FRESH, usedNodePorts: [] };

  it('a later task that asks more than the nodes have is an error naming that task, before anything runs', () => {
    const r = validateTask('name: flow\n---\nrun: a\n---\nname: big\nresources: {cpus: 64}\nrun: b\n', snapshot(), opts);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ path: 'resources.cpus', message: expect.stringMatching(/^task 2 of 2: .*64/) })]);
  });

  it('each later task gets its any_of set chosen against the nodes, the launch values, and a warning when it names another infra', () => {
    const text = 'run: a\n---\nenvs: {TOKEN: null}\nresources:\n  infra: k8s/prod\n  any_of:\n    - {cpus: 32}\n    - {cpus: 2}\nrun: b\n';
    const missing = validateTask(text, snapshot(), opts);
    expect(missing.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^task 2 of 2: TOKEN is required at launch/)]);
    const r = validateTask(text, snapshot(), { ...opts, launch: { envs: { TOKEN: 't' } } });
    expect(r.errors).toEqual([]);
    expect(r.stages?.map((s) => [s.run, s.envs.TOKEN, s.resources.cpus?.amount])).toEqual([['a', 't', undefined], ['b', 't', 2]]);
    expect(r.warnings.map((w) => w.message)).toContain('task 2 of 2: a pipeline runs where its first task runs: this task runs on kind-dev, not prod');
    // The HTTP answer keeps the stages to the server.
    expect(validateResponseOf(r)).not.toHaveProperty('stages');
  });

  it('a single task has no stages', () => {
    expect(validateTask('run: a\n', snapshot(), opts).stages).toBeUndefined();
  });
});
