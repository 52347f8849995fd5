import { beforeEach, describe, expect, it, vi } from 'vitest';
import { withProblems } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput } from '../../shared/snapshot-fixtures.ts';
import type { TrayAction } from '../../shared/tray-view.ts';
import { trayView } from '../../shared/tray-view.ts';
import { trayIconSet } from './icons.ts';
import { electron, type FakeImage, type FakeMenu } from './testing/electron-double.ts';
import { TrayController } from './tray.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

const healthy = withProblems(healthyInput());
const dockerStopped = withProblems(dockerStoppedInput());

function controller(platform: NodeJS.Platform = 'linux', startAtLogin = false) {
  const fixes: [string, string][] = [];
  const actions: TrayAction[] = [];
  const c = new TrayController(healthy, {
    platform,
    startAtLogin: () => startAtLogin,
    handlers: { runFix: (id, label) => fixes.push([id, label]), action: (a) => actions.push(a) },
  });
  return { c, fixes, actions, tray: electron.trays[0]! };
}

interface Entry {
  label?: string;
  type?: string;
  enabled?: boolean;
  checked?: boolean;
  icon?: FakeImage;
  click?: () => void;
  submenu?: Entry[];
}
const menuOf = (m: FakeMenu | undefined) => (m?.template ?? []) as Entry[];
const labels = (m: FakeMenu | undefined) => menuOf(m).map((i) => (i.type === 'separator' ? '---' : i.label));
const pngsOf = (image: unknown) => (image as FakeImage).representations.map((r) => r.buffer);

beforeEach(() => electron.reset());

describe('the tray renders the pure tray view', () => {
  it('all healthy → one Tray with the ok icon, the view’s tooltip, and the view’s menu in order', () => {
    const { tray } = controller('linux', true);
    const view = trayView(healthy, { startAtLogin: true });
    expect(electron.called('new Tray')).toHaveLength(1);
    expect(pngsOf(tray.image)).toEqual(trayIconSet('ok', 'linux').representations.map((r) => r.png));
    expect(tray.tooltip).toBe(view.tooltip);
    expect(labels(tray.menu)).toEqual(view.menu.map((i) => (i.kind === 'separator' ? '---' : i.label)));
    const menu = menuOf(tray.menu);
    // Status lines are not clickable; they and the clusters' submenus carry a coloured dot; Start at login is a checkbox.
    expect([menu[0], menu[3]].every((i) => i?.enabled === false && i.icon !== undefined)).toBe(true);
    expect(menu.slice(1, 3).map((i) => [i.label, i.enabled, i.icon !== undefined, i.submenu?.length])).toEqual([
      ['dev: running, 1/1 nodes ready', true, true, 8],
      ['test: running, 2/2 nodes ready', true, true, 8],
    ]);
    expect(menu.find((i) => i.label === 'Start at login')).toMatchObject({ type: 'checkbox', checked: true });
  });

  it('Docker stopped → the icon turns to error, the tooltip leads with the root, Start Docker runs fix start-docker', () => {
    const { c, tray, fixes } = controller();
    c.render(dockerStopped);
    expect(electron.called('tray.setImage')).toHaveLength(1);
    expect(pngsOf(tray.image)).toEqual(trayIconSet('error', 'linux').representations.map((r) => r.png));
    expect(tray.tooltip).toBe('Kindtray: Docker is not running: 2 clusters and 2 contexts affected');
    const start = menuOf(tray.menu).find((i) => i.label === 'Start Docker');
    expect(start).toBeDefined();
    start!.click!();
    expect(fixes).toEqual([['start-docker', 'Start Docker']]);
  });

  it('a fix already running is shown disabled', () => {
    const { c, tray } = controller();
    c.render(withProblems(dockerStoppedInput(), { busy: ['start-docker'] }));
    expect(menuOf(tray.menu).find((i) => i.label === 'Start Docker (running…)')).toMatchObject({ enabled: false });
    expect(pngsOf(tray.image)).toEqual(trayIconSet('busy', 'linux').representations.map((r) => r.png));
  });

  it('the same state again changes the menu but not the image (no needless redraw)', () => {
    const { c } = controller();
    c.render(healthy);
    c.render({ ...healthy, checkedAt: '2026-01-15T10:00:05.000Z' });
    expect(electron.called('tray.setImage')).toHaveLength(0);
    expect(electron.called('tray.setContextMenu')).toHaveLength(3);
  });

  it('menu actions go to the handlers by name', () => {
    const { tray, actions } = controller();
    for (const label of ['Launch task…', 'Open dashboard', 'Start at login', 'Quit']) menuOf(tray.menu).find((i) => i.label === label)!.click!();
    expect(actions).toEqual(['launch-task', 'open-dashboard', 'toggle-start-at-login', 'quit']);
  });

  it('a cluster’s submenu: Stop names the cluster, Open in dashboard / Delete… / Load image… name its page, Start runs its fix', () => {
    const targets: unknown[] = [];
    const fixes: string[] = [];
    const c = new TrayController(healthy, {
      platform: 'linux',
      startAtLogin: () => false,
      handlers: { runFix: (id) => fixes.push(id), action: (a, target) => targets.push([a, target]) },
    });
    const sub = (label: string) => menuOf(electron.trays[0]!.menu).find((i) => i.label?.startsWith(label))!.submenu!;
    for (const label of ['Stop', 'Load image…', 'Open in dashboard', 'Delete…']) sub('dev:').find((i) => i.label === label)!.click!();
    expect(targets).toEqual([
      ['stop-cluster', { cluster: 'dev' }],
      ['open-dashboard', { route: '#/clusters/dev/load-image' }],
      ['open-dashboard', { route: '#/clusters/dev' }],
      ['open-dashboard', { route: '#/clusters/dev/delete' }],
    ]);
    menuOf(electron.trays[0]!.menu).find((i) => i.label === 'Create cluster…')!.click!();
    expect(targets.at(-1)).toEqual(['open-dashboard', { route: '#/new-cluster' }]);
    c.render(withProblems({ ...healthyInput(), clusters: healthyInput().clusters.map((x) => (x.name === 'dev' ? { ...x, state: 'stopped' as const } : x)) }));
    const start = sub('dev:').find((i) => i.label === 'Start')!;
    expect(sub('dev:')[0]).toMatchObject({ enabled: false });
    expect(sub('dev:')[0]!.icon).toBeDefined();
    start.click!();
    expect(fixes).toEqual(['start-cluster:dev']);
  });

  it('macOS gets template images; Windows opens the dashboard on a left click', () => {
    const mac = controller('darwin');
    expect((mac.tray.image as FakeImage).template).toBe(true);
    expect((mac.tray.image as FakeImage).representations.map((r) => r.scaleFactor)).toEqual([1, 2]);
    expect(mac.tray.listenerCount('click')).toBe(0);
    electron.reset();
    const win = controller('win32');
    expect((win.tray.image as FakeImage).template).toBe(false);
    win.tray.emit('click');
    expect(win.actions).toEqual(['open-dashboard']);
  });

  it('a cluster operation from the event stream: the busy icon and its line while it runs, gone when it ends', () => {
    const { c, tray } = controller();
    const op = { id: 'op-1', kind: 'create' as const, cluster: 'fresh', state: 'running' as const, startedAt: '2026-01-15T10:00:00Z', steps: [{ title: 'Preparing nodes 📦', state: 'running' as const, startedAt: '2026-01-15T10:00:00Z' }] };
    c.operation(op);
    expect(pngsOf(tray.image)).toEqual(trayIconSet('busy', 'linux').representations.map((r) => r.png));
    expect(labels(tray.menu)).toContain('Creating cluster fresh: Preparing nodes…');
    expect(tray.tooltip).toBe('Kindtray: Creating cluster fresh: Preparing nodes…');
    c.operation({ ...op, state: 'succeeded' });
    expect(labels(tray.menu)).not.toContain('Creating cluster fresh: Preparing nodes…');
    expect(pngsOf(tray.image)).toEqual(trayIconSet('ok', 'linux').representations.map((r) => r.png));
  });

  it('refresh() redraws the Start at login checkbox from its current state', () => {
    let on = false;
    electron.reset();
    const c = new TrayController(healthy, { platform: 'linux', startAtLogin: () => on, handlers: { runFix: () => undefined, action: () => undefined } });
    on = true;
    c.refresh();
    expect(menuOf(electron.trays[0]!.menu).find((i) => i.label === 'Start at login')).toMatchObject({ checked: true });
    c.destroy();
    expect(electron.trays[0]!.destroyed).toBe(true);
  });
});
