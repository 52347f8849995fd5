// What every CLI command gets: where to write, whether to print JSON, the environment.

export const EXIT = { ok: 0, notOk: 1, usage: 2, noServer: 3 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommandContext {
  out: (text: string) => void;
  err: (text: string) => void;
  json: boolean;
  color: boolean;
  env: NodeJS.ProcessEnv;
}
