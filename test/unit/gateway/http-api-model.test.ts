import { describe, expect, it } from 'vitest';
import { readHttpApis } from '../../../tools/gateway/http-api-model.ts';
import { readApis } from '../../../tools/gateway/model.ts';
import { localStack } from '../../../tools/template/resolve.ts';
import { parseTemplate, TemplateError } from '../../../tools/template/template.ts';

const FN = `
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { EntryPoints: [a.ts] } }
    Properties:
      Handler: a.handler
      Events:
EOF_MARKER`;

function template(events: string, rest: string): ReturnType<typeof parseTemplate> {
  return parseTemplate(`Resources:\n${FN.replace('EOF_MARKER', events)}\n${rest}`);
}

const stackOf = (t: ReturnType<typeof parseTemplate>) => localStack(t, {}, { resourceRef: (id) => id });

describe('readHttpApis', () => {
  it('reads routes with their keys, authorizers, payload formats and throttles', () => {
    // Arrange
    const t = template(
      `        List: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /orders, Method: get } }
        Any: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: '/{proxy+}', Method: ANY, PayloadFormatVersion: '1.0', Auth: { Authorizer: NONE } } }
        Fallback: { Type: HttpApi, Properties: { ApiId: !Ref Api, RouteSettings: { ThrottlingBurstLimit: 5 } } }`,
      `  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }
      Auth:
        DefaultAuthorizer: Lambda
        Authorizers:
          Lambda:
            FunctionArn: !GetAtt Fn.Arn
            AuthorizerPayloadFormatVersion: '2.0'
            EnableSimpleResponses: true
            Identity: { Headers: [Authorization], Context: [routeKey], ReauthorizeEvery: 60 }`,
    );

    // Act
    const [api] = readHttpApis(t, stackOf(t));

    // Assert
    expect(api?.stageName).toBe('$default');
    expect(api?.routes.map((r) => [r.routeKey, r.authorizer, r.payloadFormat, r.throttle])).toEqual([
      ['GET /orders', 'Lambda', '2.0', { rateLimit: 10, burstLimit: 20 }],
      ['ANY /{proxy+}', undefined, '1.0', { rateLimit: 10, burstLimit: 20 }],
      ['$default', 'Lambda', '2.0', { rateLimit: 10, burstLimit: 5 }],
    ]);
    expect(api?.authorizers.Lambda).toEqual({
      name: 'Lambda',
      functionLogicalId: 'Fn',
      payloadFormat: '2.0',
      simpleResponses: true,
      identitySources: [
        { kind: 'header', name: 'Authorization' },
        { kind: 'context', name: 'routeKey' },
      ],
      ttlSeconds: 60,
    });
  });

  it('serves events without ApiId on SAM’s implicit ServerlessHttpApi', () => {
    // Arrange
    const t = template(`        Get: { Type: HttpApi, Properties: { Path: /x, Method: GET } }`, '');

    // Act
    const apis = readHttpApis(t, stackOf(t));

    // Assert
    expect(apis.map((a) => [a.logicalId, a.routes.map((r) => r.routeKey)])).toEqual([
      ['ServerlessHttpApi', ['GET /x']],
    ]);
  });

  it.each([
    [
      'a JWT authorizer',
      `      Auth: { Authorizers: { Jwt: { JwtConfiguration: { issuer: x, audience: [y] }, IdentitySource: $request.header.Authorization } } }`,
      /Api\.Auth\.Authorizers\.Jwt: JWT \(OAuth2\) authorizers/,
    ],
    [
      'a cached authorizer without ReauthorizeEvery',
      `      Auth: { Authorizers: { L: { FunctionArn: !GetAtt Fn.Arn, AuthorizerPayloadFormatVersion: '2.0', Identity: { Headers: [a] } } } }`,
      /Api\.Auth\.Authorizers\.L\.Identity\.ReauthorizeEvery must be set/,
    ],
    [
      'simple responses with payload 1.0',
      `      Auth: { Authorizers: { L: { FunctionArn: !GetAtt Fn.Arn, AuthorizerPayloadFormatVersion: '1.0', EnableSimpleResponses: true } } }`,
      /EnableSimpleResponses needs AuthorizerPayloadFormatVersion 2\.0/,
    ],
    [
      'a DefinitionBody',
      `      DefinitionBody: { openapi: '3.0' }`,
      /Api: DefinitionBody\/DefinitionUri are not served/,
    ],
    ['an unknown property', `      Mystery: true`, /Api: Mystery is not emulated by the local gateway/],
  ])('refuses %s, naming the resource and the property', (_name, props, message) => {
    // Arrange
    const t = template(
      `        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /x, Method: GET } }`,
      `  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n${props}`,
    );

    // Act / Assert
    expect(() => readHttpApis(t, stackOf(t))).toThrow(message);
  });

  it('refuses a usage plan attached to an HTTP API: HTTP APIs have no usage plans or API keys', () => {
    // Arrange
    const t = template(
      `        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /x, Method: GET } }`,
      `  Api:
    Type: AWS::Serverless::HttpApi
  Plan:
    Type: AWS::ApiGateway::UsagePlan
    Properties: { ApiStages: [{ ApiId: !Ref Api, Stage: v1 }] }`,
    );

    // Act / Assert
    expect(() => readHttpApis(t, stackOf(t))).toThrow(
      /Plan: usage plans \(and API keys\) exist only for REST APIs/,
    );
  });
});

describe('resources attached to a served API', () => {
  it('refuses an explicit AWS::ApiGateway::Method on a REST API', () => {
    // Arrange
    const t = template(
      `        Get: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: GET } }`,
      `  Api:
    Type: AWS::Serverless::Api
    Properties: { StageName: v1 }
  Extra:
    Type: AWS::ApiGateway::Method
    Properties: { RestApiId: !Ref Api, HttpMethod: GET, ResourceId: r, AuthorizationType: NONE }`,
    );

    // Act / Assert
    expect(() => readApis(t, stackOf(t))).toThrow(
      'Extra: AWS::ApiGateway::Method attached to Api is not emulated',
    );
  });

  it('refuses a WAF association with an HTTP API', () => {
    // Arrange
    const t = template(
      `        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /x, Method: GET } }`,
      `  Api:
    Type: AWS::Serverless::HttpApi
  Waf:
    Type: AWS::WAFv2::WebACLAssociation
    Properties: { WebACLArn: arn, ResourceArn: !Sub 'arn:aws:apigateway:us-east-1::/apis/\${Api}/stages/$default' }`,
    );

    // Act / Assert
    expect(() => readHttpApis(t, stackOf(t))).toThrow(
      'Waf: AWS WAF cannot be associated with an HTTP API (Api)',
    );
  });
});

describe('readApis refusals', () => {
  it.each([
    [
      'a Cognito authorizer',
      `      Auth: { Authorizers: { Pool: { UserPoolArn: arn:aws:cognito-idp:x } } }`,
      /Api\.Auth\.Authorizers\.Pool: Amazon Cognito authorizers are not emulated/,
    ],
    [
      'the API cache',
      `      CacheClusterEnabled: true`,
      /Api\.CacheClusterEnabled: the API cache is not emulated/,
    ],
    [
      'a response compression threshold',
      `      MinimumCompressionSize: 1024`,
      /Api: MinimumCompressionSize is not emulated/,
    ],
    [
      'a resource policy with VPC endpoint lists',
      `      Auth: { ResourcePolicy: { SourceVpcWhitelist: [vpce-1] } }`,
      /Api\.Auth\.ResourcePolicy: SourceVpcWhitelist not emulated/,
    ],
  ])('refuses %s, naming the resource and the property', (_name, props, message) => {
    // Arrange
    const t = template(
      `        Get: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: GET } }`,
      `  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n${props}`,
    );

    // Act / Assert
    expect(() => readApis(t, stackOf(t))).toThrow(message);
  });

  it('serves an API whose execute-api endpoint is disabled, and says that AWS would not', () => {
    // Arrange
    const t = template(
      `        List: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /orders, Method: get } }`,
      `  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      DisableExecuteApiEndpoint: true`,
    );

    // Act
    const [api] = readHttpApis(t, stackOf(t));

    // Assert
    expect(api?.notes).toEqual([
      'Api.DisableExecuteApiEndpoint: in AWS the API answers only through a custom domain (none: not at all); served on loopback anyway',
    ]);
  });

  it('serves an API with an endpoint access mode, and says that its TLS checks are not emulated', () => {
    // Arrange
    const t = template(
      `        Get: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: GET } }`,
      `  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n      EndpointAccessMode: STRICT`,
    );

    // Act
    const [api] = readApis(t, stackOf(t));

    // Assert
    expect(api?.notes).toEqual([
      'Api.EndpointAccessMode STRICT: its TLS checks (SNI matching the Host header, the endpoint type) are not emulated; the local gateway serves plain HTTP',
    ]);
  });

  it('reads stage variables, CORS preflight methods, request validation and per-method usage plan throttles', () => {
    // Arrange
    const t = template(
      `        Get: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: GET } }
        Post:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /x
            Method: POST
            TimeoutInMillis: 1000
            RequestModel: { Model: M, ValidateBody: true }
            RequestParameters: [{ method.request.header.X-Id: { Required: true } }]`,
      `  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Variables: { tier: gold }
      Cors: "'https://a.example'"
      Models: { M: { type: object } }
  Plan:
    Type: AWS::ApiGateway::UsagePlan
    Properties: { ApiStages: [{ ApiId: !Ref Api, Stage: !Ref Api.Stage, Throttle: { /x/POST: { RateLimit: 2, BurstLimit: 3 } } }] }`,
    );

    // Act
    const [api] = readApis(t, stackOf(t));

    // Assert
    expect(api?.stageVariables).toEqual({ tier: 'gold' });
    expect(api?.routes.find((r) => r.method === 'OPTIONS')?.preflight).toEqual({
      allowMethods: 'GET,OPTIONS,POST',
    });
    expect(api?.routes.find((r) => r.method === 'POST')).toMatchObject({
      timeoutMs: 1000,
      requestModel: 'M',
      validateBody: true,
      validateParameters: false,
      requestParameters: [{ location: 'header', name: 'X-Id', required: true }],
    });
    expect(api?.usagePlans[0]?.methodThrottles).toEqual({ '/x/POST': { rateLimit: 2, burstLimit: 3 } });
  });

  it('refuses an integration timeout above API Gateway’s 29 s', () => {
    // Arrange
    const t = template(
      `        Get: { Type: Api, Properties: { RestApiId: !Ref Api, Path: /x, Method: GET, TimeoutInMillis: 30000 } }`,
      `  Api:\n    Type: AWS::Serverless::Api\n    Properties: { StageName: v1 }`,
    );

    // Act / Assert
    expect(() => readApis(t, stackOf(t))).toThrow(TemplateError);
  });
});
