/**
 * `application/x-www-form-urlencoded` bodies: strict pair parsing (WHATWG URL-encoded form, with
 * percent-decoding that refuses malformed escapes and invalid UTF-8), then fields read by the
 * shape of the body's schema — bracket names (`metadata[key]=v`, `items[0][price]=p`,
 * `expand[]=x`) build nested objects and arrays, repeated names build arrays where the schema
 * admits one. Fields whose encoding is JSON are parsed as strict JSON.
 */
import { PROTOTYPE_KEYS, parseStrictJson } from '../json/strict-json.ts';
import type { ProblemError } from './problem.ts';
import type { MediaValidation, Shape } from './table.ts';
import { assignNested, type NestingLimits, plain, shapeAt, splitBracketName } from './text-values.ts';

/** Most fields accepted in one form body. */
export const MAX_FORM_FIELDS = 1000;

/** One decoded `name=value` pair. */
export type FormPair = readonly [name: string, value: string];

function decode(text: string): string | undefined {
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
    const name = decode(eq < 0 ? piece : piece.slice(0, eq));
    const value = decode(eq < 0 ? '' : piece.slice(eq + 1));
    if (name === undefined || value === undefined || name === '') return undefined;
    pairs.push([name, value]);
  }
  return pairs;
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
    const pointer = `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const split = splitBracketName(name);
    if (split === undefined) {
      errors.push({ pointer, keyword: 'propertyNames', message: 'is not a well-formed field name' });
      continue;
    }
    if (media.jsonFields?.includes(split.root) === true && split.segments.length === 0) {
      const parsed = parseStrictJson(value, { maxDepth: limits.maxJsonDepth, forbiddenKeys: PROTOTYPE_KEYS });
      if (!parsed.ok) {
        errors.push({ pointer, keyword: 'contentMediaType', message: 'must be valid JSON' });
        continue;
      }
      if (holder[root] === undefined) holder[root] = Object.create(null);
      const target = holder[root] as Record<string, unknown>;
      if (Object.hasOwn(target, split.root)) {
        errors.push({ pointer, keyword: 'type', message: 'must be given once' });
        continue;
      }
      Object.defineProperty(target, split.root, { value: parsed.value, enumerable: true, writable: true });
      continue;
    }
    // Fields sit under one root so the body's own shape (an object) reads their names.
    assignNested(
      holder,
      root,
      [split.root, ...split.segments],
      value,
      shape,
      shapes,
      limits,
      pointer,
      errors,
    );
  }
  const body = holder[root];
  return (body === undefined ? {} : plain(body)) as Record<string, unknown>;
}
