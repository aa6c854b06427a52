/**
 * `application/x-www-form-urlencoded` bodies: strict pair parsing (WHATWG URL-encoded form, with
 * percent-decoding that refuses malformed escapes and invalid UTF-8), then fields read by the
 * shape of the body's schema — bracket names (`metadata[key]=v`, `items[0][price]=p`,
 * `expand[]=x`) build nested objects and arrays, repeated names build arrays where the schema
 * admits one. Fields whose encoding is JSON are parsed as strict JSON.
 */
import { PROTOTYPE_KEYS, parseStrictJson } from '../json/strict-json.ts';
import { bodyText } from './body.ts';
import { type ProblemError, schemaErrors } from './problem.ts';
import type { BodyOutcome, BodyReader, MediaValidation, Shape } from './table.ts';
import {
  assignNested,
  mayBeArray,
  memberShape,
  type NestingLimits,
  plain,
  shapeAt,
  splitBracketName,
} from './text-values.ts';

/** Most fields accepted in one form body. */
export const MAX_FORM_FIELDS = 1000;

/** One decoded `name=value` pair. */
export type FormPair = readonly [name: string, value: string];

/**
 * One name or value of a form or query string decoded (`+` is a space), or undefined when an
 * escape is malformed or not UTF-8 (so nothing is silently read as U+FFFD).
 */
export function decodeFormComponent(text: string): string | undefined {
  try {
    // decodeURIComponent refuses bad escapes and escapes that are not UTF-8.
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The pairs of a form body in order, or undefined when it is not a well-formed form. */
export function parseFormPairs(text: string, maxFields = MAX_FORM_FIELDS): FormPair[] | undefined {
  const pairs: FormPair[] = [];
  if (text === '') return pairs;
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    if (pairs.length >= maxFields) return undefined;
    const eq = piece.indexOf('=');
    const name = decodeFormComponent(eq < 0 ? piece : piece.slice(0, eq));
    const value = decodeFormComponent(eq < 0 ? '' : piece.slice(eq + 1));
    if (name === undefined || value === undefined || name === '') return undefined;
    pairs.push([name, value]);
  }
  return pairs;
}

const INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * The JSON Pointer of what a field name reaches, as far as the schema declares it: its segments
 * while each is a declared property (or an array index up to `maxIndex`). A name's errors point
 * there, so a problem never carries a name only the request chose (`` when none is declared).
 */
export function declaredPointer(
  segments: readonly string[],
  shape: Shape,
  shapes: readonly Shape[],
  maxIndex: number,
): string {
  let pointer = '';
  let current = shape;
  for (const segment of segments) {
    let key: string | number;
    if (current.properties !== undefined && Object.hasOwn(current.properties, segment)) key = segment;
    else if (INDEX.test(segment) && mayBeArray(current) && Number(segment) <= maxIndex) key = Number(segment);
    else break;
    pointer += `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
    current = memberShape(shapes, current, key);
  }
  return pointer;
}

/** Reads named text values (form pairs, multipart text parts) into the body object. */
export function readFields(
  fields: readonly FormPair[],
  media: MediaValidation,
  shapes: readonly Shape[],
  limits: NestingLimits & { readonly maxJsonDepth: number },
  errors: ProblemError[],
): Record<string, unknown> {
  const shape = shapeAt(shapes, media.shape);
  const holder: Record<string, unknown> = {};
  const root = '$';
  for (const [name, value] of fields) {
    const split = splitBracketName(name);
    if (split === undefined) {
      errors.push({ pointer: '', keyword: 'propertyNames', message: 'is not a well-formed field name' });
      continue;
    }
    // The pointer is worked out only for a field that has an error.
    const pointer = () => declaredPointer([split.root, ...split.segments], shape, shapes, limits.maxIndex);
    if (media.jsonFields?.includes(split.root) === true && split.segments.length === 0) {
      const parsed = parseStrictJson(value, { maxDepth: limits.maxJsonDepth, forbiddenKeys: PROTOTYPE_KEYS });
      if (!parsed.ok) {
        errors.push({ pointer: pointer(), keyword: 'contentMediaType', message: 'must be valid JSON' });
        continue;
      }
      if (holder[root] === undefined) holder[root] = Object.create(null);
      const target = holder[root] as Record<string, unknown>;
      if (Object.hasOwn(target, split.root)) {
        errors.push({ pointer: pointer(), keyword: 'type', message: 'must be given once' });
        continue;
      }
      Object.defineProperty(target, split.root, { value: parsed.value, enumerable: true, writable: true });
      continue;
    }
    // Fields sit under one root so the body's own shape (an object) reads their names.
    const before = errors.length;
    assignNested(holder, root, [split.root, ...split.segments], value, shape, shapes, limits, '', errors);
    for (let e = before; e < errors.length; e++)
      errors[e] = { ...(errors[e] as ProblemError), pointer: pointer() };
  }
  const body = holder[root];
  return (body === undefined ? {} : plain(body)) as Record<string, unknown>;
}

/**
 * The outcome of fields read into a body value: the reading errors (at most 10), else the schema's.
 */
export function fieldsOutcome(
  media: MediaValidation,
  value: unknown,
  errors: readonly ProblemError[],
): { readonly ok: true } | Extract<BodyOutcome, { ok: false }> {
  if (errors.length > 0) return { ok: false, reason: 'body_invalid', errors: errors.slice(0, 10) };
  if (media.validate !== undefined && !media.validate(value))
    return { ok: false, reason: 'body_invalid', errors: schemaErrors(media.validate.errors) };
  return { ok: true };
}

/** The validated pairs as forwarded: in order, each name and value percent-encoded. */
export function writeForm(pairs: readonly FormPair[]): string {
  return pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');
}

/** `application/x-www-form-urlencoded` bodies, for documents that declare them. */
export const FORM_BODIES: BodyReader = {
  read({ body, isBase64Encoded, contentType, media, shapes, maxBytes, limits }) {
    const text = bodyText(body, isBase64Encoded, maxBytes);
    if (!text.ok) return text;
    const pairs = parseFormPairs(text.text);
    if (pairs === undefined) return { ok: false, reason: 'form_invalid' };
    const errors: ProblemError[] = [];
    const value = readFields(pairs, media, shapes, limits, errors);
    const outcome = fieldsOutcome(media, value, errors);
    return outcome.ok
      ? { ok: true, body: { kind: 'form', mediaType: contentType.essence, pairs, value } }
      : outcome;
  },
  write: (body) => ({
    contentType: 'application/x-www-form-urlencoded',
    content: body.kind === 'form' ? writeForm(body.pairs) : '',
  }),
};
