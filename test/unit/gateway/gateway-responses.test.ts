import { describe, expect, it } from 'vitest';
import {
  EXPLICIT_DENY_MESSAGE,
  type GatewayResponseModel,
  gatewayResponse,
  parseMappingValue,
  type ResponseContext,
  readGatewayResponse,
} from '../../../tools/gateway/gateway-responses.ts';
import { TemplateError } from '../../../tools/template/template.ts';

const ctx: ResponseContext = {
  variables: {
    requestId: 'req-1',
    path: '/v1/orders',
    resourcePath: '/orders',
    httpMethod: 'GET',
    stage: 'v1',
    apiId: 'api',
    'identity.sourceIp': '203.0.113.9',
    'authorizer.tenant': 'acme',
  },
  stageVariables: { region: 'eu' },
  requestParameter: (location, name) =>
    location === 'header' && name.toLowerCase() === 'x-correlation-id'
      ? 'corr-7'
      : location === 'querystring' && name === 'q'
        ? 'shoes'
        : undefined,
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
    ['BAD_REQUEST_BODY', undefined, 400, '{"message":"Invalid request body"}'],
    ['INTEGRATION_TIMEOUT', undefined, 504, '{"message":"Endpoint request timed out"}'],
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
    const override = readGatewayResponse('Api.GatewayResponses.AUTHORIZER_CONFIGURATION_ERROR', {
      StatusCode: 503,
      ResponseParameters: { Headers: { 'Content-Type': "'application/problem+json'", 'Retry-After': "'5'" } },
      ResponseTemplates: {
        'application/json': '{"status":503,"detail":$context.error.messageString,"id":"$context.requestId"}',
      },
    });

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

  it('evaluates method.request, context and stageVariables header mappings instead of sending them literally', () => {
    // Arrange
    const override = readGatewayResponse('Api.GatewayResponses.UNAUTHORIZED', {
      ResponseParameters: {
        'gatewayresponse.header.X-Correlation-Id': 'method.request.header.x-correlation-id',
        'gatewayresponse.header.X-Query': 'method.request.querystring.q',
        'gatewayresponse.header.X-Tenant': 'context.authorizer.tenant',
        'gatewayresponse.header.X-Source': 'context.identity.sourceIp',
        'gatewayresponse.header.X-Region': 'stageVariables.region',
        'gatewayresponse.header.X-Absent': 'method.request.header.x-not-sent',
      },
      ResponseTemplates: {
        'application/json':
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an API Gateway reference, not a JS placeholder
          '{"path":"$context.path","tenant":"$context.authorizer.tenant","region":"${stageVariables.region}"}',
      },
    });

    // Act
    const reply = gatewayResponse('UNAUTHORIZED', { UNAUTHORIZED: override }, ctx);

    // Assert
    expect(reply.headers).toMatchObject({
      'x-correlation-id': 'corr-7',
      'x-query': 'shoes',
      'x-tenant': 'acme',
      'x-source': '203.0.113.9',
      'x-region': 'eu',
    });
    expect(reply.headers['x-absent']).toBeUndefined();
    expect(JSON.parse(reply.body)).toEqual({ path: '/v1/orders', tenant: 'acme', region: 'eu' });
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

describe('reading gateway responses', () => {
  it.each([
    ['an unquoted literal', 'application/json'],
    ['an unknown source', 'integration.response.header.x'],
    ['an unknown context variable', 'context.nonsense'],
  ])('refuses %s in a header mapping, naming where', (_name, value) => {
    // Act / Assert
    expect(() => parseMappingValue('OrdersApi.GatewayResponses.UNAUTHORIZED.Headers.X', value)).toThrow(
      /OrdersApi\.GatewayResponses\.UNAUTHORIZED\.Headers\.X/,
    );
  });

  it('refuses a template using a $context variable the gateway does not know', () => {
    // Act / Assert
    expect(() =>
      readGatewayResponse('OrdersApi.GatewayResponses.DEFAULT_4XX', {
        ResponseTemplates: { 'application/json': '{"x":"$context.notAVariable"}' },
      }),
    ).toThrow(TemplateError);
  });
});
