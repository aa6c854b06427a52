/**
 * Section 4 (bundle sizes) and the bundles the cold-start section runs: every function of
 * template.yaml built as `npm run build` builds it, and the peer equivalents in bench/peers/ built
 * the same way with esbuild (ESM, minified, es2023).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { type BuiltFunction, ensureBuilt, esbuildOptions } from '../tools/build.ts';
import { PROJECT_ROOT, STATE_DIR } from '../tools/paths.ts';
import { type FunctionDefinition, findFunction, templateFunctions } from '../tools/template/functions.ts';
import { loadTemplate } from '../tools/template/template.ts';
import { newOrderSchema } from './validation.ts';

/** A bundle on disk and its sizes. */
export interface Bundle {
  /** SAM logical ID, or `peer:<name>`. */
  readonly name: string;
  readonly bundle: string;
  readonly exportName: string;
  /** Minified bytes. */
  readonly bytes: number;
  /** gzip -9 bytes. */
  readonly gzipBytes: number;
  /**
   * Minified bytes of the handler by origin: an npm package name, `schemas` (the generated
   * per-operation validation modules, or only their file names when they are copied beside it), or
   * `ours`.
   */
  readonly byOrigin: Readonly<Record<string, number>>;
  /** Minified bytes of the handler by input file, our own files only (`ours` of {@link byOrigin}). */
  readonly oursByInput: Readonly<Record<string, number>>;
  /**
   * Bytes of the files copied beside the handler or emitted as other entry points: the validation
   * modules with the file loader, the JWT authorizer's dpop.mjs.
   */
  readonly besideBytes: number;
}

/** Where the peer bundles go (git-ignored, like the function bundles). */
export const PEER_BUILD_DIR = join(STATE_DIR, 'bench', 'peers');

/** The peers, by the function they stand in for. */
export const PEERS = {
  JwtAuthorizerFunction: { name: 'peer:jsonwebtoken+jwks-rsa', entry: 'bench/peers/jwt-authorizer.ts' },
  RequestValidatorFunction: {
    name: 'peer:middy+@middy/validator',
    entry: 'bench/peers/request-validator.ts',
  },
} as const;

/** The package a bundled input came from, or `ours`. */
export function originOf(input: string): string {
  // The request validator's compiled schemas: generated from openapi.yaml, they grow with the API.
  if (/shared\/generated\/validators\/[^/]+\.validator\.cjs$/.test(input)) return 'schemas';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match === null ? 'ours' : (match[1] as string);
}

/**
 * The handler's output: the one built from `entry` (a function may have more entry points, as the
 * JWT authorizer's dpop.mjs), never the files a loader copied beside it.
 */
function handlerInputs(metafile: Metafile | undefined, entry: string | undefined): [string, number][] {
  const outputs = Object.values(metafile?.outputs ?? {});
  const output =
    entry === undefined
      ? outputs.find((o) => o.entryPoint !== undefined)
      : outputs.find((o) => o.entryPoint === entry);
  return Object.entries(output?.inputs ?? {}).map(([input, v]) => [input, v.bytesInOutput]);
}

function composition(
  metafile: Metafile | undefined,
  entry?: string,
): { byOrigin: Record<string, number>; oursByInput: Record<string, number> } {
  const byOrigin: Record<string, number> = {};
  const oursByInput: Record<string, number> = {};
  for (const [input, bytes] of handlerInputs(metafile, entry)) {
    const origin = originOf(input);
    byOrigin[origin] = (byOrigin[origin] ?? 0) + bytes;
    if (origin === 'ours' && bytes > 0) oursByInput[input] = bytes;
  }
  return { byOrigin, oursByInput };
}

function sizes(file: string): { bytes: number; gzipBytes: number } {
  return { bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file), { level: 9 }).length };
}

/** The peer validator's event schema, from openapi.yaml (so it never drifts from it). */
function peerSchema(): string {
  const { $defs, ...body } = newOrderSchema();
  return JSON.stringify({ type: 'object', required: ['body'], properties: { body }, $defs });
}

/**
 * The options every benchmark bundle is built with: the ones `npm run build` (and `sam build`) derive
 * from the JWT authorizer's BuildProperties in template.yaml, minus its entry point and output.
 */
function functionBuildOptions(): BuildOptions {
  const fn = findFunction(loadTemplate(join(PROJECT_ROOT, 'template.yaml')), 'JwtAuthorizerFunction');
  const {
    entryPoints: _entry,
    outdir: _outdir,
    metafile: _metafile,
    ...shared
  } = esbuildOptions(fn, PROJECT_ROOT, '');
  return shared;
}

/** Bundles one entry like the functions are bundled. */
async function esbuildBundle(
  entry: string,
  outdir: string,
  extra: { banner?: string; define?: Record<string, string> } = {},
): Promise<Metafile | undefined> {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    ...functionBuildOptions(),
    entryPoints: [entry],
    outdir,
    metafile: true,
    ...(extra.banner === undefined ? {} : { banner: { js: extra.banner } }),
    ...(extra.define === undefined ? {} : { define: extra.define }),
  });
  return result.metafile;
}

/**
 * jsonwebtoken, jwks-rsa and middy's dependencies are CommonJS and `require` Node built-ins, which
 * an ESM bundle cannot do without this shim (the usual banner for ESM Lambda bundles).
 */
const REQUIRE_SHIM =
  "import { createRequire as __gatehouseCreateRequire } from 'node:module'; const require = __gatehouseCreateRequire(import.meta.url);";

/** Builds the peers. */
export async function buildPeers(): Promise<Bundle[]> {
  const define = { NEW_ORDER_EVENT_SCHEMA: peerSchema() };
  const out: Bundle[] = [];
  for (const peer of Object.values(PEERS)) {
    const outdir = join(PEER_BUILD_DIR, peer.name.replace(/[^A-Za-z0-9]+/g, '-'));
    const metafile = await esbuildBundle(peer.entry, outdir, { banner: REQUIRE_SHIM, define });
    const bundle = join(outdir, peer.entry.replace(/^.*\//, '').replace(/\.ts$/, '.mjs'));
    out.push({
      name: peer.name,
      bundle,
      exportName: 'handler',
      ...sizes(bundle),
      ...composition(metafile),
      besideBytes: 0,
    });
  }
  return out;
}

async function privateCopy(fn: FunctionDefinition): Promise<{ built: BuiltFunction; copy: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const built = await ensureBuilt(fn);
      const dir = join(STATE_DIR, 'bench', 'functions', fn.logicalId);
      rmSync(dir, { recursive: true, force: true });
      cpSync(dirname(built.bundle), dir, { recursive: true });
      return { built, copy: join(dir, basename(built.bundle)) };
    } catch (err) {
      // Another process was rebuilding the same bundle at that moment: build it again.
      if (attempt >= 3) throw err;
      await new Promise((done) => setTimeout(done, 500));
    }
  }
}

/** Builds (if needed) every function of template.yaml; analyses each bundle's composition. */
export async function buildFunctions(): Promise<Bundle[]> {
  const functions = templateFunctions(loadTemplate(resolve(PROJECT_ROOT, 'template.yaml')));
  const out: Bundle[] = [];
  for (const fn of functions) {
    // A private copy: other tools rebuild .gatehouse/build (removing it first) at any time, and a
    // cold start must not find the bundle gone. The handler with the files beside it (the
    // validator's modules, with the file loader).
    const { built, copy } = await privateCopy(fn);
    // A second build into a scratch folder, with the function's own options, only to read its
    // metafile (ensureBuilt keeps none).
    const scratch = join(STATE_DIR, 'bench', 'analysis', fn.logicalId);
    rmSync(scratch, { recursive: true, force: true });
    const metafile = (await build(esbuildOptions(fn, PROJECT_ROOT, scratch))).metafile;
    out.push({
      name: fn.logicalId,
      bundle: copy,
      exportName: built.exportName,
      ...sizes(copy),
      ...composition(metafile, fn.build.EntryPoints[0]),
      besideBytes: besideBytes(copy),
    });
  }
  return out;
}

/** Bytes of the other JavaScript files in a bundle's folder (what a loader copied beside it). */
function besideBytes(bundle: string): number {
  return readdirSync(dirname(bundle))
    .filter((f) => f !== basename(bundle) && /\.[cm]?js$/.test(f))
    .reduce((n, f) => n + statSync(join(dirname(bundle), f)).size, 0);
}

/** What importing only some library parts (or one module of ours) costs on its own, minified. */
export interface LibraryCost {
  readonly what: string;
  readonly bytes: number;
}

/**
 * What the JWT authorizer's libraries cost on their own: the aws-jwt-verify parts it uses, the
 * whole verifiers for comparison, and the observer that replaced Powertools Logger + Metrics.
 */
export async function libraryCosts(): Promise<LibraryCost[]> {
  const cases: [string, string][] = [
    [
      'aws-jwt-verify: the parts the JWT authorizer uses (SimpleJwksCache, SimplePenaltyBox, assertIsSignatureJwk, KeyObjectCache, validateJwtFields, assert functions, error classes)',
      "export { SimpleJwksCache, SimplePenaltyBox, assertIsSignatureJwk } from 'aws-jwt-verify/jwk'; export { KeyObjectCache } from 'aws-jwt-verify/jwt-verifier'; export { validateJwtFields } from 'aws-jwt-verify/jwt'; export * from 'aws-jwt-verify/assert'; export * from 'aws-jwt-verify/error';",
    ],
    [
      'aws-jwt-verify: JwtVerifier + CognitoJwtVerifier (the whole verifiers)',
      "export { JwtVerifier, CognitoJwtVerifier } from 'aws-jwt-verify'; export { SimpleJwksCache, SimplePenaltyBox } from 'aws-jwt-verify/jwk'; export * from 'aws-jwt-verify/error';",
    ],
    [
      'aws-jwt-verify: validateCognitoJwtFields alone (brings CognitoJwtVerifier and JwtVerifierBase)',
      "export { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';",
    ],
    [
      'shared/observability/observer.ts (the observer, replacing Powertools Logger + Metrics)',
      "export { AUTHORIZER_METRICS, lambdaObserver, observedHandler } from './shared/observability/observer.ts';",
    ],
  ];
  const out: LibraryCost[] = [];
  for (const [what, contents] of cases) {
    const { outExtension: _ext, ...options } = functionBuildOptions();
    const result = await build({
      ...options,
      stdin: { contents, resolveDir: PROJECT_ROOT, loader: 'ts' },
      write: false,
    });
    out.push({ what, bytes: result.outputFiles[0]?.contents.length ?? 0 });
  }
  return out;
}

/** The shape of bench/ours.ts, bundled. */
export type Ours = typeof import('./ours.ts');

/** Where bench/ours.ts is bundled. */
export const OURS_BUNDLE = join(STATE_DIR, 'bench', 'ours', 'ours.mjs');

/** Bundles an entry like a function into `.gatehouse/<dir>/` and imports it. */
export async function loadBundle<T>(entry: string, dir: string): Promise<T> {
  const outdir = join(STATE_DIR, dir);
  await esbuildBundle(entry, outdir);
  return (await import(pathToFileURL(join(outdir, basename(entry).replace(/\.ts$/, '.mjs'))).href)) as T;
}

/** Bundles bench/ours.ts like a function and imports it. */
export async function loadOurs(): Promise<Ours> {
  await esbuildBundle('bench/ours.ts', dirname(OURS_BUNDLE));
  return (await import(pathToFileURL(OURS_BUNDLE).href)) as Ours;
}
