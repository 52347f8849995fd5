// envs and secrets as SkyPilot reads them and as a launch gives them: a value
// written plain in the file becomes the text Python's str() makes of what
// PyYAML (YAML 1.1, SkyPilot's loader) reads (`yes` → `True`, `0x10` → `16`),
// as Task.from_yaml_config does; `--env K=V` / `--secret K=V` / an env file
// fill the names the file leaves null and override the others, as `sky launch`
// does; secrets' values are taken out of the text before it is stored.

import { checkEnvName } from './fields.ts';
import { childPath } from './issues.ts';
import type { ValidationIssue } from './issues.ts';
import type { TaskSpec } from './schema.ts';
import { readTaskDocuments } from './source.ts';
import type { SourceScalar } from './source.ts';

/** Values a launch gives (the CLI's --env / --secret / --env-file, the Launch page's fields, the API body). */
export interface LaunchValues {
  envs?: Record<string, string>;
  secrets?: Record<string, string>;
}

const BOOL_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
// PyYAML's implicit resolvers (YAML 1.1), as its resolver.py writes them.
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Base-60 digits (`1:30` is 90), as YAML 1.1 reads them. */
function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** PyYAML's int constructor: underscores dropped, 0b / 0x / leading-0 octal / base 60. */
function pyInt(written: string): string {
  let t = written.replace(/_/g, '');
  let sign = '';
  if (t.startsWith('-') || t.startsWith('+')) {
    if (t.startsWith('-')) sign = '-';
    t = t.slice(1);
  }
  let n: bigint;
  if (t === '0') n = 0n;
  else if (t.startsWith('0b')) n = BigInt(t);
  else if (t.startsWith('0x')) n = BigInt(t);
  else if (t.startsWith('0')) n = BigInt(`0o${t.slice(1)}`);
  else if (t.includes(':')) n = BigInt(sexagesimal(t));
  else n = BigInt(t);
  return n === 0n ? '0' : `${sign}${n.toString()}`;
}

/** Python's repr of a float: the shortest digits, fixed from 1e-4 up to below 1e16, else `1e-05` / `1.5e+16`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${whole}.${frac || '0'}`;
  }
  const e = Math.abs(exp);
  return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

/** PyYAML's float constructor, then repr. */
function pyFloat(written: string): string {
  const t = written.replace(/_/g, '');
  const lower = t.toLowerCase();
  if (lower.endsWith('.nan')) return 'nan';
  if (lower.endsWith('.inf')) return t.startsWith('-') ? '-inf' : 'inf';
  if (t.includes(':')) {
    const negative = t.startsWith('-');
    const body = t.replace(/^[-+]/, '');
    const value = body.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
    return pyFloatRepr(negative ? -value : value);
  }
  return pyFloatRepr(Number(t));
}

/**
 * The text SkyPilot makes of an env or secret value: str() of what PyYAML
 * reads. Quoted and block values are text already; a plain one is resolved as
 * YAML 1.1 does (booleans, ints in any base, floats), else kept as written.
 */
export function skyPilotEnvText(scalar: SourceScalar): string {
  if (!scalar.plain) return scalar.text;
  const written = typeof scalar.value === 'string' ? scalar.value : scalar.text;
  if (BOOL_TRUE.test(written)) return 'True';
  if (BOOL_FALSE.test(written)) return 'False';
  if (INT.test(written)) return pyInt(written);
  if (FLOAT.test(written)) return pyFloat(written);
  return written;
}

/** `K=V` lines (an env file, or repeated --env flags): the value is everything after the first `=`. */
export function parseAssignments(lines: readonly string[], what: string): { values: Record<string, string>; errors: string[] } {
  const values: [string, string][] = [];
  const errors: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/^\s*export\s+/, '');
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (eq < 0) {
      errors.push(`${what} ${JSON.stringify(raw)}: write NAME=value`);
      continue;
    }
    const bad = checkEnvName(name);
    if (bad !== undefined) {
      errors.push(`${what} ${name}: ${bad}`);
      continue;
    }
    let value = line.slice(eq + 1);
    const quoted = /^(["'])(.*)\1$/s.exec(value.trim());
    if (quoted) value = quoted[2] ?? '';
    values.push([name, value]);
  }
  return { values: Object.fromEntries(values), errors };
}

/** A dotenv file's assignments: blank lines and `#` comments skipped. */
export function parseEnvFile(text: string): { values: Record<string, string>; errors: string[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return parseAssignments(lines, 'env file line');
}

/**
 * The task with the launch's values: each given name fills a null or
 * overrides the file's value (a name the file does not have is added, as
 * `sky launch --env` adds it); what stays null stays required. A name given as
 * both an env and a secret is an error on the secret.
 */
export function applyLaunchValues(task: TaskSpec, given: LaunchValues): { task: TaskSpec; errors: ValidationIssue[] } {
  const errors: ValidationIssue[] = [];
  const envs = { ...task.envs };
  const secrets = { ...task.secrets };
  for (const [kind, values] of [['envs', given.envs], ['secrets', given.secrets]] as const) {
    for (const [name, value] of Object.entries(values ?? {})) {
      const bad = checkEnvName(name);
      if (bad !== undefined) {
        errors.push({ path: childPath(kind, name), message: bad });
        continue;
      }
      if (typeof value !== 'string') {
        errors.push({ path: childPath(kind, name), message: `${name}: a launch gives text` });
        continue;
      }
      if (kind === 'envs') envs[name] = value;
      else secrets[name] = value;
    }
  }
  for (const name of Object.keys(secrets)) {
    if (Object.hasOwn(envs, name)) errors.push({ path: childPath('secrets', name), message: `${name} is both an env and a secret: keep one` });
  }
  const required = task.requiredAtLaunch;
  const stillEnvs = (required?.envs ?? []).filter((n) => !Object.hasOwn(envs, n));
  const stillSecrets = (required?.secrets ?? []).filter((n) => !Object.hasOwn(secrets, n));
  const { requiredAtLaunch: _r, secrets: _s, ...rest } = task;
  const out: TaskSpec = { ...rest, envs };
  if (Object.keys(secrets).length > 0) out.secrets = secrets;
  if (stillEnvs.length + stillSecrets.length > 0) out.requiredAtLaunch = { envs: stillEnvs, secrets: stillSecrets };
  return { task: out, errors };
}

/** What a secret's value becomes in stored text. Valid YAML and JSON both. */
export const REDACTED = '"<redacted>"';

/** The text with every value under `secrets:` replaced by REDACTED, in each document: what the store keeps and shows. */
export function redactSecrets(text: string): string {
  const read = readTaskDocuments(text);
  const spans: [number, number][] = [];
  for (const root of read.roots ?? []) {
    if (root.kind !== 'map') continue;
    const secrets = root.entries.find((e) => e.key === 'secrets')?.value;
    if (secrets?.kind !== 'map') continue;
    for (const e of secrets.entries) {
      if (e.value.kind === 'scalar' && e.value.value !== null && e.value.span) spans.push(e.value.span);
    }
  }
  // From the end, so earlier offsets stay right; an alias shares its anchor's span: replace it once.
  const unique = [...new Map(spans.map((s) => [s[0], s])).values()].sort((a, b) => b[0] - a[0]);
  let out = text;
  for (const [start, end] of unique) {
    // A block value's span takes the line break after it: keep that.
    const tail = /\s*$/.exec(out.slice(start, end))?.[0] ?? '';
    out = out.slice(0, start) + REDACTED + tail + out.slice(end);
  }
  return out;
}
