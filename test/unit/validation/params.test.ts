import { describe, expect, it } from 'vitest';
import { cookiePairs, type RawParameters, readParameters } from '../../../shared/validation/params.ts';
import type { ProblemError } from '../../../shared/validation/problem.ts';
import type { ParameterRule, Shape } from '../../../shared/validation/table.ts';
import { readScalar } from '../../../shared/validation/text-values.ts';

describe('readScalar', () => {
  it.each([
    ['42', ['integer'], 42],
    ['-7', ['integer'], -7],
    ['007', ['integer'], '007'],
    ['1e3', ['integer'], '1e3'],
    ['0x10', ['integer'], '0x10'],
    [' 4', ['integer'], ' 4'],
    ['', ['integer'], ''],
    ['Infinity', ['number'], 'Infinity'],
    ['1.5e3', ['number'], 1500],
    ['.5', ['number'], '.5'],
    ['true', ['boolean'], true],
    ['TRUE', ['boolean'], 'TRUE'],
    ['1', ['boolean'], '1'],
    ['42', ['string'], '42'],
    ['5', ['integer', 'string'], 5],
    ['', ['integer', 'string'], ''],
  ] as const)('reads %j with kinds %j as %j', (raw, scalars, expected) => {
    expect(readScalar(raw, { scalars })).toEqual(expected);
  });
});

const raw = (query: [string, string[]][] = [], path: [string, string[]][] = []): RawParameters => ({
  path: new Map(path),
  query: new Map(query),
  header: new Map(),
  cookie: new Map(),
});

const rule = (over: Partial<ParameterRule> & Pick<ParameterRule, 'name'>): ParameterRule => ({
  in: 'query',
  required: false,
  style: 'form',
  explode: true,
  shape: 0,
  ...over,
});

const INT: Shape = { scalars: ['integer'] };
const INT_ARRAY: Shape[] = [{ scalars: [], items: 1 }, INT];

describe('readParameters', () => {
  it('reads exploded arrays item by item', () => {
    // Arrange
    const errors: ProblemError[] = [];
    // Act
    const out = readParameters([rule({ name: 'n' })], INT_ARRAY, raw([['n', ['1', '2']]]), errors);
    // Assert
    expect(out.query).toEqual({ n: [1, 2] });
    expect(errors).toEqual([]);
  });

  it('reads comma-separated arrays when explode is false', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'n', explode: false })],
      INT_ARRAY,
      raw([['n', ['1,2,x']]]),
      errors,
    );
    expect(out.query).toEqual({ n: [1, 2, 'x'] });
  });

  it('refuses a scalar given twice', () => {
    const errors: ProblemError[] = [];
    readParameters([rule({ name: 'limit' })], [INT], raw([['limit', ['1', '2']]]), errors);
    expect(errors).toEqual([{ pointer: '/query/limit', keyword: 'type', message: 'must be given once' }]);
  });

  it('refuses undeclared query names without echoing them', () => {
    const errors: ProblemError[] = [];
    readParameters([], [], raw([['<script>', ['x']]]), errors);
    expect(JSON.stringify(errors)).not.toContain('script');
    expect(errors[0]?.keyword).toBe('additionalProperties');
  });

  it.each(['.', '..'])('refuses the dot segment %j as a path parameter', (value) => {
    const errors: ProblemError[] = [];
    readParameters(
      [rule({ name: 'id', in: 'path', required: true, style: 'simple', explode: false })],
      [{ scalars: ['string'] }],
      raw([], [['id', [value]]]),
      errors,
    );
    expect(errors).toEqual([
      { pointer: '/path/id', keyword: 'pattern', message: 'must not be a dot segment' },
    ]);
  });

  // Stripe's `created`: anyOf [{ type: object, properties: { gt, lt } }, { type: integer }], deepObject.
  const CREATED: Shape[] = [{ scalars: ['integer'], properties: { gt: 1, lt: 1 } }, INT];

  it('reads a oneOf/anyOf deepObject parameter given as a scalar as a number', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'created', style: 'deepObject' })],
      CREATED,
      raw([['created', ['5']]]),
      errors,
    );
    expect(out.query).toEqual({ created: 5 });
    expect(errors).toEqual([]);
  });

  it('reads a deepObject parameter given with nested names as an object', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'created', style: 'deepObject' })],
      CREATED,
      raw([
        ['created[gt]', ['5']],
        ['created[lt]', ['9']],
      ]),
      errors,
    );
    expect(out.query).toEqual({ created: { gt: 5, lt: 9 } });
    expect(errors).toEqual([]);
  });

  it('refuses nested names of a parameter that is not a deepObject', () => {
    const errors: ProblemError[] = [];
    readParameters([rule({ name: 'limit' })], [INT], raw([['limit[x]', ['1']]]), errors);
    expect(errors[0]?.keyword).toBe('additionalProperties');
  });

  it('refuses prototype names in nested parameters', () => {
    const errors: ProblemError[] = [];
    readParameters(
      [rule({ name: 'f', style: 'deepObject' })],
      [{ scalars: [], properties: {}, additional: 1 }, { scalars: ['string'] }],
      raw([['f[__proto__]', ['1']]]),
      errors,
    );
    expect(errors).toEqual([
      { pointer: '/query/f', keyword: 'propertyNames', message: 'property name is not allowed' },
    ]);
  });

  it('reads a content-encoded JSON parameter strictly', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'filter', style: 'json' })],
      [{ scalars: [] }],
      raw([['filter', ['{"a":1}']]]),
      errors,
    );
    expect(out.query).toEqual({ filter: { a: 1 } });
    const bad: ProblemError[] = [];
    readParameters(
      [rule({ name: 'filter', style: 'json' })],
      [{ scalars: [] }],
      raw([['filter', ['{"a":1,"a":2}']]]),
      bad,
    );
    expect(bad).toEqual([
      { pointer: '/query/filter', keyword: 'contentMediaType', message: 'must be valid JSON' },
    ]);
  });

  it('reads cookie parameters from the Cookie header', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'session', in: 'cookie' })],
      [INT],
      { ...raw(), cookie: cookiePairs(['a=b; session=42']) },
      errors,
    );
    expect(out.cookie).toEqual({ session: 42 });
  });

  it('reads label and matrix path parameters', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [
        rule({ name: 'a', in: 'path', style: 'label', explode: false }),
        rule({ name: 'b', in: 'path', style: 'matrix', explode: false }),
      ],
      INT_ARRAY,
      raw(
        [],
        [
          ['a', ['.1,2']],
          ['b', [';b=3,4']],
        ],
      ),
      errors,
    );
    expect(out.path).toEqual({ a: [1, 2], b: [3, 4] });
    expect(errors).toEqual([]);
  });
});

// Everything read here is forwarded as read (shared/upstream/forward.ts): text the forwarder could
// not send is refused, pointing at what the document declares.
describe('readParameters refuses what cannot be forwarded as read', () => {
  const STRING: Shape = { scalars: ['string'] };
  const OBJECT: Shape[] = [{ scalars: [], properties: { a: 1 }, additional: 1 }, STRING];
  const unicode = (pointer: string) => ({
    pointer,
    keyword: 'format',
    message: 'must be well-formed Unicode',
  });
  const fieldValue = (pointer: string) => ({
    pointer,
    keyword: 'format',
    message: 'must be a valid header field value',
  });

  it.each([
    ['a declared query value', [rule({ name: 'q' })], raw([['q', ['a\ud800']]]), [unicode('/query/q')]],
    [
      'a deepObject member name (the request chose it: /query)',
      [rule({ name: 'f', style: 'deepObject' })],
      raw([['f[\udc00]', ['1']]]),
      [unicode('/query')],
    ],
    [
      'a free-form query name (the request chose it: /query)',
      [rule({ name: 'rest' })],
      raw([['\ud800x', ['1']]]),
      [unicode('/query')],
    ],
    [
      'a path value, declared or not',
      [rule({ name: 'id', in: 'path', style: 'simple', explode: false })],
      raw(
        [],
        [
          ['id', ['x\udc00']],
          ['other', ['\ud800']],
        ],
      ),
      [unicode('/path/id'), unicode('/path/other')],
    ],
  ] as const)('a lone surrogate in %s', (_where, rules, given, expected) => {
    // Arrange
    const errors: ProblemError[] = [];
    // Act
    readParameters(rules, OBJECT, given, errors);
    // Assert
    expect(errors).toEqual(expected);
  });

  it.each([
    ['a lone surrogate', 'order-\udc00', unicode('/header/idempotency-key')],
    ['a line feed', 'a\nb', fieldValue('/header/idempotency-key')],
    ['a NUL', 'a\u0000b', fieldValue('/header/idempotency-key')],
    ['DEL', 'a\u007fb', fieldValue('/header/idempotency-key')],
    ['a character beyond U+00FF', 'a\u20acb', fieldValue('/header/idempotency-key')],
  ])('a declared header holding %s', (_what, value, expected) => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'idempotency-key', in: 'header', style: 'simple', explode: false })],
      [STRING],
      { ...raw(), header: new Map([['idempotency-key', ['fine', value]]]) },
      errors,
    );
    expect(errors).toEqual([expected]);
    expect(out.header).toEqual({});
  });

  it('a cookie parameter with a control character', () => {
    const errors: ProblemError[] = [];
    readParameters(
      [rule({ name: 'session', in: 'cookie' })],
      [STRING],
      { ...raw(), cookie: new Map([['session', ['a\u0001']]]) },
      errors,
    );
    expect(errors).toEqual([fieldValue('/cookie/session')]);
  });

  it('keeps tabs, Latin-1 and well-formed astral characters where they can travel', () => {
    const errors: ProblemError[] = [];
    const out = readParameters(
      [rule({ name: 'h', in: 'header', style: 'simple', explode: false }), rule({ name: 'q' })],
      [STRING],
      { ...raw([['q', ['😀é']]]), header: new Map([['h', ['a\tb é']]]) },
      errors,
    );
    expect(errors).toEqual([]);
    expect(out).toMatchObject({ header: { h: 'a\tb é' }, query: { q: '😀é' } });
  });

  it('leaves headers the document does not declare to the forwarder', () => {
    const errors: ProblemError[] = [];
    readParameters([], [], { ...raw(), header: new Map([['x-other', ['a\nb\ud800']]]) }, errors);
    expect(errors).toEqual([]);
  });
});
