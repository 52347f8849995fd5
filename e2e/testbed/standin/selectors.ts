// Kubernetes label and field selectors, as the API server parses them from
// `?labelSelector=` and `?fieldSelector=`. Pure functions; a bad selector throws
// SelectorError, which the API answers with 400 BadRequest like the real one.

export class SelectorError extends Error {}

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(text: string): Requirement {
  let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (m) {
    const [, key = '', op, list = ''] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (labels) => key in labels && values.has(labels[key] ?? '')
      : (labels) => !(key in labels) || !values.has(labels[key] ?? '');
  }
  m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(text);
  if (m) {
    const [, key = '', op, value = ''] = m;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  m = /^(!?)\s*([\w./-]+)$/.exec(text);
  if (m) {
    const [, not, key = ''] = m;
    return not ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(text)}`);
}

/** `app=web,tier!=db,env in (a,b),!legacy` → a predicate on an object's labels. */
export function parseLabelSelector(selector: string | null): Requirement {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels));
}

/** Reads a dotted path (`metadata.name`, `status.phase`) from an object. */
function fieldValue(object: unknown, path: string): string {
  let value: unknown = object;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return '';
    value = (value as Record<string, unknown>)[key];
  }
  return value === undefined || value === null ? '' : String(value);
}

/** `metadata.name=x,status.phase!=Running` → a predicate on a whole object. */
export function parseFieldSelector(selector: string | null): (object: unknown) => boolean {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map((text) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(text);
    if (!m) throw new SelectorError(`invalid field selector: ${JSON.stringify(text)}`);
    const [, path = '', op, value = ''] = m;
    return op === '!=' ? (o: unknown) => fieldValue(o, path) !== value : (o: unknown) => fieldValue(o, path) === value;
  });
  return (object) => requirements.every((r) => r(object));
}
