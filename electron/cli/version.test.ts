import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../shared/contracts/version.ts';
import { main } from './main.ts';

describe('the version', () => {
  it('is declared once, and equals package.json\'s', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });

  it('kindtray --version prints it and exits 0', async () => {
    const out: string[] = [];
    expect(await main(['--version'], { out: (t) => void out.push(t), err: () => undefined })).toBe(0);
    expect(out).toEqual([VERSION]);
  });
});
