// `kindtray launch`'s --env / --secret / --env-file, as the launch sends them.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './context.ts';
import { launchValues } from './tasks-cmd.ts';

describe('launch values from the command line', () => {
  it('--env and --secret K=V; a bare NAME from this shell; --env overrides the env file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kt-envfile-'));
    try {
      const file = path.join(dir, 'app.env');
      writeFileSync(file, '# settings\nLR=1e-4\nMODEL=small\n');
      const v = launchValues({ env: ['MODEL=big', 'HOME_DIR'], secret: ['HF_TOKEN=hf_x', 'WANDB'], 'env-file': [file] }, { HOME_DIR: '/h', WANDB: 'w' });
      expect(v).toEqual({ envs: { LR: '1e-4', MODEL: 'big', HOME_DIR: '/h' }, secrets: { HF_TOKEN: 'hf_x', WANDB: 'w' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses a bare name not set in the shell, and a bad name', () => {
    expect(() => launchValues({ secret: ['NOPE'] }, {})).toThrow(UsageError);
    expect(() => launchValues({ secret: ['NOPE'] }, {})).toThrow(/--secret NOPE=value/);
    expect(() => launchValues({ env: ['1A=x'] }, {})).toThrow(UsageError);
  });
  it('nothing given: empty values', () => {
    expect(launchValues({}, {})).toEqual({ envs: {}, secrets: {} });
  });
});
