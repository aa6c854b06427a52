/**
 * Build-time compilation of every schema of the API document into ajv standalone code, so the
 * request validator never compiles a schema (nor calls `new Function`) at run time.
 *
 * - OpenAPI 3.1 schemas are JSON Schema 2020-12 (ajv/dist/2020); 3.0 schemas are translated
 *   (`nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`) and compiled as draft-07.
 * - Every schema node must pass ajv's secure meta-schema (`json-schema-secure.json`): unbounded
 *   `pattern`/`format` strings or `uniqueItems` arrays fail the build, naming the schema.
 * - `type: integer` without tighter bounds gets ±Number.MAX_SAFE_INTEGER, so integers JSON.parse
 *   rounds (2^53 + 1 → 2^53) fail validation instead of reaching the backend changed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type AnySchema, type Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneModuleExports from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';
import type { ParameterKind, ParameterSpec } from '../../shared/validation/table.ts';
import { deref, isOpenApi30, type OpenApiDocument, OpenApiError, operations } from './document.ts';

/** The JSON Schema dialect a set of schemas is compiled with. */
export type Draft = '2020-12' | 'draft-07';

/** The ajv options shared by production and the JSON-Schema-Test-Suite run (chosen for safety). */
export const AJV_OPTIONS: Options = {
  code: { source: true, esm: true, lines: false },
  // Properties inherited from Object.prototype must never satisfy `required` or `properties`.
  ownProperties: true,
  $data: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  // All errors of a request at once; the run time truncates the list it reports.
  allErrors: true,
  strict: true,
  strictTypes: false,
  strictTuples: false,
  allowUnionTypes: true,
  // Annotations written in OpenAPI documents; they never change a verdict.
  keywords: ['example', 'discriminator', 'xml', 'externalDocs', 'x-gatehouse'],
};

/**
 * A fresh ajv instance for a dialect, with ajv-formats in full mode when `formats` is on. `strict`
 * (default on) only makes compilation refuse unknown keywords; it never changes a verdict.
 */
export function createAjv(
  draft: Draft,
  options: { formats: boolean; strict?: boolean } = { formats: true },
): Ajv {
  const settings: Options = {
    ...AJV_OPTIONS,
    validateFormats: options.formats,
    strict: options.strict ?? true,
  };
  const ajv = draft === '2020-12' ? new Ajv2020(settings) : new Ajv(settings);
  if (options.formats) addFormats(ajv, { mode: 'full' });
  return ajv;
}

const requireHere = createRequire(import.meta.url);
// CommonJS modules whose `module.exports` is the function (tsx) or whose `default` is (types).
const standaloneCode = ((standaloneModuleExports as unknown as { default?: unknown }).default ??
  standaloneModuleExports) as unknown as (ajv: Ajv, refs: Record<string, string>) => string;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv, options: { mode: 'full' }) => void;

/**
 * Standalone ESM for the schemas already added to `ajv`, one export per entry of `exports`
 * (export name → schema `$id`). ajv's ESM output still `require`s its runtime helpers and
 * ajv-formats' functions; they become static imports so the module runs under Node ESM as it is and
 * esbuild bundles it.
 */
export function standaloneModule(ajv: Ajv, exports: Readonly<Record<string, string>>): string {
  const code = standaloneCode(ajv, { ...exports });
  const imports = new Map<string, string>();
  const body = code.replace(/require\("([^"]+)"\)/g, (_all: string, spec: string) => {
    // Node ESM needs the file name; the package exports no map for these subpaths.
    const resolved = /\.[cm]?js$/.test(spec) ? spec : `${spec}.js`;
    requireHere.resolve(resolved);
    let local = imports.get(resolved);
    if (local === undefined) {
      local = `__ajv${imports.size}`;
      imports.set(resolved, local);
    }
    return local;
  });
  // A CommonJS module's exports object, whichever interop imported it: Node and esbuild (for .mjs)
  // put `module.exports` on `default`; other loaders give the exports themselves.
  const pick = 'const __exportsOf = (ns) => (ns.default && ns.default.__esModule ? ns.default : ns);';
  const header = [...imports]
    .map(
      ([spec, local]) =>
        `import * as ${local}_ns from ${JSON.stringify(spec)};\nconst ${local} = __exportsOf(${local}_ns);`,
    )
    .join('\n');
  return `${pick}\n${header}\n${body.replace(/^"use strict";/, '')}\n`;
}

// --- Schema walking ----------------------------------------------------------------------------

type Schema = Record<string, unknown>;

const MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const ONE_KEYWORDS = [
  'additionalProperties',
  'additionalItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'items',
];
const LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];

function isSchemaObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Rebuilds a schema bottom-up, calling `visit` on every schema object (never on `enum`, `const`,
 * `default` or `example` values, which are data).
 */
export function mapSchema(schema: unknown, visit: (node: Schema) => Schema): unknown {
  if (!isSchemaObject(schema)) return schema;
  const out: Schema = { ...schema };
  for (const k of MAP_KEYWORDS) {
    const map = out[k];
    if (isSchemaObject(map))
      out[k] = Object.fromEntries(Object.entries(map).map(([n, s]) => [n, mapSchema(s, visit)]));
  }
  for (const k of ONE_KEYWORDS) if (isSchemaObject(out[k])) out[k] = mapSchema(out[k], visit);
  for (const k of LIST_KEYWORDS) {
    const list = out[k];
    if (Array.isArray(list)) out[k] = list.map((s) => mapSchema(s, visit));
  }
  if (isSchemaObject(out.dependencies)) {
    out.dependencies = Object.fromEntries(
      Object.entries(out.dependencies).map(([n, s]) => [n, Array.isArray(s) ? s : mapSchema(s, visit)]),
    );
  }
  return visit(out);
}

/** Every schema object inside a schema, itself included. */
export function schemaNodes(schema: unknown): Schema[] {
  const nodes: Schema[] = [];
  mapSchema(schema, (node) => {
    nodes.push(node);
    return node;
  });
  return nodes;
}

/** OpenAPI 3.0 → JSON Schema: `nullable`, boolean exclusive bounds. */
export function translate30(schema: unknown): unknown {
  return mapSchema(schema, (node) => {
    const out = { ...node };
    if (out.nullable === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    }
    delete out.nullable;
    for (const [flag, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const) {
      if (typeof out[flag] !== 'boolean') continue;
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else delete out[flag];
    }
    return out;
  });
}

/** Adds ±MAX_SAFE_INTEGER bounds to integer schemas that lack tighter ones. */
export function boundIntegers(schema: unknown): unknown {
  return mapSchema(schema, (node) => {
    const types = Array.isArray(node.type) ? node.type : [node.type];
    if (!types.includes('integer')) return node;
    const out = { ...node };
    const low = [out.minimum, out.exclusiveMinimum].filter((v): v is number => typeof v === 'number');
    const high = [out.maximum, out.exclusiveMaximum].filter((v): v is number => typeof v === 'number');
    if (!low.some((v) => v >= -Number.MAX_SAFE_INTEGER)) out.minimum = -Number.MAX_SAFE_INTEGER;
    if (!high.some((v) => v <= Number.MAX_SAFE_INTEGER)) out.maximum = Number.MAX_SAFE_INTEGER;
    return out;
  });
}

/** Points `#/components/schemas/...` references at the components schema registered with ajv. */
function rewriteRefs(schema: unknown, componentsId: string, defsKey: string, where: string): unknown {
  return mapSchema(schema, (node) => {
    if (typeof node.$ref !== 'string') return node;
    const prefix = '#/components/schemas/';
    if (!node.$ref.startsWith(prefix))
      throw new OpenApiError(`${where}: $ref ${node.$ref} is not under ${prefix} (not supported)`);
    return { ...node, $ref: `${componentsId}#/${defsKey}/${node.$ref.slice(prefix.length)}` };
  });
}

// --- Secure meta-schema ------------------------------------------------------------------------

/** Returns a checker that names every schema node failing ajv's secure meta-schema. */
export function secureSchemaChecker(): (name: string, schema: unknown) => string[] {
  const meta = JSON.parse(readFileSync(new URL('./json-schema-secure.json', import.meta.url), 'utf8'));
  // The meta-schema is draft-07; it is checked against every node on its own (below), because its
  // own recursion does not know 2020-12 keywords such as `prefixItems` or `$defs`.
  const check = new Ajv({ strictTypes: false, allErrors: true }).compile(meta as AnySchema);
  return (name, schema) =>
    schemaNodes(schema).flatMap((node) =>
      check(node)
        ? []
        : [
            `${name}: ${JSON.stringify(node).slice(0, 120)} is not secure (${(check.errors ?? []).map((e: { message?: string }) => e.message).join(', ')})`,
          ],
    );
}

// --- Keywords ajv's standalone code gets wrong --------------------------------------------------

// Found by the JSON-Schema-Test-Suite run (test/corpora/json-schema-suite.test.ts): with these, the
// generated code overflows the stack or accepts data it must refuse, so documents may not use them.
const REFUSED_KEYWORDS = [
  '$dynamicRef',
  '$dynamicAnchor',
  '$recursiveRef',
  '$recursiveAnchor',
  'unevaluatedItems',
];

/** Problems for keywords the build refuses, naming the schema. */
export function unsupportedKeywords(name: string, schema: unknown): string[] {
  return schemaNodes(schema).flatMap((node) => {
    const found = REFUSED_KEYWORDS.filter((k) => Object.hasOwn(node, k));
    if (Object.hasOwn(node, 'unevaluatedProperties') && schemaNodes(node).some((n) => Object.hasOwn(n, 'if')))
      found.push('unevaluatedProperties with if');
    return found.map((k) => `${name}: ${k} is not supported (ajv's standalone code gets it wrong)`);
  });
}

// --- Parameters --------------------------------------------------------------------------------

function scalarKind(schema: Schema | undefined, where: string): ParameterKind {
  const raw = schema?.type;
  const types = (Array.isArray(raw) ? raw : raw === undefined ? ['string'] : [raw]).filter(
    (t) => t !== 'null',
  );
  const [type] = types;
  if (types.length !== 1 || !['string', 'integer', 'number', 'boolean'].includes(String(type)))
    throw new OpenApiError(
      `${where}: parameters must have one scalar type (string, integer, number, boolean) or be an array of one`,
    );
  return type as ParameterKind;
}

function parameterSpec(doc: OpenApiDocument, param: Schema, where: string): ParameterSpec {
  const schema = deref<Schema | undefined>(doc, param.schema);
  const location = String(param.in);
  const name = location === 'header' ? String(param.name).toLowerCase() : String(param.name);
  const required = param.required === true || location === 'path';
  if (schema?.type === 'array' || (Array.isArray(schema?.type) && schema.type.includes('array'))) {
    if (location === 'path') throw new OpenApiError(`${where}: array path parameters are not supported`);
    const explode = location === 'query' && param.explode !== false && (param.style ?? 'form') === 'form';
    const items = deref<Schema | undefined>(doc, schema?.items);
    return {
      name,
      required,
      kind: scalarKind(items, `${where} items`),
      array: explode ? 'explode' : 'comma',
    };
  }
  return { name, required, kind: scalarKind(schema, where), array: 'none' };
}

// --- The document ------------------------------------------------------------------------------

/** What the generator produced for a document. */
export interface CompiledValidators {
  /** Standalone ESM exporting `v0`, `v1`, ... */
  readonly module: string;
  /** Type declarations for the module. */
  readonly declarations: string;
  /** TypeScript for the validation table (imports the module). */
  readonly table: string;
}

const JSON_MEDIA = /^application\/(?:[a-z0-9.+-]+\+)?json$/;

/** Compiles every request/response schema of the document. Throws naming the unsafe schema. */
export function compileDocument(doc: OpenApiDocument, moduleName = './validators.mjs'): CompiledValidators {
  const draft: Draft = isOpenApi30(doc) ? 'draft-07' : '2020-12';
  const defsKey = draft === '2020-12' ? '$defs' : 'definitions';
  const componentsId = 'https://gatehouse.dev/openapi/components.json';
  const prepare = (schema: unknown, where: string): unknown => {
    const translated = draft === 'draft-07' ? translate30(schema) : schema;
    return boundIntegers(rewriteRefs(translated, componentsId, defsKey, where));
  };
  const secure = secureSchemaChecker();
  const problems: string[] = [];
  const ajv = createAjv(draft);

  const components = (doc.components?.schemas ?? {}) as Record<string, unknown>;
  const defs: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(components)) {
    defs[name] = prepare(schema, `components.schemas.${name}`);
    problems.push(...secure(`components.schemas.${name}`, defs[name]));
    problems.push(...unsupportedKeywords(`components.schemas.${name}`, defs[name]));
  }
  ajv.addSchema({ $id: componentsId, [defsKey]: defs } as AnySchema);

  const exportsById: Record<string, string> = {};
  const add = (schema: unknown, where: string): string => {
    const name = `v${Object.keys(exportsById).length}`;
    const id = `https://gatehouse.dev/openapi/${encodeURIComponent(where)}`;
    const prepared = prepare(schema, where);
    problems.push(...secure(where, prepared), ...unsupportedKeywords(where, prepared));
    ajv.addSchema({ ...(prepared as Schema), $id: id } as AnySchema);
    exportsById[name] = id;
    return name;
  };

  const entries: string[] = [];
  for (const op of operations(doc)) {
    const where = op.operationId;
    const groups: Record<
      'path' | 'query' | 'header',
      { specs: ParameterSpec[]; props: Record<string, unknown> }
    > = { path: { specs: [], props: {} }, query: { specs: [], props: {} }, header: { specs: [], props: {} } };
    for (const param of op.parameters) {
      const location = String(param.in);
      if (location === 'cookie') {
        if (param.required === true) throw new OpenApiError(`${where}: cookie parameters are not supported`);
        continue;
      }
      if (location !== 'path' && location !== 'query' && location !== 'header')
        throw new OpenApiError(`${where}: parameter ${String(param.name)} has an unknown "in"`);
      if (param.content !== undefined)
        throw new OpenApiError(`${where}: parameter ${String(param.name)}: "content" is not supported`);
      const spec = parameterSpec(doc, param, `${where} parameter ${String(param.name)}`);
      groups[location].specs.push(spec);
      groups[location].props[spec.name] = param.schema ?? {};
    }
    const paramsSchema = {
      type: 'object',
      required: ['path', 'query', 'header'],
      properties: Object.fromEntries(
        (['path', 'query', 'header'] as const).map((location) => [
          location,
          {
            type: 'object',
            additionalProperties: false,
            properties: groups[location].props,
            required: groups[location].specs.filter((s) => s.required).map((s) => s.name),
          },
        ]),
      ),
    };
    const params = add(paramsSchema, `${where}.parameters`);

    let body = 'null';
    const rawBody = deref<Schema | undefined>(doc, op.operation.requestBody);
    if (rawBody !== undefined) {
      const media: string[] = [];
      for (const [type, content] of Object.entries((rawBody.content ?? {}) as Record<string, Schema>)) {
        const essence = type.toLowerCase();
        if (!JSON_MEDIA.test(essence))
          throw new OpenApiError(`${where}: request media type ${type} is not supported (JSON only)`);
        media.push(
          `${JSON.stringify(essence)}: V.${add(content.schema ?? {}, `${where}.requestBody.${essence}`)}`,
        );
      }
      body = `{ required: ${rawBody.required === true}, media: { ${media.join(', ')} } }`;
    }

    const responses: string[] = [];
    for (const [status, rawResponse] of Object.entries(
      (op.operation.responses ?? {}) as Record<string, unknown>,
    )) {
      const response = deref<Schema>(doc, rawResponse);
      const media: string[] = [];
      for (const [type, content] of Object.entries((response.content ?? {}) as Record<string, Schema>)) {
        const essence = type.toLowerCase();
        if (!JSON_MEDIA.test(essence) || content.schema === undefined) continue;
        media.push(
          `${JSON.stringify(essence)}: V.${add(content.schema, `${where}.responses.${status}.${essence}`)}`,
        );
      }
      if (media.length > 0) responses.push(`${JSON.stringify(status)}: { ${media.join(', ')} }`);
    }
    const specs = (location: 'path' | 'query' | 'header') => JSON.stringify(groups[location].specs);
    entries.push(
      `  ${JSON.stringify(op.operationId)}: {\n    params: V.${params},\n    path: ${specs('path')},\n    query: ${specs('query')},\n    header: ${specs('header')},\n    body: ${body},\n    responses: { ${responses.join(', ')} },\n  },`,
    );
  }
  if (problems.length > 0) throw new OpenApiError(`unsafe schemas:\n  ${problems.join('\n  ')}`);

  const names = Object.keys(exportsById);
  return {
    module: standaloneModule(ajv, exportsById),
    declarations: `import type { ValidateFunction } from '../validation/table.ts';\n\n${names.map((n) => `export declare const ${n}: ValidateFunction;`).join('\n')}\n`,
    table: `import type { ValidationTable } from '../validation/table.ts';\nimport * as V from '${moduleName}';\n\nexport const VALIDATION: ValidationTable = {\n${entries.join('\n')}\n};\n`,
  };
}

const GENERATED_HEADER = '// Generated by `npm run generate` from openapi.yaml. Do not edit.\n';

/** The generator registered in tools/generate.ts: the files under shared/generated/. */
export function validatorFiles(doc: OpenApiDocument): { path: string; content: string }[] {
  const compiled = compileDocument(doc);
  return [
    { path: 'shared/generated/validators.mjs', content: `${GENERATED_HEADER}${compiled.module}` },
    { path: 'shared/generated/validators.d.mts', content: `${GENERATED_HEADER}${compiled.declarations}` },
    { path: 'shared/generated/validation-table.ts', content: `${GENERATED_HEADER}${compiled.table}` },
  ];
}
