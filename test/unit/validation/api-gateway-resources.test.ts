// The validator's route for an event: the API Gateway resource (REST `resource`, HTTP API route key)
// names an operation only when the operation takes every request of that resource. A `:verb`
// operation (`/v1/{name}:predict`) lives on the resource `/v1/{name}`, which also takes
// `/v1/x:explain`: such requests are routed by their concrete path (docs/policies.md#api-gateway-resources).
import { describe, expect, it } from 'vitest';
import { readProxyEvent } from '../../../shared/validation/proxy-event.ts';
import { validateRequest } from '../../../shared/validation/validate-request.ts';
import type { OpenApiDocument } from '../../../tools/openapi/document.ts';
import { loadDocument } from '../../support/openapi.ts';

const name = { name: 'name', in: 'path', required: true, schema: { type: 'string', maxLength: 20 } };
const DOC: OpenApiDocument = {
  openapi: '3.1.0',
  paths: {
    '/v1/{name}:predict': {
      post: { operationId: 'predict', parameters: [name], responses: {} },
    },
    '/v1/{name}': {
      get: { operationId: 'getModel', parameters: [name], responses: {} },
    },
  },
};
const doc = loadDocument(DOC);

/** A REST (payload 1.0) event as API Gateway sends it for the resource it matched. */
const rest = (method: string, path: string, resource: string, pathParameters: Record<string, string>) => ({
  resource,
  path,
  httpMethod: method,
  pathParameters,
  headers: {},
  requestContext: { requestId: 'r1' },
});

/** An HTTP API (payload 2.0) event for a route key. */
const http = (method: string, path: string, routeKey: string, pathParameters: Record<string, string>) => ({
  version: '2.0',
  routeKey,
  rawPath: path,
  rawQueryString: '',
  pathParameters,
  headers: {},
  requestContext: { requestId: 'r1', http: { method }, stage: '$default' },
});

function outcome(event: unknown): string {
  const result = validateRequest(readProxyEvent(event), {
    matcher: doc.matcher,
    table: doc.table,
    limits: { maxBytes: 4096, maxDepth: 8 },
  });
  return result.ok
    ? `${result.request.route.operationId} ${JSON.stringify(result.request.params.path)}`
    : result.problem.reason;
}

describe('API Gateway resources shared by document operations', () => {
  it.each([
    ['REST', rest('POST', '/v1/bert:predict', '/v1/{name}', { name: 'bert:predict' })],
    ['HTTP API', http('POST', '/v1/bert:predict', 'POST /v1/{name}', { name: 'bert:predict' })],
  ])('%s: routes a :verb request by its path, the parameter without the suffix', (_api, event) => {
    expect(outcome(event)).toBe('predict {"name":"bert"}');
  });

  it.each([
    ['REST', rest('POST', '/v1/bert:explain', '/v1/{name}', { name: 'bert:explain' })],
    ['HTTP API', http('POST', '/v1/bert:explain', 'POST /v1/{name}', { name: 'bert:explain' })],
  ])('%s: refuses a request of the shared resource that no operation takes', (_api, event) => {
    // Only GET /v1/{name} takes the path /v1/bert:explain.
    expect(outcome(event)).toBe('method_not_allowed');
  });

  it('takes a whole-segment operation from the resource API Gateway matched', () => {
    expect(outcome(rest('GET', '/v1/bert', '/v1/{name}', { name: 'bert' }))).toBe('getModel {"name":"bert"}');
  });
});
