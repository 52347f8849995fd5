import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withProblems } from '../../shared/problems.ts';
import { healthyInput } from '../../shared/snapshot-fixtures.ts';
import { kindtrayHome, readServerFile } from '../supervisor/index.ts';
import { answersHealth, apiRequest, parseServerFile, serverFilePath, serverInfo } from './server-link.ts';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

describe("the CLI's light link repeats the supervisor's facts exactly", () => {
  it('finds server.json where the supervisor writes it, on every platform', () => {
    const envs: NodeJS.ProcessEnv[] = [{}, { KINDTRAY_HOME: '/x/home' }, { XDG_CONFIG_HOME: '/x/xdg' }, { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }];
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      for (const env of envs) {
        expect(serverFilePath(env, platform, '/home/a')).toBe(join(kindtrayHome(env, platform, '/home/a'), 'server.json'));
      }
    }
  });

  it('accepts and refuses the same server.json files as the supervisor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-link-'));
    const good = { pid: 42, port: 46590, token: 'a'.repeat(32), startedAt: '2026-01-01T00:00:00Z', version: '0.1.0' };
    const cases: unknown[] = [
      good,
      { ...good, extra: true },
      { ...good, pid: 0 },
      { ...good, pid: 1.5 },
      { ...good, port: 70000 },
      { ...good, port: '46590' },
      { ...good, token: 'short' },
      { ...good, version: undefined },
      [],
      null,
      'text',
    ];
    try {
      for (const [i, value] of cases.entries()) {
        const file = join(dir, `s${i}.json`);
        writeFileSync(file, JSON.stringify(value));
        expect(parseServerFile(readFileSync(file, 'utf8')), JSON.stringify(value)).toEqual(readServerFile(file));
      }
      writeFileSync(join(dir, 'broken.json'), '{"pid": 4');
      expect(parseServerFile('{"pid": 4')).toEqual(readServerFile(join(dir, 'broken.json')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kindtray status against a running server', () => {
  let server: Server;
  let home: string;
  const token = 't'.repeat(32);
  const seen: string[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'kt-status-'));
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/api/status' ? JSON.stringify({ ...withProblems(healthyInput()), ageMs: 120 }) : '{"status":"ok"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    writeFileSync(join(home, 'server.json'), JSON.stringify({ pid: process.pid, port, token, startedAt: new Date().toISOString(), version: '0.1.0' }));
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(home, { recursive: true, force: true });
  });

  it('reaches it through server.json, with the token, under a deadline', async () => {
    const info = serverInfo({ KINDTRAY_HOME: home });
    expect(info?.pid).toBe(process.pid);
    if (!info) return;
    expect(await answersHealth(info, 2_000)).toBe(true);
    const answer = await apiRequest<{ ageMs: number }>(info, '/api/status', { deadlineMs: 2_000 });
    expect(answer).toMatchObject({ status: 200, body: { ageMs: 120 } });
    expect(await answersHealth({ ...info, token: 'wrong' }, 2_000)).toBe(false);
    expect(serverInfo({ KINDTRAY_HOME: join(home, 'nothing') })).toBeUndefined();
  });

  // The budget is 0.3 s where Node alone takes 0.07 s: a command that only asks the server
  // must not load the monitor, Docker's or Kubernetes' clients, zod or yaml (bench/status.ts times it).
  it('loads no package and none of the supervisor, monitor or server rooms', async () => {
    const hook = join(home, 'hook.mjs');
    const list = join(home, 'loaded.json');
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';\nimport { writeFileSync } from 'node:fs';\nconst urls = [];\n` +
        `registerHooks({ load(url, ctx, next) { urls.push(url); return next(url, ctx); } });\n` +
        `process.on('exit', () => writeFileSync(${JSON.stringify(list)}, JSON.stringify(urls)));\n`,
    );
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', hook, BIN, 'status', '--json'], { env: { ...process.env, KINDTRAY_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', reject);
      child.on('exit', (c) => resolve({ code: c, stdout: out }));
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ overall: 'ok', ageMs: 120 });
    const ours = (JSON.parse(readFileSync(list, 'utf8')) as string[]).filter((u) => u.startsWith('file:') && u !== `file://${hook}`);
    expect(ours.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    expect(ours.filter((u) => /\/electron\/(supervisor|monitor|server|fixes)\//.test(u))).toEqual([]);
    expect(seen.at(-1)).toBe(`GET /api/status Bearer ${token}`);
  }, 30_000);
});
