// Desktop notifications, for the moments worth interrupting someone: the
// overall state turning to error (named by its root cause, with the fix to
// click), a task finishing, a fix from the tray menu failing. Off when the
// user says so (settings.json `notifications`).

import { Notification } from 'electron';
import type { TaskRecord } from '../../shared/api.ts';
import { isFinalTaskState } from '../../shared/api.ts';
import type { DashboardPage, FixOutcome } from '../../shared/ipc.ts';
import { headline, isRoot } from '../../shared/problems.ts';
import type { HealthSnapshot, OverallState } from '../../shared/snapshot.ts';

export interface NotificationText {
  title: string;
  body: string;
}

export interface NotifierOptions {
  enabled: () => boolean;
  /** A click on a notification: open the dashboard at the page it is about. */
  onClick: (page: DashboardPage) => void;
}

/** What to say when the overall state turns to error: the root first, and its fix. */
export function errorText(s: HealthSnapshot): NotificationText {
  const root = s.problems.find((p) => isRoot(p) && p.severity === 'error') ?? s.problems.find((p) => p.severity === 'error');
  if (!root) return { title: 'Kindtray: something is wrong', body: 'Open the dashboard for details.' };
  const fix = root.fix ? `Fix: ${root.fix.label}, from the tray menu or the dashboard.` : '';
  return { title: headline(root, s.problems), body: [root.detail, fix].filter(Boolean).join('\n') };
}

const TASK_WORDS: Record<string, string> = { succeeded: 'finished', failed: 'failed', cancelled: 'was cancelled' };

export function taskText(t: TaskRecord): NotificationText {
  const where = t.cluster ?? t.context;
  const exit = t.exitCode !== undefined && t.state === 'failed' ? ` (exit code ${t.exitCode})` : '';
  return {
    title: `Task ${t.name} ${TASK_WORDS[t.state] ?? t.state}${exit}`,
    body: [t.reason, `on ${where}`].filter(Boolean).join(' — '),
  };
}

export class Notifier {
  private readonly opts: NotifierOptions;
  private lastOverall: OverallState | undefined;
  /** Task ids already announced as finished, so a repeated event is said once. */
  private readonly announced = new Set<string>();

  constructor(opts: NotifierOptions) {
    this.opts = opts;
  }

  /** Every snapshot goes through here; only a turn to error is said (the first snapshot is the baseline). */
  snapshot(s: HealthSnapshot): void {
    const before = this.lastOverall;
    this.lastOverall = s.overall;
    if (before === undefined || before === 'error' || s.overall !== 'error') return;
    this.show(errorText(s), 'overview');
  }

  task(t: TaskRecord): void {
    if (!isFinalTaskState(t.state)) {
      this.announced.delete(t.id);
      return;
    }
    if (this.announced.has(t.id)) return;
    this.announced.add(t.id);
    this.show(taskText(t), 'tasks');
  }

  fixFailed(outcome: FixOutcome, label: string): void {
    if (outcome.ok) return;
    this.show({ title: `${label} did not work`, body: outcome.message }, 'overview');
  }

  private show(text: NotificationText, page: DashboardPage): void {
    if (!this.opts.enabled() || !Notification.isSupported()) return;
    const n = new Notification({ title: text.title, body: text.body });
    n.on('click', () => this.opts.onClick(page));
    n.show();
  }
}
