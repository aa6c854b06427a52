/**
 * Build-time compilation of the API document into one validation module per operation (ajv
 * standalone code plus what the run time needs to read parameters and bodies), and a registry
 * that loads each module on first use (shared/validation/registry.ts). The request validator
 * never compiles a schema (nor calls `new Function`) at run time.
 *
 * - OpenAPI 3.1 schemas are JSON Schema 2020-12 (ajv/dist/2020); 3.0 schemas are translated
 *   (`nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`) and compiled as draft-07.
 * - Every schema an operation uses is reviewed (tools/openapi/review.ts): costly or unenforceable
 *   schemas are warnings (errors with `strictSchemas`), naming their JSON pointer and operation.
 * - `type: integer` without tighter bounds gets ±Number.MAX_SAFE_INTEGER, so integers JSON.parse
 *   rounds (2^53 + 1 → 2^53) fail validation instead of reaching the backend changed.
 * - Response validators are generated only when asked for (RESPONSE_VALIDATION needs them).
 */
import { _, Ajv, type AnySchema, type Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneModuleExports from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';
import { neverForwarded } from '../../shared/upstream/forward.ts';
import type {
  BodyKind,
  MediaValidation,
  ParameterLocation,
  ParameterRule,
  ParameterStyle,
} from '../../shared/validation/table.ts';
import {
  deref,
  derefPointer,
  isOpenApi30,
  type OpenApiDocument,
  OpenApiError,
  type Operation,
  operations,
  pointerOf,
  resolvePointer,
  routeKey,
} from './document.ts';
import { FORMATS_MODULE, formatsModule, formatsUsed } from './formats.ts';
import { type ReviewFinding, SchemaReview } from './review.ts';
import {
  applyDirection,
  applyDiscriminator,
  boundIntegers,
  type Direction,
  isSchemaObject,
  mapSchema,
  type Schema,
  stripAnnotations,
  translate30,
} from './schema.ts';
import { ShapeBuilder } from './shapes.ts';

export { boundIntegers, mapSchema, schemaNodes, translate30 } from './schema.ts';

/** The JSON Schema dialect a set of schemas is compiled with. */
export type Draft = '2020-12' | 'draft-07';

/** The ajv options shared by production and the JSON-Schema-Test-Suite run (chosen for safety). */
export const AJV_OPTIONS: Options = {
  // Formats checked with code come from the generated formats module (tools/openapi/formats.ts),
  // which holds only those the document uses; ajv-formats would have the validation modules
  // require all of them.
  code: { source: true, esm: false, lines: false, formats: _`require(${FORMATS_MODULE})` },
  // Properties inherited from Object.prototype must never satisfy `required` or `properties`. A
  // parsed body (and every object the readers build) inherits from Object.prototype or nothing, so
  // only a name Object.prototype has (`constructor`, `toString`...) or one added to it at run time
  // could be inherited. The first is checked at build time: a document naming one is compiled with
  // `ownProperties: true` ({@link namesInheritedProperty}); the second is refused at run time
  // before any validator runs (shared/validation/registry.ts). Without the option, ajv reads
  // `data.name` instead of calling `hasOwnProperty` for each property and does not copy the keys of
  // each object it checks for `additionalProperties`: a third of the validation time of a 1 KB body.
  ownProperties: false,
  $data: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  // All errors of a request at once; the run time truncates the list it reports.
  allErrors: true,
  strict: true,
  strictTypes: false,
  strictTuples: false,
  // `required` naming a property declared in a sibling (common inside oneOf branches) is valid JSON Schema.
  strictRequired: false,
  allowUnionTypes: true,
};

/**
 * A fresh ajv instance for a dialect, with ajv-formats in full mode when `formats` is on. `strict`
 * (default on) only makes compilation refuse unknown keywords; it never changes a verdict.
 */
export function createAjv(
  draft: Draft,
  options: { formats: boolean; strict?: boolean; ownProperties?: boolean } = { formats: true },
): Ajv {
  const settings: Options = {
    ...AJV_OPTIONS,
    validateFormats: options.formats,
    strict: options.strict ?? true,
    strictRequired: false,
    ownProperties: options.ownProperties ?? AJV_OPTIONS.ownProperties ?? false,
  };
  const ajv = draft === '2020-12' ? new Ajv2020(settings) : new Ajv(settings);
  if (options.formats) addFormats(ajv, { mode: 'full' });
  return ajv;
}

// CommonJS modules whose `module.exports` is the function (tsx) or whose `default` is (types).
const standaloneCode = ((standaloneModuleExports as unknown as { default?: unknown }).default ??
  standaloneModuleExports) as unknown as (ajv: Ajv, refs: Record<string, string>) => string;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv, options: { mode: 'full' }) => void;

/**
 * ajv's CommonJS standalone code for the given exports (export name → schema `$id`), with its
 * `require`s of ajv runtime helpers turned into calls of `__rt` (the runtime the loader passes in).
 * Returns the code and the helper module names it uses.
 */
export function standaloneBody(
  ajv: Ajv,
  exports: Readonly<Record<string, string>>,
): { code: string; runtime: string[] } {
  const code = standaloneCode(ajv, { ...exports });
  const runtime = new Set<string>();
  const body = code
    .replace(/^"use strict";/, '')
    .replace(/require\("([^"]+)"\)/g, (_all: string, spec: string) => {
      runtime.add(spec);
      return `__rt(${JSON.stringify(spec)})`;
    });
  return { code: lengthFirst(body), runtime: [...runtime].sort() };
}

/**
 * `maxLength`/`minLength` count code points with ajv's `ucs2length`, a loop over the string. A
 * string has at least half as many code points as UTF-16 units and at most as many, so its
 * `.length` settles most comparisons without the loop: `n(s) > L` needs `s.length > L`, and
 * `n(s) < L` holds when `s.length < L` and fails when `s.length >= 2L`. The verdict is the same.
 */
export function lengthFirst(code: string): string {
  const helper = /const (func\d+) = __rt\("ajv\/dist\/runtime\/ucs2length"\)\.default;/.exec(code)?.[1];
  if (helper === undefined) return code;
  const call = new RegExp(`\\b${helper}\\(([A-Za-z_$][\\w$]*)\\) ([<>]) (\\d+)\\b`, 'g');
  return code.replace(call, (_all: string, data: string, op: string, limit: string) =>
    op === '>'
      ? `(${data}.length > ${limit} && ${helper}(${data}) > ${limit})`
      : `(${data}.length < ${limit} || (${data}.length < ${2 * Number(limit)} && ${helper}(${data}) < ${limit}))`,
  );
}

/**
 * Standalone ESM for the schemas already added to `ajv`, one export per entry of `exports` (the
 * JSON-Schema-Test-Suite imports this form; production modules are factories, see below).
 */
export function standaloneModule(ajv: Ajv, exports: Readonly<Record<string, string>>): string {
  const { code, runtime: specs } = standaloneBody(ajv, exports);
  const runtime = specs.filter((spec) => spec !== FORMATS_MODULE);
  // The formats module, as the generator writes it, inside this module.
  const formats = specs.includes(FORMATS_MODULE)
    ? `const __formats = (() => { const exports = {};\n${formatsModule(formatsUsed(code), '')}\nreturn exports; })();\n`
    : '';
  const imports = runtime.map(
    (spec, n) => `import * as __m${n} from ${JSON.stringify(/\.[cm]?js$/.test(spec) ? spec : `${spec}.js`)};`,
  );
  const table = [
    ...runtime.map(
      (spec, n) =>
        `${JSON.stringify(spec)}: __m${n}.default && __m${n}.default.__esModule ? __m${n}.default : __m${n}`,
    ),
    ...(formats === '' ? [] : [`${JSON.stringify(FORMATS_MODULE)}: __formats`]),
  ].join(', ');
  const names = Object.keys(exports);
  return `${imports.join('\n')}\n${formats}const __runtime = { ${table} };\nconst __rt = (n) => __runtime[n];\nconst exports = {};\n${code}\n${names.map((n) => `export const ${n} = exports.${n};`).join('\n')}\n`;
}

/**
 * True when the document looks a property up by a name objects inherit from Object.prototype
 * (`constructor`, `toString`, `__proto__`...): in `properties`, `required`, `dependentRequired`,
 * `dependentSchemas`, `dependencies`, a discriminator or a parameter name. Such a document is
 * compiled with ajv's `ownProperties` (see AJV_OPTIONS). The whole document is searched, examples
 * included: a false positive only costs speed.
 */
export function namesInheritedProperty(doc: unknown): boolean {
  const inherited = (name: unknown) => typeof name === 'string' && Object.hasOwn(Object.prototype, name);
  const keysOf = (v: unknown) => (isSchemaObject(v) ? Object.keys(v) : []);
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (!isSchemaObject(node)) continue;
    const names = [
      ...keysOf(node.properties),
      ...(Array.isArray(node.required) ? node.required : []),
      ...keysOf(node.dependentRequired),
      ...Object.values(isSchemaObject(node.dependentRequired) ? node.dependentRequired : {}).flat(),
      ...keysOf(node.dependentSchemas),
      ...keysOf(node.dependencies),
      ...Object.values(isSchemaObject(node.dependencies) ? node.dependencies : {}).flat(),
      isSchemaObject(node.discriminator) ? node.discriminator.propertyName : undefined,
      typeof node.in === 'string' ? node.name : undefined,
      typeof node.in === 'string' && typeof node.name === 'string' ? node.name.toLowerCase() : undefined,
    ];
    if (names.some(inherited)) return true;
    for (const value of Object.values(node)) stack.push(value);
  }
  return false;
}

// --- Schema preparation ------------------------------------------------------------------------

const BASE_ID = 'https://gatehouse.dev/openapi/';

/** Prepares schemas for ajv, registering referenced schemas (components or anywhere else) once. */
class SchemaCompiler {
  readonly ajv: Ajv;
  readonly draft: Draft;
  readonly #registered = new Set<string>();
  #count = 0;

  constructor(private readonly doc: OpenApiDocument) {
    this.draft = isOpenApi30(doc) ? 'draft-07' : '2020-12';
    this.ajv = createAjv(this.draft, { formats: true, ownProperties: namesInheritedProperty(doc) });
  }

  resolve = (ref: string): unknown => resolvePointer(this.doc, ref);

  /** The schema as ajv compiles it for a direction; `$ref`s point at registered schemas. */
  prepare(schema: unknown, direction: Direction): unknown {
    let out = this.draft === 'draft-07' ? translate30(schema) : schema;
    out = applyDiscriminator(out);
    out = applyDirection(out, direction, this.resolve);
    out = stripAnnotations(out, this.draft);
    out = boundIntegers(out);
    return mapSchema(out, (node) => {
      if (typeof node.$ref !== 'string') return node;
      return { ...node, $ref: this.#refId(node.$ref, direction) };
    });
  }

  /** Adds a schema under a new id; returns the id. */
  add(schema: unknown, direction: Direction): string {
    const id = `${BASE_ID}s${this.#count++}`;
    const prepared = this.prepare(schema, direction);
    this.ajv.addSchema(
      (isSchemaObject(prepared) ? { ...prepared, $id: id } : { $id: id, allOf: [prepared] }) as AnySchema,
    );
    return id;
  }

  /** The id a document `$ref` becomes: the referenced schema, registered once per direction. */
  #refId(ref: string, direction: Direction): string {
    if (!ref.startsWith('#'))
      throw new OpenApiError(`$ref ${ref} points outside the document (bundle it first)`);
    const id = `${BASE_ID}${direction}${ref.replace(/^#/, '').replace(/[^A-Za-z0-9/_~.-]/g, (c) => encodeURIComponent(c))}`;
    if (!this.#registered.has(id)) {
      this.#registered.add(id);
      const target = this.resolve(ref);
      const prepared = this.prepare(target, direction);
      this.ajv.addSchema(
        (isSchemaObject(prepared) ? { ...prepared, $id: id } : { $id: id, allOf: [prepared] }) as AnySchema,
      );
    }
    return id;
  }
}

// --- Media types -------------------------------------------------------------------------------

/** How a declared request media range is read (docs/openapi.md#media-types). */
export function bodyKind(mediaRange: string): BodyKind {
  const essence = mediaRange.split(';')[0]?.trim().toLowerCase() ?? '';
  if (/^application\/(?:[a-z0-9.!#$&^_-]+\+)?json$/.test(essence)) return 'json';
  if (essence === 'application/x-www-form-urlencoded') return 'form';
  if (essence === 'multipart/form-data') return 'multipart';
  return 'opaque';
}

function mediaEssence(mediaRange: string): string {
  return (mediaRange.split(';')[0] ?? '').trim().toLowerCase();
}

// --- Parameters --------------------------------------------------------------------------------

const STYLES: readonly ParameterStyle[] = [
  'simple',
  'form',
  'label',
  'matrix',
  'spaceDelimited',
  'pipeDelimited',
  'deepObject',
];
// Where each style is defined (the Style Values table of OpenAPI 3.0/3.1): any other place has no
// defined serialization, so the build refuses it rather than guess how clients write it.
const STYLE_LOCATIONS: Readonly<Record<Exclude<ParameterStyle, 'json'>, readonly ParameterLocation[]>> = {
  matrix: ['path'],
  label: ['path'],
  simple: ['path', 'header'],
  form: ['query', 'cookie'],
  spaceDelimited: ['query'],
  pipeDelimited: ['query'],
  deepObject: ['query'],
};
// The document cannot describe these headers as parameters (OpenAPI 3.x: such definitions are ignored).
const IGNORED_HEADERS = ['accept', 'content-type', 'authorization'];

// --- The document ------------------------------------------------------------------------------

/** What compilation is asked for. */
export interface CompileOptions {
  /** Generate response validators (RESPONSE_VALIDATION log/strict needs them). */
  readonly responseValidators: boolean;
  /** Where the document is, for the generated files' header. */
  readonly source?: string;
}

/** One generated validation module. */
export interface OperationModule {
  readonly key: string;
  readonly operationId: string;
  /** File name inside shared/generated/validators/. */
  readonly file: string;
  readonly content: string;
}

/** A reader only some documents need (shared/validation/table.ts `Readers`). */
export type ReaderName = 'form' | 'multipart' | 'deepObject' | 'styled';

/** What the generator produced for a document. */
export interface CompiledValidators {
  readonly modules: readonly OperationModule[];
  /** The readers the document's operations need, sorted. */
  readonly readers: readonly ReaderName[];
  /** shared/generated/validators/index.cjs */
  readonly registry: string;
  /** shared/generated/validators/formats.cjs, when the document uses formats checked with code. */
  readonly formats: string | undefined;
  /** The ajv runtime helpers the modules use. */
  readonly runtime: readonly string[];
  readonly warnings: readonly ReviewFinding[];
  readonly errors: readonly ReviewFinding[];
}

function slug(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'operation'
  );
}

/** The file name of an operation's module (document order, so names are stable). */
export function moduleFileName(index: number, operationId: string): string {
  return `${String(index).padStart(4, '0')}-${slug(operationId)}.validator.cjs`;
}

/** Compiles every operation of the document. Throws (naming every place) when it cannot. */
export function compileDocument(doc: OpenApiDocument, options: CompileOptions): CompiledValidators {
  const compiler = new SchemaCompiler(doc);
  const review = new SchemaReview(compiler.draft, compiler.resolve);
  const problems: string[] = [];
  const modules: OperationModule[] = [];
  const runtime = new Set<string>();
  const readers = new Set<ReaderName>();
  const formats = new Set<string>();
  const header = `// Generated by \`npm run generate\` from ${options.source ?? 'the API document'}. Do not edit.`;

  operations(doc).forEach((op, index) => {
    try {
      const compiled = compileOperation(doc, op, compiler, review, options, readers);
      const body = standaloneBody(compiler.ajv, compiled.exports);
      for (const r of body.runtime) runtime.add(r);
      for (const f of formatsUsed(body.code)) formats.add(f);
      modules.push({
        key: routeKey(op),
        operationId: op.operationId,
        file: moduleFileName(index, op.operationId),
        content: `'use strict';\n${header}\nmodule.exports = function (__rt) {\nconst exports = {};\n${body.code}\nreturn ${compiled.validation};\n};\n`,
      });
    } catch (err) {
      problems.push(`${op.pointer} (${op.operationId}): ${(err as Error).message}`);
    }
  });
  const errors = review.errors;
  problems.push(...errors.map((e) => `${e.pointer} (${e.operation}): ${e.message}`));
  if (problems.length > 0)
    throw new OpenApiError(`the document cannot be compiled:\n  ${problems.join('\n  ')}`);

  const registry = [
    "'use strict';",
    header,
    '// Each entry is required on first use only (shared/validation/registry.ts).',
    `exports.responseValidators = ${options.responseValidators};`,
    'exports.runtime = {',
    ...[...runtime].sort().map((r) => `  ${JSON.stringify(r)}: () => require(${JSON.stringify(r)}),`),
    '};',
    'exports.operations = {',
    ...modules.map((m) => `  ${JSON.stringify(m.key)}: () => require(${JSON.stringify(`./${m.file}`)}),`),
    '};',
    '',
  ].join('\n');
  return {
    modules,
    readers: [...readers].sort(),
    registry,
    formats: formats.size === 0 ? undefined : formatsModule([...formats], header),
    runtime: [...runtime].sort(),
    warnings: review.warnings,
    errors,
  };
}

/** Compiles one operation: the ajv exports it needs and the JS expression of its validation. */
function compileOperation(
  doc: OpenApiDocument,
  op: Operation,
  compiler: SchemaCompiler,
  review: SchemaReview,
  options: CompileOptions,
  readers: Set<ReaderName>,
): { exports: Record<string, string>; validation: string } {
  const exports: Record<string, string> = {};
  const shapes = new ShapeBuilder(compiler.resolve);
  const exportOf = (schema: unknown, direction: Direction, pointer: string): string => {
    review.review(schema, pointer, op.operationId);
    const name = `v${Object.keys(exports).length}`;
    exports[name] = compiler.add(schema, direction);
    return `exports.${name}`;
  };

  // Parameters: one object per location, validated at once.
  const rules: ParameterRule[] = [];
  const props: Record<ParameterLocation, Record<string, unknown>> = {
    path: {},
    query: {},
    header: {},
    cookie: {},
  };
  op.parameters.forEach((param, n) => {
    const at = op.parameterPointers[n] ?? op.pointer;
    const location = String(param.in);
    if (location !== 'path' && location !== 'query' && location !== 'header' && location !== 'cookie')
      throw new OpenApiError(`${at}: parameter ${String(param.name)} has an unknown "in"`);
    if (typeof param.name !== 'string' || param.name === '')
      throw new OpenApiError(`${at}: a parameter needs a name`);
    const name = location === 'header' ? param.name.toLowerCase() : param.name;
    if (location === 'header' && IGNORED_HEADERS.includes(name)) return;
    // The forwarder sends a declared header exactly as validated and signs it; one it never sends
    // (Host, hop-by-hop, X-Api-Key, X-Gatehouse-*...) would make the forwarded request differ.
    if (location === 'header' && neverForwarded(name))
      throw new OpenApiError(
        `${at}: header parameter "${name}" is never forwarded to the backend (docs/request-validator.md#forwarding)`,
      );
    let schema: unknown = param.schema;
    let schemaPointer = `${at}/schema`;
    let style: ParameterStyle;
    if (param.content !== undefined) {
      const entries = Object.entries((param.content ?? {}) as Record<string, Schema>);
      const [media, content] = entries[0] ?? [];
      if (entries.length !== 1 || media === undefined)
        throw new OpenApiError(`${at}: "content" must hold exactly one media type`);
      schema = content?.schema ?? {};
      schemaPointer = childPointer(at, 'content', media, 'schema');
      style =
        bodyKind(media) === 'json'
          ? 'json'
          : location === 'query' || location === 'cookie'
            ? 'form'
            : 'simple';
      if (style !== 'json') schema = { type: 'string' };
    } else {
      const declared = param.style ?? (location === 'query' || location === 'cookie' ? 'form' : 'simple');
      if (!STYLES.includes(declared as ParameterStyle))
        throw new OpenApiError(`${at}: style ${JSON.stringify(declared)} is not an OpenAPI style`);
      style = declared as ParameterStyle;
      if (!STYLE_LOCATIONS[style as Exclude<ParameterStyle, 'json'>].includes(location))
        throw new OpenApiError(`${at}: style ${JSON.stringify(style)} is not defined for "in: ${location}"`);
    }
    schemaPointer = derefPointer(doc, schema, schemaPointer);
    review.review(schema ?? {}, schemaPointer, op.operationId);
    const explode = typeof param.explode === 'boolean' ? param.explode : style === 'form';
    const required = param.required === true || location === 'path';
    if (style === 'deepObject') readers.add('deepObject');
    rules.push({ name, in: location, required, style, explode, shape: shapes.build([schema ?? {}]) });
    props[location][name] = compiler.prepare(schema ?? {}, 'request');
  });
  const paramsSchema = {
    type: 'object',
    properties: Object.fromEntries(
      (['path', 'query', 'header', 'cookie'] as const).map((location) => [
        location,
        {
          type: 'object',
          // Query names are an allow-list; headers and cookies carry much besides parameters.
          ...(location === 'query' || location === 'path' ? { additionalProperties: false } : {}),
          properties: props[location],
          required: rules.filter((r) => r.in === location && r.required).map((r) => r.name),
        },
      ]),
    ),
  };
  const paramsId = `v${Object.keys(exports).length}`;
  {
    const id = `${BASE_ID}params/${encodeURIComponent(routeKey(op))}`;
    // Already prepared: the parameter schemas went through `prepare` above.
    compiler.ajv.addSchema({ ...paramsSchema, $id: id } as AnySchema);
    exports[paramsId] = id;
  }

  // Request body.
  let body = 'null';
  const rawBody = op.operation.requestBody;
  if (rawBody !== undefined) {
    const bodyPointer = derefPointer(doc, rawBody, `${op.pointer}/requestBody`);
    const requestBody = deref<Schema>(doc, rawBody);
    const media: string[] = [];
    for (const [range, content] of Object.entries((requestBody.content ?? {}) as Record<string, Schema>)) {
      const kind = bodyKind(range);
      if (kind === 'form' || kind === 'multipart') readers.add(kind);
      const key = mediaEssence(range);
      const at = childPointer(bodyPointer, 'content', range, 'schema');
      const entry: { -readonly [K in keyof MediaValidation]: MediaValidation[K] } = { kind };
      let validate: string | undefined;
      if (kind !== 'opaque' && content?.schema !== undefined) {
        validate = exportOf(content.schema, 'request', derefPointer(doc, content.schema, at));
        if (kind !== 'json') {
          entry.shape = shapes.build([content.schema]);
          const fields = fieldEncodings(doc, content, compiler.resolve, kind);
          if (fields.json.length > 0) entry.jsonFields = fields.json;
          if (kind === 'multipart' && fields.files.length > 0) entry.fileFields = fields.files;
        }
      }
      media.push(
        `${JSON.stringify(key)}: { ...${JSON.stringify(entry)}${validate === undefined ? '' : `, validate: ${validate}`} }`,
      );
    }
    body = `{ required: ${requestBody.required === true}, media: { ${media.join(', ')} } }`;
  }

  // Responses, only when asked for.
  const responses: string[] = [];
  if (options.responseValidators) {
    for (const [status, rawResponse] of Object.entries(
      (op.operation.responses ?? {}) as Record<string, unknown>,
    )) {
      const at = derefPointer(doc, rawResponse, `${op.pointer}/responses/${status}`);
      const response = deref<Schema>(doc, rawResponse);
      const media: string[] = [];
      for (const [type, content] of Object.entries((response.content ?? {}) as Record<string, Schema>)) {
        if (bodyKind(type) !== 'json' || content?.schema === undefined) continue;
        const schemaAt = childPointer(at, 'content', type, 'schema');
        media.push(
          `${JSON.stringify(mediaEssence(type))}: ${exportOf(content.schema, 'response', derefPointer(doc, content.schema, schemaAt))}`,
        );
      }
      if (media.length > 0) responses.push(`${JSON.stringify(status)}: { ${media.join(', ')} }`);
    }
  }

  // Label and matrix values and objects are read by the `styled` reader (shared/validation/params.ts).
  const objectShape = (n: number) => {
    const shape = shapes.shapes[n];
    return shape?.properties !== undefined || shape?.additional !== undefined;
  };
  if (rules.some((r) => r.style === 'label' || r.style === 'matrix' || objectShape(r.shape)))
    readers.add('styled');
  const validation = `{\n  params: exports.${paramsId},\n  parameters: ${JSON.stringify(rules)},\n  shapes: ${JSON.stringify(shapes.shapes)},\n  body: ${body},\n  responses: { ${responses.join(', ')} },\n}`;
  return { exports, validation };
}

/** A pointer below another one. */
function childPointer(pointer: string, ...tokens: string[]): string {
  return `${pointer}${pointerOf(...tokens).slice(1)}`;
}

/**
 * Form and multipart fields sent as JSON, and multipart fields that are files. A field is JSON when
 * its encoding's `contentType` is JSON, or — in multipart bodies — when it is an object with no
 * encoding that says otherwise: the Encoding Object's default Content-Type for objects is
 * `application/json` (a `style` or `explode` keeps the bracket names, as Stripe's documents use).
 */
function fieldEncodings(
  doc: OpenApiDocument,
  content: Schema,
  resolve: (ref: string) => unknown,
  kind: BodyKind,
): { json: string[]; files: string[] } {
  const json: string[] = [];
  const files: string[] = [];
  const encoding = isSchemaObject(content.encoding) ? content.encoding : {};
  for (const [field, raw] of Object.entries(encoding)) {
    if (isSchemaObject(raw) && typeof raw.contentType === 'string' && bodyKind(raw.contentType) === 'json')
      json.push(field);
  }
  const schema = deref<unknown>(doc, content.schema);
  const properties = isSchemaObject(schema) && isSchemaObject(schema.properties) ? schema.properties : {};
  for (const [field, raw] of Object.entries(properties)) {
    let property: unknown = raw;
    for (let i = 0; i < 8 && isSchemaObject(property) && typeof property.$ref === 'string'; i++)
      property = resolve(property.$ref);
    if (!isSchemaObject(property)) continue;
    const fieldEncoding = Object.hasOwn(encoding, field) ? encoding[field] : undefined;
    const declared =
      isSchemaObject(fieldEncoding) &&
      ['contentType', 'style', 'explode'].some((k) => Object.hasOwn(fieldEncoding, k));
    const types = Array.isArray(property.type) ? property.type : [property.type];
    if (kind === 'multipart' && !declared && types.includes('object') && !json.includes(field)) {
      json.push(field);
      continue;
    }
    const item = property.type === 'array' && isSchemaObject(property.items) ? property.items : property;
    const isFile =
      item.format === 'binary' ||
      typeof item.contentMediaType === 'string' ||
      typeof item.contentEncoding === 'string';
    if (isFile && !json.includes(field)) files.push(field);
  }
  return { json, files };
}
