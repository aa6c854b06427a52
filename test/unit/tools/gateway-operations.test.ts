import { describe, expect, it } from 'vitest';
import { checkOpenApi, OpenApiError } from '../../../tools/openapi/document.ts';
import { gatewayOperations } from '../../../tools/openapi/gateway-operations.ts';
import { routeTable } from '../../../tools/openapi/routes.ts';

const SCHEMES = {
  oauth2: {
    type: 'oauth2',
    flows: { clientCredentials: { tokenUrl: 'https://idp.example.com/token', scopes: { 'a:read': 'r' } } },
  },
  key: { type: 'apiKey', in: 'header', name: 'x-api-key' },
  sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' },
};

/** A document with one operation per entry: `METHOD /path` → the operation object. */
function doc(ops: Record<string, Record<string, unknown>>, security: unknown = [{ oauth2: ['a:read'] }]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(ops)) {
    const [method, path] = key.split(' ') as [string, string];
    paths[path] = {
      ...paths[path],
      [method.toLowerCase()]: { responses: { '200': { description: 'ok' } }, ...op },
    };
  }
  return checkOpenApi(
    {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      security,
      components: { securitySchemes: SCHEMES },
      paths,
    },
    'doc.yaml',
  );
}

const classify = (d: ReturnType<typeof doc>) =>
  gatewayOperations(d, routeTable(d)).map((o) => [o.route.operationId, o.authorization, o.throttle]);

describe('gatewayOperations', () => {
  it('reads public, AWS SigV4 and authorizer operations from their security (or the document’s)', () => {
    // Arrange
    const d = doc({
      'GET /health': { operationId: 'getHealth', security: [] },
      'GET /open': { operationId: 'getOpen', security: [{}, { oauth2: ['a:read'] }] },
      'POST /internal/jobs': { operationId: 'runJob', security: [{ sigv4: [] }] },
      'GET /orders': { operationId: 'listOrders' },
      'GET /keys': { operationId: 'listKeys', security: [{ key: [] }, { oauth2: ['a:read'] }] },
    });
    // Act / Assert
    expect(classify(d)).toEqual([
      ['getHealth', 'public', undefined],
      ['getOpen', 'public', undefined],
      ['runJob', 'aws_iam', undefined],
      ['listOrders', 'authorizer', undefined],
      ['listKeys', 'authorizer', undefined],
    ]);
  });

  it('reads SigV4 through a $ref to the scheme and whatever the case of awsSigv4', () => {
    const d = doc({ 'POST /jobs': { operationId: 'runJob', security: [{ iam: [] }] } });
    const components = d.components as Record<string, Record<string, unknown>>;
    (components.securitySchemes as Record<string, unknown>).iam = { $ref: '#/components/x-schemes/iam' };
    components['x-schemes'] = { iam: { ...SCHEMES.sigv4, 'x-amazon-apigateway-authtype': 'AWSSIGV4' } };
    expect(classify(d)).toEqual([['runJob', 'aws_iam', undefined]]);
  });

  it.each([
    [[{ sigv4: [] }, { oauth2: ['a:read'] }], /one authorization/],
    [[{ sigv4: [], oauth2: ['a:read'] }], /one authorization/],
    [[{ sigv4: ['admin'] }], /lists scopes/],
  ])('refuses security %j that an API Gateway method cannot express', (security, message) => {
    const d = doc({ 'POST /jobs': { operationId: 'runJob', security } });
    expect(() => classify(d)).toThrow(OpenApiError);
    expect(() => classify(d)).toThrow(message);
  });

  it('reads x-gatehouse-throttle, and refuses a value that cannot name template parameters', () => {
    expect(
      classify(doc({ 'POST /orders': { operationId: 'createOrder', 'x-gatehouse-throttle': 'write' } })),
    ).toEqual([['createOrder', 'authorizer', 'write']]);
    for (const bad of ['', 'write-heavy', 3, true])
      expect(() =>
        classify(doc({ 'POST /orders': { operationId: 'c', 'x-gatehouse-throttle': bad } })),
      ).toThrow(/x-gatehouse-throttle must name a throttle/);
  });
});
