// The fixes that write kubeconfig: repair a context's stale server (the port
// the cluster's container publishes now) and switch the current context. Each
// edit keeps the file's comments, layout and mode, and is atomic.

import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { ContextHealth } from '../../shared/snapshot.ts';
import { FixError, type FixContext } from './context.ts';

function editKubeconfig(file: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new FixError(`${file} is not valid YAML: ${doc.errors[0]?.message}`);
  edit(doc);
  const tmp = `${file}.kindtray-${process.pid}.tmp`;
  writeFileSync(tmp, doc.toString(), { mode: statSync(file).mode & 0o777 });
  renameSync(tmp, file);
}

/** Whether repair-context can mend this context now. */
export const repairable = (c: ContextHealth | undefined): boolean =>
  c?.state === 'stale-endpoint' && c.expectedServer !== undefined && c.file !== undefined && c.cluster !== undefined;

export function repairContext(ctx: FixContext, contextName: string): string {
  const c = ctx.snapshot().contexts.find((x) => x.name === contextName);
  if (!c) throw new FixError(`no context ${contextName} in the kubeconfig`);
  if (c.state !== 'stale-endpoint' || !c.expectedServer || !c.file || !c.cluster) {
    throw new FixError(`context ${contextName} does not need repair (${c.state})`);
  }
  const { file, cluster, expectedServer } = c;
  editKubeconfig(file, (doc) => {
    const clusters = doc.get('clusters');
    if (!isSeq(clusters)) throw new FixError(`${file} has no clusters list`);
    const entry = clusters.items.find((i) => isMap(i) && i.get('name') === cluster);
    if (!isMap(entry)) throw new FixError(`${file} defines no cluster ${cluster}`);
    entry.setIn(['cluster', 'server'], expectedServer);
  });
  return `context ${contextName} now points at ${expectedServer}`;
}

export function useContext(ctx: FixContext, contextName: string): string {
  const s = ctx.snapshot();
  if (!s.contexts.some((c) => c.name === contextName)) throw new FixError(`no context ${contextName} in the kubeconfig`);
  // kubectl writes current-context to the first file of KUBECONFIG (or ~/.kube/config).
  const file = s.kubeconfig?.files.find((f) => f.state === 'ok')?.path;
  if (!file) throw new FixError('no readable kubeconfig file to write current-context to');
  editKubeconfig(file, (doc) => doc.set('current-context', contextName));
  return `current context is now ${contextName}`;
}
