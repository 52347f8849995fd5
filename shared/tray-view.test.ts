import { describe, expect, it } from 'vitest';
import { withProblems, type SnapshotInput } from './problems.ts';
import type { ClusterOperation } from './contracts/clusters.ts';
import { DASHBOARD_LINKS } from './dashboard-links.ts';
import { CHECKED_AT, dockerStoppedInput, healthyInput, kindCluster, kubeContext } from './snapshot-fixtures.ts';
import { TOOLTIP_MAX, trayView, type TrayMenuItem } from './tray-view.ts';

const labels = (items: TrayMenuItem[]) => items.map((i) => (i.kind === 'separator' ? '---' : i.label));
const fixes = (items: TrayMenuItem[]) => items.filter((i) => i.kind === 'fix');

describe('tray view', () => {
  it('all healthy → ok icon, all-good tooltip, no fixes in the menu', () => {
    const v = trayView(withProblems(healthyInput()), { startAtLogin: true });
    expect(v.icon).toBe('ok');
    expect(v.tooltip).toBe('Kindtray: all good — Docker 27.3.1, 2 clusters running');
    expect(fixes(v.menu)).toEqual([]);
    expect(labels(v.menu)).toEqual([
      'Docker 27.3.1: running',
      'dev: running, 1/1 nodes ready',
      'test: running, 2/2 nodes ready',
      'Server: healthy on port 46590',
      '---',
      'Launch task…',
      'Create cluster…',
      'Open dashboard',
      'Start at login',
      '---',
      'Quit',
    ]);
    expect(v.menu.find((i) => i.kind === 'checkbox')).toMatchObject({ checked: true, action: 'toggle-start-at-login' });
    expect(v.menu.filter((i) => i.kind === 'status').every((i) => i.enabled === false && i.state === 'ok')).toBe(true);
    expect(v.menu.filter((i) => i.kind === 'submenu').map((i) => i.state)).toEqual(['ok', 'ok']);
    expect(v.menu.find((i) => i.label === 'Create cluster…')).toMatchObject({ action: 'open-dashboard', route: '#/new-cluster' });
  });

  it('Docker stopped → error icon, tooltip leads with the root, menu offers Start Docker first and only', () => {
    const v = trayView(withProblems(dockerStoppedInput()));
    expect(v.icon).toBe('error');
    expect(v.tooltip).toBe('Kindtray: Docker is not running: 2 clusters and 2 contexts affected');
    expect(v.menu[0]).toMatchObject({ kind: 'status', label: 'Docker: not running', state: 'error' });
    expect(fixes(v.menu)).toEqual([{ kind: 'fix', label: 'Start Docker', fixId: 'start-docker' }]);
    expect(labels(v.menu)).toContain('dev: state unknown');
  });

  it('Start Docker running → busy icon, the item is disabled and says so', () => {
    const v = trayView(withProblems(dockerStoppedInput(), { busy: ['start-docker'] }));
    expect(v.icon).toBe('busy');
    expect(v.tooltip).toBe('Kindtray: Start Docker: running… — Docker is not running: 2 clusters and 2 contexts affected');
    expect(fixes(v.menu)).toEqual([{ kind: 'fix', label: 'Start Docker (running…)', fixId: 'start-docker', enabled: false }]);
  });

  it('stale kind port → warn icon, Repair context in the menu', () => {
    const s = healthyInput();
    const v = trayView(withProblems({ ...s, contexts: [s.contexts[0]!, kubeContext('kind-test', { state: 'stale-endpoint' })] }));
    expect(v.icon).toBe('warn');
    expect(v.tooltip).toBe('Kindtray: Context kind-test points at an old port');
    expect(fixes(v.menu)).toEqual([{ kind: 'fix', label: 'Repair context kind-test', fixId: 'repair-context:kind-test' }]);
  });

  it('fixes come roots first and once each, and several roots show "+N more" in the tooltip', () => {
    const s = healthyInput();
    const v = trayView(
      withProblems({
        ...s,
        clusters: [kindCluster('dev', { state: 'stopped' }), kindCluster('test', { state: 'unreachable' })],
        contexts: [kubeContext('kind-dev', { current: true, state: 'unreachable' }), kubeContext('kind-test', { state: 'unreachable' })],
        server: { state: 'hung', port: 46590, pid: 1 },
      }),
    );
    expect(v.tooltip).toBe('Kindtray: Cluster dev is stopped: 1 context affected (+2 more)');
    expect(fixes(v.menu).map((i) => i.fixId)).toEqual(['start-cluster:dev', 'restart-cluster:test', 'restart-server']);
  });

  it('tooltip fits 127 chars, one line, with 20 clusters and long names', () => {
    const many = Array.from({ length: 20 }, (_, i) => `cluster-with-a-rather-long-name-${i}`);
    const input: SnapshotInput = {
      ...healthyInput(),
      clusters: many.map((n, i) => kindCluster(n, {}, 42000 + i)),
      contexts: many.map((n) => kubeContext(`kind-${n}`)),
      kubeconfig: { files: [] },
    };
    const ok = trayView(withProblems(input));
    expect(ok.tooltip).toBe('Kindtray: all good — Docker 27.3.1, 20 clusters running');
    const down = trayView(withProblems({ ...input, clusters: input.clusters.map((c) => ({ ...c, state: 'stopped' as const })) }));
    expect(down.tooltip.length).toBeLessThanOrEqual(TOOLTIP_MAX);
    expect(down.tooltip).not.toContain('\n');
    expect(down.tooltip).toMatch(/^Kindtray: Cluster cluster-with-a-rather-long-name-0 is stopped.*\(\+19 more\)$/);
    const longCause = trayView(
      withProblems({ ...input, docker: { state: 'no-permission', endpoint: `unix:///${'very/'.repeat(40)}docker.sock` } }),
    );
    expect(longCause.tooltip.length).toBeLessThanOrEqual(TOOLTIP_MAX);
  });

  it('many clusters → the menu stays short: troubled ones first, then "N more clusters…"; fixes capped too', () => {
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const input: SnapshotInput = {
      ...healthyInput(),
      clusters: names.map((n, i) => kindCluster(n, i >= 15 ? { state: 'stopped' } : {})),
      contexts: [],
      kubeconfig: { files: [] },
    };
    const v = trayView(withProblems(input));
    const status = v.menu.slice(0, v.menu.findIndex((i) => i.kind === 'separator'));
    expect(labels(status)).toEqual([
      'Docker 27.3.1: running',
      'c15: stopped',
      'c16: stopped',
      'c17: stopped',
      'c18: stopped',
      '16 more clusters…',
      'Server: healthy on port 46590',
    ]);
    expect(status[5]).toMatchObject({ kind: 'action', action: 'open-dashboard' });
    expect(labels(v.menu.filter((i) => i.kind === 'fix' || i.label.endsWith('more fixes…')))).toEqual([
      'Start cluster c15',
      'Start cluster c16',
      'Start cluster c17',
      '2 more fixes…',
    ]);
    expect(v.menu.length).toBeLessThanOrEqual(20);
  });

  it('no clusters → all good says so, no fixes, and Create cluster… opens the form', () => {
    const v = trayView(withProblems({ ...healthyInput(), clusters: [], contexts: [], kubeconfig: { files: [] } }));
    expect(v.icon).toBe('ok');
    expect(v.tooltip).toBe('Kindtray: all good — Docker 27.3.1, no KinD clusters');
    expect(fixes(v.menu)).toEqual([]);
    expect(labels(v.menu).slice(0, 3)).toEqual(['Docker 27.3.1: running', 'No KinD clusters', 'Server: healthy on port 46590']);
    expect(v.menu.find((i) => i.label === 'Create cluster…')).toMatchObject({ kind: 'action', action: 'open-dashboard', route: DASHBOARD_LINKS.createCluster });
  });

  it('server restarting → busy icon and the server line says so', () => {
    const v = trayView(withProblems({ ...healthyInput(), server: { state: 'restarting', port: 46590 } }));
    expect(v.icon).toBe('busy');
    expect(v.tooltip).toBe('Kindtray: Server is restarting');
    expect(v.menu.find((i) => i.label.startsWith('Server:'))).toMatchObject({ label: 'Server: restarting…', state: 'busy' });
  });
});

describe('tray view: a submenu per cluster', () => {
  // Six clusters, each in another state: the submenus say each truthfully and offer what applies.
  const input = (): SnapshotInput => {
    const s = healthyInput();
    return {
      ...s,
      clusters: [
        kindCluster('dev', {}, 41001),
        kindCluster('fresh', {}, 41003),
        kindCluster('boot', { state: 'starting', startingSince: Date.parse(s.checkedAt) - 2_000 }, 41004),
        kindCluster('old', { state: 'stopped', nodes: [{ name: 'old-control-plane', role: 'control-plane', state: 'exited' }] }, 41005),
        kindCluster('hung', { state: 'unreachable', cause: 'API server not answering: connect ECONNREFUSED 127.0.0.1:41006' }, 41006),
        kindCluster('mystery', { state: 'unknown', nodes: [] }, 41007),
      ],
      contexts: [
        kubeContext('kind-dev', { current: true, server: 'https://127.0.0.1:41001' }),
        kubeContext('kind-fresh', { state: 'checking', server: 'https://127.0.0.1:41003' }),
        kubeContext('kind-boot', { state: 'checking', server: 'https://127.0.0.1:41004' }),
        kubeContext('kind-old', { state: 'unreachable', server: 'https://127.0.0.1:41005' }),
        kubeContext('kind-hung', { state: 'unreachable', server: 'https://127.0.0.1:41006' }),
        kubeContext('kind-mystery', { state: 'unknown', server: 'https://127.0.0.1:41007' }),
      ],
    };
  };
  const submenus = (v: { menu: TrayMenuItem[] }): Record<string, TrayMenuItem> =>
    Object.fromEntries(v.menu.filter((i) => i.kind === 'submenu').map((i) => [i.cluster ?? '', i]));
  const itemsOf = (i: TrayMenuItem | undefined) => i?.items ?? [];

  it('each cluster is a submenu led by its state; only a cluster whose API answered is green', () => {
    const menus = submenus(trayView(withProblems(input()), { maxClusters: 10 }));
    expect(Object.keys(menus)).toEqual(['boot', 'old', 'hung', 'mystery', 'dev', 'fresh']);
    expect(Object.fromEntries(Object.entries(menus).map(([n, i]) => [n, [i.label, i.state]]))).toEqual({
      dev: ['dev: running, 1/1 nodes ready', 'ok'],
      fresh: ['fresh: running, checking…', 'busy'],
      boot: ['boot: starting…', 'busy'],
      old: ['old: stopped', 'error'],
      hung: ['hung: not answering', 'error'],
      mystery: ['mystery: state unknown', 'warn'],
    });
    // Starting, checking and unknown are never green, neither on the item nor inside it.
    for (const name of ['fresh', 'boot', 'mystery']) {
      expect([menus[name]!.state, ...itemsOf(menus[name]).map((i) => i.state)]).not.toContain('ok');
    }
    expect(labels(itemsOf(menus.dev))).toEqual([
      'running · 1/1 nodes ready · v1.31.0',
      'Context kind-dev: ok (current)',
      '---',
      'Stop',
      'Load image…',
      'Open in dashboard',
      '---',
      'Delete…',
    ]);
    expect(labels(itemsOf(menus.hung)).slice(0, 3)).toEqual(['not answering · 1/1 nodes ready · v1.31.0', 'API server not answering: connect ECONNREFUSED 127.0.0.1:41006', 'Context kind-hung: unreachable']);
    expect(itemsOf(menus.dev).filter((i) => i.kind === 'status').every((i) => i.enabled === false)).toBe(true);
  });

  it('Start on a stopped cluster, Stop on a running one, Restart and Stop on one not answering; nothing to run while its state is unknown', () => {
    const menus = submenus(trayView(withProblems(input()), { maxClusters: 10 }));
    const power = (name: string) => itemsOf(menus[name]).filter((i) => i.kind === 'fix' || i.action === 'stop-cluster');
    expect(power('old')).toEqual([{ kind: 'fix', label: 'Start', fixId: 'start-cluster:old' }]);
    expect(power('dev')).toEqual([{ kind: 'action', label: 'Stop', action: 'stop-cluster', cluster: 'dev' }]);
    expect(power('boot')).toEqual([{ kind: 'action', label: 'Stop', action: 'stop-cluster', cluster: 'boot' }]);
    expect(power('hung')).toEqual([
      { kind: 'fix', label: 'Restart', fixId: 'restart-cluster:hung' },
      { kind: 'action', label: 'Stop', action: 'stop-cluster', cluster: 'hung' },
    ]);
    expect(power('mystery')).toEqual([{ kind: 'fix', label: 'Start', fixId: 'start-cluster:mystery', enabled: false }]);
  });

  it('Load image…, Open in dashboard and Delete… open the dashboard at that cluster; Load image only on a running one', () => {
    const menus = submenus(trayView(withProblems(input()), { maxClusters: 10 }));
    const item = (name: string, label: string) => itemsOf(menus[name]).find((i) => i.label === label);
    expect(item('dev', 'Open in dashboard')).toMatchObject({ action: 'open-dashboard', route: '#/clusters/dev' });
    expect(item('dev', 'Delete…')).toMatchObject({ action: 'open-dashboard', route: '#/clusters/dev/delete' });
    expect(item('dev', 'Load image…')).toMatchObject({ action: 'open-dashboard', route: '#/clusters/dev/load-image' });
    expect(item('dev', 'Load image…')!.enabled).toBeUndefined();
    expect(item('old', 'Load image…')!.enabled).toBe(false);
    expect(item('old', 'Delete…')!.enabled).toBeUndefined();
  });

  it('a Start already running shows so, disabled, in its cluster’s submenu', () => {
    const menus = submenus(trayView(withProblems(input(), { busy: ['start-cluster:old'] }), { maxClusters: 10 }));
    expect(itemsOf(menus.old).find((i) => i.kind === 'fix')).toEqual({ kind: 'fix', label: 'Start (running…)', fixId: 'start-cluster:old', enabled: false });
  });

  it('capped: "N more clusters…" opens the Clusters page', () => {
    const v = trayView(withProblems(input()), { maxClusters: 3 });
    expect(labels(v.menu.slice(1, 4))).toEqual(['boot: starting…', 'old: stopped', '4 more clusters…']);
    expect(v.menu[3]).toMatchObject({ action: 'open-dashboard', route: '#/clusters' });
  });
});


describe('tray view: a cluster operation under way', () => {
  const creating = (over: Partial<ClusterOperation> = {}): ClusterOperation => ({
    id: 'op-1',
    kind: 'create',
    cluster: 'fresh',
    state: 'running',
    startedAt: CHECKED_AT,
    steps: [
      { title: 'Ensuring node image (kindest/node:v1.31.0) 🖼', state: 'succeeded', startedAt: CHECKED_AT, endedAt: CHECKED_AT },
      { title: 'Starting control-plane 🕹️', state: 'running', startedAt: CHECKED_AT },
    ],
    ...over,
  });

  it('a create: the busy icon, its step in the tooltip, and a line for the cluster-to-be that opens its page', () => {
    const v = trayView(withProblems(healthyInput()), { operations: [creating()] });
    expect(v.icon).toBe('busy');
    expect(v.tooltip).toBe('Kindtray: Creating cluster fresh: Starting control-plane…');
    const line = v.menu.find((i) => i.label.startsWith('Creating cluster fresh'));
    expect(line).toMatchObject({ label: 'Creating cluster fresh: Starting control-plane…', state: 'busy', action: 'open-dashboard', route: '#/clusters/fresh' });
    expect(labels(v.menu).indexOf(line!.label)).toBe(1);
  });

  it('a stop on a cluster: its submenu says so, busy, and offers no other Start/Stop meanwhile; an ended one is gone', () => {
    const stop = creating({ kind: 'stop', cluster: 'dev', steps: [{ title: 'Stopping node dev-control-plane', state: 'running', startedAt: CHECKED_AT }] });
    const v = trayView(withProblems(healthyInput()), { operations: [stop] });
    const dev = v.menu.find((i) => i.cluster === 'dev')!;
    expect(dev).toMatchObject({ label: 'dev: stopping…', state: 'busy' });
    expect(dev.items![0]).toMatchObject({ label: 'Stopping cluster dev: Stopping node dev-control-plane…', state: 'busy' });
    expect(dev.items!.find((i) => i.label === 'Stop')).toMatchObject({ enabled: false });
    const ended = trayView(withProblems(healthyInput()), { operations: [{ ...stop, state: 'succeeded' }] });
    expect(ended.icon).toBe('ok');
    expect(ended.menu.find((i) => i.cluster === 'dev')!.label).toBe('dev: running, 1/1 nodes ready');
  });
});
