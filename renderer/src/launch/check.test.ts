// The launch button: enabled exactly when launching would work, and otherwise
// saying why, with the fix that would change that (the seed scenario first).

import { describe, expect, it } from 'vitest';
import { withProblems } from '../../../shared/problems.ts';
import { dockerStoppedInput, healthyInput } from '../../../shared/snapshot-fixtures.ts';
import { clientCheck, fromServer, launchGate } from './check.ts';
import { exampleTask } from './task-form.ts';

const healthy = withProblems(healthyInput());
const stopped = withProblems(dockerStoppedInput());
const withPorts = 'name: web\nresources:\n  ports: [8080]\nrun: python -m http.server 8080\n';

describe('checking as you type', () => {
  it('Docker stopped + a task with ports → an error on resources with the Start Docker fix, at once', () => {
    const c = clientCheck(withPorts, stopped, 0);
    const resources = c.errors.find((e) => e.path === 'resources');
    expect(resources?.message).toMatch(/Docker is not running/);
    expect(resources?.fix?.id).toBe('start-docker');
    expect(resources?.line).toBe(2);
  });

  it('a healthy cluster → no errors, the target and how each port is reached', () => {
    const c = clientCheck(exampleTask(), healthy, 0);
    expect(c.errors).toEqual([]);
    expect(c.target?.context).toBe('kind-dev');
    expect(c.ports[0]).toMatchObject({ port: 8080, url: 'http://127.0.0.1:8080', reachable: true });
  });

  it('a stale snapshot (connection lost for a while) → "cluster state unknown", never a guess', () => {
    const c = clientCheck(withPorts, healthy, 120_000);
    expect(c.errors[0]?.message).toMatch(/cluster state unknown/);
    expect(c.errors[0]?.fix?.id).toBe('refresh-status');
  });

  it('the set chosen among ordered ones, and the envs and secrets a launch needs, are in the check', () => {
    const sized = { ...healthy, clusters: healthy.clusters.map((c) => ({ ...c, nodes: c.nodes.map((n) => ({ ...n, cpus: 4 })) })) };
    const c = clientCheck('resources:\n  ordered:\n    - cpus: 1000\n    - cpus: 1\nenvs: {TOKEN: null}\nrun: x\n', sized, 0);
    expect(c.chosenResources).toEqual({ mode: 'ordered', index: 1, summary: 'cpus 1' });
    expect(c.requiredAtLaunch).toEqual({ envs: ['TOKEN'], secrets: [] });
    const s = fromServer({ ok: true, errors: [], warnings: [], chosenResources: { mode: 'any_of', index: 0, summary: 'cpus 2' }, requiredAtLaunch: { envs: [], secrets: ['KEY'] } });
    expect(s).toMatchObject({ chosenResources: { index: 0 }, requiredAtLaunch: { secrets: ['KEY'] } });
  });

  it('YAML that does not parse → only its syntax error, with its line', () => {
    const c = clientCheck('name: x\nresources:\n  ports: [8080\n', healthy, 0);
    expect(c.task).toBeUndefined();
    expect(c.errors[0]?.line).toBeGreaterThan(0);
  });
});

describe('the launch button', () => {
  it('is enabled for a valid task on a healthy cluster', () => {
    expect(launchGate(clientCheck(exampleTask(), healthy, 0), { whenReady: false })).toEqual({ enabled: true, label: 'Launch' });
  });

  it('is disabled while Docker is down, with the reason and Start Docker next to it', () => {
    const g = launchGate(clientCheck(withPorts, stopped, 0), { whenReady: false });
    expect(g.enabled).toBe(false);
    expect(g.reason).toMatch(/^Docker is not running, so cluster kind-dev cannot run tasks\./);
    expect(g.reason).toMatch(/Launch when ready/);
    expect(g.fix).toEqual({ id: 'start-docker', label: 'Start Docker' });
  });

  it('with "launch when ready", the same task may be kept: the button says it will wait', () => {
    const g = launchGate(clientCheck(withPorts, stopped, 0), { whenReady: true });
    expect(g).toMatchObject({ enabled: true, label: 'Launch when ready', fix: { id: 'start-docker' } });
    expect(g.reason).toMatch(/^It will wait: Docker is not running/);
  });

  it('"launch when ready" does not wait out errors in the task itself', () => {
    const bad = 'name: web\nresources:\n  ports: [70000]\nrun: x\n';
    const g = launchGate(clientCheck(bad, stopped, 0), { whenReady: true });
    expect(g.enabled).toBe(false);
  });

  it('is disabled until the task parses, counting the errors', () => {
    const g = launchGate(clientCheck('name: [x\n', healthy, 0), { whenReady: false });
    expect(g).toMatchObject({ enabled: false, label: 'Launch' });
    expect(g.reason).toMatch(/Fix the (\d+ )?errors? in the task first/);
  });

  it('worker hung (validate answered 503) → disabled, with Restart server next to it', () => {
    // The supervisor's 503 names the fix by id only; its label comes from shared/problems.ts.
    const failure = { status: 503, error: { error: 'the API worker did not answer in 2 s', fix: { id: 'restart-server' } as { id: string; label: string } } };
    const g = launchGate(clientCheck(exampleTask(), healthy, 0), { whenReady: false, serverTrouble: failure });
    expect(g.enabled).toBe(false);
    expect(g.reason).toMatch(/server is not answering/);
    expect(g.fix).toEqual({ id: 'restart-server', label: 'Restart server' });
  });

  it('worker hung in the snapshot → disabled with Restart server at once, before any call times out', () => {
    const g = launchGate(clientCheck(exampleTask(), healthy, 0), { whenReady: false, serverState: 'hung' });
    expect(g).toMatchObject({ enabled: false, fix: { id: 'restart-server', label: 'Restart server' } });
    expect(g.reason).toMatch(/not answering/);
    expect(launchGate(clientCheck(exampleTask(), healthy, 0), { whenReady: false, serverState: 'restarting' }).enabled).toBe(false);
  });

  it('follows the server’s answer once it has one (it also knows NodePorts other tasks hold)', () => {
    const server = fromServer({ ok: false, errors: [{ path: 'resources.ports', message: 'port 8080: no free NodePort' }], warnings: [] });
    const g = launchGate(server, { whenReady: false });
    expect(g).toMatchObject({ enabled: false, reason: 'Port 8080: no free NodePort.' });
  });
});
