import { describe, expect, it, vi } from 'vitest';
import { parseFixId, type FixId } from '../../shared/fixes.ts';
import { healthyInput } from '../../shared/snapshot-fixtures.ts';
import { withProblems } from '../../shared/problems.ts';
import { runFix, type FixContext } from './index.ts';

function context(overrides: Partial<FixContext> = {}): FixContext {
  const snapshot = withProblems(healthyInput());
  return {
    snapshot: () => snapshot,
    refresh: vi.fn(async () => snapshot),
    waitFor: async () => true,
    docker: () => {
      throw new Error('no Docker in this test');
    },
    dockerStartCommand: '',
    restartServer: vi.fn(async () => undefined),
    env: {},
    ...overrides,
  };
}

const fix = (text: string): FixId => {
  const parsed = parseFixId(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.fix;
};

describe('the fix runner', () => {
  it('dispatches on the typed id and answers with its text form', async () => {
    const ctx = context();
    const r = await runFix(fix('refresh-status'), ctx);
    expect(r).toMatchObject({ ok: true, fixId: 'refresh-status' });
    expect(ctx.refresh).toHaveBeenCalledOnce();
    expect(await runFix(fix('restart-server'), ctx)).toMatchObject({ ok: true, message: 'the API server was restarted' });
    expect(ctx.restartServer).toHaveBeenCalledWith('asked for by the user');
  });

  it('Start Docker when it already runs says so and runs nothing', async () => {
    expect(await runFix(fix('start-docker'), context())).toMatchObject({ ok: true, message: 'Docker is already running' });
  });

  it('a fix that cannot be done is ok: false with why, never a throw, and never an unknown-fix', async () => {
    const r = await runFix(fix('repair-context:kind-dev'), context());
    expect(r).toMatchObject({ ok: false, fixId: 'repair-context:kind-dev' });
    expect(r.message).toContain('does not need repair');
    expect(r.code).toBeUndefined();
    expect(await runFix(fix('use-context:nowhere'), context())).toMatchObject({ ok: false, message: 'no context nowhere in the kubeconfig' });
  });
});
