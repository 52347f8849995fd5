import { Monitor } from '../electron/monitor/index.ts';
import { withTestbed, sleep, until, clusterOf, contextOf, runCleanups } from './harness.ts';
const rec = new Map<string, { n: number; delays: Set<number> }>();
let on = false;
const wrap = (orig: any, kind: string) => function (this: any, fn: any, ms: any, ...a: any[]) {
  if (on) {
    const st = (new Error().stack ?? '').split('\n').slice(2, 7).map((s) => s.trim().replace(/\(file:\/\/\/work\/main\//, '(').replace(/^at /, '')).join(' < ');
    const k = `${kind} ${st}`; const r = rec.get(k) ?? { n: 0, delays: new Set() }; r.n++; r.delays.add(Math.round(ms ?? 0)); rec.set(k, r);
  }
  return orig.call(this, fn, ms, ...a);
};
globalThis.setTimeout = wrap(globalThis.setTimeout, 'T') as any;
globalThis.setInterval = wrap(globalThis.setInterval, 'I') as any;
const tm = await import('node:timers');
await withTestbed(async (tb) => {
  const [a, b] = await Promise.all([tb.createCluster(`idle-a-${process.pid}`), tb.createCluster(`idle-b-${process.pid}`)]);
  const monitor = new Monitor({ env: tb.env() });
  await monitor.start();
  const healthy = (c: any) => (s: any) => clusterOf(s, c)?.state === 'running' && contextOf(s, c)?.state === 'ok';
  await until(monitor, (s) => healthy(a)(s) && healthy(b)(s), 30_000, 'healthy');
  await sleep(3000);
  on = true;
  await new Promise((r) => tm.setTimeout(r, 20_000));
  on = false;
  monitor.stop();
});
await runCleanups();
for (const [k, v] of [...rec.entries()].sort((x, y) => y[1].n - x[1].n)) console.log(v.n, [...v.delays].slice(0, 6).join(','), k);
