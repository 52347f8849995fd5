// kind's commands on existing clusters, against a testbed's engine: get
// clusters / nodes / kubeconfig, export kubeconfig, delete cluster. Clusters
// are found from Docker's labels exactly as kind finds them
// (io.x-k8s.kind.cluster / io.x-k8s.kind.role), so clusters the testbed made
// directly (tb.createCluster) are kind clusters too.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { clusterDir } from '../cluster.ts';
import { KIND_API_CONTAINER_PORT, KIND_CLUSTER_LABEL, KIND_ROLE_LABEL, kindContextName } from '../constants.ts';
import { DockerApiError } from '../docker-api.ts';
import { mergeKindEntry, removeKindEntry } from '../kubeconfig.ts';
import type { KindEntry } from '../kubeconfig.ts';
import { pkiPaths } from '../pki.ts';
import type { Logger } from './output.ts';
import { KindError, runError } from './output.ts';
import type { Engine } from './world.ts';
import { engine, kubeconfigPathForMerge, kubeconfigPaths } from './world.ts';

export interface KindNode {
  name: string;
  role: string;
  id: string;
}

const dockerPsNodes = (cluster: string) => ['docker', 'ps', '-a', '--filter', `label=${KIND_CLUSTER_LABEL}=${cluster}`, '--format', '{{.Names}}'];
const dockerPsClusters = ['docker', 'ps', '-a', '--filter', `label=${KIND_CLUSTER_LABEL}`, '--format', `{{.Label "${KIND_CLUSTER_LABEL}"}}`];

/** provider.ListNodes: the cluster's node containers, running or not (names as `docker ps` gives them). */
export async function listNodes(eng: Engine, cluster: string): Promise<KindNode[]> {
  const containers = await eng.api.listContainers([`${KIND_CLUSTER_LABEL}=${cluster}`]);
  return containers.map((c) => ({ name: c.Names[0]?.replace(/^\//, '') ?? c.Id, role: c.Labels[KIND_ROLE_LABEL] ?? '', id: c.Id }));
}

/** provider.ListClusters: the sorted, distinct cluster labels. */
export async function listClusters(eng: Engine): Promise<string[]> {
  const containers = await eng.api.listContainers([KIND_CLUSTER_LABEL]);
  return [...new Set(containers.map((c) => c.Labels[KIND_CLUSTER_LABEL]).filter((n): n is string => !!n))].sort();
}

/** `kind get clusters`: names on stdout, or "No kind clusters found." on stderr. */
export async function getClusters(logger: Logger): Promise<void> {
  const eng = await engine(dockerPsClusters).catch((e: KindError) => Promise.reject(e.wrap('failed to list clusters')));
  const clusters = await listClusters(eng);
  if (!clusters.length) logger.info('No kind clusters found.');
  for (const c of clusters) process.stdout.write(`${c}\n`);
}

/** `kind get nodes [--name N | -A]`. */
export async function getNodes(logger: Logger, name: string, all: boolean): Promise<void> {
  const eng = await engine(dockerPsNodes(name)).catch((e: KindError) => Promise.reject(e.wrap('failed to list nodes')));
  const names = all ? await listClusters(eng) : [name];
  const nodes = (await Promise.all(names.map((n) => listNodes(eng, n)))).flat();
  if (!nodes.length) logger.info(all ? 'No kind nodes for any cluster.' : `No kind nodes found for cluster "${name}".`);
  for (const n of nodes) process.stdout.write(`${n.name}\n`);
}

/** The `kind-NAME` kubeconfig entries of a cluster: the API's published port (or, internal, the node's name) and the testbed's certificates. */
export async function kindEntry(eng: Engine, name: string, internal: boolean): Promise<KindEntry> {
  const nodes = await listNodes(eng, name);
  const cp = nodes.find((n) => n.role === 'control-plane');
  if (!cp) throw new KindError(`could not locate any control plane nodes for cluster named '${name}'. Use the --name option to select a different cluster`);
  let server = `https://${cp.name}:${KIND_API_CONTAINER_PORT}`;
  const info = await eng.api.inspectContainer(cp.id);
  // kind reads the node's /etc/kubernetes/admin.conf with `docker exec`, which a stopped node refuses.
  if (!info.State.Running) {
    throw runError(['docker', 'exec', '--privileged', cp.name, 'cat', '/etc/kubernetes/admin.conf'], 1, `Error response from daemon: container ${cp.id} is not running`)
      .wrap('failed to get cluster internal kubeconfig');
  }
  if (!internal) {
    const binding = info.NetworkSettings.Ports[`${KIND_API_CONTAINER_PORT}/tcp`]?.[0];
    if (!binding) throw new KindError(`failed to get api server port: the container ${cp.name} publishes no port ${KIND_API_CONTAINER_PORT}`);
    server = `https://127.0.0.1:${binding.HostPort}`;
  }
  const pki = pkiPaths(join(eng.dir, 'pki'));
  const b64 = (p: string) => readFileSync(p).toString('base64');
  return { context: kindContextName(name), server, caData: b64(pki.caCertPath), clientCertData: b64(pki.clientCertPath), clientKeyData: b64(pki.clientKeyPath) };
}

/** A kubeconfig document with one cluster's entries, in kind's field order. */
export function kubeconfigText(e: KindEntry): string {
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': e.caData, server: e.server }, name: e.context }],
    contexts: [{ context: { cluster: e.context, user: e.context }, name: e.context }],
    'current-context': e.context,
    kind: 'Config',
    preferences: {},
    users: [{ name: e.context, user: { 'client-certificate-data': e.clientCertData, 'client-key-data': e.clientKeyData } }],
  }, { indentSeq: false });
}

/** `kind get kubeconfig [--name N] [--internal]`: prints it on stdout. */
export async function getKubeconfig(name: string, internal: boolean): Promise<void> {
  const eng = await engine(dockerPsNodes(name));
  process.stdout.write(`${kubeconfigText(await kindEntry(eng, name, internal))}\n`);
}

/** kubeconfig.Export: merges the entries into the kubeconfig kind would write and makes the context current. */
export async function exportKubeconfig(eng: Engine, name: string, explicitPath: string, internal = false): Promise<void> {
  const entry = await kindEntry(eng, name, internal);
  const path = kubeconfigPathForMerge(explicitPath);
  try {
    await mergeKindEntry(path, entry);
  } catch (err) {
    throw new KindError(`failed to lock config file: ${(err as Error).message}`);
  }
}

/** `kind export kubeconfig`. */
export async function exportKubeconfigCommand(logger: Logger, name: string, explicitPath: string, internal: boolean): Promise<void> {
  const eng = await engine(dockerPsNodes(name));
  await exportKubeconfig(eng, name, explicitPath, internal);
  logger.info(`Set kubectl context to "kind-${name}"`);
}

/**
 * delete.Cluster: removes the kubeconfig entries from every kubeconfig path,
 * then the node containers (`docker rm -f -v`), and says which. The testbed's
 * folder for the cluster (stand-in config, fault switch) goes with them.
 */
export async function deleteClusterNodes(eng: Engine, logger: Logger, name: string, explicitKubeconfig: string): Promise<void> {
  const nodes = await listNodes(eng, name);
  let kerr: Error | undefined;
  for (const path of kubeconfigPaths(explicitKubeconfig)) {
    try {
      await removeKindEntry(path, kindContextName(name));
    } catch (err) {
      kerr = new KindError(`failed to lock config file: ${(err as Error).message}`);
      logger.info(`ERROR: failed to update kubeconfig: ${kerr.message}`);
    }
  }
  if (nodes.length) {
    try {
      await Promise.all(nodes.map((n) => eng.api.removeContainer(n.id)));
    } catch (err) {
      const msg = err instanceof DockerApiError ? err.message.replace(/^docker \S+ \S+: \d+ /, '') : (err as Error).message;
      throw runError(['docker', 'rm', '-f', '-v', ...nodes.map((n) => n.name)], 1, `Error response from daemon: ${msg}`).wrap('failed to delete nodes');
    }
    logger.info(`Deleted nodes: [${nodes.map((n) => JSON.stringify(n.name)).join(' ')}]`);
  }
  rmSync(clusterDir(eng.dir, name), { recursive: true, force: true });
  if (kerr) throw kerr;
}

/** `kind delete cluster`: idempotent, like `rm -f`. */
export async function deleteCluster(logger: Logger, name: string, explicitKubeconfig: string): Promise<void> {
  logger.info(`Deleting cluster "${name}" ...`);
  try {
    const eng = await engine(dockerPsNodes(name)).catch((e: KindError) => Promise.reject(e.wrap('failed to list nodes').wrap('error listing nodes')));
    await deleteClusterNodes(eng, logger, name, explicitKubeconfig);
  } catch (err) {
    throw (err instanceof KindError ? err : new KindError((err as Error).message)).wrap(`failed to delete cluster "${name}"`);
  }
}

/** `kind delete clusters NAME… | --all`: deletes each, reports failures and goes on, then lists what went. */
export async function deleteClusters(logger: Logger, names: string[], all: boolean, explicitKubeconfig: string): Promise<void> {
  if (!all && !names.length) throw new KindError('no cluster names provided');
  const eng = await engine(dockerPsClusters).catch((e: KindError) => Promise.reject(all ? e.wrap('failed to list clusters').wrap('failed listing clusters for delete') : e));
  const targets = all ? await listClusters(eng) : names;
  const deleted: string[] = [];
  for (const name of targets) {
    try {
      await deleteClusterNodes(eng, logger, name, explicitKubeconfig);
      deleted.push(name);
    } catch (err) {
      logger.info(`failed to delete cluster "${name}": ${(err as Error).message}\n`);
    }
  }
  logger.info(`Deleted clusters: [${deleted.map((n) => JSON.stringify(n)).join(' ')}]`);
}
