// The tray: a thin renderer of shared/tray-view.ts. It turns the view's plain
// data into a Tray icon, tooltip and Menu, and sends clicks back as what they
// name (a fix id, an action with its target: a cluster, a dashboard page). It
// computes no health of its own and never polls: render() is called with each
// snapshot the monitor publishes.

import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { OverallState } from '../../shared/snapshot.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import type { ClusterOperation } from '../../shared/contracts/clusters.ts';
import { trayView, type TrayAction, type TrayMenuItem, type TrayTarget, type TrayView } from '../../shared/tray-view.ts';
import { statusDot, trayIconSet, type IconRepresentation } from './icons.ts';

export interface TrayHandlers {
  runFix(fixId: string, label: string): void;
  /** `target`: the cluster or dashboard page the item names (a cluster's submenu), absent for app-wide actions. */
  action(action: TrayAction, target?: TrayTarget): void;
}

export interface TrayControllerOptions {
  handlers: TrayHandlers;
  startAtLogin: () => boolean;
  platform?: NodeJS.Platform;
}

function imageOf(representations: readonly IconRepresentation[], template = false): NativeImage {
  const image = nativeImage.createEmpty();
  for (const r of representations) image.addRepresentation({ scaleFactor: r.scaleFactor, width: r.size, height: r.size, buffer: r.png });
  if (template) image.setTemplateImage(true);
  return image;
}

const targetOf = (item: TrayMenuItem): TrayTarget | undefined =>
  item.route !== undefined || item.cluster !== undefined ? { ...(item.route !== undefined ? { route: item.route } : {}), ...(item.cluster !== undefined ? { cluster: item.cluster } : {}) } : undefined;

function act(handlers: TrayHandlers, item: TrayMenuItem): void {
  if (!item.action) return;
  const target = targetOf(item);
  if (target) handlers.action(item.action, target);
  else handlers.action(item.action);
}

/** One tray menu entry per view item (submenus nested); clicks go to the handlers by fix id or action. */
export function menuTemplate(view: Pick<TrayView, 'menu'>, handlers: TrayHandlers, dot?: (state: OverallState) => NativeImage): MenuItemConstructorOptions[] {
  return view.menu.map((item: TrayMenuItem): MenuItemConstructorOptions => {
    const enabled = item.enabled ?? true;
    const icon = item.state && dot ? { icon: dot(item.state) } : {};
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'status':
        return { label: item.label, enabled: false, ...icon };
      case 'submenu':
        return { label: item.label, enabled, ...icon, submenu: menuTemplate({ menu: item.items ?? [] }, handlers, dot) };
      case 'fix': {
        const fixId = item.fixId ?? '';
        return { label: item.label, enabled: enabled && fixId !== '', click: () => handlers.runFix(fixId, item.label) };
      }
      case 'checkbox':
        return { label: item.label, type: 'checkbox', checked: item.checked ?? false, enabled, click: () => act(handlers, item) };
      case 'action':
        return { label: item.label, enabled, ...icon, click: () => act(handlers, item) };
    }
  });
}

export class TrayController {
  private readonly tray: Tray;
  private readonly opts: TrayControllerOptions;
  private readonly platform: NodeJS.Platform;
  private readonly icons = new Map<OverallState, NativeImage>();
  private readonly dots = new Map<OverallState, NativeImage>();
  private shownIcon: OverallState | undefined;
  /** Cluster operations running now, by id (from the event stream): each a line in the menu until it ends. */
  private readonly operations = new Map<string, ClusterOperation>();
  private last: { snapshot: HealthSnapshot; view: TrayView } | undefined;

  constructor(first: HealthSnapshot, opts: TrayControllerOptions) {
    this.opts = opts;
    this.platform = opts.platform ?? process.platform;
    const view = this.viewOf(first);
    this.tray = new Tray(this.icon(view.icon));
    this.shownIcon = view.icon;
    // Windows opens a tray app's window on a left click; elsewhere a click opens the menu.
    if (this.platform === 'win32') this.tray.on('click', () => opts.handlers.action('open-dashboard'));
    this.apply(first, view);
  }

  /** The latest view, for tests and for the window's first paint. */
  get view(): TrayView | undefined {
    return this.last?.view;
  }

  render(snapshot: HealthSnapshot): void {
    this.apply(snapshot, this.viewOf(snapshot));
  }

  /** Draws the menu again with the same snapshot (after "Start at login" changed). */
  refresh(): void {
    if (this.last) this.render(this.last.snapshot);
  }

  /** An operation's news (a step began or ended, it finished): the menu follows it. */
  operation(op: ClusterOperation): void {
    const was = this.operations.get(op.id);
    if (op.state === 'running') this.operations.set(op.id, op);
    else this.operations.delete(op.id);
    if (was || op.state === 'running') this.refresh();
  }

  destroy(): void {
    this.tray.destroy();
  }

  private viewOf(snapshot: HealthSnapshot): TrayView {
    return trayView(snapshot, { startAtLogin: this.opts.startAtLogin(), operations: [...this.operations.values()] });
  }

  private apply(snapshot: HealthSnapshot, view: TrayView): void {
    if (view.icon !== this.shownIcon) {
      this.tray.setImage(this.icon(view.icon));
      this.shownIcon = view.icon;
    }
    this.tray.setToolTip(view.tooltip);
    // Linux status notifiers take a new menu only through setContextMenu, so it is rebuilt each time.
    this.tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(view, this.opts.handlers, (s) => this.dot(s))));
    this.last = { snapshot, view };
  }

  private icon(state: OverallState): NativeImage {
    let image = this.icons.get(state);
    if (!image) {
      const set = trayIconSet(state, this.platform);
      image = imageOf(set.representations, set.template);
      this.icons.set(state, image);
    }
    return image;
  }

  private dot(state: OverallState): NativeImage {
    let image = this.dots.get(state);
    if (!image) {
      image = imageOf(statusDot(state));
      this.dots.set(state, image);
    }
    return image;
  }
}
