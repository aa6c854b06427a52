/**
 * Runs one function of template.yaml locally, like `sam local invoke`, without Docker:
 *
 *   npm run invoke -- <LogicalId> -e <event.json> [-n <env.json>] [--parameter-overrides K=V ...]
 *
 * Builds the bundle if it is out of date, starts what the function needs locally (token issuer,
 * embedded DynamoDB), runs the handler in a fresh process with the function's environment from the
 * template, prints the result as JSON on stdout and the function's logs on stderr.
 * Exit status: 0 result, 1 the function threw (`{"errorType","errorMessage"}` on stdout),
 * 2 bad usage or configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ensureBuilt } from './build.ts';
import {
  type CliName,
  cliProgram,
  overrideWords,
  parseCommandLine,
  runCli,
  UsageError,
} from './cli/program.ts';
import { generate } from './generate.ts';
import { LambdaEnvironment } from './lambda/runtime.ts';
import { startLocalServices } from './local/services.ts';
import { PROJECT_ROOT } from './paths.ts';
import { findFunction, functionEnvironment } from './template/functions.ts';
import { localStack, parseOverrides } from './template/resolve.ts';
import { loadTemplate, TemplateError } from './template/template.ts';

const NAME: CliName = { tool: 'invoke', invocation: 'npm run invoke --' };

/** Parsed `npm run invoke` arguments. */
export interface InvokeArgs {
  readonly logicalId: string;
  /** Event file, or `-` for stdin. */
  readonly event: string;
  readonly envVars: string | undefined;
  /** `--parameter-overrides` words (`K=V` or `ParameterKey=K,ParameterValue=V`). */
  readonly overrides: readonly string[];
  readonly template: string;
  /** The API document, when not the project's (package.json "gatehouse.openapi"). */
  readonly openapi?: string | undefined;
}

/** The `npm run invoke` command line (SAM CLI's flags). */
export function invokeProgram(): Command {
  return cliProgram(NAME, 'Run one function of the template locally, like sam local invoke (no Docker).')
    .argument('<LogicalId>', 'the function, e.g. JwtAuthorizerFunction')
    .option('-e, --event <file>', 'the event (JSON file, or - for stdin)')
    .option('-n, --env-vars <file>', 'environment overrides in sam local format')
    .option('--parameter-overrides <K=V...>', 'template parameters (several words allowed)')
    .option('-t, --template <file>', 'the SAM template', 'template.yaml')
    .option('--openapi <file>', 'the API document (default: package.json "gatehouse.openapi")')
    .addHelpText(
      'after',
      '\nExit status: 0 result, 1 the function threw, 2 bad usage or configuration.\n' +
        'Example: npm run invoke -- JwtAuthorizerFunction -e events/jwt-authorizer/allow.json',
    );
}

/** Parses the command line; throws UsageError (or HelpRequested). */
export function parseInvokeArgs(argv: readonly string[]): InvokeArgs {
  const { options, operands } = parseCommandLine<{
    event?: string;
    envVars?: string;
    parameterOverrides?: string[];
    template: string;
    openapi?: string;
  }>(invokeProgram(), argv);
  if (options.event === undefined) throw new UsageError('-e <event.json> is required');
  return {
    logicalId: operands[0] as string,
    event: options.event,
    envVars: options.envVars,
    overrides: overrideWords(options.parameterOverrides),
    template: options.template,
    openapi: options.openapi,
  };
}

function readJsonFile(file: string, what: string): unknown {
  const text =
    file === '-' ? readFileSync(0, 'utf8') : existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (text === undefined) throw new UsageError(`${what} ${file} does not exist`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Runs an invocation; returns the exit status. */
export async function invoke(
  args: InvokeArgs,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const template = loadTemplate(resolve(PROJECT_ROOT, args.template));
  const fn = findFunction(template, args.logicalId);
  const stack = localStack(template, parseOverrides(args.overrides), {
    region: process.env.AWS_REGION ?? 'us-east-1',
  });
  const envVars =
    args.envVars === undefined
      ? {}
      : (readJsonFile(args.envVars, '--env-vars file') as Record<string, Record<string, unknown>>);
  if (typeof envVars !== 'object' || envVars === null || Array.isArray(envVars))
    throw new UsageError('--env-vars must hold a JSON object');
  const { env, ignored } = functionEnvironment(stack, fn, envVars);
  for (const name of ignored)
    process.stderr.write(
      `invoke: ${name} from --env-vars is not declared by ${fn.logicalId} in the template; ignored (as sam local does)\n`,
    );
  const rawEvent = readJsonFile(args.event, 'event file');

  await generate({ root: PROJECT_ROOT, openapi: args.openapi, check: false });
  const built = await ensureBuilt(fn);
  const services = await startLocalServices([env]);
  const runtime = new LambdaEnvironment({
    logicalId: fn.logicalId,
    bundle: built.bundle,
    exportName: built.exportName,
    env: services.environmentFor(env),
    timeoutSeconds: fn.timeoutSeconds,
    memoryMb: fn.memoryMb,
    region: stack.region,
    accountId: stack.accountId,
  });
  try {
    const result = await runtime.invoke(await services.prepareEvent(rawEvent));
    if (result.ok) {
      out(JSON.stringify(result.result));
      return 0;
    }
    out(JSON.stringify({ errorType: result.error.errorType, errorMessage: result.error.errorMessage }));
    // A function that cannot start because of its configuration is a configuration problem.
    return result.error.errorType === 'Runtime.InitError' &&
      result.error.errorMessage.startsWith('ConfigError')
      ? 2
      : 1;
  } finally {
    await runtime.close();
    await services.close();
  }
}

// A template that cannot be read is bad input: exit status 2.
if (import.meta.url === `file://${process.argv[1]}`) {
  await runCli(
    NAME,
    (argv) => invoke(parseInvokeArgs(argv)),
    (err) => (err instanceof TemplateError ? 2 : undefined),
  );
}
