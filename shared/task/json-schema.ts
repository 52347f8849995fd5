// A JSON Schema (draft-07, what YAML editors read best) of the task format, for
// completion and checking in an editor: `kindtray schema > task.schema.json`.
// Built from the same field lists and hints as the checker (field-names.ts,
// hint-fields.ts), so a field cannot be known to one and not the other; the
// checker stays the authority (SkyPilot names, ports, images …).

import { RESOURCE_FIELDS, TASK_FIELDS } from './field-names.ts';
import { RESOURCE_HINTS, TASK_HINTS } from './hint-fields.ts';
import type { HintField, Shape } from './hint-fields.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

const str: Schema = { type: 'string' };
const amount = (what: string, example: string): Schema => ({
  description: `${what}: a number, or text like ${example}`,
  anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string' }],
});
const size = (what: string): Schema => ({ description: what, anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+\\s*([kKmMgGtTpP][iI]?[bB]?)?$' }] });
const accelerators: Schema = {
  description: 'GPUs on one node: "T4:1", {A100: 8}, a set {V100: 1, A100: 1} (any one) or a list [V100:1, A100:1] (in order). Checked against the nodes\' nvidia.com/gpu and GPU type labels.',
  anyOf: [
    { type: 'string' },
    { type: 'object', additionalProperties: { anyOf: [{ type: 'number' }, { type: 'null' }] } },
    { type: 'array', items: { type: 'string' } },
  ],
};

const SHAPE_SCHEMA: Record<Shape, Schema> = {
  boolean: { type: 'boolean' },
  text: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'integer' },
  mapping: { type: 'object' },
  list: { type: 'array' },
};

function hintSchema(hint: HintField): Schema {
  const shapes = hint.shapes.map((s) => SHAPE_SCHEMA[s]);
  const body: Schema = shapes.length === 1 && shapes[0] ? { ...shapes[0] } : { anyOf: shapes };
  return { ...body, description: `Accepted and ignored by Kindtray: ${hint.why}.` };
}

const RESOURCE_PROPS: Record<string, Schema> = {
  infra: { description: 'Where to run: "k8s" (the default cluster) or "k8s/CONTEXT". A cloud (aws, gcp/us-central1 …) is valid SkyPilot; the cluster check says which cluster to use instead.', ...str },
  cloud: { description: 'Older form of infra: "kubernetes" (with region: CONTEXT) is infra k8s/CONTEXT.', ...str },
  cpus: amount('CPUs', '"2+" (at least 2)'),
  memory: amount('Memory in GiB', '"8+", "32GB" or "4x" (4 GiB per CPU)'),
  accelerators,
  gpus: { ...accelerators, description: 'Another name for accelerators.' },
  ports: {
    description: 'Ports the task listens on: 8080, "9000-9002", or a list of these.',
    anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string' }, { type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'string' }] } }, { type: 'null' }],
  },
  image_id: { description: 'The container image: "docker:python:3.12-slim" or a plain reference; a per-region map uses its first image.', anyOf: [str, { type: 'object' }, { type: 'null' }] },
  disk_size: size('Accepted and ignored by Kindtray: the Pod uses the node\'s disk (no ephemeral storage is requested).'),
  ephemeral_storage: size('Older name of disk_size; accepted and ignored by Kindtray.'),
};

const TASK_PROPS: Record<string, Schema> = {
  name: { description: 'The task\'s name, as SkyPilot allows: letters, digits and single or double ".", "_" or "-" between them.', type: 'string', pattern: '^[A-Za-z0-9]+(?:[._-]{1,2}[A-Za-z0-9]+)*$' },
  resources: { $ref: '#/definitions/resources' },
  envs: {
    description: 'Environment variables. A null value must be given at launch.',
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] },
  },
  secrets: {
    description: 'Like envs, but never shown. A null value must be given at launch.',
    anyOf: [{ type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] } }, { type: 'array', items: str }],
  },
  setup: { description: 'Shell commands run once before run.', ...str },
  run: { description: 'Shell commands: the task.', ...str },
  workdir: {
    description: 'A local folder (or a git repository) the commands run in.',
    anyOf: [str, { type: 'object', required: ['url'], additionalProperties: false, properties: { url: str, ref: str } }],
  },
  num_nodes: { description: 'How many nodes (Pods).', type: 'integer', minimum: 1 },
  file_mounts: { description: '/path/in/pod: local/path, a bucket URL, or a storage spec.', type: 'object', additionalProperties: { anyOf: [str, { type: 'object' }] } },
  service: {
    description: 'SkyServe: accepted; `kindtray launch` runs the task once, as `sky launch` does. readiness_probe decides when the endpoint is shown ready.',
    type: 'object',
    properties: {
      readiness_probe: {
        anyOf: [
          str,
          {
            type: 'object', required: ['path'], additionalProperties: false,
            properties: { path: str, initial_delay_seconds: { type: 'number' }, timeout_seconds: { type: 'number' }, post_data: { anyOf: [str, { type: 'object' }] }, headers: { type: 'object', additionalProperties: str } },
          },
        ],
      },
      ports: { type: 'integer', minimum: 1, maximum: 65535 },
    },
  },
  config: { description: 'Per-task SkyPilot config: kubernetes.pod_config is kept for the Pod; other keys are ignored.', type: 'object' },
};

function properties(fields: readonly string[], known: Record<string, Schema>, hints: Record<string, HintField>, skip: readonly string[] = []): Schema {
  const out: Schema = {};
  for (const f of fields) {
    if (skip.includes(f)) continue;
    const own = known[f];
    const hint = hints[f];
    // Fields the checker reads itself come first; the rest are hints (warned about).
    if (own) out[f] = own;
    else if (hint) out[f] = hintSchema(hint);
    else out[f] = {};
  }
  return out;
}

export function taskJsonSchema(): Schema {
  const set: Schema = { type: 'object', additionalProperties: false, properties: properties(RESOURCE_FIELDS, RESOURCE_PROPS, RESOURCE_HINTS, ['any_of', 'ordered']) };
  const choice = (how: string): Schema => ({ description: how, type: 'array', minItems: 1, items: { $ref: '#/definitions/resourceSet' } });
  const resources: Schema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...(set.properties as Schema),
      any_of: choice('Resource sets: the first the cluster can satisfy is chosen.'),
      ordered: choice('Resource sets in order of preference: the first the cluster can satisfy is chosen.'),
    },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://kindtray.dev/schemas/task.json',
    title: 'Kindtray task (SkyPilot task YAML)',
    type: 'object',
    additionalProperties: false,
    properties: properties(TASK_FIELDS, TASK_PROPS, TASK_HINTS),
    definitions: { resources, resourceSet: set },
  };
}
