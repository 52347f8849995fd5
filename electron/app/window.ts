// The dashboard window, hardened. It loads the dashboard from the supervisor's
// own origin (http://127.0.0.1:PORT/), the same files and the same origin the
// browser uses, so API calls are same-origin and the supervisor's CSP and
// Host/Origin checks apply unchanged. Around that:
// - the page runs sandboxed, context-isolated, without Node, in its own
//   in-memory session (nothing persists, no other page shares it);
// - a second Content-Security-Policy is added to every response in that
//   session (a page must satisfy both), so a response that lacks one is still
//   covered;
// - it cannot navigate away from that origin, nor open windows: links to a
//   task's endpoint or the project docs open in the system browser, anything
//   else is dropped;
// - every permission request and check is refused (one exception below);
// - the preload hands over the server's URL and token through IPC, answering
//   only this window's top frame on that origin.

import { fileURLToPath } from 'node:url';
import {
  BrowserWindow,
  session,
  shell,
  type IpcMainInvokeEvent,
  type Session,
  type WebContents,
} from 'electron';
import { DASHBOARD_PAGES, isAllowedExternalUrl, type DashboardPage, type EventChannel, type IpcEventMap } from '../../shared/ipc.ts';
import { WINDOW_CSP } from '../../shared/csp.ts';
import { isDashboardLink } from '../../shared/dashboard-links.ts';

/** The window's session: in memory only (no `persist:`), used by nothing else. */
export const WINDOW_PARTITION = 'kindtray-dashboard';

/** The preload, compiled beside the compiled main (preload.cts → preload.cjs). */
export const PRELOAD_PATH = fileURLToPath(new URL('./preload.cjs', import.meta.url));

export { WINDOW_CSP };

/**
 * Clipboard writes stay allowed for the dashboard's own page: "copy
 * diagnostics report" uses navigator.clipboard.writeText, which Chromium gates
 * on this permission. It writes only, on a user gesture; reading stays refused.
 */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/** Response headers with our policy added to any the server sent (both are enforced). */
export function withContentSecurityPolicy(headers: Record<string, string[]> | undefined, policy: string = WINDOW_CSP): Record<string, string[]> {
  const out: Record<string, string[]> = { ...headers };
  const key = Object.keys(out).find((k) => k.toLowerCase() === 'content-security-policy') ?? 'Content-Security-Policy';
  out[key] = [...(out[key] ?? []), policy];
  return out;
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** Size and chrome; the security settings are written out where the window is made, for scanners and readers alike. */
const WINDOW_FRAME = {
  width: 1120,
  height: 780,
  minWidth: 720,
  minHeight: 480,
  show: false,
  title: 'Kindtray',
  autoHideMenuBar: true,
} as const;

/** Session-wide rules: the CSP on every response, every permission refused. Set once per session. */
export function hardenSession(ses: Session, appOrigin: string): void {
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
  const allowed = (permission: string, origin: string | undefined) => ALLOWED_PERMISSIONS.has(permission) && origin === appOrigin;
  ses.setPermissionRequestHandler((wc, permission, callback) => callback(allowed(permission, wc ? originOf(wc.getURL()) : undefined)));
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => allowed(permission, originOf(requestingOrigin)));
  ses.setDevicePermissionHandler(() => false);
}

export interface DashboardWindowOptions {
  /** The supervisor's origin, `http://127.0.0.1:PORT`. */
  origin: string;
  preload?: string;
  log?: (line: string) => void;
}

export class DashboardWindow {
  private readonly opts: DashboardWindowOptions;
  private readonly origin: string;
  private win: BrowserWindow | undefined;
  private ses: Session | undefined;

  constructor(opts: DashboardWindowOptions) {
    this.opts = opts;
    this.origin = new URL(opts.origin).origin;
  }

  get window(): BrowserWindow | undefined {
    return this.win;
  }

  /** Shows the window (creating it on first use) at `page`, and brings it to the front. */
  show(page: DashboardPage = 'overview'): BrowserWindow {
    return this.showAt(DASHBOARD_PAGES[page], page !== 'overview');
  }

  /** The same at a dashboard link (`#/clusters/dev`, shared/dashboard-links.ts); anything else opens the overview. */
  showLink(link: string): BrowserWindow {
    return isDashboardLink(link) ? this.showAt(link, true) : this.show();
  }

  private showAt(hash: string, navigate: boolean): BrowserWindow {
    const url = `${this.origin}/${hash}`;
    const existing = this.win;
    if (existing && !existing.isDestroyed()) {
      if (navigate) void existing.loadURL(url);
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return existing;
    }
    const win = this.create();
    void win.loadURL(url);
    return win;
  }

  /** Pushes an event to the page, if the window is open. */
  send<E extends EventChannel>(channel: E, payload: IpcEventMap[E]): void {
    const win = this.win;
    if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
  }

  /** Whether an IPC call comes from this window's top frame, showing our origin. */
  isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): boolean {
    const win = this.win;
    if (!win || win.isDestroyed() || event.sender.id !== win.webContents.id) return false;
    const frame = event.senderFrame;
    return frame !== null && frame.parent === null && originOf(frame.url) === this.origin;
  }

  close(): void {
    if (this.win && !this.win.isDestroyed()) this.win.destroy();
    this.win = undefined;
  }

  private session(): Session {
    if (!this.ses) {
      this.ses = session.fromPartition(WINDOW_PARTITION);
      hardenSession(this.ses, this.origin);
    }
    return this.ses;
  }

  private create(): BrowserWindow {
    const win = new BrowserWindow({
      ...WINDOW_FRAME,
      webPreferences: {
        preload: this.opts.preload ?? PRELOAD_PATH,
        session: this.session(),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        experimentalFeatures: false,
        navigateOnDragDrop: false,
        // A middle click would otherwise ask for a new window; the open handler refuses those anyway.
        disableBlinkFeatures: 'Auxclick',
        safeDialogs: true,
        spellcheck: false,
      },
    });
    this.win = win;
    this.guard(win.webContents);
    win.once('ready-to-show', () => {
      win.show();
      win.focus();
    });
    win.on('closed', () => {
      if (this.win === win) this.win = undefined;
    });
    return win;
  }

  /** Navigation stays on our origin; windows never open; allowed links go to the system browser. */
  private guard(wc: WebContents): void {
    const leave = (url: string) => {
      if (isAllowedExternalUrl(url)) void shell.openExternal(url);
      else this.opts.log?.(`window: blocked a link to ${url.slice(0, 200)}`);
    };
    wc.on('will-navigate', (event, url) => {
      if (originOf(url) === this.origin) return;
      event.preventDefault();
      leave(url);
    });
    wc.on('will-redirect', (event, url) => {
      if (originOf(url) === this.origin) return;
      event.preventDefault();
    });
    wc.setWindowOpenHandler(({ url }) => {
      leave(url);
      return { action: 'deny' };
    });
    wc.on('will-attach-webview', (event) => event.preventDefault());
  }
}
