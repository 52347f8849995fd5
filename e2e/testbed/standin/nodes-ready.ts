// The nodes' Ready condition, kept in line with the fault switch and with
// KinD's known multi-node failure: after a Docker (engine) restart, the nodes'
// containers come back with new addresses and the workers' kubelets no longer
// reach the API server, so the control plane marks each worker
// Ready=Unknown ("Kubelet stopped posting node status.") until the cluster is
// restarted. A cluster created with `workersLostOnEngineRestart` models it:
// the engine's start script writes a fresh id into every cluster's folder
// (ENGINE_BOOT_FILE); a stand-in that starts under another engine boot than
// the one it last ran under has lost its workers; one started again under the
// same boot (a cluster restart) has them back.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENGINE_BOOT_FILE } from './protocol.ts';
import type { Fault, StandinConfig } from './protocol.ts';
import { kubeTime } from './store.ts';
import type { Store } from './store.ts';

interface ReadyCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

const READY = { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
const NOT_READY = { status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false (testbed fault: notready)' };
const LOST = { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};

export class NodeReadiness {
  /** Workers lost to an engine restart, for this run of the stand-in. */
  readonly lost: ReadonlySet<string>;

  /** `stateFile`: where the API's objects are saved (the boot this run started under is kept beside it). */
  constructor(config: StandinConfig, clusterDir: string, stateFile: string) {
    const lost = new Set<string>();
    if (config.workersLostOnEngineRestart) {
      const boot = readText(join(clusterDir, ENGINE_BOOT_FILE)) ?? 'first';
      const seenFile = join(dirname(stateFile), 'engine-boot-seen');
      const seen = readText(seenFile);
      if (seen !== undefined && seen !== boot) for (const n of config.nodes) if (n.role === 'worker') lost.add(n.name);
      mkdirSync(dirname(seenFile), { recursive: true });
      writeFileSync(seenFile, `${boot}\n`);
      if (lost.size > 0) console.log(`stand-in: the engine restarted since this cluster last ran: workers ${[...lost].join(', ')} stay NotReady until the cluster restarts`);
    }
    this.lost = lost;
  }

  /** Brings each node's Ready condition in line with the fault in force and the workers lost (a MODIFIED event when one changes). */
  sync(store: Store, fault: Fault): void {
    for (const node of store.list('nodes')) {
      const want = fault.kind === 'notready' ? NOT_READY : this.lost.has(node.metadata.name) ? LOST : READY;
      const conditions = (node.status?.conditions as ReadyCondition[] | undefined) ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      if (ready?.status === want.status && ready.reason === want.reason) continue;
      const fresh = structuredClone(node);
      const now = kubeTime();
      const others = conditions.filter((c) => c.type !== 'Ready');
      fresh.status = { ...fresh.status, conditions: [...others, { type: 'Ready', ...want, lastHeartbeatTime: now, lastTransitionTime: now }] };
      store.update('nodes', fresh);
    }
  }
}
