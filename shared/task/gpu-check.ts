// Whether a cluster's nodes can offer the accelerators a task asks for, read
// as SkyPilot's Kubernetes backend reads them: the count from the node's
// `nvidia.com/gpu` capacity, the type from the first GPU label it knows. What
// the snapshot does not say (no GPU facts for a node) is "unknown", never "no".

import type { ClusterHealth, NodeHealth } from '../snapshot.ts';
import { formatAccelerator } from './accelerators.ts';
import type { AcceleratorRequest } from './accelerators.ts';
import { listWords } from './issues.ts';

/**
 * What a node may say of its GPUs, beside NodeHealth: its `nvidia.com/gpu`
 * capacity and its labels. Optional: a snapshot without them answers "unknown".
 */
export interface NodeGpuFacts {
  gpus?: number;
  labels?: Record<string, string>;
}

/**
 * The labels SkyPilot reads a GPU's type from, in its order: its own, NVIDIA's
 * GPU feature discovery, GKE, Karpenter (EKS), CoreWeave.
 */
export const GPU_TYPE_LABELS = [
  'skypilot.co/accelerator',
  'nvidia.com/gpu.product',
  'cloud.google.com/gke-accelerator',
  'karpenter.k8s.aws/instance-gpu-name',
  'gpu.nvidia.com/class',
] as const;

type Offer = 'yes' | 'no' | 'unknown';

const tokens = (s: string): string[] => s.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t !== '');

/** The node's GPU type label (the first SkyPilot reads), if it has one. */
export function gpuLabelOf(node: NodeGpuFacts): { key: string; value: string } | undefined {
  for (const key of GPU_TYPE_LABELS) {
    const value = node.labels?.[key];
    if (value) return { key, value };
  }
  return undefined;
}

/** The node's GPU type label value, if it has one. */
export function gpuTypeOf(node: NodeGpuFacts): string | undefined {
  return gpuLabelOf(node)?.value;
}

/** `H100` matches `NVIDIA-H100-80GB-HBM3`, `nvidia-h100-80gb`, `h100`; `A100-80GB` needs both words. */
export function typeMatches(requested: string, label: string): boolean {
  const have = new Set(tokens(label));
  const want = tokens(requested);
  return want.length > 0 && want.every((t) => have.has(t));
}

function offers(node: NodeHealth & NodeGpuFacts, want: AcceleratorRequest): Offer {
  if (node.gpus === undefined) return 'unknown';
  if (node.gpus < want.count) return 'no';
  const type = gpuTypeOf(node);
  if (type === undefined) return node.gpus > 0 ? 'unknown' : 'no';
  return typeMatches(want.name, type) ? 'yes' : 'no';
}

export type AcceleratorAnswer =
  | { ok: true; chosen: AcceleratorRequest; unconfirmed?: string }
  | { ok: false; message: string };

/** The first alternative some Ready node offers; else why none can run here. */
export function checkAccelerators(alternatives: readonly AcceleratorRequest[], context: string, cluster: ClusterHealth): AcceleratorAnswer {
  const ready = cluster.nodes.filter((n) => n.ready !== false) as (NodeHealth & NodeGpuFacts)[];
  const fractional = alternatives.find((a) => !Number.isInteger(a.count));
  if (fractional && alternatives.every((a) => !Number.isInteger(a.count))) {
    return { ok: false, message: `Kubernetes gives whole GPUs: ask for ${Math.ceil(fractional.count)} instead of ${formatAccelerator(fractional)}` };
  }
  let unknown: AcceleratorRequest | undefined;
  for (const want of alternatives.filter((a) => Number.isInteger(a.count))) {
    const answers = ready.map((n) => offers(n, want));
    const node = ready[answers.indexOf('yes')];
    const label = node && gpuLabelOf(node);
    // The Pod is pinned to nodes with the label the offering node advertised, as SkyPilot pins it.
    if (label) return { ok: true, chosen: { name: want.name, count: want.count, nodeLabel: label } };
    if (answers.includes('unknown')) unknown ??= want;
  }
  const wanted = listWords(alternatives.map(formatAccelerator));
  if (unknown) {
    return { ok: true, chosen: unknown, unconfirmed: `the nodes of cluster ${context} do not say which GPUs they have: ${formatAccelerator(unknown)} could not be checked` };
  }
  const have = ready.filter((n) => (n.gpus ?? 0) > 0).map((n) => `${n.name} has ${gpuTypeOf(n) ?? 'GPU'}:${n.gpus ?? 0}`);
  const what = have.length > 0 ? `: ${listWords(have)}` : ': none has nvidia.com/gpu';
  return { ok: false, message: `no node here offers ${wanted} (cluster ${context}${what})` };
}
