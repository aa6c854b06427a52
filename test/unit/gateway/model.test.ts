import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeGlobals, methodThrottleFor, readApis } from '../../../tools/gateway/model.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { resolveParameters } from '../../../tools/template/resolve.ts';
import { loadTemplate, parseTemplate } from '../../../tools/template/template.ts';

function apisOf(template: ReturnType<typeof loadTemplate>, overrides: Record<string, string> = {}) {
  return readApis(template, {
    template,
    parameters: resolveParameters(template, overrides),
    region: 'us-east-1',
    accountId: '123456789012',
    stackName: 'gatehouse-local',
    resourceRef: (id) => id,
  });
}

describe('readApis on template.yaml', () => {
  const template = loadTemplate(resolve(PROJECT_ROOT, 'template.yaml'));

  it('reads OrdersApi with the JWT TOKEN authorizer, its expression and the TTL parameter', () => {
    // Act
    const orders = apisOf(template, { AuthorizerCacheTtlSeconds: '42' }).find(
      (a) => a.logicalId === 'OrdersApi',
    );

    // Assert
    expect(orders?.authorizers.JwtAuthorizer).toMatchObject({
      type: 'TOKEN',
      functionLogicalId: 'JwtAuthorizerFunction',
      identitySources: [{ kind: 'header', name: 'Authorization' }],
      ttlSeconds: 42,
    });
    expect(orders?.authorizers.JwtAuthorizer?.validationExpression?.test('Bearer a.b.c')).toBe(true);
    expect(orders?.routes.find((r) => r.path === '/health')?.authorizer).toBeUndefined();
    expect(orders?.routes.find((r) => r.method === 'DELETE')).toMatchObject({
      path: '/orders/{id}',
      authorizer: 'JwtAuthorizer',
      functionLogicalId: 'RequestValidatorFunction',
    });
  });

  it('reads the API first in template order first (it gets --port)', () => {
    // Act
    const ids = apisOf(template).map((a) => a.logicalId);

    // Assert
    expect(ids[0]).toBe('OrdersApi');
  });
});

describe('readApis on a small template', () => {
  const template = parseTemplate(`
Resources:
  Auth:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { EntryPoints: [a.ts] } }
    Properties: { Handler: handler.handler }
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { EntryPoints: [b.ts] } }
    Properties:
      Handler: handler.handler
      Events:
        List: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /orders, Method: get } }
        Create: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /orders, Method: post, Auth: { ApiKeyRequired: false } } }
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      ApiKeySourceType: AUTHORIZER
      MethodSettings:
        - { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }
        - { ResourcePath: '/~1orders', HttpMethod: POST, ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 }
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: 401
          ResponseParameters: { Headers: { Content-Type: "'application/problem+json'" } }
          ResponseTemplates: { application/json: '{"detail":$context.error.messageString}' }
      Auth:
        DefaultAuthorizer: Keys
        ApiKeyRequired: true
        Authorizers:
          Keys:
            FunctionArn: !GetAtt Auth.Arn
            FunctionPayloadType: REQUEST
            Identity: { Headers: [x-api-key], ReauthorizeEvery: 60 }
  Plan:
    Type: AWS::ApiGateway::UsagePlan
    Properties:
      ApiStages: [{ ApiId: !Ref Api, Stage: !Ref Api.Stage }]
      Throttle: { RateLimit: 1, BurstLimit: 2 }
      Quota: { Limit: 100, Period: WEEK }
  Key:
    Type: AWS::ApiGateway::ApiKey
    Properties: { Enabled: true, Value: tier-key-value }
  PlanKey:
    Type: AWS::ApiGateway::UsagePlanKey
    Properties: { KeyId: !Ref Key, KeyType: API_KEY, UsagePlanId: !Ref Plan }
  Response:
    Type: AWS::ApiGateway::GatewayResponse
    Properties:
      RestApiId: !Ref Api
      ResponseType: THROTTLED
      StatusCode: '429'
      ResponseParameters: { gatewayresponse.header.Retry-After: "'1'" }
`);

  it('reads REQUEST identity sources, API keys, usage plans and gateway responses', () => {
    // Act
    const [api] = apisOf(template);

    // Assert
    expect(api?.apiKeySource).toBe('AUTHORIZER');
    expect(api?.authorizers.Keys).toMatchObject({
      type: 'REQUEST',
      identitySources: [{ kind: 'header', name: 'x-api-key' }],
      ttlSeconds: 60,
    });
    expect(api?.routes.map((r) => [r.method, r.apiKeyRequired])).toEqual([
      ['GET', true],
      ['POST', false],
    ]);
    expect(api?.usagePlans).toEqual([
      {
        id: 'Plan',
        throttle: { rateLimit: 1, burstLimit: 2 },
        quota: { limit: 100, period: 'WEEK', offset: 0 },
        keyValues: ['tier-key-value'],
      },
    ]);
    expect(api?.gatewayResponses.UNAUTHORIZED?.headers).toEqual({
      'Content-Type': { kind: 'literal', value: 'application/problem+json' },
    });
    expect(api?.gatewayResponses.THROTTLED).toMatchObject({
      statusCode: 429,
      headers: { 'Retry-After': { kind: 'literal', value: '1' } },
    });
  });

  it('picks the most specific MethodSettings throttle for a route', () => {
    // Arrange
    const [api] = apisOf(template);
    const routes = api?.routes ?? [];

    // Act
    const list = methodThrottleFor(api as NonNullable<typeof api>, routes[0] as (typeof routes)[0]);
    const create = methodThrottleFor(api as NonNullable<typeof api>, routes[1] as (typeof routes)[0]);

    // Assert
    expect(list?.throttle).toEqual({ rateLimit: 100, burstLimit: 200 });
    expect(create?.throttle).toEqual({ rateLimit: 5, burstLimit: 10 });
  });
});

describe('mergeGlobals', () => {
  it('merges maps, appends lists and lets the resource’s scalars and intrinsics win', () => {
    // Arrange
    const globals = {
      TracingEnabled: true,
      MethodSettings: [{ a: 1 }],
      GatewayResponses: { A: { StatusCode: 401 } },
      Name: { Ref: 'X' },
    };
    const own = {
      TracingEnabled: false,
      MethodSettings: [{ b: 2 }],
      GatewayResponses: { B: { StatusCode: 403 } },
      Name: { 'Fn::Sub': 'y' },
    };

    // Act
    const merged = mergeGlobals(globals, own);

    // Assert
    expect(merged).toEqual({
      TracingEnabled: false,
      MethodSettings: [{ a: 1 }, { b: 2 }],
      GatewayResponses: { A: { StatusCode: 401 }, B: { StatusCode: 403 } },
      Name: { 'Fn::Sub': 'y' },
    });
  });
});
