/**
 * The forwarder against a real HTTP server on loopback: the target cannot be changed by parameter
 * values, headers are filtered, the signature verifies, and backend failures map to 502/504.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForwarder, type UpstreamRequest } from '../../shared/upstream/forward.ts';
import { verifyReceivedRequest } from '../../shared/upstream/signing.ts';

const SECRET = 'integration-test-secret-0123456789abcdef';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let server: Server;
let base: string;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const url = req.url ?? '';
      if (url.includes('slow')) {
        setTimeout(() => res.writeHead(200).end('late'), 2_000);
        return;
      }
      if (url.includes('huge-declared')) {
        res.writeHead(200, { 'content-length': '100000' }).end('x'.repeat(100_000));
        return;
      }
      if (url.includes('huge-streamed')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 100; i++) res.write('y'.repeat(1000));
        res.end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'x-secret-hop, keep-alive',
        'x-secret-hop': 'dropped',
        'keep-alive': 'timeout=5',
        'x-gatehouse-internal': 'dropped',
        'x-kept': 'kept',
        'set-cookie': ['a=1; HttpOnly', 'b=2'],
      });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function request(overrides: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    method: 'GET',
    template: '/orders/{id}',
    pathParams: { id: 'ord_12345678' },
    querySpecs: [
      { name: 'limit', array: 'explode' },
      { name: 'tag', array: 'explode' },
    ],
    query: {},
    headers: new Map(),
    body: undefined,
    identity: { client: 'client-1', principal: 'user-1', scopes: 'orders:read' },
    ...overrides,
  };
}

const forward = (options: { timeoutMs?: number; maxResponseBytes?: number } = {}) =>
  createForwarder({
    baseUrl: base,
    signingSecret: SECRET,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxResponseBytes: options.maxResponseBytes ?? 50_000,
  });

async function lastReceived(req: UpstreamRequest): Promise<Received> {
  const before = received.length;
  const result = await forward()(req);
  expect(result.ok).toBe(true);
  expect(received.length).toBe(before + 1);
  return received[received.length - 1] as Received;
}

describe('forwarding to a loopback backend', () => {
  it.each([
    ['../admin', '/api/orders/..%2Fadmin'],
    ['..%2F..%2Fadmin', '/api/orders/..%252F..%252Fadmin'],
    ['%2e%2e', '/api/orders/%252e%252e'],
    ['a/b', '/api/orders/a%2Fb'],
    ['x?admin=1#frag', '/api/orders/x%3Fadmin%3D1%23frag'],
    ['x\r\nHost: evil.example', '/api/orders/x%0D%0AHost%3A%20evil.example'],
    ['@evil.example', '/api/orders/%40evil.example'],
    ['//evil.example/x', '/api/orders/%2F%2Fevil.example%2Fx'],
  ])('keeps the path parameter %j inside one segment', async (id, expected) => {
    // Act
    const got = await lastReceived(request({ pathParams: { id } }));
    // Assert
    expect(got.url).toBe(expected);
    expect(got.headers.host).toBe(new URL(base).host);
  });

  it('rebuilds the query from validated values only, re-encoded', async () => {
    const got = await lastReceived(request({ query: { limit: ['5'], tag: ['a&b=c', 'é'] } }));
    expect(got.url).toBe('/api/orders/ord_12345678?limit=5&tag=a%26b%3Dc&tag=%C3%A9');
  });

  it('signs what the backend receives, and the backend can verify it', async () => {
    // Arrange
    const body = '{"a":1}';
    // Act
    const got = await lastReceived(
      request({
        method: 'POST',
        template: '/orders',
        pathParams: {},
        query: { limit: ['2'] },
        body: { mediaType: 'application/json', text: body },
      }),
    );
    // Assert: verify exactly as docs/request-validator.md describes, from the wire.
    const failure = verifyReceivedRequest(
      SECRET,
      { method: got.method, target: got.url, headers: got.headers, body: got.body },
      Math.floor(Date.now() / 1000),
    );
    expect(failure).toBeUndefined();
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
  });

  it('fails verification with another secret', async () => {
    const got = await lastReceived(request());
    const failure = verifyReceivedRequest(
      'another-secret-0123456789abcdef0123456789',
      { method: got.method, target: got.url, headers: got.headers, body: got.body },
      Math.floor(Date.now() / 1000),
    );
    expect(failure).toBe('signature_mismatch');
  });

  it('drops hop-by-hop headers, credentials and client-sent X-Gatehouse-* headers', async () => {
    // Arrange
    const headers = new Map<string, string[]>([
      ['connection', ['x-drop-me']],
      ['x-drop-me', ['1']],
      ['keep-alive', ['timeout=5']],
      ['te', ['trailers']],
      ['upgrade', ['websocket']],
      ['proxy-authorization', ['Basic abc']],
      ['host', ['evil.example']],
      ['authorization', ['Bearer secret-token']],
      ['x-api-key', ['gh_live_secret']],
      ['x-gatehouse-principal', ['admin']],
      ['x-gatehouse-signature', ['v1=forged']],
      ['x-forwarded-host', ['evil.example']],
      ['accept', ['application/json']],
      ['x-request-id', ['abc']],
    ]);
    // Act
    const got = await lastReceived(request({ headers }));
    // Assert
    for (const name of [
      'x-drop-me',
      'te',
      'upgrade',
      'proxy-authorization',
      'authorization',
      'x-api-key',
      'x-forwarded-host',
    ])
      expect(got.headers[name]).toBeUndefined();
    expect(got.headers.host).toBe(new URL(base).host);
    expect(got.headers['x-gatehouse-principal']).toBe('user-1');
    expect(got.headers['x-gatehouse-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(got.headers.accept).toBe('application/json');
    expect(got.headers['x-request-id']).toBe('abc');
  });

  it('filters the response headers and keeps each Set-Cookie', async () => {
    const result = await forward()(request());
    expect(result.ok && Object.fromEntries(result.headers.filter(([n]) => n !== 'date'))).toEqual({
      'content-type': 'application/json',
      'x-kept': 'kept',
      'set-cookie': 'b=2',
    });
    expect(result.ok && result.headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v)).toEqual([
      'a=1; HttpOnly',
      'b=2',
    ]);
  });

  it('answers upstream_timeout when the backend is too slow', async () => {
    const result = await forward({ timeoutMs: 200 })(request({ pathParams: { id: 'slow' } }));
    expect(result).toEqual({ ok: false, reason: 'upstream_timeout' });
  });

  it('answers upstream_unreachable when nothing listens', async () => {
    // Arrange: a port that was just free.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const closed = createForwarder({
      baseUrl: `http://127.0.0.1:${port}`,
      signingSecret: SECRET,
      timeoutMs: 2_000,
      maxResponseBytes: 1000,
    });
    // Act / Assert
    expect(await closed(request())).toEqual({ ok: false, reason: 'upstream_unreachable' });
  });

  it.each(['huge-declared', 'huge-streamed'])(
    'answers upstream_response_too_large for %s answers',
    async (id) => {
      expect(await forward({ maxResponseBytes: 50_000 })(request({ pathParams: { id } }))).toEqual({
        ok: false,
        reason: 'upstream_response_too_large',
      });
    },
  );
});
