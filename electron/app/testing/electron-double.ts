// A recording double of the `electron` module, for tests that run where no
// Electron binary exists. It does nothing but remember: which objects were
// made with which options, which methods were called, which handlers were
// registered, so tests can assert the wiring and call the handlers. Use it as
//
//   vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);
//   import { electron } from './testing/electron-double.ts';   // the recorder
//
// and call electron.reset() before each test.

import { EventEmitter } from 'node:events';

export interface Call {
  what: string;
  args: unknown[];
}

type Listener = (...args: unknown[]) => unknown;

class Emitter extends EventEmitter {
  /** Emits like Electron does for events whose first argument is an Event with preventDefault. */
  fire(event: string, ...args: unknown[]): { defaultPrevented: boolean } {
    const e = { defaultPrevented: false, preventDefault: () => (e.defaultPrevented = true) };
    this.emit(event, e, ...args);
    return e;
  }
}

export class FakeImage {
  readonly representations: { scaleFactor: number; width?: number; height?: number; buffer?: Buffer }[] = [];
  template = false;
  addRepresentation(r: { scaleFactor: number; width?: number; height?: number; buffer?: Buffer }): void {
    this.representations.push(r);
  }
  setTemplateImage(on: boolean): void {
    this.template = on;
  }
  isTemplateImage(): boolean {
    return this.template;
  }
  isEmpty(): boolean {
    return this.representations.length === 0;
  }
}

export class FakeMenu {
  readonly template: Record<string, unknown>[];
  constructor(template: Record<string, unknown>[]) {
    this.template = template;
  }
}

export class FakeTray extends Emitter {
  image: unknown;
  tooltip = '';
  menu: FakeMenu | undefined;
  destroyed = false;
  readonly images: unknown[] = [];
  readonly menus: FakeMenu[] = [];
  constructor(image: unknown) {
    super();
    this.image = image;
    this.images.push(image);
    electron.record('new Tray', image);
    electron.trays.push(this);
  }
  setImage(image: unknown): void {
    this.image = image;
    this.images.push(image);
    electron.record('tray.setImage', image);
  }
  setToolTip(text: string): void {
    this.tooltip = text;
    electron.record('tray.setToolTip', text);
  }
  setContextMenu(menu: FakeMenu): void {
    this.menu = menu;
    this.menus.push(menu);
    electron.record('tray.setContextMenu', menu);
  }
  destroy(): void {
    this.destroyed = true;
    electron.record('tray.destroy');
  }
}

export class FakeWebContents extends Emitter {
  private static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  url = '';
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  readonly sent: { channel: string; payload: unknown }[] = [];
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
    electron.record('webContents.setWindowOpenHandler');
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  getURL(): string {
    return this.url;
  }
}

export class FakeWindow extends Emitter {
  readonly options: Record<string, unknown>;
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  visible = false;
  focused = false;
  minimized = false;
  destroyed = false;
  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    electron.record('new BrowserWindow', options);
    electron.windows.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.webContents.url = url;
    electron.record('window.loadURL', url);
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused = true;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('closed');
  }
}

export class FakeSession {
  readonly partition: string;
  headersListener: ((details: { responseHeaders?: Record<string, string[]>; url: string }, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void) | undefined;
  permissionRequestHandler: ((wc: unknown, permission: string, cb: (ok: boolean) => void, details?: unknown) => void) | undefined;
  permissionCheckHandler: ((wc: unknown, permission: string, origin: string, details?: unknown) => boolean) | undefined;
  devicePermissionHandler: ((details: unknown) => boolean) | undefined;
  readonly webRequest = {
    onHeadersReceived: (listener: FakeSession['headersListener']) => {
      this.headersListener = listener;
      electron.record('session.webRequest.onHeadersReceived');
    },
  };
  constructor(partition: string) {
    this.partition = partition;
  }
  setPermissionRequestHandler(h: FakeSession['permissionRequestHandler']): void {
    this.permissionRequestHandler = h;
    electron.record('session.setPermissionRequestHandler');
  }
  setPermissionCheckHandler(h: FakeSession['permissionCheckHandler']): void {
    this.permissionCheckHandler = h;
    electron.record('session.setPermissionCheckHandler');
  }
  setDevicePermissionHandler(h: FakeSession['devicePermissionHandler']): void {
    this.devicePermissionHandler = h;
    electron.record('session.setDevicePermissionHandler');
  }
}

export class FakeNotification extends Emitter {
  readonly options: { title: string; body: string };
  shown = false;
  constructor(options: { title: string; body: string }) {
    super();
    this.options = options;
    electron.notifications.push(this);
  }
  static isSupported(): boolean {
    return electron.notificationsSupported;
  }
  show(): void {
    this.shown = true;
  }
}

export class FakeUtilityProcess extends Emitter {
  static nextPid = 50_000;
  readonly modulePath: string;
  readonly args: string[];
  readonly options: Record<string, unknown>;
  pid: number | undefined = FakeUtilityProcess.nextPid++;
  readonly posted: unknown[] = [];
  killed = 0;
  constructor(modulePath: string, args: string[], options: Record<string, unknown>) {
    super();
    this.modulePath = modulePath;
    this.args = args;
    this.options = options;
  }
  postMessage(m: unknown): void {
    this.posted.push(m);
  }
  kill(): boolean {
    this.killed++;
    return true;
  }
}

class FakeApp extends Emitter {
  paths = new Map<string, string>();
  lock = true;
  quitCalls = 0;
  exitCodes: number[] = [];
  isPackaged = false;
  loginItem = { openAtLogin: false, wasOpenedAtLogin: false };
  readonly dock = { hidden: false, hide: () => void (this.dock.hidden = true) };
  name = 'Electron';
  appUserModelId: string | undefined;
  setName(name: string): void {
    this.name = name;
    electron.record('app.setName', name);
  }
  setAppUserModelId(id: string): void {
    this.appUserModelId = id;
  }
  setPath(name: string, value: string): void {
    this.paths.set(name, value);
    electron.record('app.setPath', name, value);
  }
  getPath(name: string): string {
    return this.paths.get(name) ?? `/fake/${name}`;
  }
  getAppPath(): string {
    return '/fake/app';
  }
  requestSingleInstanceLock(): boolean {
    electron.record('app.requestSingleInstanceLock');
    return this.lock;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  isReady(): boolean {
    return true;
  }
  quit(): void {
    this.quitCalls++;
    electron.record('app.quit');
    // Like Electron: quitting emits before-quit, which a listener may cancel.
    const e = this.fire('before-quit');
    if (!e.defaultPrevented) electron.record('app.quit:proceeded');
  }
  exit(code = 0): void {
    this.exitCodes.push(code);
  }
  getLoginItemSettings(): { openAtLogin: boolean; wasOpenedAtLogin: boolean } {
    return { ...this.loginItem };
  }
  setLoginItemSettings(s: { openAtLogin?: boolean }): void {
    electron.record('app.setLoginItemSettings', s);
    if (s.openAtLogin !== undefined) this.loginItem.openAtLogin = s.openAtLogin;
  }
}

class Recorder {
  calls: Call[] = [];
  trays: FakeTray[] = [];
  windows: FakeWindow[] = [];
  sessions = new Map<string, FakeSession>();
  ipcHandlers = new Map<string, Listener>();
  notifications: FakeNotification[] = [];
  notificationsSupported = true;
  utilityProcesses: FakeUtilityProcess[] = [];
  openedExternal: string[] = [];
  exposed = new Map<string, unknown>();
  dialogResponse = 1;
  app = new FakeApp();
  /** The renderer side of IPC, for preload tests. */
  ipcRenderer = new (class extends EventEmitter {
    invoked: { channel: string; args: unknown[] }[] = [];
    answer: (channel: string, args: unknown[]) => Promise<unknown> = () => Promise.resolve({ result: null });
    invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      this.invoked.push({ channel, args });
      return this.answer(channel, args);
    }
  })();

  record(what: string, ...args: unknown[]): void {
    this.calls.push({ what, args });
  }

  called(what: string): Call[] {
    return this.calls.filter((c) => c.what === what);
  }

  reset(): void {
    this.calls = [];
    this.trays = [];
    this.windows = [];
    this.sessions = new Map();
    this.ipcHandlers = new Map();
    this.notifications = [];
    this.notificationsSupported = true;
    this.utilityProcesses = [];
    this.openedExternal = [];
    this.exposed = new Map();
    this.dialogResponse = 1;
    this.app = new FakeApp();
    this.ipcRenderer.removeAllListeners();
    this.ipcRenderer.invoked = [];
    this.ipcRenderer.answer = () => Promise.resolve({ result: null });
  }
}

export const electron = new Recorder();

/** What `import ... from 'electron'` gives code under test. Getters, so reset() swaps the app. */
export const electronModule = {
  get app() {
    return electron.app;
  },
  Tray: FakeTray,
  BrowserWindow: FakeWindow,
  Notification: FakeNotification,
  Menu: {
    buildFromTemplate: (template: Record<string, unknown>[]) => {
      electron.record('Menu.buildFromTemplate', template);
      return new FakeMenu(template);
    },
  },
  nativeImage: {
    createEmpty: () => new FakeImage(),
    createFromBuffer: (buffer: Buffer, o?: { scaleFactor?: number }) => {
      const i = new FakeImage();
      i.addRepresentation({ scaleFactor: o?.scaleFactor ?? 1, buffer });
      return i;
    },
  },
  session: {
    fromPartition: (partition: string) => {
      electron.record('session.fromPartition', partition);
      let s = electron.sessions.get(partition);
      if (!s) {
        s = new FakeSession(partition);
        electron.sessions.set(partition, s);
      }
      return s;
    },
  },
  shell: {
    openExternal: (url: string) => {
      electron.openedExternal.push(url);
      return Promise.resolve();
    },
  },
  ipcMain: {
    handle: (channel: string, handler: Listener) => {
      electron.ipcHandlers.set(channel, handler);
      electron.record('ipcMain.handle', channel);
    },
    removeHandler: (channel: string) => {
      electron.ipcHandlers.delete(channel);
      electron.record('ipcMain.removeHandler', channel);
    },
  },
  utilityProcess: {
    fork: (modulePath: string, args: string[] = [], options: Record<string, unknown> = {}) => {
      const p = new FakeUtilityProcess(modulePath, args, options);
      electron.utilityProcesses.push(p);
      electron.record('utilityProcess.fork', modulePath, args, options);
      return p;
    },
  },
  dialog: {
    showMessageBox: (options: unknown) => {
      electron.record('dialog.showMessageBox', options);
      return Promise.resolve({ response: electron.dialogResponse, checkboxChecked: false });
    },
    showErrorBox: (title: string, content: string) => electron.record('dialog.showErrorBox', title, content),
  },
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => {
      electron.exposed.set(key, api);
      electron.record('contextBridge.exposeInMainWorld', key);
    },
  },
  get ipcRenderer() {
    return electron.ipcRenderer;
  },
};

export default electronModule;
