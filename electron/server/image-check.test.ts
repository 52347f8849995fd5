// Validation and local images, with Docker and the nodes as a double: a
// locally built image the nodes lack is an error with the load fix; a pulled
// one a warning; one on every node (or not local at all) nothing.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withProblems } from '../../shared/problems.ts';
import { healthyInput } from '../../shared/snapshot-fixtures.ts';
import { imageIssue, normalizeImageRef, withImageCheck, type ImageProbe } from './image-check.ts';

const snapshot = withProblems(healthyInput());
const probe = (local: { id: string; pulled: boolean } | undefined, onNodes: Record<string, string[]>): ImageProbe => ({
  inspect: async () => local,
  nodeImages: async (node) => (onNodes[node] ?? []).map((tag) => ({ id: 'sha256:app', repoTags: [tag] })),
});

describe('images on the nodes', () => {
  it('names as containerd stores them', () => {
    expect(normalizeImageRef('app')).toBe('docker.io/library/app:latest');
    expect(normalizeImageRef('me/app:1')).toBe('docker.io/me/app:1');
    expect(normalizeImageRef('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(normalizeImageRef('ghcr.io/o/app@sha256:abc')).toBe('ghcr.io/o/app@sha256:abc');
  });

  it('a locally built image missing on a node: an error on resources.image_id with "Load IMG into cluster NAME"', async () => {
    const found = await imageIssue('app:1', 'test', snapshot, { deadlineMs: 1_000, probe: probe({ id: 'sha256:app', pulled: false }, { 'test-control-plane': ['docker.io/library/app:1'] }) });
    expect(found?.kind).toBe('error');
    expect(found?.issue).toMatchObject({ path: 'resources.image_id', fix: { id: 'load-image:test:app:1', label: 'Load app:1 into cluster test' } });
    expect(found?.issue.message).toContain('node test-worker');
  });

  it('on every node, or not in the local Docker: nothing; pulled from a registry: a warning', async () => {
    const all = { 'test-control-plane': ['docker.io/library/app:1'], 'test-worker': ['docker.io/library/app:1'] };
    expect(await imageIssue('app:1', 'test', snapshot, { deadlineMs: 1_000, probe: probe({ id: 'sha256:app', pulled: false }, all) })).toBeUndefined();
    expect(await imageIssue('app:1', 'test', snapshot, { deadlineMs: 1_000, probe: probe(undefined, {}) })).toBeUndefined();
    expect((await imageIssue('app:1', 'test', snapshot, { deadlineMs: 1_000, probe: probe({ id: 'sha256:app', pulled: true }, {}) }))?.kind).toBe('warning');
  });

  it('a Docker that does not answer in time costs nothing but the deadline', async () => {
    const slow: ImageProbe = { inspect: () => new Promise(() => undefined), nodeImages: async () => [] };
    const started = Date.now();
    expect(await imageIssue('app:1', 'test', snapshot, { deadlineMs: 200, probe: slow })).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('the validation answer gets the error at the field, and is no longer ok', async () => {
    const result = { ok: true, errors: [], warnings: [], task: { resources: { image: 'app:1' } }, target: { context: 'kind-test', cluster: 'test' } };
    const out = await withImageCheck(result, snapshot, { deadlineMs: 1_000, positions: { 'resources.image_id': { line: 4, column: 13 } }, probe: probe({ id: 'sha256:app', pulled: false }, {}) });
    expect(out.ok).toBe(false);
    expect(out.errors[0]).toMatchObject({ path: 'resources.image_id', line: 4, column: 13 });
  });
});

describe('the API worker and dockerode', () => {
  it('its routes and task service load no dockerode (about 30 MiB with gRPC and ssh); the first image check does', () => {
    const here = (f: string) => JSON.stringify(fileURLToPath(new URL(f, import.meta.url)));
    const script = `
      await import(${here('./routes.ts')});
      await import(${here('./tasks.ts')});
      const check = await import(${here('./image-check.ts')});
      const { createRequire } = await import('node:module');
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((k) => k.includes('/node_modules/dockerode/'));
      const before = loaded();
      check.dockerImageProbe('unix:///nonexistent/docker.sock');
      process.stdout.write(JSON.stringify([before, loaded()]));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([false, true]);
  });
});
