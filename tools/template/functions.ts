import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../paths.ts';
import { type LocalStack, localStack, resolveValue } from './resolve.ts';
import { loadTemplate, type Template, TemplateError } from './template.ts';

/** The esbuild settings `sam build` reads from a function's `Metadata.BuildProperties`. */
export interface BuildProperties {
  readonly EntryPoints: readonly string[];
  readonly Minify?: boolean;
  readonly Target?: string;
  readonly Format?: 'esm' | 'cjs';
  readonly Sourcemap?: boolean;
  readonly External?: readonly string[];
  readonly OutExtension?: readonly string[];
  readonly Banner?: readonly string[] | string;
  readonly MainFields?: readonly string[] | string;
  /** `.ext=loader` pairs (esbuild `--loader:.ext=loader`). */
  readonly Loader?: readonly string[];
}

/** One `AWS::Serverless::Function` with `Globals.Function` merged in (unresolved). */
export interface FunctionDefinition {
  readonly logicalId: string;
  /** `file.export`, e.g. `handler.handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly codeUri: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly architectures: readonly string[];
  readonly build: BuildProperties;
  /** `Environment.Variables`, intrinsics not yet resolved. */
  readonly environment: Readonly<Record<string, unknown>>;
}

/** Every function of the template, in template order. */
export function templateFunctions(template: Template): FunctionDefinition[] {
  const globals = (template.Globals?.Function ?? {}) as Record<string, unknown>;
  const globalEnv = ((globals.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables ?? {}) as Record<string, unknown>;
  const out: FunctionDefinition[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    const props = { ...globals, ...(resource.Properties ?? {}) } as Record<string, unknown>;
    const metadata = resource.Metadata ?? {};
    if (metadata.BuildMethod !== 'esbuild')
      throw new TemplateError(`${logicalId}: Metadata.BuildMethod must be esbuild`);
    const build = metadata.BuildProperties as BuildProperties | undefined;
    const entries = build?.EntryPoints;
    if (build === undefined || !Array.isArray(entries) || entries.length === 0) {
      throw new TemplateError(
        `${logicalId}: Metadata.BuildProperties.EntryPoints must name the handler's file`,
      );
    }
    // sam build writes every entry's bundle at the root of the function's artifact, beside the
    // handler's (esbuild's outbase is their common folder): entries of one folder keep those names.
    const folder = (entry: string) => entry.replace(/[^/]*$/, '');
    if (entries.some((e) => typeof e !== 'string' || folder(e) !== folder(entries[0] as string)))
      throw new TemplateError(
        `${logicalId}: Metadata.BuildProperties.EntryPoints must all be in one folder (their bundles are written side by side)`,
      );
    const env = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>;
    out.push({
      logicalId,
      handler: String(props.Handler),
      runtime: String(props.Runtime),
      codeUri: typeof props.CodeUri === 'string' ? props.CodeUri : '.',
      timeoutSeconds: Number(props.Timeout ?? 3),
      memoryMb: Number(props.MemorySize ?? 128),
      architectures: (props.Architectures as string[] | undefined) ?? ['x86_64'],
      build,
      environment: { ...globalEnv, ...env },
    });
  }
  return out;
}

/** Finds a function by logical ID, with a message listing the ones that exist. */
export function findFunction(template: Template, logicalId: string): FunctionDefinition {
  const all = templateFunctions(template);
  const found = all.find((f) => f.logicalId === logicalId);
  if (found === undefined) {
    throw new TemplateError(
      `no function ${logicalId} in template.yaml (functions: ${all.map((f) => f.logicalId).join(', ')})`,
    );
  }
  return found;
}

/**
 * The environment the function sees: template variables resolved for the local stack, then
 * overrides in `sam local --env-vars` format (`Parameters` for all functions, then the function's
 * own logical ID). As with SAM, only variables the template declares are set.
 */
export function functionEnvironment(
  stack: LocalStack,
  fn: FunctionDefinition,
  envVars: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): { env: Record<string, string>; ignored: string[] } {
  const env: Record<string, string> = {};
  for (const [name, raw] of Object.entries(fn.environment)) {
    const value = resolveValue(stack, raw);
    if (value !== undefined) env[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const ignored: string[] = [];
  for (const scope of ['Parameters', fn.logicalId]) {
    for (const [name, value] of Object.entries(envVars[scope] ?? {})) {
      if (!Object.hasOwn(fn.environment, name)) {
        ignored.push(name);
        continue;
      }
      env[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return { env, ignored };
}

/** The file and export name of a handler (`handler.handler` → `handler`, `handler`). */
export function splitHandler(handler: string): { file: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new TemplateError(`Handler ${JSON.stringify(handler)} must be file.export`);
  return { file: handler.slice(0, dot), exportName: handler.slice(dot + 1) };
}

/** A function's environment from the project's template.yaml, parameters at their defaults. */
export function templateEnvironment(
  logicalId: string,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const template = loadTemplate(resolve(PROJECT_ROOT, 'template.yaml'));
  return functionEnvironment(localStack(template, overrides), findFunction(template, logicalId)).env;
}
