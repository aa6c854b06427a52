import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readProxyEvent } from '../../../shared/validation/proxy-event.ts';
import { PrototypePollutedError } from '../../../shared/validation/registry.ts';
import { validateRequest } from '../../../shared/validation/validate-request.ts';
import { loadOpenApi, type OpenApiDocument } from '../../../tools/openapi/document.ts';
import {
  boundIntegers,
  compileDocument,
  createAjv,
  namesInheritedProperty,
  translate30,
} from '../../../tools/openapi/validators.ts';
import { BUILD_DIR } from '../../../tools/paths.ts';
import { loadDocument } from '../../support/openapi.ts';
import { httpEvent, READER_LIMITS } from '../../support/readers.ts';

describe('OpenAPI 3.0 translation', () => {
  it('turns nullable and boolean exclusive bounds into JSON Schema', () => {
    // Act
    const out = translate30({
      type: 'object',
      properties: {
        a: { type: 'string', nullable: true },
        b: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false },
        c: { enum: ['x'], nullable: true, type: 'string' },
      },
    });
    // Assert
    expect(out).toEqual({
      type: 'object',
      properties: {
        a: { type: ['string', 'null'] },
        b: { type: 'number', exclusiveMinimum: 0, maximum: 9 },
        c: { enum: ['x', null], type: ['string', 'null'] },
      },
    });
  });

  it('validates bodies of a 3.0 document with the translated schemas', () => {
    // Arrange
    const { table } = loadDocument(loadOpenApi('test/fixtures/openapi/openapi-3.0.yaml'));
    const body = table.operation('PUT /widgets/{id}')?.body?.media['application/json']?.validate;
    // Act / Assert
    expect(body?.({ name: null, weight: 1 })).toBe(true);
    expect(body?.({ name: 'a', weight: 0 })).toBe(false);
    expect(body?.({ name: 'a', weight: 1, color: null })).toBe(true);
    expect(body?.({ name: 'a', weight: 1, color: 'green' })).toBe(false);
    expect(body?.({ name: 'a', weight: 1, count: 2 ** 53 })).toBe(false);
  });

  it('describes parameters by their declared types', () => {
    const { table } = loadDocument(loadOpenApi('test/fixtures/openapi/openapi-3.0.yaml'));
    const op = table.operation('PUT /widgets/{id}');
    const id = op?.parameters.find((p) => p.name === 'id');
    const tag = op?.parameters.find((p) => p.name === 'tag');
    expect(id).toMatchObject({ in: 'path', required: true, style: 'simple' });
    expect(op?.shapes[id?.shape ?? -1]).toEqual({ scalars: ['integer'] });
    expect(tag).toMatchObject({ in: 'query', style: 'form', explode: true });
    expect(op?.shapes[op?.shapes[tag?.shape ?? -1]?.items ?? -1]).toEqual({ scalars: ['string'] });
  });
});

describe('boundIntegers', () => {
  it('adds safe-integer bounds only where none are tighter', () => {
    expect(boundIntegers({ type: 'integer', minimum: 1 })).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    expect(boundIntegers({ type: 'number' })).toEqual({ type: 'number' });
  });
});

/** A document whose one operation posts a `Thing` (component) as JSON. */
const withSchema = (schema: unknown, version = '3.1.0'): OpenApiDocument => ({
  openapi: version,
  paths: {
    '/x': {
      post: {
        operationId: 'postX',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
        responses: {},
      },
    },
  },
  components: { schemas: { Thing: schema as Record<string, unknown> } },
});

const bodyOf = (doc: OpenApiDocument) =>
  loadDocument(doc).table.operation('POST /x')?.body?.media['application/json']?.validate;

describe('the secure schema review', () => {
  it.each([
    ['pattern_unbounded', { type: 'string', pattern: '^(a+)+$' }, ''],
    ['format_unbounded', { type: 'string', format: 'email' }, ''],
    ['unique_items_unbounded', { type: 'array', uniqueItems: true, items: { type: 'object' } }, ''],
    [
      'pattern_unbounded',
      {
        type: 'object',
        properties: { deep: { type: 'array', prefixItems: [{ type: 'string', pattern: 'x' }] } },
      },
      '/properties/deep/prefixItems/0',
    ],
    ['format_unknown', { type: 'string', format: 'repo.nwo', maxLength: 9 }, ''],
    ['keyword_unknown', { type: 'string', maxLength: 9, minimumLength: 3 }, ''],
  ])('warns %s once, naming the pointer and the operation', (code, schema, below) => {
    // Act
    const compiled = compileDocument(withSchema(schema), { responseValidators: false });
    // Assert
    expect(compiled.warnings).toEqual([
      expect.objectContaining({ code, pointer: `#/components/schemas/Thing${below}`, operation: 'postX' }),
    ]);
  });

  it.each([
    ['an int64 integer', { type: 'integer', format: 'int64' }],
    ['an int32 integer', { type: 'integer', format: 'int32' }],
    ['a bounded enum', { type: 'string', enum: ['a', 'b'] }],
    ['a bounded pattern', { type: 'string', pattern: '^a+$', maxLength: 5 }],
    ['x- extensions', { type: 'string', maxLength: 3, 'x-internal': true }],
  ])('does not warn about %s', (_name, schema) => {
    expect(compileDocument(withSchema(schema), { responseValidators: false }).warnings).toEqual([]);
  });

  it('validates a value of an unknown format by its type', () => {
    const validate = bodyOf(withSchema({ type: 'string', format: 'repo.nwo', maxLength: 9 }));
    expect(validate?.('any/text')).toBe(true);
    expect(validate?.(7)).toBe(false);
  });

  it('accepts required properties declared in a sibling of a oneOf branch', () => {
    const validate = bodyOf(
      withSchema({
        type: 'object',
        properties: { a: { type: 'string', maxLength: 3 }, b: { type: 'string', maxLength: 3 } },
        oneOf: [{ required: ['a'] }, { required: ['b'] }],
      }),
    );
    expect(validate?.({ a: 'x' })).toBe(true);
    expect(validate?.({ a: 'x', b: 'y' })).toBe(false);
  });

  it.each([
    ['$dynamicRef', { $dynamicRef: '#x' }],
    ['unevaluatedItems', { type: 'array', maxItems: 3, unevaluatedItems: false }],
    ['unevaluatedProperties with if', { if: { required: ['a'] }, unevaluatedProperties: false }],
  ])('fails the build for %s, which ajv standalone code gets wrong', (_name, schema) => {
    expect(() => compileDocument(withSchema(schema), { responseValidators: false })).toThrow(
      /#\/components\/schemas\/Thing \(postX\): .* is not supported/,
    );
  });

  it('passes the project document without warnings', () => {
    expect(compileDocument(loadOpenApi('openapi.yaml'), { responseValidators: true }).warnings).toEqual([]);
  });
});

describe('readOnly, writeOnly and discriminator', () => {
  const pet = (version: string): OpenApiDocument => ({
    openapi: version,
    paths: {
      '/pets': {
        post: {
          operationId: 'addPet',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Pet: {
          oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
          discriminator: { propertyName: 'kind', mapping: { kitty: '#/components/schemas/Cat' } },
        },
        Base: {
          type: 'object',
          required: ['id', 'kind', 'secret'],
          properties: {
            id: { type: 'integer', readOnly: true },
            kind: { type: 'string', maxLength: 10 },
            secret: { type: 'string', writeOnly: true, maxLength: 10 },
          },
        },
        Cat: { allOf: [{ $ref: '#/components/schemas/Base' }], properties: { lives: { type: 'integer' } } },
        Dog: { allOf: [{ $ref: '#/components/schemas/Base' }], properties: { bark: { type: 'boolean' } } },
      },
    },
  });

  it.each(['3.0.3', '3.1.0'])(
    'does not require readOnly properties in %s requests, nor writeOnly in responses',
    (v) => {
      // Arrange
      const op = loadDocument(pet(v), { responseValidators: true }).table.operation('POST /pets');
      const request = op?.body?.media['application/json']?.validate;
      const response = op?.responses['200']?.['application/json'];
      // Act / Assert
      expect(request?.({ kind: 'kitty', secret: 's' })).toBe(true);
      expect(response?.({ kind: 'kitty', id: 1 })).toBe(true);
      expect(response?.({ kind: 'kitty', secret: 's' })).toBe(false);
    },
  );

  it('validates against the branch the discriminator names, by mapping or by schema name', () => {
    const validate = loadDocument(pet('3.1.0')).table.operation('POST /pets')?.body?.media['application/json']
      ?.validate;
    expect(validate?.({ kind: 'kitty', secret: 's', lives: 9 })).toBe(true);
    expect(validate?.({ kind: 'kitty', secret: 's', lives: 'nine' })).toBe(false);
    expect(validate?.({ kind: 'Dog', secret: 's', bark: true })).toBe(true);
    expect(validate?.({ kind: 'Dog', secret: 's', bark: 'loud' })).toBe(false);
    // Both branches would accept this body; oneOf alone would refuse it as ambiguous.
    expect(validate?.({ kind: 'Dog', secret: 's' })).toBe(true);
    expect(validate?.({ kind: 'Cat', secret: 's' })).toBe(false);
  });
});

describe('names objects inherit', () => {
  it.each([
    ['required', { type: 'object', required: ['toString'] }],
    ['properties', { type: 'object', properties: { valueOf: { type: 'string' } } }],
    ['dependentRequired', { type: 'object', dependentRequired: { a: ['hasOwnProperty'] } }],
  ])('compiles a document naming one in %s with own-property checks', (_keyword, schema) => {
    // Arrange
    const doc = withSchema(schema);
    // Act
    const validate = bodyOf(doc);
    // Assert: an inherited member never satisfies `required`, nor is checked as the value.
    expect(namesInheritedProperty(doc)).toBe(true);
    expect(validate?.({ a: 1 })).toBe(!('required' in schema || 'dependentRequired' in schema));
  });

  it('never counts an inherited member as a required property or parameter', () => {
    // Arrange
    const doc: OpenApiDocument = {
      ...withSchema({ type: 'object', required: ['toString'] }),
      paths: {
        '/x': {
          post: {
            operationId: 'postX',
            parameters: [{ name: 'constructor', in: 'query', required: true, schema: { type: 'string' } }],
            requestBody: {
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
            },
            responses: {},
          },
        },
      },
    };
    const op = loadDocument(doc).table.operation('POST /x');
    // Act / Assert
    expect(op?.body?.media['application/json']?.validate?.({})).toBe(false);
    expect(op?.body?.media['application/json']?.validate?.({ toString: 'x' })).toBe(true);
    expect(op?.params({ path: {}, query: {}, header: {}, cookie: {} })).toBe(false);
    expect(op?.params({ path: {}, query: { constructor: 'x' }, header: {}, cookie: {} })).toBe(true);
  });

  it('reads properties directly in documents that name none (the project document)', () => {
    expect(namesInheritedProperty(loadOpenApi('openapi.yaml'))).toBe(false);
    expect(
      compileDocument(loadOpenApi('openapi.yaml'), { responseValidators: true })
        .modules.map((m) => m.content)
        .join(''),
    ).not.toContain('hasOwnProperty');
  });

  it('refuses to validate anything once Object.prototype has an enumerable property', () => {
    // Arrange
    const validate = bodyOf(withSchema({ type: 'object', required: ['admin'] }));
    expect(validate?.({})).toBe(false);
    (Object.prototype as Record<string, unknown>).admin = true;
    onTestFinished(() => {
      delete (Object.prototype as Record<string, unknown>).admin;
    });
    // Act / Assert: `{}` would now have an `admin`, inherited.
    expect(() => validate?.({})).toThrow(PrototypePollutedError);
  });
});

describe('string lengths', () => {
  // ajv's `ucs2length` counts code points; the generated code compares `.length` first.
  const text = fc.string({
    unit: fc.constantFrom('a', 'é', '😀', '\ud800', '\udc00', '\u{10FFFF}'),
    maxLength: 12,
  });

  it('gives every string the verdict of ajv compiled at run time', () => {
    fc.assert(
      fc.property(
        fc.nat(6),
        fc.nat(6),
        fc.array(text, { minLength: 1, maxLength: 8 }),
        (min, extra, strings) => {
          // Arrange
          const schema = { type: 'string', minLength: min, maxLength: min + extra };
          const generated = bodyOf(withSchema(schema));
          const reference = createAjv('2020-12').compile(schema);
          // Act / Assert
          for (const s of strings) expect(generated?.(s)).toBe(reference(s));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('readers', () => {
  const withParameter = (parameter: Record<string, unknown>): OpenApiDocument => ({
    openapi: '3.1.0',
    paths: { '/x/{id}': { get: { operationId: 'getX', parameters: [parameter], responses: {} } } },
  });
  const bodyOfType = (type: string): OpenApiDocument => ({
    openapi: '3.1.0',
    paths: {
      '/x': {
        post: {
          operationId: 'postX',
          requestBody: { content: { [type]: { schema: { type: 'object' } } } },
          responses: {},
        },
      },
    },
  });

  it.each([
    ['the project document', loadOpenApi('openapi.yaml'), []],
    ['a form body', bodyOfType('application/x-www-form-urlencoded'), ['form']],
    ['a multipart body', bodyOfType('multipart/form-data'), ['multipart']],
    ['a JSON body', bodyOfType('application/json'), []],
    [
      'a deepObject query parameter',
      withParameter({ name: 'f', in: 'query', style: 'deepObject', schema: { type: 'object' } }),
      ['deepObject', 'styled'],
    ],
    [
      'a label path parameter',
      withParameter({ name: 'id', in: 'path', style: 'label', schema: { type: 'string' } }),
      ['styled'],
    ],
    [
      'an object query parameter',
      withParameter({ name: 'o', in: 'query', schema: { type: 'object' } }),
      ['styled'],
    ],
    [
      'scalar and array parameters',
      withParameter({ name: 'a', in: 'query', schema: { type: 'array', items: { type: 'integer' } } }),
      [],
    ],
    [
      'every kind (the readers document)',
      loadOpenApi('test/fixtures/openapi/readers.yaml'),
      ['deepObject', 'form', 'multipart', 'styled'],
    ],
  ])('gives %s the readers it needs and no other', (_name, doc, readers) => {
    expect(compileDocument(doc, { responseValidators: false }).readers).toEqual(readers);
  });

  it('refuses a request whose reader the table lacks as internal_error', () => {
    // Arrange: the readers document, its table stripped of every reader.
    const { table, matcher } = loadDocument(loadOpenApi('test/fixtures/openapi/readers.yaml'));
    const bare = { ...table, readers: {} };
    const cases = [
      httpEvent('POST', '/forms', { body: 'a=1', contentType: 'application/x-www-form-urlencoded' }),
      httpEvent('GET', '/label/.blue'),
    ];
    // Act / Assert
    for (const e of cases) {
      const read = validateRequest(readProxyEvent(e), { matcher, table, limits: READER_LIMITS });
      const outcome = validateRequest(readProxyEvent(e), { matcher, table: bare, limits: READER_LIMITS });
      expect(read.ok ? 'ok' : read.problem.reason).not.toBe('internal_error');
      expect(outcome.ok ? 'ok' : outcome.problem.reason).toBe('internal_error');
    }
  });
});

describe('response validators', () => {
  it('are generated only when asked for', () => {
    const doc = loadOpenApi('openapi.yaml');
    const without = compileDocument(doc, { responseValidators: false });
    const withThem = compileDocument(doc, { responseValidators: true });
    expect(without.modules.every((m) => m.content.includes('responses: {  }'))).toBe(true);
    expect(withThem.modules.some((m) => m.content.includes('responses: { "200"'))).toBe(true);
    expect(without.registry).toContain('exports.responseValidators = false;');
  });
});

describe('lazy loading', () => {
  it('loads an operation module on first use only, once', () => {
    // Arrange
    const loaded = loadDocument(loadOpenApi('openapi.yaml'));
    // Act
    const before = loaded.loads();
    loaded.table.operation('GET /orders');
    loaded.table.operation('GET /orders');
    // Assert
    expect(before).toBe(0);
    expect(loaded.loads()).toBe(1);
    expect(loaded.table.operation('GET /nope')).toBeUndefined();
  });
});

describe('the committed modules', () => {
  it('leave no runtime compilation in the built bundle', () => {
    const dir = join(BUILD_DIR, 'RequestValidatorFunction');
    const code = readdirSync(dir)
      .filter((f) => f.endsWith('.mjs') || f.endsWith('.cjs'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    expect(code).not.toContain('new Function(');
    expect(code).not.toMatch(/\beval\(/);
    expect(code).toContain('must be equal to one of the allowed values');
  });
});
