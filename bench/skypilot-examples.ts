// How much of what SkyPilot users write Kindtray's task schema accepts:
// every task file among SkyPilot's own examples and test YAMLs, parsed as
// `kindtray validate --schema-only` parses it. Needs a checkout of SkyPilot's
// repository (any fork; not shipped here):
//
//   node bench/skypilot-examples.ts /path/to/skypilot
//
// Which files count: every .yaml/.yml under examples/, llm/ and
// tests/test_yamls/ whose YAML documents are all mappings of SkyPilot task
// fields (SkyPilot's own list, sky/utils/schemas.py, which Kindtray's
// shared/task/field-names.ts follows) with at least one of run, setup,
// resources, envs or num_nodes; that leaves out cluster configs, service
// specs, admin policies and Kubernetes manifests. Files SkyPilot's own tests
// expect to fail are not in those folders' task files. Writes
// bench/results/skypilot-examples.json and prints every refusal.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TASK_FIELDS } from '../shared/task/field-names.ts';
import { parseTask } from '../shared/task/index.ts';
import { updateReadme, writeResult } from './lib.ts';

const FOLDERS = ['examples', 'llm', join('tests', 'test_yamls')];
const TASK_KEYS = new Set<string>(TASK_FIELDS);
const TASK_MARKS = ['run', 'setup', 'resources', 'envs', 'num_nodes'];

function yamlFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function isTaskFile(text: string): boolean {
  let values: unknown[];
  try {
    values = parseAllDocuments(text).map((d) => ('toJS' in d ? d.toJS() : undefined));
  } catch {
    return false;
  }
  const mappings = values.filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v));
  if (mappings.length === 0 || mappings.length !== values.filter((v) => v !== null && v !== undefined).length) return false;
  return mappings.every((v) => Object.keys(v).every((k) => TASK_KEYS.has(k))) && mappings.some((v) => TASK_MARKS.some((k) => k in v));
}

function main(): void {
  const root = process.argv[2];
  if (!root) {
    process.stderr.write('usage: node bench/skypilot-examples.ts /path/to/a/skypilot/checkout\n');
    process.exit(2);
  }
  let tasks = 0;
  let accepted = 0;
  let warned = 0;
  const refused: { file: string; errors: string[] }[] = [];
  for (const file of FOLDERS.flatMap((f) => yamlFiles(join(root, f)))) {
    const text = readFileSync(file, 'utf8');
    if (!isTaskFile(text)) continue;
    tasks++;
    const r = parseTask(text, { maxBytes: 1024 * 1024 });
    if (r.errors.length === 0) {
      accepted++;
      if (r.warnings.length > 0) warned++;
    } else refused.push({ file: relative(root, file), errors: r.errors.map((e) => `${e.path}: ${e.message}`) });
  }
  const share = tasks ? Math.round((1000 * accepted) / tasks) / 10 : 0;
  for (const r of refused) process.stdout.write(`refused ${r.file}: ${r.errors.join(' | ')}\n`);
  process.stdout.write(`${tasks} task files, ${accepted} accepted (${share} %), ${warned} of them with warnings\n`);
  writeResult('skypilot-examples', { tasks, accepted, warned, refused }, [
    { metric: "SkyPilot's own example and test task files accepted by the schema", value: `${accepted} of ${tasks} (${share} %)`, reference: 'issue target ≥ 95 %; 9 % before' },
  ]);
  updateReadme();
}

main();
