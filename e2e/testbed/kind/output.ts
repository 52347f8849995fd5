// How the testbed's kind talks, as kind's own CLI does without a terminal
// (pkg/internal/cli, cmd/kind/app): everything but program output goes to
// stderr; each step is " • STEP  ..." when it starts and " ✓ STEP" / " ✗ STEP"
// when it ends; an error is "ERROR: <wrapped message>" (plus "Command Output:"
// when a command failed) and exit code 1. `--quiet` silences stderr.

/** An error as kind's pkg/errors chain prints it: the messages joined by ": ". */
export class KindError extends Error {
  /** What a failed command printed, shown after the error as kind's logError does. */
  readonly commandOutput: string | undefined;
  constructor(message: string, commandOutput?: string) {
    super(message);
    this.commandOutput = commandOutput;
  }

  /** errors.Wrap: "message: inner", keeping the command output. */
  wrap(message: string): KindError {
    return new KindError(`${message}: ${this.message}`, this.commandOutput);
  }
}

/** kind's exec.RunError: `command "docker …" failed with error: exit status N`. */
export function runError(argv: string[], exitCode: number, output?: string): KindError {
  return new KindError(`command "${prettyCommand(argv)}" failed with error: exit status ${exitCode}`, output);
}

/** A command line that could be pasted into a shell (kind's exec.PrettyCommand). */
export function prettyCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(' ');
}

export class Logger {
  private readonly quiet: boolean;
  constructor(quiet: boolean) {
    this.quiet = quiet;
  }

  /** One message; a newline is added unless it ends with one (kind's logger does the same). */
  info(message: string): void {
    if (this.quiet) return;
    process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  }

  error(err: unknown): void {
    if (err instanceof KindError) {
      this.info(`ERROR: ${err.message}`);
      if (err.commandOutput !== undefined) this.info(`\nCommand Output: ${err.commandOutput}`);
    } else {
      this.info(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** kind's cli.Status without a spinner: start/end lines for each step. */
export class Status {
  private readonly logger: Logger;
  private current = '';
  constructor(logger: Logger) {
    this.logger = logger;
  }

  start(status: string): void {
    this.end(true);
    this.current = status;
    this.logger.info(` • ${status}  ...\n`);
  }

  end(success: boolean): void {
    if (!this.current) return;
    this.logger.info(` ${success ? '✓' : '✗'} ${this.current}\n`);
    this.current = '';
  }
}

/** Go's time.Duration.String() for whole seconds ("0s", "30s", "1m0s", "1h2m3s"), as kind prints --wait. */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  if (total === 0) return '0s';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** Parses a Go duration flag value ("30s", "1m30s", "500ms", "2h", "0"); undefined when malformed. */
export function parseGoDuration(value: string): number | undefined {
  if (value === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    ms += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    matched = re.lastIndex;
  }
  return matched === value.length && matched > 0 ? ms : undefined;
}
