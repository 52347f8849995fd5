import { beforeEach, describe, expect, it, vi } from 'vitest';
import { electron, type FakeSession, type FakeWindow } from './testing/electron-double.ts';
import { DashboardWindow, PRELOAD_PATH, WINDOW_CSP, WINDOW_PARTITION, withContentSecurityPolicy } from './window.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

const ORIGIN = 'http://127.0.0.1:46590';

function opened(page?: 'overview' | 'launch') {
  const dw = new DashboardWindow({ origin: ORIGIN });
  dw.show(page);
  const win = electron.windows[0]!;
  return { dw, win, wc: win.webContents, ses: electron.sessions.get(WINDOW_PARTITION)! };
}

beforeEach(() => electron.reset());

describe('the dashboard window', () => {
  it('is created on demand with every web preference locked down', () => {
    const dw = new DashboardWindow({ origin: ORIGIN });
    expect(electron.windows).toHaveLength(0);
    dw.show();
    const { options } = electron.windows[0]!;
    expect(options).toMatchObject({ show: false, title: 'Kindtray' });
    expect(options.webPreferences).toMatchObject({
      preload: PRELOAD_PATH,
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
      disableBlinkFeatures: 'Auxclick',
    });
    expect(PRELOAD_PATH.endsWith('preload.cjs')).toBe(true);
    // Its own in-memory session (no "persist:"), hardened once.
    expect((options.webPreferences as { session: FakeSession }).session.partition).toBe(WINDOW_PARTITION);
    expect(WINDOW_PARTITION.startsWith('persist:')).toBe(false);
  });

  it('loads the dashboard from the supervisor’s origin and shows itself when ready', () => {
    const { win } = opened();
    expect(win.loaded).toEqual([`${ORIGIN}/`]);
    expect(win.visible).toBe(false);
    win.emit('ready-to-show');
    expect(win.visible).toBe(true);
  });

  it('is one window: showing it again focuses it; the Launch page opens by hash', () => {
    const { dw, win } = opened();
    win.minimized = true;
    dw.show('launch');
    expect(electron.windows).toHaveLength(1);
    expect(win.minimized).toBe(false);
    expect(win.focused).toBe(true);
    expect(win.loaded).toEqual([`${ORIGIN}/`, `${ORIGIN}/#/launch`]);
  });

  it('a dashboard link (the tray’s cluster pages) opens by hash; anything else opens the overview', () => {
    const { dw, win } = opened();
    dw.showLink('#/clusters/dev/delete');
    dw.showLink('javascript:alert(1)');
    dw.showLink('https://example.com/#/x');
    expect(win.loaded).toEqual([`${ORIGIN}/`, `${ORIGIN}/#/clusters/dev/delete`]);
  });

  it('after it is closed, the next show makes a fresh one', () => {
    const { dw, win } = opened();
    win.destroy();
    expect(dw.window).toBeUndefined();
    dw.show();
    expect(electron.windows).toHaveLength(2);
  });
});

describe('navigation and new windows', () => {
  it('navigation within the origin is allowed; anywhere else is blocked', () => {
    const { wc } = opened();
    expect(wc.fire('will-navigate', `${ORIGIN}/#/tasks`).defaultPrevented).toBe(false);
    expect(wc.fire('will-navigate', 'https://example.com/').defaultPrevented).toBe(true);
    expect(wc.fire('will-navigate', 'http://127.0.0.1:46591/').defaultPrevented).toBe(true);
    expect(wc.fire('will-navigate', 'file:///etc/passwd').defaultPrevented).toBe(true);
    expect(wc.fire('will-redirect', 'https://example.com/').defaultPrevented).toBe(true);
    // Another port on this machine is a task endpoint: the system browser gets it, the window stays.
    expect(electron.openedExternal).toEqual(['http://127.0.0.1:46591/']);
  });

  it('a link to a task endpoint leaves for the system browser instead of navigating', () => {
    const { wc } = opened();
    expect(wc.fire('will-navigate', 'http://127.0.0.1:8080/').defaultPrevented).toBe(true);
    expect(electron.openedExternal).toEqual(['http://127.0.0.1:8080/']);
  });

  it('window.open never opens a window; allow-listed URLs go to the system browser, others nowhere', () => {
    const { wc } = opened();
    expect(wc.windowOpenHandler!({ url: 'http://localhost:9000/' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler!({ url: `${ORIGIN}/` })).toEqual({ action: 'deny' });
    expect(electron.openedExternal).toEqual(['http://localhost:9000/', `${ORIGIN}/`]);
  });

  it('webviews are never attached', () => {
    const { wc } = opened();
    expect(wc.fire('will-attach-webview', {}, {}).defaultPrevented).toBe(true);
  });
});

describe('the session', () => {
  it('adds the window’s CSP to every response, next to the server’s own', () => {
    const { ses } = opened();
    let answered: Record<string, string[]> | undefined;
    ses.headersListener!({ url: `${ORIGIN}/`, responseHeaders: { 'content-security-policy': ["default-src 'self'"], 'content-type': ['text/html'] } }, (r) => {
      answered = r.responseHeaders;
    });
    expect(answered).toEqual({ 'content-security-policy': ["default-src 'self'", WINDOW_CSP], 'content-type': ['text/html'] });
    ses.headersListener!({ url: `${ORIGIN}/x` }, (r) => {
      answered = r.responseHeaders;
    });
    expect(answered).toEqual({ 'Content-Security-Policy': [WINDOW_CSP] });
  });

  it('the CSP allows only our own scripts, no inline or eval, no framing, no plugins', () => {
    expect(WINDOW_CSP).toContain("default-src 'none'");
    expect(WINDOW_CSP).toContain("script-src 'self'");
    expect(WINDOW_CSP).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(WINDOW_CSP).toContain("frame-ancestors 'none'");
    expect(WINDOW_CSP).toContain("object-src 'none'");
    expect(withContentSecurityPolicy(undefined, 'x')).toEqual({ 'Content-Security-Policy': ['x'] });
  });

  it('refuses every permission request and check (camera, notifications, geolocation, …)', () => {
    const { ses, wc } = opened();
    wc.url = `${ORIGIN}/`;
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'midi', 'hid', 'unknown']) {
      let granted: boolean | undefined;
      ses.permissionRequestHandler!(wc, permission, (ok) => (granted = ok));
      expect(granted, permission).toBe(false);
      expect(ses.permissionCheckHandler!(wc, permission, ORIGIN), permission).toBe(false);
    }
    expect(ses.devicePermissionHandler!({})).toBe(false);
  });

  it('the one exception: clipboard writes, for the dashboard’s own origin only', () => {
    const { ses, wc } = opened();
    wc.url = `${ORIGIN}/#/diagnostics`;
    let granted: boolean | undefined;
    ses.permissionRequestHandler!(wc, 'clipboard-sanitized-write', (ok) => (granted = ok));
    expect(granted).toBe(true);
    expect(ses.permissionCheckHandler!(wc, 'clipboard-sanitized-write', ORIGIN)).toBe(true);
    expect(ses.permissionCheckHandler!(wc, 'clipboard-sanitized-write', 'https://evil.example')).toBe(false);
    wc.url = 'https://evil.example/';
    ses.permissionRequestHandler!(wc, 'clipboard-sanitized-write', (ok) => (granted = ok));
    expect(granted).toBe(false);
  });

  it('is hardened once, however often the window is made', () => {
    const { dw, win } = opened();
    win.destroy();
    dw.show();
    expect(electron.called('session.setPermissionRequestHandler')).toHaveLength(1);
    expect(electron.called('session.webRequest.onHeadersReceived')).toHaveLength(1);
  });
});

describe('who may call over IPC', () => {
  const frame = (url: string, parent: unknown = null) => ({ url, parent }) as never;

  it('only this window’s top frame, showing our origin', () => {
    const { dw, wc } = opened();
    expect(dw.isTrustedSender({ sender: wc as never, senderFrame: frame(`${ORIGIN}/#/launch`) })).toBe(true);
    expect(dw.isTrustedSender({ sender: wc as never, senderFrame: frame(`${ORIGIN}/`, {}) })).toBe(false);
    expect(dw.isTrustedSender({ sender: wc as never, senderFrame: frame('https://evil.example/') })).toBe(false);
    expect(dw.isTrustedSender({ sender: wc as never, senderFrame: null })).toBe(false);
    expect(dw.isTrustedSender({ sender: { id: -1 } as never, senderFrame: frame(`${ORIGIN}/`) })).toBe(false);
  });

  it('nobody once the window is closed', () => {
    const { dw, wc, win } = opened();
    win.destroy();
    expect(dw.isTrustedSender({ sender: wc as never, senderFrame: frame(`${ORIGIN}/`) })).toBe(false);
  });

  it('events reach the open window only', () => {
    const dw = new DashboardWindow({ origin: ORIGIN });
    dw.send('kindtray:snapshot', {} as never);
    dw.show();
    const win: FakeWindow = electron.windows[0]!;
    dw.send('kindtray:snapshot', { overall: 'ok' } as never);
    expect(win.webContents.sent).toEqual([{ channel: 'kindtray:snapshot', payload: { overall: 'ok' } }]);
  });
});
