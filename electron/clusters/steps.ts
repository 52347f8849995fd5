// An operation's steps: kind's own status lines read into them, or ours begun
// and ended by name. kind (pkg/internal/cli/status.go) prints, without a
// terminal, " • TITLE  ..." when a step starts, " ✓ TITLE" when it ends well and
// " ✗ TITLE" when it fails; on a terminal the start is a spinner (no line) and
// the end lines are coloured. Both are read here.

import type { OperationStep, StepState } from '../../shared/contracts/clusters.ts';

export type KindStatusLine = { kind: 'start' | 'done' | 'failed'; title: string };

/** A kind status line, or undefined for any other line (`Creating cluster "dev" ...`, `ERROR: ...`). */
export function parseKindStatusLine(line: string): KindStatusLine | undefined {
  const m = /^\s*([•✓✗])\s+(.+?)\s*$/u.exec(line);
  if (!m || !m[2]) return undefined;
  const mark = m[1];
  if (mark === '•') return { kind: 'start', title: m[2].replace(/\s*\.\.\.$/, '').trim() };
  return { kind: mark === '✓' ? 'done' : 'failed', title: m[2] };
}

/** The steps of one operation, kept in the order they began. */
export class StepList {
  readonly steps: OperationStep[] = [];
  private readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  /** Reads one of kind's lines; answers whether a step changed. */
  feed(line: string): boolean {
    const status = parseKindStatusLine(line);
    if (!status) return false;
    if (status.kind === 'start') {
      this.begin(status.title);
      return true;
    }
    const open = this.find(status.title);
    if (open) this.end(open, status.kind === 'done' ? 'succeeded' : 'failed');
    else {
      // On a terminal kind prints no start line: the step began when the one before it ended.
      const before = this.steps.at(-1);
      this.endOthers();
      this.steps.push({ title: status.title, state: status.kind === 'done' ? 'succeeded' : 'failed', startedAt: before?.endedAt ?? before?.startedAt ?? this.stamp(), endedAt: this.stamp() });
    }
    return true;
  }

  /** Begins a step; a step still running ends well first (kind's Start ends the previous status as a success), unless it runs `alongside`. */
  begin(title: string, alongside = false): OperationStep {
    if (!alongside) this.endOthers();
    const step: OperationStep = { title, state: 'running', startedAt: this.stamp() };
    this.steps.push(step);
    return step;
  }

  end(step: OperationStep, state: Exclude<StepState, 'running'>): void {
    if (step.state !== 'running') return;
    step.state = state;
    step.endedAt = this.stamp();
  }

  /** The operation ended: a step still running takes its outcome (failed, cancelled, or succeeded). */
  finish(state: Exclude<StepState, 'running'>): void {
    for (const s of this.steps) this.end(s, state);
  }

  /** The step the operation failed in: the last one marked failed. */
  failedStep(): string | undefined {
    return [...this.steps].reverse().find((s) => s.state === 'failed')?.title;
  }

  running(): OperationStep | undefined {
    return this.steps.find((s) => s.state === 'running');
  }

  find(title: string): OperationStep | undefined {
    return [...this.steps].reverse().find((s) => s.title === title && s.state === 'running');
  }

  private endOthers(): void {
    for (const s of this.steps) this.end(s, 'succeeded');
  }

  private stamp(): string {
    return this.now().toISOString();
  }
}
