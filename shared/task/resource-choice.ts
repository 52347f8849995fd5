// Which resources a task runs with on a cluster: its one set, or for any_of /
// ordered the first set the cluster can satisfy (in the written order for
// both: a local cluster has no prices to rank any_of by), each set checked for
// cpus and memory (node-capacity.ts) and accelerators (gpu-check.ts).

import type { ClusterHealth } from '../snapshot.ts';
import { formatAccelerator } from './accelerators.ts';
import { formatAmount } from './fields.ts';
import { checkAccelerators } from './gpu-check.ts';
import { itemPath } from './issues.ts';
import { capacityProblems } from './node-capacity.ts';
import type { TaskResources } from './resources-schema.ts';
import type { TaskSpec } from './schema.ts';

export interface ChosenResources {
  mode: 'any_of' | 'ordered';
  /** The set's place in the list, from 0. */
  index: number;
  /** In words: "accelerators T4:1, cpus 4". */
  summary: string;
}

export interface ResourceAnswer {
  /** The resources to launch with (accelerators narrowed to the one chosen). */
  resources: TaskResources;
  chosen?: ChosenResources;
  errors: { path: string; message: string }[];
  warnings: { path: string; message: string }[];
}

export function describeResources(r: TaskResources): string {
  const parts: string[] = [];
  if (r.accelerators?.length) parts.push(`accelerators ${r.accelerators.map(formatAccelerator).join(' or ')}`);
  if (r.cpus) parts.push(`cpus ${formatAmount(r.cpus)}`);
  if (r.memory) parts.push(`memory ${formatAmount(r.memory, ' GiB')}`);
  if (r.image) parts.push(`image ${r.image}`);
  return parts.length > 0 ? parts.join(', ') : 'no resource requests';
}

/** One set against the cluster: its problems, on `path`'s fields. */
function checkSet(r: TaskResources, path: string, task: TaskSpec, context: string, cluster: ClusterHealth): ResourceAnswer {
  const errors = capacityProblems({ ...task, resources: r }, context, cluster).map((e) => ({
    path: e.path.replace(/^resources/, path),
    message: e.message,
  }));
  const warnings: { path: string; message: string }[] = [];
  let resources = r;
  if (r.accelerators?.length) {
    const field = `${path}.accelerators`;
    const answer = checkAccelerators(r.accelerators, context, cluster);
    if (!answer.ok) errors.push({ path: field, message: answer.message });
    else {
      resources = { ...r, accelerators: [answer.chosen] };
      if (answer.unconfirmed) warnings.push({ path: field, message: answer.unconfirmed });
    }
  }
  return { resources, errors, warnings };
}

export function chooseResources(task: TaskSpec, context: string, cluster: ClusterHealth): ResourceAnswer {
  const choice = task.resourceChoice;
  if (!choice || choice.sets.length === 0) return checkSet(task.resources, 'resources', task, context, cluster);
  const list = `resources.${choice.mode}`;
  const answers = choice.sets.map((set, i) => checkSet(set, itemPath(list, i), task, context, cluster));
  const index = answers.findIndex((a) => a.errors.length === 0);
  const picked = answers[index];
  if (picked) {
    return { ...picked, chosen: { mode: choice.mode, index, summary: describeResources(picked.resources) } };
  }
  const why = answers.map((a, i) => `set ${i + 1}: ${a.errors.map((e) => e.message).join('; ')}`).join(' · ');
  return {
    resources: task.resources,
    errors: [{ path: list, message: `no set in ${choice.mode} fits cluster ${context}: ${why}` }],
    warnings: [],
  };
}
