/**
 * `application/x-www-form-urlencoded` bodies: the strict pair parser (shared/validation/form.ts),
 * then fields read by the body schema's shape and validated, through the validator's core with a
 * compiled document (test/fixtures/openapi/readers.yaml, as OpenAPI 3.1 and 3.0).
 */
import { describe, expect, it } from 'vitest';
import { MAX_FORM_FIELDS, parseFormPairs } from '../../../shared/validation/form.ts';
import { bodyValueOf, READER_VERSIONS, reasonOf, validateReaders } from '../../support/readers.ts';

const FORM = 'application/x-www-form-urlencoded';

describe('parseFormPairs', () => {
  it.each([
    ['an empty body', '', []],
    ['one pair', 'a=1', [['a', '1']]],
    ['a name without "="', 'a', [['a', '']]],
    ['an empty value', 'a=', [['a', '']]],
    [
      'empty pieces between "&"',
      '&a=1&&b=2&',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['"+" as a space', 'a=b+c', [['a', 'b c']]],
    ['"%20" as a space', 'a=b%20c', [['a', 'b c']]],
    ['"%2B" as a plus', 'a=b%2Bc', [['a', 'b+c']]],
    ['"+" in a name', 'a+b=1', [['a b', '1']]],
    ['"=" inside a value', 'a=1=2', [['a', '1=2']]],
    ['an encoded "=" and "&"', 'a%3Db=%26', [['a=b', '&']]],
    ['UTF-8 escapes', 'n=%C3%A9%F0%9F%98%80', [['n', 'é😀']]],
    ['lower-case hex', 'n=%c3%a9', [['n', 'é']]],
    ['encoded brackets', 'a%5Bb%5D=1', [['a[b]', '1']]],
    [
      'repeated names, in order',
      'a=1&b=2&a=3',
      [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
    ],
  ])('reads %s', (_name, text, pairs) => {
    expect(parseFormPairs(text)).toEqual(pairs);
  });

  it.each([
    ['a lone "%"', 'a=%'],
    ['a truncated escape', 'a=%4'],
    ['a non-hex escape', 'a=%zz'],
    ['a truncated UTF-8 sequence', 'a=%E0%A4%A'],
    ['an encoded lone surrogate (CESU-8)', 'a=%ED%A0%80'],
    ['an overlong encoding of "/"', 'a=%C0%AF'],
    ['a byte that is never UTF-8', 'a=%FF'],
    ['a bad escape in a name', '%zz=1'],
    ['an empty name', '=x'],
    ['an empty name with no value', 'a=1&='],
  ])('refuses %s', (_name, text) => {
    expect(parseFormPairs(text)).toBeUndefined();
  });

  it('accepts exactly MAX_FORM_FIELDS fields and refuses one more', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}=1`).join('&');
    expect(parseFormPairs(fields(MAX_FORM_FIELDS))).toHaveLength(MAX_FORM_FIELDS);
    expect(parseFormPairs(fields(MAX_FORM_FIELDS + 1))).toBeUndefined();
  });
});

describe.each(READER_VERSIONS)('form bodies read by the schema (OpenAPI %s)', (version) => {
  const post = (body: string | Uint8Array, contentType = FORM) =>
    validateReaders('POST', '/forms', { body, contentType }, version);

  it.each([
    [
      'scalars by their declared type',
      'name=Ada&count=5&ratio=1.5e2&active=true',
      { name: 'Ada', count: 5, ratio: 150, active: true },
    ],
    ['a string that looks like a number stays a string', 'name=42', { name: '42' }],
    ['"+" and "%20" alike as spaces, "%2B" as a plus', 'name=a+b%20c%2Bd', { name: 'a b c+d' }],
    ['an empty value', 'name=', { name: '' }],
    ['a repeated name as an array', 'name=a&tags=x&tags=y', { name: 'a', tags: ['x', 'y'] }],
    ['"[]" names as an array', 'name=a&tags[]=x&tags[]=y', { name: 'a', tags: ['x', 'y'] }],
    ['indexed names as an array', 'name=a&tags[0]=x&tags[1]=y', { name: 'a', tags: ['x', 'y'] }],
    [
      'a single value of a field declared as an array as its one item',
      'name=a&tags=x',
      { name: 'a', tags: ['x'] },
    ],
    [
      'nested object names',
      'name=a&address[city]=Paris&address[zip]=75001',
      { name: 'a', address: { city: 'Paris', zip: '75001' } },
    ],
    [
      'encoded brackets as brackets',
      'name=a&address%5Bcity%5D=Paris',
      { name: 'a', address: { city: 'Paris' } },
    ],
    [
      'arrays of objects',
      'name=a&items[0][sku]=s1&items[0][qty]=2&items[1][sku]=s2',
      { name: 'a', items: [{ sku: 's1', qty: 2 }, { sku: 's2' }] },
    ],
    ['free-form properties', 'name=a&metadata[order]=1234', { name: 'a', metadata: { order: '1234' } }],
    [
      'a JSON-encoded field (encoding.contentType)',
      'name=a&filter=%7B%22min%22%3A1%2C%22max%22%3A9%7D',
      { name: 'a', filter: { min: 1, max: 9 } },
    ],
  ])('reads %s', (_name, body, value) => {
    const outcome = post(body);
    expect(reasonOf(outcome)).toBe('ok');
    expect(bodyValueOf(outcome)).toEqual(value);
  });

  it('accepts a charset parameter that names UTF-8, in any case', () => {
    expect(reasonOf(post('name=%C3%A9', `${FORM}; charset=UTF-8`))).toBe('ok');
  });

  it('reads a base64-encoded body as its bytes', () => {
    expect(bodyValueOf(post(Buffer.from('name=%C3%A9')))).toEqual({ name: 'é' });
  });

  it.each([
    ['a bad percent escape', 'form_invalid', 'name=%zz'],
    ['an encoded lone surrogate', 'form_invalid', 'name=%ED%A0%80'],
    ['invalid UTF-8 behind an escape', 'form_invalid', 'name=%C3%28'],
    ['an empty name', 'form_invalid', 'name=a&=1'],
    ['more than 1,000 fields', 'form_invalid', Array.from({ length: 1001 }, () => 'name=a').join('&')],
    ['a charset other than UTF-8', 'media_type_unsupported', 'name=a', `${FORM}; charset=iso-8859-1`],
    ['a byte-order mark', 'body_bom', '\ufeffname=a'],
    ['a lone surrogate in the text itself', 'body_invalid_utf8', 'name=\ud800'],
    ['invalid UTF-8 bytes', 'body_invalid_utf8', Buffer.from([0x6e, 0x3d, 0xc3, 0x28])],
  ] as const)('refuses %s with %s', (_name, reason, body, contentType?: string) => {
    expect(reasonOf(post(body, contentType ?? FORM))).toBe(reason);
  });

  it('refuses a body over the limit with 413', () => {
    const outcome = validateReaders(
      'POST',
      '/forms',
      { body: `name=${'a'.repeat(100)}`, contentType: FORM },
      version,
      {
        maxBytes: 50,
        maxDepth: 32,
      },
    );
    expect(reasonOf(outcome)).toBe('body_too_large');
  });

  // Field errors are 400 body_invalid; the pointer names the declared field (never a name that
  // only the request chose), and the message is a fixed text.
  it.each([
    [
      'a scalar given twice',
      'name=a&count=1&count=2',
      { pointer: '/count', keyword: 'type', message: 'must be given once' },
    ],
    [
      'a nested scalar given twice',
      'name=a&address[city]=x&address[city]=y',
      { pointer: '/address/city', keyword: 'type', message: 'must be given once' },
    ],
    [
      'a value and nested names for one field',
      'name=a&address=x&address[city]=y',
      {
        pointer: '/address/city',
        keyword: 'type',
        message: 'is given both as a value and with nested names',
      },
    ],
    [
      'an array with a gap',
      'name=a&tags[0]=x&tags[2]=y',
      { pointer: '/tags/2', keyword: 'items', message: 'array indexes must start at 0 and have no gaps' },
    ],
    [
      'an array index over 999',
      'name=a&items[1000][sku]=x',
      { pointer: '/items', keyword: 'maxItems', message: 'array index must be at most 999' },
    ],
    [
      'a __proto__ name',
      'name=a&__proto__[admin]=1',
      { pointer: '', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'a nested __proto__ name',
      'name=a&address[__proto__][admin]=1',
      { pointer: '/address', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'constructor[prototype] names',
      'name=a&metadata[constructor][prototype]=1',
      { pointer: '/metadata', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'a prototype name',
      'name=a&prototype=1',
      { pointer: '', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'an encoded __proto__ name',
      'name=a&%5F%5Fproto%5F%5F=1',
      { pointer: '', keyword: 'propertyNames', message: 'property name is not allowed' },
    ],
    [
      'an unclosed bracket',
      'name=a&address[city=x',
      { pointer: '', keyword: 'propertyNames', message: 'is not a well-formed field name' },
    ],
    [
      'a name that starts with a bracket',
      'name=a&[x]=1',
      { pointer: '', keyword: 'propertyNames', message: 'is not a well-formed field name' },
    ],
    [
      'text after a bracket',
      'name=a&address[city]x=1',
      { pointer: '', keyword: 'propertyNames', message: 'is not a well-formed field name' },
    ],
    [
      'nesting deeper than 32 levels',
      `name=a&metadata${'[k]'.repeat(40)}=1`,
      { pointer: '/metadata', keyword: 'maxDepth', message: 'is nested too deeply' },
    ],
    [
      'a JSON field that is not JSON',
      'name=a&filter=%7Bmin',
      { pointer: '/filter', keyword: 'contentMediaType', message: 'must be valid JSON' },
    ],
    [
      'a JSON field with a duplicate key',
      'name=a&filter=%7B%22min%22%3A1%2C%22min%22%3A2%7D',
      { pointer: '/filter', keyword: 'contentMediaType', message: 'must be valid JSON' },
    ],
    [
      'a JSON field with a __proto__ key',
      'name=a&filter=%7B%22__proto__%22%3A%7B%7D%7D',
      { pointer: '/filter', keyword: 'contentMediaType', message: 'must be valid JSON' },
    ],
    [
      'a JSON field given twice',
      'name=a&filter=%7B%7D&filter=%7B%7D',
      { pointer: '/filter', keyword: 'type', message: 'must be given once' },
    ],
    [
      'a number where an integer is declared',
      'name=a&count=1.5',
      { pointer: '/count', keyword: 'type', message: 'must be integer' },
    ],
    [
      'an undeclared field',
      'name=a&nickname=b',
      { pointer: '', keyword: 'additionalProperties', message: 'must NOT have additional properties' },
    ],
    [
      'a missing required field',
      'count=1',
      { pointer: '', keyword: 'required', message: "must have required property 'name'" },
    ],
  ])('refuses %s (400 body_invalid)', (_name, body, error) => {
    // Act
    const outcome = post(body);
    // Assert
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problem.reason).toBe('body_invalid');
    expect(outcome.problem.status).toBe(400);
    expect(outcome.problem.errors).toContainEqual(error);
  });

  it('never puts a field name the request chose into the problem when the name cannot be read', () => {
    // Arrange: names that are malformed, forbidden, too deep, or in conflict under free-form objects.
    const bodies = [
      'name=a&<script>[=1',
      'name=a&<script>[__proto__]=1',
      `name=a&metadata[<script>]${'[k]'.repeat(40)}=1`,
      'name=a&metadata[<script>]=1&metadata[<script>]=2',
      'name=a&metadata[<script>]=1&metadata[<script>][x]=2',
    ];
    for (const body of bodies) {
      // Act
      const outcome = post(body);
      // Assert
      expect(reasonOf(outcome)).toBe('body_invalid');
      expect(JSON.stringify(outcome.ok ? {} : outcome.problem)).not.toContain('script');
    }
  });

  it('refuses a 20,000-level name quickly, without recursion', () => {
    const outcome = post(`name=a&metadata${'[k]'.repeat(20_000)}=1`);
    expect(reasonOf(outcome)).toBe('body_invalid');
  });
});
