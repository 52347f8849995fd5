// The tray: a thin renderer of shared/tray-view.ts. It turns the view's plain
// data into a Tray icon, tooltip and Menu, and sends clicks back as what they
// name (a fix id, an action). It computes no health of its own and never
// polls: render() is called with each snapshot the monitor publishes.

import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { OverallState } from '../../shared/snapshot.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { trayView, type TrayAction, type TrayMenuItem, type TrayView } from '../../shared/tray-view.ts';
import { statusDot, trayIconSet, type IconRepresentation } from './icons.ts';

export interface TrayHandlers {
  runFix(fixId: string, label: string): void;
  action(action: TrayAction): void;
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

/** One tray menu entry per view item; clicks go to the handlers by fix id or action. */
export function menuTemplate(view: TrayView, handlers: TrayHandlers, dot?: (state: OverallState) => NativeImage): MenuItemConstructorOptions[] {
  return view.menu.map((item: TrayMenuItem): MenuItemConstructorOptions => {
    const enabled = item.enabled ?? true;
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'status':
        return { label: item.label, enabled: false, ...(item.state && dot ? { icon: dot(item.state) } : {}) };
      case 'fix': {
        const fixId = item.fixId ?? '';
        return { label: item.label, enabled: enabled && fixId !== '', click: () => handlers.runFix(fixId, item.label) };
      }
      case 'checkbox':
        return { label: item.label, type: 'checkbox', checked: item.checked ?? false, enabled, click: () => item.action && handlers.action(item.action) };
      case 'action':
        return { label: item.label, enabled, click: () => item.action && handlers.action(item.action) };
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

  destroy(): void {
    this.tray.destroy();
  }

  private viewOf(snapshot: HealthSnapshot): TrayView {
    return trayView(snapshot, { startAtLogin: this.opts.startAtLogin() });
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
