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
import { ensureBuilt } from './build.ts';
import { generate } from './generate.ts';
import { LambdaEnvironment } from './lambda/runtime.ts';
import { startLocalServices } from './local/services.ts';
import { PROJECT_ROOT } from './paths.ts';
import { findFunction, functionEnvironment } from './template/functions.ts';
import { localStack, parseOverrides } from './template/resolve.ts';
import { loadTemplate, TemplateError } from './template/template.ts';

/** Bad usage: printed with the usage line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE =
  'usage: npm run invoke -- <LogicalId> -e <event.json|-> [-n <env.json>] [--parameter-overrides K=V ...] [-t template.yaml] [--openapi api.yaml]';

export interface InvokeArgs {
  readonly logicalId: string;
  readonly event: string;
  readonly envVars: string | undefined;
  readonly overrides: readonly string[];
  readonly template: string;
  /** The API document, when not the project's (package.json "gatehouse.openapi"). */
  readonly openapi?: string | undefined;
}

/** Parses the command line (SAM CLI's flags, including several words after --parameter-overrides). */
export function parseInvokeArgs(argv: readonly string[]): InvokeArgs {
  let logicalId: string | undefined;
  let event: string | undefined;
  let envVars: string | undefined;
  let template = 'template.yaml';
  let openapi: string | undefined;
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      return value;
    };
    if (arg === '-e' || arg === '--event') event = next();
    else if (arg === '-n' || arg === '--env-vars') envVars = next();
    else if (arg === '-t' || arg === '--template') template = next();
    else if (arg === '--openapi') openapi = next();
    else if (arg === '--parameter-overrides') {
      while (argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('-'))
        overrides.push(...(argv[++i] as string).split(/\s+/).filter(Boolean));
    } else if (arg === '-h' || arg === '--help') throw new UsageError('help');
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else if (logicalId === undefined) logicalId = arg;
    else throw new UsageError(`unexpected argument ${arg}`);
  }
  if (logicalId === undefined) throw new UsageError('the function logical ID is required');
  if (event === undefined) throw new UsageError('-e <event.json> is required');
  return { logicalId, event, envVars, overrides, template, openapi };
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

async function main(): Promise<void> {
  let code: number;
  try {
    code = await invoke(parseInvokeArgs(process.argv.slice(2)));
  } catch (err) {
    if (err instanceof UsageError || err instanceof TemplateError) {
      process.stderr.write(err.message === 'help' ? `${USAGE}\n` : `invoke: ${err.message}\n${USAGE}\n`);
      code = 2;
    } else throw err;
  }
  process.exitCode = code;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
