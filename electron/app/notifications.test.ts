import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskRecord } from '../../shared/api.ts';
import { withProblems } from '../../shared/problems.ts';
import { dockerStoppedInput, healthyInput } from '../../shared/snapshot-fixtures.ts';
import { Notifier, errorText, taskText } from './notifications.ts';
import { electron } from './testing/electron-double.ts';

vi.mock('electron', async () => (await import('./testing/electron-double.ts')).electronModule);

const healthy = withProblems(healthyInput());
const dockerStopped = withProblems(dockerStoppedInput());

const task = (state: TaskRecord['state'], extra: Partial<TaskRecord> = {}): TaskRecord => ({
  id: 't-1',
  name: 'web-demo',
  state,
  context: 'kind-dev',
  cluster: 'dev',
  namespace: 'default',
  endpoints: [],
  source: 'name: web-demo',
  createdAt: '2026-01-15T10:00:00.000Z',
  updatedAt: '2026-01-15T10:00:00.000Z',
  ...extra,
});

let enabled = true;
let clicks: string[] = [];
const notifier = () => new Notifier({ enabled: () => enabled, onClick: (page) => clicks.push(page) });
const shown = () => electron.notifications.filter((n) => n.shown).map((n) => n.options);

beforeEach(() => {
  electron.reset();
  enabled = true;
  clicks = [];
});

describe('notifications', () => {
  it('Docker stops → one notification naming the root cause and its fix; clicking it opens the dashboard', () => {
    const n = notifier();
    n.snapshot(healthy);
    n.snapshot(dockerStopped);
    n.snapshot(dockerStopped);
    expect(shown()).toEqual([
      {
        title: 'Docker is not running: 2 clusters and 2 contexts affected',
        body: expect.stringContaining('Fix: Start Docker, from the tray menu or the dashboard.'),
      },
    ]);
    electron.notifications[0]!.emit('click');
    expect(clicks).toEqual(['overview']);
  });

  it('the first snapshot is the baseline: starting with Docker already down says nothing', () => {
    const n = notifier();
    n.snapshot(dockerStopped);
    expect(shown()).toEqual([]);
    n.snapshot(healthy);
    n.snapshot(dockerStopped);
    expect(shown()).toHaveLength(1);
  });

  it('warn and busy are not worth a notification', () => {
    const n = notifier();
    n.snapshot(healthy);
    n.snapshot({ ...healthy, overall: 'warn' });
    n.snapshot({ ...healthy, overall: 'busy' });
    expect(shown()).toEqual([]);
  });

  it('a task that finishes is announced once; one still running is not', () => {
    const n = notifier();
    n.task(task('running'));
    n.task(task('succeeded'));
    n.task(task('succeeded'));
    n.task(task('failed', { id: 't-2', exitCode: 3, reason: 'the container exited' }));
    expect(shown()).toEqual([
      { title: 'Task web-demo finished', body: 'on dev' },
      { title: 'Task web-demo failed (exit code 3)', body: 'the container exited — on dev' },
    ]);
    electron.notifications[0]!.emit('click');
    expect(clicks).toEqual(['tasks']);
  });

  it('a failed fix from the tray is said; a working one is not', () => {
    const n = notifier();
    n.fixFailed({ ok: true, fixId: 'start-docker', message: 'Docker is running', durationMs: 900 }, 'Start Docker');
    n.fixFailed({ ok: false, fixId: 'start-docker', message: 'dockerd did not answer in 20 s', durationMs: 20_000 }, 'Start Docker');
    expect(shown()).toEqual([{ title: 'Start Docker did not work', body: 'dockerd did not answer in 20 s' }]);
  });

  it('the setting turns all of them off', () => {
    enabled = false;
    const n = notifier();
    n.snapshot(healthy);
    n.snapshot(dockerStopped);
    n.task(task('succeeded'));
    expect(electron.notifications).toEqual([]);
  });

  it('nothing is shown where the platform has no notifications', () => {
    electron.notificationsSupported = false;
    const n = notifier();
    n.snapshot(healthy);
    n.snapshot(dockerStopped);
    expect(electron.notifications).toEqual([]);
  });

  it('texts read in the user’s words', () => {
    expect(errorText({ ...healthy, overall: 'error', problems: [] }).title).toBe('Kindtray: something is wrong');
    expect(taskText(task('cancelled', { cluster: undefined }))).toEqual({ title: 'Task web-demo was cancelled', body: 'on kind-dev' });
  });
});
