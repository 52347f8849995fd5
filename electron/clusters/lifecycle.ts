// Stopping a cluster (its node containers, workers first, each under the
// deadline) and loading a local image into its nodes (`kind load
// docker-image`, with a step per node it imports into; an error says which
// node and why, from kind's own error and the node command's output).

import type Docker from 'dockerode';
import { CLUSTER_DEADLINES } from '../../shared/contracts/clusters.ts';
import { KIND_CLUSTER_LABEL, KIND_ROLE_LABEL } from '../../shared/constants.ts';
import { formatMs, withDeadline } from '../../shared/deadline.ts';
import type { ClusterHost } from './host.ts';
import { kindError, runKind } from './kind-cli.ts';
import type { OperationHandle } from './operations.ts';

/** Stops every node container of `name`, workers first (the control plane last, as it is started first). */
export async function stopCluster(host: ClusterHost, op: OperationHandle, name: string): Promise<void> {
  await withDeadline(`stopping cluster ${name}`, CLUSTER_DEADLINES.stop, async (signal) => {
    const list = await host.docker().listContainers({ all: true, filters: JSON.stringify({ label: [`${KIND_CLUSTER_LABEL}=${name}`] }), abortSignal: signal } as Docker.ContainerListOptions);
    if (list.length === 0) throw new Error(`no node containers for cluster ${name}`);
    list.sort((a, b) => Number(a.Labels[KIND_ROLE_LABEL] === 'control-plane') - Number(b.Labels[KIND_ROLE_LABEL] === 'control-plane'));
    for (const c of list) {
      const node = (c.Names[0] ?? c.Id).replace(/^\//, '');
      if (c.State !== 'running') continue;
      await op.step(`Stopping node ${node}`, () => host.docker().getContainer(c.Id).stop({ t: 10, abortSignal: signal } as object));
    }
  }, op.signal);
  await host.refresh().catch(() => undefined);
}

/** `Image: "IMG" with ID "sha256:…" not yet present on node "NODE", loading...` → NODE. */
export function nodeOfLoadLine(line: string): string | undefined {
  return /not yet present on node "([^"]+)"/.exec(line)?.[1];
}

/** The node a failed `docker exec … NODE ctr … images import` names, and the output it gave. */
export function explainLoadFailure(stderr: string, fallback: string): { node?: string; message: string } {
  const node = /docker exec (?:-{1,2}[\w-]+(?:=\S+)?\s+)*([\w.-]+)\s+ctr\b/.exec(stderr)?.[1];
  const output = /Command Output:\s*(.+)/.exec(stderr)?.[1]?.trim();
  if (/not present locally/.test(fallback)) return { message: `${fallback}: build or pull it into the local Docker first` };
  if (node) return { node, message: `node ${node} could not import the image: ${output || fallback}` };
  return { message: fallback };
}

/** `kind load docker-image IMAGE --name NAME`, each node it imports into as a step. */
export async function loadImage(host: ClusterHost, op: OperationHandle, name: string, image: string, kindPath: string): Promise<void> {
  await op.step(`Checking ${image} in the local Docker`, async () => {
    const found = await withDeadline(`docker image inspect ${image}`, CLUSTER_DEADLINES.quick, async (signal) => {
      const img = host.docker().getImage(image);
      return (img.inspect as (o: object) => Promise<unknown>).call(img, { abortSignal: signal }).then(
        () => true,
        (e: { statusCode?: number }) => {
          if (e.statusCode === 404) return false;
          throw e;
        },
      );
    });
    if (!found) throw new Error(`image ${image} is not in the local Docker: build or pull it first (docker build -t ${image} . / docker pull ${image})`);
  });
  const saving = op.steps.begin(`Saving ${image} from Docker and importing it into the nodes of ${name}`);
  op.changed();
  const r = await runKind(kindPath, ['load', 'docker-image', image, '--name', name], {
    env: host.env,
    deadlineMs: CLUSTER_DEADLINES.loadImage,
    signal: op.signal,
    onLine: (l) => {
      const node = nodeOfLoadLine(l);
      if (node) op.steps.begin(`Importing into node ${node}`, true);
      op.changed(l);
    },
  });
  if (r.code === 0) {
    op.steps.end(saving, 'succeeded');
    if (!op.steps.steps.some((s) => s.title.startsWith('Importing into node'))) {
      op.steps.end(op.steps.begin(`${image} was already on every node of ${name}`), 'succeeded');
    }
    return;
  }
  const why = explainLoadFailure(r.stderr, kindError(r, 'kind load docker-image', CLUSTER_DEADLINES.loadImage));
  const failedNode = why.node ? op.steps.find(`Importing into node ${why.node}`) : undefined;
  if (failedNode) op.steps.end(failedNode, 'failed');
  if (r.timedOut) throw new Error(`kind load docker-image did not finish within ${formatMs(CLUSTER_DEADLINES.loadImage)}`);
  throw new Error(why.message);
}
