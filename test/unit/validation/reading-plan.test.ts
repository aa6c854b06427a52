/**
 * The reading plan the build compiles from a document (tools/openapi/validators.ts, shapes.ts):
 * each parameter's style, explode and shape, and each body media type's reader, JSON fields and
 * file fields, as the request validator reads them (shared/validation/table.ts).
 */
import { describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../../tools/openapi/document.ts';
import { compileDocument } from '../../../tools/openapi/validators.ts';
import { READER_VERSIONS, readersDocument } from '../../support/readers.ts';

describe.each(READER_VERSIONS)('the readers document as OpenAPI %s', (version) => {
  const operation = (key: string) => readersDocument(version).table.operation(key);

  it('gives each parameter its style, with the default explode of that style', () => {
    // Act
    const search = operation('GET /search')?.parameters.map(({ shape: _shape, ...rule }) => rule);
    // Assert
    expect(search).toEqual([
      { name: 'limit', in: 'query', required: false, style: 'form', explode: true },
      { name: 'tags', in: 'query', required: false, style: 'form', explode: true },
      { name: 'words', in: 'query', required: false, style: 'spaceDelimited', explode: false },
      { name: 'codes', in: 'query', required: false, style: 'pipeDelimited', explode: false },
      { name: 'created', in: 'query', required: false, style: 'deepObject', explode: false },
      { name: 'point', in: 'query', required: false, style: 'json', explode: false },
      { name: 'x-trace', in: 'header', required: false, style: 'simple', explode: false },
      { name: 'session', in: 'cookie', required: false, style: 'form', explode: true },
      { name: 'prefs', in: 'cookie', required: false, style: 'form', explode: false },
    ]);
    expect(operation('GET /matrix/{color}')?.parameters[0]).toMatchObject({ style: 'matrix', explode: true });
    expect(operation('GET /label/{color}')?.parameters[0]).toMatchObject({ style: 'label', explode: false });
  });

  it('shapes an anyOf of integer and object as both: a number, or members', () => {
    // Arrange
    const search = operation('GET /search');
    const created = search?.parameters.find((p) => p.name === 'created');
    // Act
    const shape = search?.shapes[created?.shape ?? -1];
    // Assert
    expect(shape?.scalars).toEqual(['integer']);
    expect(Object.keys(shape?.properties ?? {})).toEqual(['gt', 'lt']);
  });

  it('reads each body media type with its reader, JSON-encoded fields and file fields', () => {
    expect(operation('POST /json')?.body?.media['application/json']?.kind).toBe('json');
    expect(operation('POST /forms')?.body?.media['application/x-www-form-urlencoded']).toMatchObject({
      kind: 'form',
      jsonFields: ['filter'],
    });
    const upload = operation('POST /uploads')?.body?.media['multipart/form-data'];
    expect(upload?.jsonFields).toEqual(['meta', 'location']);
    expect(upload?.kind).toBe('multipart');
    expect(upload?.fileFields).toEqual(['file', 'attachments']);
  });
});

/** A one-operation document with one parameter. */
function withParameter(parameter: Record<string, unknown>): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {
      '/things/{id}': {
        get: {
          operationId: 'getThing',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { schema: { type: 'string' }, ...parameter },
          ],
          responses: { '204': { description: 'ok' } },
        },
      },
    },
  };
}

describe('parameter styles the specification defines only for some locations', () => {
  it.each([
    ['matrix', 'path'],
    ['label', 'path'],
    ['simple', 'path'],
    ['simple', 'header'],
    ['form', 'query'],
    ['form', 'cookie'],
    ['spaceDelimited', 'query'],
    ['pipeDelimited', 'query'],
    ['deepObject', 'query'],
  ])('compiles %s in %s', (style, location) => {
    const name = location === 'path' ? 'id' : 'p';
    expect(() =>
      compileDocument(withParameter({ name, in: location, required: true, style }), {
        responseValidators: false,
      }),
    ).not.toThrow();
  });

  it.each([
    ['form', 'path'],
    ['deepObject', 'path'],
    ['matrix', 'query'],
    ['label', 'header'],
    ['spaceDelimited', 'cookie'],
    ['pipeDelimited', 'header'],
    ['simple', 'query'],
  ])('refuses %s in %s, naming the parameter (it has no defined reading)', (style, location) => {
    const name = location === 'path' ? 'id' : 'p';
    expect(() =>
      compileDocument(withParameter({ name, in: location, required: true, style }), {
        responseValidators: false,
      }),
    ).toThrow(
      new RegExp(
        `#/paths/~1things~1\\{id\\}/get/parameters/1: style "${style}" is not defined for "in: ${location}"`,
      ),
    );
  });
});

// The forwarder sends a declared header exactly as validated and signs it (shared/upstream/forward.ts):
// a header it never sends would make the forwarded request differ from the validated one.
describe('header parameters the forwarder never sends', () => {
  it.each([
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'X-Api-Key',
    'Proxy-Authorization',
    'X-Gatehouse-Principal',
    'Bad Name',
  ])('refuses %s, naming the parameter', (name) => {
    expect(() =>
      compileDocument(withParameter({ name, in: 'header', required: false }), { responseValidators: false }),
    ).toThrow(
      new RegExp(
        `#/paths/~1things~1\\{id\\}/get/parameters/1: header parameter "${name.toLowerCase()}" is never forwarded`,
      ),
    );
  });

  it.each(['Accept', 'Content-Type', 'Authorization'])('ignores %s, as OpenAPI says', (name) => {
    const compiled = compileDocument(withParameter({ name, in: 'header', required: true }), {
      responseValidators: false,
    });
    expect(compiled.modules[0]?.content).not.toContain(`"name":"${name.toLowerCase()}"`);
  });

  it.each(['Idempotency-Key', 'X-Forwarded-For', 'X-HTTP-Method-Override'])(
    'compiles %s (forwarded as validated and signed)',
    (name) => {
      expect(() =>
        compileDocument(withParameter({ name, in: 'header', required: false }), {
          responseValidators: false,
        }),
      ).not.toThrow();
    },
  );
});
