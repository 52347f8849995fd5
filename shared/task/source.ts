// Task text → a tree of values that remember where they were written. YAML or
// JSON (JSON is YAML). This is the part that faces untrusted text, so it is
// bounded before the YAML parser runs: a size limit, a nesting limit checked
// with yaml's iterative lexer (the composer recurses, and a 64 KiB `[[[[…`
// overflows its stack), and alias limits (a "billion laughs" document). Aliases
// are never expanded: an alias becomes the very value it names, so the tree is
// never bigger than the text.

import { Lexer, LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { childPath, issue, itemPath, quote } from './issues.ts';
import type { SourcePosition, ValidationIssue } from './issues.ts';

export interface SourceLimits {
  /** Largest text accepted, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest nesting of collections. A task needs 3 (resources → ports → item). */
  maxDepth: number;
  /** Most aliases (`*name`) in one document. */
  maxAliasCount: number;
  /** Most values aliases may add when the document is read as plain data. */
  maxAliasExpansion: number;
  /** Most map entries and list items in all. A task has tens; ports at most 100. */
  maxValues: number;
}

export const SOURCE_LIMITS: SourceLimits = {
  maxBytes: 64 * 1024,
  maxDepth: 32,
  maxAliasCount: 100,
  maxAliasExpansion: 10_000,
  maxValues: 2_000,
};

interface Located {
  /** Where the value starts; for an alias, where the alias is written. */
  at?: SourcePosition;
}
export interface SourceMap extends Located {
  kind: 'map';
  entries: SourceEntry[];
}
export interface SourceSeq extends Located {
  kind: 'seq';
  items: SourceValue[];
}
export interface SourceScalar extends Located {
  kind: 'scalar';
  value: string | number | boolean | null;
  /** As written, for numbers and booleans (`1.0`, `True`); the value itself for strings. */
  text: string;
  /** Written plain (no quotes, no block): YAML 1.1 loaders such as SkyPilot's read `yes` and `0x10` as non-strings. */
  plain?: true;
  /** Where the value is in the text, [start, end) in UTF-16 offsets: redaction replaces it. */
  span?: [number, number];
}
export type SourceValue = SourceMap | SourceSeq | SourceScalar;

export interface SourceEntry {
  key: string;
  keyAt?: SourcePosition;
  value: SourceValue;
}

export interface ReadSourceResult {
  /** Absent when the text could not be read as one YAML document. */
  root?: SourceValue;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

export function readTaskSource(text: string, limits: SourceLimits = SOURCE_LIMITS): ReadSourceResult {
  const size = utf8Length(text, limits.maxBytes);
  if (size > limits.maxBytes) {
    return {
      errors: [issue('', `the task is ${formatBytes(size)}: at most ${formatBytes(limits.maxBytes)} is accepted`)],
      warnings: [],
    };
  }

  const lineCounter = new LineCounter();
  const shape = checkShape(text, limits);
  if (shape !== undefined) return { errors: [issue('', shape.message, positionFromOffset(text, shape.offset))], warnings: [] };

  // yaml's own duplicate-key check is quadratic (each key against all before it);
  // the tree builder finds duplicates with a Set instead.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: false });
  const pos = (offset: number | undefined): SourcePosition | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const errors = doc.errors.map((e) => issue('', yamlMessage(e.code, e.message), pos(e.pos[0])));
  const warnings = doc.warnings.map((w) => issue('', yamlMessage(w.code, w.message), pos(w.pos[0])));
  if (errors.length > 0) return { errors, warnings };

  const built = new TreeBuilder(doc, pos, limits).build();
  return { root: built.root, errors: [...errors, ...built.errors], warnings };
}

export interface ReadDocumentsResult {
  /** One tree per YAML document (`---` between them), absent when the text could not be read. */
  roots?: SourceValue[];
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

/** Like readTaskSource, for a text of several documents (a SkyPilot pipeline); the limits hold for the text as a whole. */
export function readTaskDocuments(text: string, limits: SourceLimits = SOURCE_LIMITS): ReadDocumentsResult {
  const size = utf8Length(text, limits.maxBytes);
  if (size > limits.maxBytes) {
    return { errors: [issue('', `the task is ${formatBytes(size)}: at most ${formatBytes(limits.maxBytes)} is accepted`)], warnings: [] };
  }
  const shape = checkShape(text, limits);
  if (shape !== undefined) return { errors: [issue('', shape.message, positionFromOffset(text, shape.offset))], warnings: [] };
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { prettyErrors: false, lineCounter, uniqueKeys: false });
  const pos = (offset: number | undefined): SourcePosition | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  // An empty stream (only comments or `---`) is one empty document, as a single read gives.
  const docs = Array.isArray(parsed) ? parsed : [];
  if (docs.length === 0) return { roots: [{ kind: 'scalar', value: null, text: '' }], errors: [], warnings: [] };
  const errors = docs.flatMap((d) => d.errors.map((e) => issue('', yamlMessage(e.code, e.message), pos(e.pos[0]))));
  const warnings = docs.flatMap((d) => d.warnings.map((w) => issue('', yamlMessage(w.code, w.message), pos(w.pos[0]))));
  if (errors.length > 0) return { errors, warnings };
  const roots: SourceValue[] = [];
  for (const doc of docs) {
    const built = new TreeBuilder(doc, pos, limits).build();
    errors.push(...built.errors);
    if (built.root === undefined) return { errors, warnings };
    roots.push(built.root);
  }
  return { roots, errors, warnings };
}

/** UTF-8 length, counting no further than needed to know it is over `max`. */
function utf8Length(text: string, max: number): number {
  // A UTF-16 code unit is at least one UTF-8 byte.
  if (text.length > max) return text.length;
  return new TextEncoder().encode(text).length;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return n % 1024 === 0 ? `${n / 1024} KiB` : `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * Refuses, from yaml's iterative lexer alone, what would make the parser slow
 * or overflow its stack: nesting deeper than `maxDepth` (flow brackets, and the
 * `- `/`? ` indicators that open a block collection on one line, `- - - x`;
 * indentation adds little, since each level costs a column), and more than
 * `maxValues` entries and items (each follows a `:`, `-`, `?` or `,`).
 */
function checkShape(text: string, limits: SourceLimits): { offset: number; message: string } | undefined {
  const tooDeep = `the task is nested more than ${limits.maxDepth} levels deep`;
  let flow = 0;
  let blockOnLine = 0;
  let values = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    switch (token) {
      case '{':
      case '[':
        flow++;
        if (flow > limits.maxDepth) return { offset, message: tooDeep };
        break;
      case '}':
      case ']':
        if (flow > 0) flow--;
        break;
      case '\x18': // the lexer's "flow ended unexpectedly"
        flow = 0;
        break;
      case '\n':
      case '\r\n':
        blockOnLine = 0;
        break;
      case '-':
      case '?':
        if (flow === 0) {
          blockOnLine++;
          if (blockOnLine > limits.maxDepth) return { offset, message: tooDeep };
        }
        break;
    }
    if (token === ':' || token === '-' || token === '?' || token === ',') {
      values++;
      if (values > limits.maxValues) {
        const max = limits.maxValues.toLocaleString('en-US');
        return { offset, message: `the task has more than ${max} fields and list items: a task needs far fewer` };
      }
    }
    // Control tokens (document start, "a scalar follows") take no room in the text.
    if (token !== '\x02' && token !== '\x1f' && token !== '\x18') offset += token.length;
  }
  return undefined;
}

function positionFromOffset(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** yaml's messages, with the ones users meet most said plainly. */
function yamlMessage(code: string, message: string): string {
  switch (code) {
    case 'MULTIPLE_DOCS':
      return 'the text holds more than one YAML document (`---`): a task is one document';
    case 'TAB_AS_INDENT':
      return 'tabs are not allowed for indentation in YAML: indent with spaces';
    default:
      return `YAML syntax: ${message.replace(/\s+at line \d+, column \d+.*$/s, '')}`;
  }
}

type Pos = (offset: number | undefined) => SourcePosition | undefined;

/**
 * Walks the yaml document once, in document order, so that each alias resolves
 * to the last anchor of its name written before it, as YAML says. Values an
 * alias names are shared, not copied.
 */
class TreeBuilder {
  private readonly anchors = new Map<string, YamlNode>();
  private readonly built = new Map<YamlNode, SourceValue>();
  private readonly inProgress = new Set<YamlNode>();
  /** Each alias node → the anchored node it resolved to. */
  private readonly aliasTargets = new Map<YamlNode, YamlNode>();
  /** Plain values each node stands for once aliases are expanded: what a naive reader would build. */
  private readonly sizes = new Map<YamlNode, number>();
  private readonly errors: ValidationIssue[] = [];
  private aliasCount = 0;
  private plainCount = 0;
  private stopped = false;
  private readonly doc: Document;
  private readonly pos: Pos;
  private readonly limits: SourceLimits;

  constructor(doc: Document, pos: Pos, limits: SourceLimits) {
    this.doc = doc;
    this.pos = pos;
    this.limits = limits;
  }

  build(): { root?: SourceValue; errors: ValidationIssue[] } {
    const contents = this.doc.contents;
    if (contents === null) return { root: { kind: 'scalar', value: null, text: '' }, errors: [] };
    const root = this.value(contents, 0, '');
    if (!this.stopped) {
      const expanded = this.sizes.get(contents) ?? 0;
      if (expanded - this.plainCount > this.limits.maxAliasExpansion) {
        this.fail(
          `aliases in this document expand to ${expanded.toLocaleString('en-US')} values: at most ${this.limits.maxAliasExpansion.toLocaleString('en-US')} more than written are accepted (this is how a "billion laughs" document exhausts a reader)`,
        );
      }
    }
    return this.stopped || root === undefined ? { errors: this.errors } : { root, errors: this.errors };
  }

  private fail(message: string, at?: SourcePosition): undefined {
    this.errors.push(issue('', message, at));
    this.stopped = true;
    return undefined;
  }

  private value(node: unknown, depth: number, path: string): SourceValue | undefined {
    if (this.stopped) return undefined;
    if (isAlias(node)) return this.alias(node, node.source, node.range?.[0]);
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) {
      // yaml gives a Pair's missing value as null; anything else is not YAML data.
      return { kind: 'scalar', value: null, text: '' };
    }
    const at = this.pos(node.range?.[0]);
    if (depth > this.limits.maxDepth) return this.fail(`the task is nested more than ${this.limits.maxDepth} levels deep`, at);
    this.plainCount++;
    if (node.anchor !== undefined) this.anchors.set(node.anchor, node);

    if (isScalar(node)) {
      const v = node.value;
      const value = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : v === null || v === undefined ? null : String(v);
      const text = typeof value === 'string' ? value : (node.source ?? String(value ?? ''));
      const out: SourceScalar = { kind: 'scalar', value, text, ...(at && { at }) };
      if (node.type === 'PLAIN') out.plain = true;
      if (node.range) out.span = [node.range[0], node.range[1]];
      this.built.set(node, out);
      this.sizes.set(node, 1);
      return out;
    }

    this.inProgress.add(node);
    let size = 1;
    let out: SourceValue;
    if (isMap(node)) {
      const entries: SourceEntry[] = [];
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = this.value(pair.key, depth + 1, path);
        const name = keyText(key);
        const value = pair.value === null ? undefined : this.value(pair.value, depth + 1, childPath(path, name));
        if (this.stopped) return undefined;
        size += this.sizeOf(pair.key) + this.sizeOf(pair.value);
        const keyAt = isScalar(pair.key) || isMap(pair.key) || isSeq(pair.key) || isAlias(pair.key) ? this.pos(pair.key.range?.[0]) : undefined;
        if (key?.kind === 'scalar') {
          if (seen.has(name)) {
            this.errors.push(issue(childPath(path, name), `${quote(name)} is written twice in the same mapping`, keyAt));
            continue;
          }
          seen.add(name);
        }
        entries.push({
          key: name,
          ...(keyAt && { keyAt }),
          value: value ?? { kind: 'scalar', value: null, text: '', ...(keyAt && { at: keyAt }) },
        });
      }
      out = { kind: 'map', entries, ...(at && { at }) };
    } else {
      const items: SourceValue[] = [];
      for (const [i, item] of node.items.entries()) {
        const value = this.value(item, depth + 1, itemPath(path, i));
        if (this.stopped || value === undefined) return undefined;
        size += this.sizeOf(item);
        items.push(value);
      }
      out = { kind: 'seq', items, ...(at && { at }) };
    }
    this.inProgress.delete(node);
    this.built.set(node, out);
    this.sizes.set(node, Math.min(size, Number.MAX_SAFE_INTEGER));
    return out;
  }

  private alias(node: YamlNode, name: string, offset: number | undefined): SourceValue | undefined {
    const at = this.pos(offset);
    this.aliasCount++;
    if (this.aliasCount > this.limits.maxAliasCount) {
      return this.fail(`the task uses more than ${this.limits.maxAliasCount} aliases (*name): write the values out`, at);
    }
    const target = this.anchors.get(name);
    if (target === undefined) return this.fail(`alias *${name} names no anchor &${name} written before it`, at);
    if (this.inProgress.has(target)) return this.fail(`alias *${name} is inside the value it names: a loop`, at);
    const value = this.built.get(target);
    if (value === undefined) return this.fail(`alias *${name} could not be resolved`, at);
    this.aliasTargets.set(node, target);
    // Same value, located where the alias is written.
    return { ...value, ...(at && { at }) } as SourceValue;
  }

  private sizeOf(node: unknown): number {
    if (isAlias(node)) {
      const target = this.aliasTargets.get(node);
      return target === undefined ? 1 : (this.sizes.get(target) ?? 1);
    }
    return node !== null && typeof node === 'object' ? (this.sizes.get(node as YamlNode) ?? 1) : 0;
  }
}

/** Map keys as text: `1:` is the key "1"; a collection as a key has no name a task could use. */
function keyText(key: SourceValue | undefined): string {
  if (key === undefined) return '';
  if (key.kind === 'scalar') return key.text;
  return key.kind === 'map' ? '{…}' : '[…]';
}

/** A value with collections one level down replaced by markers: enough for fields that hold scalars or lists of scalars. */
export function shallowPlain(v: SourceValue): unknown {
  if (v.kind === 'scalar') return v.value;
  if (v.kind === 'map') return {};
  return v.items.map((item) => (item.kind === 'scalar' ? item.value : item.kind === 'map' ? {} : []));
}
