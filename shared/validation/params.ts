/**
 * Parameters arrive as strings; each declared parameter is read by its style (OpenAPI `style` and
 * `explode`, or JSON for `content`-encoded ones) and by the shape of its schema (text-values.ts).
 * Nothing undeclared is read; undeclared query names are errors (the document is the allow-list),
 * unless a free-form parameter (an exploded form object with `additionalProperties`) takes them.
 */
import { PROTOTYPE_KEYS, parseStrictJson } from '../json/strict-json.ts';
import type { ProblemError } from './problem.ts';
import type {
  DeepObjectReader,
  ParameterLocation,
  ParameterRule,
  Readers,
  Shape,
  StyledReader,
} from './table.ts';
import {
  assignNested,
  DEFAULT_NESTING,
  mayBeArray,
  mayBeObject,
  memberShape,
  type NestingLimits,
  plain,
  readScalar,
  shapeAt,
  splitBracketName,
} from './text-values.ts';

// RFC 9110 §5.5 field-value characters (what node:http sends): a declared header is forwarded
// exactly as read, so a value that could not be sent on the wire is refused here, not dropped later.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Why raw text can never be forwarded as it was read, if it cannot. A lone UTF-16 surrogate (payload
 * 1.0 values are JSON strings, which can hold one) has no UTF-8 form: it cannot be percent-encoded
 * into the upstream URL, nor sent in a header.
 */
function unforwardable(location: ParameterLocation, texts: readonly string[]): string | undefined {
  for (const text of texts) {
    if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) return 'must be well-formed Unicode';
    if ((location === 'header' || location === 'cookie') && !FIELD_VALUE.test(text))
      return 'must be a valid header field value';
  }
  return undefined;
}

/** Values of one location as received: name → every value, in order. */
export type RawValues = ReadonlyMap<string, readonly string[]>;

/** Parameters as received, by location. */
export interface RawParameters {
  readonly path: RawValues;
  readonly query: RawValues;
  readonly header: RawValues;
  /** The Cookie header's pairs. */
  readonly cookie: RawValues;
}

/** Read parameter values, by location. */
export interface ReadParameters {
  readonly path: Record<string, unknown>;
  readonly query: Record<string, unknown>;
  readonly header: Record<string, unknown>;
  readonly cookie: Record<string, unknown>;
}

/** Limits for parameter values. */
export interface ParameterLimits extends NestingLimits {
  /** Deepest JSON nesting in a `content`-encoded parameter. */
  readonly maxJsonDepth: number;
}

const DEFAULT_LIMITS: ParameterLimits = { ...DEFAULT_NESTING, maxJsonDepth: 32 };

/** Pairs of a Cookie header (`a=1; b=2`); values kept as sent. */
export function cookiePairs(header: readonly string[] | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of header ?? []) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      const list = out.get(name);
      if (list === undefined) out.set(name, [value]);
      else list.push(value);
    }
  }
  return out;
}

function splitter(rule: ParameterRule): string {
  switch (rule.style) {
    case 'spaceDelimited':
      return ' ';
    case 'pipeDelimited':
      return '|';
    default:
      return ',';
  }
}

/** `k,v,k,v` (or `k=v,k=v` exploded) into an object. */
function readObjectList(
  parts: readonly string[],
  exploded: boolean,
  shape: Shape,
  shapes: readonly Shape[],
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const put = (k: string, v: string) => {
    // A key given twice could be read as either value by the backend, as in JSON bodies.
    if (k === '__proto__' || k === 'constructor' || k === 'prototype' || Object.hasOwn(out, k)) return false;
    out[k] = readScalar(v, memberShape(shapes, shape, k));
    return true;
  };
  if (exploded) {
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq <= 0 || !put(part.slice(0, eq), part.slice(eq + 1))) return undefined;
    }
    return out;
  }
  if (parts.length % 2 !== 0) return undefined;
  for (let i = 0; i < parts.length; i += 2)
    if (!put(parts[i] as string, parts[i + 1] as string)) return undefined;
  return out;
}

/** One value of a simple/label/matrix/form(explode=false) parameter, in any style and shape. */
function readStyledValue(
  rule: ParameterRule,
  raw: string,
  shape: Shape,
  shapes: readonly Shape[],
): { ok: true; value: unknown } | { ok: false } {
  let text = raw;
  let separator = splitter(rule);
  if (rule.style === 'label') {
    if (!text.startsWith('.')) return { ok: false };
    text = text.slice(1);
    if (rule.explode) separator = '.';
  } else if (rule.style === 'matrix') {
    // `;name=value`, or `;name` alone for an empty value (RFC 6570 §3.2.7).
    const matrixValue = (item: string): string | undefined =>
      item === rule.name
        ? ''
        : item.startsWith(`${rule.name}=`)
          ? item.slice(rule.name.length + 1)
          : undefined;
    if (!text.startsWith(';')) return { ok: false };
    if (rule.explode && mayBeArray(shape)) {
      const items = text.slice(1).split(';').map(matrixValue);
      if (items.some((i) => i === undefined)) return { ok: false };
      return {
        ok: true,
        value: items.map((i) => readScalar(i as string, memberShape(shapes, shape, 0))),
      };
    }
    if (rule.explode && mayBeObject(shape) && shape.scalars.length === 0) {
      // An exploded object is its members, each `;key=value`: the parameter's name is not written.
      const value = readObjectList(text.slice(1).split(';'), true, shape, shapes);
      return value === undefined ? { ok: false } : { ok: true, value };
    }
    const value = matrixValue(text.slice(1));
    if (value === undefined) return { ok: false };
    text = value;
  }
  if (mayBeArray(shape) && !mayBeObject(shape))
    return {
      ok: true,
      value: text.split(separator).map((v) => readScalar(v, memberShape(shapes, shape, 0))),
    };
  if (mayBeObject(shape) && shape.scalars.length === 0) {
    const value = readObjectList(text.split(separator), rule.explode, shape, shapes);
    return value === undefined ? { ok: false } : { ok: true, value };
  }
  return { ok: true, value: readScalar(text, shape) };
}

type Read = { ok: true; value: unknown } | { ok: false };

/**
 * One value of a simple, form, spaceDelimited or pipeDelimited parameter that is a scalar or an
 * array; label and matrix values and objects are read by the `styled` reader.
 */
function readDelimited(
  rule: ParameterRule,
  raw: string,
  shape: Shape,
  shapes: readonly Shape[],
  styled: StyledReader | undefined,
): Read {
  if (rule.style === 'label' || rule.style === 'matrix' || (mayBeObject(shape) && shape.scalars.length === 0))
    return need(styled, 'label, matrix or object').value(rule, raw, shape, shapes);
  if (mayBeArray(shape) && !mayBeObject(shape))
    return {
      ok: true,
      value: raw.split(splitter(rule)).map((v) => readScalar(v, memberShape(shapes, shape, 0))),
    };
  return { ok: true, value: readScalar(raw, shape) };
}

/** A reader the generated table should hold for the document; its absence is an internal error. */
function need<T>(reader: T | undefined, what: string): T {
  if (reader === undefined) throw new Error(`no reader for a ${what} parameter`);
  return reader;
}

/**
 * Label and matrix values and objects in any style (`R,100,G,200`, exploded form objects, free-form
 * query objects). The generated table passes it to documents that have such parameters.
 */
export const STYLED: StyledReader = {
  value: readStyledValue,
  formObject(rule, shape, shapes, query, claimed, errors) {
    // An exploded form object: its properties are query names of their own.
    const pointer = `/query/${rule.name}`;
    const value: Record<string, unknown> = {};
    for (const property of Object.keys(shape.properties ?? {})) {
      const given = query.get(property);
      if (given === undefined) continue;
      claimed.add(property);
      if (given.length > 1) {
        errors.push({ pointer: `${pointer}/${property}`, keyword: 'type', message: 'must be given once' });
        continue;
      }
      value[property] = readScalar(given[0] as string, memberShape(shapes, shape, property));
    }
    return value;
  },
  freeForm(rule, shape, shapes, value, query, claimed, errors) {
    const pointer = `/query/${rule.name}`;
    for (const [name, given] of query) {
      if (claimed.has(name)) continue;
      claimed.add(name);
      // Errors point at the parameter: the names are the request's own.
      if (name === '__proto__' || name === 'constructor' || name === 'prototype')
        errors.push({ pointer, keyword: 'propertyNames', message: 'property name is not allowed' });
      else if (given.length > 1) errors.push({ pointer, keyword: 'type', message: 'must be given once' });
      else value[name] = readScalar(given[0] as string, memberShape(shapes, shape, name));
    }
  },
};

/**
 * Reads a `deepObject` query parameter: `name=5` (a scalar where the schema admits one) and
 * `name[a][b]=5` (nested, as in forms). The generated table passes it to documents that have one.
 */
export const readDeepObject: DeepObjectReader = (rule, shape, shapes, query, claimed, limits, errors) => {
  const pointer = `/query/${rule.name}`;
  const holder: Record<string, unknown> = {};
  for (const v of query.get(rule.name) ?? [])
    assignNested(holder, rule.name, [], v, shape, shapes, limits, pointer, errors);
  for (const [name, values] of query) {
    const split = name === rule.name ? undefined : splitBracketName(name);
    if (split === undefined || split.root !== rule.name) continue;
    claimed.add(name);
    for (const v of values)
      assignNested(holder, rule.name, split.segments, v, shape, shapes, limits, pointer, errors);
  }
  return Object.hasOwn(holder, rule.name) ? plain(holder[rule.name]) : undefined;
};

/**
 * Reads every declared parameter. Errors point at `/<location>/<name>`; undeclared query names
 * are one `additionalProperties` error at `/query`.
 */
export function readParameters(
  rules: readonly ParameterRule[],
  shapes: readonly Shape[],
  raw: RawParameters,
  errors: ProblemError[],
  limits: ParameterLimits = DEFAULT_LIMITS,
): ReadParameters {
  return readParametersWith(
    { deepObject: readDeepObject, styled: STYLED },
    rules,
    shapes,
    raw,
    errors,
    limits,
  );
}

/**
 * {@link readParameters} with the readers given (the request validator passes those its generated
 * table holds): a parameter that needs a missing one is an internal error.
 */
export function readParametersWith(
  readers: Pick<Readers, 'deepObject' | 'styled'>,
  rules: readonly ParameterRule[],
  shapes: readonly Shape[],
  raw: RawParameters,
  errors: ProblemError[],
  limits: ParameterLimits = DEFAULT_LIMITS,
): ReadParameters {
  const out: ReadParameters = { path: {}, query: {}, header: {}, cookie: {} };
  // The forwarder writes every path value and every query name and value into the upstream URL
  // (shared/validation/upstream-body.ts), and declared headers and cookies onto the wire: text it
  // could not send as read is refused first. Pointers name what the document declares, never a
  // name only the request chose.
  const refused = new Set<string>();
  const refuse = (pointer: string, message: string) => {
    if (refused.has(pointer)) return;
    refused.add(pointer);
    errors.push({ pointer, keyword: 'format', message });
  };
  for (const [name, values] of raw.path) {
    const problem = unforwardable('path', values);
    if (problem !== undefined) refuse(`/path/${name}`, problem);
  }
  for (const [name, values] of raw.query) {
    const problem = unforwardable('query', [name, ...values]);
    const declared = rules.some((r) => r.in === 'query' && r.name === name);
    if (problem !== undefined) refuse(declared ? `/query/${name}` : '/query', problem);
  }
  const claimed = new Set<string>();
  let freeForm: { rule: ParameterRule; shape: Shape; value: Record<string, unknown> } | undefined;
  for (const rule of rules) {
    const shape = shapeAt(shapes, rule.shape);
    const pointer = `/${rule.in}/${rule.name}`;
    const values = raw[rule.in].get(rule.name);
    const target = out[rule.in];
    if (rule.in === 'query') claimed.add(rule.name);
    if (refused.has(pointer)) continue;
    if ((rule.in === 'header' || rule.in === 'cookie') && values !== undefined) {
      const problem = unforwardable(rule.in, values);
      if (problem !== undefined) {
        refuse(pointer, problem);
        continue;
      }
    }

    if (rule.in === 'query' && rule.style === 'deepObject') {
      const value = need(readers.deepObject, 'deepObject')(
        rule,
        shape,
        shapes,
        raw.query,
        claimed,
        limits,
        errors,
      );
      if (value !== undefined) target[rule.name] = value;
      continue;
    }
    if (
      rule.in === 'query' &&
      rule.style === 'form' &&
      rule.explode &&
      mayBeObject(shape) &&
      !mayBeArray(shape)
    ) {
      const value = need(readers.styled, 'form object').formObject(
        rule,
        shape,
        shapes,
        raw.query,
        claimed,
        errors,
      );
      // With additionalProperties it is free-form: it takes every name no parameter declares,
      // once all of them are read.
      if (shape.additional !== undefined) freeForm ??= { rule, shape, value };
      else if (Object.keys(value).length > 0) target[rule.name] = value;
      continue;
    }
    if (values === undefined || values.length === 0) continue;

    if (rule.style === 'json') {
      if (values.length > 1) {
        errors.push({ pointer, keyword: 'type', message: 'must be given once' });
        continue;
      }
      const parsed = parseStrictJson(values[0] as string, {
        maxDepth: limits.maxJsonDepth,
        forbiddenKeys: PROTOTYPE_KEYS,
      });
      if (parsed.ok) target[rule.name] = parsed.value;
      else errors.push({ pointer, keyword: 'contentMediaType', message: 'must be valid JSON' });
      continue;
    }
    const repeated =
      rule.explode &&
      (rule.style === 'form' || rule.style === 'spaceDelimited' || rule.style === 'pipeDelimited');
    if (repeated && mayBeArray(shape)) {
      target[rule.name] = values.map((v) => readScalar(v, memberShape(shapes, shape, 0)));
      continue;
    }
    if (values.length > 1 && rule.in !== 'header') {
      errors.push({ pointer, keyword: 'type', message: 'must be given once' });
      continue;
    }
    // Several header lines are one comma-separated value (RFC 9110 §5.3).
    const value = rule.in === 'header' ? values.join(',') : (values[0] as string);
    // `.` and `..` would become dot segments in the upstream URL (even percent-encoded, WHATWG
    // URL parsing treats %2e%2e as ..), so they are never valid path parameters.
    if (rule.in === 'path' && (value === '.' || value === '..')) {
      errors.push({ pointer, keyword: 'pattern', message: 'must not be a dot segment' });
      continue;
    }
    const read = readDelimited(rule, value, shape, shapes, readers.styled);
    if (read.ok) target[rule.name] = read.value;
    else errors.push({ pointer, keyword: 'style', message: `must be written in the ${rule.style} style` });
  }
  if (freeForm !== undefined) {
    const { rule, shape, value } = freeForm;
    need(readers.styled, 'free-form').freeForm(rule, shape, shapes, value, raw.query, claimed, errors);
    if (Object.keys(value).length > 0) out.query[rule.name] = value;
  }
  for (const name of raw.query.keys()) {
    if (claimed.has(name)) continue;
    errors.push({
      pointer: '/query',
      keyword: 'additionalProperties',
      message: 'must NOT have additional properties',
    });
    break;
  }
  return out;
}

/** The locations of a parameter, in the order the params object lists them. */
export const PARAMETER_LOCATIONS: readonly ParameterLocation[] = ['path', 'query', 'header', 'cookie'];
