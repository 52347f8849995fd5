import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_PAGES,
  INVOKE_CHANNELS,
  PARSE_ARGS,
  PROJECT_DOCS_URLS,
  isAllowedExternalUrl,
  unwrap,
  type IpcAnswer,
  type KindtrayBridge,
} from './ipc.ts';

describe('IPC contract', () => {
  it('names every channel once, all under the kindtray: prefix', () => {
    expect(INVOKE_CHANNELS).toEqual([
      'kindtray:get-server',
      'kindtray:get-snapshot',
      'kindtray:run-fix',
      'kindtray:open-external',
      'kindtray:get-desktop-settings',
      'kindtray:set-start-at-login',
      'kindtray:set-notifications',
    ]);
    expect(Object.keys(PARSE_ARGS).sort()).toEqual([...INVOKE_CHANNELS].sort());
  });

  it('the bridge has one method per invoke channel, plus the snapshot subscription', () => {
    // A bridge literal that compiles only with every method present.
    const methods: Record<keyof KindtrayBridge, true> = {
      getServer: true,
      getSnapshot: true,
      onSnapshot: true,
      runFix: true,
      openExternal: true,
      getDesktopSettings: true,
      setStartAtLogin: true,
      setNotifications: true,
    };
    expect(Object.keys(methods)).toHaveLength(INVOKE_CHANNELS.length + 1);
  });

  it('unwrap gives the result, or throws the error message on the caller’s side', () => {
    const ok: IpcAnswer<number> = { result: 3 };
    const bad: IpcAnswer<number> = { error: { code: 'not-allowed', message: 'no' } };
    expect(unwrap(ok)).toBe(3);
    expect(() => unwrap(bad)).toThrow('no');
  });
});

describe('arguments from the renderer are parsed, not trusted', () => {
  it('channels without arguments refuse extra ones', () => {
    expect(PARSE_ARGS['kindtray:get-server']([])).toEqual([]);
    expect(PARSE_ARGS['kindtray:get-server'](['x'])).toEqual({ problem: 'kindtray:get-server takes no arguments' });
  });

  it('run-fix takes one known fix id', () => {
    expect(PARSE_ARGS['kindtray:run-fix'](['start-docker'])).toEqual(['start-docker']);
    expect(PARSE_ARGS['kindtray:run-fix'](['start-cluster:dev'])).toEqual(['start-cluster:dev']);
    expect(PARSE_ARGS['kindtray:run-fix'](['rm-rf'])).toEqual({ problem: '"rm-rf" is not a fix Kindtray knows' });
    expect(PARSE_ARGS['kindtray:run-fix'](['start-cluster'])).toMatchObject({ problem: expect.stringContaining('not a fix') });
    expect(PARSE_ARGS['kindtray:run-fix']([42])).toMatchObject({ problem: expect.any(String) });
    expect(PARSE_ARGS['kindtray:run-fix']([])).toMatchObject({ problem: expect.any(String) });
    expect(PARSE_ARGS['kindtray:run-fix'](['start-cluster:' + 'x'.repeat(600)])).toMatchObject({ problem: expect.any(String) });
  });

  it('open-external takes one string', () => {
    expect(PARSE_ARGS['kindtray:open-external'](['http://127.0.0.1:8080/'])).toEqual(['http://127.0.0.1:8080/']);
    expect(PARSE_ARGS['kindtray:open-external']([{ href: 'x' }])).toMatchObject({ problem: expect.any(String) });
    expect(PARSE_ARGS['kindtray:open-external'](['a', 'b'])).toMatchObject({ problem: expect.any(String) });
  });

  it('the setters take exactly one boolean', () => {
    expect(PARSE_ARGS['kindtray:set-start-at-login']([true])).toEqual([true]);
    expect(PARSE_ARGS['kindtray:set-notifications']([false])).toEqual([false]);
    expect(PARSE_ARGS['kindtray:set-start-at-login'](['true'])).toMatchObject({ problem: expect.any(String) });
    expect(PARSE_ARGS['kindtray:set-notifications']([])).toMatchObject({ problem: expect.any(String) });
  });
});

describe('openExternal allow-list: task endpoints on this machine and the project docs, nothing else', () => {
  it.each([
    'http://127.0.0.1:8080',
    'http://127.0.0.1:8080/path?q=1',
    'https://127.0.0.1:30443/',
    'http://localhost:9000/',
    'http://[::1]:9001/',
    PROJECT_DOCS_URLS[0]!,
    `${PROJECT_DOCS_URLS[0]!}/blob/main/README.md#install`,
    `${PROJECT_DOCS_URLS[0]!}#readme`,
  ])('allows %s', (url) => {
    expect(isAllowedExternalUrl(url)).toBe(true);
  });

  it.each([
    ['another host', 'https://example.com/'],
    ['a name that starts like loopback', 'http://127.0.0.1.evil.example/'],
    ['localhost with a trailing dot', 'http://localhost./'],
    ['another loopback address', 'http://127.0.0.2:8080/'],
    ['all interfaces', 'http://0.0.0.0:8080/'],
    ['credentials in the URL', 'http://user:pw@127.0.0.1:8080/'],
    ['a file', 'file:///etc/passwd'],
    ['javascript', 'javascript:alert(1)'],
    ['a custom scheme', 'vscode://file/x'],
    ['a data URL', 'data:text/html,hi'],
    ['not a URL', 'not a url'],
    ['a sibling of the docs repository', `${PROJECT_DOCS_URLS[0]!}-evil/`],
    ['the docs over http', PROJECT_DOCS_URLS[0]!.replace('https:', 'http:')],
  ])('refuses %s', (_what, url) => {
    expect(isAllowedExternalUrl(url)).toBe(false);
  });

  it('a docs prefix is matched at a path boundary', () => {
    const docs = ['https://docs.example.org/kindtray/'];
    expect(isAllowedExternalUrl('https://docs.example.org/kindtray/start', docs)).toBe(true);
    expect(isAllowedExternalUrl('https://docs.example.org/kindtray', docs)).toBe(true);
    expect(isAllowedExternalUrl('https://docs.example.org/kindtrayx', docs)).toBe(false);
    expect(isAllowedExternalUrl('https://docs.example.org/', docs)).toBe(false);
  });
});

describe('dashboard pages', () => {
  it('open by hash, so the supervisor always serves index.html', () => {
    expect(DASHBOARD_PAGES.overview).toBe('');
    expect(DASHBOARD_PAGES.launch.startsWith('#/')).toBe(true);
  });
});
