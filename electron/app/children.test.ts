import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SERVICE_NAME, utilityLauncher } from './children.ts';
import { electron } from './testing/electron-double.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

beforeEach(() => electron.reset());
afterEach(() => vi.restoreAllMocks());

describe('a Kindtray child as a utility process', () => {
  it('forks the module with the given environment (a copy), a service name, and our stdio', () => {
    const env = { KINDTRAY_DB: '/tmp/k.db', PATH: '/bin' };
    utilityLauncher('/app/dist/electron/server/worker-main.js', env, { name: 'Kindtray API worker' });
    const [p] = electron.utilityProcesses;
    expect(p!.modulePath).toBe('/app/dist/electron/server/worker-main.js');
    expect(p!.args).toEqual([]);
    expect(p!.options).toEqual({ env, serviceName: 'Kindtray API worker', stdio: 'inherit' });
    expect(p!.options.env).not.toBe(env);
  });

  it('send is postMessage, messages and exits come back through the ChildHandle listeners', () => {
    const child = utilityLauncher('/w.js', {});
    const p = electron.utilityProcesses[0]!;
    const got: unknown[] = [];
    const exits: unknown[] = [];
    child.onMessage((m) => got.push(m));
    child.onExit((code, signal) => exits.push([code, signal]));
    child.send({ type: 'ping', id: 1 });
    expect(p.posted).toEqual([{ type: 'ping', id: 1 }]);
    p.emit('message', { type: 'pong', id: 1 });
    p.emit('exit', 137);
    expect(got).toEqual([{ type: 'pong', id: 1 }]);
    expect(exits).toEqual([[137, null]]);
    expect(child.pid).toBe(p.pid);
    // After its exit nothing is posted to it, and kill is a no-op.
    child.send({ type: 'late' });
    child.kill();
    expect(p.posted).toHaveLength(1);
    expect(p.killed).toBe(0);
  });

  it('kill() is SIGKILL by process id, since a hung worker would never act on SIGTERM', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const child = utilityLauncher('/w.js', {});
    const p = electron.utilityProcesses[0]!;
    child.kill();
    expect(kill).toHaveBeenCalledWith(p.pid, 'SIGKILL');
    child.kill('SIGTERM');
    expect(p.killed).toBe(1);
  });

  it('falls back to the process object’s kill when the pid is gone', () => {
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
    });
    const child = utilityLauncher('/w.js', {});
    child.kill('SIGKILL');
    expect(electron.utilityProcesses[0]!.killed).toBe(1);
  });
});

describe('the Kubernetes child as a utility process', () => {
  it('is named by its starter, or by default; kill ends it by pid', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const proc = utilityLauncher('/app/dist/electron/kube/kube-child.js', { KINDTRAY_KUBE_CHILD: '1' }, { name: 'Kindtray Kubernetes client' });
    utilityLauncher('/x.js', {});
    const [p, q] = electron.utilityProcesses;
    expect(p!.options).toMatchObject({ serviceName: 'Kindtray Kubernetes client', env: { KINDTRAY_KUBE_CHILD: '1' } });
    expect(q!.options).toMatchObject({ serviceName: DEFAULT_SERVICE_NAME });
    const messages: unknown[] = [];
    let exited = false;
    proc.onMessage((m) => messages.push(m));
    proc.onExit(() => (exited = true));
    proc.send({ type: 'probe', id: 7 });
    expect(p!.posted).toEqual([{ type: 'probe', id: 7 }]);
    p!.emit('message', { type: 'ready', pid: p!.pid });
    proc.kill();
    expect(kill).toHaveBeenCalledWith(p!.pid, 'SIGKILL');
    p!.emit('exit', 9);
    expect(messages).toEqual([{ type: 'ready', pid: p!.pid }]);
    expect(exited).toBe(true);
  });
});
