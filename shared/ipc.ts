// The Electron window's bridge, typed once: every channel between the renderer
// and the main process, what it takes and what it answers. The main process
// (electron/app/ipc.ts) registers a handler per channel, the preload
// (electron/app/preload.cts) exposes one method per channel, and both are
// type-checked against the maps below, so a misspelt channel or a wrong
// argument fails to compile. Nothing is thrown across the bridge: every call
// answers `{ result }` or `{ error }`.
//
// Pure and common (no Node, no DOM, no Electron), as everything in shared/.

import { parseFixId, type FixResult } from './fixes.ts';
import type { HealthSnapshot } from './snapshot.ts';

/** The global the preload defines in the window: `window.kindtray`. */
export const BRIDGE_GLOBAL = 'kindtray';

// ---------------------------------------------------------------------------
// What travels

/** Where the supervisor answers, and the bearer token for it. */
export interface ServerAddress {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  token: string;
  version: string;
}

export interface SnapshotReading {
  snapshot: HealthSnapshot;
  /** How old the snapshot's newest observation is, in milliseconds. */
  ageMs: number;
}

/** The name electron/app uses for shared/fixes.ts's FixResult (one shape): a fix that ran and failed is a result (`ok: false`), not an error. */
export type FixOutcome = FixResult;

/** The settings only the desktop app acts on. */
export interface DesktopSettings {
  startAtLogin: boolean;
  /** Whether this platform lets Kindtray start at login (false where it cannot, so the page can say so). */
  startAtLoginSupported: boolean;
  /** Desktop notifications: overall state turning to error, a task finishing, a fix failing. */
  notifications: boolean;
}

export interface OpenedExternal {
  opened: true;
}

export const IPC_ERROR_CODES = ['bad-request', 'not-allowed', 'untrusted-sender', 'failed'] as const;
export type IpcErrorCode = (typeof IPC_ERROR_CODES)[number];

export interface IpcError {
  code: IpcErrorCode;
  message: string;
}

/** Every answer across the bridge. */
export type IpcAnswer<T> = { result: T } | { error: IpcError };

// ---------------------------------------------------------------------------
// The channels

/** Renderer → main calls (ipcRenderer.invoke / ipcMain.handle): channel → arguments → result. */
export interface IpcInvokeMap {
  'kindtray:get-server': { args: []; result: ServerAddress };
  'kindtray:get-snapshot': { args: []; result: SnapshotReading };
  'kindtray:run-fix': { args: [fixId: string]; result: FixResult };
  'kindtray:open-external': { args: [url: string]; result: OpenedExternal };
  'kindtray:get-desktop-settings': { args: []; result: DesktopSettings };
  'kindtray:set-start-at-login': { args: [enabled: boolean]; result: DesktopSettings };
  'kindtray:set-notifications': { args: [enabled: boolean]; result: DesktopSettings };
}

/** Main → renderer pushes (webContents.send / ipcRenderer.on): channel → payload. */
export interface IpcEventMap {
  'kindtray:snapshot': HealthSnapshot;
}

export type InvokeChannel = keyof IpcInvokeMap;
export type EventChannel = keyof IpcEventMap;
export type ArgsOf<C extends InvokeChannel> = IpcInvokeMap[C]['args'];
export type ResultOf<C extends InvokeChannel> = IpcInvokeMap[C]['result'];

/** Each channel once; the record type makes a missing or extra channel a compile error. */
const CHANNEL_SET: Record<InvokeChannel, true> = {
  'kindtray:get-server': true,
  'kindtray:get-snapshot': true,
  'kindtray:run-fix': true,
  'kindtray:open-external': true,
  'kindtray:get-desktop-settings': true,
  'kindtray:set-start-at-login': true,
  'kindtray:set-notifications': true,
};
export const INVOKE_CHANNELS = Object.keys(CHANNEL_SET) as InvokeChannel[];

export const SNAPSHOT_EVENT: EventChannel = 'kindtray:snapshot';

// ---------------------------------------------------------------------------
// The renderer's side

/**
 * `window.kindtray` in the Electron window. Every method answers a value, never
 * rejects; a subscription returns its unsubscribe function.
 */
export interface KindtrayBridge {
  getServer(): Promise<IpcAnswer<ServerAddress>>;
  getSnapshot(): Promise<IpcAnswer<SnapshotReading>>;
  onSnapshot(listener: (snapshot: HealthSnapshot) => void): () => void;
  runFix(fixId: string): Promise<IpcAnswer<FixResult>>;
  /** Opens a task endpoint on this machine or the project's docs in the system browser; anything else is refused. */
  openExternal(url: string): Promise<IpcAnswer<OpenedExternal>>;
  getDesktopSettings(): Promise<IpcAnswer<DesktopSettings>>;
  setStartAtLogin(enabled: boolean): Promise<IpcAnswer<DesktopSettings>>;
  setNotifications(enabled: boolean): Promise<IpcAnswer<DesktopSettings>>;
}

/** The result, or an Error carrying the answer's message (for code that prefers exceptions on its own side). */
export function unwrap<T>(answer: IpcAnswer<T>): T {
  if ('error' in answer) throw new Error(answer.error.message);
  return answer.result;
}

// ---------------------------------------------------------------------------
// Parsing what comes in: the main process trusts nothing the renderer sends

/** A parser answers the arguments, or what is wrong with them in words. */
export type ArgsParser<C extends InvokeChannel> = (args: readonly unknown[]) => ArgsOf<C> | { problem: string };

const URL_MAX = 2_048;
const FIX_ID_MAX = 512;

const none =
  <C extends InvokeChannel>(channel: C): ArgsParser<C> =>
  (args) =>
    (args.length === 0 ? [] : { problem: `${channel} takes no arguments` }) as ArgsOf<C> | { problem: string };

const oneBoolean =
  <C extends InvokeChannel>(channel: C, name: string): ArgsParser<C> =>
  (args) =>
    (args.length === 1 && typeof args[0] === 'boolean' ? [args[0]] : { problem: `${channel} takes one argument, ${name}: true or false` }) as
      | ArgsOf<C>
      | { problem: string };

export const PARSE_ARGS: { [C in InvokeChannel]: ArgsParser<C> } = {
  'kindtray:get-server': none('kindtray:get-server'),
  'kindtray:get-snapshot': none('kindtray:get-snapshot'),
  'kindtray:run-fix': (args) => {
    const [id] = args;
    if (args.length !== 1 || typeof id !== 'string') return { problem: 'kindtray:run-fix takes one argument, the fix id' };
    if (id.length > FIX_ID_MAX || !parseFixId(id).ok) return { problem: `"${id.slice(0, 80)}" is not a fix Kindtray knows` };
    return [id];
  },
  'kindtray:open-external': (args) => {
    const [url] = args;
    if (args.length !== 1 || typeof url !== 'string' || url.length > URL_MAX) return { problem: 'kindtray:open-external takes one argument, a URL' };
    return [url];
  },
  'kindtray:get-desktop-settings': none('kindtray:get-desktop-settings'),
  'kindtray:set-start-at-login': oneBoolean('kindtray:set-start-at-login', 'enabled'),
  'kindtray:set-notifications': oneBoolean('kindtray:set-notifications', 'enabled'),
};

// ---------------------------------------------------------------------------
// Where the window may send the user

/**
 * The project's documentation. Links under it open in the system browser.
 * One place: add the real public home here when the project has one.
 */
export const PROJECT_DOCS_URLS: readonly string[] = ['https://github.com/kindtray/kindtray'];

/** Loopback names a task endpoint is published on (what kindtray prints for them). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether `target` is `prefix` or lies under it: same origin, and the path continues at a `/`, `?` or `#`. */
function under(target: URL, prefix: string): boolean {
  let base: URL;
  try {
    base = new URL(prefix);
  } catch {
    return false;
  }
  if (target.origin !== base.origin) return false;
  const root = base.pathname.replace(/\/+$/, '');
  return target.pathname === root || target.pathname === `${root}/` || target.pathname.startsWith(`${root}/`) || root === '';
}

/**
 * Whether the system browser may be asked to open `url`: http(s) on this
 * machine (a task's endpoint, `http://127.0.0.1:8080`) or the project's docs.
 * No credentials in the URL, no other scheme, no other host.
 */
export function isAllowedExternalUrl(url: string, docs: readonly string[] = PROJECT_DOCS_URLS): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (u.username !== '' || u.password !== '') return false;
  if (LOOPBACK_HOSTS.has(u.hostname)) return true;
  return u.protocol === 'https:' && docs.some((d) => under(u, d));
}

// ---------------------------------------------------------------------------
// Pages of the dashboard the app opens directly (the dashboard routes by hash)

export const DASHBOARD_PAGES = {
  overview: '',
  tasks: '#/tasks',
  launch: '#/launch',
} as const;
export type DashboardPage = keyof typeof DASHBOARD_PAGES;
