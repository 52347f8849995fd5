import { describe, expect, it } from 'vitest';
import {
  deriveProblems,
  headline,
  overallOf,
  rootCauseFor,
  withProblems,
  type SnapshotInput,
} from './problems.ts';
import { parseFixId } from './fixes.ts';
import type { Problem } from './snapshot.ts';
import { dockerStoppedInput, healthyInput, kindCluster, kubeContext } from './snapshot-fixtures.ts';

const ids = (ps: Problem[]) => ps.map((p) => p.id);
const byId = (ps: Problem[], id: string): Problem => {
  const p = ps.find((q) => q.id === id);
  if (!p) throw new Error(`no problem ${id} in ${ids(ps).join(', ')}`);
  return p;
};
const roots = (ps: Problem[]) => ps.filter((p) => p.causedBy === undefined);

describe('all healthy', () => {
  it('has no problems and is ok', () => {
    const s = withProblems(healthyInput());
    expect(s.problems).toEqual([]);
    expect(s.overall).toBe('ok');
  });

  it('Docker running with zero clusters is not an error: one info hint, no fix', () => {
    const s = withProblems({ ...healthyInput(), clusters: [], contexts: [], kubeconfig: { files: [] } });
    expect(s.overall).toBe('ok');
    expect(s.problems).toHaveLength(1);
    expect(s.problems[0]).toMatchObject({ id: 'clusters:none', severity: 'info', title: 'No KinD clusters' });
    expect(s.problems[0]?.fix).toBeUndefined();
    expect(s.problems[0]?.detail).toContain('kind create cluster');
  });
});

describe('Docker', () => {
  it('stopped → one root error, clusters and contexts point at it without a fix of their own', () => {
    const s = withProblems(dockerStoppedInput());
    expect(s.overall).toBe('error');
    expect(roots(s.problems)).toHaveLength(1);
    const root = s.problems[0];
    expect(root).toMatchObject({ id: 'docker:stopped', severity: 'error', title: 'Docker is not running', fix: { id: 'start-docker', label: 'Start Docker' } });
    expect(ids(s.problems.slice(1)).sort()).toEqual(['cluster:dev:unknown', 'cluster:test:unknown', 'context:kind-dev:unreachable', 'context:kind-test:unknown']);
    for (const p of s.problems.slice(1)) {
      expect(p.causedBy).toBe('docker:stopped');
      expect(p.severity).toBe('info'); // the root carries the weight: nothing counts twice
      expect(p.fix).toBeUndefined(); // no "Start cluster" before Docker runs
    }
  });

  it('stopped → the root counts what it affects, in its detail and its headline', () => {
    const s = withProblems(dockerStoppedInput());
    const root = byId(s.problems, 'docker:stopped');
    expect(root.detail).toBe('2 clusters and 2 contexts affected. No Docker socket at /var/run/docker.sock.');
    expect(headline(root, s.problems)).toBe('Docker is not running: 2 clusters and 2 contexts affected');
  });

  it('stopped with one cluster and only its current context probed → "1 cluster and 1 context affected"', () => {
    const input = dockerStoppedInput();
    const s = withProblems({ ...input, clusters: input.clusters.slice(0, 1), contexts: input.contexts.slice(0, 1) });
    expect(headline(s.problems[0] as Problem, s.problems)).toBe('Docker is not running: 1 cluster and 1 context affected');
  });

  it('stopped with no clusters → plain "Docker is not running", no "No KinD clusters" hint', () => {
    const s = withProblems({ ...dockerStoppedInput(), clusters: [], contexts: [], kubeconfig: { files: [] } });
    expect(ids(s.problems)).toEqual(['docker:stopped']);
    expect(headline(s.problems[0] as Problem, s.problems)).toBe('Docker is not running');
  });

  it('socket not permitted → names who lacks what, offers how to get access', () => {
    const cause = 'uid 1000 cannot open /var/run/docker.sock (owner uid 0, group gid 998, mode 660); join the socket\'s group (usually "docker") and log in again';
    const s = withProblems({ ...dockerStoppedInput(), docker: { state: 'no-permission', endpoint: 'unix:///var/run/docker.sock', cause } });
    const root = byId(s.problems, 'docker:no-permission');
    expect(root.detail).toContain('uid 1000 cannot open /var/run/docker.sock');
    expect(root.fix).toEqual({ id: 'docker-permission-help', label: 'How to get access to Docker' });
    expect(s.problems.filter((p) => p.causedBy === 'docker:no-permission')).toHaveLength(4);
  });

  it('socket not permitted without a cause → still names the socket and what to do', () => {
    const s = withProblems({ ...healthyInput(), clusters: [], contexts: [], docker: { state: 'no-permission', endpoint: 'unix:///var/run/docker.sock' } });
    expect(s.problems[0]?.detail).toBe('This user cannot open /var/run/docker.sock. Join the group that owns the socket (usually "docker"), then log in again.');
  });

  it('unresponsive → restart Docker; not installed → how to install', () => {
    const base = { ...healthyInput(), clusters: [], contexts: [] };
    const hung = withProblems({ ...base, docker: { state: 'unresponsive', endpoint: 'unix:///var/run/docker.sock' } });
    expect(hung.problems[0]).toMatchObject({ id: 'docker:unresponsive', severity: 'error', fix: { id: 'restart-docker' } });
    expect(hung.problems[0]?.detail).toContain('did not answer in 1.5 s');
    const none = withProblems({ ...base, docker: { state: 'not-installed', endpoint: 'unix:///var/run/docker.sock' } });
    expect(none.problems[0]).toMatchObject({ id: 'docker:not-installed', severity: 'error', fix: { id: 'install-docker-help' } });
  });

  it('Docker down does not swallow problems that have another cause: a malformed kubeconfig stays its own root', () => {
    const s = withProblems({
      ...dockerStoppedInput(),
      kubeconfig: { files: [{ path: '/home/me/.kube/extra', state: 'malformed', cause: 'line 3: mapping values are not allowed here' }] },
    });
    expect(roots(s.problems).map((p) => p.id)).toEqual(['docker:stopped', 'kubeconfig:/home/me/.kube/extra:malformed']);
  });
});

describe('clusters', () => {
  const withCluster = (patch: Parameters<typeof kindCluster>[1], contextPatch = {}): SnapshotInput => {
    const s = healthyInput();
    return {
      ...s,
      clusters: [kindCluster('dev', patch, 41001), ...s.clusters.slice(1)],
      contexts: [kubeContext('kind-dev', { current: true, server: 'https://127.0.0.1:41001', ...contextPatch }), ...s.contexts.slice(1)],
    };
  };

  it('node container stopped → cluster stopped, Start cluster; its kind-dev context points at it', () => {
    const s = withProblems(
      withCluster({ state: 'stopped', apiEndpoint: undefined, nodes: [{ name: 'dev-control-plane', role: 'control-plane', state: 'exited' }] }, { state: 'unreachable' }),
    );
    expect(s.overall).toBe('error');
    expect(s.problems[0]).toMatchObject({
      id: 'cluster:dev:stopped',
      severity: 'error',
      title: 'Cluster dev is stopped',
      fix: { id: 'start-cluster:dev', label: 'Start cluster dev' },
    });
    expect(s.problems[0]?.detail).toBe('1 context affected. Its node containers are not running: dev-control-plane exited.');
    expect(byId(s.problems, 'context:kind-dev:unreachable')).toMatchObject({ causedBy: 'cluster:dev:stopped', severity: 'info' });
    expect(roots(s.problems)).toHaveLength(1);
  });

  it('nodes not Ready → degraded warn; no fix when every container runs and the control plane is not Ready either', () => {
    const s = withProblems(
      withCluster({
        state: 'degraded',
        nodes: [
          { name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: false },
          { name: 'dev-worker', role: 'worker', state: 'running', ready: false },
        ],
      }),
    );
    expect(s.overall).toBe('warn');
    expect(s.problems).toHaveLength(1);
    expect(s.problems[0]).toMatchObject({ id: 'cluster:dev:degraded', severity: 'warn' });
    expect(s.problems[0]?.detail).toContain('2 of 2 nodes not Ready: dev-control-plane, dev-worker');
    expect(s.problems[0]?.fix).toBeUndefined();
  });

  it('workers NotReady while the control plane is Ready, every container running (KinD after a Docker restart) → the cause named, Restart cluster', () => {
    const s = withProblems(
      withCluster({
        state: 'degraded',
        nodes: [
          { name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true },
          { name: 'dev-worker', role: 'worker', state: 'running', ready: false },
          { name: 'dev-worker2', role: 'worker', state: 'running', ready: true },
        ],
      }),
    );
    expect(s.overall).toBe('warn');
    expect(s.problems[0]).toMatchObject({ id: 'cluster:dev:degraded', severity: 'warn', title: 'Cluster dev: its worker is not Ready', fix: { id: 'restart-cluster:dev' } });
    expect(s.problems[0]?.detail).toBe(
      'dev-worker not Ready while the control plane is, its container running. KinD multi-node clusters come back this way after a Docker restart, when the node addresses change; restarting the cluster brings the workers back.',
    );
  });

  it('a worker container exited → degraded, Start cluster starts it', () => {
    const s = withProblems(
      withCluster({
        state: 'degraded',
        nodes: [
          { name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true },
          { name: 'dev-worker', role: 'worker', state: 'exited', ready: false },
        ],
      }),
    );
    expect(s.problems[0]?.fix?.id).toBe('start-cluster:dev');
  });

  it('API accepts, never answers → unreachable, restart cluster, and the detail names the healthy context to switch to', () => {
    const s = withProblems(withCluster({ state: 'unreachable', cause: 'no answer in 2 s' }, { state: 'unreachable' }));
    const p = byId(s.problems, 'cluster:dev:unreachable');
    expect(p).toMatchObject({ severity: 'error', fix: { id: 'restart-cluster:dev', label: 'Restart cluster dev' } });
    expect(p.detail).toContain('the API at https://127.0.0.1:41001 did not answer: no answer in 2 s');
    expect(p.detail).toContain('use-context:kind-test');
    expect(byId(s.problems, 'context:kind-dev:unreachable').causedBy).toBe('cluster:dev:unreachable');
  });

  it('unreachable with no other healthy context → no switch advice', () => {
    const s = healthyInput();
    const one = withProblems({ ...s, clusters: [kindCluster('dev', { state: 'unreachable' })], contexts: [kubeContext('kind-dev', { current: true, state: 'unreachable' })] });
    expect(byId(one.problems, 'cluster:dev:unreachable').detail).not.toContain('switch');
  });
});

describe('contexts', () => {
  it('kubeconfig port differs from the container → stale endpoint, repair context', () => {
    const s = healthyInput();
    const input: SnapshotInput = {
      ...s,
      contexts: [
        kubeContext('kind-dev', { current: true, state: 'stale-endpoint', server: 'https://127.0.0.1:39999', expectedServer: 'https://127.0.0.1:41001', file: '/home/me/.kube/config' }),
        ...s.contexts.slice(1),
      ],
    };
    const out = withProblems(input);
    expect(out.overall).toBe('error');
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({
      id: 'context:kind-dev:stale-endpoint',
      severity: 'error',
      fix: { id: 'repair-context:kind-dev', label: 'Repair context kind-dev' },
    });
    expect(out.problems[0]?.detail).toBe(
      "Kubeconfig in /home/me/.kube/config has https://127.0.0.1:39999, but the cluster's API is now at https://127.0.0.1:41001.",
    );
  });

  it('a stale endpoint on a KinD context that is not current → warn, still repairable', () => {
    const s = healthyInput();
    const out = withProblems({ ...s, contexts: [s.contexts[0]!, kubeContext('kind-test', { state: 'stale-endpoint' })] });
    expect(out.overall).toBe('warn');
    expect(out.problems[0]).toMatchObject({ severity: 'warn', fix: { id: 'repair-context:kind-test' } });
  });

  it('current-context names nothing → dangling, switch to the healthy context, named', () => {
    const s = healthyInput();
    const out = withProblems({
      ...s,
      contexts: s.contexts.map((c) => ({ ...c, current: false })),
      kubeconfig: { files: [{ path: '/home/me/.kube/config', state: 'ok' }], currentContext: 'kind-gone' },
    });
    expect(out.overall).toBe('error');
    expect(out.problems[0]).toMatchObject({
      id: 'context:kind-gone:dangling',
      severity: 'error',
      title: 'Current context kind-gone names nothing',
      fix: { id: 'use-context:kind-dev', label: 'Switch to context kind-dev' },
    });
    expect(out.problems[0]?.detail).toContain('Switch to kind-dev, which is healthy.');
  });

  it('dangling and reported by the monitor as a context too → one problem, not two', () => {
    const s = healthyInput();
    const out = withProblems({
      ...s,
      contexts: [kubeContext('kind-gone', { current: true, state: 'dangling' }), ...s.contexts.map((c) => ({ ...c, current: false }))],
      kubeconfig: { files: [], currentContext: 'kind-gone' },
    });
    expect(ids(out.problems)).toEqual(['context:kind-gone:dangling']);
  });

  it('dangling with nothing healthy to switch to → no fix, a hint instead', () => {
    const out = withProblems({
      ...healthyInput(),
      clusters: [],
      contexts: [kubeContext('old', { current: true, state: 'dangling' })],
    });
    const p = byId(out.problems, 'context:old:dangling');
    expect(p.fix).toBeUndefined();
    expect(p.detail).toContain('kind create cluster');
  });

  it('credential plugin never returns → auth timed out, no fix', () => {
    const s = healthyInput();
    const out = withProblems({
      ...s,
      contexts: [...s.contexts, kubeContext('gke-prod', { state: 'auth-failed', cause: 'credential plugin gke-gcloud-auth-plugin: no answer in 2 s' })],
    });
    const p = byId(out.problems, 'context:gke-prod:auth-failed');
    expect(p.title).toBe('Context gke-prod: authentication timed out');
    expect(p.fix).toBeUndefined();
    // Someone else's context that is not current: worth saying, not worth a yellow icon.
    expect(p.severity).toBe('info');
    expect(out.overall).toBe('ok');
  });

  it('the current context unreachable (no KinD cluster behind it) → error, switch to a healthy one', () => {
    const s = healthyInput();
    const out = withProblems({
      ...s,
      contexts: [kubeContext('remote', { current: true, state: 'unreachable', server: 'https://10.0.0.5:6443' }), ...s.contexts.map((c) => ({ ...c, current: false }))],
    });
    expect(out.problems[0]).toMatchObject({ id: 'context:remote:unreachable', severity: 'error', fix: { id: 'use-context:kind-dev' } });
  });

  it('a context not probed yet (unknown, nothing to blame) → no problem', () => {
    const s = healthyInput();
    expect(deriveProblems({ ...s, contexts: [...s.contexts, kubeContext('other', { state: 'unknown' })] })).toEqual([]);
  });

  it('context names with colons (EKS ARNs) keep stable ids and parse back', () => {
    const arn = 'arn:aws:eks:eu-west-1:123:cluster/prod';
    const s = healthyInput();
    const out = withProblems({ ...s, contexts: [kubeContext(arn, { current: true, state: 'unreachable' }), ...s.contexts.map((c) => ({ ...c, current: false }))] });
    expect(out.problems[0]?.id).toBe(`context:${arn}:unreachable`);
    expect(parseFixId(`use-context:${arn}`)).toEqual({ ok: true, fix: { kind: 'use-context', context: arn } });
  });
});

describe('kubeconfig files', () => {
  it('a file in KUBECONFIG that is missing → warn; malformed → error with the path and cause', () => {
    const out = withProblems({
      ...healthyInput(),
      kubeconfig: {
        files: [
          { path: '/home/me/.kube/config', state: 'ok' },
          { path: '/tmp/gone.yaml', state: 'missing' },
          { path: '/home/me/.kube/broken', state: 'malformed', cause: 'line 7: did not find expected key' },
        ],
        currentContext: 'kind-dev',
      },
    });
    expect(out.overall).toBe('error');
    expect(out.problems.map((p) => [p.id, p.severity])).toEqual([
      ['kubeconfig:/home/me/.kube/broken:malformed', 'error'],
      ['kubeconfig:/tmp/gone.yaml:missing', 'warn'],
    ]);
    expect(out.problems[0]?.detail).toContain('/home/me/.kube/broken: line 7: did not find expected key');
  });
});

describe('server', () => {
  const server = (state: Parameters<typeof withServer>[0], extra = {}) => withServer(state, extra);
  function withServer(state: 'healthy' | 'slow' | 'hung' | 'down' | 'restarting' | 'port-conflict', extra: object) {
    return withProblems({ ...healthyInput(), server: { state, port: 46590, pid: 4242, ...extra } });
  }

  it('event loop blocked → hung, Restart server', () => {
    const s = server('hung');
    expect(s.overall).toBe('error');
    expect(s.problems[0]).toMatchObject({ id: 'server:hung', severity: 'error', fix: { id: 'restart-server', label: 'Restart server' } });
  });

  it('down → Restart server; slow → warn without a fix', () => {
    expect(server('down').problems[0]).toMatchObject({ id: 'server:down', severity: 'error', fix: { id: 'restart-server' } });
    const slow = server('slow', { latencyMs: 1800 });
    expect(slow.overall).toBe('warn');
    expect(slow.problems[0]).toMatchObject({ id: 'server:slow', severity: 'warn' });
    expect(slow.problems[0]?.detail).toBe('The API answered in 1.8 s.');
  });

  it('no server at all (status before anything started one) → info, Start server, not an error', () => {
    const s = withProblems({ ...healthyInput(), server: { state: 'down' } });
    expect(s.overall).toBe('ok');
    expect(s.problems[0]).toMatchObject({ severity: 'info', title: 'Kindtray server is not running', fix: { id: 'restart-server', label: 'Start server' } });
  });

  it('restarting → busy', () => {
    const s = server('restarting');
    expect(s.overall).toBe('busy');
    expect(s.problems[0]).toMatchObject({ id: 'server:restarting', severity: 'info' });
  });

  it('port held by another program → warn, the detail names who holds it', () => {
    const s = server('port-conflict', { cause: 'python3 (pid 999) holds 127.0.0.1:46590; Kindtray listens on 46591' });
    expect(s.overall).toBe('warn');
    expect(s.problems[0]).toMatchObject({ id: 'server:port-conflict', title: 'Port 46590 is held by another program' });
    expect(s.problems[0]?.detail).toContain('python3 (pid 999) holds 127.0.0.1:46590');
    expect(s.problems[0]?.fix).toBeUndefined();
  });
});

describe('ordering, overall and busy', () => {
  it('roots first, then by severity; followers last', () => {
    const input = dockerStoppedInput();
    const out = deriveProblems({
      ...input,
      kubeconfig: { files: [{ path: '/tmp/gone.yaml', state: 'missing' }] },
      server: { state: 'slow', port: 46590, pid: 1, latencyMs: 900 },
    });
    expect(out.map((p) => [p.id, p.severity, p.causedBy !== undefined])).toEqual([
      ['docker:stopped', 'error', false],
      ['kubeconfig:/tmp/gone.yaml:missing', 'warn', false],
      ['server:slow', 'warn', false],
      ['cluster:dev:unknown', 'info', true],
      ['cluster:test:unknown', 'info', true],
      ['context:kind-dev:unreachable', 'info', true],
      ['context:kind-test:unknown', 'info', true],
    ]);
  });

  it('ids are stable across snapshots', () => {
    expect(ids(deriveProblems(dockerStoppedInput()))).toEqual(ids(deriveProblems({ ...dockerStoppedInput(), checkedAt: '2030-01-01T00:00:00Z' })));
  });

  it('a fix running → busy, shown as an in-progress problem with its label', () => {
    const s = withProblems(dockerStoppedInput(), { busy: ['start-docker'] });
    expect(s.overall).toBe('busy');
    expect(byId(s.problems, 'fix:start-docker:running')).toMatchObject({ severity: 'info', title: 'Start Docker: running…' });
  });

  it('overall: error beats warn, warn beats ok, and only roots count', () => {
    const p = (id: string, severity: Problem['severity'], causedBy?: string): Problem => ({ id, severity, title: id, detail: '', ...(causedBy ? { causedBy } : {}) });
    const server = { state: 'healthy' as const };
    expect(overallOf([p('a', 'warn'), p('b', 'error')], { server })).toBe('error');
    expect(overallOf([p('a', 'warn'), p('b', 'info')], { server })).toBe('warn');
    expect(overallOf([p('a', 'info'), p('b', 'error', 'a')], { server })).toBe('ok');
    expect(overallOf([], { server })).toBe('ok');
  });
});

describe('fix ids', () => {
  it('every fix a problem offers parses', () => {
    const inputs: SnapshotInput[] = [
      dockerStoppedInput(),
      { ...healthyInput(), docker: { state: 'no-permission', endpoint: 'unix:///var/run/docker.sock' } },
      { ...healthyInput(), clusters: [kindCluster('dev', { state: 'stopped' }), kindCluster('x', { state: 'unreachable' })], server: { state: 'hung', port: 1 } },
    ];
    for (const input of inputs) for (const p of deriveProblems(input)) if (p.fix) expect(parseFixId(p.fix.id).ok, p.fix.id).toBe(true);
  });
});

describe('launch while something is down (rootCauseFor)', () => {
  it('Docker down → the cause of a launch on kind-dev is Docker, with Start Docker', () => {
    const s = withProblems(dockerStoppedInput());
    expect(rootCauseFor(s, 'kind-dev')).toMatchObject({ id: 'docker:stopped', fix: { id: 'start-docker' } });
    expect(rootCauseFor(s, 'kind-test')?.id).toBe('docker:stopped');
  });

  it('a stopped cluster → its own root; a healthy one → nothing', () => {
    const s = healthyInput();
    const out = withProblems({ ...s, clusters: [kindCluster('dev', { state: 'stopped' }), s.clusters[1]!] });
    expect(rootCauseFor(out, 'kind-dev')?.id).toBe('cluster:dev:stopped');
    expect(rootCauseFor(out, 'kind-test')).toBeUndefined();
  });

  it('a stale endpoint blocks its context until repaired', () => {
    const s = healthyInput();
    const out = withProblems({ ...s, contexts: [kubeContext('kind-dev', { current: true, state: 'stale-endpoint' })] });
    expect(rootCauseFor(out, 'kind-dev')?.fix?.id).toBe('repair-context:kind-dev');
  });
});

describe('busy without a named fix', () => {
  it('busy: true → overall busy, one "A fix is running…" line', () => {
    const s = withProblems(healthyInput(), { busy: true });
    expect(s.overall).toBe('busy');
    expect(ids(s.problems)).toEqual(['fixes:running']);
  });
});
