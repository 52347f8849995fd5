import { describe, expect, it } from 'vitest';
import type { TaskCheck } from './check.ts';
import { launchBody, NO_VALUES, withGivenValues } from './launch-values.ts';

const check: TaskCheck = {
  source: 'server',
  errors: [
    { path: 'envs.HF_TOKEN', message: 'HF_TOKEN is required at launch' },
    { path: 'secrets.KEY', message: 'KEY is required at launch' },
    { path: 'resources.ports', message: 'other' },
  ],
  warnings: [],
  ports: [],
  requiredAtLaunch: { envs: ['HF_TOKEN'], secrets: ['KEY'] },
};

describe('values given on the Launch page', () => {
  it('a filled name answers its error; empty ones do not', () => {
    expect(withGivenValues(check, NO_VALUES).errors).toHaveLength(3);
    const given = { envs: { HF_TOKEN: 'x' }, secrets: { KEY: '' } };
    expect(withGivenValues(check, given).errors.map((e) => e.path)).toEqual(['secrets.KEY', 'resources.ports']);
  });
  it('the launch sends only needed names with a value', () => {
    expect(launchBody(check, NO_VALUES)).toBeUndefined();
    expect(launchBody(check, { envs: { HF_TOKEN: 'x', OTHER: 'y' }, secrets: { KEY: 's' } })).toEqual({ envs: { HF_TOKEN: 'x' }, secrets: { KEY: 's' } });
  });
});
