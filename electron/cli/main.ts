// The `kindtray` command line: parses arguments, runs one command, returns the
// exit code of the design's contract (0 ok, 1 not ok / invalid, 2 usage, 3 no server).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, type CommandContext } from './context.ts';
import { statusCommand } from './status.ts';

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run: (ctx: CommandContext, positionals: string[], values: Record<string, unknown>) => Promise<number>;
}

const json = { json: { type: 'boolean', default: false } } as const;

const COMMANDS: Record<string, Command> = {
  status: {
    summary: 'Docker, clusters, contexts, the server, and what to fix',
    usage: 'kindtray status [--json]',
    options: { ...json },
    run: (ctx) => statusCommand(ctx),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'kindtray: health, task launch and one-click recovery for local KinD clusters',
    '',
    'Usage: kindtray <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json. Exit codes: 0 ok, 1 not ok or invalid, 2 usage error, 3 cannot reach the server.',
    'Environment: KINDTRAY_HOME, DOCKER_HOST, KUBECONFIG.',
  ].join('\n');
}

export async function main(argv: string[], io: Pick<CommandContext, 'out' | 'err'> = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`kindtray: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`kindtray ${name}: ${e instanceof Error ? e.message : String(e)}\nUsage: ${command.usage}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(`Usage: ${command.usage}\n\n${command.summary}`);
    return EXIT.ok;
  }
  const ctx: CommandContext = {
    ...io,
    json: parsed.values.json === true,
    env: process.env,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  };
  try {
    return await command.run(ctx, parsed.positionals, parsed.values);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`kindtray ${name}: ${e.message}\nUsage: ${command.usage}`);
      return EXIT.usage;
    }
    throw e;
  }
}

function defaultIo(): Pick<CommandContext, 'out' | 'err'> {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
