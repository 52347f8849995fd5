// Property tests of the task parser and the ports parser: the code that faces
// untrusted text from HTTP, the CLI and the dashboard. Whatever comes in, they
// answer (never throw), answer fast, and every error names where it is and
// what is wrong. Runs are bounded (a few hundred, each small) so the unit
// project stays quick on a loaded 2-core machine.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ValidationIssue } from './issues.ts';
import { TASK_LIMITS, parseTask, type ParseTaskResult } from './parse.ts';
import { MAX_PORT, MAX_TASK_PORTS, MIN_PORT, expandRanges, formatPorts, mergeRanges, parsePorts, type PortRange } from './ports.ts';

/** Generous: a small input takes about a millisecond; this only catches a hang or a blow-up. */
const BOUNDED_MS = 1_000;
/** A whole property (a few hundred runs) takes a second or two on a loaded 2-core machine; vitest's default is 5 s. */
const PROPERTY_TIMEOUT_MS = 60_000;

/** A field path as issues write it: `name`, `resources.ports[1]`, `envs["a.b"]`, or '' for the whole document. */
const SEGMENT = String.raw`(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])`;
const PATH = new RegExp(String.raw`^(?:|(?:[A-Za-z_][\w-]*|${SEGMENT})(?:\.[A-Za-z_][\w-]*|${SEGMENT})*)$`);

function expectWellFormedIssue(i: ValidationIssue): void {
  expect(typeof i.path).toBe('string');
  expect(i.path).toMatch(PATH);
  expect(typeof i.message).toBe('string');
  expect(i.message.trim()).not.toBe('');
  for (const n of [i.line, i.column]) if (n !== undefined) expect(Number.isInteger(n) && n >= 1).toBe(true);
}

/** parseTask's contract, checked on one answer. */
function timedParse(text: string): ParseTaskResult {
  const started = performance.now();
  const r = parseTask(text);
  const ms = performance.now() - started;
  expect(ms, `parseTask took ${ms.toFixed(0)} ms on ${text.length} characters`).toBeLessThan(BOUNDED_MS);
  expect(Array.isArray(r.errors) && Array.isArray(r.warnings)).toBe(true);
  for (const i of [...r.errors, ...r.warnings]) expectWellFormedIssue(i);
  // "Present exactly when there are no errors."
  expect(r.task !== undefined).toBe(r.errors.length === 0);
  // Capped: at most maxIssues and one "… and N more".
  expect(r.errors.length).toBeLessThanOrEqual(TASK_LIMITS.maxIssues + 1);
  expect(r.warnings.length).toBeLessThanOrEqual(TASK_LIMITS.maxIssues + 1);
  // The answer goes out as JSON: it must serialise (no cycles, no BigInt).
  expect(() => JSON.stringify(r)).not.toThrow();
  return r;
}

// ---------------------------------------------------------------------------
// Arbitraries

/** Pieces of YAML syntax, so that random text is often almost-YAML: anchors, aliases, brackets, indicators, tabs. */
const yamlPiece = fc.constantFrom(
  '[', ']', '{', '}', ', ', '- ', ': ', '? ', '&a ', '&b ', '*a', '*b', '<<: *a', '\n', '\n  ', '\n    ', '\t',
  'x', 'name', 'resources', 'ports', 'envs', 'run', '8080', '"9000-9002"', '-1', '1.5', 'null', '~', 'true',
  '"', "'", '#', '|', '>', '!!str ', '!!binary ', '---\n', '...\n', '%YAML 1.2\n', '\\', '\u0000', '\u{1F600}',
);
const almostYaml = fc.array(yamlPiece, { maxLength: 120 }).map((parts) => parts.join(''));

const portItem = fc.oneof(
  fc.integer({ min: -10, max: 70_000 }),
  fc.double({ noDefaultInfinity: false }),
  fc.tuple(fc.integer({ min: 0, max: 66_000 }), fc.integer({ min: 0, max: 66_000 })).map(([a, b]) => `${a}-${b}`),
  fc.integer({ min: 0, max: 66_000 }).map(String),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('8080/tcp', ' 80 ', '1e3', '0x50', '', null, true),
);
const ports = fc.oneof(portItem, fc.array(portItem, { maxLength: 12 }));
const amount = fc.oneof(fc.integer({ min: -4, max: 1_000 }), fc.double(), fc.nat(64).map((n) => `${n}+`), fc.string({ maxLength: 8 }), fc.constant(null));
const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null));

/** Mostly a right value, sometimes any: so that both whole tasks and single wrong fields are common. */
const mostly = <T, U>(right: fc.Arbitrary<T>, any: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: any, weight: 1 });

/** Task-shaped documents: the known fields, each usually right and sometimes anything, and sometimes unknown ones. */
const taskShaped = fc.record(
  {
    name: mostly(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), scalar),
    resources: mostly(
      fc.record(
        {
          infra: mostly(fc.constantFrom('k8s/kind-dev', 'k8s', 'kubernetes/kind-x'), fc.string({ maxLength: 20 })),
          cpus: mostly(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }).map((n) => `${n}+`)), amount),
          memory: mostly(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(0.5, '2+')), amount),
          ports: mostly(fc.uniqueArray(fc.integer({ min: MIN_PORT, max: MAX_PORT }), { maxLength: 5 }), ports),
          image_id: mostly(fc.constantFrom('docker:python:3.12-slim', 'docker:busybox'), scalar),
        },
        { requiredKeys: [] },
      ),
      scalar,
    ),
    envs: mostly(fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 20 }), { maxKeys: 4 }), fc.dictionary(fc.string({ maxLength: 12 }), scalar, { maxKeys: 4 })),
    setup: mostly(fc.string({ maxLength: 40 }), scalar),
    run: mostly(fc.string({ minLength: 1, maxLength: 40 }), fc.oneof(scalar, fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }))),
    num_nodes: mostly(fc.constant(1), scalar),
    unknown_field: mostly(fc.constant(undefined), scalar),
  },
  { requiredKeys: [] },
);

const asText = (value: unknown, how: 'yaml' | 'json'): string => (how === 'json' ? (JSON.stringify(value) ?? 'null') : stringify(value));

describe('parseTask on any text', () => {
  it('arbitrary strings (any code points): answers, in bounded time, with well-formed issues', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400, unit: 'binary' }), fc.string({ maxLength: 400, unit: 'grapheme' })), (text) => {
        timedParse(text);
      }),
      { numRuns: 400 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('almost-YAML built from syntax pieces (anchors, aliases, brackets, tabs): same contract', () => {
    fc.assert(fc.property(almostYaml, (text) => void timedParse(text)), { numRuns: 400 });
  }, PROPERTY_TIMEOUT_MS);

  it('arbitrary JSON values serialised as YAML and as JSON: same contract', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom('yaml' as const, 'json' as const), (value, how) => {
        timedParse(asText(value, how));
      }),
      { numRuns: 300 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('task-shaped documents with any field values: same contract, and a task only when every field is right', () => {
    fc.assert(
      fc.property(taskShaped, fc.constantFrom('yaml' as const, 'json' as const), (value, how) => {
        const r = timedParse(asText(value, how));
        if (r.task === undefined) return;
        // Whatever was accepted is normalised: ports sorted, unique, in range, at most the limit.
        const p = r.task.resources.ports ?? [];
        expect(p.length).toBeLessThanOrEqual(MAX_TASK_PORTS);
        p.forEach((port, i) => {
          expect(Number.isInteger(port) && port >= MIN_PORT && port <= MAX_PORT).toBe(true);
          if (i > 0) expect(port).toBeGreaterThan(p[i - 1] ?? 0);
        });
      }),
      { numRuns: 400 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('nesting of any depth (flow, block, indented maps): refused past the limit with a whole-document error, never a stack overflow', () => {
    const nested = fc.tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom('flow', 'block', 'map'));
    fc.assert(
      fc.property(nested, ([depth, style]) => {
        const text =
          style === 'flow'
            ? `run: ${'['.repeat(depth)}x${']'.repeat(depth)}\n`
            : style === 'block'
              ? `run: ${'- '.repeat(depth)}x\n`
              : Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' x\n';
        const r = timedParse(text);
        if (depth > TASK_LIMITS.maxDepth + 1) {
          expect(r.task).toBeUndefined();
          // Deep indentation can pass the size limit first; either way a whole-document error.
          expect(r.errors.some((e) => e.path === '' && /nested more than|at most 64 KiB/.test(e.message))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('parseTask on hostile documents at the size limit', () => {
  it('a "billion laughs" alias bomb is refused with a message that says so, in bounded time', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const r = timedParse(`${levels.join('\n')}\n`);
    expect(r.task).toBeUndefined();
    expect(r.errors[0]?.path).toBe('');
    expect(r.errors[0]?.message).toMatch(/alias/);
  });

  it('64 KiB of "[" is refused as too deep, not a stack overflow', () => {
    const r = timedParse('['.repeat(TASK_LIMITS.maxBytes));
    expect(r.errors[0]?.path).toBe('');
    expect(r.errors[0]?.message).toMatch(/nested more than/);
  });

  it('text over the size limit is refused by its size alone', () => {
    const r = timedParse(`run: ${'x'.repeat(TASK_LIMITS.maxBytes)}`);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.message).toMatch(/at most 64 KiB/);
  });
});

// ---------------------------------------------------------------------------
// Ports

const anyPortsValue: fc.Arbitrary<unknown> = fc.oneof(
  portItem,
  fc.array(fc.oneof(portItem, fc.array(portItem, { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), portItem, { maxKeys: 2 })), { maxLength: 40 }),
  fc.anything({ maxDepth: 2 }),
);

const range: fc.Arbitrary<PortRange> = fc
  .tuple(fc.integer({ min: MIN_PORT, max: MAX_PORT }), fc.integer({ min: 0, max: 300 }))
  .map(([from, width]) => ({ from, to: Math.min(MAX_PORT, from + width) }));

describe('parsePorts on any value', () => {
  it('never throws; what it keeps is sorted, unique, in 1..65535; no errors means at most the limit', () => {
    fc.assert(
      fc.property(anyPortsValue, fc.integer({ min: 1, max: 200 }), (value, maxPorts) => {
        const started = performance.now();
        const r = parsePorts(value, { maxPorts });
        expect(performance.now() - started).toBeLessThan(BOUNDED_MS);
        for (const e of r.errors) {
          expectWellFormedIssue(e);
          expect(e.path.startsWith('resources.ports')).toBe(true);
        }
        r.ports.forEach((p, i) => {
          expect(Number.isInteger(p) && p >= MIN_PORT && p <= MAX_PORT).toBe(true);
          if (i > 0) expect(p).toBeGreaterThan(r.ports[i - 1] ?? 0);
        });
        // Ranges are the canonical form of the same ports: sorted, disjoint, not adjacent.
        expect(expandRanges(r.ranges)).toEqual(r.ports);
        r.ranges.forEach((x, i) => {
          expect(x.from).toBeLessThanOrEqual(x.to);
          if (i > 0) expect(x.from).toBeGreaterThan((r.ranges[i - 1]?.to ?? 0) + 1);
        });
        if (r.errors.length === 0) expect(r.ports.length).toBeLessThanOrEqual(maxPorts);
      }),
      { numRuns: 500 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('ranges round-trip: parsePorts(formatPorts(r)) gives mergeRanges(r), without errors', () => {
    fc.assert(
      fc.property(fc.array(range, { maxLength: 20 }), (ranges) => {
        const r = parsePorts(formatPorts(ranges), { maxPorts: MAX_PORT });
        expect(r.errors).toEqual([]);
        expect(r.ranges).toEqual(mergeRanges(ranges));
      }),
      { numRuns: 500 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('the same port or range written twice is an error on the later item, naming both places', () => {
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 6 }), fc.nat(), (ranges, pick) => {
        const items = formatPorts(ranges);
        const again = items[pick % items.length];
        const r = parsePorts([...items, again], { maxPorts: MAX_PORT });
        const later = `resources.ports[${items.length}]`;
        expect(r.errors.some((e) => e.path === later && e.message.includes(`resources.ports[${pick % items.length}]`))).toBe(true);
      }),
      { numRuns: 300 },
    );
  }, PROPERTY_TIMEOUT_MS);
});
