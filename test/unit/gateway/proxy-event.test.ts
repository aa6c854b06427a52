import { describe, expect, it } from 'vitest';
import type { ApiModel, RouteModel } from '../../../tools/gateway/model.ts';
import {
  type HttpRequest,
  matchRoute,
  methodArn,
  proxyEvent,
  proxyResult,
  type RequestFacts,
} from '../../../tools/gateway/proxy-event.ts';

const route = (method: string, path: string): RouteModel => ({
  eventName: `${method}${path}`,
  method,
  path,
  functionLogicalId: 'Fn',
  authorizer: undefined,
  apiKeyRequired: false,
});

const ROUTES = [
  route('GET', '/orders'),
  route('GET', '/orders/{id}'),
  route('GET', '/orders/latest'),
  route('ANY', '/files/{proxy+}'),
];

const api: ApiModel = {
  logicalId: 'OrdersApi',
  stageName: 'v1',
  apiKeySource: 'HEADER',
  routes: ROUTES,
  authorizers: {},
  usagePlans: [],
  gatewayResponses: {},
  binaryMediaTypes: ['image/png'],
  methodThrottles: [],
  resourcePolicy: undefined,
};

const facts: RequestFacts = {
  requestId: 'req-1',
  api,
  apiId: 'ordersapi',
  accountId: '123456789012',
  region: 'eu-west-1',
  nowMs: Date.UTC(2026, 10, 22, 10, 0, 0),
  domainName: 'localhost:3000',
};

const request = (over: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'GET',
  path: '/orders/ord_1',
  query: 'a=1&a=2&b=x',
  rawHeaders: ['Accept', 'text/plain', 'X-Multi', 'one', 'x-multi', 'two'],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  ...over,
});

describe('matchRoute', () => {
  it.each([
    ['GET', '/orders', 'GET /orders', null],
    ['GET', '/orders/latest', 'GET /orders/latest', null],
    // REST APIs hand path parameters on percent-encoded, as they appeared in the URL.
    ['GET', '/orders/ord%201', 'GET /orders/{id}', { id: 'ord%201' }],
    ['GET', '/files/a%2Fb/c', 'ANY /files/{proxy+}', { proxy: 'a%2Fb/c' }],
    ['DELETE', '/files/a/b.txt', 'ANY /files/{proxy+}', { proxy: 'a/b.txt' }],
  ])('%s %s goes to %s', (method, path, expected, params) => {
    // Act
    const match = matchRoute(ROUTES, method, path);

    // Assert
    expect(`${match?.route.method} ${match?.route.path}`).toBe(expected);
    expect(match?.pathParameters).toEqual(params);
  });

  it.each([
    ['POST', '/orders'],
    ['GET', '/orders/a/b'],
    ['GET', '/files'],
  ])('finds nothing for %s %s', (method, path) => {
    // Act / Assert
    expect(matchRoute(ROUTES, method, path)).toBeUndefined();
  });
});

describe('proxyEvent', () => {
  it('builds the REST payload 1.0 event with multi-value maps and the authorizer context', () => {
    // Arrange
    const match = matchRoute(ROUTES, 'GET', '/orders/ord_1');

    // Act
    const event = proxyEvent(
      request(),
      match as NonNullable<typeof match>,
      facts,
      { principalId: 'alice', scope: 'orders:read' },
      undefined,
    );

    // Assert
    expect(event).toMatchObject({
      resource: '/orders/{id}',
      path: '/orders/ord_1',
      httpMethod: 'GET',
      headers: { Accept: 'text/plain', 'X-Multi': 'two' },
      multiValueHeaders: { Accept: ['text/plain'], 'X-Multi': ['one', 'two'] },
      queryStringParameters: { a: '2', b: 'x' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['x'] },
      pathParameters: { id: 'ord_1' },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        resourcePath: '/orders/{id}',
        httpMethod: 'GET',
        stage: 'v1',
        path: '/v1/orders/ord_1',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: { principalId: 'alice', scope: 'orders:read' },
      },
    });
  });

  it('sends a binary media type body base64-encoded', () => {
    // Arrange
    const body = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]);
    const match = matchRoute(ROUTES, 'GET', '/orders');

    // Act
    const event = proxyEvent(
      request({ path: '/orders', rawHeaders: ['Content-Type', 'image/png'], body }),
      match as NonNullable<typeof match>,
      facts,
      undefined,
      undefined,
    );

    // Assert
    expect(event.isBase64Encoded).toBe(true);
    expect(event.body).toBe(body.toString('base64'));
  });

  it('names the request in the method ARN', () => {
    // Act / Assert
    expect(methodArn(facts, 'DELETE', '/orders/ord_1')).toBe(
      'arn:aws:execute-api:eu-west-1:123456789012:ordersapi/v1/DELETE/orders/ord_1',
    );
  });
});

describe('proxyResult', () => {
  it('merges headers and multiValueHeaders and decodes a base64 body', () => {
    // Act
    const reply = proxyResult({
      statusCode: 201,
      headers: { 'Content-Type': 'image/png' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: Buffer.from('png!').toString('base64'),
      isBase64Encoded: true,
    });

    // Assert
    expect(reply?.status).toBe(201);
    expect(reply?.headers.get('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(reply?.headers.get('content-type')).toEqual(['image/png']);
    expect(reply?.body.toString()).toBe('png!');
  });

  it.each([
    ['a string', 'ok'],
    ['no statusCode', { body: '' }],
    ['a status out of range', { statusCode: 99 }],
    ['an object body', { statusCode: 200, body: { a: 1 } }],
    ['an unknown member', { statusCode: 200, cookies: ['a=1'] }],
    ['a header object value', { statusCode: 200, headers: { a: { b: 1 } } }],
    ['multiValueHeaders that are not lists', { statusCode: 200, multiValueHeaders: { a: 'b' } }],
  ])('calls a result with %s malformed (502)', (_name, value) => {
    // Act / Assert
    expect(proxyResult(value)).toBeUndefined();
  });
});
