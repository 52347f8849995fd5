// The child-process layer against real forked children: handshake and its
// deadline, typed messages, a kill that ends the whole group, exit reporting.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { moduleBeside, startChild, type Child } from './index.ts';

const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number() }),
  z.object({ type: z.literal('echo'), value: z.unknown() }),
  z.object({ type: z.literal('grandchild'), pid: z.number() }),
]);
type M = z.infer<typeof messages>;
const started: Child<M, number>[] = [];

/** Whether `pid` runs and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function start(mode: string, readyDeadlineMs = 10_000): Child<M, number> {
  const c = startChild<M, number>({
    modulePath: moduleBeside(import.meta.url, './child.fixture'),
    env: { ...process.env, FIXTURE_MODE: mode },
    name: 'the fixture',
    messages,
    isReady: (m) => (m.type === 'ready' ? m.pid : undefined),
    readyDeadlineMs,
  });
  started.push(c);
  return c;
}

afterEach(() => {
  for (const c of started.splice(0)) c.kill();
});

describe('a child process', { timeout: 20_000 }, () => {
  it('says ready with its pid; messages are parsed, and what does not parse is dropped', async () => {
    const c = start('ready');
    expect(await c.ready).toBe(c.pid);
    const got: M[] = [];
    c.onMessage((m) => got.push(m));
    c.send({ hello: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([{ type: 'echo', value: { hello: 1 } }]);
  });

  it('not ready by its deadline: ready rejects, the child is killed, its exit reported', async () => {
    const c = start('silent', 300);
    await expect(c.ready).rejects.toThrow('the fixture did not start in 0.3 s');
    expect((await c.exited).signal).toBe('SIGKILL');
    expect(c.alive).toBe(false);
  });

  it('exits before ready: ready rejects saying how', async () => {
    const c = start('exit');
    await expect(c.ready).rejects.toThrow('the fixture exited before it was ready (code 3)');
    const exits: unknown[] = [];
    c.onExit((e) => exits.push(e));
    expect(exits).toEqual([{ code: 3, signal: null }]);
  });

  it('kill ends the child and what it spawned (its process group)', async () => {
    const c = start('grandchild');
    const grandchild = new Promise<number>((resolve) => c.onMessage((m) => m.type === 'grandchild' && resolve(m.pid)));
    await c.ready;
    const pid = await grandchild;
    expect(isAlive(pid)).toBe(true);
    c.kill();
    await c.exited;
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(pid)).toBe(false);
    c.send({ late: true }); // nothing, and no error
  });
});
