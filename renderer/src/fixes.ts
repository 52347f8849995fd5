// A fix as the server names it may come without its label (the worker's 503
// says only `{ fix: { id: 'restart-server' } }`): the label then comes from
// shared/problems.ts, where every fix is named once.

import { FIXES, parseFixId } from '../../shared/problems.ts';
import type { Fix } from '../../shared/snapshot.ts';

const TARGETED: Record<string, (name: string) => Fix> = {
  'start-cluster': FIXES.startCluster,
  'restart-cluster': FIXES.restartCluster,
  'repair-context': FIXES.repairContext,
  'use-context': FIXES.useContext,
};

export function labelled(fix: { id: string; label?: string | undefined }): Fix {
  if (fix.label) return { id: fix.id, label: fix.label };
  const parsed = parseFixId(fix.id);
  if (parsed?.target !== undefined) {
    const make = TARGETED[parsed.kind];
    if (make) return make(parsed.target);
  }
  const known = (Object.values(FIXES) as (Fix | ((name: string) => Fix))[]).find((f): f is Fix => typeof f !== 'function' && f.id === fix.id);
  return known ?? { id: fix.id, label: fix.id };
}
