/**
 * The one command-line parser of every Gatehouse tool (commander), with the same behaviour
 * everywhere:
 * - `-h`/`--help` prints the usage on stdout, exit status 0;
 * - an unknown option, a missing or bad value, or a stray argument prints ONE line on stderr
 *   (`token: unknown option '--scop' (Did you mean --scope?); see npm run token -- --help`),
 *   exit status 2;
 * - option values may be negative numbers (`--ttl -60`); `--` ends the options.
 *
 * Tools build a program with {@link cliProgram}, read it with {@link parseCommandLine} (pure: it
 * throws instead of printing or exiting, so tests call it directly) and run their entry point with
 * {@link runCli}.
 */
import { Command, CommanderError } from 'commander';
import { sdkNoticeEnvironment } from './node-support.ts';

/** Bad usage: one line on stderr with a pointer to `--help`, exit status 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

/** `--help` was asked for: {@link text} goes to stdout, exit status 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly text: string) {
    super('help requested');
  }
}

/** How a tool is named in messages and run by a user. */
export interface CliName {
  /** Prefix of its error lines (`token`). */
  readonly tool: string;
  /** What a user types before the arguments (`npm run token --`, `npm start --`). */
  readonly invocation: string;
}

/** Where a tool writes (parameters, so tests capture them). */
export interface CliOutput {
  /** A line (or block) for stdout; the newline is added. */
  readonly out: (text: string) => void;
  /** A line for stderr; the newline is added. */
  readonly err: (text: string) => void;
}

/** stdout / stderr of this process. */
export const PROCESS_OUTPUT: CliOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** A parsed command line. */
export interface ParsedCommandLine<T> {
  /** Option values by camel-cased long name (`--issuer-port` → `issuerPort`), defaults applied. */
  readonly options: T;
  /** Arguments that are not options, in order (everything after `--` included). */
  readonly operands: readonly string[];
}

/**
 * A program with the shared behaviour. Declare options and arguments on it with commander's API
 * and the value readers below; help text is generated from them.
 */
export function cliProgram(name: CliName, summary: string): Command {
  const program = new Command(name.tool)
    .description(summary)
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureHelp({
      commandUsage: (cmd) => `${name.invocation} ${cmd.usage()}`,
      sortOptions: false,
    });
  return program;
}

/** The one line a commander error becomes (`error: ` dropped, the suggestion kept on the line). */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\.$/, '');
}

/**
 * Parses the words after the tool name. Throws {@link HelpRequested} for `--help`, and
 * {@link UsageError} for anything a user typed wrong; never prints and never exits.
 */
export function parseCommandLine<T extends object>(
  program: Command,
  argv: readonly string[],
): ParsedCommandLine<T> {
  let written = '';
  program.configureOutput({
    writeOut: (text) => {
      written += text;
    },
    writeErr: (text) => {
      written += text;
    },
    outputError: () => undefined,
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')
        throw new HelpRequested(written.replace(/\n+$/, ''));
      // `--in-memory=yes`: commander reports an unknown option; say what is wrong instead.
      const flag = /^error: unknown option '(--[^=']+)=/.exec(err.message)?.[1];
      const option = program.options.find((o) => o.long === flag);
      if (flag !== undefined && option !== undefined && !option.required && !option.optional)
        throw new UsageError(`${flag} takes no value`);
      throw new UsageError(oneLine(err.message));
    }
    throw err;
  }
  return { options: program.opts<T>(), operands: [...program.args] };
}

/**
 * What a command-line failure means for the exit status: prints help (0) or the usage line (2).
 * Returns undefined for any other error (the caller decides).
 */
export function commandLineExit(err: unknown, name: CliName, io: CliOutput): 0 | 2 | undefined {
  if (err instanceof HelpRequested) {
    io.out(err.text);
    return 0;
  }
  if (err instanceof UsageError) {
    io.err(`${name.tool}: ${err.message}; see ${name.invocation} --help`);
    return 2;
  }
  return undefined;
}

/**
 * Runs a tool's entry point with this process's arguments and sets the exit status: the status
 * `main` returns; 0 after help; 2 for bad usage (or what `exitCodeFor` says for other errors,
 * e.g. 2 for a bad template); 1 for anything else, printed as `tool: message`.
 */
export async function runCli(
  name: CliName,
  main: (argv: readonly string[]) => Promise<number> | number,
  exitCodeFor: (err: unknown) => number | undefined = () => undefined,
): Promise<void> {
  // Before any AWS SDK client exists (the CLIs and the gateway make DynamoDB clients).
  for (const [name, value] of Object.entries(sdkNoticeEnvironment())) process.env[name] ??= value;
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    const usage = commandLineExit(err, name, PROCESS_OUTPUT);
    if (usage !== undefined) {
      process.exitCode = usage;
      return;
    }
    PROCESS_OUTPUT.err(`${name.tool}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = exitCodeFor(err) ?? 1;
  }
}

// --- Value readers (commander argument parsers). They throw UsageError, whose message is the
// whole line: commander lets errors other than its own through unchanged.

/** A whole number, optionally bounded (`--ttl -60` is a number like any other). */
export function integerValue(
  flag: string,
  bounds: { readonly min?: number; readonly max?: number } = {},
): (value: string) => number {
  return (value) => {
    const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    const range =
      bounds.min !== undefined && bounds.max !== undefined
        ? ` from ${bounds.min} to ${bounds.max}`
        : bounds.min !== undefined
          ? ` of at least ${bounds.min}`
          : bounds.max !== undefined
            ? ` of at most ${bounds.max}`
            : '';
    if (
      !Number.isSafeInteger(n) ||
      (bounds.min !== undefined && n < bounds.min) ||
      (bounds.max !== undefined && n > bounds.max)
    )
      throw new UsageError(`${flag} must be a whole number${range}, not ${JSON.stringify(value)}`);
    return n;
  };
}

/** A TCP port; 0 (a free port) only when `allowZero`. */
export function portValue(flag: string, options: { readonly allowZero?: boolean } = {}) {
  const read = integerValue(flag, { min: options.allowZero === true ? 0 : 1, max: 65535 });
  return (value: string): number => {
    try {
      return read(value);
    } catch {
      throw new UsageError(`${flag} must be a port number, not ${JSON.stringify(value)}`);
    }
  };
}

/** An http(s) URL. */
export function httpUrlValue(flag: string): (value: string) => string {
  return (value) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new UsageError(`${flag} must be an http(s) URL, not ${JSON.stringify(value)}`);
    return value;
  };
}

/** One of a fixed set of words. */
export function choiceValue<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value))
      throw new UsageError(`${flag} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
    return value as T;
  };
}

/** A repeatable option: every occurrence is kept (`--cidr a --cidr b`). */
export function collectValue(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `--parameter-overrides` words as SAM takes them: several words after the flag, each of which may
 * hold several space-separated `K=V` pairs (`--parameter-overrides 'A=1 B=2' C=3`).
 */
export function overrideWords(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}
