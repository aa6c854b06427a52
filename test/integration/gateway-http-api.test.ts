// The local gateway serving AWS::Serverless::HttpApi end to end over sockets: a fixture template in
// standard SAM form (test/fixtures/gateway/http-api.yaml), fixture functions and the project's JWT
// authorizer bundle, requests sent with fetch.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../tools/gateway/gateway.ts';
import { accessEntries, bothRenderings } from '../support/access-log.ts';
import { signedFetch } from '../support/sigv4.ts';

const TEMPLATE = 'test/fixtures/gateway/http-api.yaml';
const SIMPLE = 'HttpSimpleAuthorizerFunction';
const POLICY = 'HttpPolicyAuthorizerFunction';
const JWT = 'HttpJwtAuthorizerFunction';
const PROBE = 'HttpProbeFunction';
const FROZEN = Date.UTC(2026, 0, 15, 12, 0, 0);
const CALLER = {
  accessKeyId: 'AKIAFIXTUREHTTPCALL1',
  secretAccessKey: 'fixture-http-secret-0123456789abcdef',
  user: 'service',
} as const;

interface EchoV2 {
  readonly version: string;
  readonly routeKey: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly cookies?: string[];
  readonly headers: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly pathParameters?: Record<string, string>;
  readonly stageVariables?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
  readonly requestContext: {
    readonly routeKey: string;
    readonly stage: string;
    readonly http: { readonly method: string; readonly path: string; readonly sourceIp: string };
    readonly authorizer?: Record<string, unknown>;
  };
}

describe('local gateway: HTTP APIs', () => {
  let gateway: RunningGateway;
  let base: string;
  let orders: string;
  const access: string[] = [];

  beforeAll(async () => {
    gateway = await startGateway({
      template: TEMPLATE,
      port: 0,
      issuerPort: 0,
      inMemory: true,
      clock: () => FROZEN,
      iamCredentials: [CALLER],
      accessLog: (line) => access.push(line),
      functionLog: () => undefined,
      info: () => undefined,
    });
    base = gateway.urls.ProbeHttpApi as string;
    orders = gateway.urls.OrdersLikeHttpApi as string;
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('serves each HttpApi of the template on its own port', () => {
    // Assert
    expect(gateway.apis.map((a) => [a.logicalId, a.kind])).toEqual([
      ['ProbeHttpApi', 'http'],
      ['OrdersLikeHttpApi', 'http'],
    ]);
  });

  describe('payload 2.0 events and routing', () => {
    it('hands the integration a payload 2.0 event: route key, decoded path and parameters, lower-case headers, cookies, stage variables', async () => {
      // Act
      const res = await fetch(`${base}/items/a%20b?tag=x&tag=y`, {
        headers: {
          'x-token': 'allow',
          'X-Custom': 'One',
          cookie: 'a=1; b=2',
          'x-forwarded-for': '198.51.100.7',
        },
      });

      // Assert
      expect(res.status).toBe(200);
      expect(res.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9+/=]{16}$/);
      const event = (await res.json()) as EchoV2;
      expect(event).toMatchObject({
        version: '2.0',
        routeKey: 'GET /items/{id}',
        rawPath: '/v1/items/a b',
        rawQueryString: 'tag=x&tag=y',
        cookies: ['a=1', 'b=2'],
        queryStringParameters: { tag: 'x,y' },
        pathParameters: { id: 'a b' },
        stageVariables: { tier: 'gold' },
        isBase64Encoded: false,
        requestContext: {
          routeKey: 'GET /items/{id}',
          stage: 'v1',
          http: { method: 'GET', path: '/v1/items/a b', sourceIp: '127.0.0.1' },
          authorizer: { lambda: { tenant: 'acme', tier: 'gold', roles: ['reader'] } },
        },
      });
      expect(event.headers['x-custom']).toBe('One');
      expect(event.headers.cookie).toBeUndefined();
      expect(event.headers['x-forwarded-for']).toBe('198.51.100.7, 127.0.0.1');
      expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-/);
    });

    it('prefers a full match over a greedy one, and falls back to $default', async () => {
      // Act
      const greedy = (await (await fetch(`${base}/files/a/b.txt`)).json()) as EchoV2;
      const fallback = (await (await fetch(`${base}/nothing/here`, { method: 'PUT' })).json()) as EchoV2;

      // Assert
      expect(greedy.routeKey).toBe('ANY /files/{proxy+}');
      expect(greedy.pathParameters).toEqual({ proxy: 'a/b.txt' });
      expect(fallback.routeKey).toBe('$default');
    });

    it('answers 404 {"message":"Not Found"} on an API without a $default route', async () => {
      // Act
      const res = await fetch(`${orders}/nothing`);

      // Assert
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: 'Not Found' });
    });

    it('sends payload 1.0 to an integration with PayloadFormatVersion 1.0', async () => {
      // Act
      const res = await fetch(`${base}/legacy?a=1&a=2`, { headers: { 'x-token': 'allow' } });

      // Assert
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        version: '1.0',
        resource: '/legacy',
        path: '/v1/legacy',
        httpMethod: 'GET',
        multiValueQueryStringParameters: { a: ['1', '2'] },
        requestContext: { authorizer: { principalId: 'user-allow', tenant: 'acme' } },
      });
    });

    it('infers a 200 application/json response from a result without statusCode, and turns cookies into Set-Cookie', async () => {
      // Act
      const string = await fetch(`${base}/items/1?respond=inferred-string`, {
        headers: { 'x-token': 'allow' },
      });
      const object = await fetch(`${base}/items/1?respond=inferred-object`, {
        headers: { 'x-token': 'allow' },
      });
      const cookies = await fetch(`${base}/items/1?respond=cookies`, { headers: { 'x-token': 'allow' } });

      // Assert
      expect(string.status).toBe(200);
      expect(string.headers.get('content-type')).toBe('application/json');
      expect(await string.text()).toBe('hello from a plain string');
      expect(await object.json()).toEqual({ greeting: 'hello' });
      expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    });

    it('answers HTTP API error bodies for a failing function and a passed integration timeout', async () => {
      // Act
      const failed = await fetch(`${base}/items/1?respond=throw`, { headers: { 'x-token': 'allow' } });
      const slow = await fetch(`${base}/wait?sleep=2000`);

      // Assert
      expect(failed.status).toBe(500);
      expect(await failed.json()).toEqual({ message: 'Internal Server Error' });
      expect(slow.status).toBe(503);
      expect(await slow.json()).toEqual({ message: 'Service Unavailable' });
    });
  });

  describe('Lambda authorizers', () => {
    it('answers 401 {"message":"Unauthorized"} without invoking when the identity source is missing', async () => {
      // Arrange
      const before = gateway.invocations(SIMPLE);

      // Act
      const res = await fetch(`${base}/items`);

      // Assert
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ message: 'Unauthorized' });
      expect(gateway.invocations(SIMPLE)).toBe(before);
    });

    it('answers 403 {"message":"Forbidden"} for a simple response with isAuthorized false', async () => {
      // Act
      const res = await fetch(`${base}/items`, { headers: { 'x-token': 'deny' } });

      // Assert
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ message: 'Forbidden' });
    });

    it('answers 500 {"message":"Internal Server Error"} when the authorizer fails', async () => {
      // Act
      const res = await fetch(`${base}/items`, { headers: { 'x-token': 'error' } });

      // Assert
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    });

    it('caches a simple response by identity for every route of the authorizer', async () => {
      // Arrange
      const before = gateway.invocations(SIMPLE);

      // Act
      const list = await fetch(`${base}/items`, { headers: { 'x-token': 'allow' } });
      const one = await fetch(`${base}/items/7`, { headers: { 'x-token': 'allow' } });

      // Assert
      expect(list.status).toBe(200);
      expect(one.status).toBe(200);
      // The earlier tests already cached `allow`: no new invocation at all.
      expect(gateway.invocations(SIMPLE)).toBe(before);
    });

    it('caches per route when $context.routeKey is an identity source', async () => {
      // Arrange
      const before = gateway.invocations(SIMPLE);

      // Act
      await fetch(`${base}/per-route`, { headers: { 'x-token': 'allow' } });
      await fetch(`${base}/per-route`, { headers: { 'x-token': 'allow' } });

      // Assert
      expect(gateway.invocations(SIMPLE)).toBe(before + 1);
    });

    it('evaluates a cached IAM policy answer against each route ARN', async () => {
      // Arrange
      const before = gateway.invocations(POLICY);

      // Act
      const post = await fetch(`${base}/items`, {
        method: 'POST',
        headers: { 'x-token': 'get-only' },
        body: '{}',
      });
      const again = await fetch(`${base}/items`, {
        method: 'POST',
        headers: { 'x-token': 'get-only' },
        body: '{}',
      });
      const allowed = await fetch(`${base}/items`, {
        method: 'POST',
        headers: { 'x-token': 'allow' },
        body: '{}',
      });

      // Assert
      expect(post.status).toBe(403);
      expect(again.status).toBe(403);
      expect(allowed.status).toBe(200);
      expect(gateway.invocations(POLICY)).toBe(before + 2);
    });
  });

  describe('the project’s JWT authorizer behind an HTTP API', () => {
    const bearer = (scope: string) => `Bearer ${gateway.services.issuer?.mint({ scope, sub: 'http-user' })}`;

    it('lets an orders:read token list orders and refuses DELETE with 403', async () => {
      // Arrange
      const token = bearer('orders:read');

      // Act
      const list = await fetch(`${orders}/orders`, { headers: { authorization: token } });
      const del = await fetch(`${orders}/orders/ord_1`, {
        method: 'DELETE',
        headers: { authorization: token },
      });

      // Assert
      expect(list.status).toBe(200);
      expect(((await list.json()) as EchoV2).requestContext.authorizer).toMatchObject({ lambda: {} });
      expect(del.status).toBe(403);
      expect(await del.json()).toEqual({ message: 'Forbidden' });
    });

    it('answers 401 for a forged token and without Authorization', async () => {
      // Arrange
      const before = gateway.invocations(JWT);
      const good = bearer('orders:read');

      // Act
      const forged = await fetch(`${orders}/orders`, { headers: { authorization: `${good}x` } });
      const missing = await fetch(`${orders}/orders`);

      // Assert
      expect(forged.status).toBe(401);
      expect(missing.status).toBe(401);
      expect(gateway.invocations(JWT)).toBe(before + 1);
    });
  });

  describe('throttling, IAM and CORS', () => {
    it('throttles a route with its RouteSettings bucket: 429 {"message":"Too Many Requests"}', async () => {
      // Act
      const first = await fetch(`${base}/limited`);
      const second = await fetch(`${base}/limited`);

      // Assert
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(await second.json()).toEqual({ message: 'Too Many Requests' });
    });

    it('refuses an unsigned request to an AWS_IAM route with 403 and serves a signed one with the IAM identity', async () => {
      // Arrange
      const before = gateway.invocations(PROBE);

      // Act
      const unsigned = await fetch(`${base}/signed`, { method: 'POST', body: '{}' });
      const afterUnsigned = gateway.invocations(PROBE);
      const signed = await signedFetch(`${base}/signed`, { ...CALLER, method: 'POST', body: '{"a":1}' });

      // Assert
      expect(unsigned.status).toBe(403);
      expect(await unsigned.json()).toEqual({ message: 'Forbidden' });
      expect(afterUnsigned).toBe(before);
      expect(signed.status).toBe(200);
      expect(((await signed.json()) as EchoV2).requestContext.authorizer).toEqual({
        iam: expect.objectContaining({
          accessKey: CALLER.accessKeyId,
          accountId: '123456789012',
          userArn: 'arn:aws:iam::123456789012:user/service',
        }),
      });
    });

    it('answers a CORS preflight itself (204) and sets the configured CORS headers on responses, replacing the function’s', async () => {
      // Arrange
      const before = gateway.invocations(PROBE) + gateway.invocations(SIMPLE);

      // Act
      const preflight = await fetch(`${base}/items`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      const afterPreflight = gateway.invocations(PROBE) + gateway.invocations(SIMPLE);
      const stranger = await fetch(`${base}/items`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      const actual = await fetch(`${base}/items/1?respond=cookies`, {
        headers: { origin: 'https://app.example', 'x-token': 'allow' },
      });

      // Assert
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,POST');
      expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,x-token');
      expect(preflight.headers.get('access-control-max-age')).toBe('600');
      expect(afterPreflight).toBe(before);
      expect(stranger.status).toBe(204);
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
      expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(actual.headers.get('access-control-expose-headers')).toBe('x-request-id');
    });

    it('writes the path and the route key to the access log, never the token or the query', async () => {
      // Arrange
      const from = access.length;

      // Act
      await fetch(`${base}/items/9?api_key=query-secret-2`, { headers: { 'x-token': 'allow' } });

      // Assert
      const lines = access.slice(from);
      expect(accessEntries(lines)).toEqual([
        expect.objectContaining({
          api: 'ProbeHttpApi',
          method: 'GET',
          path: '/items/9',
          route: 'GET /items/{id}',
          status: 200,
          authorizer: 'allow',
        }),
      ]);
      expect(bothRenderings(lines)).not.toContain('query-secret-2');
    });

    it('writes the reason code the JWT authorizer logged, never the token', async () => {
      // Arrange
      const expired = gateway.services.issuer?.mint({
        scope: 'orders:read',
        sub: 'late',
        ttl: -60,
      }) as string;
      const from = access.length;

      // Act
      const late = await fetch(`${orders}/orders?page=query-secret-4`, {
        headers: { authorization: `Bearer ${expired}` },
      });
      const inQuery = await fetch(`${orders}/orders?access_token=${expired}`, {
        headers: { authorization: `Bearer ${expired}` },
      });

      // Assert
      expect([late.status, inQuery.status]).toEqual([401, 401]);
      const lines = access.slice(from);
      const refused = {
        api: 'OrdersLikeHttpApi',
        path: '/orders',
        route: 'GET /orders',
        authorizer: 'unauthorized',
      };
      expect(accessEntries(lines)).toEqual([
        expect.objectContaining({ ...refused, authorizerReason: 'token_expired' }),
        expect.objectContaining({ ...refused, authorizerReason: 'credential_in_query' }),
      ]);
      const logged = bothRenderings(lines);
      expect(logged).toContain('authorizer: unauthorized (token_expired)');
      for (const part of expired.split('.')) expect(logged).not.toContain(part);
      expect(logged).not.toContain('query-secret-4');
      expect(logged.toLowerCase()).not.toContain('bearer');
    });

    it('logs the IAM principal’s ARN on an AWS_IAM route, never the key id, the secret or the signature', async () => {
      // Arrange
      const from = access.length;

      // Act
      const signed = await signedFetch(`${base}/signed?sig=query-secret-3`, {
        ...CALLER,
        method: 'POST',
        body: '{"a":1}',
      });
      const wrongSecret = await signedFetch(`${base}/signed`, {
        ...CALLER,
        secretAccessKey: 'not-the-secret-0123456789abcdef',
        method: 'POST',
        body: '{}',
      });

      // Assert
      expect([signed.status, wrongSecret.status]).toEqual([200, 403]);
      const lines = access.slice(from);
      expect(accessEntries(lines)).toEqual([
        expect.objectContaining({
          path: '/signed',
          route: 'POST /signed',
          principal: 'arn:aws:iam::123456789012:user/service',
          authorizer: 'allow',
        }),
        expect.objectContaining({ authorizer: 'unauthorized', authorizerReason: 'signature_mismatch' }),
      ]);
      const logged = bothRenderings(lines);
      for (const secret of [
        CALLER.secretAccessKey,
        CALLER.accessKeyId,
        'AWS4-HMAC-SHA256',
        'Signature=',
        'query-secret-3',
      ])
        expect(logged).not.toContain(secret);
    });
  });
});
