/**
 * Schema Objects of an OpenAPI document turned into what ajv compiles: OpenAPI 3.0's dialect
 * translated, annotations and extensions removed, unknown formats and keywords dropped (the review
 * warns about each, tools/openapi/review.ts), `readOnly`/`writeOnly` applied to one direction,
 * `discriminator` made to choose the branch, integers bounded to the safe range.
 */
import type { Draft } from './validators.ts';

/** A JSON Schema object. */
export type Schema = Record<string, unknown>;

/** Subschemas under a name map. */
export const MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
/** One subschema. */
export const ONE_KEYWORDS = [
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
  'contentSchema',
];
/** A list of subschemas. */
export const LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];

/** True for a schema object (not a boolean schema, not a list). */
export function isSchemaObject(value: unknown): value is Schema {
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

/** Every subschema of a node with its pointer tokens relative to the node (one level). */
export function childSchemas(node: Schema): [tokens: string[], child: unknown][] {
  const out: [string[], unknown][] = [];
  for (const k of MAP_KEYWORDS) {
    const map = node[k];
    if (isSchemaObject(map)) for (const [n, s] of Object.entries(map)) out.push([[k, n], s]);
  }
  for (const k of ONE_KEYWORDS) if (isSchemaObject(node[k])) out.push([[k], node[k]]);
  for (const k of LIST_KEYWORDS) {
    const list = node[k];
    if (Array.isArray(list)) for (const [n, s] of list.entries()) out.push([[k, String(n)], s]);
  }
  if (isSchemaObject(node.dependencies))
    for (const [n, s] of Object.entries(node.dependencies))
      if (!Array.isArray(s)) out.push([['dependencies', n], s]);
  return out;
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

// --- Keywords and formats ----------------------------------------------------------------------

const COMMON_KEYWORDS = [
  '$id',
  '$schema',
  '$ref',
  '$comment',
  'definitions',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'items',
  'additionalItems',
  'contains',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'dependencies',
  'type',
  'enum',
  'const',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'format',
  'title',
  'description',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'examples',
  'contentMediaType',
  'contentEncoding',
];

/** Keywords of JSON Schema 2020-12 that draft-07 (OpenAPI 3.0) does not have. */
const KEYWORDS_2020 = [
  '$defs',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$vocabulary',
  '$recursiveRef',
  '$recursiveAnchor',
  'prefixItems',
  'dependentSchemas',
  'dependentRequired',
  'unevaluatedItems',
  'unevaluatedProperties',
  'maxContains',
  'minContains',
  'contentSchema',
];

/** OpenAPI's own Schema Object fields: annotations that never change a verdict (or are applied here). */
export const OPENAPI_KEYWORDS = ['discriminator', 'xml', 'externalDocs', 'example', 'nullable'];

/** True when a keyword means something to the dialect (ajv would refuse anything else in strict mode). */
export function isKnownKeyword(keyword: string, draft: Draft): boolean {
  return COMMON_KEYWORDS.includes(keyword) || (draft === '2020-12' && KEYWORDS_2020.includes(keyword));
}

/**
 * The formats ajv-formats checks (full mode). Any other format is an annotation: the review warns,
 * the value is validated by its type.
 */
export const KNOWN_FORMATS = [
  'date',
  'time',
  'date-time',
  'iso-time',
  'iso-date-time',
  'duration',
  'uri',
  'uri-reference',
  'uri-template',
  'url',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'regex',
  'uuid',
  'json-pointer',
  'json-pointer-uri-fragment',
  'relative-json-pointer',
  'byte',
  'int32',
  'int64',
  'float',
  'double',
  'password',
  'binary',
];

/** Formats that constrain numbers (cheap at any size) or accept every string: never a cost. */
export const CHEAP_FORMATS = ['int32', 'int64', 'float', 'double', 'password', 'binary'];

// --- Transforms --------------------------------------------------------------------------------

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

/**
 * Removes what ajv must not see: `x-*` extensions, OpenAPI annotations, keywords unknown to the
 * dialect and formats ajv-formats does not know (the review reports the last two).
 */
export function stripAnnotations(schema: unknown, draft: Draft): unknown {
  return mapSchema(schema, (node) => {
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) {
      if (!isKnownKeyword(k, draft)) continue;
      if (k === 'format' && (typeof v !== 'string' || !KNOWN_FORMATS.includes(v))) continue;
      // JSON Schema says enum values SHOULD be unique; ajv's meta-schema requires it. The set is the same.
      if (k === 'enum' && Array.isArray(v)) {
        out[k] = [...new Map(v.map((e) => [JSON.stringify(e), e])).values()];
        continue;
      }
      out[k] = v;
    }
    return out;
  });
}

/** Which direction a schema is used in: request schemas ignore `readOnly`, responses `writeOnly`. */
export type Direction = 'request' | 'response';

/**
 * Drops from `required` the properties that the other direction owns: a required `readOnly`
 * property is required in responses only, a required `writeOnly` one in requests only (OpenAPI
 * 3.0 §4.7.24.3; 3.1 keeps the meaning). `resolve` follows a property's `$ref`.
 */
export function applyDirection(
  schema: unknown,
  direction: Direction,
  resolve: (ref: string) => unknown,
): unknown {
  const flag = direction === 'request' ? 'readOnly' : 'writeOnly';
  const flagged = (property: unknown, depth = 0): boolean => {
    if (!isSchemaObject(property) || depth > 8) return false;
    if (property[flag] === true) return true;
    if (typeof property.$ref === 'string') {
      try {
        return flagged(resolve(property.$ref), depth + 1);
      } catch {
        return false;
      }
    }
    return Array.isArray(property.allOf) && property.allOf.some((s) => flagged(s, depth + 1));
  };
  return mapSchema(schema, (node) => {
    if (!Array.isArray(node.required) || !isSchemaObject(node.properties)) return node;
    const properties = node.properties;
    const required = node.required.filter(
      (name) => !(typeof name === 'string' && Object.hasOwn(properties, name) && flagged(properties[name])),
    );
    return required.length === node.required.length ? node : { ...node, required };
  });
}

/**
 * OpenAPI `discriminator` on a `oneOf`/`anyOf` of `$ref`s: the tag property chooses the one branch
 * to validate against (by `mapping`, else by the component name), instead of trying every branch
 * (where two similar branches would both match and `oneOf` fail). Other discriminators stay
 * annotations (the review says so).
 */
export function applyDiscriminator(schema: unknown): unknown {
  return mapSchema(schema, (node) => {
    const plan = discriminatorPlan(node);
    if (plan === undefined) return node;
    const { oneOf: _one, anyOf: _any, ...rest } = node;
    const tags = plan.branches.map((b) => b.tag);
    return {
      ...rest,
      required: [...new Set([...(Array.isArray(node.required) ? node.required : []), plan.property])],
      allOf: [
        ...(Array.isArray(node.allOf) ? node.allOf : []),
        { properties: { [plan.property]: { enum: tags } } },
        ...plan.branches.map((b) => ({
          if: { properties: { [plan.property]: { const: b.tag } }, required: [plan.property] },
          // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
          then: { $ref: b.ref },
        })),
      ],
    };
  });
}

/** How a discriminator picks branches, or undefined when it cannot (left as an annotation). */
export function discriminatorPlan(
  node: Schema,
): { property: string; branches: { tag: string; ref: string }[] } | undefined {
  const d = node.discriminator;
  if (!isSchemaObject(d) || typeof d.propertyName !== 'string') return undefined;
  const list = Array.isArray(node.oneOf) ? node.oneOf : Array.isArray(node.anyOf) ? node.anyOf : undefined;
  if (list === undefined || list.length === 0) return undefined;
  const refs = list.map((b) => (isSchemaObject(b) && typeof b.$ref === 'string' ? b.$ref : undefined));
  if (refs.some((r) => r === undefined)) return undefined;
  const mapping = isSchemaObject(d.mapping) ? d.mapping : {};
  const branches: { tag: string; ref: string }[] = [];
  const mapped = new Set<string>();
  for (const [tag, target] of Object.entries(mapping)) {
    if (typeof target !== 'string') return undefined;
    // A mapping value is a reference or a bare schema name.
    const ref = target.startsWith('#') ? target : `#/components/schemas/${target}`;
    if (!refs.includes(ref)) return undefined;
    branches.push({ tag, ref });
    mapped.add(ref);
  }
  for (const ref of refs as string[]) {
    if (mapped.has(ref)) continue;
    const name = /^#\/components\/schemas\/([^/]+)$/.exec(ref)?.[1];
    if (name === undefined) return undefined;
    branches.push({ tag: decodeURIComponent(name).replace(/~1/g, '/').replace(/~0/g, '~'), ref });
  }
  return { property: d.propertyName, branches };
}
