import { describe, expect, it } from 'vitest';
import { EXPLICIT_DENY_MESSAGE, gatewayResponse } from '../../../tools/gateway/gateway-responses.ts';
import type { GatewayResponseModel } from '../../../tools/gateway/model.ts';

const ctx = {
  requestId: 'req-1',
  path: '/orders',
  resourcePath: '/orders',
  httpMethod: 'GET',
  stage: 'v1',
  apiId: 'api',
};

describe('gatewayResponse', () => {
  it.each([
    ['UNAUTHORIZED', undefined, 401, '{"message":"Unauthorized"}'],
    ['ACCESS_DENIED', EXPLICIT_DENY_MESSAGE, 403, `{"Message":"${EXPLICIT_DENY_MESSAGE}"}`],
    ['AUTHORIZER_CONFIGURATION_ERROR', undefined, 500, '{"message":null}'],
    ['THROTTLED', undefined, 429, '{"message":"Too Many Requests"}'],
    ['QUOTA_EXCEEDED', undefined, 429, '{"message":"Limit Exceeded"}'],
    ['REQUEST_TOO_LARGE', undefined, 413, '{"message":"Request Too Long"}'],
    ['DEFAULT_5XX', undefined, 502, '{"message":"Internal server error"}'],
    ['MISSING_AUTHENTICATION_TOKEN', undefined, 403, '{"message":"Missing Authentication Token"}'],
  ] as const)('answers %s with API Gateway’s default body', (type, message, status, body) => {
    // Act
    const reply = gatewayResponse(type, {}, ctx, message);

    // Assert
    expect(reply.status).toBe(status);
    expect(reply.body).toBe(body);
    expect(reply.headers['content-type']).toBe('application/json');
  });

  it('applies the type’s override: status, headers (any case) and template with $context values', () => {
    // Arrange
    const override: GatewayResponseModel = {
      statusCode: 503,
      headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '5' },
      templates: {
        'application/json': '{"status":503,"detail":$context.error.messageString,"id":"$context.requestId"}',
      },
    };

    // Act
    const reply = gatewayResponse(
      'AUTHORIZER_CONFIGURATION_ERROR',
      { AUTHORIZER_CONFIGURATION_ERROR: override },
      ctx,
    );

    // Assert
    expect(reply.status).toBe(503);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.headers['retry-after']).toBe('5');
    expect(JSON.parse(reply.body)).toEqual({ status: 503, detail: null, id: 'req-1' });
  });

  it('falls back to DEFAULT_4XX for a 4xx type without its own override', () => {
    // Arrange
    const fallback: GatewayResponseModel = {
      statusCode: undefined,
      headers: {},
      templates: { 'application/json': '{"t":"$context.error.responseType"}' },
    };

    // Act
    const reply = gatewayResponse('THROTTLED', { DEFAULT_4XX: fallback }, ctx);

    // Assert
    expect(reply.status).toBe(429);
    expect(reply.body).toBe('{"t":"THROTTLED"}');
  });
});
