// What a fix may use: the monitor's snapshot (read, refreshed, waited on),
// Docker, the settings it acts by, and where its steps are told. Fixes read
// the snapshot, never guess; every wait in them has a deadline.

import type Docker from 'dockerode';
import type { FixStep } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';

/** What is starting: the engine, or one cluster by name (the monitor's StartingTarget). */
export type StartingTarget = { docker: true } | { cluster: string };

export interface FixContext {
  /** The latest snapshot; fixes read it, never guess. */
  snapshot: () => HealthSnapshot;
  /** Looks again now and resolves with the fresh snapshot. */
  refresh: () => Promise<HealthSnapshot>;
  /** Waits until `done(snapshot)` holds or `ms` passes; resolves with whether it held. */
  waitFor: (done: (s: HealthSnapshot) => boolean, ms: number) => Promise<boolean>;
  docker: () => Docker;
  dockerStartCommand: string;
  restartServer: (reason: string) => Promise<void>;
  env: NodeJS.ProcessEnv;
  /** Tells the monitor a start is under way: the thing shows `starting`, with no fix offered, until it answers. */
  markStarting?: (what: StartingTarget) => void;
  /** Each step of a chain as it starts and ends (the server's event stream). */
  onStep?: (step: FixStep) => void;
  /** settings.restartClustersWithDocker: Start Docker also starts the clusters that were running. Default true. */
  restartClustersWithDocker?: boolean;
  /** Default process.platform. */
  platform?: NodeJS.Platform;
}

export class FixError extends Error {
  override readonly name = 'FixError';
}

/** Collects a chain's steps and tells each change as it happens. */
export class StepLog {
  readonly steps: FixStep[] = [];
  private readonly onStep: ((step: FixStep) => void) | undefined;

  constructor(onStep?: (step: FixStep) => void) {
    this.onStep = onStep;
  }

  /** Starts a step; its handle ends it once (later calls are ignored). */
  begin(id: string, label: string): StepHandle {
    const step: FixStep = { id, label, state: 'running', at: Date.now() };
    this.steps.push(step);
    this.tell(step);
    let open = true;
    const end = (state: FixStep['state'], message?: string) => {
      if (!open) return;
      open = false;
      Object.assign(step, { state, at: Date.now(), ...(message ? { message } : {}) });
      this.tell(step);
    };
    return { done: (m) => end('done', m), failed: (m) => end('failed', m), skipped: (m) => end('skipped', m) };
  }

  private tell(step: FixStep): void {
    try {
      this.onStep?.({ ...step });
    } catch {
      // A listener's failure is not the fix's.
    }
  }
}

export interface StepHandle {
  done(message?: string): void;
  failed(message: string): void;
  skipped(message: string): void;
}
