// What the soak counts apart, per shown snapshot, against the truth it
// injected: a false green (something shown healthy that is broken), a false
// red (something shown broken that is healthy) and a wrong fix (a button that
// does not mend what is broken: Restart a cluster whose API is fine, Start
// Docker while it runs, ...). Starting, checking, unknown and busy are neither
// green nor red: only the soak's truth checks judge them. The soak counts what
// is shown past each fault's bound (soak.ts); within it, the server may still
// be catching up.

import { parseFixId } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';

export type ApiTruth = 'none' | 'hang' | 'slow-ok' | 'slow-dead';

/** The truth as the soak made it (soak.ts's Reality has this shape). */
export interface Truth {
  docker: 'running' | 'stopped' | 'frozen';
  node: ReadonlyMap<string, boolean>;
  api: ReadonlyMap<string, ApiTruth>;
  stale: ReadonlyMap<string, boolean>;
  dangling: boolean;
}

export interface Judged {
  falseGreen: string[];
  falseRed: string[];
  wrongFix: string[];
}

const GREEN = { docker: ['running'], cluster: ['running'], context: ['ok'], overall: ['ok'] };
const RED = {
  docker: ['stopped', 'no-permission', 'unresponsive', 'not-installed'],
  cluster: ['stopped', 'degraded', 'unreachable'],
  context: ['stale-endpoint', 'dangling', 'unreachable', 'auth-failed'],
  overall: ['error', 'warn'],
};

/**
 * Judges one snapshot. `clusters`: the soak's clusters (name and context);
 * `judgeServer`: false while the API worker is frozen on purpose (the server's
 * own checks judge that step, and the whole is broken then).
 */
export function judge(s: HealthSnapshot, truth: Truth, clusters: readonly { name: string; context: string }[], judgeServer = true): Judged {
  const out: Judged = { falseGreen: [], falseRed: [], wrongFix: [] };
  const dockerUp = truth.docker === 'running';
  const clusterUp = (name: string) => dockerUp && truth.node.get(name) !== false && ['none', 'slow-ok'].includes(truth.api.get(name) ?? 'none');
  const contextUp = (name: string) => clusterUp(name) && truth.stale.get(name) !== true;
  const say = (what: string, shown: string, healthy: boolean, kind: keyof typeof GREEN) => {
    if (!healthy && GREEN[kind].includes(shown)) out.falseGreen.push(`${what} shown ${shown}, but it is broken`);
    if (healthy && RED[kind].includes(shown)) out.falseRed.push(`${what} shown ${shown}, but it is healthy`);
  };
  say('docker', s.docker.state, dockerUp, 'docker');
  for (const c of clusters) {
    const shown = s.clusters.find((x) => x.name === c.name);
    if (shown) say(`cluster ${c.name}`, shown.state, clusterUp(c.name), 'cluster');
    const ctx = s.contexts.find((x) => x.name === c.context);
    if (ctx) say(`context ${c.context}`, ctx.state, contextUp(c.name), 'context');
  }
  const allGood = dockerUp && !truth.dangling && clusters.every((c) => contextUp(c.name));
  if (judgeServer) say('overall', s.overall, allGood && s.server.state === 'healthy', 'overall');

  const byContext = new Map(clusters.map((c) => [c.context, c.name]));
  for (const p of s.problems) {
    if (!p.fix) continue;
    const parsed = parseFixId(p.fix.id);
    if (!parsed.ok) {
      out.wrongFix.push(`${p.fix.id} (not a fix id) on ${p.id}`);
      continue;
    }
    const f = parsed.fix;
    let right: boolean;
    switch (f.kind) {
      case 'start-docker':
        right = truth.docker === 'stopped';
        break;
      case 'restart-docker':
        right = truth.docker === 'frozen';
        break;
      case 'start-cluster':
        right = dockerUp && truth.node.get(f.cluster) === false;
        break;
      case 'restart-cluster':
        // Its containers up and its API silent: what a restart mends.
        right = dockerUp && truth.node.get(f.cluster) !== false && ['hang', 'slow-dead'].includes(truth.api.get(f.cluster) ?? 'none');
        break;
      case 'repair-context': {
        const name = byContext.get(f.context);
        right = name !== undefined && truth.stale.get(name) === true;
        break;
      }
      case 'use-context': {
        // Switching is right only to a context that works.
        const name = byContext.get(f.context);
        right = name !== undefined && contextUp(name);
        break;
      }
      case 'restart-server':
        right = !judgeServer || s.server.state !== 'healthy';
        break;
      case 'refresh-status':
        right = true;
        break;
      default:
        // Help links and fixes this soak never causes (permissions, install, images, deletion).
        right = false;
    }
    if (!right) out.wrongFix.push(`${p.fix.id} offered on ${p.id}`);
  }
  return out;
}

/** Counts over a run: each wrong thing counted once per step (a state shown wrong across many snapshots is one). */
export interface VerdictCounts {
  falseGreens: number;
  falseReds: number;
  wrongFixes: number;
  /** The first few of each, with their step. */
  examples: { falseGreen: string[]; falseRed: string[]; wrongFix: string[] };
}

export class Verdicts {
  private readonly counts: VerdictCounts = { falseGreens: 0, falseReds: 0, wrongFixes: 0, examples: { falseGreen: [], falseRed: [], wrongFix: [] } };

  /** Adds the snapshots shown during one step's window past its bound; answers what was new in it. */
  add(step: string, shown: readonly HealthSnapshot[], truth: Truth, clusters: readonly { name: string; context: string }[], judgeServer: boolean): Judged {
    const seen: Judged = { falseGreen: [], falseRed: [], wrongFix: [] };
    for (const s of shown) {
      const j = judge(s, truth, clusters, judgeServer);
      for (const k of ['falseGreen', 'falseRed', 'wrongFix'] as const) for (const w of j[k]) if (!seen[k].includes(w)) seen[k].push(w);
    }
    this.counts.falseGreens += seen.falseGreen.length;
    this.counts.falseReds += seen.falseRed.length;
    this.counts.wrongFixes += seen.wrongFix.length;
    for (const k of ['falseGreen', 'falseRed', 'wrongFix'] as const) {
      for (const w of seen[k]) if (this.counts.examples[k].length < 20) this.counts.examples[k].push(`${step}: ${w}`);
    }
    return seen;
  }

  get report(): VerdictCounts {
    return structuredClone(this.counts);
  }
}
