// The task-file corpus: one file of our own per SkyPilot field and form
// (shared/task/corpus/*.yaml), each saying in its first comments what
// Kindtray answers: `# schema: ok | warn PATH… | error PATH` (`(file)`: the whole file) for the file
// alone, `# cluster: ok | warn PATH | error PATH` and `# chosen: N` against a
// KinD cluster with one T4 node, `# required: envs=A,B secrets=C`.

import { describe, expect, it } from 'vitest';
import type { ClusterHealth, HealthSnapshot, NodeHealth } from '../snapshot.ts';
import type { NodeGpuFacts } from './gpu-check.ts';
import { parseTask } from './parse.ts';
import { validateTask } from './validate.ts';

declare global {
  interface ImportMeta {
    /** Vite's (vitest's) file glob: shared/ code reads no files itself. */
    glob(pattern: string, opts: { query: '?raw'; import: 'default'; eager: true }): Record<string, string>;
  }
}

const GiB = 1024 ** 3;
const corpus = import.meta.glob('./corpus/*.yaml', { query: '?raw', import: 'default', eager: true });
const files = Object.keys(corpus).map((p) => p.replace('./corpus/', '')).sort();
const read = (file: string): string => corpus[`./corpus/${file}`] ?? '';

const nodes: (NodeHealth & NodeGpuFacts)[] = [
  { name: 'dev-control-plane', role: 'control-plane', state: 'running', ready: true, cpus: 4, memoryBytes: 16 * GiB, gpus: 0 },
  {
    name: 'dev-worker', role: 'worker', state: 'running', ready: true, cpus: 4, memoryBytes: 32 * GiB, gpus: 1,
    labels: { 'nvidia.com/gpu.product': 'Tesla-T4' },
  },
];
const cluster: ClusterHealth = { name: 'dev', state: 'running', context: 'kind-dev', apiEndpoint: 'https://127.0.0.1:41234', nodes, portMappings: [] };
const snap: HealthSnapshot = {
  overall: 'ok',
  checkedAt: '2025-01-01T00:00:00.000Z',
  docker: { state: 'running', endpoint: 'unix:///var/run/docker.sock', version: '27.0.0' },
  clusters: [cluster],
  contexts: [{ name: 'kind-dev', current: true, state: 'ok' }],
  server: { state: 'healthy' },
  problems: [],
};

function directives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# (schema|cluster|chosen|required): (.*)$/gm)) out.set(m[1] ?? '', (m[2] ?? '').trim());
  return out;
}

const paths = (list: { path: string }[]) => list.map((i) => i.path);

describe('the task corpus: each SkyPilot field and form is accepted, warned about, or refused on its field', () => {
  it('has a file for every form', () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
  });

  it.each(files)('%s', (file) => {
    const text = read(file);
    const want = directives(text);
    const schema = want.get('schema');
    expect(schema, 'every corpus file says what the schema answers').toBeDefined();
    const parsed = parseTask(text);
    const [kind = '', ...where] = (schema ?? '').split(/\s+/).map((w) => (w === '(file)' ? '' : w));
    if (kind === 'error') {
      expect(paths(parsed.errors)).toEqual(expect.arrayContaining(where));
      return;
    }
    expect(parsed.errors).toEqual([]);
    expect(new Set(paths(parsed.warnings))).toEqual(new Set(kind === 'warn' ? where : []));

    const required = want.get('required');
    if (required !== undefined) {
      const got = parsed.task?.requiredAtLaunch;
      const list = (k: string) => /(?:^|\s)K=(\S+)/.exec(required.replace(`${k}=`, 'K='))?.[1]?.split(',') ?? [];
      expect(got?.envs ?? []).toEqual(list('envs'));
      expect(got?.secrets ?? []).toEqual(list('secrets'));
    }

    const cluster = want.get('cluster');
    const chosen = want.get('chosen');
    if (cluster === undefined && chosen === undefined) return;
    const v = validateTask(text, snap, { snapshotAgeMs: 0, maxAgeMs: 30_000 });
    const [ckind = '', ...cwhere] = (cluster ?? 'ok').split(/\s+/);
    if (ckind === 'error') {
      expect(v.ok).toBe(false);
      expect(paths(v.errors)).toEqual(cwhere);
    } else {
      expect(v.errors).toEqual([]);
      if (ckind === 'warn') expect(paths(v.warnings)).toEqual(expect.arrayContaining(cwhere));
    }
    if (chosen !== undefined) expect(v.chosenResources?.index).toBe(Number(chosen));
  });
});

describe('accelerators against the nodes', () => {
  const check = (text: string, s: HealthSnapshot = snap) => validateTask(text, s, { snapshotAgeMs: 0, maxAgeMs: 30_000 });

  it('"no node here offers H100:8" names what the nodes have', () => {
    const v = check('resources: {accelerators: H100:8}\nrun: x');
    expect(v.errors).toEqual([
      expect.objectContaining({ path: 'resources.accelerators', message: 'no node here offers H100:8 (cluster kind-dev: dev-worker has Tesla-T4:1)', line: 1 }),
    ]);
  });

  it('the chosen alternative is the request the launch gets, with the type label the offering node advertised (for the node selector)', () => {
    expect(check('resources: {accelerators: [A100:1, T4:1]}\nrun: x').task?.resources.accelerators).toEqual([
      { name: 'T4', count: 1, nodeLabel: { key: 'nvidia.com/gpu.product', value: 'Tesla-T4' } },
    ]);
  });

  it('nodes that say nothing of GPUs: a warning, not a refusal', () => {
    const bare = { ...snap, clusters: [{ ...cluster, nodes: nodes.map(({ gpus: _g, labels: _l, ...n }) => n) }] };
    const v = check('resources: {gpus: H100:8}\nrun: x', bare);
    expect(v.errors).toEqual([]);
    expect(v.warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('do not say which GPUs they have: H100:8 could not be checked')]),
    );
  });

  it('whole GPUs only on Kubernetes', () => {
    expect(check('resources: {accelerators: T4:0.5}\nrun: x').errors[0]?.message).toContain('Kubernetes gives whole GPUs');
  });

  it('null envs and secrets are errors at launch, named in requiredAtLaunch', () => {
    const v = check('envs: {TOKEN: null}\nsecrets: {KEY: null}\nrun: x');
    expect(v.requiredAtLaunch).toEqual({ envs: ['TOKEN'], secrets: ['KEY'] });
    expect(v.errors.map((e) => e.path)).toEqual(['envs.TOKEN', 'secrets.KEY']);
  });
});

describe('any_of / ordered on a context whose nodes are not known', () => {
  it('the first set, said to be unchecked', () => {
    const remote: HealthSnapshot = { ...snap, clusters: [], contexts: [{ name: 'prod', current: true, state: 'ok' }] };
    const v = validateTask('resources:\n  any_of:\n    - cpus: 64\n    - cpus: 2\nrun: x\n', remote, { snapshotAgeMs: 0, maxAgeMs: 30_000 });
    expect(v.errors).toEqual([]);
    expect(v.chosenResources).toEqual({ mode: 'any_of', index: 0, summary: 'cpus 64' });
    expect(v.warnings.map((w) => w.path)).toContain('resources.any_of');
  });
});
