// Property tests of the kubeconfig reader and analyser: the monitor reads
// whatever files KUBECONFIG names, written by kind, kubectl, other tools or a
// hand in an editor. Whatever they hold (valid, half-valid, not YAML at all, an
// alias bomb, a deep nest, a folder, nothing), reading never throws, every file
// is reported in order with its path, a bad one says why, and the analysis of
// the contexts only ever trusts names that exist; the rest are flagged
// dangling. Bounded runs, small files: fast on a loaded 2-core machine.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { loadKubeconfigFiles } from '../kube/index.ts';
import { analyseKubeconfig, serverPort, type KindClusterRef } from './kubeconfig.ts';

/** Generous: a few small files take milliseconds; this only catches a hang. */
const BOUNDED_MS = 2_000;
/** A whole property (200 runs) takes a few seconds on a loaded 2-core machine; vitest's default is 5 s. */
const PROPERTY_TIMEOUT_MS = 60_000;

let dir: string;
let run = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindtray-kubeconfig-prop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------
// Arbitraries: what a kubeconfig file may hold

/** A small pool, so that references often name something that exists and often do not. */
const NAMES = ['kind-dev', 'kind-b', 'prod', 'dev', 'x'] as const;
const name = fc.constantFrom(...NAMES);
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null));
const mostly = <T, U>(right: fc.Arbitrary<T>, any: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof({ arbitrary: right, weight: 5 }, { arbitrary: any, weight: 1 });

const server = mostly(
  fc.oneof(
    fc.integer({ min: 1, max: 65_535 }).map((p) => `https://127.0.0.1:${p}`),
    fc.constantFrom('https://kubernetes.example', 'http://[::1]:8080', 'https://10.0.0.1:6443/prefix'),
  ),
  fc.oneof(fc.constantFrom('not a url', '', '127.0.0.1:6443'), scalar),
);

const cluster = fc.record({ name: mostly(name, scalar), cluster: mostly(fc.record({ server }, { requiredKeys: [] }), scalar) }, { requiredKeys: ['name'] });
const user = fc.record(
  {
    name: mostly(name, scalar),
    user: mostly(
      fc.record(
        { token: fc.string({ maxLength: 10 }), exec: mostly(fc.record({ command: fc.constantFrom('kubelogin', ''), args: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }) }), scalar) },
        { requiredKeys: [] },
      ),
      scalar,
    ),
  },
  { requiredKeys: ['name'] },
);
const context = fc.record(
  {
    name: mostly(name, scalar),
    context: mostly(fc.record({ cluster: mostly(name, scalar), user: mostly(name, scalar), namespace: fc.string({ maxLength: 8 }) }, { requiredKeys: [] }), scalar),
  },
  { requiredKeys: ['name'] },
);
const listOf = <T,>(item: fc.Arbitrary<T>) => mostly(fc.array(item, { maxLength: 4 }), scalar);

const kubeconfigShaped = fc.record(
  {
    apiVersion: fc.constant('v1'),
    kind: fc.constant('Config'),
    'current-context': mostly(name, scalar),
    clusters: listOf(cluster),
    users: listOf(user),
    contexts: listOf(context),
    preferences: fc.constant({}),
  },
  { requiredKeys: [] },
);

const yamlPiece = fc.constantFrom('[', ']', '{', '}', ', ', '- ', ': ', '&a ', '*a', '*zz', '\n', '\n  ', '\t', 'clusters', 'contexts', 'name', 'kind-dev', '"', '#', '|', '---\n', '\u0000');

const BILLION_LAUGHS = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
  .concat('bcdefgh'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`))
  .join('\n');

type FileSpec = { kind: 'text'; text: string } | { kind: 'missing' } | { kind: 'folder' };

const fileSpec: fc.Arbitrary<FileSpec> = fc.oneof(
  { arbitrary: fc.tuple(kubeconfigShaped, fc.boolean()).map(([v, json]): FileSpec => ({ kind: 'text', text: json ? JSON.stringify(v) : stringify(v) })), weight: 6 },
  { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v): FileSpec => ({ kind: 'text', text: stringify(v) })), weight: 1 },
  { arbitrary: fc.array(yamlPiece, { maxLength: 60 }).map((p): FileSpec => ({ kind: 'text', text: p.join('') })), weight: 2 },
  { arbitrary: fc.string({ maxLength: 200, unit: 'binary' }).map((text): FileSpec => ({ kind: 'text', text })), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 200 }).map((n): FileSpec => ({ kind: 'text', text: `clusters: ${'['.repeat(n)}` })), weight: 1 },
  { arbitrary: fc.constant<FileSpec>({ kind: 'text', text: BILLION_LAUGHS }), weight: 1 },
  { arbitrary: fc.constant<FileSpec>({ kind: 'missing' }), weight: 1 },
  { arbitrary: fc.constant<FileSpec>({ kind: 'folder' }), weight: 1 },
);

const kindClusters: fc.Arbitrary<KindClusterRef[]> = fc.array(
  fc.record({ name: fc.constantFrom('dev', 'b', 'other'), apiHostPort: fc.integer({ min: 1, max: 65_535 }), running: fc.boolean() }, { requiredKeys: ['name', 'running'] }),
  { maxLength: 3 },
);

/** Writes the files of one run into a fresh folder; answers their paths in order. */
function writeFiles(specs: readonly FileSpec[]): string[] {
  const here = path.join(dir, `run-${run++}`);
  mkdirSync(here);
  return specs.map((s, i) => {
    const file = path.join(here, `config-${i}`);
    if (s.kind === 'text') writeFileSync(file, s.text);
    if (s.kind === 'folder') mkdirSync(file);
    return file;
  });
}

describe('kubeconfig files with anything in them', () => {
  it('reading never throws; every file is reported in order with its path; a bad one says why', () => {
    fc.assert(
      fc.property(fc.array(fileSpec, { minLength: 1, maxLength: 3 }), (specs) => {
        const files = writeFiles(specs);
        const started = performance.now();
        const model = loadKubeconfigFiles(files);
        expect(performance.now() - started).toBeLessThan(BOUNDED_MS);

        expect(model.files.map((f) => f.path)).toEqual(files.map((f) => path.resolve(f)));
        specs.forEach((s, i) => {
          const f = model.files[i];
          if (!f) throw new Error('a file went unreported');
          if (f.state !== 'ok') expect(f.cause?.trim()).toBeTruthy();
          if (s.kind === 'missing') expect(f.state).toBe('missing');
          if (s.kind === 'folder') expect(f.state).toBe('unreadable');
          // Text that is not YAML at all is malformed, never "ok and empty".
          if (s.kind === 'text' && parseDocument(s.text).errors.length > 0) expect(f.state).toBe('malformed');
          if (f.line !== undefined) expect(Number.isInteger(f.line) && f.line >= 1).toBe(true);
        });

        // Only files that were read contribute, and each name once (the first file wins).
        const okPaths = new Set(model.files.filter((f) => f.state === 'ok').map((f) => f.path));
        for (const entries of [model.contexts, model.clusters, model.users]) {
          for (const e of entries) {
            expect(okPaths.has(e.file)).toBe(true);
            expect(typeof e.name === 'string' && e.name.length > 0).toBe(true);
          }
          expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
        }
        if (model.currentContext) expect(okPaths.has(model.currentContext.file)).toBe(true);
      }),
      { numRuns: 200 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('the analysis never throws, and a context is trusted only when the cluster (with a server) and user it names exist', () => {
    fc.assert(
      fc.property(fc.array(fileSpec, { minLength: 1, maxLength: 3 }), kindClusters, (specs, kind) => {
        const model = loadKubeconfigFiles(writeFiles(specs));
        const started = performance.now();
        const a = analyseKubeconfig(model, kind);
        expect(performance.now() - started).toBeLessThan(BOUNDED_MS);
        // It goes into the snapshot, which goes out as JSON.
        expect(() => JSON.stringify(a)).not.toThrow();

        const clusters = new Map(model.clusters.map((c) => [c.name, c]));
        const users = new Set(model.users.map((u) => u.name));
        expect(a.contexts.map((c) => c.name)).toEqual(model.contexts.map((c) => c.name));
        model.contexts.forEach((ctx, i) => {
          const health = a.contexts[i];
          if (!health) throw new Error('a context went unanalysed');
          const clusterName = ctx.spec.cluster || undefined;
          const userName = ctx.spec.user || undefined;
          const sound =
            clusterName !== undefined && Boolean(clusters.get(clusterName)?.spec.server) && (userName === undefined || users.has(userName));
          expect(health.state === 'dangling').toBe(!sound);
          if (health.state === 'dangling') expect(health.cause?.trim()).toBeTruthy();
          expect(health.current).toBe(ctx.name === model.currentContext?.name);
          if (health.state === 'stale-endpoint') {
            const k = kind.find((c) => `kind-${c.name}` === ctx.name);
            expect(health.expectedServer && serverPort(health.expectedServer)).toBe(k?.apiHostPort);
          }
        });

        const current = model.currentContext?.name;
        expect(a.currentContextDangling).toBe(current !== undefined && !model.contexts.some((c) => c.name === current));
        if (a.currentContextDangling) expect(a.currentContextCause).toContain(current);
      }),
      { numRuns: 200 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('an alias bomb is a malformed file, not an exception that takes the monitor down', () => {
    const [file = ''] = writeFiles([{ kind: 'text', text: BILLION_LAUGHS }]);
    const model = loadKubeconfigFiles([file]);
    expect(model.files[0]).toMatchObject({ path: file, state: 'malformed' });
    expect(model.files[0]?.cause).toMatch(/alias/i);
  });
});
