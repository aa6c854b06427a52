import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ValidateFunction } from '../../../shared/validation/table.ts';
import { loadOpenApi, type OpenApiDocument } from '../../../tools/openapi/document.ts';
import { boundIntegers, compileDocument, translate30 } from '../../../tools/openapi/validators.ts';

/** Compiles a document and imports the generated module, as the bundle would. */
async function load(doc: OpenApiDocument): Promise<Record<string, ValidateFunction>> {
  const compiled = compileDocument(doc);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-validators-'));
  const file = join(dir, 'validators.mjs');
  // Resolve ajv's runtime from the project, as the committed module does from shared/generated/.
  writeFileSync(
    file,
    compiled.module.replaceAll(
      /from "(ajv[^"]*)"/g,
      (_m, spec: string) => `from ${JSON.stringify(import.meta.resolve(spec))}`,
    ),
  );
  const mod = (await import(pathToFileURL(file).href)) as Record<string, ValidateFunction>;
  const table = compiled.table;
  // The table names the export of each operation part; find them by position.
  const names = [...table.matchAll(/(?:params: |: )V\.(v\d+)/g)].map((m) => m[1] as string);
  return Object.fromEntries(names.map((n) => [n, mod[n] as ValidateFunction]));
}

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

  it('validates bodies of a 3.0 document with the translated schemas', async () => {
    // Arrange
    const doc = loadOpenApi('test/fixtures/openapi/openapi-3.0.yaml');
    const validators = await load(doc);
    const body = validators.v1 as ValidateFunction;
    // Act / Assert
    expect(body({ name: null, weight: 1 })).toBe(true);
    expect(body({ name: 'a', weight: 0 })).toBe(false);
    expect(body({ name: 'a', weight: 1, color: null })).toBe(true);
    expect(body({ name: 'a', weight: 1, color: 'green' })).toBe(false);
    expect(body({ name: 'a', weight: 1, count: 2 ** 53 })).toBe(false);
  });

  it('describes parameters by their declared types', () => {
    const table = compileDocument(loadOpenApi('test/fixtures/openapi/openapi-3.0.yaml')).table;
    expect(table).toContain('{"name":"id","required":true,"kind":"integer","array":"none"}');
    expect(table).toContain('{"name":"tag","required":false,"kind":"string","array":"explode"}');
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

describe('the secure schema check', () => {
  const base = (schema: unknown): OpenApiDocument => ({
    openapi: '3.1.0',
    paths: {
      '/x': {
        post: {
          operationId: 'postX',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Bad' } } } },
          responses: {},
        },
      },
    },
    components: { schemas: { Bad: schema as Record<string, unknown> } },
  });

  it.each([
    ['a pattern without maxLength', { type: 'string', pattern: '^(a+)+$' }],
    ['a format without maxLength', { type: 'string', format: 'email' }],
    [
      'uniqueItems on objects without maxItems',
      { type: 'array', uniqueItems: true, items: { type: 'object' } },
    ],
    [
      'a nested unbounded pattern',
      {
        type: 'object',
        properties: { deep: { type: 'array', prefixItems: [{ type: 'string', pattern: 'x' }] } },
      },
    ],
  ])('fails the build for %s, naming the schema', (_name, schema) => {
    expect(() => compileDocument(base(schema))).toThrow(/components\.schemas\.Bad: .* is not secure/);
  });

  it.each([
    ['$dynamicRef', { $dynamicRef: '#x' }],
    ['unevaluatedItems', { type: 'array', maxItems: 3, unevaluatedItems: false }],
    ['unevaluatedProperties with if', { if: { required: ['a'] }, unevaluatedProperties: false }],
  ])('fails the build for %s, which ajv standalone code gets wrong', (_name, schema) => {
    expect(() => compileDocument(base(schema))).toThrow(/components\.schemas\.Bad: .* is not supported/);
  });

  it('passes the project document', () => {
    const doc = loadOpenApi('openapi.yaml');
    expect(() => compileDocument(doc)).not.toThrow();
  });
});

describe('the committed module', () => {
  it('is what the generator produces for openapi.yaml', () => {
    const compiled = compileDocument(loadOpenApi('openapi.yaml'));
    expect(readFileSync('shared/generated/validators.mjs', 'utf8')).toContain(compiled.module);
  });

  it('leaves no runtime compilation in the built bundle', () => {
    const bundle = readFileSync('.gatehouse/build/RequestValidatorFunction/handler.mjs', 'utf8');
    expect(bundle).not.toContain('new Function(');
    expect(bundle).not.toMatch(/\beval\(/);
    expect(bundle).toContain('must be equal to one of the allowed values');
  });
});
