import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { VALIDATION } from '../../../shared/generated/validation-table.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import { RouteMatcher } from '../../../shared/routes/route-table.ts';
import type { UpstreamRequest, UpstreamResult } from '../../../shared/upstream/forward.ts';
import { createRequestValidator } from '../../../shared/validation/request-validator.ts';

const event = (name: string) =>
  JSON.parse(readFileSync(`events/request-validator/${name}.json`, 'utf8')) as unknown;

/** A validator whose backend is a fake that records requests and answers `result`. */
function validatorWith(result: UpstreamResult) {
  const sent: UpstreamRequest[] = [];
  const observer = memoryObserver();
  const handler = createRequestValidator({
    matcher: new RouteMatcher(ROUTES),
    table: VALIDATION,
    limits: { maxBytes: 10_000, maxDepth: 16 },
    forward: async (request) => {
      sent.push(request);
      return result;
    },
    responseValidation: 'off',
    observer,
  });
  return { handler, sent, observer };
}

const OK: UpstreamResult = {
  ok: true,
  status: 200,
  headers: [['content-type', 'application/json']],
  body: Buffer.from('{}'),
};

describe('createRequestValidator', () => {
  it('never calls the backend for an invalid request, and records the reason', async () => {
    // Arrange
    const { handler, sent, observer } = validatorWith(OK);
    // Act
    const response = await handler(event('rest-create-order-proto-key-400'));
    // Assert
    expect(response.statusCode).toBe(400);
    expect(sent).toEqual([]);
    expect(observer.decisions[0]).toMatchObject({
      effect: 'invalid',
      reason: 'json_forbidden_key',
      status: 400,
      route: 'POST /orders',
    });
  });

  it('logs refusals before a route is known without one', async () => {
    const { handler, observer } = validatorWith(OK);
    const response = await handler(event('rest-unknown-route-404'));
    expect(response.statusCode).toBe(404);
    expect(observer.decisions[0]).toMatchObject({
      effect: 'invalid',
      reason: 'route_not_found',
      route: undefined,
    });
  });

  it('forwards typed parameters and the re-serialized body', async () => {
    const { handler, sent } = validatorWith(OK);
    await handler(event('http-create-order-forwarded'));
    expect(sent[0]?.template).toBe('/orders');
    expect(sent[0]?.body?.text).toBe(
      JSON.stringify(JSON.parse((event('http-create-order-forwarded') as { body: string }).body)),
    );
    expect(sent[0]?.identity).toEqual({
      client: 'client-42',
      principal: 'client-42',
      scopes: 'orders:read orders:write orders:admin',
      bound: {},
    });
  });

  it.each([
    ['upstream_timeout', 504],
    ['upstream_unreachable', 502],
    ['upstream_response_too_large', 502],
    ['signing_secret_unavailable', 503],
  ] as const)('answers %s with %i problem+json', async (reason, status) => {
    const { handler, observer } = validatorWith({ ok: false, reason });
    const response = await handler(event('rest-get-order-forwarded'));
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({
      type: `https://gatehouse.dev/problems/${reason}`,
      title: expect.any(String),
      status,
    });
    expect(observer.decisions[0]).toMatchObject({ effect: 'error', reason });
  });

  it('passes binary or non-UTF-8 answers back base64-encoded, byte for byte', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28]);
    const { handler } = validatorWith({
      ok: true,
      status: 200,
      headers: [['content-type', 'application/json']],
      body: bytes,
    });
    const response = await handler(event('rest-get-order-forwarded'));
    expect(response.isBase64Encoded).toBe(true);
    expect(Buffer.from(response.body, 'base64')).toEqual(bytes);
  });

  it('returns each Set-Cookie in the field of the payload version', async () => {
    const result: UpstreamResult = {
      ok: true,
      status: 200,
      headers: [
        ['content-type', 'text/plain'],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ],
      body: Buffer.from('hi'),
    };
    const rest = await validatorWith(result).handler(event('rest-get-order-forwarded'));
    const http = await validatorWith(result).handler(event('http-get-order-forwarded'));
    expect(rest.multiValueHeaders).toEqual({ 'set-cookie': ['a=1', 'b=2'] });
    expect(http.cookies).toEqual(['a=1', 'b=2']);
    expect(http.body).toBe('hi');
  });
});
