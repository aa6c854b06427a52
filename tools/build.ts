/**
 * Bundles every `AWS::Serverless::Function` of template.yaml with esbuild, from the same
 * `Metadata.BuildProperties` that `sam build` reads, into `.gatehouse/build/<LogicalId>/`.
 *
 *   npm run build [-- LogicalId ...] [--template template.yaml] [--openapi api.yaml]
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { type BuildOptions, build, type Loader } from 'esbuild';
import { type CliName, cliProgram, PROCESS_OUTPUT, parseCommandLine, runCli } from './cli/program.ts';
import { generate } from './generate.ts';
import { BUILD_DIR, PROJECT_ROOT } from './paths.ts';
import { type FunctionDefinition, splitHandler, templateFunctions } from './template/functions.ts';
import { loadTemplate, TemplateError } from './template/template.ts';

/** Where a function's bundle is, and what it was built from. */
export interface BuiltFunction {
  readonly logicalId: string;
  /** Absolute path of the bundle file the handler lives in. */
  readonly bundle: string;
  readonly exportName: string;
  /** Minified bundle size in bytes. */
  readonly bytes: number;
}

interface Manifest {
  readonly inputs: readonly string[];
  readonly options: string;
  readonly bundle: string;
  readonly exportName: string;
}

/** The esbuild options `sam build` derives from BuildProperties (see aws-lambda-builders' esbuild workflow). */
export function esbuildOptions(fn: FunctionDefinition, root: string, outdir: string): BuildOptions {
  const p = fn.build;
  const list = (v: readonly string[] | string | undefined) =>
    v === undefined ? [] : typeof v === 'string' ? v.split(',') : [...v];
  const outExtension = Object.fromEntries(
    list(p.OutExtension).map((pair) => pair.split('=') as [string, string]),
  );
  const banner = Object.fromEntries(
    list(p.Banner).map(
      (pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as [string, string],
    ),
  );
  const mainFields = list(p.MainFields);
  const loader = Object.fromEntries(
    list(p.Loader).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  ) as Record<string, Loader>;
  return {
    absWorkingDir: resolve(root, fn.codeUri),
    entryPoints: [...p.EntryPoints],
    bundle: true,
    platform: 'node',
    format: p.Format ?? 'cjs',
    target: p.Target ?? 'es2020',
    minify: p.Minify ?? true,
    sourcemap: p.Sourcemap ?? false,
    external: [...(p.External ?? [])],
    outdir,
    ...(Object.keys(outExtension).length > 0 ? { outExtension } : {}),
    ...(Object.keys(banner).length > 0 ? { banner } : {}),
    ...(mainFields.length > 0 ? { mainFields } : {}),
    ...(Object.keys(loader).length > 0 ? { loader } : {}),
    metafile: true,
    logLevel: 'silent',
  };
}

function bundleFile(fn: FunctionDefinition, outdir: string): { bundle: string; exportName: string } {
  const { file, exportName } = splitHandler(fn.handler);
  const ext = fn.build.Format === 'esm' ? '.mjs' : '.js';
  const candidates = [`${file}${ext}`, `${file}.js`, `${file}.mjs`].map((f) => join(outdir, f));
  const bundle = candidates.find((c) => existsSync(c));
  if (bundle === undefined) {
    throw new TemplateError(
      `${fn.logicalId}: Handler ${fn.handler} does not name the bundle esbuild wrote in ${outdir}`,
    );
  }
  return { bundle, exportName };
}

/**
 * Builds one function. The bundle is written to a fresh folder and swapped in with renames, so a
 * local Lambda that is starting from the previous bundle (tests, the gateway's --watch) never sees a
 * half-written or missing one.
 */
export async function buildFunction(fn: FunctionDefinition, root = PROJECT_ROOT): Promise<BuiltFunction> {
  const outdir = join(BUILD_DIR, fn.logicalId);
  const staging = `${outdir}.staging-${process.pid}-${randomUUID()}`;
  mkdirSync(staging, { recursive: true });
  try {
    const options = esbuildOptions(fn, root, staging);
    const result = await build(options);
    const staged = bundleFile(fn, staging);
    const inputs = Object.keys(result.metafile?.inputs ?? {}).map((i) =>
      resolve(options.absWorkingDir ?? root, i),
    );
    const bundle = join(outdir, relative(staging, staged.bundle));
    const manifest: Manifest = {
      inputs,
      options: JSON.stringify(fn.build),
      bundle,
      exportName: staged.exportName,
    };
    writeFileSync(join(staging, 'gatehouse-manifest.json'), JSON.stringify(manifest));
    const retired = `${outdir}.retired-${process.pid}-${randomUUID()}`;
    if (existsSync(outdir)) renameSync(outdir, retired);
    renameSync(staging, outdir);
    rmSync(retired, { recursive: true, force: true });
    return { logicalId: fn.logicalId, bundle, exportName: staged.exportName, bytes: statSync(bundle).size };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The existing bundle when it is newer than every input and built with the same options. */
export function upToDate(fn: FunctionDefinition): BuiltFunction | undefined {
  const file = join(BUILD_DIR, fn.logicalId, 'gatehouse-manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (manifest.options !== JSON.stringify(fn.build) || !existsSync(manifest.bundle)) return undefined;
  const built = statSync(manifest.bundle).mtimeMs;
  for (const input of manifest.inputs) {
    if (!existsSync(input) || statSync(input).mtimeMs > built) return undefined;
  }
  return {
    logicalId: fn.logicalId,
    bundle: manifest.bundle,
    exportName: manifest.exportName,
    bytes: statSync(manifest.bundle).size,
  };
}

/** Builds the function unless its bundle is up to date ("builds if needed"). */
export async function ensureBuilt(fn: FunctionDefinition, root = PROJECT_ROOT): Promise<BuiltFunction> {
  return upToDate(fn) ?? (await buildFunction(fn, root));
}

/** Generates, then builds the named functions (all when none is named). */
export async function buildAll(
  options: { root?: string; template?: string; only?: readonly string[]; openapi?: string | undefined } = {},
): Promise<BuiltFunction[]> {
  const root = options.root ?? PROJECT_ROOT;
  // The document setting (package.json "gatehouse"), unless --openapi names another document.
  await generate({ root, openapi: options.openapi, check: false });
  const template = loadTemplate(resolve(root, options.template ?? 'template.yaml'));
  const functions = templateFunctions(template);
  for (const name of options.only ?? []) {
    if (!functions.some((f) => f.logicalId === name))
      throw new TemplateError(`no function ${name} in the template`);
  }
  const selected = options.only?.length
    ? functions.filter((f) => options.only?.includes(f.logicalId))
    : functions;
  return Promise.all(selected.map((fn) => buildFunction(fn, root)));
}

const NAME: CliName = { tool: 'build', invocation: 'npm run build --' };

/** The `npm run build` command line. */
export function buildProgram(): Command {
  return cliProgram(NAME, 'Bundle the functions of the template with esbuild, as sam build does.')
    .argument('[LogicalId...]', 'functions to build (default: all)')
    .option('-t, --template <file>', 'the SAM template', 'template.yaml')
    .option(
      '--openapi <file>',
      'the OpenAPI document (default: package.json gatehouse.openapi, else openapi.yaml)',
    );
}

async function main(argv: readonly string[]): Promise<number> {
  const { options, operands } = parseCommandLine<{ template: string; openapi?: string }>(
    buildProgram(),
    argv,
  );
  const built = await buildAll({ template: options.template, only: operands, openapi: options.openapi });
  for (const b of built)
    PROCESS_OUTPUT.out(`${b.logicalId.padEnd(28)} ${String(b.bytes).padStart(8)} B  ${b.bundle}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`)
  await runCli(NAME, main, (err) => (err instanceof TemplateError ? 2 : undefined));
