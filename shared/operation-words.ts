// How a cluster operation is said, in every view (the dashboard's progress,
// the tray's line while one runs): its verb, its title, and kind's own words
// cleaned of the emoji many Linux desktops draw as empty boxes.

import type { ClusterOperation, OperationKind } from './contracts/clusters.ts';

/** "Creating", "Deleting", …: an operation kind as the start of a sentence. */
export const OPERATION_VERBS: Record<OperationKind, { doing: string; done: string }> = {
  create: { doing: 'Creating', done: 'Created' },
  delete: { doing: 'Deleting', done: 'Deleted' },
  start: { doing: 'Starting', done: 'Started' },
  stop: { doing: 'Stopping', done: 'Stopped' },
  'load-image': { doing: 'Loading', done: 'Loaded' },
};

/** kind's words without its emoji (`Preparing nodes 📦`). The words stay kind's. */
export const withoutEmoji = (text: string): string =>
  text.replace(/[\p{Extended_Pictographic}\u{FE0F}\u{200D}]/gu, '').replace(/[ \t]{2,}/g, ' ').trimEnd();

/** "Creating cluster dev", "Created cluster dev", "Creating cluster dev failed", "Loading my-app:dev into dev". */
export function operationTitle(op: Pick<ClusterOperation, 'kind' | 'cluster' | 'state' | 'image'>): string {
  const verb = OPERATION_VERBS[op.kind];
  const what = op.kind === 'load-image' ? `${op.image ?? 'image'} into ${op.cluster}` : `cluster ${op.cluster}`;
  if (op.state === 'succeeded') return `${verb.done} ${what}`;
  return `${verb.doing} ${what}${op.state === 'failed' ? ' failed' : op.state === 'cancelled' ? ': cancelled' : ''}`;
}

/** The step running now (or the last one), in kind's words: what a one-line progress says. */
export function currentStep(op: Pick<ClusterOperation, 'steps'>): string | undefined {
  const step = op.steps.findLast((s) => s.state === 'running') ?? op.steps.at(-1);
  return step ? withoutEmoji(step.title).trim() : undefined;
}
