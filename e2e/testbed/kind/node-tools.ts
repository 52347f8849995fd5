// The containerd CLIs of a testbed node (ctr, crictl, `containerd config
// dump`): one busybox script, node/containerd-tools.sh, bind-mounted read-only
// under each name into every node container, so `kind load docker-image` and
// a product's `docker exec NODE crictl images` work as on a KinD node.

import { join } from 'node:path';

export const NODE_TOOLS_SCRIPT = join(import.meta.dirname, 'node', 'containerd-tools.sh');

/** Where the script keeps a node's images (REF, ID, SIZE per line), in the node's writable layer. */
export const NODE_IMAGE_STORE = '/var/lib/containerd/io.containerd.testbed/images.tsv';

/** Docker bind specs that put ctr, crictl and containerd on every node's PATH. */
export function nodeToolBinds(): string[] {
  return ['ctr', 'crictl', 'containerd'].map((tool) => `${NODE_TOOLS_SCRIPT}:/usr/local/bin/${tool}:ro`);
}
