/**
 * Parameter styles (shared/validation/params.ts), read by shapes the build compiles from schemas
 * (tools/openapi/shapes.ts).
 *
 * The valid inputs are the OpenAPI Specification's own "Style Examples" table, for a parameter
 * `color` that is the string "blue", the array ["blue", "black", "brown"] or the object
 * { "R": 100, "G": 200, "B": 150 }:
 * https://spec.openapis.org/oas/v3.1.1.html#style-examples (the same table as
 * https://spec.openapis.org/oas/v3.0.4.html#style-examples; 3.0.0–3.0.3 and 3.1.0 had it too,
 * with label explode=false arrays and objects written with "." instead of ",", an erratum the
 * later versions fixed to follow RFC 6570 §3.2.5).
 */
import { describe, expect, it } from 'vitest';
import { cookiePairs, type RawParameters, readParameters } from '../../../shared/validation/params.ts';
import type { ProblemError } from '../../../shared/validation/problem.ts';
import type { ParameterLocation, ParameterRule, ParameterStyle } from '../../../shared/validation/table.ts';
import { ShapeBuilder } from '../../../tools/openapi/shapes.ts';
import { READER_VERSIONS, reasonOf, validateReaders } from '../../support/readers.ts';

type Kind = 'empty' | 'string' | 'array' | 'object';

/** The schema of `color` for each column of the table. */
const SCHEMAS: Record<Kind, unknown> = {
  empty: { type: 'string' },
  string: { type: 'string' },
  array: { type: 'array', items: { type: 'string' } },
  object: {
    type: 'object',
    properties: { R: { type: 'integer' }, G: { type: 'integer' }, B: { type: 'integer' } },
  },
};

/** The value of `color` for each column. */
const VALUES: Record<Kind, unknown> = {
  empty: '',
  string: 'blue',
  array: ['blue', 'black', 'brown'],
  object: { R: 100, G: 200, B: 150 },
};

/** The parameters as the proxy event gives them: a path segment, a query string, a header, a cookie. */
function rawOf(location: ParameterLocation, serialized: readonly string[]): RawParameters {
  const query = new Map<string, string[]>();
  if (location === 'query')
    for (const [k, v] of new URLSearchParams(serialized[0] as string))
      query.set(k, [...(query.get(k) ?? []), v]);
  return {
    path: new Map(location === 'path' ? [['color', [...serialized]]] : []),
    query,
    header: new Map(location === 'header' ? [['color', [...serialized]]] : []),
    cookie: location === 'cookie' ? cookiePairs(serialized) : new Map(),
  };
}

/** Reads `color` declared with a style, explode and schema from its serialized form. */
function read(
  style: ParameterStyle,
  explode: boolean,
  location: ParameterLocation,
  schema: unknown,
  ...serialized: string[]
): { value: unknown; errors: ProblemError[] } {
  const shapes = new ShapeBuilder(() => undefined);
  const rule: ParameterRule = {
    name: 'color',
    in: location,
    required: false,
    style,
    explode,
    shape: shapes.build([schema]),
  };
  const errors: ProblemError[] = [];
  const out = readParameters([rule], shapes.shapes, rawOf(location, serialized), errors);
  return { value: out[location].color, errors };
}

// The table: style, explode, where, then the serialization of each column (null where the table
// says n/a, and for label's "." in a path, tested below). Query serializations keep the table's
// leading "?".
const STYLE_EXAMPLES: readonly (readonly [
  ParameterStyle,
  boolean,
  ParameterLocation,
  Record<Kind, string | null>,
])[] = [
  [
    'matrix',
    false,
    'path',
    {
      empty: ';color',
      string: ';color=blue',
      array: ';color=blue,black,brown',
      object: ';color=R,100,G,200,B,150',
    },
  ],
  [
    'matrix',
    true,
    'path',
    {
      empty: ';color',
      string: ';color=blue',
      array: ';color=blue;color=black;color=brown',
      object: ';R=100;G=200;B=150',
    },
  ],
  [
    'label',
    false,
    'path',
    { empty: null, string: '.blue', array: '.blue,black,brown', object: '.R,100,G,200,B,150' },
  ],
  [
    'label',
    true,
    'path',
    { empty: null, string: '.blue', array: '.blue.black.brown', object: '.R=100.G=200.B=150' },
  ],
  [
    'simple',
    false,
    'path',
    { empty: '', string: 'blue', array: 'blue,black,brown', object: 'R,100,G,200,B,150' },
  ],
  [
    'simple',
    true,
    'path',
    { empty: '', string: 'blue', array: 'blue,black,brown', object: 'R=100,G=200,B=150' },
  ],
  [
    'simple',
    false,
    'header',
    { empty: '', string: 'blue', array: 'blue,black,brown', object: 'R,100,G,200,B,150' },
  ],
  [
    'simple',
    true,
    'header',
    { empty: '', string: 'blue', array: 'blue,black,brown', object: 'R=100,G=200,B=150' },
  ],
  [
    'form',
    false,
    'query',
    {
      empty: '?color=',
      string: '?color=blue',
      array: '?color=blue,black,brown',
      object: '?color=R,100,G,200,B,150',
    },
  ],
  [
    'form',
    true,
    'query',
    {
      empty: '?color=',
      string: '?color=blue',
      array: '?color=blue&color=black&color=brown',
      object: '?R=100&G=200&B=150',
    },
  ],
  [
    'spaceDelimited',
    false,
    'query',
    {
      empty: null,
      string: null,
      array: '?color=blue%20black%20brown',
      object: '?color=R%20100%20G%20200%20B%20150',
    },
  ],
  [
    'pipeDelimited',
    false,
    'query',
    {
      empty: null,
      string: null,
      array: '?color=blue%7Cblack%7Cbrown',
      object: '?color=R%7C100%7CG%7C200%7CB%7C150',
    },
  ],
  [
    'deepObject',
    true,
    'query',
    { empty: null, string: null, array: null, object: '?color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150' },
  ],
];

const CASES = STYLE_EXAMPLES.flatMap(([style, explode, location, cells]) =>
  (Object.keys(cells) as Kind[])
    .filter((kind) => cells[kind] !== null)
    .map((kind) => [style, explode, location, kind, cells[kind] as string] as const),
);

describe('the Style Examples table of the OpenAPI Specification', () => {
  it.each(CASES)(
    '%s explode=%s in %s reads the %s example %j',
    (style, explode, location, kind, serialized) => {
      // Act
      const { value, errors } = read(style, explode, location, SCHEMAS[kind], serialized);
      // Assert
      expect(errors).toEqual([]);
      expect(value).toEqual(VALUES[kind]);
    },
  );

  it('refuses the label value "." in a path: it is a dot segment, which URL parsing removes', () => {
    expect(read('label', false, 'path', SCHEMAS.empty, '.')).toEqual({
      value: undefined,
      errors: [{ pointer: '/path/color', keyword: 'pattern', message: 'must not be a dot segment' }],
    });
  });

  it('follows the corrected label table: explode=false separates with ",", so "." stays in the item', () => {
    expect(read('label', false, 'path', SCHEMAS.array, '.blue.black.brown').value).toEqual([
      'blue.black.brown',
    ]);
  });
});

describe('matrix values written as RFC 6570 §3.2.7 writes empty strings', () => {
  it('reads an exploded matrix array with an empty item (";color")', () => {
    expect(read('matrix', true, 'path', SCHEMAS.array, ';color=blue;color;color=brown').value).toEqual([
      'blue',
      '',
      'brown',
    ]);
  });
});

describe('cookie and header parameters', () => {
  it.each([
    [
      'form explode=true: one cookie per item',
      true,
      ['color=blue; color=black', 'color=brown'],
      VALUES.array,
    ],
    ['form explode=false: one cookie, comma-separated', false, ['a=1; color=blue,black,brown'], VALUES.array],
  ])('reads an array cookie in %s', (_name, explode, header, value) => {
    expect(read('form', explode, 'cookie', SCHEMAS.array, ...header)).toEqual({ value, errors: [] });
  });

  it('keeps cookie values as sent (no percent-decoding) and ignores cookies without a name', () => {
    expect(read('form', true, 'cookie', SCHEMAS.string, '=x; color=a%20b; junk').value).toBe('a%20b');
  });

  it('reads several header lines as one comma-separated value (RFC 9110 §5.3)', () => {
    expect(read('simple', false, 'header', SCHEMAS.array, 'blue', 'black,brown').value).toEqual(VALUES.array);
  });
});

describe('parameters that are not written in their style', () => {
  const STYLE_ERROR = (style: string) => [
    { pointer: `/path/color`, keyword: 'style', message: `must be written in the ${style} style` },
  ];

  it.each([
    ['label without its "."', 'label', false, SCHEMAS.string, 'blue'],
    ['matrix with another name', 'matrix', false, SCHEMAS.string, ';colour=blue'],
    ['matrix without its ";"', 'matrix', false, SCHEMAS.string, 'color=blue'],
    ['an exploded matrix array with a foreign item', 'matrix', true, SCHEMAS.array, ';color=blue;x=black'],
    ['an object list with an odd count', 'simple', false, SCHEMAS.object, 'R,100,G'],
    ['an exploded object item without "="', 'simple', true, SCHEMAS.object, 'R=100,G200'],
    ['an exploded object item with an empty name', 'simple', true, SCHEMAS.object, '=100'],
    ['a key given twice in an object list', 'simple', false, SCHEMAS.object, 'R,1,R,2'],
    ['a key given twice in an exploded object', 'simple', true, SCHEMAS.object, 'R=1,R=2'],
    ['a key given twice in an exploded matrix object', 'matrix', true, SCHEMAS.object, ';R=1;R=2'],
    ['a __proto__ key in an object list', 'simple', false, SCHEMAS.object, '__proto__,1'],
    ['a constructor key in an exploded object', 'simple', true, SCHEMAS.object, 'constructor=1'],
    ['a prototype key in a label object', 'label', true, SCHEMAS.object, '.prototype=1'],
  ] as const)('refuses %s', (_name, style, explode, schema, serialized) => {
    expect(read(style, explode, 'path', schema, serialized)).toEqual({
      value: undefined,
      errors: STYLE_ERROR(style),
    });
  });

  it.each([
    ['a scalar given twice', 'form', true, SCHEMAS.string, '?color=a&color=b', 'type', 'must be given once'],
    [
      'a comma-separated array given twice',
      'form',
      false,
      SCHEMAS.array,
      '?color=a&color=b',
      'type',
      'must be given once',
    ],
    [
      'a deepObject member given twice',
      'deepObject',
      true,
      SCHEMAS.object,
      '?color[R]=1&color[R]=2',
      'type',
      'must be given once',
    ],
    [
      'a __proto__ deepObject member',
      'deepObject',
      true,
      SCHEMAS.object,
      '?color[__proto__][x]=1',
      'propertyNames',
      'property name is not allowed',
    ],
    [
      'constructor[prototype] deepObject members',
      'deepObject',
      true,
      SCHEMAS.object,
      '?color[constructor][prototype]=1',
      'propertyNames',
      'property name is not allowed',
    ],
    [
      'a deepObject nested 40 levels',
      'deepObject',
      true,
      SCHEMAS.object,
      `?color${'[R]'.repeat(40)}=1`,
      'maxDepth',
      'is nested too deeply',
    ],
    [
      'a deepObject value and members at once',
      'deepObject',
      true,
      SCHEMAS.object,
      '?color=1&color[R]=1',
      'type',
      'is given both as a value and with nested names',
    ],
  ] as const)('refuses %s in the query', (_name, style, explode, schema, serialized, keyword, message) => {
    const { errors } = read(style, explode, 'query', schema, serialized);
    expect(errors).toContainEqual({ pointer: '/query/color', keyword, message });
  });

  it('refuses query names no parameter declares, without naming them', () => {
    const { errors } = read('form', true, 'query', SCHEMAS.string, '?color=a&<b>=1');
    expect(errors).toEqual([
      { pointer: '/query', keyword: 'additionalProperties', message: 'must NOT have additional properties' },
    ]);
  });

  it('refuses an empty query name as undeclared', () => {
    expect(read('form', true, 'query', SCHEMAS.string, '?=1').errors[0]?.keyword).toBe(
      'additionalProperties',
    );
  });
});

describe('content-encoded (JSON) parameters', () => {
  const point = { type: 'object', properties: { lat: { type: 'number' }, long: { type: 'number' } } };

  it('reads the JSON text of a query parameter', () => {
    // The Parameter Object example "coordinates": `content: application/json`.
    expect(
      read('json', false, 'query', point, '?color=%7B%22lat%22%3A1.5%2C%22long%22%3A-2%7D').value,
    ).toEqual({
      lat: 1.5,
      long: -2,
    });
  });

  it.each([
    ['not JSON', '?color=%7Blat%3A1%7D', 'contentMediaType', 'must be valid JSON'],
    [
      'a duplicate key',
      '?color=%7B%22lat%22%3A1%2C%22lat%22%3A2%7D',
      'contentMediaType',
      'must be valid JSON',
    ],
    ['a __proto__ key', '?color=%7B%22__proto__%22%3A%7B%7D%7D', 'contentMediaType', 'must be valid JSON'],
    [
      'nesting over the limit',
      `?color=${'%5B'.repeat(40)}${'%5D'.repeat(40)}`,
      'contentMediaType',
      'must be valid JSON',
    ],
    ['the parameter given twice', '?color=1&color=2', 'type', 'must be given once'],
  ])('refuses %s', (_name, serialized, keyword, message) => {
    expect(read('json', false, 'query', point, serialized).errors).toEqual([
      { pointer: '/query/color', keyword, message },
    ]);
  });
});

describe('schema-shaped reading of oneOf/anyOf parameters', () => {
  it.each([
    [
      'anyOf integer or object, given a number',
      { anyOf: [{ type: 'integer' }, { type: 'object', properties: { gt: { type: 'integer' } } }] },
      '?color=5',
      5,
    ],
    [
      'anyOf integer or object, given members',
      { anyOf: [{ type: 'integer' }, { type: 'object', properties: { gt: { type: 'integer' } } }] },
      '?color[gt]=5',
      { gt: 5 },
    ],
    [
      'oneOf string or integer: a number',
      { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      '?color=5',
      5,
    ],
    [
      'oneOf string or integer: text',
      { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      '?color=five',
      'five',
    ],
    ['oneOf number or boolean', { oneOf: [{ type: 'number' }, { type: 'boolean' }] }, '?color=true', true],
    ['an integer enum', { enum: [1, 2, 3] }, '?color=2', 2],
    ['a const true', { const: true }, '?color=true', true],
    ['a $ref-less allOf', { allOf: [{ type: 'integer' }, { minimum: 1 }] }, '?color=007', '007'],
    ['a schema without a type', {}, '?color=5', '5'],
    ['a 3.1 type list', { type: ['integer', 'null'] }, '?color=-3', -3],
  ])('%s', (_name, schema, serialized, value) => {
    expect(read('deepObject', true, 'query', schema, serialized)).toEqual({ value, errors: [] });
  });
});

describe.each(READER_VERSIONS)('styles through a compiled document (OpenAPI %s)', (version) => {
  const get = (target: string, headers?: Record<string, string>) =>
    validateReaders('GET', target, headers === undefined ? {} : { headers }, version);

  it.each([
    ['a label path array', '/label/.blue,black,brown', 'ok'],
    ['a label path array without its "."', '/label/blue', 'parameter_invalid'],
    [
      'every query style at once',
      '/search?limit=5&tags=a&tags=b&words=a%20b&codes=a%7Cb&created[gt]=1&point=%7B%22lat%22%3A1%2C%22long%22%3A2%7D',
      'ok',
    ],
    ['an anyOf deepObject given as a number', '/search?created=5', 'ok'],
    ['an anyOf deepObject given text', '/search?created=yesterday', 'parameter_invalid'],
    ['an undeclared deepObject member', '/search?created[eq]=5', 'parameter_invalid'],
    [
      'a content-encoded parameter missing a required member',
      '/search?point=%7B%22lat%22%3A1%7D',
      'parameter_invalid',
    ],
    ['an integer out of range', '/search?limit=1000', 'parameter_invalid'],
    ['an undeclared query name', '/search?color=blue', 'parameter_invalid'],
  ])('%s: %s', (_name, target, reason) => {
    expect(reasonOf(get(target))).toBe(reason);
  });

  it.each([
    ['a bad escape', '/search?tags=%zz'],
    ['a lone "%"', '/search?tags=%'],
    ['an encoded lone surrogate', '/search?tags=%ED%A0%80'],
    ['a byte that is never UTF-8', '/search?tags=%FF'],
    ['a bad escape in a name', '/search?ta%gs=a'],
  ])('refuses a query with %s (it would be read as U+FFFD or as the escape itself)', (_name, target) => {
    const outcome = get(target);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problem.reason).toBe('parameter_invalid');
    expect(outcome.problem.errors).toEqual([
      { pointer: '/query', keyword: 'format', message: 'must be percent-encoded UTF-8' },
    ]);
  });

  it('reads "+" in a query as a space and "%2B" as a plus', () => {
    const outcome = get('/search?tags=a+b&tags=a%2Bb');
    expect(outcome.ok && outcome.request.params.query).toEqual({ tags: ['a b', 'a+b'] });
  });

  it('reads the free-form query parameter of the specification: every name no other parameter declares', () => {
    const outcome = get('/free?limit=1&a=2&b=-3');
    expect(outcome.ok && outcome.request.params.query).toEqual({ limit: 1, freeForm: { a: 2, b: -3 } });
  });

  it.each([
    [
      'a member that is not an integer',
      '/free?a=x',
      { pointer: '/query/freeForm/a', keyword: 'type', message: 'must be integer' },
    ],
    [
      'a member given twice',
      '/free?a=1&a=2',
      { pointer: '/query/freeForm', keyword: 'type', message: 'must be given once' },
    ],
    [
      'a __proto__ member',
      '/free?__proto__=1',
      { pointer: '/query/freeForm', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'more members than maxProperties',
      '/free?a=1&b=1&c=1&d=1&e=1&f=1',
      {
        pointer: '/query/freeForm',
        keyword: 'maxProperties',
        message: 'must NOT have more than 5 properties',
      },
    ],
  ])('refuses a free-form parameter with %s', (_name, target, error) => {
    const outcome = get(target);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problem.errors).toContainEqual(error);
  });

  it('reads header and cookie parameters', () => {
    const outcome = get('/search', { 'x-trace': '1,2', cookie: 'session=abc; prefs=a,b; other=1' });
    expect(outcome.ok && outcome.request.params).toEqual({
      path: {},
      query: {},
      header: { 'x-trace': [1, 2] },
      cookie: { session: 'abc', prefs: ['a', 'b'] },
    });
  });
});
