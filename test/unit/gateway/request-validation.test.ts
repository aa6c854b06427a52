import { describe, expect, it } from 'vitest';
import type { ApiModel, RouteModel } from '../../../tools/gateway/model.ts';
import { createRequestValidator } from '../../../tools/gateway/request-validation.ts';
import { TemplateError } from '../../../tools/template/template.ts';

const route: RouteModel = {
  eventName: 'Create',
  method: 'POST',
  path: '/items/{id}',
  functionLogicalId: 'Fn',
  authorizer: undefined,
  apiKeyRequired: false,
  requestModel: 'Item',
  requestModelRequired: true,
  validateBody: true,
  validateParameters: true,
  requestParameters: [
    { location: 'header', name: 'X-Request-Id', required: true },
    { location: 'querystring', name: 'mode', required: true },
    { location: 'querystring', name: 'optional', required: false },
  ],
};

const api = (schema: unknown): ApiModel => ({
  logicalId: 'Api',
  stageName: 'v1',
  apiKeySource: 'HEADER',
  routes: [route],
  authorizers: {},
  usagePlans: [],
  gatewayResponses: {},
  binaryMediaTypes: [],
  methodThrottles: [],
  resourcePolicy: undefined,
  models: { Item: schema },
});

const ITEM = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' } },
};
const request = (over: { headers?: string[]; query?: string; body?: string } = {}) => ({
  rawHeaders: over.headers ?? ['X-Request-Id', 'r-1', 'Content-Type', 'application/json'],
  query: over.query ?? 'mode=a',
  pathParameters: { id: '1' },
  body: Buffer.from(over.body ?? '{"name":"x"}'),
});

describe('createRequestValidator', () => {
  const validator = createRequestValidator(api(ITEM));

  it('passes a request with its required parameters and a body matching the model', () => {
    // Act / Assert
    expect(validator.validate(route, request())).toBeUndefined();
  });

  it.each([
    [
      'a missing header',
      { headers: ['Content-Type', 'application/json'] },
      'Missing required request parameters: [X-Request-Id]',
    ],
    ['a blank query value', { query: 'mode=%20' }, 'Missing required request parameters: [mode]'],
    ['both', { headers: [], query: '' }, 'Missing required request parameters: [X-Request-Id, mode]'],
  ])('refuses %s with BAD_REQUEST_PARAMETERS', (_name, over, message) => {
    // Act / Assert
    expect(validator.validate(route, request(over))).toEqual({ type: 'BAD_REQUEST_PARAMETERS', message });
  });

  it.each([
    ['a body missing a required property', '{"label":"x"}'],
    ['a body that is not JSON', '{"name":'],
    ['an empty body when the model is required', ''],
  ])('refuses %s with BAD_REQUEST_BODY', (_name, body) => {
    // Act / Assert
    expect(validator.validate(route, request({ body }))).toMatchObject({
      type: 'BAD_REQUEST_BODY',
      message: 'Invalid request body',
    });
  });

  it('does not validate a content type the model does not cover (API Gateway passes it through)', () => {
    // Act / Assert
    expect(
      validator.validate(
        route,
        request({ headers: ['X-Request-Id', 'r', 'Content-Type', 'text/plain'], body: 'plain' }),
      ),
    ).toBeUndefined();
  });

  it('refuses at start-up a draft-04 schema it would read differently (boolean exclusiveMaximum)', () => {
    // Act / Assert
    expect(() =>
      createRequestValidator(api({ type: 'number', maximum: 10, exclusiveMaximum: true })),
    ).toThrow(TemplateError);
  });
});
