// The soak's three counts (e2e/faults/soak-verdicts.ts): a false green, a
// false red and a wrong fix are each told apart, and neutral states
// (starting, checking, unknown, busy) are none of them.

import { describe, expect, it } from 'vitest';
import { withProblems } from '../shared/problems.ts';
import { healthyInput, kindCluster, kubeContext } from '../shared/snapshot-fixtures.ts';
import type { ClusterHealth, ContextHealth, HealthSnapshot } from '../shared/snapshot.ts';
import { judge, Verdicts, type Truth } from '../e2e/faults/soak-verdicts.ts';

const clusters = [
  { name: 'a', context: 'kind-a' },
  { name: 'b', context: 'kind-b' },
];

function truth(over: Partial<Truth> = {}): Truth {
  return {
    docker: 'running',
    node: new Map([['a', true], ['b', true]]),
    api: new Map([['a', 'none'], ['b', 'none']]),
    stale: new Map([['a', false], ['b', false]]),
    dangling: false,
    ...over,
  };
}

function shown(a: Partial<ClusterHealth> = {}, ctxA: Partial<ContextHealth> = {}, docker?: HealthSnapshot['docker']): HealthSnapshot {
  const base = healthyInput();
  return withProblems({
    ...base,
    ...(docker ? { docker } : {}),
    kubeconfig: { files: [{ path: '/k', state: 'ok' }], currentContext: 'kind-a' },
    clusters: [kindCluster('a', a), kindCluster('b')],
    contexts: [kubeContext('kind-a', { current: true, ...ctxA }), kubeContext('kind-b')],
  });
}

describe('the soak judges each shown snapshot against the truth', () => {
  it('all healthy and shown so: nothing wrong', () => {
    expect(judge(shown(), truth(), clusters)).toEqual({ falseGreen: [], falseRed: [], wrongFix: [] });
  });

  it('a hung API shown running is a false green (and the whole shown ok too)', () => {
    const j = judge(shown(), truth({ api: new Map([['a', 'hang'], ['b', 'none']]) }), clusters);
    expect(j.falseGreen).toEqual(['cluster a shown running, but it is broken', 'context kind-a shown ok, but it is broken', 'overall shown ok, but it is broken']);
    expect(j.falseRed).toEqual([]);
  });

  it('a healthy cluster shown unreachable is a false red, and Restart cluster on it a wrong fix', () => {
    const j = judge(shown({ state: 'unreachable', cause: 'no answer in 2 s' }, { state: 'unreachable' }), truth(), clusters);
    expect(j.falseRed).toEqual(expect.arrayContaining(['cluster a shown unreachable, but it is healthy', 'context kind-a shown unreachable, but it is healthy']));
    expect(j.wrongFix).toEqual(['restart-cluster:a offered on cluster:a:unreachable']);
    expect(j.falseGreen).toEqual([]);
  });

  it('the same Restart cluster while its API really hangs is the right fix', () => {
    const j = judge(shown({ state: 'unreachable', cause: 'no answer in 2 s' }, { state: 'unreachable' }), truth({ api: new Map([['a', 'hang'], ['b', 'none']]) }), clusters);
    expect(j).toEqual({ falseGreen: [], falseRed: [], wrongFix: [] });
  });

  it('starting and checking are neither green nor red, even while the truth is healthy', () => {
    expect(judge(shown({ state: 'starting', startingSince: 1 }, { state: 'checking' }), truth(), clusters)).toEqual({ falseGreen: [], falseRed: [], wrongFix: [] });
  });

  it('Start Docker is right while Docker is stopped, wrong while it is frozen (Restart Docker is)', () => {
    const stopped = withProblems({ ...healthyInput(), docker: { state: 'stopped', endpoint: 'unix:///d.sock' }, clusters: [], contexts: [] });
    expect(judge(stopped, truth({ docker: 'stopped' }), []).wrongFix).toEqual([]);
    expect(judge(stopped, truth({ docker: 'frozen' }), []).wrongFix).toEqual(['start-docker offered on docker:stopped']);
  });

  it('counted once per step however many snapshots showed it, with examples', () => {
    const v = new Verdicts();
    const t = truth({ api: new Map([['a', 'hang'], ['b', 'none']]) });
    v.add('step 3 api a hang', [shown(), shown(), shown()], t, clusters, true);
    v.add('step 4 api b hang', [shown({ state: 'unreachable' }, { state: 'unreachable' })], t, clusters, true);
    expect(v.report).toMatchObject({ falseGreens: 3, falseReds: 0, wrongFixes: 0 });
    expect(v.report.examples.falseGreen[0]).toBe('step 3 api a hang: cluster a shown running, but it is broken');
  });
});
