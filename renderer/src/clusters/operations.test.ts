import { describe, expect, it } from 'vitest';
import type { ClusterOperation } from '../../../shared/contracts/clusters.ts';
import { SseParser } from '../sse.ts';
import { KEPT_LINES, followOperation, latestOn, operationDurationMs, runningOn, shortError, stepDurationMs, toOperationEvent, withoutEmoji } from './operations.ts';

const T0 = '2026-12-06T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

function op(over: Partial<ClusterOperation> = {}): ClusterOperation {
  return { id: 'op-1', kind: 'create', cluster: 'dev', state: 'running', steps: [], startedAt: T0, ...over };
}

describe('operation events from /api/events', () => {
  it('an `operation` message becomes an OperationEvent with kind’s line; other messages and bad shapes do not', () => {
    const parser = new SseParser();
    const running = op({ steps: [{ title: 'Ensuring node image (kindest/node:v1.31.0) 🖼', state: 'running', startedAt: at(0) }] });
    const text =
      `event: operation\ndata: ${JSON.stringify({ type: 'operation', operation: running, line: ' ✓ Ensuring node image' })}\n\n` +
      `event: task\ndata: ${JSON.stringify({ type: 'task', task: { id: 't' } })}\n\n` +
      `event: operation\ndata: ${JSON.stringify({ type: 'operation', operation: { ...running, state: 'exploded' } })}\n\n` +
      `event: operation\ndata: ${JSON.stringify({ type: 'operation', operation: { ...running, steps: [{ title: 'x' }] } })}\n\n` +
      `event: operation\ndata: {not json\n\n`;
    const events = parser.push(text).map(toOperationEvent);
    expect(events[0]).toEqual({ type: 'operation', operation: running, line: ' ✓ Ensuring node image' });
    expect(events.slice(1)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('following an operation', () => {
  it('keeps kind’s last lines, in order, at most KEPT_LINES', () => {
    let ops = {};
    for (let i = 0; i < KEPT_LINES + 5; i++) ops = followOperation(ops, op(), `line ${i}`);
    const lines = latestOn(ops, 'dev')!.lines;
    expect(lines).toHaveLength(KEPT_LINES);
    expect(lines.at(-1)).toBe(`line ${KEPT_LINES + 4}`);
    expect(lines[0]).toBe('line 5');
  });

  it('a finished record is never replaced by a late running one (the stream and our own answer race)', () => {
    const done = op({ state: 'succeeded', endedAt: at(30), durationMs: 30_000, steps: [{ title: 'a', state: 'succeeded', startedAt: at(0), endedAt: at(30) }] });
    let ops = followOperation({}, done);
    ops = followOperation(ops, op({ steps: [{ title: 'a', state: 'running', startedAt: at(0) }] }));
    expect(latestOn(ops, 'dev')!.operation.state).toBe('succeeded');
    expect(runningOn(ops, 'dev')).toBeUndefined();
  });

  it('more steps win; the same record again changes nothing (no re-render)', () => {
    const one = op({ steps: [{ title: 'a', state: 'running', startedAt: at(0) }] });
    const two = op({ steps: [{ title: 'a', state: 'succeeded', startedAt: at(0), endedAt: at(2) }, { title: 'b', state: 'running', startedAt: at(2) }] });
    const ops = followOperation(followOperation({}, one), two);
    expect(latestOn(ops, 'dev')!.operation.steps).toHaveLength(2);
    expect(followOperation(ops, one)).toBe(ops);
    expect(runningOn(ops, 'dev')?.id).toBe('op-1');
  });

  it('durations: a finished step from its ends, a running one until now; the record’s own duration first', () => {
    const now = Date.parse(at(12));
    expect(stepDurationMs({ title: 'a', state: 'succeeded', startedAt: at(1), endedAt: at(4) }, now)).toBe(3_000);
    expect(stepDurationMs({ title: 'b', state: 'running', startedAt: at(4) }, now)).toBe(8_000);
    expect(operationDurationMs(op(), now)).toBe(12_000);
    expect(operationDurationMs(op({ durationMs: 5 }), now)).toBe(5);
  });

  it('latestOn picks the newest of a kind on that cluster', () => {
    let ops = followOperation({}, op({ id: 'a', kind: 'create', state: 'failed', startedAt: at(0) }));
    ops = followOperation(ops, op({ id: 'b', kind: 'delete', state: 'succeeded', startedAt: at(10) }));
    ops = followOperation(ops, op({ id: 'c', kind: 'create', cluster: 'other', startedAt: at(20) }));
    expect(latestOn(ops, 'dev')?.operation.id).toBe('b');
    expect(latestOn(ops, 'dev', 'create')?.operation.id).toBe('a');
  });
});

describe('kind’s words as shown', () => {
  it('without the emoji a desktop may draw as boxes', () => {
    expect(withoutEmoji('Ensuring node image (kindest/node:v1.31.0) 🖼')).toBe('Ensuring node image (kindest/node:v1.31.0)');
    expect(withoutEmoji(' • Preparing nodes 📦 📦  ...')).toBe(' • Preparing nodes ...');
    expect(withoutEmoji('Starting control-plane 🕹️')).toBe('Starting control-plane');
  });

  it('a long error keeps its start and its end, where kind says the cause', () => {
    const long = `failed to create cluster: command "docker run ${'--publish=127.0.0.1:30100:30100/TCP '.repeat(40)}" failed: bind: address already in use`;
    const short = shortError(long);
    expect(short.cut).toBe(true);
    expect(short.text.length).toBeLessThan(400);
    expect(short.text.startsWith('failed to create cluster')).toBe(true);
    expect(short.text.endsWith('bind: address already in use')).toBe(true);
    expect(shortError('exit status 1')).toEqual({ text: 'exit status 1', cut: false });
  });
});
