import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'kindtray-schema-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe('kindtray validate --schema-only: the file alone, no server', () => {
  it('a SkyPilot file with cloud-only hints and a cloud infra is valid (exit 0), with warnings and what a launch needs', async () => {
    const f = file('ok.yaml', 'name: minGPT-ddp\nresources:\n  infra: aws\n  use_spot: true\nenvs:\n  HF_TOKEN:\nrun: x\n');
    const r = await run('validate', '--schema-only', f);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid task file');
    expect(r.out).toContain('warning: ');
    expect(r.out).toContain('required at launch: env HF_TOKEN');
  });

  it('an error in the file is exit 1; --json answers ValidateResponse', async () => {
    const f = file('bad.yaml', 'resources:\n  cpus: zero\nrun: x\n');
    const r = await run('validate', '--schema-only', '--json', f);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, errors: [{ path: 'resources.cpus', line: 2 }] });
  });

  it('--infra with --schema-only is a usage error', async () => {
    expect((await run('validate', '--schema-only', '--infra', 'k8s', file('x.yaml', 'run: x'))).code).toBe(2);
  });
});

describe('kindtray schema', () => {
  it('prints a JSON Schema that knows every field', async () => {
    const r = await run('schema');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { properties: Record<string, unknown>; definitions: { resources: { properties: Record<string, unknown> } } };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['name', 'resources', 'envs', 'secrets', 'file_mounts', 'service', 'config', 'num_nodes', 'pool']));
    expect(Object.keys(s.definitions.resources.properties)).toEqual(expect.arrayContaining(['accelerators', 'gpus', 'any_of', 'ordered', 'use_spot', 'disk_size']));
  });
});

describe('local paths, as SkyPilot\'s loader checks them', () => {
  it('a workdir that is no folder and a file_mounts source that does not exist are errors on their fields', async () => {
    const f = file('paths.yaml', `workdir: ${join(dir, 'nope')}\nfile_mounts:\n  /data/a: ${join(dir, 'missing.txt')}\n  /data/b: ${f0()}\n  /data/c: s3://bucket/x\nrun: x\n`);
    const r = await run('validate', '--schema-only', '--json', f);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.out) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toEqual(['workdir', 'file_mounts["/data/a"]']);
  });

  it('an existing workdir passes', async () => {
    expect((await run('validate', '--schema-only', file('wd.yaml', `workdir: ${dir}\nrun: x\n`))).code).toBe(0);
  });
});

function f0(): string {
  return file('present.txt', 'here');
}
