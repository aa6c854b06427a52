// Property tests (fast-check) for the readers of bodies and parameters beyond JSON, on a compiled
// document (test/fixtures/openapi/readers.yaml):
// - round trip: values that match simple schemas, written as forms, multipart and every parameter
//   style (by an encoder of our own, with the spellings clients use), read back as the same value;
// - forwarding: what upstreamBody writes, read again by the same reader, is what was validated —
//   the backend sees exactly the validated value — for JSON, forms and multipart;
// - no reader throws on arbitrary input: it returns a value or a refusal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFormPairs, readFields } from '../../shared/validation/form.ts';
import { parseContentType } from '../../shared/validation/media.ts';
import { multipartFields, parseMultipart } from '../../shared/validation/multipart.ts';
import { cookiePairs, type RawParameters, readParameters } from '../../shared/validation/params.ts';
import type { ProblemError } from '../../shared/validation/problem.ts';
import type { ParameterLocation, ParameterRule, ParameterStyle } from '../../shared/validation/table.ts';
import { DEFAULT_NESTING } from '../../shared/validation/text-values.ts';
import { upstreamBody } from '../../shared/validation/upstream-body.ts';
import type { ValidationOutcome } from '../../shared/validation/validate-request.ts';
import { ShapeBuilder } from '../../tools/openapi/shapes.ts';
import { readersDocument, validateReaders } from '../support/readers.ts';

/**
 * Runs per property: 3,000 by default, so the file stays near 15 s on a quiet 2-core machine (each
 * run goes through the whole validator, often twice: 10,000 runs take about 33 s of CPU).
 * `HOSTILE_RUNS` sets it, as for the other hostile properties (docs/hardening.md).
 */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 3_000);
const FORM = 'application/x-www-form-urlencoded';
const LIMITS = { ...DEFAULT_NESTING, maxJsonDepth: 32 };
/** What a refusal may be: never a 500 (`internal_error` is what a throwing reader becomes). */
const REFUSALS = [
  'media_type_unsupported',
  'body_required',
  'body_too_large',
  'body_invalid_base64',
  'body_invalid_utf8',
  'body_bom',
  'json_invalid',
  'json_duplicate_key',
  'json_too_deep',
  'json_forbidden_key',
  'form_invalid',
  'multipart_invalid',
  'body_invalid',
  'parameter_invalid',
  'route_not_found',
  'method_not_allowed',
];

/** A JSON value with -0 written as 0 (the JSON texts a backend reads have one zero). */
function positiveZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(positiveZero);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    Object.defineProperty(out, k, {
      value: positiveZero(v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** The validated body of an outcome that must be a success. */
function validated(outcome: ValidationOutcome) {
  if (!outcome.ok)
    throw new Error(`refused: ${outcome.problem.reason} ${JSON.stringify(outcome.problem.errors)}`);
  const body = outcome.request.body;
  if (body === undefined) throw new Error('no body');
  return body;
}

/** Validates what upstreamBody wrote for a validated body, as the backend would receive it. */
function revalidate(path: string, body: ReturnType<typeof validated>): ReturnType<typeof validated> {
  const out = upstreamBody(body);
  const content = typeof out.content === 'string' ? out.content : new Uint8Array(out.content);
  return validated(validateReaders('POST', path, { body: content, contentType: out.contentType }));
}

// --- Encoders of our own (the spellings clients use) --------------------------------------------

/** Percent-encodes text the ways clients do: `+` or `%20` for spaces, any hex case, some letters escaped too. */
const formEncoder = fc
  .record({ plus: fc.boolean(), lower: fc.boolean(), escapeLetters: fc.boolean() }, { noNullPrototype: true })
  .map(({ plus, lower, escapeLetters }) => (text: string) => {
    let out = '';
    for (const c of text) {
      if (escapeLetters && /[A-Za-z]/.test(c)) out += `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
      else if (plus && c === ' ') out += '+';
      else out += encodeURIComponent(c);
    }
    return lower ? out.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()) : out;
  });

/** Text with any code point but lone surrogates. */
const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
/** A name the bracket syntax can carry as an object key: no brackets, not an index, not a prototype name. */
const objectKey = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 12 })
  .filter(
    (k) =>
      !/[[\]]/.test(k) &&
      !/^(?:0|[1-9][0-9]*)$/.test(k) &&
      !['__proto__', 'constructor', 'prototype'].includes(k),
  );
/** A finite double; -0 becomes 0 (a text value has no negative zero to read). */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d));

/** Values of the readers document's FormFields schema. */
const formFields = fc.record(
  {
    name: text(20),
    count: fc.integer({ min: 0, max: 1000 }),
    ratio: finite,
    active: fc.boolean(),
    tags: fc.array(text(10), { minLength: 1, maxLength: 5 }),
    address: fc.record({ city: text(20), zip: text(5) }, { requiredKeys: ['city'], noNullPrototype: true }),
    items: fc.array(
      fc.record(
        { sku: text(10), qty: fc.integer({ min: 1, max: 100 }) },
        { requiredKeys: ['sku'], noNullPrototype: true },
      ),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
    metadata: fc.dictionary(objectKey, text(30), { minKeys: 1, maxKeys: 6, noNullPrototype: true }),
    filter: fc.record({ min: fc.integer(), max: fc.integer() }, { requiredKeys: [], noNullPrototype: true }),
  },
  { requiredKeys: ['name'], noNullPrototype: true },
);

/** How arrays are written in a form. */
type ArrayStyle = 'repeat' | 'brackets' | 'indexes';

/** Writes a FormFields value as form pairs (names and values decoded), fields in the given order. */
function formPairs(
  value: Record<string, unknown>,
  arrays: ArrayStyle,
  order: readonly string[],
): [string, string][] {
  const pairs: [string, string][] = [];
  for (const key of order) {
    const v = value[key];
    if (v === undefined) continue;
    if (key === 'filter') pairs.push([key, JSON.stringify(v)]);
    else if (key === 'tags') {
      const name = (i: number) =>
        arrays === 'repeat' ? key : arrays === 'brackets' ? `${key}[]` : `${key}[${i}]`;
      (v as string[]).forEach((t, i) => {
        pairs.push([name(i), t]);
      });
    } else if (key === 'items')
      (v as Record<string, unknown>[]).forEach((item, i) => {
        for (const [k, x] of Object.entries(item)) pairs.push([`items[${i}][${k}]`, String(x)]);
      });
    else if (key === 'address' || key === 'metadata')
      for (const [k, x] of Object.entries(v as Record<string, string>)) pairs.push([`${key}[${k}]`, x]);
    else pairs.push([key, String(v)]);
  }
  return pairs;
}

const B_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".split('');
/** A boundary RFC 2046 allows (1–70 characters, not ending in a space). */
const boundary = fc
  .array(fc.constantFrom(...B_CHARS), { minLength: 1, maxLength: 70 })
  .map((cs) => cs.join(''))
  .filter((b) => !b.endsWith(' '));
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));

/** Values of the readers document's Upload schema (files as bytes). */
const uploadFields = fc.record(
  {
    title: text(20),
    count: fc.integer(),
    tags: fc.array(text(10), { minLength: 1, maxLength: 5 }),
    meta: fc.record({ a: fc.integer() }, { requiredKeys: [], noNullPrototype: true }),
    location: fc.record({ lat: finite }, { requiredKeys: [], noNullPrototype: true }),
    file: bytes(64),
    attachments: fc.array(bytes(64), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['title', 'file'], noNullPrototype: true },
);

/** One part as a client writes it: name token or quoted, a filename or not, types, headers and parameters it need not read. */
interface PartSpelling {
  readonly quoted: boolean;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly params: string;
  readonly headers: string;
}
const partSpelling = fc.record(
  {
    quoted: fc.boolean(),
    filename: fc.option(fc.stringMatching(/^[A-Za-z0-9 ._%;=-]{0,12}$/), { nil: undefined }),
    contentType: fc.option(
      fc.constantFrom('application/octet-stream', 'image/png', 'text/plain; charset=utf-8'),
      {
        nil: undefined,
      },
    ),
    params: fc.constantFrom('', '; size=1', ' ;  x="y; name=z"'),
    headers: fc.constantFrom('', 'Content-Transfer-Encoding: binary\r\n', 'x-extra:\t1\r\n'),
  },
  { noNullPrototype: true },
);

/** Writes Upload values as a multipart body; returns the body and the value the reader must see. */
function uploadBody(
  value: Record<string, unknown>,
  b: string,
  spellings: readonly PartSpelling[],
  order: readonly string[],
  closingCrlf: boolean,
): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  const add = (name: string, content: Buffer, file: boolean) => {
    const s = spellings[n++ % spellings.length] as PartSpelling;
    const disposition = `form-data; name=${s.quoted ? `"${name}"` : name}${s.params}${file && s.filename !== undefined ? `; filename="${s.filename}"` : ''}`;
    const type = file && s.contentType !== undefined ? `Content-Type: ${s.contentType}\r\n` : '';
    parts.push(
      Buffer.from(`--${b}\r\nContent-Disposition: ${disposition}\r\n${s.headers}${type}\r\n`),
      content,
      Buffer.from('\r\n'),
    );
  };
  for (const key of order) {
    const v = value[key];
    if (v === undefined) continue;
    if (key === 'file') add(key, v as Buffer, true);
    else if (key === 'attachments') for (const a of v as Buffer[]) add(key, a, true);
    else if (key === 'tags') for (const t of v as string[]) add(key, Buffer.from(t), false);
    else if (key === 'meta' || key === 'location') add(key, Buffer.from(JSON.stringify(v)), false);
    else add(key, Buffer.from(String(v)), false);
  }
  parts.push(Buffer.from(`--${b}--${closingCrlf ? '\r\n' : ''}`));
  return Buffer.concat(parts);
}

/** True when some content holds `CRLF--boundary` (then no multipart body can carry it). */
function holdsDelimiter(value: Record<string, unknown>, b: string): boolean {
  const contents = Object.values(value).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return contents.some((c) => (Buffer.isBuffer(c) ? c : Buffer.from(String(c))).includes(`\r\n--${b}`));
}

/** The Upload value as the reader gives it: files as one character per byte. */
function uploadValue(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  out.file = (value.file as Buffer).toString('latin1');
  if (value.attachments !== undefined)
    out.attachments = (value.attachments as Buffer[]).map((a) => a.toString('latin1'));
  return out;
}

// --- Parameter styles ---------------------------------------------------------------------------

type Kind = 'string' | 'integer' | 'array' | 'object';
const SCHEMAS: Record<Kind, unknown> = {
  string: { type: 'string' },
  integer: { type: 'integer' },
  array: { type: 'array', items: { type: 'string' } },
  object: {
    type: 'object',
    properties: { R: { type: 'integer' }, G: { type: 'integer' }, B: { type: 'integer' } },
  },
};
/** Where each style is defined, with the kinds it can write and the explode values it has. */
const STYLE_CASES: readonly (readonly [
  ParameterStyle,
  ParameterLocation,
  readonly boolean[],
  readonly Kind[],
])[] = [
  ['matrix', 'path', [false, true], ['string', 'integer', 'array', 'object']],
  ['label', 'path', [false, true], ['string', 'integer', 'array', 'object']],
  ['simple', 'path', [false, true], ['string', 'integer', 'array', 'object']],
  ['simple', 'header', [false, true], ['string', 'integer', 'array', 'object']],
  ['form', 'query', [false, true], ['string', 'integer', 'array', 'object']],
  ['form', 'cookie', [false, true], ['string', 'integer', 'array']],
  ['spaceDelimited', 'query', [false], ['array', 'object']],
  ['pipeDelimited', 'query', [false], ['array', 'object']],
  ['deepObject', 'query', [true], ['object']],
];
/**
 * Text without any style's delimiters (`,;.=| []`) and not empty: any other code point in a path or
 * a query; in a header or a cookie, the characters a header field value can carry (RFC 9110 §5.5:
 * visible ASCII and U+0080–U+00FF; anything else is refused before it is read, see params.ts).
 */
function styleText(location: ParameterLocation): fc.Arbitrary<string> {
  const unit =
    location === 'header' || location === 'cookie'
      ? fc
          .oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
          .map((c) => String.fromCharCode(c))
      : 'binary';
  return fc
    .string({ unit, minLength: 1, maxLength: 12 })
    .filter((s) => !/[,;.=| [\]\s]/.test(s) && s.trim() === s);
}
function kindValue(kind: Kind, location: ParameterLocation): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'string':
      return styleText(location);
    case 'integer':
      return fc.integer();
    case 'array':
      return fc.array(styleText(location), { minLength: 1, maxLength: 6 });
    case 'object':
      return fc.record(
        { R: fc.integer(), G: fc.integer(), B: fc.integer() },
        { requiredKeys: ['R'], noNullPrototype: true },
      );
  }
}

/** Writes `color` in a style (RFC 6570 and the OpenAPI style rules), as the event gives it. */
function writeStyle(
  style: ParameterStyle,
  explode: boolean,
  location: ParameterLocation,
  value: unknown,
  enc: (s: string) => string,
): readonly string[] {
  const items = Array.isArray(value) ? value.map(String) : undefined;
  const entries =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.entries(value).map(([k, v]) => [k, String(v)] as const)
      : undefined;
  const flat = entries?.flat() ?? items;
  const scalar = String(value);
  const pairs = (sep: string) => entries?.map(([k, v]) => `${k}=${v}`).join(sep);
  switch (style) {
    case 'matrix':
      if (items) return [explode ? items.map((i) => `;color=${i}`).join('') : `;color=${items.join(',')}`];
      if (entries) return [explode ? `;${pairs(';')}` : `;color=${flat?.join(',')}`];
      return [`;color=${scalar}`];
    case 'label':
      if (flat) return [`.${explode ? (pairs('.') ?? items?.join('.')) : flat.join(',')}`];
      return [`.${scalar}`];
    case 'simple':
      return [flat ? (explode ? (pairs(',') ?? flat.join(',')) : flat.join(',')) : scalar];
    case 'form':
      if (location === 'cookie')
        return [
          items && explode
            ? items.map((i) => `color=${i}`).join('; ')
            : `color=${flat ? flat.join(',') : scalar}`,
        ];
      if (items && explode) return [items.map((i) => `color=${enc(i)}`).join('&')];
      if (entries && explode) return [entries.map(([k, v]) => `${k}=${enc(v)}`).join('&')];
      return [`color=${flat ? flat.map(enc).join(',') : enc(scalar)}`];
    case 'spaceDelimited':
      return [`color=${(flat ?? []).map(enc).join('%20')}`];
    case 'pipeDelimited':
      return [`color=${(flat ?? []).map(enc).join('|')}`];
    case 'deepObject':
      return [(entries ?? []).map(([k, v]) => `color%5B${k}%5D=${enc(v)}`).join('&')];
    default:
      return [];
  }
}

/** The raw parameters of one written `color`, as the proxy event gives them. */
function rawOf(location: ParameterLocation, written: readonly string[]): RawParameters {
  const query = new Map<string, string[]>();
  if (location === 'query')
    for (const [k, v] of new URLSearchParams(written[0] as string))
      query.set(k, [...(query.get(k) ?? []), v]);
  return {
    path: new Map(location === 'path' ? [['color', [...written]]] : []),
    query,
    header: new Map(location === 'header' ? [['color', [...written]]] : []),
    cookie: location === 'cookie' ? cookiePairs(written) : new Map(),
  };
}

const styleCase = fc
  .constantFrom(...STYLE_CASES)
  .chain(([style, location, explodes, kinds]) =>
    fc.record({
      style: fc.constant(style),
      location: fc.constant(location),
      explode: fc.constantFrom(...explodes),
      kind: fc.constantFrom(...kinds),
    }),
  )
  .chain((c) => fc.record({ c: fc.constant(c), value: kindValue(c.kind, c.location), enc: formEncoder }));

function readStyle(
  style: ParameterStyle,
  explode: boolean,
  location: ParameterLocation,
  kind: Kind,
  raw: RawParameters,
) {
  const shapes = new ShapeBuilder(() => undefined);
  const rule: ParameterRule = {
    name: 'color',
    in: location,
    required: false,
    style,
    explode,
    shape: shapes.build([SCHEMAS[kind]]),
  };
  const errors: ProblemError[] = [];
  const out = readParameters([rule], shapes.shapes, raw, errors);
  return { value: out[location].color, errors };
}

// --- Properties ---------------------------------------------------------------------------------

describe('round trips', () => {
  it('a value of the form schema, written as a form any way clients write it, reads back as itself', () => {
    fc.assert(
      fc.property(
        formFields,
        fc.constantFrom<ArrayStyle>('repeat', 'brackets', 'indexes'),
        fc.shuffledSubarray(
          ['name', 'count', 'ratio', 'active', 'tags', 'address', 'items', 'metadata', 'filter'],
          {
            minLength: 9,
          },
        ),
        formEncoder,
        fc.boolean(),
        (value, arrays, order, enc, encodeBrackets) => {
          // Arrange
          const body = formPairs(value, arrays, order)
            .map(
              ([n, v]) =>
                `${encodeBrackets ? enc(n) : enc(n).replace(/%5B/gi, '[').replace(/%5D/gi, ']')}=${enc(v)}`,
            )
            .join('&');
          // Act
          const read = validated(validateReaders('POST', '/forms', { body, contentType: FORM }));
          // Assert
          expect(read.kind === 'form' && read.value).toEqual(value);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('a value of the upload schema, written as multipart any way clients write it, reads back as itself', () => {
    fc.assert(
      fc.property(
        uploadFields,
        boundary,
        fc.array(partSpelling, { minLength: 1, maxLength: 4 }),
        fc.shuffledSubarray(['title', 'count', 'tags', 'meta', 'location', 'file', 'attachments'], {
          minLength: 7,
        }),
        fc.boolean(),
        (value, b, spellings, order, closingCrlf) => {
          // Arrange: content holding the delimiter cannot be written with this boundary.
          fc.pre(!holdsDelimiter(value, b));
          const body = uploadBody(value, b, spellings, order, closingCrlf);
          const contentType = `multipart/form-data; boundary=${/[^A-Za-z0-9'+_.-]/.test(b) ? `"${b}"` : b}`;
          const outcome = validateReaders('POST', '/uploads', { body, contentType });
          // Act
          const read = validated(outcome);
          // Assert
          expect(read.kind === 'multipart' && read.value).toEqual(uploadValue(value));
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('a value written in any parameter style, where the specification defines it, reads back as itself', () => {
    fc.assert(
      fc.property(styleCase, ({ c, value, enc }) => {
        // Arrange
        const raw = rawOf(c.location, writeStyle(c.style, c.explode, c.location, value, enc));
        // Act
        const read = readStyle(c.style, c.explode, c.location, c.kind, raw);
        // Assert
        expect(read).toEqual({ value, errors: [] });
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});

describe('forwarding: the backend reads exactly the validated value', () => {
  it('JSON: any JSON object, in any spacing and escaping, forwards as the value validated', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
        fc.constantFrom(0, 1, 2, '\t'),
        fc.boolean(),
        fc.option(
          fc.constantFrom('1e400', '-1E+309', '1.5e-400', '123456789012345678901234567890', '-0', '0.1e1'),
          {
            nil: undefined,
          },
        ),
        (value, indent, escapeNonAscii, literal) => {
          // Arrange: number literals JSON.stringify never writes, as the last member.
          let body = JSON.stringify(value, null, indent);
          if (literal !== undefined) body = body.replace(/\}$/, `${body === '{}' ? '' : ','}"n":${literal}}`);
          if (escapeNonAscii)
            body = body.replace(
              /[^\x20-\x7e\n\t]/g,
              (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
            );
          const outcome = validateReaders('POST', '/json', { body, contentType: 'application/json' });
          fc.pre(outcome.ok);
          const first = validated(outcome);
          // Act
          const again = revalidate('/json', first);
          // Assert: JSON has one zero; -0 is forwarded as 0, the same number to the schema.
          expect(again.kind === 'json' && again.value).toStrictEqual(
            first.kind === 'json' && positiveZero(first.value),
          );
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('forms: any form the validator accepts forwards as the same pairs and value', () => {
    // Fields with values of their type (so most forms are accepted), each name at most once.
    const field = fc.oneof(
      fc.tuple(fc.constant('count'), fc.integer({ min: 0, max: 1000 }).map(String)),
      fc.tuple(fc.constant('ratio'), finite.map(String)),
      fc.tuple(fc.constant('active'), fc.constantFrom('true', 'false')),
      fc.tuple(fc.constantFrom('tags', 'tags[]', 'tags[0]'), text(10)),
      fc.tuple(fc.constantFrom('address[city]', 'address[zip]'), text(5)),
      fc.tuple(
        fc.constantFrom('items[0][sku]', 'items[0][qty]'),
        fc.integer({ min: 1, max: 100 }).map(String),
      ),
      fc.tuple(fc.constantFrom('metadata[a b]', 'metadata[é&=]', 'metadata[x]'), text(12)),
      fc.tuple(
        fc.constant('filter'),
        fc.constantFrom('{"min":1}', '{ "max" : -2 }', '{"min":1,"max":2}', '{}'),
      ),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(field, { selector: ([n]) => n, maxLength: 12 }),
        formEncoder,
        (pairs, enc) => {
          // Arrange
          const body = ['name=x', ...pairs.map(([n, v]) => `${enc(n)}=${enc(v)}`)].join('&');
          const outcome = validateReaders('POST', '/forms', { body, contentType: FORM });
          fc.pre(outcome.ok);
          const first = validated(outcome);
          // Act
          const again = revalidate('/forms', first);
          // Assert
          expect(again.kind === 'form' && [again.pairs, again.value]).toEqual(
            first.kind === 'form' && [first.pairs, first.value],
          );
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('multipart: any body the validator accepts forwards as the same parts and value', () => {
    fc.assert(
      fc.property(
        uploadFields,
        boundary,
        fc.array(partSpelling, { minLength: 1, maxLength: 4 }),
        fc.shuffledSubarray(['title', 'count', 'tags', 'meta', 'location', 'file', 'attachments'], {
          minLength: 7,
        }),
        (value, b, spellings, order) => {
          // Arrange
          const body = uploadBody(value, b, spellings, order, true);
          const outcome = validateReaders('POST', '/uploads', {
            body,
            contentType: `multipart/form-data; boundary="${b}"`,
          });
          fc.pre(outcome.ok);
          const first = validated(outcome);
          // Act
          const again = revalidate('/uploads', first);
          // Assert
          expect(again.kind === 'multipart' && [again.parts, again.value]).toEqual(
            first.kind === 'multipart' && [first.parts, first.value],
          );
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});

describe('no reader throws', () => {
  /** Any UTF-16 string, lone surrogates included. */
  const anyText = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  /** Fragments multipart bodies are made of, so arbitrary bodies get past the first checks. */
  const multipartish = (b: string) =>
    fc
      .array(
        fc.oneof(
          fc.constantFrom(
            `--${b}`,
            `--${b}--`,
            '\r\n',
            '\r\n\r\n',
            '\n',
            ';',
            '"',
            'Content-Disposition: form-data; name="title"',
            'Content-Disposition: form-data; name=file; filename="a"',
            'Content-Type: text/plain; charset=utf-16',
            'Content-Transfer-Encoding: 8bit',
            'name=',
            'filename*=x',
            ' ',
            '\t',
            '\xff',
            '__proto__',
          ),
          fc.string({ unit: 'binary-ascii', maxLength: 8 }),
        ),
        { maxLength: 30 },
      )
      .map((xs) => Buffer.from(xs.join(''), 'latin1'));

  it('form: arbitrary text and arbitrary pairs give pairs, fields or a refusal', () => {
    const doc = readersDocument();
    const media = doc.table.operation('POST /forms')?.body?.media[FORM];
    const shapes = doc.table.operation('POST /forms')?.shapes ?? [];
    fc.assert(
      fc.property(anyText, fc.array(fc.tuple(anyText, anyText), { maxLength: 8 }), (t, pairs) => {
        const parsed = parseFormPairs(t);
        expect(parsed === undefined || Array.isArray(parsed)).toBe(true);
        const errors: ProblemError[] = [];
        const value = readFields(pairs, media ?? { kind: 'form' }, shapes, LIMITS, errors);
        expect(typeof value).toBe('object');
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('multipart: arbitrary bytes, and bodies made of multipart fragments, give parts or a refusal', () => {
    fc.assert(
      fc.property(
        boundary.chain((b) => fc.tuple(fc.constant(b), fc.oneof(multipartish(b), bytes(200)))),
        ([b, body]) => {
          const parts = parseMultipart(body, b);
          expect(parts === undefined || Array.isArray(parts)).toBe(true);
          const fields =
            parts === undefined
              ? undefined
              : multipartFields(parts, { kind: 'multipart', fileFields: ['file'] });
          expect(fields === undefined || Array.isArray(fields)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('parameters: arbitrary values in every style and location give values or errors', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STYLE_CASES),
        fc.constantFrom<Kind>('string', 'integer', 'array', 'object'),
        fc.boolean(),
        fc.array(anyText, { minLength: 1, maxLength: 3 }),
        (styleCaseValue, kind, explode, written) => {
          const [style, location] = styleCaseValue;
          const raw: RawParameters = {
            path: new Map([['color', written]]),
            query: new Map(written.map((w) => [w, written])),
            header: new Map([['color', written]]),
            cookie: cookiePairs(written),
          };
          const read = readStyle(style, explode, location, kind, raw);
          expect(Array.isArray(read.errors)).toBe(true);
          const type = parseContentType(written[0] as string);
          expect(type === undefined || typeof type.essence === 'string').toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('the whole validator: arbitrary bodies, content types, paths, queries and headers never become a 500', () => {
    const request = boundary.chain((b) =>
      fc.record({
        path: fc.oneof(
          fc.constantFrom('/json', '/forms', '/uploads', '/search'),
          fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((p) => `/matrix/${p}`),
          fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((p) => `/label/${p}`),
        ),
        body: fc.oneof(anyText, bytes(300), multipartish(b)),
        contentType: fc.oneof(
          fc.constantFrom(
            FORM,
            `${FORM}; charset=utf-8`,
            'application/json',
            'multipart/form-data',
            'text/plain',
          ),
          fc.constant(`multipart/form-data; boundary="${b}"`),
          anyText,
        ),
        query: fc.string({ unit: 'binary-ascii', maxLength: 40 }),
        cookie: anyText,
      }),
    );
    fc.assert(
      fc.property(request, ({ path, body, contentType, query, cookie }) => {
        // Act
        const outcome = validateReaders(
          ['/json', '/forms', '/uploads'].includes(path) ? 'POST' : 'GET',
          `${path}?${query}`,
          {
            body: typeof body === 'string' ? body : new Uint8Array(body),
            contentType,
            headers: { cookie, 'x-trace': query },
          },
        );
        // Assert: a refusal with its reason, or a body the forwarder can write.
        if (!outcome.ok) expect(REFUSALS).toContain(outcome.problem.reason);
        else if (outcome.request.body !== undefined)
          expect(upstreamBody(outcome.request.body).contentType).toBeTruthy();
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
