// The `kindtray` command line: parses arguments, runs one command, returns the
// exit code of the design's contract (0 ok, 1 not ok / invalid, 2 usage, 3 no server).

import type { ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, type CommandContext } from './context.ts';
import { VERSION } from '../../shared/contracts/version.ts';
import { isDeadlineError } from '../../shared/deadline.ts';

// Not `import { parseArgs } from 'node:util'`: an ES import of a built-in builds its whole
// facade (see server-link.ts); every command pays for this file.
const { parseArgs } = process.getBuiltinModule('node:util');

// Each command loads its own modules when it runs: `kindtray --help` need not load Docker's client.
const tasks = () => import('./tasks-cmd.ts');
const client = () => import('./client.ts');
const clusters = () => import('./cluster-cmd.ts');

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
    run: async (ctx) => (await import('./status.ts')).statusCommand(ctx),
  },
  validate: {
    summary: 'check a task file: errors with their field, line and fix (--schema-only: the file alone, no server)',
    usage: 'kindtray validate FILE [--infra k8s/CONTEXT] [--env K=V]... [--secret K=V]... [--env-file F] [--schema-only] [--json]',
    options: {
      ...json,
      infra: { type: 'string' },
      'schema-only': { type: 'boolean', default: false },
      // The launch's values: a validation with them passes where the launch would.
      env: { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      'env-file': { type: 'string', multiple: true },
    },
    run: async (ctx, p, v) =>
      v['schema-only'] ? (await import('./validate-schema-cmd.ts')).validateSchemaOnlyCommand(ctx, p, v) : (await tasks()).validateCommand(ctx, p, v),
  },
  schema: {
    summary: 'print the task format as a JSON Schema, for YAML editors',
    usage: 'kindtray schema',
    options: { ...json },
    run: async (ctx) => (await import('./schema-cmd.ts')).schemaCommand(ctx),
  },
  launch: {
    summary: 'launch a task; prints its id and endpoints',
    usage: 'kindtray launch FILE [--infra k8s/CONTEXT] [--env K=V]... [--secret K=V]... [--env-file F] [--when-ready] [--json]',
    options: {
      ...json,
      infra: { type: 'string' },
      'when-ready': { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      'env-file': { type: 'string', multiple: true },
    },
    run: async (ctx, p, v) => (await tasks()).launchCommand(ctx, p, v),
  },
  tasks: { summary: 'list tasks', usage: 'kindtray tasks [--json]', options: { ...json }, run: async (ctx) => (await tasks()).tasksCommand(ctx) },
  logs: {
    summary: "print a task's logs",
    usage: 'kindtray logs ID [--follow] [--node N]',
    options: { ...json, follow: { type: 'boolean', short: 'f', default: false }, node: { type: 'string' } },
    run: async (ctx, p, v) => (await tasks()).logsCommand(ctx, p, v),
  },
  cancel: { summary: 'cancel a task (deletes its pod and service)', usage: 'kindtray cancel ID [--json]', options: { ...json }, run: async (ctx, p) => (await tasks()).cancelCommand(ctx, p) },
  fix: {
    summary: 'run a fix by id (start-docker, start-cluster:NAME, repair-context:CONTEXT, ...)',
    usage: 'kindtray fix ID [--json]',
    options: { ...json },
    run: async (ctx, p) => (await tasks()).fixCommand(ctx, p),
  },
  cluster: {
    summary: 'create, delete, start or stop a KinD cluster, its steps printed as they come (Ctrl-C cancels)',
    usage: 'kindtray cluster create NAME [--workers N] [--image IMAGE] [--node-ports 30000-30099] [--ingress-http PORT] [--ingress-https PORT] [--config FILE] [--no-switch] [--json] | cluster delete|start|stop NAME [--json]',
    options: { ...json, workers: { type: 'string' }, image: { type: 'string' }, 'node-ports': { type: 'string' }, 'ingress-http': { type: 'string' }, 'ingress-https': { type: 'string' }, config: { type: 'string' }, 'no-switch': { type: 'boolean', default: false } },
    run: async (ctx, p, v) => (await clusters()).clusterCommand(ctx, p, v),
  },
  clusters: { summary: 'list the KinD clusters', usage: 'kindtray clusters [--json]', options: { ...json }, run: async (ctx) => (await clusters()).clustersCommand(ctx) },
  image: {
    summary: 'load a local Docker image into a cluster\'s nodes',
    usage: 'kindtray image load IMAGE --cluster NAME [--json]',
    options: { ...json, cluster: { type: 'string' } },
    run: async (ctx, p, v) => (await clusters()).imageCommand(ctx, p, v),
  },
  server: {
    summary: 'status, start, stop or restart the server (works when it is hung)',
    usage: 'kindtray server status|start|stop|restart [--port N] [--json]',
    options: { ...json, port: { type: 'string' } },
    run: async (ctx, p, v) => (await import('./server-cmd.ts')).serverCommand(ctx, p, v),
  },
  serve: {
    summary: 'run the server and dashboard in the foreground (headless)',
    usage: 'kindtray serve [--port N] [--json]',
    options: { ...json, port: { type: 'string' } },
    run: async (ctx, _p, v) => (await import('./serve.ts')).serveCommand(ctx, v),
  },
  dashboard: {
    summary: "print a one-time link to the dashboard",
    usage: 'kindtray dashboard [--json]',
    options: { ...json },
    run: async (ctx) => {
      const { apiRequest, ensureServer } = await client();
      const info = await ensureServer(ctx.env, ctx.err);
      const answer = await apiRequest<{ url: string }>(info, '/control/login-token', { method: 'POST' });
      ctx.out(ctx.json ? JSON.stringify(answer.body) : answer.body.url);
      return answer.status === 200 ? EXIT.ok : EXIT.notOk;
    },
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
    'kindtray --version prints the version. Every command takes --json. Exit codes: 0 ok, 1 not ok or invalid, 2 usage error, 3 cannot reach the server.',
    'Environment: KINDTRAY_HOME, DOCKER_HOST, KUBECONFIG.',
  ].join('\n');
}

export async function main(argv: string[], io: Pick<CommandContext, 'out' | 'err'> = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    io.out(VERSION);
    return EXIT.ok;
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
    if ((e instanceof Error && e.name === 'NoServerError') || isDeadlineError(e) || ['ECONNREFUSED', 'ECONNRESET'].includes((e as NodeJS.ErrnoException).code ?? '')) {
      io.err(`kindtray ${name}: cannot reach the server: ${(e as Error).message}`);
      return EXIT.noServer;
    }
    io.err(`kindtray ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.notOk;
  }
}

function defaultIo(): Pick<CommandContext, 'out' | 'err'> {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
