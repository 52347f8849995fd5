// Benchmark plumbing: statistics, a results file per benchmark, and the
// README's summary table rebuilt from every results file. Benchmarks measure;
// they never pass or fail.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Stats {
  n: number;
  min: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

export function stats(values: readonly number[]): Stats {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] ?? NaN;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: v.length,
    min: round(v[0] ?? NaN),
    median: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(v[v.length - 1] ?? NaN),
    mean: round(v.reduce((a, b) => a + b, 0) / Math.max(1, v.length)),
  };
}

/** One line of the README table: what was measured, the figure, and what it is compared with. */
export interface Summary {
  metric: string;
  value: string;
  reference?: string;
}

export interface BenchResult {
  name: string;
  recordedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  results: unknown;
  summary: Summary[];
}

export function writeResult(name: string, results: unknown, summary: Summary[]): BenchResult {
  const out: BenchResult = {
    name,
    recordedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    results,
    summary,
  };
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

/** Rebuilds the README's benchmark table from every results file. */
export function updateReadme(): void {
  const files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.tmp.json')).sort();
  const rows: string[] = ['| benchmark | metric | result | compared with |', '|---|---|---|---|'];
  for (const f of files) {
    const r = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as BenchResult;
    for (const s of r.summary) rows.push(`| ${r.name} | ${s.metric} | ${s.value} | ${s.reference ?? ''} |`);
  }
  const machine = files.length
    ? (JSON.parse(readFileSync(join(RESULTS_DIR, files[0] ?? ''), 'utf8')) as BenchResult).machine
    : undefined;
  const body = [
    machine ? `Recorded on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}.` : '',
    '',
    ...rows,
  ].join('\n');
  const text = readFileSync(README, 'utf8');
  const next = text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${body}\n<!-- bench:end -->`);
  writeFileSync(README, next);
}

export const ms = (x: number): string => (x < 0 ? `-${ms(-x)}` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`);
