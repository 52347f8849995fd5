// `kindtray schema`: the task format as a JSON Schema, for YAML editors
// (`kindtray schema > task.schema.json`, then point the editor's YAML
// extension at it). Needs no server.

import { taskJsonSchema } from '../../shared/task/json-schema.ts';
import { EXIT, type CommandContext } from './context.ts';

export function schemaCommand(ctx: CommandContext): number {
  ctx.out(JSON.stringify(taskJsonSchema(), null, 2));
  return EXIT.ok;
}
