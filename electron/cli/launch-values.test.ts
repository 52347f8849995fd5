// `kindtray launch`'s --env / --secret / --env-file, as the launch sends them;
// `kindtray validate` sends them the same way, so its answer is the launch's.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCH_REQUEST_TYPE } from '../../shared/api.ts';
import { UsageError } from './context.ts';
import { launchValues, validateCommand } from './tasks-cmd.ts';

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

describe('kindtray validate with --env / --secret', () => {
  it('sends the file and the values as the launch does; without values, the file alone as before', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'kt-validate-'));
    const token = 'v'.repeat(32);
    const seen: { type: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url?.startsWith('/api/validate')) seen.push({ type: req.headers['content-type'] ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url === '/api/health' ? '{"status":"ok"}' : JSON.stringify({ ok: true, errors: [], warnings: [] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      writeFileSync(path.join(home, 'server.json'), JSON.stringify({ pid: process.pid, port, token, startedAt: new Date().toISOString(), version: '0.1.0' }));
      const file = path.join(home, 'task.yaml');
      writeFileSync(file, 'envs:\n  HF_TOKEN:\nrun: echo hi\n');
      const out: string[] = [];
      const ctx = { out: (l: string) => void out.push(l), err: () => {}, json: false, color: false, env: { KINDTRAY_HOME: home } };
      expect(await validateCommand(ctx, [file], { env: ['HF_TOKEN=hf'], secret: ['KEY=k'] })).toBe(0);
      expect(seen[0]?.type).toBe(LAUNCH_REQUEST_TYPE);
      expect(JSON.parse(seen[0]?.body ?? '{}')).toEqual({ task: 'envs:\n  HF_TOKEN:\nrun: echo hi\n', envs: { HF_TOKEN: 'hf' }, secrets: { KEY: 'k' } });
      expect(await validateCommand(ctx, [file], {})).toBe(0);
      expect(seen[1]).toEqual({ type: 'application/yaml', body: 'envs:\n  HF_TOKEN:\nrun: echo hi\n' });
      expect(out[0]).toBe(`${file}: valid`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(home, { recursive: true, force: true });
    }
  });
});
