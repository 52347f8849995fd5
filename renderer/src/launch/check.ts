// What the Launch page says about the text being typed, and whether it may be
// launched. Two sources: the shared parser and cluster check, run here on every
// keystroke against the snapshot on screen (instant), and the server's
// /api/validate (debounced; it also knows which NodePorts other tasks hold).
// The server's answer wins once it is about the text as it stands.

import type { ValidateResponse } from '../../../shared/api.ts';
import type { HealthSnapshot, ServerState } from '../../../shared/snapshot.ts';
import { FIXES, isWaitableFix } from '../../../shared/fixes.ts';
import { checkPreparedTask, MAX_SNAPSHOT_AGE_MS, prepareTask, type PortPlan, type TaskSpec, type TaskTarget, type ValidationIssue } from '../../../shared/task/index.ts';
import type { IssueFix } from '../../../shared/task/index.ts';
import { labelled } from '../fixes.ts';
import type { ApiFailure } from '../transport.ts';


export interface TaskCheck {
  source: 'client' | 'server';
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  task?: TaskSpec;
  target?: TaskTarget;
  ports: { port: number; url?: string; reachable: boolean | 'unknown'; how: string }[];
  /** With any_of / ordered: the set chosen for the cluster. */
  chosenResources?: ValidateResponse['chosenResources'];
  /** envs and secrets the file leaves null (names only). */
  requiredAtLaunch?: ValidateResponse['requiredAtLaunch'];
}

/**
 * The instant check. `snapshotAgeMs` is how old the page's snapshot is; pass 0
 * while the event stream is live (a change would have arrived).
 */
export function clientCheck(text: string, snapshot: HealthSnapshot | undefined, snapshotAgeMs: number): TaskCheck {
  // The server's validation, run here (shared/task/validate.ts): the same answer, at once.
  const prepared = prepareTask(text);
  if (!prepared.ok) return { source: 'client', errors: prepared.result.errors, warnings: prepared.result.warnings, ports: [] };
  if (!snapshot) return { source: 'client', errors: [], warnings: prepared.warnings, task: prepared.task, ports: [] };
  const checked = checkPreparedTask(prepared, snapshot, { snapshotAgeMs, maxAgeMs: MAX_SNAPSHOT_AGE_MS });
  return {
    source: 'client',
    errors: checked.errors,
    warnings: checked.warnings,
    task: prepared.task,
    ...(checked.target ? { target: checked.target } : {}),
    ...(checked.chosenResources ? { chosenResources: checked.chosenResources } : {}),
    ...(checked.requiredAtLaunch ? { requiredAtLaunch: checked.requiredAtLaunch } : {}),
    ports: checked.ports.map((p: PortPlan) => ({
      port: p.port,
      ...(p.url !== undefined ? { url: p.url } : {}),
      reachable: p.reachable === 'unknown' ? 'unknown' : p.reachable === 'yes',
      how: p.how,
    })),
  };
}

export function fromServer(v: ValidateResponse): TaskCheck {
  return {
    source: 'server',
    errors: v.errors ?? [],
    warnings: v.warnings ?? [],
    ...(v.target ? { target: v.target } : {}),
    ...(v.chosenResources ? { chosenResources: v.chosenResources } : {}),
    ...(v.requiredAtLaunch ? { requiredAtLaunch: v.requiredAtLaunch } : {}),
    ports: (v.endpoints ?? []).map((e) => ({ port: e.port, ...(e.url !== undefined ? { url: e.url } : {}), reachable: e.reachable, how: e.how })),
  };
}

export interface LaunchGate {
  enabled: boolean;
  /** The button's words: "Launch", "Launch when ready". */
  label: string;
  /** Why the button is disabled, or what will happen (waiting) when it is not. */
  reason?: string;
  /** The fix that would enable the button. */
  fix?: IssueFix;
}

/** Errors about the target being down for now, which a "when ready" launch may wait out. */
const isWaitable = (e: ValidationIssue): boolean => e.fix !== undefined && isWaitableFix(e.fix.id);

/**
 * Whether the task can be launched now, and if not, the one reason and the fix
 * that would change that. `serverTrouble` is a failed validate or launch call:
 * the API worker hung or unreachable.
 */
export function launchGate(
  check: TaskCheck,
  opts: { whenReady: boolean; serverTrouble?: ApiFailure | undefined; serverState?: ServerState | undefined; launching?: boolean },
): LaunchGate {
  if (opts.launching) return { enabled: false, label: 'Launching…' };
  if (check.source === 'client' && !check.task) {
    const n = check.errors.length;
    return { enabled: false, label: 'Launch', reason: n === 1 ? 'Fix the error in the task first.' : `Fix the ${n} errors in the task first.` };
  }
  // The snapshot knows the worker is hung before any call to it times out.
  if (opts.serverState === 'hung' || opts.serverState === 'down') {
    return {
      enabled: false,
      label: 'Launch',
      reason: `The server is ${opts.serverState === 'hung' ? 'not answering' : 'down'}: nothing can be launched until it is back.`,
      fix: FIXES.restartServer,
    };
  }
  if (opts.serverState === 'restarting') return { enabled: false, label: 'Launch', reason: 'The server is restarting; launch in a moment.' };
  if (opts.serverTrouble) {
    const hung = opts.serverTrouble.status === 503 || opts.serverTrouble.status === 504;
    return {
      enabled: false,
      label: 'Launch',
      reason: hung
        ? `The server is not answering, so nothing can be launched until it is back (${opts.serverTrouble.error.error}).`
        : `The server cannot be reached: ${opts.serverTrouble.error.error}`,
      ...(hung || opts.serverTrouble.error.fix ? { fix: labelled(opts.serverTrouble.error.fix ?? FIXES.restartServer) } : {}),
    };
  }
  if (check.errors.length === 0) return { enabled: true, label: 'Launch' };
  if (opts.whenReady && check.errors.every(isWaitable)) {
    const first = check.errors[0] as ValidationIssue;
    return { enabled: true, label: 'Launch when ready', reason: `It will wait: ${first.message}.`, ...(first.fix ? { fix: first.fix } : {}) };
  }
  // The target's trouble first: that is the one a fix can change.
  const blocking = check.errors.find((e) => e.fix) ?? check.errors[0];
  if (!blocking) return { enabled: true, label: 'Launch' };
  const n = check.errors.length;
  const more = n > 1 ? ` (and ${n - 1} more ${n - 1 === 1 ? 'error' : 'errors'})` : '';
  const reason = `${blocking.message.charAt(0).toUpperCase()}${blocking.message.slice(1)}${more}.`;
  const waitHint = isWaitable(blocking) && !opts.whenReady ? ' Or tick "Launch when ready" to keep the task until it can run.' : '';
  return { enabled: false, label: 'Launch', reason: reason + waitHint, ...(blocking.fix ? { fix: blocking.fix } : {}) };
}
