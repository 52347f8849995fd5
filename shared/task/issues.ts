// What validation answers with: issues that name a field by its path in the
// task (`resources.ports[1]`), say what is wrong in the user's words, point at
// the line and column when the text is at hand, and carry a fix when one exists.

/** 1-based, as editors and `yaml` count. */
export interface SourcePosition {
  line: number;
  column: number;
}

export interface IssueFix {
  /** A fix id the supervisor can run: `start-docker`, `start-cluster:NAME`, ... */
  id: string;
  label: string;
}

export interface ValidationIssue {
  /**
   * Where in the task: `name`, `resources.ports[1]`, `envs.MY_VAR`. The empty
   * string is the document as a whole (size, syntax, too deep).
   */
  path: string;
  message: string;
  line?: number;
  column?: number;
  fix?: IssueFix;
  /** Passes by itself (something is starting): a launch kept with --when-ready waits it out. */
  waitable?: true;
}

/** Paths of the task's fields to where they stand in its text, for issues found later. */
export type SourcePositions = Record<string, SourcePosition>;

export function issue(path: string, message: string, at?: SourcePosition, fix?: IssueFix): ValidationIssue {
  const out: ValidationIssue = { path, message };
  if (at !== undefined) {
    out.line = at.line;
    out.column = at.column;
  }
  if (fix !== undefined) out.fix = fix;
  return out;
}

/**
 * `resources` + `ports` → `resources.ports`; `''` + `name` → `name`. A key that
 * is not a plain word is bracketed, so paths stay unambiguous: `envs["a.b"]`.
 */
export function childPath(parent: string, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}
export const itemPath = (parent: string, index: number): string => `${parent}[${index}]`;

/** A value quoted for a message, shortened so a 60 KiB string cannot flood the answer. */
export function quote(value: string, max = 60): string {
  const short = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  return JSON.stringify(short);
}

/** `a`, `a and b`, `a, b and c`. */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/**
 * Keeps at most `max` issues and says how many more there were, so a document
 * of 5,000 unknown keys answers with a readable list, not 5,000 lines.
 */
export function capIssues(list: ValidationIssue[], max: number, kind: 'error' | 'warning'): ValidationIssue[] {
  if (list.length <= max) return list;
  const more = list.length - max;
  return [...list.slice(0, max), issue('', `… and ${more} more ${kind}${more === 1 ? '' : 's'}`)];
}
