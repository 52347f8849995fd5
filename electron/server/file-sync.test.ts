// What a workdir / file_mounts copy takes from a local folder (SkyPilot's
// ignore rules), what a launch refuses on its field, and the tar writer read
// back by a real tar (busybox's, as in the task image).

import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../shared/task/index.ts';
import { extractCommand, filesMarker, filesProgress, filesWaitScript, withFilesWait } from './file-sync-copy.ts';
import { isIgnored, parseIgnoreFile } from './file-sync-ignore.ts';
import { listCopy, planTaskFiles, podTarget } from './file-sync-plan.ts';
import { splitUstarPath, tarArchives } from './file-sync-tar.ts';
import { buildPod } from './pod-plan.ts';
import type { StoredTask } from './task-model.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-filesync-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text = 'x'): void {
  const abs = join(dir, rel);
  mkdirSync(join(abs, '..'), { recursive: true });
  writeFileSync(abs, text);
}

const listed = async (root = dir) => (await listCopy({ source: root, target: '~/sky_workdir', kind: 'dir' }, { deadline: Date.now() + 5_000, maxEntries: 10_000 })).entries.map((e) => e.path);
const spec = (extra: Partial<TaskSpec>): TaskSpec => ({ resources: { ports: [] } as unknown as TaskSpec['resources'], envs: {}, numNodes: 1, run: 'true', ...extra });

describe('ignore patterns, as rsync reads a "-" merge file', () => {
  const ignored = (lines: string, path: string, isDir = false, base = '') => isIgnored(parseIgnoreFile(lines, base).rules, path, isDir);

  it('a name without a slash matches at any depth; * stops at a slash, ** does not', () => {
    expect(ignored('*.log', 'a.log')).toBe(true);
    expect(ignored('*.log', 'sub/deep/a.log')).toBe(true);
    expect(ignored('sub/*.log', 'sub/deep/a.log')).toBe(false);
    expect(ignored('sub/**.log', 'sub/deep/a.log')).toBe(true);
    expect(ignored('dat?', 'data')).toBe(true);
    expect(ignored('[ab].txt', 'b.txt')).toBe(true);
    expect(ignored('[!ab].txt', 'b.txt')).toBe(false);
  });

  it('a leading slash anchors to the ignore file\'s folder; a trailing slash matches folders only', () => {
    expect(ignored('/build', 'build', true)).toBe(true);
    expect(ignored('/build', 'src/build', true)).toBe(false);
    expect(ignored('out/', 'out', true)).toBe(true);
    expect(ignored('out/', 'out', false)).toBe(false);
    expect(ignored('/x.txt', 'sub/x.txt', false, 'sub')).toBe(true);
    expect(ignored('/x.txt', 'other/x.txt', false, 'sub')).toBe(false);
  });

  it('comments and blank lines are not patterns; a !negation re-includes nothing and is reported', () => {
    const parsed = parseIgnoreFile('# c\n; c\n\n*.log\n!keep.log\n', '');
    expect(parsed.rules.map((r) => r.text)).toEqual(['*.log', '!keep.log']);
    expect(parsed.negations).toEqual(['!keep.log']);
    expect(isIgnored(parsed.rules, 'keep.log', false)).toBe(true);
  });
});

describe('which files a folder copy takes (SkyPilot: .skyignore wins over .gitignore)', () => {
  it('every .gitignore applies to its own subtree, .git/info/exclude to the root; an ignored folder is not entered', async () => {
    write('.gitignore', '*.tmp\n/secret.txt\nnode_modules/\n');
    write('a.txt');
    write('b.tmp');
    write('secret.txt');
    write('node_modules/pkg/index.js');
    write('sub/.gitignore', 'local.txt\n');
    write('sub/local.txt');
    write('sub/secret.txt');
    write('sub/keep.txt');
    write('other/local.txt');
    write('.git/info/exclude', 'excluded-by-git.txt\n');
    write('excluded-by-git.txt');
    const paths = await listed();
    expect(paths).toEqual(expect.arrayContaining(['a.txt', 'sub/keep.txt', 'sub/secret.txt', 'other/local.txt', '.gitignore', 'sub/.gitignore']));
    expect(paths).not.toEqual(expect.arrayContaining(['b.tmp']));
    for (const gone of ['b.tmp', 'secret.txt', 'node_modules', 'node_modules/pkg/index.js', 'sub/local.txt', 'excluded-by-git.txt']) expect(paths).not.toContain(gone);
  });

  it('with a .skyignore at the root, no .gitignore counts (nested .skyignore files do)', async () => {
    write('.skyignore', 'big/\n');
    write('.gitignore', '*.txt\n');
    write('a.txt');
    write('big/blob.bin');
    write('sub/.skyignore', '*.bin\n');
    write('sub/x.bin');
    write('sub/y.txt');
    const paths = await listed();
    expect(paths).toEqual(expect.arrayContaining(['a.txt', 'sub/y.txt']));
    for (const gone of ['big', 'big/blob.bin', 'sub/x.bin']) expect(paths).not.toContain(gone);
  });
});

describe('planning a launch\'s copies', () => {
  it('resolves relative sources from the task file\'s folder, and targets as SkyPilot does', async () => {
    write('proj/main.py', 'print(1)');
    write('cfg.json', '{}');
    const plan = await planTaskFiles(spec({ workdir: 'proj', fileMounts: [{ target: '/etc/app/cfg.json', source: './cfg.json' }, { target: 'rel', source: 'proj' }] }), dir);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.items).toEqual([
      { field: 'workdir', source: join(dir, 'proj'), target: '~/sky_workdir', kind: 'dir' },
      { field: 'file_mounts["/etc/app/cfg.json"]', source: join(dir, 'cfg.json'), target: '/etc/app/cfg.json', kind: 'file' },
      { field: 'file_mounts.rel', source: join(dir, 'proj'), target: '~/sky_workdir/rel', kind: 'dir' },
    ]);
    expect(plan.spec.workdir).toBe(join(dir, 'proj'));
    expect(podTarget('~/data')).toBe('~/data');
  });

  it('refuses on the field: a relative path without a folder (HTTP launch), a missing path, a bucket, a storage spec', async () => {
    const noFolder = await planTaskFiles(spec({ workdir: '.' }), undefined);
    expect(noFolder).toMatchObject({ ok: false, errors: [{ path: 'workdir', message: expect.stringContaining('launch it with the CLI') }] });
    const bad = await planTaskFiles(spec({ fileMounts: [{ target: '/a', source: 'nope' }, { target: '/b', source: 's3://bucket/x' }, { target: '/c', source: { name: 'b', store: 's3' } }] }), dir);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.map((e) => e.path)).toEqual(['file_mounts["/b"]', 'file_mounts["/c"]', 'file_mounts["/a"]']);
    expect(bad.errors[0]?.message).toMatch(/cloud bucket: mounting it needs cloud credentials/);
    expect(bad.errors[2]?.message).toMatch(/does not exist/);
  });

  it('over the size limit: refused on the field, saying to use a .skyignore or a volume', async () => {
    write('w/big.bin', 'y'.repeat(3000));
    write('w/small.txt', 'z');
    const over = await planTaskFiles(spec({ workdir: join(dir, 'w') }), undefined, { maxBytes: 2000 });
    expect(over).toMatchObject({ ok: false, errors: [{ path: 'workdir', message: expect.stringMatching(/over Kindtray's limit .*\.skyignore.*volume/) }] });
    write('w/.skyignore', '*.bin\n');
    expect((await planTaskFiles(spec({ workdir: join(dir, 'w') }), undefined, { maxBytes: 2000 })).ok).toBe(true);
  });
});

describe('the tar writer, read back by busybox tar', () => {
  it('folders, files (modes, a long path, a name with spaces and UTF-8), a symlink; split archives extract one after the other', async () => {
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(70)}`;
    const longest = `${'p'.repeat(120)}/${'q'.repeat(120)}`;
    write('src/a.txt', 'hello\n');
    write(`src/${deep}/long.txt`, 'deep');
    write(`src/${longest}/name-${'r'.repeat(110)}.txt`, 'pax');
    write('src/with space/ünï.txt', 'utf');
    write('src/run.sh', '#!/bin/sh\necho hi\n');
    execFileSync('chmod', ['755', join(dir, 'src/run.sh')]);
    symlinkSync('a.txt', join(dir, 'src/link'));
    write('src/big.bin', 'b'.repeat(5000));
    const listing = await listCopy({ source: join(dir, 'src'), target: '/x', kind: 'dir' }, { deadline: Date.now() + 5_000, maxEntries: 1000 });
    const out = join(dir, 'out');
    mkdirSync(out);
    let archives = 0;
    for await (const a of tarArchives(listing.entries, 4096)) {
      archives++;
      expect(a.archive.length % 10240).toBe(0);
      execFileSync('busybox', ['tar', 'xf', '-', '-C', out], { input: a.archive });
    }
    expect(archives).toBeGreaterThan(1);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('hello\n');
    expect(readFileSync(join(out, deep, 'long.txt'), 'utf8')).toBe('deep');
    expect(readFileSync(join(out, longest, `name-${'r'.repeat(110)}.txt`), 'utf8')).toBe('pax');
    expect(readFileSync(join(out, 'with space/ünï.txt'), 'utf8')).toBe('utf');
    expect(readFileSync(join(out, 'big.bin'), 'utf8')).toBe('b'.repeat(5000));
    expect(readlinkSync(join(out, 'link'))).toBe('a.txt');
    expect(execFileSync(join(out, 'run.sh'), { encoding: 'utf8' })).toBe('hi\n');
  });

  it('the copy\'s command ends by itself with stdin still open (an exec on protocol v4 cannot close it), in busybox and GNU tar', async () => {
    write('src/x.txt', 'x');
    const listing = await listCopy({ source: join(dir, 'src'), target: '/x', kind: 'dir' }, { deadline: Date.now() + 5_000, maxEntries: 10 });
    let archive: Buffer = Buffer.alloc(0);
    for await (const a of tarArchives(listing.entries, 1 << 20)) archive = a.archive;
    const busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
    for (const shell of [[busybox, 'sh'], ['sh']]) {
      const out = join(dir, `open-${shell.length}`);
      const [file = 'sh', ...pre] = shell;
      // busybox sh runs busybox's head, mkdir and tar (a PATH of links to it, as in the busybox image); /bin/sh coreutils' and GNU tar.
      const bin = join(dir, 'bb-bin');
      mkdirSync(bin, { recursive: true });
      for (const applet of ['head', 'tar', 'mkdir']) if (!existsSync(join(bin, applet))) symlinkSync(busybox, join(bin, applet));
      const env = { HOME: dir, PATH: shell.length === 2 ? bin : (process.env.PATH ?? '') };
      const child = spawn(file, [...pre, ...extractCommand(out, archive.length, '1 of 1', join(dir, 'progress')).slice(1)], { stdio: ['pipe', 'ignore', 'pipe'], env });
      child.stdin.write(archive);
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => resolve(-1), 4_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      child.kill();
      expect(code, `${shell.join(' ')} did not end by itself`).toBe(0);
      expect(readFileSync(join(out, 'x.txt'), 'utf8')).toBe('x');
      expect(readFileSync(join(dir, 'progress'), 'utf8')).toBe('1 of 1\n');
    }
  }, 15_000);

  it('splits a path at a slash into ustar prefix and name, or says it cannot', () => {
    expect(splitUstarPath('a/b')).toEqual({ prefix: '', name: 'a/b' });
    expect(splitUstarPath(`${'a'.repeat(150)}/${'b'.repeat(90)}`)).toEqual({ prefix: 'a'.repeat(150), name: 'b'.repeat(90) });
    expect(splitUstarPath('c'.repeat(101))).toBeUndefined();
  });
});

describe('the Pod waits for its files', () => {
  it('a task with a workdir: its Pod\'s script waits for the marker, then runs setup and run in ~/sky_workdir', () => {
    const task = { id: 't-files1', name: 'files', namespace: 'default', context: 'kind-x', state: 'pending', spec: spec({ workdir: '/abs/proj', setup: 'echo setup', run: 'pwd' }), portPlan: [], endpoints: [] } as unknown as StoredTask;
    const pod = withFilesWait(buildPod(task, 'busybox'), task.spec, task.id);
    const script = pod.spec?.containers[0]?.command?.[2] ?? '';
    expect(script.startsWith(filesWaitScript(task.spec, task.id))).toBe(true);
    expect(script).toContain(filesMarker(task.id));
    const plain = { ...task, spec: spec({ run: 'pwd' }) } as StoredTask;
    expect(withFilesWait(buildPod(plain, 'busybox'), plain.spec, plain.id).spec?.containers[0]?.command?.[2]).toBe(buildPod(plain, 'busybox').spec?.containers[0]?.command?.[2]);
  });

  it('the wait, run by busybox sh: released by the marker, then in $HOME/sky_workdir', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, 'sky_workdir'), { recursive: true });
    const s = spec({ workdir: '/abs/proj' });
    writeFileSync(filesMarker('t-files2'), '');
    try {
      const out = execFileSync('busybox', ['sh', '-c', `${filesWaitScript(s, 't-files2')}pwd`], { env: { HOME: home, PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 5_000 });
      expect(out).toBe(`${join(home, 'sky_workdir')}\n`);
    } finally {
      rmSync(filesMarker('t-files2'), { force: true });
    }
  });

  it('while it waits, the Pod prints the copy\'s progress to the task\'s log as it changes', async () => {
    const s = spec({ workdir: '/abs/proj' });
    const id = 't-files3';
    try {
      const run = new Promise<string>((resolve, reject) => {
        execFile('busybox', ['sh', '-c', `${filesWaitScript(s, id)}echo started`], { env: { HOME: dir, PATH: process.env.PATH ?? '' }, timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out)));
      });
      mkdirSync(join(dir, 'sky_workdir'));
      writeFileSync(filesProgress(id), '8.0 MB of 16.0 MB\n');
      await new Promise((r) => setTimeout(r, 1_500));
      writeFileSync(filesProgress(id), '16.0 MB of 16.0 MB\n');
      await new Promise((r) => setTimeout(r, 1_500));
      writeFileSync(filesMarker(id), '');
      expect(await run).toBe("kindtray: copying the task's files: 8.0 MB of 16.0 MB\nkindtray: copying the task's files: 16.0 MB of 16.0 MB\nstarted\n");
    } finally {
      rmSync(filesMarker(id), { force: true });
      rmSync(filesProgress(id), { force: true });
    }
  });
});
