import { describe, expect, it } from 'vitest';
import { type AuthorizerCache, authorize } from '../../../tools/gateway/authorize.ts';
import type { AuthorizerModel, RouteModel } from '../../../tools/gateway/model.ts';
import type { HttpRequest, RequestFacts } from '../../../tools/gateway/proxy-event.ts';
import type { InvocationResult } from '../../../tools/lambda/runtime.ts';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:ordersapi/v1';
const TOKEN_AUTHORIZER: AuthorizerModel = {
  name: 'JwtAuthorizer',
  type: 'TOKEN',
  functionLogicalId: 'JwtAuthorizerFunction',
  identitySources: [{ kind: 'header', name: 'Authorization' }],
  validationExpression: /^Bearer [a-z.]+$/,
  ttlSeconds: 300,
};
const route: RouteModel = {
  eventName: 'ListOrders',
  method: 'GET',
  path: '/orders',
  functionLogicalId: 'Fn',
  authorizer: 'JwtAuthorizer',
  apiKeyRequired: false,
};
const facts = {
  requestId: 'r',
  api: { logicalId: 'OrdersApi', stageName: 'v1' },
  apiId: 'ordersapi',
  accountId: '123456789012',
  region: 'us-east-1',
  nowMs: 0,
  domainName: 'localhost',
} as unknown as RequestFacts;

const allowGet = (): InvocationResult => ({
  ok: true,
  coldStart: false,
  durationMs: 1,
  result: {
    principalId: 'alice',
    policyDocument: {
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${PREFIX}/GET/orders` }],
    },
    context: { scope: 'orders:read' },
  },
});
const failure = (errorMessage: string): InvocationResult => ({
  ok: false,
  coldStart: false,
  durationMs: 1,
  error: { errorType: 'Error', errorMessage },
});

function harness(answer: () => InvocationResult, authorizer = TOKEN_AUTHORIZER) {
  const cache: AuthorizerCache = new Map();
  const events: unknown[] = [];
  const run = (headers: string[], method = 'GET', now = 0) => {
    const request: HttpRequest = {
      method,
      path: '/orders',
      query: '',
      rawHeaders: headers,
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
    };
    return authorize({
      authorizer,
      request,
      match: { route, pathParameters: null },
      facts,
      methodArn: `${PREFIX}/${method}/orders`,
      cache,
      now,
      invoke: async (event) => {
        events.push(event);
        return answer();
      },
    });
  };
  return { run, events };
}

describe('authorize', () => {
  it('answers identity_missing without invoking when the header is absent or blank', async () => {
    // Arrange
    const { run, events } = harness(allowGet);

    // Act
    const absent = await run([]);
    const blank = await run(['Authorization', '  ']);

    // Assert
    expect([absent.result, blank.result]).toEqual(['identity_missing', 'identity_missing']);
    expect(events).toHaveLength(0);
  });

  it('answers identity_invalid without invoking when the ValidationExpression does not match', async () => {
    // Arrange
    const { run, events } = harness(allowGet);

    // Act
    const outcome = await run(['Authorization', 'Basic abc']);

    // Assert
    expect(outcome.result).toBe('identity_invalid');
    expect(events).toHaveLength(0);
  });

  it('sends a TOKEN event and caches the answer for the TTL, re-evaluating it per method ARN', async () => {
    // Arrange
    const { run, events } = harness(allowGet);
    const auth = ['Authorization', 'Bearer a.b.c'];

    // Act
    const first = await run(auth);
    const cachedOtherMethod = await run(auth, 'DELETE');
    const expired = await run(auth, 'GET', 301_000);

    // Assert
    expect(events[0]).toEqual({
      type: 'TOKEN',
      authorizationToken: 'Bearer a.b.c',
      methodArn: `${PREFIX}/GET/orders`,
    });
    expect(first).toMatchObject({ result: 'allow', cacheHit: false });
    expect(cachedOtherMethod).toMatchObject({ result: 'no_allow', cacheHit: true });
    expect(expired).toMatchObject({ result: 'allow', cacheHit: false });
    expect(events).toHaveLength(2);
  });

  it('does not cache with a TTL of 0', async () => {
    // Arrange
    const { run, events } = harness(allowGet, { ...TOKEN_AUTHORIZER, ttlSeconds: 0 });

    // Act
    await run(['Authorization', 'Bearer a.b.c']);
    await run(['Authorization', 'Bearer a.b.c']);

    // Assert
    expect(events).toHaveLength(2);
  });

  it.each([
    ['Unauthorized', 'unauthorized'],
    ['unauthorized', 'error'],
    ['Task timed out after 5.00 seconds', 'error'],
  ])('maps the error %j to %s and caches nothing', async (message, expected) => {
    // Arrange
    const { run, events } = harness(() => failure(message));

    // Act
    const first = await run(['Authorization', 'Bearer a.b.c']);
    await run(['Authorization', 'Bearer a.b.c']);

    // Assert
    expect(first.result).toBe(expected);
    expect(events).toHaveLength(2);
  });

  it('treats a malformed answer as an error, never as Allow', async () => {
    // Arrange
    const { run } = harness(() => ({
      ok: true,
      coldStart: false,
      durationMs: 1,
      result: { principalId: 'x' },
    }));

    // Act
    const outcome = await run(['Authorization', 'Bearer a.b.c']);

    // Assert
    expect(outcome.result).toBe('error');
  });

  it('sends REQUEST authorizers the request with its multi-value maps', async () => {
    // Arrange
    const request: AuthorizerModel = {
      ...TOKEN_AUTHORIZER,
      type: 'REQUEST',
      identitySources: [],
      validationExpression: undefined,
      ttlSeconds: 0,
    };
    const { run, events } = harness(allowGet, request);

    // Act
    await run(['x-api-key', 'k1']);

    // Assert
    expect(events[0]).toMatchObject({
      type: 'REQUEST',
      methodArn: `${PREFIX}/GET/orders`,
      resource: '/orders',
      httpMethod: 'GET',
      headers: { 'x-api-key': 'k1' },
      multiValueHeaders: { 'x-api-key': ['k1'] },
      requestContext: { stage: 'v1', resourcePath: '/orders' },
    });
  });
});
