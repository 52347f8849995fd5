import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubeconfigPaths, loadKubeconfig, loadKubeconfigFiles } from '../kube/index.ts';
import { analyseKubeconfig, serverPort, watchKubeconfig } from './kubeconfig.ts';
import { makeTempDir, removeDir } from './kube-probe.fixtures.ts';

let dir: string;
beforeEach(() => {
  dir = makeTempDir('kindtray-kubeconfig-');
});
afterEach(() => removeDir(dir));

const write = (name: string, text: string): string => {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
};

const kindFile = (port: number, extra = '') => `apiVersion: v1
kind: Config
current-context: kind-dev
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:${port}
    certificate-authority-data: Y2E=
users:
- name: kind-dev
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
${extra}`;

describe('which files', () => {
  it('reads ~/.kube/config when KUBECONFIG is unset or empty', () => {
    expect(kubeconfigPaths({}, '/home/me')).toEqual(['/home/me/.kube/config']);
    expect(kubeconfigPaths({ KUBECONFIG: '' }, '/home/me')).toEqual(['/home/me/.kube/config']);
  });

  it('reads the KUBECONFIG path list in order, without empty items or repeats', () => {
    expect(kubeconfigPaths({ KUBECONFIG: `/a${path.delimiter}${path.delimiter}/b${path.delimiter}/a` }, '/home/me')).toEqual(['/a', '/b']);
  });
});

describe('merging, as kubectl does', () => {
  it('the first file that defines a name wins, and current-context comes from the first file that sets it', () => {
    const first = write(
      'first',
      `clusters:
- name: shared
  cluster: { server: "https://first:1" }
contexts:
- name: shared
  context: { cluster: shared }
`,
    );
    const second = write(
      'second',
      `current-context: shared
clusters:
- name: shared
  cluster: { server: "https://second:2" }
- name: only-second
  cluster: { server: "https://second:3" }
contexts:
- name: shared
  context: { cluster: only-second }
`,
    );
    const third = write('third', 'current-context: ignored\n');
    const m = loadKubeconfig({ KUBECONFIG: [first, second, third].join(path.delimiter) }, dir);
    expect(m.files.map((f) => f.state)).toEqual(['ok', 'ok', 'ok']);
    expect(m.clusters).toEqual([
      { name: 'shared', file: first, spec: { server: 'https://first:1' } },
      { name: 'only-second', file: second, spec: { server: 'https://second:3' } },
    ]);
    expect(m.contexts).toEqual([{ name: 'shared', file: first, spec: { cluster: 'shared' } }]);
    expect(m.currentContext).toEqual({ name: 'shared', file: second });
    const a = analyseKubeconfig(m, []);
    expect(a.contexts).toEqual([{ name: 'shared', current: true, state: 'unknown', cluster: 'shared', server: 'https://first:1', file: first }]);
  });

  it('a missing file in KUBECONFIG is reported and the others still load', () => {
    const good = write('good', kindFile(41234));
    const gone = path.join(dir, 'gone');
    const m = loadKubeconfig({ KUBECONFIG: [gone, good].join(path.delimiter) }, dir);
    expect(m.files).toEqual([
      { path: gone, state: 'missing', cause: 'no such file' },
      { path: good, state: 'ok' },
    ]);
    expect(m.contexts.map((c) => c.name)).toEqual(['kind-dev']);
  });

  it('a malformed file names its line, contributes nothing, and does not stop the others', () => {
    const bad = write('bad', 'clusters:\n- name: x\n  cluster:\n    server: [unclosed\ncontexts: []\n');
    const good = write('good', kindFile(41234));
    const m = loadKubeconfigFiles([bad, good]);
    expect(m.files[0]).toMatchObject({ path: bad, state: 'malformed' });
    expect(m.files[0]?.line).toBeGreaterThanOrEqual(4);
    expect(m.files[0]?.cause).toMatch(/^line \d+: /);
    expect(m.clusters.map((c) => c.name)).toEqual(['kind-dev']);
    expect(analyseKubeconfig(m, []).kubeconfig.files[0]).toMatchObject({ path: bad, state: 'malformed' });
  });

  it('a file that is YAML but not a kubeconfig is malformed, with the field and line at fault', () => {
    const bad = write('bad', 'clusters:\n- cluster:\n    server: https://x:1\n');
    const m = loadKubeconfigFiles([bad]);
    expect(m.files[0]).toMatchObject({ state: 'malformed', line: 2 });
    expect(m.files[0]?.cause).toContain('clusters[0].name');
  });

  it('an unreadable path is reported as such; an empty file is an empty kubeconfig', () => {
    const folder = path.join(dir, 'folder');
    mkdirSync(folder);
    const empty = write('empty', '');
    const m = loadKubeconfigFiles([folder, empty]);
    expect(m.files).toEqual([
      { path: folder, state: 'unreadable', cause: 'is a directory' },
      { path: empty, state: 'ok' },
    ]);
  });

  it('lists written as null by kubectl count as empty', () => {
    const f = write('nulls', 'clusters: null\nusers: null\ncontexts: null\ncurrent-context: ""\n');
    const m = loadKubeconfigFiles([f]);
    expect(m.files[0]?.state).toBe('ok');
    expect(m.currentContext).toBeUndefined();
  });
});

describe('analysis', () => {
  it('current-context naming no context surfaces apart', () => {
    const f = write('c', kindFile(41234).replace('current-context: kind-dev', 'current-context: kind-gone'));
    const a = analyseKubeconfig(loadKubeconfigFiles([f]), []);
    expect(a.currentContext).toBe('kind-gone');
    expect(a.currentContextDangling).toBe(true);
    expect(a.currentContextCause).toContain('kind-gone');
    expect(a.kubeconfig.currentContext).toBe('kind-gone');
    expect(a.contexts.map((c) => [c.name, c.current])).toEqual([['kind-dev', false]]);
  });

  it('a context naming a missing cluster or user is dangling, with the names in the cause', () => {
    const f = write(
      'c',
      `clusters:
- name: real
  cluster: { server: "https://127.0.0.1:6443" }
- name: no-server
  cluster: {}
users:
- name: me
  user: { token: t }
contexts:
- name: lost-cluster
  context: { cluster: gone, user: me }
- name: lost-user
  context: { cluster: real, user: ghost }
- name: serverless
  context: { cluster: no-server, user: me }
- name: anonymous
  context: { cluster: real }
`,
    );
    const a = analyseKubeconfig(loadKubeconfigFiles([f]), []);
    const byName = Object.fromEntries(a.contexts.map((c) => [c.name, c]));
    expect(byName['lost-cluster']).toMatchObject({ state: 'dangling', cluster: 'gone', user: 'me' });
    expect(byName['lost-cluster']?.cause).toContain('cluster "gone"');
    expect(byName['lost-user']).toMatchObject({ state: 'dangling', server: 'https://127.0.0.1:6443' });
    expect(byName['lost-user']?.cause).toContain('user "ghost"');
    expect(byName['serverless']?.cause).toContain('has no server');
    expect(byName['anonymous']?.state).toBe('unknown');
    expect(a.currentContextDangling).toBe(false);
  });

  it('a kind context whose port differs from the container\'s published 6443 is a stale endpoint', () => {
    const m = loadKubeconfigFiles([write('c', kindFile(41234))]);
    const stale = analyseKubeconfig(m, [{ name: 'dev', apiHostPort: 45678, running: true }]).contexts[0];
    expect(stale).toMatchObject({
      name: 'kind-dev',
      current: true,
      state: 'stale-endpoint',
      server: 'https://127.0.0.1:41234',
      expectedServer: 'https://127.0.0.1:45678',
    });
    expect(stale?.cause).toContain('41234');
    expect(stale?.cause).toContain('45678');
    // Same port, or no port known (container stopped), or no such cluster: nothing to say without a probe.
    expect(analyseKubeconfig(m, [{ name: 'dev', apiHostPort: 41234, running: true }]).contexts[0]?.state).toBe('unknown');
    expect(analyseKubeconfig(m, [{ name: 'dev', running: false }]).contexts[0]?.state).toBe('unknown');
    expect(analyseKubeconfig(m, [{ name: 'other', apiHostPort: 1, running: true }]).contexts[0]?.state).toBe('unknown');
  });

  it('serverPort knows default ports', () => {
    expect(serverPort('https://example.com')).toBe(443);
    expect(serverPort('https://127.0.0.1:6443/')).toBe(6443);
    expect(serverPort('not a url')).toBeUndefined();
  });
});

describe('watching', () => {
  const waitFor = async (check: () => boolean, ms = 2_000) => {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('notices a file replaced by rename, once per burst of writes', async () => {
    const file = write('config', kindFile(1));
    const calls: string[][] = [];
    const stop = new AbortController();
    watchKubeconfig([file], (changed) => calls.push(changed), stop.signal);
    try {
      const tmp = path.join(dir, '.config.tmp');
      writeFileSync(tmp, kindFile(2));
      renameSync(tmp, file);
      writeFileSync(file, kindFile(3));
      await waitFor(() => calls.length > 0);
      await new Promise((r) => setTimeout(r, 250));
      expect(calls).toEqual([[file]]);
    } finally {
      stop.abort();
    }
  });

  it('watches files (and folders) that do not exist yet, and stops on abort', async () => {
    const file = path.join(dir, 'later', '.kube', 'config');
    const calls: string[][] = [];
    const stop = new AbortController();
    watchKubeconfig([file], (changed) => calls.push(changed), stop.signal);
    mkdirSync(path.dirname(file), { recursive: true });
    await new Promise((r) => setTimeout(r, 200)); // the watch moves closer
    writeFileSync(file, kindFile(1));
    await waitFor(() => calls.some((c) => c.includes(file)));
    stop.abort();
    const n = calls.length;
    writeFileSync(file, kindFile(2));
    await new Promise((r) => setTimeout(r, 250));
    expect(calls.length).toBe(n);
  });
});
