// The request validator's hostile-input catalog (the hostile bodies of docs/request-validator.md and more). Pure factory
// with the generated validation table and a recording backend; a sample runs through the REAL
// built bundle against a loopback backend. A refused request never reaches the backend, and a
// problem never echoes the rejected value.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleUnderTest, startBundle } from './support/bundle.ts';
import {
  createOrderEvent,
  hostileValidator,
  VALID_ORDER,
  VALIDATOR_CONFIG,
} from './support/validator-harness.ts';

const order = (changes: Record<string, unknown>) => JSON.stringify({ ...VALID_ORDER, ...changes });
const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const MARKER = 'HOSTILE-MARKER-7f3a';

interface ValidatorCase {
  readonly name: string;
  readonly event: () => Record<string, unknown>;
  readonly expected: number;
}

const VALIDATOR_CASES: readonly ValidatorCase[] = [
  { name: 'control: valid order is forwarded', event: () => createOrderEvent(order({})), expected: 201 },
  {
    name: 'content type not declared (text/plain)',
    event: () => createOrderEvent(order({}), { contentType: 'text/plain' }),
    expected: 415,
  },
  {
    name: 'content type application/x-www-form-urlencoded',
    event: () => createOrderEvent('a=1', { contentType: 'application/x-www-form-urlencoded' }),
    expected: 415,
  },
  {
    name: 'no content type with a body',
    event: () => createOrderEvent(order({}), { contentType: null }),
    expected: 415,
  },
  { name: 'missing body', event: () => createOrderEvent(null), expected: 400 },
  {
    name: 'invalid UTF-8 (base64 body)',
    event: () => createOrderEvent('{"customer":"\xff\xfe"}', { base64: true }),
    expected: 400,
  },
  {
    name: 'byte-order mark before the JSON',
    event: () => createOrderEvent(`\ufeff${order({})}`),
    expected: 400,
  },
  {
    name: 'invalid base64 with isBase64Encoded',
    event: () => ({ ...createOrderEvent(order({})), body: '!!!not base64!!!', isBase64Encoded: true }),
    expected: 400,
  },
  {
    name: 'trailing garbage after the JSON',
    event: () => createOrderEvent(`${order({})} trailing`),
    expected: 400,
  },
  { name: 'two JSON documents', event: () => createOrderEvent(`${order({})}${order({})}`), expected: 400 },
  {
    name: 'body larger than MAX_BODY_BYTES',
    event: () => createOrderEvent(order({ tags: ['x'.repeat(VALIDATOR_CONFIG.maxBodyBytes)] })),
    expected: 413,
  },
  {
    name: 'body larger than MAX_BODY_BYTES after base64 decoding',
    event: () =>
      createOrderEvent(order({ tags: ['x'.repeat(VALIDATOR_CONFIG.maxBodyBytes)] }), { base64: true }),
    expected: 413,
  },
  {
    name: 'nesting 10,000 deep (no recursion blow-up)',
    event: () => createOrderEvent(nest(10_000)),
    expected: 400,
  },
  {
    name: 'nesting one past MAX_JSON_DEPTH',
    event: () => createOrderEvent(order({ tags: JSON.parse(nest(VALIDATOR_CONFIG.maxJsonDepth)) })),
    expected: 400,
  },
  {
    name: '__proto__ key at the top',
    event: () => createOrderEvent(order({}).replace('{', '{"__proto__":{"admin":true},')),
    expected: 400,
  },
  {
    name: '__proto__ key deep inside',
    event: () => createOrderEvent(order({}).replace('"unitPrice":{', '"unitPrice":{"__proto__":{"x":1},')),
    expected: 400,
  },
  {
    name: 'constructor key',
    event: () => createOrderEvent(order({}).replace('{', '{"constructor":{"prototype":{}},')),
    expected: 400,
  },
  {
    name: 'prototype key',
    event: () => createOrderEvent(order({}).replace('"shipping":{', '"shipping":{"prototype":1,')),
    expected: 400,
  },
  {
    name: 'escaped __proto__ key (\\u005f\\u005fproto\\u005f\\u005f)',
    event: () =>
      createOrderEvent(order({}).replace('{', '{"\\u005f\\u005fproto\\u005f\\u005f":{"admin":true},')),
    expected: 400,
  },
  {
    name: 'duplicate key at the top',
    event: () => createOrderEvent(order({}).replace('{', '{"tags":["a"],')),
    expected: 400,
  },
  {
    name: 'duplicate key written with an escape',
    event: () => createOrderEvent(order({}).replace('{', '{"t\\u0061gs":["a"],')),
    expected: 400,
  },
  {
    name: 'integer above the safe range',
    event: () => createOrderEvent(order({}).replace('"quantity":2', '"quantity":9007199254740993')),
    expected: 400,
  },
  {
    name: 'amount 1e400 (overflows to Infinity)',
    event: () => createOrderEvent(order({}).replace('"amount":2500', '"amount":1e400')),
    expected: 400,
  },
  {
    name: 'quantity as a string',
    event: () => createOrderEvent(order({}).replace('"quantity":2', '"quantity":"2"')),
    expected: 400,
  },
  {
    name: 'negative quantity',
    event: () => createOrderEvent(order({}).replace('"quantity":2', '"quantity":-5')),
    expected: 400,
  },
  {
    name: 'unknown top-level property (mass assignment: status)',
    event: () => createOrderEvent(order({ status: 'paid' })),
    expected: 400,
  },
  {
    name: 'unknown property: price override',
    event: () => createOrderEvent(order({ total: 0 })),
    expected: 400,
  },
  {
    name: `XSS payload in a string field is not echoed (${MARKER})`,
    event: () => createOrderEvent(order({ customer: { email: `<script>${MARKER}</script>`, name: 'x' } })),
    expected: 400,
  },
  {
    name: `SQL injection in a string field is not echoed (${MARKER})`,
    event: () => createOrderEvent(order({ customer: { email: `' OR 1=1 -- ${MARKER}`, name: 'x' } })),
    expected: 400,
  },
  { name: 'empty items array', event: () => createOrderEvent(order({ items: [] })), expected: 400 },
  { name: 'body is JSON null', event: () => createOrderEvent('null'), expected: 400 },
  { name: 'body is a JSON array', event: () => createOrderEvent('[]'), expected: 400 },
  { name: 'body is a bare string', event: () => createOrderEvent('"order"'), expected: 400 },
  {
    name: 'NaN literal',
    event: () => createOrderEvent(order({}).replace('"quantity":2', '"quantity":NaN')),
    expected: 400,
  },
  { name: 'single-quoted JSON', event: () => createOrderEvent(order({}).replace(/"/g, "'")), expected: 400 },
  {
    name: 'missing Idempotency-Key header',
    event: () => {
      const e = createOrderEvent(order({}));
      const h = { ...(e.headers as Record<string, string>) };
      delete h['Idempotency-Key'];
      return {
        ...e,
        headers: h,
        multiValueHeaders: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v]])),
      };
    },
    expected: 400,
  },
  {
    name: 'path traversal in the order id',
    event: () => ({
      ...createOrderEvent(null),
      httpMethod: 'GET',
      resource: '/orders/{id}',
      path: '/orders/..%2F..%2Fadmin',
      pathParameters: { id: '../../admin' },
    }),
    expected: 400,
  },
  {
    name: 'method not in the document (PATCH /orders)',
    event: () => ({ ...createOrderEvent(order({})), httpMethod: 'PATCH' }),
    expected: 405,
  },
  {
    name: 'route not in the document',
    event: () => ({ ...createOrderEvent(order({})), resource: '/admin', path: '/admin' }),
    expected: 404,
  },
];

describe('request validator hostile catalog (pure factory, generated validation table)', () => {
  it.each(VALIDATOR_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const v = hostileValidator();

    const response = await v.validate(c.event());

    expect(response.statusCode).toBe(c.expected);
    expect(v.forwarded.length).toBe(c.expected < 300 ? 1 : 0);
    if (c.expected >= 400) {
      expect(response.headers?.['content-type']).toBe('application/problem+json');
      expect(response.body).not.toContain(MARKER);
      expect(response.body).not.toContain('<script>');
    }
  });

  it('forwards the validated value re-serialized, never the raw bytes', async () => {
    const v = hostileValidator();
    const raw = `{ "customer" : ${JSON.stringify(VALID_ORDER.customer)} ,${order({})
      .slice(1)
      .replace(/"customer":\{[^}]*\},/, '')}`;

    await v.validate(createOrderEvent(raw));

    expect(v.forwarded[0]?.body?.text).toBe(JSON.stringify(JSON.parse(raw)));
    expect(v.forwarded[0]?.body?.text).not.toBe(raw);
  });
});

describe('request validator bundle sample (real built bundle, loopback backend)', () => {
  let backend: Server;
  let received = 0;
  let bundle: BundleUnderTest;
  beforeAll(async () => {
    backend = createServer((req, res) => {
      received++;
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    bundle = await startBundle('RequestValidatorFunction', {
      UPSTREAM_URL: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
      UPSTREAM_SIGNING_SECRET: 'hostile-suite-signing-secret-0123456789',
    });
  });
  afterAll(async () => {
    await bundle.close();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
  });

  const SAMPLE = VALIDATOR_CASES.filter((_c, i) => i % 4 === 0);
  it.each(SAMPLE.map((c) => [c.name, c] as const))('bundle: %s', async (_name, c) => {
    const before = received;

    const result = await bundle.runtime.invoke(c.event());

    expect(result.ok && (result.result as { statusCode: number }).statusCode).toBe(c.expected);
    expect(received - before).toBe(c.expected < 300 ? 1 : 0);
  });
});
