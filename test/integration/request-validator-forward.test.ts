/**
 * The forwarder against a real HTTP server on loopback: the target cannot be changed by parameter
 * values, headers are filtered, the signature verifies, and backend failures map to 502/504.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/generated/routes.ts';
import { VALIDATION } from '../../shared/generated/validation-table.ts';
import { memoryObserver } from '../../shared/observability/observer.ts';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { createForwarder, type UpstreamRequest } from '../../shared/upstream/forward.ts';
import { verifyReceivedRequest } from '../../shared/upstream/signing.ts';
import { createRequestValidator } from '../../shared/validation/request-validator.ts';
import type { ValidationTable } from '../../shared/validation/table.ts';
import { upstreamBody } from '../../shared/validation/upstream-body.ts';
import { readEvent } from '../support/events.ts';
import { httpEvent, READER_LIMITS, readersDocument, validateReaders } from '../support/readers.ts';

const SECRET = 'integration-test-secret-0123456789abcdef';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The body bytes as received (multipart parts may be binary). */
  readonly bytes: Buffer;
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
        bytes: Buffer.concat(chunks),
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
      if (url.includes('cut-short')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"partial":');
        setTimeout(() => res.socket?.destroy(), 20);
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
    headerSpecs: [],
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
    expect(got.headers['x-gatehouse-signature']).toMatch(/^v2=[0-9a-f]{64}$/);
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

  it('answers upstream_unreachable when the backend closes the connection mid-answer', async () => {
    expect(await forward()(request({ pathParams: { id: 'cut-short' } }))).toEqual({
      ok: false,
      reason: 'upstream_unreachable',
    });
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

/** The request validator (pure factory) forwarding through the real forwarder to the loopback backend. */
function validatorToBackend(table: ValidationTable = VALIDATION) {
  return createRequestValidator({
    matcher: new RouteMatcher(ROUTES),
    table,
    limits: { maxBytes: 10_000, maxDepth: 16 },
    forward: forward(),
    responseValidation: 'off',
    observer: memoryObserver(),
  });
}

type RestEvent = {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
};

/** A sample event with headers added (both the single- and the multi-value map, as API Gateway sends). */
function sampleWith(name: string, headers: Record<string, string>): RestEvent {
  const event = readEvent(`events/request-validator/${name}.json`) as unknown as RestEvent;
  for (const [k, v] of Object.entries(headers)) {
    event.headers[k] = v;
    event.multiValueHeaders[k] = [v];
  }
  return event;
}

async function forwardedThroughValidator(event: RestEvent): Promise<Received> {
  const before = received.length;
  const response = await validatorToBackend()(event);
  expect(response.statusCode).toBe(200);
  expect(received.length).toBe(before + 1);
  return received[received.length - 1] as Received;
}

const verifyAsBackend = (got: Received) =>
  verifyReceivedRequest(
    SECRET,
    { method: got.method, target: got.url, headers: got.headers, body: got.bytes },
    Math.floor(Date.now() / 1000),
  );

describe('the forwarded request is the validated request', () => {
  it('forwards and signs a validated header even when Connection names it', async () => {
    // Arrange: Idempotency-Key is required (validated), and Connection lists it as hop-by-hop.
    const event = sampleWith('rest-create-order-forwarded', { Connection: 'idempotency-key' });
    // Act
    const got = await forwardedThroughValidator(event);
    // Assert
    expect(got.headers['idempotency-key']).toBe('order-2026-0001');
    expect(verifyAsBackend(got)).toBeUndefined();
  });

  it('signs every declared header parameter: a changed Idempotency-Key fails verification', async () => {
    const got = await forwardedThroughValidator(sampleWith('rest-create-order-forwarded', {}));
    expect(verifyAsBackend(got)).toBeUndefined();

    const replayed = { ...got, headers: { ...got.headers, 'idempotency-key': 'order-2026-9999' } };
    const stripped = { ...got, headers: { ...got.headers, 'idempotency-key': undefined } };

    expect(verifyAsBackend(replayed)).toBe('signature_mismatch');
    expect(verifyAsBackend(stripped)).toBe('signature_mismatch');
  });

  it.each([
    'X-HTTP-Method-Override',
    'X-HTTP-Method',
    'X-Method-Override',
    'X-Original-URL',
    'X-Rewrite-URL',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'X-Forwarded-Prefix',
    'Forwarded',
    'X-Real-IP',
  ])('drops %s, which the operation does not declare', async (name) => {
    const value = name.includes('URL') ? '/admin' : name.includes('Method') ? 'DELETE' : '10.0.0.1';
    const got = await forwardedThroughValidator(sampleWith('rest-get-order-forwarded', { [name]: value }));
    expect(got.headers[name.toLowerCase()]).toBeUndefined();
  });

  // An API whose parameters are free-form strings (openapi.yaml's all have patterns): every string
  // passes the schema, so only the well-formedness check stands between the value and the forwarder.
  const permissive: ValidationTable = {
    readers: VALIDATION.readers,
    keys: VALIDATION.keys,
    responseValidators: VALIDATION.responseValidators,
    operation(key) {
      const op = VALIDATION.operation(key);
      return op && { ...op, params: Object.assign((_data: unknown) => true, { errors: null }) };
    },
  };

  it.each([
    [
      'a query parameter',
      '/query/cursor',
      (e: RestEvent) => {
        e.queryStringParameters = { cursor: 'page\ud800' };
        e.multiValueQueryStringParameters = { cursor: ['page\ud800'] };
      },
      'rest-list-orders-forwarded',
    ],
    [
      'a path parameter',
      '/path/id',
      (e: RestEvent & { pathParameters?: unknown }) => {
        e.pathParameters = { id: 'ord_\udc00abcdefgh' };
      },
      'rest-get-order-forwarded',
    ],
    [
      'a declared header parameter',
      '/header/idempotency-key',
      (e: RestEvent) => {
        e.headers['Idempotency-Key'] = 'order-\udc00-0001';
        e.multiValueHeaders['Idempotency-Key'] = ['order-\udc00-0001'];
      },
      'rest-create-order-forwarded',
    ],
  ])('answers 400, not a crash, for a lone UTF-16 surrogate in %s', async (_where, pointer, change, name) => {
    // Arrange: payload 1.0 carries values as JSON strings, which can hold a lone surrogate.
    const event = sampleWith(name, {});
    change(event);
    const before = received.length;
    // Act
    const response = await validatorToBackend(permissive)(event);
    // Assert
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ errors: [{ pointer }] });
    expect(received.length).toBe(before);
  });
});

describe('the connection to the backend', () => {
  it('is kept alive across requests', async () => {
    // Arrange
    let connections = 0;
    const backend = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    });
    backend.on('connection', () => connections++);
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const send = createForwarder({
      baseUrl: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
      signingSecret: SECRET,
      timeoutMs: 2_000,
      maxResponseBytes: 1000,
    });
    // Act
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await send(request()));
    // Assert
    expect(results.map((r) => r.ok && r.status)).toEqual([200, 200, 200]);
    expect(connections).toBe(1);
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
  });

  it('sends the request again on a new connection when a kept-alive one turns out closed', async () => {
    // Arrange: the backend drops the second request that arrives on a reused connection without
    // answering, as a server does with an idle connection it closed while the function was frozen.
    const seen = new WeakMap<object, number>();
    let served = 0;
    const backend = createServer((req, res) => {
      const n = (seen.get(req.socket) ?? 0) + 1;
      seen.set(req.socket, n);
      if (n === 2) return void req.socket.destroy();
      req.resume();
      req.on('end', () => {
        served++;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const send = createForwarder({
      baseUrl: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
      signingSecret: SECRET,
      timeoutMs: 2_000,
      maxResponseBytes: 1000,
    });
    // Act
    const first = await send(request());
    const second = await send(request());
    // Assert
    expect([first.ok && first.status, second.ok && second.status]).toEqual([200, 200]);
    expect(served).toBe(2);
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
  });
});

/** The request validator over the readers document, forwarding through the real forwarder. */
function readersToBackend() {
  const doc = readersDocument();
  return createRequestValidator({
    matcher: doc.matcher,
    table: doc.table,
    limits: READER_LIMITS,
    forward: forward(),
    responseValidation: 'off',
    observer: memoryObserver(),
  });
}

/**
 * Sends one request through the validator and the forwarder; returns what the backend received and
 * what upstreamBody writes for the same validated body with the boundary the backend saw.
 */
async function sentAndWritten(path: string, body: string | Uint8Array, contentType: string) {
  const outcome = validateReaders('POST', path, { body, contentType });
  if (!outcome.ok || outcome.request.body === undefined) return undefined;
  const before = received.length;
  const response = await readersToBackend()(httpEvent('POST', path, { body, contentType }));
  expect(response.statusCode).toBe(200);
  expect(received.length).toBe(before + 1);
  const got = received[received.length - 1] as Received;
  const boundary = /boundary=(.*)$/.exec(got.headers['content-type'] ?? '')?.[1] ?? '';
  return { got, written: upstreamBody(outcome.request.body, () => boundary) };
}

/** Text with any code point but lone surrogates. */
const anyText = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

describe('bodies reach the backend exactly as upstreamBody writes them', () => {
  // Each run is one loopback exchange: fewer runs than the pure properties of the hostile suite.
  const RUNS = Number(process.env.HOSTILE_RUNS ?? 3_000) >= 3_000 ? 60 : 20;

  it('forms: the bytes, the Content-Type and a signature over them', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText(30),
        fc.array(anyText(15), { maxLength: 4 }),
        anyText(30),
        async (name, tags, city) => {
          // Arrange: the spellings clients use (`+` for spaces) and the names the schema reads.
          const enc = (t: string) => encodeURIComponent(t).replace(/%20/g, '+');
          const body = [
            `name=${enc(name)}`,
            ...tags.map((t) => `tags=${enc(t)}`),
            `address[city]=${enc(city)}`,
          ].join('&');
          // Act
          const sent = await sentAndWritten('/forms', body, 'application/x-www-form-urlencoded');
          fc.pre(sent !== undefined);
          const { got, written } = sent as NonNullable<typeof sent>;
          // Assert
          expect(got.headers['content-type']).toBe(written.contentType);
          expect(got.bytes.equals(Buffer.from(written.content))).toBe(true);
          expect(verifyAsBackend(got)).toBeUndefined();
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('multipart: the bytes (binary files too), the Content-Type with its new boundary, a signature over them', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText(30),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 3 }),
        async (title, file, attachments) => {
          // Arrange
          const boundary = 'client-boundary-1234';
          const part = (headers: string, content: Uint8Array | string) =>
            Buffer.concat([
              Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
              Buffer.from(content),
              Buffer.from('\r\n'),
            ]);
          const body = Buffer.concat([
            part('Content-Disposition: form-data; name="title"', title),
            part(
              'Content-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream',
              file,
            ),
            ...attachments.map((a, i) =>
              part(`Content-Disposition: form-data; name="attachments"; filename="${i}.bin"`, a),
            ),
            Buffer.from(`--${boundary}--\r\n`),
          ]);
          // Act
          const sent = await sentAndWritten('/uploads', body, `multipart/form-data; boundary=${boundary}`);
          fc.pre(sent !== undefined);
          const { got, written } = sent as NonNullable<typeof sent>;
          // Assert: a new boundary, and exactly the bytes written for it.
          expect(got.headers['content-type']).toMatch(
            /^multipart\/form-data; boundary=gatehouse-[0-9a-f]{32}$/,
          );
          expect(got.headers['content-type']).toBe(written.contentType);
          expect(got.bytes.equals(Buffer.from(written.content))).toBe(true);
          expect(verifyAsBackend(got)).toBeUndefined();
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
