// The local gateway end to end over real sockets: the real template, the real bundles (JWT
// authorizer, request validator) in warm local Lambda environments, the demo backend behind them.

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../tools/gateway/gateway.ts';

const JWT = 'JwtAuthorizerFunction';

interface Captured {
  readonly gateway: RunningGateway;
  readonly access: string[];
  readonly functionLogs: string[];
  readonly info: string[];
}

async function start(options: Parameters<typeof startGateway>[0] = {}): Promise<Captured> {
  const access: string[] = [];
  const functionLogs: string[] = [];
  const info: string[] = [];
  const gateway = await startGateway({
    port: 0,
    issuerPort: 0,
    inMemory: true,
    accessLog: (line) => access.push(line),
    functionLog: (chunk) => functionLogs.push(chunk),
    info: (line) => info.push(line),
    ...options,
  });
  return { gateway, access, functionLogs, info };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('local gateway: OrdersApi behind the JWT authorizer', () => {
  let run: Captured;
  let base: string;
  const token = (scope: string, sub = 'alice') => run.gateway.services.issuer?.mint({ scope, sub }) as string;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

  beforeAll(async () => {
    run = await start();
    base = run.gateway.urls.OrdersApi as string;
  });
  afterAll(async () => {
    await run.gateway.close();
  });

  it('serves each API of the template on its own port, OrdersApi first', () => {
    // Arrange / Act
    const ids = run.gateway.apis.map((a) => a.logicalId);
    const ports = run.gateway.apis.map((a) => new URL(a.url).port);

    // Assert
    expect(ids[0]).toBe('OrdersApi');
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('answers GET /health without an authorizer', async () => {
    // Arrange
    const before = run.gateway.invocations(JWT);

    // Act
    const res = await get('/health');

    // Assert
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(run.gateway.invocations(JWT)).toBe(before);
  });

  it('refuses a request without Authorization with 401 and never invokes the authorizer', async () => {
    // Arrange
    const before = run.gateway.invocations(JWT);

    // Act
    const res = await get('/orders');

    // Assert
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 401, detail: 'Unauthorized' });
    expect(run.gateway.invocations(JWT)).toBe(before);
  });

  it('refuses an Authorization that fails the ValidationExpression with 401 without invoking', async () => {
    // Arrange
    const before = run.gateway.invocations(JWT);

    // Act
    const res = await get('/orders', { authorization: 'Basic ZGVtbzpkZW1v' });

    // Assert
    expect(res.status).toBe(401);
    expect(run.gateway.invocations(JWT)).toBe(before);
  });

  it('answers 401 when the authorizer throws Unauthorized for a forged token', async () => {
    // Arrange
    const good = token('orders:read');
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.AAAA${good.slice(good.lastIndexOf('.') + 5)}`;
    const before = run.gateway.invocations(JWT);

    // Act
    const res = await get('/orders', { authorization: `Bearer ${forged}` });

    // Assert
    expect(res.status).toBe(401);
    expect(run.gateway.invocations(JWT)).toBe(before + 1);
  });

  it('lets an orders:read token list orders and delivers the principal to the backend', async () => {
    // Arrange
    const bearer = `Bearer ${token('orders:read', 'reader-1')}`;

    // Act
    const res = await get('/orders', { authorization: bearer });

    // Assert
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: unknown[] };
    expect(body.items.length).toBeGreaterThan(0);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.gateway.demoBackend?.received().at(-1)).toMatchObject({
      path: '/orders',
      principal: 'reader-1',
    });
  });

  // The template's resource policy allows only the public routes: the authorizer's policy alone
  // decides here, and its silence about DELETE is a deny (docs/hardening.md#resource-policy).
  it('caches the answer per token and still denies DELETE for a cached orders:read token', async () => {
    // Arrange
    const bearer = `Bearer ${token('orders:read', 'cache-user')}`;
    const before = run.gateway.invocations(JWT);

    // Act
    const first = await get('/orders', { authorization: bearer });
    const second = await get('/orders/ord_demo0002', { authorization: bearer });
    const del = await fetch(`${base}/orders/ord_demo0001`, {
      method: 'DELETE',
      headers: { authorization: bearer },
    });

    // Assert
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(del.status).toBe(403);
    expect(await del.json()).toMatchObject({
      status: 403,
      detail: 'User is not authorized to access this resource',
    });
    expect(run.gateway.invocations(JWT)).toBe(before + 1);
  });

  it('lets an orders:write token create an order and refuses an invalid body with 400 from the validator', async () => {
    // Arrange
    const headers = {
      authorization: `Bearer ${token('orders:read orders:write')}`,
      'content-type': 'application/json',
      'idempotency-key': 'gateway-test-0001',
    };
    const order = {
      customer: { email: 'grace@example.com', name: 'Grace Hopper' },
      items: [{ sku: 'COBOL-1', quantity: 2, unitPrice: { currency: 'USD', amount: 1000 } }],
    };

    // Act
    const created = await fetch(`${base}/orders`, { method: 'POST', headers, body: JSON.stringify(order) });
    const invalid = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'gateway-test-0002' },
      body: JSON.stringify({ ...order, items: [] }),
    });

    // Assert
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ status: 'pending', customer: order.customer });
    expect(invalid.status).toBe(400);
  });

  it('answers an unknown route with the MISSING_AUTHENTICATION_TOKEN response of the template (403 problem+json on OrdersApi, which has an AWS_IAM route)', async () => {
    // Act
    const res = await get('/no-such-route');
    const keyApi = await fetch(`${run.gateway.urls.OrdersKeyApi}/no-such-route`);

    // Assert
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
    expect(keyApi.status).toBe(404);
    expect(await keyApi.json()).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404 });
  });

  it('refuses a body over 10 MB with 413 before anything runs', async () => {
    // Arrange
    const before = run.gateway.invocations(JWT);
    const body = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);

    // Act
    const res = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token('orders:write')}`, 'content-type': 'application/json' },
      body,
    });

    // Assert
    expect(res.status).toBe(413);
    expect(run.gateway.invocations(JWT)).toBe(before);
  });

  it('writes one JSON access-log line per request without any token or Authorization value', async () => {
    // Arrange
    const secret = token('orders:read', 'log-user');
    const from = run.access.length;

    // Act
    await get('/orders', { authorization: `Bearer ${secret}` });
    await get('/orders?access_token=not-logged', { authorization: `Bearer ${secret}` });

    // Assert
    const lines = run.access.slice(from);
    expect(lines).toHaveLength(2);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({
      method: 'GET',
      path: '/orders',
      route: 'GET /orders',
      status: 200,
      principal: 'log-user',
      authorizer: 'allow',
      cacheHit: false,
      integration: { effect: 'forwarded' },
    });
    // A cached answer invoked no authorizer: no reason of its own; the query stays out of `path`.
    expect(entries[1]).toMatchObject({ path: '/orders', cacheHit: true });
    expect(entries[1]).not.toHaveProperty('authorizerReason');
    expect(typeof entries[0]?.latencyMs).toBe('number');
    expect(typeof entries[0]?.requestId).toBe('string');
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(secret.split('.')[1] as string);
      expect(line).not.toContain('not-logged');
      expect(line.toLowerCase()).not.toContain('bearer');
    }
  });

  it('writes the reason code the authorizer logged for a refused token, never the token', async () => {
    // Arrange
    const expired = run.gateway.services.issuer?.mint({
      scope: 'orders:read',
      sub: 'late',
      ttl: -60,
    }) as string;
    const from = run.access.length;

    // Act
    const res = await get('/orders/ord_12345678?access_token=not-logged', {
      authorization: `Bearer ${expired}`,
    });

    // Assert
    expect(res.status).toBe(401);
    const lines = run.access.slice(from);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      path: '/orders/ord_12345678',
      route: 'GET /orders/{id}',
      authorizer: 'unauthorized',
      authorizerReason: 'token_expired',
      errorType: 'UNAUTHORIZED',
    });
    expect(lines[0]).not.toContain(expired.split('.')[1] as string);
    expect(lines[0]).not.toContain('not-logged');
  });
});

describe('local gateway: upstream down', () => {
  it('answers 502 when the backend behind the validator does not answer', async () => {
    // Arrange
    const run = await start({ upstream: `http://127.0.0.1:${await closedPort()}` });
    try {
      // Act
      const res = await fetch(`${run.gateway.urls.OrdersApi}/health`);

      // Assert
      expect(res.status).toBe(502);
    } finally {
      await run.gateway.close();
    }
  });
});

describe('local gateway: authorizer failure', () => {
  it('answers the template’s AUTHORIZER_CONFIGURATION_ERROR response (503) when the authorizer cannot start', async () => {
    // Arrange: -n env vars that make the JWT authorizer's cold start fail (JWT_ISSUERS is not JSON)
    const run = await start({ envVars: { JwtAuthorizerFunction: { JWT_ISSUERS: 'not json' } } });
    try {
      const bearer = `Bearer ${run.gateway.services.issuer?.mint({ scope: 'orders:read' })}`;

      // Act
      const res = await fetch(`${run.gateway.urls.OrdersApi}/orders`, { headers: { authorization: bearer } });

      // Assert
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({
        authorizer: 'error',
        errorType: 'AUTHORIZER_CONFIGURATION_ERROR',
      });
    } finally {
      await run.gateway.close();
    }
  });
});

describe('local gateway: resource policy', () => {
  it('denies a source outside AllowedSourceCidrs with 403 before any authorizer runs', async () => {
    // Arrange
    const run = await start({ parameterOverrides: { AllowedSourceCidrs: '10.0.0.0/8' } });
    try {
      const bearer = `Bearer ${run.gateway.services.issuer?.mint({ scope: 'orders:read' })}`;

      // Act
      const health = await fetch(`${run.gateway.urls.OrdersApi}/health`);
      const orders = await fetch(`${run.gateway.urls.OrdersApi}/orders`, {
        headers: { authorization: bearer },
      });

      // Assert
      expect(health.status).toBe(403);
      expect(await health.json()).toMatchObject({ detail: expect.stringContaining('with an explicit deny') });
      expect(orders.status).toBe(403);
      expect(run.gateway.invocations(JWT)).toBe(0);
      expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({ resourcePolicy: 'explicit_deny' });
    } finally {
      await run.gateway.close();
    }
  });
});
