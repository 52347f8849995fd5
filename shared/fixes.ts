// Fixes as every side names them: the typed id the fix runner dispatches on,
// its one text form (`start-cluster:dev`, what URLs, the CLI, the tray and
// problems carry), its label, and what running it answers. The runner
// (electron/fixes), the supervisor's /control/fixes/:id, the CLI's `fix ID`,
// the app's IPC and the dashboard all parse and format ids here, so a fix
// added to `FixId` fails to compile wherever it is not handled yet.

import type { Fix } from './snapshot.ts';

/** Every fix Kindtray can run, as a value: a switch on `kind` is checked for completeness by the compiler. */
export type FixId =
  | { kind: 'start-docker' }
  | { kind: 'restart-docker' }
  /** Advice, not an action: how to be allowed to use Docker's socket. */
  | { kind: 'docker-permission-help' }
  /** Advice, not an action: where to get Docker. */
  | { kind: 'install-docker-help' }
  | { kind: 'start-cluster'; cluster: string }
  | { kind: 'restart-cluster'; cluster: string }
  | { kind: 'repair-context'; context: string }
  | { kind: 'use-context'; context: string }
  | { kind: 'restart-server' }
  /** Look again at Docker and every cluster now, instead of at the next turn. */
  | { kind: 'refresh-status' }
  /** `kind load docker-image IMAGE --name CLUSTER` (run by the supervisor's cluster room): `load-image:CLUSTER:IMAGE`. */
  | { kind: 'load-image'; cluster: string; image: string }
  /** `kind delete cluster --name CLUSTER`, its tasks cancelled first (the cluster room). */
  | { kind: 'delete-cluster'; cluster: string };

export type FixKind = FixId['kind'];

/** What each kind acts on: nothing, a cluster's name or a context's name (`KIND:NAME`). */
const TARGET_OF = {
  'start-docker': 'none',
  'restart-docker': 'none',
  'docker-permission-help': 'none',
  'install-docker-help': 'none',
  'start-cluster': 'cluster',
  'restart-cluster': 'cluster',
  'repair-context': 'context',
  'use-context': 'context',
  'restart-server': 'none',
  'refresh-status': 'none',
  'load-image': 'cluster-image',
  'delete-cluster': 'cluster',
} as const satisfies Record<FixKind, 'none' | 'cluster' | 'context' | 'cluster-image'>;

export const FIX_KINDS = Object.keys(TARGET_OF) as FixKind[];

const isFixKind = (s: string): s is FixKind => Object.hasOwn(TARGET_OF, s);

/** The id as text: `start-docker`, `start-cluster:dev`, `use-context:arn:aws:eks:...`. */
export function formatFixId(fix: FixId): string {
  switch (fix.kind) {
    case 'start-cluster':
    case 'restart-cluster':
    case 'delete-cluster':
      return `${fix.kind}:${fix.cluster}`;
    case 'load-image':
      // Cluster names have no colon (kind's rule); the image may (`app:1`): the cluster comes first.
      return `${fix.kind}:${fix.cluster}:${fix.image}`;
    case 'repair-context':
    case 'use-context':
      return `${fix.kind}:${fix.context}`;
    case 'start-docker':
    case 'restart-docker':
    case 'docker-permission-help':
    case 'install-docker-help':
    case 'restart-server':
    case 'refresh-status':
      return fix.kind;
    default:
      return unhandled(fix);
  }
}

/** Text that names no fix Kindtray knows: a value callers answer with (HTTP 404, CLI usage error), never a thrown string. */
export interface UnknownFix {
  code: 'unknown-fix';
  /** The text as given. */
  id: string;
  message: string;
}

export type ParsedFixId = { ok: true; fix: FixId } | { ok: false; error: UnknownFix };

/** The list the CLI and the errors show: `start-docker, start-cluster:NAME, repair-context:CONTEXT, ...`. */
export const FIX_ID_FORMS: readonly string[] = FIX_KINDS.map((k) => {
  const target = TARGET_OF[k];
  return target === 'none' ? k : `${k}:${target === 'cluster' ? 'NAME' : target === 'cluster-image' ? 'CLUSTER:IMAGE' : 'CONTEXT'}`;
});

/** `start-cluster:dev` → `{ kind: 'start-cluster', cluster: 'dev' }`; anything else is an UnknownFix saying why. */
export function parseFixId(text: string): ParsedFixId {
  const unknown = (why: string): ParsedFixId => ({ ok: false, error: { code: 'unknown-fix', id: text, message: why } });
  const colon = text.indexOf(':');
  // Split at the first colon only: context names may contain colons (EKS ARNs).
  const kind = colon < 0 ? text : text.slice(0, colon);
  const target = colon < 0 ? undefined : text.slice(colon + 1);
  const shown = JSON.stringify(text.slice(0, 80));
  if (!isFixKind(kind)) return unknown(`unknown fix ${shown}; fixes are ${FIX_ID_FORMS.join(', ')}`);
  const wants = TARGET_OF[kind];
  if (wants === 'none' && target !== undefined) return unknown(`fix ${kind} takes no name: ${kind}`);
  if (wants === 'cluster-image') {
    const at = (target ?? '').indexOf(':');
    if (!target || at <= 0 || at === target.length - 1) return unknown(`fix ${kind} needs a cluster and an image: ${kind}:CLUSTER:IMAGE`);
    return { ok: true, fix: { kind: 'load-image', cluster: target.slice(0, at), image: target.slice(at + 1) } };
  }
  if (wants !== 'none' && !target) return unknown(`fix ${kind} needs a ${wants} name: ${kind}:${wants === 'cluster' ? 'NAME' : 'CONTEXT'}`);
  return { ok: true, fix: withTarget(kind, target ?? '') };
}

function withTarget(kind: FixKind, target: string): FixId {
  switch (kind) {
    case 'start-cluster':
    case 'restart-cluster':
    case 'delete-cluster':
      return { kind, cluster: target };
    case 'repair-context':
    case 'use-context':
      return { kind, context: target };
    case 'load-image':
      // parseFixId splits its two names itself; never reached with one.
      return { kind, cluster: target, image: '' };
    default:
      return { kind };
  }
}

/** Whether `text` names a fix Kindtray knows. */
export const isFixId = (text: string): boolean => parseFixId(text).ok;

/** The button's words. */
export function fixLabel(fix: FixId): string {
  switch (fix.kind) {
    case 'start-docker':
      return 'Start Docker';
    case 'restart-docker':
      return 'Restart Docker';
    case 'docker-permission-help':
      return 'How to get access to Docker';
    case 'install-docker-help':
      return 'How to install Docker';
    case 'start-cluster':
      return `Start cluster ${fix.cluster}`;
    case 'restart-cluster':
      return `Restart cluster ${fix.cluster}`;
    case 'repair-context':
      return `Repair context ${fix.context}`;
    case 'use-context':
      return `Switch to context ${fix.context}`;
    case 'restart-server':
      return 'Restart server';
    case 'refresh-status':
      return 'Check again';
    case 'load-image':
      return `Load ${fix.image} into cluster ${fix.cluster}`;
    case 'delete-cluster':
      return `Delete cluster ${fix.cluster}`;
    default:
      return unhandled(fix);
  }
}

/** A fix as problems and issues carry it: its id as text and its label. */
export const fixOf = (fix: FixId, label = fixLabel(fix)): Fix => ({ id: formatFixId(fix), label });

/** Ready-made fixes, for the places that offer one. */
export const FIXES = {
  startDocker: fixOf({ kind: 'start-docker' }),
  restartDocker: fixOf({ kind: 'restart-docker' }),
  dockerPermissionHelp: fixOf({ kind: 'docker-permission-help' }),
  installDockerHelp: fixOf({ kind: 'install-docker-help' }),
  startCluster: (cluster: string): Fix => fixOf({ kind: 'start-cluster', cluster }),
  restartCluster: (cluster: string): Fix => fixOf({ kind: 'restart-cluster', cluster }),
  repairContext: (context: string): Fix => fixOf({ kind: 'repair-context', context }),
  useContext: (context: string): Fix => fixOf({ kind: 'use-context', context }),
  restartServer: fixOf({ kind: 'restart-server' }),
  refreshStatus: fixOf({ kind: 'refresh-status' }),
  loadImage: (cluster: string, image: string): Fix => fixOf({ kind: 'load-image', cluster, image }),
  deleteCluster: (cluster: string): Fix => fixOf({ kind: 'delete-cluster', cluster }),
  /** The same fix as restartServer, worded for a server that is not running at all. */
  startServer: fixOf({ kind: 'restart-server' }, 'Start server'),
} as const satisfies Record<string, Fix | ((name: string) => Fix) | ((cluster: string, image: string) => Fix)>;

/** A fix id as text with its label: the given label, else the one its id implies, else the id itself. */
export function labelledFix(fix: { id: string; label?: string | undefined }): Fix {
  if (fix.label) return { id: fix.id, label: fix.label };
  const parsed = parseFixId(fix.id);
  return parsed.ok ? fixOf(parsed.fix) : { id: fix.id, label: fix.id };
}

/**
 * Fixes that mean "the target is down for now": a launch asked to wait
 * (`--when-ready`) may wait for these, since they come back by themselves or in one click.
 */
export function isWaitableFix(text: string): boolean {
  const parsed = parseFixId(text);
  if (!parsed.ok) return false;
  const kind = parsed.fix.kind;
  return kind === 'start-docker' || kind === 'start-cluster' || kind === 'restart-cluster';
}

/**
 * What running a fix answers, everywhere (HTTP, CLI, IPC, the tray). A fix that
 * ran and failed is `ok: false`; text that names no fix also carries
 * `code: 'unknown-fix'` (HTTP 404), and nothing ran.
 */
export interface FixResult {
  ok: boolean;
  fixId: string;
  message: string;
  durationMs: number;
  code?: 'unknown-fix';
  /** A fix that carries a chain (Start Docker: the engine, then its clusters, then their contexts): each step as it ended. */
  steps?: FixStep[];
}

export const FIX_STEP_STATES = ['running', 'done', 'failed', 'skipped'] as const;

/** One step of a fix's chain, as the result carries it and the event stream tells it while it runs. */
export interface FixStep {
  /** Stable within the fix: `docker`, `cluster:dev`, `context:kind-dev`. */
  id: string;
  label: string;
  state: (typeof FIX_STEP_STATES)[number];
  message?: string;
  /** Epoch ms of this state. */
  at: number;
}

/** "✓ Start cluster dev: running (12.1 s)"-style line for the CLI and logs. */
export function formatFixStep(step: FixStep): string {
  const mark = { running: '…', done: '✓', failed: '✗', skipped: '-' }[step.state];
  return `${mark} ${step.label}${step.message ? `: ${step.message}` : ''}`;
}

/** The answer for text that names no fix. */
export const unknownFixResult = (error: UnknownFix): FixResult => ({ ok: false, fixId: error.id, message: error.message, durationMs: 0, code: error.code });

/** Reached only when a FixId kind is not handled above: the compiler says which. */
function unhandled(fix: never): never {
  throw new Error(`unhandled fix ${JSON.stringify(fix)}`);
}
