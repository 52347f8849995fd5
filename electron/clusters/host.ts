// What the cluster room uses of the process that holds it (the supervisor):
// the monitor's snapshot, Docker, fixes, the worker's tasks, settings, where
// to log. Kept as one interface so the room's tests hand in doubles.

import type Docker from 'dockerode';
import type { TaskRecord } from '../../shared/api.ts';
import type { ClusterError } from '../../shared/contracts/clusters.ts';
import type { FixResult } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import { HttpError } from '../http/index.ts';

/** The worker's tasks, as the cluster room needs them: the ones on a context, and cancelling one with a reason. */
export interface TaskPort {
  list(): Promise<TaskRecord[]>;
  /** Ends the task as `cancelled` with `reason`; rejects with why when the worker could not. */
  cancel(id: string, reason: string): Promise<void>;
}

export interface ClusterHost {
  env: NodeJS.ProcessEnv;
  /** settings.kindPath (empty: look on PATH). */
  kindPath: () => string;
  snapshot: () => HealthSnapshot;
  /** Looks again now; resolves with the fresh snapshot. */
  refresh: () => Promise<HealthSnapshot>;
  /** Waits until `done(snapshot)` holds or `ms` passes; resolves with whether it held. */
  waitFor: (done: (s: HealthSnapshot) => boolean, ms: number) => Promise<boolean>;
  docker: () => Docker;
  /** Runs a fix by its id (start-cluster:NAME, use-context:CONTEXT), as the supervisor does for a button. */
  runFix: (id: string) => Promise<FixResult>;
  tasks: TaskPort;
  /** Where kind configs written for a create go (removed after). */
  tmpDir: string;
  log: (line: string) => void;
  /** A history entry: `cluster:NAME`, its new state, and the words (how long it took). */
  note?: (subject: string, state: string, cause: string) => void;
  /** The tray's busy icon while an operation runs. */
  setBusy?: (busy: boolean) => void;
  markStarting?: (what: { cluster: string }) => void;
  platform?: NodeJS.Platform;
}

/** A request the room refuses: its HTTP status and the body (shared/contracts/clusters.ts's ClusterError). */
export class ClusterRequestError extends HttpError<ClusterError> {
  override readonly name = 'ClusterRequestError';
}
