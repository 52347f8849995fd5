// The testbed's `kind` (run through bin/kind): kind's command line, flags,
// output and exit codes (cmd/kind/app, pkg/cmd/kind/...), working on the
// testbed engine named by DOCKER_HOST. Errors print "ERROR: …" on stderr and
// exit 1, as kind's Main does. See ../README.md, "The testbed's kind".

import { KindError, Logger, parseGoDuration } from './output.ts';
import { KIND_VERSION } from './version.ts';


type FlagType = 'string' | 'bool' | 'duration' | 'strings';
interface FlagSpec { type: FlagType; short?: string }
type FlagValues = Record<string, string | boolean | number | string[]>;

const GLOBAL: Record<string, FlagSpec> = { quiet: { type: 'bool', short: 'q' }, verbosity: { type: 'string', short: 'v' }, help: { type: 'bool', short: 'h' } };

/** pflag-like parsing: --flag value, --flag=value, -n value, bools without a value; cobra's error texts. */
function parseFlags(args: string[], specs: Record<string, FlagSpec>): { flags: FlagValues; positional: string[]; changed: Set<string> } {
  const all = { ...GLOBAL, ...specs };
  const flags: FlagValues = {};
  const positional: string[] = [];
  const changed = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const [rawName, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    const name = long ? rawName : Object.keys(all).find((k) => all[k]?.short === rawName);
    const spec = name ? all[name] : undefined;
    if (!name || !spec) throw new KindError(long ? `unknown flag: --${rawName}` : `unknown shorthand flag: '${rawName.charAt(0)}' in ${arg}`);
    let value = inline;
    if (spec.type === 'bool') {
      flags[name] = value === undefined ? true : value === 'true' || value === '1';
    } else {
      if (value === undefined) {
        if (i + 1 >= args.length) throw new KindError(`flag needs an argument: ${long ? `--${name}` : `'${rawName}' in -${rawName}`}`);
        value = args[++i] ?? '';
      }
      if (spec.type === 'duration') {
        const ms = parseGoDuration(value);
        if (ms === undefined) throw new KindError(`invalid argument "${value}" for "--${name}" flag: time: invalid duration "${value}"`);
        flags[name] = ms;
      } else if (spec.type === 'strings') {
        flags[name] = [...((flags[name] as string[] | undefined) ?? []), ...value.split(',').filter(Boolean)];
      } else {
        flags[name] = value;
      }
    }
    changed.add(name);
  }
  return { flags, positional, changed };
}

/** cli.OverrideDefaultName: KIND_CLUSTER_NAME replaces the default when --name was not given. */
function clusterName(flags: FlagValues, changed: Set<string>, fallback: string): string {
  if (changed.has('name')) return String(flags.name);
  return process.env.KIND_CLUSTER_NAME || fallback;
}

const USAGE = `kind creates and manages local Kubernetes clusters using Docker container 'nodes'
(this is the Kindtray testbed's kind: it makes testbed clusters; see e2e/testbed/README.md)

Usage:
  kind [command]

Available Commands:
  create      Creates one of [cluster]
  delete      Deletes one of [cluster, clusters]
  export      Exports one of [kubeconfig]
  get         Gets one of [clusters, nodes, kubeconfig]
  load        Loads images into nodes
  version     Prints the kind CLI version
`;

const NAME: Record<string, FlagSpec> = { name: { type: 'string', short: 'n' } };
const DEFAULT_CLUSTER_NAME = 'kind';

// Command modules load on demand: on a busy machine every module costs (`kind version` needs none).
const clusters = () => import('./clusters.ts');

async function run(argv: string[], logger: Logger): Promise<void> {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  const [group, sub] = words;
  const rest = (n: number) => argv.slice(argv.indexOf(words[n - 1] ?? '') + 1);
  const noArgs = (positional: string[], path: string) => {
    if (positional.length) throw new KindError(`unknown command "${positional[0]}" for "${path}"`);
  };

  if (!group || group === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (group === 'version') {
    process.stdout.write(`kind ${KIND_VERSION} go1.23.6 linux/amd64\n`);
    return;
  }
  const command = `${group} ${sub ?? ''}`.trim();
  switch (command) {
    case 'create cluster': {
      const { flags, positional, changed } = parseFlags(rest(2), {
        ...NAME, config: { type: 'string' }, image: { type: 'string' }, retain: { type: 'bool' }, wait: { type: 'duration' }, kubeconfig: { type: 'string' },
      });
      noArgs(positional, 'kind create cluster');
      const { createClusterCommand } = await import('./create.ts');
      return createClusterCommand(logger, {
        name: clusterName(flags, changed, ''), config: String(flags.config ?? ''), image: String(flags.image ?? ''),
        retain: flags.retain === true, waitMs: Number(flags.wait ?? 0), kubeconfig: String(flags.kubeconfig ?? ''),
      });
    }
    case 'delete cluster': {
      const { flags, positional, changed } = parseFlags(rest(2), { ...NAME, kubeconfig: { type: 'string' } });
      noArgs(positional, 'kind delete cluster');
      return (await clusters()).deleteCluster(logger, clusterName(flags, changed, DEFAULT_CLUSTER_NAME), String(flags.kubeconfig ?? ''));
    }
    case 'delete clusters': {
      const { flags, positional } = parseFlags(rest(2), { kubeconfig: { type: 'string' }, all: { type: 'bool', short: 'A' } });
      return (await clusters()).deleteClusters(logger, positional, flags.all === true, String(flags.kubeconfig ?? ''));
    }
    case 'get clusters': {
      const { positional } = parseFlags(rest(2), {});
      noArgs(positional, 'kind get clusters');
      return (await clusters()).getClusters(logger);
    }
    case 'get nodes': {
      const { flags, positional, changed } = parseFlags(rest(2), { ...NAME, 'all-clusters': { type: 'bool', short: 'A' } });
      noArgs(positional, 'kind get nodes');
      return (await clusters()).getNodes(logger, clusterName(flags, changed, DEFAULT_CLUSTER_NAME), flags['all-clusters'] === true);
    }
    case 'get kubeconfig': {
      const { flags, positional, changed } = parseFlags(rest(2), { ...NAME, internal: { type: 'bool' } });
      noArgs(positional, 'kind get kubeconfig');
      return (await clusters()).getKubeconfig(clusterName(flags, changed, DEFAULT_CLUSTER_NAME), flags.internal === true);
    }
    case 'export kubeconfig': {
      const { flags, positional, changed } = parseFlags(rest(2), { ...NAME, kubeconfig: { type: 'string' }, internal: { type: 'bool' } });
      noArgs(positional, 'kind export kubeconfig');
      return (await clusters()).exportKubeconfigCommand(logger, clusterName(flags, changed, DEFAULT_CLUSTER_NAME), String(flags.kubeconfig ?? ''), flags.internal === true);
    }
    case 'load docker-image': {
      const { flags, positional, changed } = parseFlags(rest(2), { ...NAME, nodes: { type: 'strings' } });
      if (!positional.length) throw new KindError('a list of image names is required');
      const { loadDockerImage } = await import('./load.ts');
      return loadDockerImage(logger, clusterName(flags, changed, DEFAULT_CLUSTER_NAME), (flags.nodes as string[] | undefined) ?? [], positional);
    }
    default:
      if (['create', 'delete', 'get', 'export', 'load'].includes(group) && !sub) {
        process.stdout.write(USAGE);
        return;
      }
      throw new KindError(`unknown command "${sub ?? group}" for "kind${sub ? ` ${group}` : ''}"`);
  }
}

const argv = process.argv.slice(2);
const logger = new Logger(argv.includes('-q') || argv.includes('--quiet'));
run(argv, logger).then(
  () => process.exit(0),
  (err: unknown) => {
    logger.error(err);
    process.exit(1);
  },
);
