import { describe, expect, it } from 'vitest';
import { FIX_KINDS, FIXES, fixLabel, formatFixId, isWaitableFix, labelledFix, parseFixId, type FixId } from './fixes.ts';

describe('fix ids', () => {
  it('parse to a typed value: kind, and the cluster or context a targeted fix acts on', () => {
    expect(parseFixId('start-docker')).toEqual({ ok: true, fix: { kind: 'start-docker' } });
    expect(parseFixId('start-cluster:dev')).toEqual({ ok: true, fix: { kind: 'start-cluster', cluster: 'dev' } });
    expect(parseFixId('repair-context:kind-dev')).toEqual({ ok: true, fix: { kind: 'repair-context', context: 'kind-dev' } });
  });

  it('split at the first colon only: context names may contain colons (EKS ARNs)', () => {
    const arn = 'arn:aws:eks:eu-west-1:123:cluster/prod';
    expect(parseFixId(`use-context:${arn}`)).toEqual({ ok: true, fix: { kind: 'use-context', context: arn } });
  });

  it('unknown or incomplete ids are a typed error that says why, never a throw', () => {
    for (const [text, says] of [
      ['start-cluster', 'needs a cluster name'],
      ['start-cluster:', 'needs a cluster name'],
      ['use-context', 'needs a context name'],
      ['start-docker:now', 'takes no name'],
      ['rm-rf', 'unknown fix "rm-rf"; fixes are start-docker, restart-docker'],
      ['', 'unknown fix'],
    ] as const) {
      const r = parseFixId(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('unknown-fix');
        expect(r.error.id).toBe(text);
        expect(r.error.message).toContain(says);
      }
    }
  });

  it('format and parse are each other\'s inverse for every kind', () => {
    const every: FixId[] = [
      { kind: 'start-docker' },
      { kind: 'restart-docker' },
      { kind: 'docker-permission-help' },
      { kind: 'install-docker-help' },
      { kind: 'start-cluster', cluster: 'dev' },
      { kind: 'restart-cluster', cluster: 'dev' },
      { kind: 'repair-context', context: 'kind-dev' },
      { kind: 'use-context', context: 'arn:aws:eks:x' },
      { kind: 'restart-server' },
      { kind: 'refresh-status' },
      { kind: 'load-image', cluster: 'dev', image: 'registry.local:5000/app:1' },
      { kind: 'delete-cluster', cluster: 'dev' },
    ];
    expect(every.map((f) => f.kind).sort()).toEqual([...FIX_KINDS].sort());
    for (const fix of every) expect(parseFixId(formatFixId(fix))).toEqual({ ok: true, fix });
  });

  it('load-image names a cluster, then an image that may have colons; both are needed', () => {
    expect(parseFixId('load-image:dev:app:1')).toEqual({ ok: true, fix: { kind: 'load-image', cluster: 'dev', image: 'app:1' } });
    expect(fixLabel({ kind: 'load-image', cluster: 'dev', image: 'app:1' })).toBe('Load app:1 into cluster dev');
    for (const bad of ['load-image', 'load-image:dev', 'load-image:dev:', 'load-image::app']) expect(parseFixId(bad).ok).toBe(false);
    expect(FIXES.loadImage('dev', 'app:1')).toEqual({ id: 'load-image:dev:app:1', label: 'Load app:1 into cluster dev' });
  });

  it('labels: ready-made fixes, and a bare id gets the label its id implies', () => {
    expect(FIXES.startCluster('dev')).toEqual({ id: 'start-cluster:dev', label: 'Start cluster dev' });
    expect(FIXES.startServer).toEqual({ id: 'restart-server', label: 'Start server' });
    expect(fixLabel({ kind: 'refresh-status' })).toBe('Check again');
    expect(labelledFix({ id: 'restart-server' })).toEqual({ id: 'restart-server', label: 'Restart server' });
    expect(labelledFix({ id: 'use-context:kind-dev' })).toEqual({ id: 'use-context:kind-dev', label: 'Switch to context kind-dev' });
    expect(labelledFix({ id: 'restart-server', label: 'Start server' }).label).toBe('Start server');
    expect(labelledFix({ id: 'something-new' })).toEqual({ id: 'something-new', label: 'something-new' });
  });

  it('a launch may wait for Docker or a cluster to start, not for anything else', () => {
    expect(['start-docker', 'start-cluster:dev', 'restart-cluster:dev'].every(isWaitableFix)).toBe(true);
    expect(['restart-server', 'repair-context:kind-dev', 'start-cluster', 'start-dockerx'].some(isWaitableFix)).toBe(false);
  });
});
