/**
 * The events the benchmark sends. Written here rather than read from events/ so that renaming a
 * sample event cannot change what the benchmark measures.
 */

/** A REST API REQUEST authorizer event for `GET /orders/{id}` carrying the given headers. */
export function restAuthorizerEvent(headers: Readonly<Record<string, string>>): Record<string, unknown> {
  const all = { Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com', ...headers };
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/orders/ord_12345678',
    resource: '/orders/{id}',
    path: '/orders/ord_12345678',
    httpMethod: 'GET',
    headers: all,
    multiValueHeaders: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [v]])),
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    pathParameters: { id: 'ord_12345678' },
    stageVariables: {},
    requestContext: {
      resourcePath: '/orders/{id}',
      httpMethod: 'GET',
      path: '/v1/orders/ord_12345678',
      accountId: '123456789012',
      apiId: 'abcdef1234',
      stage: 'v1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      identity: { sourceIp: '203.0.113.10' },
    },
  };
}

/** A REST API proxy event for `POST /orders` with a JSON body (what the request validator sees). */
export function createOrderProxyEvent(body: string): Record<string, unknown> {
  const headers = {
    'Content-Type': 'application/json',
    'Idempotency-Key': 'bench-0123456789',
    Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
  };
  return {
    resource: '/orders',
    path: '/orders',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      resourcePath: '/orders',
      httpMethod: 'POST',
      path: '/v1/orders',
      accountId: '123456789012',
      apiId: 'abcdef1234',
      stage: 'v1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      identity: { sourceIp: '203.0.113.10' },
      authorizer: { principalId: 'bench-client', scopes: 'orders:write' },
    },
    body,
    isBase64Encoded: false,
  };
}
