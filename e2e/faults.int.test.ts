// The design's fault table as a CI test: the same rows as `npm run faults`
// (e2e/faults/rows.ts), against a private dockerd of this file's own with
// three KinD-like clusters and `kindtray serve` as a real process. Each row
// asserts that the right problem and fix appear within the table's bound (plus
// room for a loaded 2-core machine, never tighter than the bound), and that the
// fix brings everything back.
//
// The probe runs every second here (a setting), so the probe bounds are
// 1 s + the 2 s deadline; the bench runs the defaults.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROWS, runRow, type RowResult } from './faults/rows.ts';
import { disposeStage, setupStage, type FaultBed, type Stage } from './faults/stage.ts';
import { useTestbed } from './testbed/index.ts';

const tb = useTestbed({ privateDockerd: true });
const log = (line: string) => void process.stderr.write(`[faults] ${line}\n`);

let stage: Stage | undefined;
const results: RowResult[] = [];

beforeAll(async () => {
  const bed: FaultBed = {
    get dockerd() {
      return tb.dockerd;
    },
    get kubeconfigPath() {
      return tb.kubeconfigPath;
    },
    image: tb.info.image,
    env: (extra) => tb.env(extra),
    createCluster: (name, opts) => tb.createCluster({ ...opts, name }),
  };
  stage = await setupStage(bed, { settings: { probe: { intervalMs: 1_000, deadlineMs: 2_000 } }, log, tag: 'f' });
}, 180_000);

afterAll(async () => {
  for (const r of results) {
    // "short" marks a row that missed the design's own bound or check (the bench records it as not met); CI asserts the limits above.
    log(`${r.ok ? 'met  ' : 'short'} ${r.fault}: noticed ${r.noticedMs ?? '-'} ms (bound ${r.bound}), ${r.problemId ?? '-'} [${r.fixOffered ?? '-'}], recovered ${r.recoveredMs ?? '-'} ms${r.findings.length ? `; findings: ${r.findings.join('; ')}` : ''}`);
  }
  await disposeStage(stage);
}, 120_000);

describe('the fault table, row by row', () => {
  for (const def of ROWS) {
    if (def.notReproducible) {
      it.skip(`${def.fault}: not reproducible here (${def.notReproducible})`, () => undefined);
      continue;
    }
    it(`${def.fault}: ${def.sees}${def.fixText !== '—' ? `, ${def.fixText}` : ''}`, async () => {
      if (!stage) throw new Error('no stage');
      const r = await runRow(def, stage, { mode: 'ci' });
      results.push(r);
      if (!r.reproducible) {
        log(`${def.fault}: not reproducible here: ${r.notReproducible ?? ''}`);
        return;
      }
      const limit = def.limitMs(stage.settings);
      const bound = def.bound(stage.settings).ms;
      // Never tighter than the design promises.
      if (limit !== null && bound !== null) expect(limit).toBeGreaterThanOrEqual(bound);

      // Everything the row checks besides the bound (which CI checks with room, below).
      expect(r.violations.filter((v) => !v.startsWith('noticed in'))).toEqual([]);
      expect(r.noticedMs, 'the problem was shown').not.toBeNull();
      if (limit !== null) expect(r.noticedMs ?? Infinity).toBeLessThanOrEqual(limit);
      if (r.expectedProblem !== null) expect(r.problemId).toBe(r.expectedProblem);
      if (r.expectedFix?.endsWith(':')) expect(r.fixOffered ?? '').toMatch(new RegExp(`^${r.expectedFix}`));
      else expect(r.fixOffered).toBe(r.expectedFix);
      expect(r.recoveredMs, `recovered (${r.recovery})`).not.toBeNull();
    }, 150_000);
  }

  it('once Docker answers again after being unresponsive, the clusters are probed again (an API hang afterwards is shown)', () => {
    const r = results.find((x) => x.id === 'docker-unresponsive');
    expect(r?.probingAfter, 'the Docker unresponsive row ran').toBeDefined();
    expect(r?.probingAfter?.noticedMs ?? Infinity, (r?.probingAfter?.trace ?? []).join('\n')).toBeLessThanOrEqual(r?.probingAfter?.limitMs ?? 0);
  });
});
