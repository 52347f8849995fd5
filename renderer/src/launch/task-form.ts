// The Launch page's form and its YAML kept in sync, with the YAML as the one
// source of truth: the form reads its fields out of the text, and writing a
// field edits that one node of the text, so comments, envs, setup and every
// field the form does not show stay as the user wrote them.

import { Document, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Node as YamlNode } from 'yaml';

export const FORM_FIELDS = ['name', 'infra', 'cpus', 'memory', 'ports', 'image', 'run'] as const;
export type FormField = (typeof FORM_FIELDS)[number];
export type FormValues = Record<FormField, string>;

const YAML_PATH: Record<FormField, readonly string[]> = {
  name: ['name'],
  infra: ['resources', 'infra'],
  cpus: ['resources', 'cpus'],
  memory: ['resources', 'memory'],
  ports: ['resources', 'ports'],
  image: ['resources', 'image_id'],
  run: ['run'],
};

/** The validation issue path (shared/task) each form field answers for. */
export const ISSUE_PATH: Record<FormField, string> = {
  name: 'name',
  infra: 'resources.infra',
  cpus: 'resources.cpus',
  memory: 'resources.memory',
  ports: 'resources.ports',
  image: 'resources.image_id',
  run: 'run',
};

/** Whether an issue at `path` belongs to `field`: its own path, or an item of it (`resources.ports[1]`). */
export function issueBelongsTo(path: string, field: FormField): boolean {
  const own = ISSUE_PATH[field];
  return path === own || path.startsWith(`${own}[`) || path.startsWith(`${own}.`);
}

export interface FormRead {
  values: FormValues;
  /** False when the text is not a YAML mapping the form can edit: the form shows why and waits. */
  editable: boolean;
  why?: string;
  /** Fields whose YAML value the form cannot show (a mapping where a value was expected): edit them in the YAML. */
  complex: FormField[];
}

const EMPTY: FormValues = { name: '', infra: '', cpus: '', memory: '', ports: '', image: '', run: '' };

function load(text: string): { doc: Document; error?: string } {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    // Several documents are a pipeline (one task a document), not a mistake: the form edits one task.
    const tasks = doc.errors.every((e) => e.code === 'MULTIPLE_DOCS') ? parseAllDocuments(text).length : 0;
    if (tasks > 1) return { doc, error: `the file holds ${tasks} YAML documents (a pipeline, run in order): the form edits a single task, so edit the pipeline in the editor` };
    return { doc, error: 'the YAML has a syntax error: fix it in the editor, and the form follows' };
  }
  const root = doc.contents;
  if (root !== null && !isMap(root) && !(isScalar(root) && root.value === null)) {
    return { doc, error: 'the task is not a mapping of fields: the form needs name:, resources: and run: at the top level' };
  }
  const resources = isMap(root) ? root.get('resources', true) : undefined;
  if (resources !== undefined && resources !== null && !isMap(resources) && !(isScalar(resources) && resources.value === null)) {
    return { doc, error: 'resources is not a mapping: the form needs infra:, cpus:, ports: … under it' };
  }
  return { doc };
}

function show(node: unknown): string | undefined {
  if (node === undefined || node === null) return '';
  if (isScalar(node)) return node.value === null || node.value === undefined ? '' : String(node.value);
  if (isSeq(node)) {
    const items = node.items.map((i) => (isScalar(i) ? String(i.value ?? '') : undefined));
    return items.every((i) => i !== undefined) ? items.join(', ') : undefined;
  }
  return undefined;
}

export function readForm(text: string): FormRead {
  const { doc, error } = load(text);
  if (error !== undefined) return { values: { ...EMPTY }, editable: false, why: error, complex: [] };
  const values = { ...EMPTY };
  const complex: FormField[] = [];
  for (const field of FORM_FIELDS) {
    const shown = show(doc.getIn(YAML_PATH[field], true));
    if (shown === undefined) complex.push(field);
    else values[field] = shown;
  }
  return { values, editable: true, complex };
}

const NUMBER = /^\d+(\.\d+)?$/;

/** What a field's text becomes in YAML: numbers stay numbers ("2" → 2), "2+" stays text; ports become a list. */
export function fieldValue(field: FormField, raw: string): unknown {
  const v = field === 'run' ? raw.replace(/\s+$/, '') : raw.trim();
  if (v === '') return undefined;
  switch (field) {
    case 'cpus':
    case 'memory':
      return NUMBER.test(v) ? Number(v) : v;
    case 'ports':
      return v
        .split(/[\s,]+/)
        .filter((p) => p !== '')
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    default:
      return v;
  }
}

/**
 * Sets one form field in the YAML text; an empty value removes the key (and an
 * emptied `resources:`). The edit is made in place, touching only that field's
 * line, whenever the result reads the same as the document model's edit;
 * otherwise the model's re-printed text is used (same data, tidier layout).
 */
export function writeField(text: string, field: FormField, raw: string): { text: string } | { error: string } {
  const { doc, error } = load(text);
  if (error !== undefined) return { error };
  const path = YAML_PATH[field];
  const value = fieldValue(field, raw);
  if (value === undefined && !doc.hasIn(path)) return { text };

  const modelled = editModel(doc.clone(), path, value);
  const want = JSON.stringify(modelled.toJS());
  const inPlace = editInPlace(text, doc, path, value);
  if (inPlace !== undefined) {
    const check = parseDocument(inPlace, { uniqueKeys: false });
    if (check.errors.length === 0 && JSON.stringify(check.toJS()) === want) return { text: inPlace };
  }
  return { text: modelled.toString({ flowCollectionPadding: false }) };
}

function editModel(doc: Document, path: readonly string[], value: unknown): Document {
  if (value === undefined) {
    doc.deleteIn(path);
    const resources = doc.getIn(['resources'], true);
    if (path[0] === 'resources' && isMap(resources) && resources.items.length === 0) doc.deleteIn(['resources']);
    return doc;
  }
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as typeof doc.contents;
  if (path[0] === 'resources' && !isMap(doc.getIn(['resources'], true))) doc.setIn(['resources'], doc.createNode({}));
  const existing = doc.getIn(path, true) as YamlNode | undefined;
  if (isScalar(existing) && !Array.isArray(value)) {
    existing.value = value;
    if (typeof value === 'string' && value.includes('\n')) existing.type = 'BLOCK_LITERAL';
    else if (existing.type === 'BLOCK_LITERAL' || existing.type === 'BLOCK_FOLDED') existing.type = 'PLAIN';
    return doc;
  }
  const node = doc.createNode(value, { flow: Array.isArray(value) });
  if (isScalar(node) && typeof value === 'string' && value.includes('\n')) node.type = 'BLOCK_LITERAL';
  doc.setIn(path, node);
  return doc;
}

/** A value as it is written after `key: ` on one line; undefined when it needs more than one line. */
function inlineText(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    const items = value.map(inlineText);
    return items.every((i) => i !== undefined) ? `[${items.join(', ')}]` : undefined;
  }
  if (typeof value === 'string' && value.includes('\n')) return undefined;
  const out = new Document(value).toString().replace(/\n$/, '');
  return out.includes('\n') ? undefined : out;
}

const lineStart = (text: string, at: number): number => text.lastIndexOf('\n', at - 1) + 1;
const lineEnd = (text: string, at: number): number => {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
};

/** The edit made on the text itself; undefined when the layout is not one it knows how to edit. */
function editInPlace(text: string, doc: Document, path: readonly string[], value: unknown): string | undefined {
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1] as string;
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  if (!isMap(parent) || parent.flow) {
    // Nothing there yet: append the whole branch at the end.
    if (value === undefined || (parent !== undefined && parent !== null && !(isScalar(parent) && parent.value === null))) return undefined;
    const line = inlineText(value);
    if (line === undefined) return undefined;
    const body = parentPath.length === 0 ? `${key}: ${line}\n` : `${parentPath[0]}:\n  ${key}: ${line}\n`;
    if (parentPath.length > 0 && parent !== undefined) return undefined;
    const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
    return base.trim() === '' ? body : base + body;
  }
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  if (value === undefined) {
    if (!pair || !isScalar(pair.key) || !pair.key.range) return undefined;
    const v = pair.value as YamlNode | null;
    const from = lineStart(text, pair.key.range[0]);
    if (text.slice(from, pair.key.range[0]).trim() !== '') return undefined;
    const to = lineEnd(text, v?.range ? v.range[1] : pair.key.range[1]);
    const next = text.slice(0, from) + text.slice(to);
    // An emptied resources: goes too.
    if (parentPath.length === 1 && parent.items.length === 1) {
      return editInPlace(next, parseDocument(next, { uniqueKeys: false }), parentPath, undefined);
    }
    return next;
  }
  const line = inlineText(value);
  if (line === undefined) return undefined;
  if (pair) {
    const v = pair.value as YamlNode | null;
    if (!v?.range || (isScalar(v) && (v.type === 'BLOCK_LITERAL' || v.type === 'BLOCK_FOLDED'))) return undefined;
    if (!isScalar(v) && !(isSeq(v) && v.flow)) return undefined;
    return text.slice(0, v.range[0]) + line + text.slice(v.range[1]);
  }
  // A new key in an existing block mapping: a line after its last entry, indented as its first.
  const first = parent.items[0]?.key as YamlNode | undefined;
  const last = parent.items[parent.items.length - 1];
  if (!first?.range || !last) return undefined;
  const indent = first.range[0] - lineStart(text, first.range[0]);
  const lastValue = (last.value ?? last.key) as YamlNode | null;
  if (!lastValue?.range) return undefined;
  const at = lineEnd(text, Math.max(lastValue.range[1] - 1, 0));
  const before = text.slice(0, at);
  return `${before}${before.endsWith('\n') || before === '' ? '' : '\n'}${' '.repeat(indent)}${key}: ${line}\n${text.slice(at)}`;
}

/** What the Launch page starts from. */
export function exampleTask(infra?: string): string {
  return `# SkyPilot-style task: edit here or in the form.
name: web-demo
resources:
${infra ? `  infra: ${infra}\n` : '  # infra: k8s/CONTEXT  (default: the running KinD cluster)\n'}  cpus: 1
  memory: 1        # GiB
  ports: [8080]    # reachable here if the cluster publishes it
  image_id: docker:python:3.12-slim
envs:
  GREETING: hello
setup: echo "$GREETING from setup"
run: python -m http.server 8080
`;
}
