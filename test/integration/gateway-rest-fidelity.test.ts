// The local gateway against API Gateway's documented REST behaviour, end to end over sockets: a
// fixture template in standard SAM form (test/fixtures/gateway/rest-fidelity.yaml), its functions
// bundled and run as local Lambda environments, requests sent with fetch.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../tools/gateway/gateway.ts';
import type { IamCredentialConfig } from '../../tools/gateway/iam-credentials.ts';
import { accessEntries, bothRenderings } from '../support/access-log.ts';
import { signedFetch } from '../support/sigv4.ts';

const TEMPLATE = 'test/fixtures/gateway/rest-fidelity.yaml';
const AUTHORIZER = 'RestAuthorizerFunction';
const PROBE = 'RestProbeFunction';
// Throttles and usage plans run on a frozen clock: no token comes back during a test.
const FROZEN = Date.UTC(2026, 0, 15, 12, 0, 0);

const ADMIN: IamCredentialConfig = {
  accessKeyId: 'AKIAFIXTUREADMIN0001',
  secretAccessKey: 'fixture-admin-secret-0123456789abcdef',
  user: 'admin',
};
const CALLER: IamCredentialConfig = {
  accessKeyId: 'AKIAFIXTURECALLER001',
  secretAccessKey: 'fixture-caller-secret-0123456789abcdef',
  role: 'CallbackCallerRole',
  session: 'fulfilment',
};

interface Echo {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly pathParameters: Record<string, string> | null;
  readonly stageVariables: Record<string, string> | null;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  readonly requestContext: {
    readonly identity: Record<string, unknown>;
    readonly authorizer?: Record<string, unknown>;
    readonly path: string;
  };
}

describe('local gateway: REST API fidelity', () => {
  let gateway: RunningGateway;
  const access: string[] = [];
  const info: string[] = [];
  let base: string;
  const url = (api: string, path: string) => `${gateway.urls[api]}${path}`;

  beforeAll(async () => {
    gateway = await startGateway({
      template: TEMPLATE,
      port: 0,
      issuerPort: 0,
      inMemory: true,
      clock: () => FROZEN,
      iamCredentials: [ADMIN, CALLER],
      accessLog: (line) => access.push(line),
      functionLog: () => undefined,
      info: (line) => info.push(line),
    });
    base = gateway.urls.FidelityApi as string;
  });
  afterAll(async () => {
    await gateway.close();
  });

  describe('AWS_IAM routes', () => {
    it('refuses an unsigned request with 403 Missing Authentication Token, without running the integration', async () => {
      // Arrange
      const before = gateway.invocations(PROBE);

      // Act
      const res = await fetch(`${base}/callback`, { method: 'POST', body: '{}' });

      // Assert
      expect(res.status).toBe(403);
      expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
      expect(gateway.invocations(PROBE)).toBe(before);
    });

    it('refuses a request signed with the wrong secret with API Gateway’s signature message', async () => {
      // Act
      const res = await signedFetch(`${base}/callback`, {
        ...ADMIN,
        secretAccessKey: 'not-the-secret-0123456789abcdef',
        method: 'POST',
        body: '{"order":"o-1"}',
        headers: { 'content-type': 'application/json' },
      });

      // Assert
      expect(res.status).toBe(403);
      expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
      expect(((await res.json()) as { message: string }).message).toMatch(
        /^The request signature we calculated does not match the signature you provided\./,
      );
    });

    it('refuses a body changed after signing, and an unknown access key', async () => {
      // Act
      const tampered = await signedFetch(`${base}/callback`, {
        ...ADMIN,
        method: 'POST',
        body: '{"amount":1}',
        sendBody: '{"amount":1000}',
      });
      const unknown = await signedFetch(`${base}/callback`, {
        ...ADMIN,
        accessKeyId: 'AKIAUNKNOWNKEY000001',
        method: 'POST',
        body: '{}',
      });

      // Assert
      expect(tampered.status).toBe(403);
      expect(unknown.status).toBe(403);
      expect(await unknown.json()).toEqual({
        message: 'The security token included in the request is invalid.',
      });
    });

    it('refuses a signature older than 5 minutes', async () => {
      // Act
      const res = await signedFetch(`${base}/callback`, {
        ...ADMIN,
        method: 'POST',
        body: '{}',
        signingDate: new Date(Date.now() - 10 * 60 * 1000),
      });

      // Assert
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toMatch(
        /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
      );
    });

    it('serves a correctly signed request and hands the IAM principal to the integration', async () => {
      // Act
      const res = await signedFetch(`${base}/callback?from=test`, {
        ...ADMIN,
        method: 'POST',
        body: '{"order":"o-1"}',
        headers: { 'content-type': 'application/json' },
      });

      // Assert
      expect(res.status).toBe(200);
      const event = (await res.json()) as Echo;
      expect(event.requestContext.identity).toMatchObject({
        accessKey: ADMIN.accessKeyId,
        accountId: '123456789012',
        userArn: 'arn:aws:iam::123456789012:user/admin',
        caller: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/),
        user: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/),
      });
      expect(event.body).toBe('{"order":"o-1"}');
    });

    it('lets a role call only what its template policy allows, with AWS’s denial message elsewhere', async () => {
      // Act
      const allowed = await signedFetch(`${base}/callback`, { ...CALLER, method: 'POST', body: '{}' });
      const denied = await signedFetch(`${base}/reports`, { ...CALLER });

      // Assert
      expect(allowed.status).toBe(200);
      expect(((await allowed.json()) as Echo).requestContext.identity.userArn).toBe(
        'arn:aws:sts::123456789012:assumed-role/CallbackCallerRole/fulfilment',
      );
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual({
        Message:
          'User: arn:aws:sts::123456789012:assumed-role/CallbackCallerRole/fulfilment is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:fidelityapi/v1/GET/reports',
      });
    });

    it('logs the IAM principal’s ARN and why a signature was refused, never a key id, secret, signature or query', async () => {
      // Arrange
      const from = access.length;
      const unknownKey = 'AKIAUNKNOWNKEY000002';

      // Act
      const served = await signedFetch(`${base}/reports?token=query-secret-1`, { ...ADMIN });
      const wrongSecret = await signedFetch(`${base}/reports`, {
        ...ADMIN,
        secretAccessKey: 'not-the-secret-0123456789abcdef',
      });
      const expired = await signedFetch(`${base}/reports`, {
        ...ADMIN,
        signingDate: new Date(Date.now() - 10 * 60 * 1000),
      });
      const unknown = await signedFetch(`${base}/reports`, { ...ADMIN, accessKeyId: unknownKey });
      const presigned = await fetch(
        `${base}/reports?X-Amz-Credential=${ADMIN.accessKeyId}&X-Amz-Signature=0123456789abcdef0123`,
      );

      // Assert
      expect([served, wrongSecret, expired, unknown, presigned].map((r) => r.status)).toEqual([
        200, 403, 403, 403, 403,
      ]);
      const lines = access.slice(from);
      expect(accessEntries(lines)).toEqual([
        expect.objectContaining({
          path: '/reports',
          principal: 'arn:aws:iam::123456789012:user/admin',
          authorizer: 'allow',
        }),
        expect.objectContaining({ authorizer: 'unauthorized', authorizerReason: 'signature_mismatch' }),
        expect.objectContaining({ authorizer: 'unauthorized', authorizerReason: 'signature_expired' }),
        expect.objectContaining({ authorizer: 'unauthorized', authorizerReason: 'unknown_access_key' }),
        expect.objectContaining({ authorizer: 'unauthorized', authorizerReason: 'presigned_url' }),
      ]);
      const logged = bothRenderings(lines);
      for (const secret of [
        ADMIN.secretAccessKey,
        ADMIN.accessKeyId,
        unknownKey,
        'AWS4-HMAC-SHA256',
        'Signature=',
        'X-Amz',
        '0123456789abcdef0123',
        'query-secret-1',
      ])
        expect(logged).not.toContain(secret);
    });
  });

  describe('request validation (RequestModel, RequestParameters)', () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${base}/items`, {
        method: 'POST',
        headers: { 'x-token': 'allow', 'content-type': 'application/json', ...headers },
        body,
      });

    it('refuses a request without a required header with 400 and the parameter’s name', async () => {
      // Arrange
      const before = gateway.invocations(PROBE);

      // Act
      const res = await post({}, '{"name":"chair"}');

      // Assert
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ message: 'Missing required request parameters: [X-Request-Id]' });
      expect(gateway.invocations(PROBE)).toBe(before);
    });

    it('refuses a body that does not satisfy the model with 400 Invalid request body', async () => {
      // Act
      const wrongShape = await post({ 'x-request-id': 'r-1' }, '{"label":"chair"}');
      const notJson = await post({ 'x-request-id': 'r-2' }, '{"name":');

      // Assert
      expect(wrongShape.status).toBe(400);
      expect(await wrongShape.json()).toEqual({ message: 'Invalid request body' });
      expect(notJson.status).toBe(400);
    });

    it('passes a valid request to the integration', async () => {
      // Act
      const res = await post({ 'x-request-id': 'r-3' }, '{"name":"chair"}');

      // Assert
      expect(res.status).toBe(200);
      expect(((await res.json()) as Echo).body).toBe('{"name":"chair"}');
    });
  });

  describe('stage variables', () => {
    it('hands the stage variables to the integration and to a REQUEST authorizer that uses one as identity source', async () => {
      // Arrange
      const before = gateway.invocations(AUTHORIZER);

      // Act
      const res = await fetch(`${base}/stage-auth`, { headers: { 'x-token': 'allow' } });

      // Assert
      expect(res.status).toBe(200);
      const event = (await res.json()) as Echo;
      expect(event.stageVariables).toEqual({ tier: 'gold' });
      // The authorizer saw the stage variable too: it echoes it in its context.
      expect(event.requestContext.authorizer).toMatchObject({
        tenant: 'acme',
        tier: 'gold',
        principalId: 'user-allow',
      });
      expect(gateway.invocations(AUTHORIZER)).toBe(before + 1);
    });
  });

  describe('CORS (SAM Cors)', () => {
    it('answers the preflight of a resource with 200 and the configured headers, without an authorizer', async () => {
      // Arrange
      const before = gateway.invocations(AUTHORIZER) + gateway.invocations(PROBE);

      // Act
      const res = await fetch(`${base}/items`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });

      // Assert
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET,OPTIONS,POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('content-type,x-token');
      expect(res.headers.get('access-control-max-age')).toBe('600');
      expect(gateway.invocations(AUTHORIZER) + gateway.invocations(PROBE)).toBe(before);
    });

    it('puts the default authorizer on the preflight when AddDefaultAuthorizerToCorsPreflight is left at its default', async () => {
      // Act
      const res = await fetch(url('PreflightApi', '/things'), {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });

      // Assert
      expect(res.status).toBe(401);
    });
  });

  describe('throttling', () => {
    it('gives each method of a `/*/*` MethodSettings throttle its own bucket', async () => {
      // Act
      const first = await fetch(url('ThrottleApi', '/a'));
      const second = await fetch(url('ThrottleApi', '/a'));
      const otherMethod = await fetch(url('ThrottleApi', '/a'), { method: 'POST', body: '{}' });

      // Assert
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(otherMethod.status).toBe(200);
    });

    it('applies a usage plan’s per-method throttle (ApiStages[].Throttle) per API key and per method', async () => {
      // Arrange
      const key = (value: string) => ({ headers: { 'x-api-key': value } });

      // Act
      const firstB = await fetch(url('PlanApi', '/b'), key('fixture-key-one-0123456789'));
      const secondB = await fetch(url('PlanApi', '/b'), key('fixture-key-one-0123456789'));
      const otherMethod = await fetch(url('PlanApi', '/a'), key('fixture-key-one-0123456789'));
      const otherKey = await fetch(url('PlanApi', '/b'), key('fixture-key-two-0123456789'));

      // Assert
      expect(firstB.status).toBe(200);
      expect(secondB.status).toBe(429);
      expect(await secondB.json()).toEqual({ message: 'Too Many Requests' });
      expect(otherMethod.status).toBe(200);
      expect(otherKey.status).toBe(200);
    });
  });

  describe('Lambda limits', () => {
    it('refuses an event over Lambda’s 6 MB with 413 without invoking the function', async () => {
      // Arrange
      const before = gateway.invocations(PROBE);

      // Act
      const res = await fetch(`${base}/upload`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'a'.repeat(6 * 1024 * 1024 + 100),
      });

      // Assert
      expect(res.status).toBe(413);
      expect(gateway.invocations(PROBE)).toBe(before);
    });

    it('answers 502 for a result over Lambda’s 6 MB', async () => {
      // Act
      const res = await fetch(`${base}/items/1?respond=big`);

      // Assert
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ message: 'Internal server error' });
    });

    it('answers 502 (not 504) when the function runs past its own timeout', async () => {
      // Act
      const res = await fetch(`${base}/slow?sleep=3000`);

      // Assert
      expect(res.status).toBe(502);
      expect(info.some((l) => l.includes('Sandbox.Timedout'))).toBe(true);
    });

    it('answers 504 Endpoint request timed out when the integration timeout passes first', async () => {
      // Arrange
      const started = performance.now();

      // Act
      const res = await fetch(`${base}/wait?sleep=2500`);

      // Assert
      expect(res.status).toBe(504);
      expect(await res.json()).toEqual({ message: 'Endpoint request timed out' });
      expect(performance.now() - started).toBeLessThan(2400);
    });

    it('answers 502 for a function error', async () => {
      // Act
      const res = await fetch(`${base}/items/1?respond=throw`);

      // Assert
      expect(res.status).toBe(502);
    });
  });

  describe('binary and text payloads', () => {
    it('decodes a base64 result only when the first Accept type is a binary media type', async () => {
      // Act
      const binary = await fetch(`${base}/items/1?respond=binary`, { headers: { accept: 'image/png' } });
      const text = await fetch(`${base}/items/1?respond=binary`, {
        headers: { accept: 'text/html, image/png' },
      });

      // Assert
      expect(Buffer.from(await binary.arrayBuffer())).toEqual(
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]),
      );
      expect(await text.text()).toBe('iVBORw0KGgr/AA==');
    });

    it('sends a binary media type body base64-encoded and any other body as UTF-8 text (invalid bytes as U+FFFD)', async () => {
      // Arrange
      const bytes = Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]);

      // Act
      const png = await fetch(`${base}/upload`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: bytes,
      });
      const text = await fetch(`${base}/upload`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: bytes,
      });

      // Assert
      expect(await png.json()).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
      expect(await text.json()).toMatchObject({ isBase64Encoded: false, body: 'hi\uFFFD\uFFFD!' });
    });

    it('answers application/json when the function sets no Content-Type', async () => {
      // Act
      const res = await fetch(`${base}/items/1?respond=no-content-type`);

      // Assert
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ plain: true });
    });
  });

  describe('what the integration sees', () => {
    it('keeps path parameters percent-encoded, as API Gateway does', async () => {
      // Act
      const item = (await (await fetch(`${base}/items/a%20b%2Fc`)).json()) as Echo;
      const files = (await (await fetch(`${base}/files/dir%201/x.txt`)).json()) as Echo;

      // Assert
      expect(item.pathParameters).toEqual({ id: 'a%20b%2Fc' });
      expect(files.pathParameters).toEqual({ proxy: 'dir%201/x.txt' });
    });

    it('adds X-Forwarded-For (the client IP appended), X-Forwarded-Proto, X-Forwarded-Port and X-Amzn-Trace-Id', async () => {
      // Act
      const res = await fetch(`${base}/items/1`, { headers: { 'x-forwarded-for': '198.51.100.7' } });

      // Assert
      const event = (await res.json()) as Echo;
      expect(event.headers['X-Forwarded-For']).toBe('198.51.100.7, 127.0.0.1');
      expect(event.multiValueHeaders['X-Forwarded-For']).toEqual(['198.51.100.7, 127.0.0.1']);
      expect(event.headers['X-Forwarded-Proto']).toBe('http');
      expect(event.headers['X-Forwarded-Port']).toBe(new URL(base).port);
      expect(event.headers['X-Amzn-Trace-Id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    });
  });

  describe('resource policy with a Lambda authorizer', () => {
    it('allows a method the authorizer’s policy is silent on when the resource policy allows it, and keeps an explicit Deny', async () => {
      // Act
      const read = await fetch(url('PolicyApi', '/docs'), { headers: { 'x-token': 'get-only' } });
      const silent = await fetch(url('PolicyApi', '/docs'), {
        method: 'DELETE',
        headers: { 'x-token': 'get-only' },
      });
      const denied = await fetch(url('PolicyApi', '/docs'), {
        method: 'DELETE',
        headers: { 'x-token': 'deny' },
      });

      // Assert
      expect(read.status).toBe(200);
      expect(silent.status).toBe(200);
      expect(denied.status).toBe(403);
      expect(info.some((l) => l.includes('PolicyApi: its resource policy allows requests'))).toBe(true);
    });

    it('keeps the authorizer’s implicit deny on an API without a resource policy', async () => {
      // Act
      const res = await fetch(`${base}/items`, {
        method: 'POST',
        headers: { 'x-token': 'get-only', 'x-request-id': 'r', 'content-type': 'application/json' },
        body: '{"name":"a"}',
      });

      // Assert
      expect(res.status).toBe(403);
    });
  });

  describe('gateway responses and authorizer answers', () => {
    it('evaluates method.request, context and stageVariables mappings of a gateway response', async () => {
      // Act
      const res = await fetch(`${base}/items`, { headers: { 'x-correlation-id': 'corr-42' } });

      // Assert
      expect(res.status).toBe(401);
      expect(res.headers.get('x-correlation-id')).toBe('corr-42');
      expect(res.headers.get('x-request-id')).toBe(res.headers.get('x-amzn-requestid'));
      expect(res.headers.get('x-tier')).toBe('gold');
      expect(await res.json()).toEqual({ message: 'Unauthorized', stage: 'v1', path: '/v1/items' });
    });

    it('fills context.authorizer values into the ACCESS_DENIED response of a denied caller', async () => {
      // Act
      const res = await fetch(`${base}/items`, { headers: { 'x-token': 'deny' } });

      // Assert
      expect(res.status).toBe(403);
      expect(res.headers.get('x-tenant')).toBe('acme');
      expect(res.headers.get('x-principal')).toBe('user-deny');
    });

    it('answers 500 for a policy whose Statement key is misspelt, as API Gateway does (not an empty policy’s 403)', async () => {
      // Act
      const res = await fetch(`${base}/items`, { headers: { 'x-token': 'lowercase-statement' } });

      // Assert
      expect(res.status).toBe(500);
      expect(res.headers.get('x-amzn-errortype')).toBe('AuthorizerConfigurationException');
      expect(await res.json()).toEqual({ message: null });
    });
  });
});
