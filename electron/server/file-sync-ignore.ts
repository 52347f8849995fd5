// Which files of a local folder a copy into the Pods leaves out, by the rules
// SkyPilot's rsync applies on Kubernetes (sky/utils/command_runner.py):
// - a `.skyignore` in the folder itself wins: then every `.skyignore` (that
//   folder's and its subfolders', each for its own subtree) is read, and no
//   `.gitignore` (`--filter='dir-merge,- .skyignore'`);
// - otherwise every `.gitignore`, the same way, plus `.git/info/exclude` of
//   the folder itself (`--exclude-from`).
// The files are read as rsync reads a `-` merge file: every line is an
// exclude pattern (blank lines and lines starting with `#` or `;` are
// comments). A `!pattern` line does not re-include anything, as SkyPilot's
// comment says ("doesn't work, even though git allows it"): it is a pattern
// for a name starting with `!`; the plan warns about it.
// Patterns: a leading `/` anchors to the ignore file's folder, a trailing `/`
// matches folders only; a pattern with a `/` or `**` matches the end of the
// path (from that folder), one without matches the last name; `*` and `?`
// stop at `/`, `**` does not, `[...]` is a character class. A folder left out
// is not entered.

export const SKY_IGNORE_FILE = '.skyignore';
export const GIT_IGNORE_FILE = '.gitignore';
export const GIT_EXCLUDE_FILE = '.git/info/exclude';

export interface IgnoreRule {
  /** The folder (relative to the copied root, '' for the root) whose ignore file holds it. */
  base: string;
  /** The line as written. */
  text: string;
  dirOnly: boolean;
  /** Tried against the last name only (a pattern without `/` or `**`), or against the path from `base`. */
  scope: 'name' | 'path';
  regex: RegExp;
}

/** Which ignore files a folder's copy reads: SkyPilot decides by the root alone. */
export type IgnoreMode = 'skyignore' | 'gitignore';

/** A glob of rsync's to a regular expression body. */
function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) {
      out += escapeChar(glob[i + 1] ?? '');
      i++;
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += escapeChar(c);
  }
  return out;
}

function escapeChar(c: string): string {
  return /[.+^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** The rules of one ignore file's text, for the folder `base`. Negations come back in `negations` (they re-include nothing). */
export function parseIgnoreFile(text: string, base: string): { rules: IgnoreRule[]; negations: string[] } {
  const rules: IgnoreRule[] = [];
  const negations: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('!')) negations.push(line);
    let pattern = line;
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.replace(/\/+$/, '');
    const anchored = pattern.startsWith('/');
    if (anchored) pattern = pattern.replace(/^\/+/, '');
    if (pattern === '') continue;
    const body = globToRegex(pattern);
    const scope = anchored || pattern.includes('/') || pattern.includes('**') ? 'path' : 'name';
    // Unanchored: the end of the path, at a name boundary (rsync's "matched against the end of the pathname").
    const regex = new RegExp(anchored || scope === 'name' ? `^${body}$` : `(?:^|/)${body}$`);
    rules.push({ base, text: line, dirOnly, scope, regex });
  }
  return { rules, negations };
}

/** Whether a rule leaves out the entry at `path` (relative to the copied root). */
function ruleMatches(rule: IgnoreRule, path: string, isDir: boolean): boolean {
  if (rule.dirOnly && !isDir) return false;
  const rel = rule.base === '' ? path : path.startsWith(`${rule.base}/`) ? path.slice(rule.base.length + 1) : undefined;
  if (rel === undefined) return false;
  return rule.regex.test(rule.scope === 'name' ? rel.slice(rel.lastIndexOf('/') + 1) : rel);
}

/** Whether any of `rules` leaves out the entry at `path`. */
export function isIgnored(rules: readonly IgnoreRule[], path: string, isDir: boolean): boolean {
  return rules.some((r) => ruleMatches(r, path, isDir));
}
