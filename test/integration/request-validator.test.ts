/**
 * The built RequestValidatorFunction bundle in a local Lambda environment, forwarding to the demo
 * backend (and to a recording server) on loopback: every sample event gives the outcome its name
 * says, for REST (payload 1.0) and HTTP API (payload 2.0).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceivedRequest } from '../../shared/upstream/signing.ts';
import { LambdaEnvironment } from '../../tools/lambda/runtime.ts';
import { type DemoBackend, startDemoBackend } from '../../tools/local/demo-backend.ts';

const SECRET = 'bundle-test-secret-0123456789abcdef0123';
const BUNDLE = '.gatehouse/build/RequestValidatorFunction/handler.mjs';
const EVENTS = 'events/request-validator';

interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

function lambda(env: Record<string, string>, logs: string[] = []): LambdaEnvironment {
  return new LambdaEnvironment(
    {
      logicalId: 'RequestValidatorFunction',
      bundle: BUNDLE,
      exportName: 'handler',
      env: { UPSTREAM_SIGNING_SECRET: SECRET, POWERTOOLS_SERVICE_NAME: 'request-validator', ...env },
      timeoutSeconds: 10,
      memoryMb: 512,
      region: 'us-east-1',
      accountId: '123456789012',
    },
    (chunk) => logs.push(chunk),
  );
}

async function invoke(fn: LambdaEnvironment, event: unknown): Promise<ProxyResult> {
  const result = await fn.invoke(event);
  if (!result.ok) throw new Error(`${result.error.errorType}: ${result.error.errorMessage}`);
  return result.result as ProxyResult;
}

const readEvent = (name: string) =>
  JSON.parse(readFileSync(`${EVENTS}/${name}`, 'utf8')) as Record<string, unknown>;

describe('RequestValidatorFunction with the demo backend', () => {
  let backend: DemoBackend;
  let fn: LambdaEnvironment;
  const logs: string[] = [];

  beforeAll(async () => {
    backend = await startDemoBackend();
    fn = lambda({ UPSTREAM_URL: backend.url }, logs);
  });

  afterAll(async () => {
    await fn.close();
    await backend.close();
  });

  const files = readdirSync(EVENTS).filter((f) => f.endsWith('.json'));

  it.each(files)('%s gives the outcome its name says', async (file) => {
    // Arrange
    const expected = /-(\d{3})\.json$/.exec(file)?.[1];
    const before = backend.requestCount();
    // Act
    const result = await invoke(fn, readEvent(file));
    // Assert
    if (expected === undefined) {
      expect(file).toMatch(/-forwarded\.json$/);
      // The backend's own answer (a DELETE may find the order already gone: 404 from the backend).
      expect(backend.requestCount()).toBe(before + 1);
      expect(result.statusCode).toBeLessThan(500);
      expect(result.headers['content-type']).not.toBe('application/problem+json');
    } else {
      expect(result.statusCode).toBe(Number(expected));
      expect(result.headers['content-type']).toBe('application/problem+json');
      const problem = JSON.parse(result.body) as { type: string; status: number };
      expect(problem.type).toMatch(/^https:\/\/gatehouse\.dev\/problems\/[a-z0-9_]+$/);
      expect(problem.status).toBe(Number(expected));
      expect(backend.requestCount()).toBe(before);
    }
  });

  it('answers 405 with an Allow header', async () => {
    const result = await invoke(fn, readEvent('http-delete-orders-405.json'));
    expect(result.headers.allow?.split(', ').sort()).toEqual(['GET', 'POST']);
  });

  it('never logs the Authorization header or the body values', async () => {
    // Arrange
    const event = readEvent('rest-create-order-forwarded.json');
    event.headers = { ...(event.headers as object), Authorization: 'Bearer eyJ.secret-token.sig' };
    // Act
    await invoke(fn, event);
    // Assert
    const text = logs.join('');
    expect(text).toContain('"effect":"forwarded"');
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('ada@example.com');
  });
});

describe('RequestValidatorFunction with a recording backend', () => {
  let server: Server;
  let url: string;
  let last: { req: IncomingMessage; body: string } | undefined;
  let answer = '{"status":"ok"}';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        last = { req, body: Buffer.concat(chunks).toString() };
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backend`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('forwards the validated value re-serialized, signed, with the caller identity', async () => {
    // Arrange
    const fn = lambda({ UPSTREAM_URL: url });
    const event = readEvent('http-create-order-forwarded.json');
    event.body = ` {\n  "customer" : {"email":"ada@example.com","name":"Ada"}, "items":[{"sku":"BOOK-001","quantity":1,"unitPrice":{"currency":"EUR","amount":5}}] }\n`;
    // Act
    const result = await invoke(fn, event);
    await fn.close();
    // Assert
    expect(result.statusCode).toBe(200);
    const got = last as { req: IncomingMessage; body: string };
    expect(got.body).toBe(JSON.stringify(JSON.parse(event.body as string)));
    expect(got.req.url).toBe('/backend/orders');
    const h = (n: string) => got.req.headers[n] as string | undefined;
    expect(h('x-gatehouse-principal')).toBe('client-42');
    expect(h('x-gatehouse-client')).toBe('client-42');
    expect(h('x-gatehouse-scopes')).toBe('orders:read orders:write orders:admin');
    expect(h('idempotency-key')).toBe('order-2026-0001');
    const failure = verifyReceivedRequest(
      SECRET,
      { method: 'POST', target: got.req.url ?? '', headers: got.req.headers, body: got.body },
      Math.floor(Date.now() / 1000),
    );
    expect(failure).toBeUndefined();
  });

  it('answers 502 in strict response validation when the backend breaks the document', async () => {
    // Arrange: getHealth must answer {"status":"ok"}.
    answer = '{"status":"degraded"}';
    const fn = lambda({ UPSTREAM_URL: url, RESPONSE_VALIDATION: 'strict' });
    // Act
    const result = await invoke(fn, readEvent('rest-health-forwarded.json'));
    await fn.close();
    answer = '{"status":"ok"}';
    // Assert
    expect(result.statusCode).toBe(502);
    expect(JSON.parse(result.body).type).toBe('https://gatehouse.dev/problems/upstream_response_invalid');
  });

  it('passes the answer on but logs it in log mode', async () => {
    answer = '{"status":"degraded"}';
    const logs: string[] = [];
    const fn = lambda({ UPSTREAM_URL: url, RESPONSE_VALIDATION: 'log' }, logs);
    const result = await invoke(fn, readEvent('rest-health-forwarded.json'));
    await fn.close();
    answer = '{"status":"ok"}';
    expect(result.statusCode).toBe(200);
    expect(logs.join('')).toContain('backend answer does not match the document');
  });
});

describe('RequestValidatorFunction configuration', () => {
  it.each([
    [{ UPSTREAM_URL: 'http://backend.example.com' }, 'UPSTREAM_URL must use https'],
    [
      { UPSTREAM_URL: 'https://b.example.com', UPSTREAM_SIGNING_SECRET: 'short' },
      'UPSTREAM_SIGNING_SECRET must be at least 32',
    ],
    [
      { UPSTREAM_URL: 'https://b.example.com', RESPONSE_VALIDATION: 'maybe' },
      'RESPONSE_VALIDATION must be off, log or strict',
    ],
    [{ UPSTREAM_URL: 'https://b.example.com', MAX_JSON_DEPTH: '0' }, 'MAX_JSON_DEPTH must be between'],
  ])('fails the cold start naming the variable (%j)', async (env, message) => {
    // Arrange
    const fn = lambda(env);
    // Act
    const result = await fn.invoke(readEvent('rest-health-forwarded.json'));
    await fn.close();
    // Assert
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error.errorMessage).toContain('ConfigError');
    expect(result.ok ? '' : result.error.errorMessage).toContain(message);
  });
});
