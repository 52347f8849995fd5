// Task YAML: parsing and validation of SkyPilot's task format (design.md, "Task
// YAML"). Pure, common code: runs in the API worker, the CLI and the browser
// dashboard alike.

export { parseTask, TASK_LIMITS } from './parse.ts';
export type { ParseTaskOptions, ParseTaskResult } from './parse.ts';
export { checkAgainstSnapshot } from './cluster-check.ts';
export type { ChosenResources, ClusterCheckOptions, ClusterCheckResult, PortPlan, TaskTarget } from './cluster-check.ts';
export { formatAccelerator, parseAccelerators } from './accelerators.ts';
export { GPU_TYPE_LABELS } from './gpu-check.ts';
export type { NodeGpuFacts } from './gpu-check.ts';
export { taskJsonSchema } from './json-schema.ts';
export { applyLaunchValues, parseAssignments, parseEnvFile, REDACTED, redactSecrets, skyPilotEnvText } from './launch-values.ts';
export type { LaunchValues } from './launch-values.ts';
export { checkPreparedTask, endpointsOf, MAX_SNAPSHOT_AGE_MS, prepareTask, validateResponseOf, validateTask } from './validate.ts';
export type { PreparedTask, ValidateTaskOptions, ValidateTaskResult } from './validate.ts';
export { RESOURCE_FIELDS, TASK_FIELDS } from './schema.ts';
export type { AcceleratorRequest, FileMount, Plain, ReadinessProbe, ResourceAmount, ResourceChoice, ServiceSpec, TaskResources, TaskSpec } from './schema.ts';
export { checkTaskName, isValidTaskName, parseImage, parseInfra, suggestTaskName, TASK_NAME_MAX_LENGTH } from './fields.ts';
export {
  describePorts,
  expandRanges,
  formatPorts,
  MAX_PORT,
  MAX_TASK_PORTS,
  mergeRanges,
  MIN_PORT,
  NODE_PORT_MAX,
  NODE_PORT_MIN,
  parsePorts,
  toRanges,
} from './ports.ts';
export type { ParsedPorts, ParsePortsOptions, PortRange } from './ports.ts';
export type { IssueFix, SourcePosition, SourcePositions, ValidationIssue } from './issues.ts';
