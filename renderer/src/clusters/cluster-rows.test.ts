import { describe, expect, it } from 'vitest';
import { DASHBOARD_LINKS } from '../../../shared/dashboard-links.ts';
import { withProblems } from '../../../shared/problems.ts';
import { healthyInput, kindCluster, kubeContext } from '../../../shared/snapshot-fixtures.ts';
import { href, parseRoute } from '../route.ts';
import { clusterRows, stopWarning } from './cluster-rows.ts';
import { followOperation } from './operations.ts';

describe('the Clusters page rows', () => {
  const snapshot = () => {
    const s = healthyInput();
    return withProblems({
      ...s,
      clusters: [kindCluster('dev', {}, 41001), kindCluster('fresh', {}, 41003), kindCluster('old', { state: 'stopped' }), kindCluster('gone', { state: 'unknown', nodes: [] })],
      contexts: [kubeContext('kind-dev', { current: true }), kubeContext('kind-fresh', { state: 'checking' }), kubeContext('kind-old', { state: 'unreachable' })],
    });
  };

  it('states are truthful: only a cluster whose context answered is green; checking and unknown are grey', () => {
    const rows = clusterRows(snapshot(), [{ name: 'dev', state: 'running', context: 'kind-dev', nodes: [], nodePorts: { from: 30000, to: 30099 } }], {});
    expect(rows.map((r) => [r.name, r.words, r.tone])).toEqual([
      ['dev', 'running', 'ok'],
      ['fresh', 'running, context checking…', 'unknown'],
      ['gone', 'state unknown', 'unknown'],
      ['old', 'stopped', 'error'],
    ]);
    expect(rows[0]).toMatchObject({ nodePorts: { from: 30000, to: 30099 }, ready: '1/1', canStop: true, canStart: false, canLoadImage: true });
    expect(rows[3]).toMatchObject({ canStart: true, canStop: false, canLoadImage: false });
    expect(rows[2]).toMatchObject({ canStart: false, canStop: false });
  });

  it('a running operation shows on its row and blocks its buttons; a cluster being created has a row before Docker shows it', () => {
    let ops = followOperation({}, { id: 'o1', kind: 'stop', cluster: 'dev', state: 'running', steps: [], startedAt: '2026-12-06T00:00:00Z' });
    ops = followOperation(ops, { id: 'o2', kind: 'create', cluster: 'new-one', state: 'running', steps: [], startedAt: '2026-12-06T00:00:01Z', plan: { name: 'new-one', nodes: [{ role: 'control-plane' }], portMappings: [], nodePorts: { from: 30100, to: 30199 } } });
    const rows = clusterRows(snapshot(), undefined, ops);
    expect(rows.find((r) => r.name === 'dev')).toMatchObject({ words: 'stopping…', tone: 'busy', canStop: false, canStart: false });
    expect(rows.find((r) => r.name === 'new-one')).toMatchObject({ state: 'creating', words: 'creating…', nodePorts: { from: 30100, to: 30199 } });
  });
});

describe('the dashboard links the tray opens are the routes the dashboard knows', () => {
  it('round-trips cluster pages, their actions and the create form', () => {
    expect(parseRoute(DASHBOARD_LINKS.clusters)).toEqual({ page: 'clusters' });
    expect(parseRoute(DASHBOARD_LINKS.createCluster)).toEqual({ page: 'new-cluster' });
    expect(parseRoute(DASHBOARD_LINKS.cluster('dev'))).toEqual({ page: 'cluster', name: 'dev' });
    expect(parseRoute(DASHBOARD_LINKS.cluster('new', 'delete'))).toEqual({ page: 'cluster', name: 'new', action: 'delete' });
    expect(parseRoute(DASHBOARD_LINKS.cluster('a.b', 'load-image'))).toEqual({ page: 'cluster', name: 'a.b', action: 'load-image' });
    expect(parseRoute('#/clusters/dev/explode')).toEqual({ page: 'not-found', path: '/clusters/dev/explode' });
    expect(href({ page: 'cluster', name: 'dev', action: 'delete' })).toBe('#/clusters/dev/delete');
    expect(href({ page: 'new-cluster' })).toBe('#/new-cluster');
  });
});

describe('stopping a cluster with tasks on it', () => {
  const t = (name: string, state: 'running' | 'pending' | 'succeeded', where: { cluster?: string; context: string }) => ({ name, state, ...where });
  it('names the unfinished tasks it cancels; nothing to say when none runs there', () => {
    const tasks = [t('web', 'running', { cluster: 'dev', context: 'kind-dev' }), t('old', 'succeeded', { cluster: 'dev', context: 'kind-dev' }), t('elsewhere', 'running', { context: 'kind-other' }), t('queued', 'pending', { context: 'kind-dev' })];
    expect(stopWarning('dev', 'kind-dev', tasks)).toBe('Stopping dev cancels its 2 tasks (web, queued): they cannot go on without the nodes.');
    expect(stopWarning('dev', 'kind-dev', tasks.slice(0, 1))).toBe('Stopping dev cancels its task (web): it cannot go on without the nodes.');
    expect(stopWarning('other', 'kind-other2', tasks)).toBeUndefined();
    const many = ['a', 'b', 'c', 'd', 'e'].map((n) => t(n, 'running', { context: 'kind-dev' }));
    expect(stopWarning('dev', 'kind-dev', many)).toMatch(/its 5 tasks \(a, b, c and 2 more\)/);
  });
});
