import { describe, expect, it } from 'vitest';
import { checkOpenApi } from '../../../tools/openapi/document.ts';
import { gatewayOperations } from '../../../tools/openapi/gateway-operations.ts';
import { routeTable } from '../../../tools/openapi/routes.ts';
import { parseTemplate, TemplateError } from '../../../tools/template/template.ts';
import {
  LIMITS,
  permissionStatementBytes,
  planTemplateRoutes,
  type RoutingContext,
  routingContext,
  type ServedApi,
  servedApis,
} from '../../../tools/template/template-routes.ts';

const SCHEMES = {
  oauth2: {
    type: 'oauth2',
    flows: { clientCredentials: { tokenUrl: 'https://idp.example.com/token', scopes: { 'a:read': 'r' } } },
  },
  sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' },
};

/** The gateway operations of a document with one operation per entry (`METHOD /path`). */
function ops(entries: Record<string, Record<string, unknown>>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(entries)) {
    const [method, path] = key.split(' ') as [string, string];
    paths[path] = {
      ...paths[path],
      [method.toLowerCase()]: { responses: { '200': { description: 'ok' } }, ...op },
    };
  }
  const doc = checkOpenApi(
    {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      security: [{ oauth2: ['a:read'] }],
      components: { securitySchemes: SCHEMES },
      paths,
    },
    'doc.yaml',
  );
  return gatewayOperations(doc, routeTable(doc));
}

const api = (logicalId: string, over: Partial<ServedApi> = {}): ServedApi => ({
  logicalId,
  kind: 'rest',
  functionId: 'Validator',
  eventPrefix: '',
  defaultAuthorizer: 'Jwt',
  apiKeyRequired: false,
  apiKeySource: 'HEADER',
  iamAuthorizer: false,
  awsIamRoutes: true,
  ...over,
});

const FOUR = [
  api('Rest'),
  api('KeyRest', {
    eventPrefix: 'Key',
    defaultAuthorizer: 'Key',
    apiKeyRequired: true,
    apiKeySource: 'AUTHORIZER',
  }),
  api('Http', { kind: 'http', eventPrefix: 'Http', iamAuthorizer: true }),
  api('KeyHttp', { kind: 'http', eventPrefix: 'KeyHttp', defaultAuthorizer: 'Key', iamAuthorizer: true }),
];

const CONTEXT: RoutingContext = {
  parameters: new Set(['WriteThrottlingRateLimit', 'WriteThrottlingBurstLimit']),
  otherPermissionBytes: {},
  otherEventNames: {},
};

const DEMO = {
  'GET /health': { operationId: 'getHealth', security: [] },
  'GET /orders': { operationId: 'listOrders' },
  'POST /orders': { operationId: 'createOrder', 'x-gatehouse-throttle': 'write' },
  'GET /orders/{id}': { operationId: 'getOrder' },
  'POST /internal/reindex': { operationId: 'reindex', security: [{ sigv4: [] }] },
};

/** Events as `API name METHOD path authorization [key optional] [throttle]`. */
const lines = (routing: ReturnType<typeof planTemplateRoutes>) =>
  routing.events.map((e) =>
    [
      e.api.logicalId,
      e.name,
      e.method,
      e.path,
      e.authorization,
      e.apiKeyOptional ? 'keyless' : '',
      e.throttle ?? '',
    ]
      .filter(Boolean)
      .join(' '),
  );

describe('planTemplateRoutes: one event per operation', () => {
  it('routes every operation on every API: public → NONE, SigV4 → AWS_IAM, else the default authorizer', () => {
    // Act
    const routing = planTemplateRoutes(ops(DEMO), FOUR, CONTEXT);
    // Assert
    expect(routing.layout).toBe('operations');
    expect(lines(routing)).toEqual([
      'Rest GetHealth GET /health public',
      'Rest ListOrders GET /orders authorizer',
      'Rest CreateOrder POST /orders authorizer write',
      'Rest GetOrder GET /orders/{id} authorizer',
      'Rest Reindex POST /internal/reindex aws_iam',
      // The key API requires keys, which only its authorizer supplies (key source AUTHORIZER).
      'KeyRest KeyGetHealth GET /health public keyless',
      'KeyRest KeyListOrders GET /orders authorizer',
      'KeyRest KeyCreateOrder POST /orders authorizer write',
      'KeyRest KeyGetOrder GET /orders/{id} authorizer',
      'KeyRest KeyReindex POST /internal/reindex aws_iam keyless',
      'Http HttpGetHealth GET /health public',
      'Http HttpListOrders GET /orders authorizer',
      'Http HttpCreateOrder POST /orders authorizer write',
      'Http HttpGetOrder GET /orders/{id} authorizer',
      'Http HttpReindex POST /internal/reindex aws_iam',
      'KeyHttp KeyHttpGetHealth GET /health public',
      'KeyHttp KeyHttpListOrders GET /orders authorizer',
      'KeyHttp KeyHttpCreateOrder POST /orders authorizer write',
      'KeyHttp KeyHttpGetOrder GET /orders/{id} authorizer',
      'KeyHttp KeyHttpReindex POST /internal/reindex aws_iam',
    ]);
    expect(routing.publicResources).toEqual(['GET/health']);
  });

  it('keeps the API key on SigV4 routes of an API whose keys come from the x-api-key header', () => {
    const routing = planTemplateRoutes(ops(DEMO), [api('KeyRest', { apiKeyRequired: true })], CONTEXT);
    expect(lines(routing).filter((l) => l.includes('aws_iam') || l.includes('public'))).toEqual([
      'KeyRest GetHealth GET /health public keyless',
      'KeyRest Reindex POST /internal/reindex aws_iam',
    ]);
  });

  it('leaves SigV4 operations off the APIs marked AwsIamRoutes: false, which then need no IAM authorizer', () => {
    // Arrange: only the first REST API takes the SigV4 operation; the HTTP API cannot have IAM routes.
    const apis = [
      api('Rest'),
      api('KeyRest', { eventPrefix: 'Key', awsIamRoutes: false }),
      api('Http', { kind: 'http', eventPrefix: 'Http', awsIamRoutes: false }),
    ];
    // Act
    const routing = planTemplateRoutes(ops(DEMO), apis, CONTEXT);
    // Assert
    expect(lines(routing).filter((l) => l.includes('Reindex'))).toEqual([
      'Rest Reindex POST /internal/reindex aws_iam',
    ]);
    expect(lines(routing).filter((l) => l.includes('GetOrder'))).toEqual([
      'Rest GetOrder GET /orders/{id} authorizer',
      'KeyRest KeyGetOrder GET /orders/{id} authorizer',
      'Http HttpGetOrder GET /orders/{id} authorizer',
    ]);
    // The function's policy counts the events that exist: one SigV4 statement, not three.
    const everywhere = planTemplateRoutes(
      ops(DEMO),
      apis.map((a) => ({ ...a, awsIamRoutes: true, iamAuthorizer: true })),
      CONTEXT,
    );
    expect(
      (everywhere.figures.lambdaPolicyBytes.Validator as number) -
        (routing.figures.lambdaPolicyBytes.Validator as number),
    ).toBe(2 * permissionStatementBytes('POST', '/internal/reindex'));
    expect(routing.figures.restResources.KeyRest).toBe(4);
  });

  it('keeps every event name when an operation is added or removed (names come from operationIds)', () => {
    const before = planTemplateRoutes(ops(DEMO), FOUR, CONTEXT).events.map((e) => e.name);
    const added = planTemplateRoutes(
      ops({ 'GET /a': { operationId: 'getA' }, ...DEMO }),
      FOUR,
      CONTEXT,
    ).events;
    expect(added.map((e) => e.name).filter((n) => !n.endsWith('GetA'))).toEqual(before);
  });

  it('names events by letters and digits, unique and at most 120 characters, around names already taken', () => {
    const long = `get${'Very'.repeat(40)}Long`;
    const routing = planTemplateRoutes(
      ops({
        'GET /a': { operationId: 'repos/get-content' },
        'GET /b': { operationId: 'repos-get-content' },
        'GET /c': { operationId: long },
        'GET /d': { operationId: 'taken' },
      }),
      [api('Rest')],
      { ...CONTEXT, otherEventNames: { Validator: ['Taken'] } },
    );
    const names = routing.events.map((e) => e.name);
    expect(names[0]).toBe('ReposGetContent');
    expect(names[1]).toMatch(/^ReposGetContent[0-9a-f]{8}$/);
    expect(names[2]).toHaveLength(120);
    expect(names[3]).toMatch(/^Taken[0-9a-f]{8}$/);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('serves several :verb operations of one API Gateway method with one event', () => {
    const routing = planTemplateRoutes(
      ops({
        'POST /v1/{name}:predict': { operationId: 'predict' },
        'POST /v1/{name}:explain': { operationId: 'explain' },
      }),
      [api('Rest')],
      CONTEXT,
    );
    expect(routing.events.map((e) => [e.name, e.path, e.operationIds])).toEqual([
      ['Predict', '/v1/{name}', ['predict', 'explain']],
    ]);
  });
});

describe('planTemplateRoutes: one {proxy+} route per API when one event per operation fails', () => {
  it('falls back when API Gateway would refuse the resources (two variables under one resource)', () => {
    // Arrange: GitHub has /repos/{owner}/{repo} beside /repos/{template_owner}/{template_repo}/generate.
    const document = ops({
      'GET /': { operationId: 'root' },
      'GET /health': { operationId: 'getHealth', security: [] },
      'GET /repos/{owner}/{repo}': { operationId: 'getRepo' },
      'POST /repos/{template_owner}/{template_repo}/generate': { operationId: 'generate' },
      'DELETE /repos/{owner}/{repo}': { operationId: 'deleteRepo', 'x-gatehouse-throttle': 'write' },
      'POST /internal/reindex': { operationId: 'reindex', security: [{ sigv4: [] }] },
    });
    // Act
    const routing = planTemplateRoutes(document, [FOUR[1] as ServedApi], CONTEXT);
    // Assert
    expect(routing.layout).toBe('proxy');
    expect(routing.reasons.join(' ')).toMatch(/two variable children, \{owner\} and \{template_owner\}/);
    // Operations that need another authorization or a throttle keep an event, with every method of
    // their path (the proxy never sees that resource); the rest goes through the authorizer.
    expect(lines(routing)).toEqual([
      'KeyRest KeyGetHealth GET /health public keyless',
      'KeyRest KeyGetRepo GET /repos/{owner}/{repo} authorizer',
      'KeyRest KeyDeleteRepo DELETE /repos/{owner}/{repo} authorizer write',
      'KeyRest KeyReindex POST /internal/reindex aws_iam keyless',
      'KeyRest KeyDocumentRoot ANY / authorizer',
      'KeyRest KeyDocumentProxy ANY /{proxy+} authorizer',
    ]);
    expect(routing.publicResources).toEqual(['GET/health']);
  });

  it('falls back when one event per operation would overflow the function’s policy (Lambda’s 20 KB)', () => {
    // Arrange: 60 operations on four APIs are 240 permission statements.
    const many: Record<string, Record<string, unknown>> = {};
    for (let i = 0; i < 60; i++) many[`GET /items${i}/{id}`] = { operationId: `getItem${i}` };
    // Act
    const routing = planTemplateRoutes(ops(many), FOUR, CONTEXT);
    // Assert
    expect(routing.layout).toBe('proxy');
    expect(routing.reasons[0]).toMatch(
      /Validator's resource-based policy would reach \d+ bytes \(Lambda's limit is 20480/,
    );
    expect(routing.events.map((e) => `${e.name} ${e.method} ${e.path}`)).toEqual([
      'DocumentProxy ANY /{proxy+}',
      'KeyDocumentProxy ANY /{proxy+}',
      'HttpDocumentProxy ANY /{proxy+}',
      'KeyHttpDocumentProxy ANY /{proxy+}',
    ]);
    expect(routing.figures.lambdaPolicyBytes.Validator).toBeLessThanOrEqual(LIMITS.lambdaPolicyBytes);
  });

  it('lets every caller through the resource policy when every operation is public (no authorizer anywhere)', () => {
    const many: Record<string, Record<string, unknown>> = {};
    for (let i = 0; i < 60; i++) many[`GET /items${i}/{id}`] = { operationId: `getItem${i}`, security: [] };
    const routing = planTemplateRoutes(ops(many), FOUR, CONTEXT);
    expect(routing.layout).toBe('proxy');
    expect(routing.publicResources).toBe('all');
    expect(routing.events.every((e) => e.authorization === 'public')).toBe(true);
  });

  it('refuses, naming both reasons, when a public route with a variable would need the proxy', () => {
    const document = ops({
      'GET /items/{id}': { operationId: 'getItem', security: [] },
      'GET /items/{id}/secret': { operationId: 'getSecret' },
    });
    expect(() => planTemplateRoutes(document, [api('Rest')], CONTEXT)).toThrow(TemplateError);
    expect(() => planTemplateRoutes(document, [api('Rest')], CONTEXT)).toThrow(
      /Allow GET\/items\/\?\* would also allow GET \/items\/\{id\}\/secret.*GET \/items\/\{id\} is public and has a path variable/,
    );
  });
});

describe('planTemplateRoutes refuses what no layout can serve safely', () => {
  it('a document without operations (webhooks only), which would leave the APIs without routes', () => {
    expect(() => planTemplateRoutes([], [api('Rest')], CONTEXT)).toThrow(
      /the document has no operation, so Rest would have no route/,
    );
  });

  it.each([
    [
      'an API without a default authorizer',
      [api('Rest', { defaultAuthorizer: undefined })],
      DEMO,
      /Rest has no Auth.DefaultAuthorizer/,
    ],
    [
      'SigV4 on an HTTP API without EnableIamAuthorizer',
      [api('Http', { kind: 'http' })],
      DEMO,
      /Http needs Auth.EnableIamAuthorizer: true/,
    ],
    [
      'SigV4 operations while every API is marked AwsIamRoutes: false',
      [api('Rest', { awsIamRoutes: false }), api('Http', { kind: 'http', awsIamRoutes: false })],
      DEMO,
      /every API has GatehouseRoutes.AwsIamRoutes: false, so the AWS SigV4 operations reindex would have no route/,
    ],
    [
      'a throttle without its parameters',
      [api('Rest')],
      { 'POST /a': { operationId: 'a', 'x-gatehouse-throttle': 'bulk' } },
      /x-gatehouse-throttle bulk: the template has no parameters BulkThrottlingRateLimit and BulkThrottlingBurstLimit/,
    ],
    [
      'one API Gateway method for operations authorized differently',
      [api('Rest')],
      {
        'POST /v1/{name}:predict': { operationId: 'predict', security: [] },
        'POST /v1/{name}:explain': { operationId: 'explain' },
      },
      /predict, explain share the API Gateway method POST \/v1\/\{name\} but are authorized differently/,
    ],
  ])('%s', (_case, apis, entries, message) => {
    expect(() => planTemplateRoutes(ops(entries), apis, CONTEXT)).toThrow(message);
  });
});

describe('the limits', () => {
  it('count a function policy statement at least as long as the one Lambda stores for an event', () => {
    // A statement as Lambda writes it for a SAM event of a stack named with 128 characters.
    const stack = 'g'.repeat(128);
    const statement = {
      Sid: `${stack}-RequestValidatorFunctionKeyHttpCreateOrderPermission-ABCDEFGHIJKL`.slice(0, 100),
      Effect: 'Allow',
      Principal: { Service: 'apigateway.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:${`${stack}-RequestValidatorFunction-ABCDEFGHIJKL`.slice(0, 64)}`,
      Condition: {
        ArnLike: {
          'AWS:SourceArn': 'arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1b2c3d4e5/*/POST/orders/*',
        },
      },
    };
    expect(permissionStatementBytes('POST', '/orders/{id}')).toBeGreaterThanOrEqual(
      JSON.stringify(statement).length + 1,
    );
  });

  it('fit the demo document on four APIs with room for the routes being added', () => {
    const routing = planTemplateRoutes(ops(DEMO), FOUR, CONTEXT);
    // 20 statements of about 470 bytes: under half of Lambda's 20 KB.
    expect(routing.figures.lambdaPolicyBytes.Validator).toBeLessThan(LIMITS.lambdaPolicyBytes / 2);
  });
});

const TEMPLATE = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  WriteThrottlingRateLimit: { Type: Number }
  WriteThrottlingBurstLimit: { Type: Number }
Globals:
  Api:
    Auth:
      ApiKeyRequired: true
Resources:
  Validator:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Old:
          Type: Api
          Properties: { RestApiId: !Ref Served, Path: /old, Method: GET }
        Other:
          Type: Api
          Properties: { RestApiId: !Ref Unserved, Path: '/other/{id}', Method: POST }
  Extra:
    Type: AWS::Lambda::Permission
    Properties: { FunctionName: !GetAtt Validator.Arn, Action: lambda:InvokeFunction, Principal: s3.amazonaws.com }
  Served:
    Type: AWS::Serverless::Api
    Metadata:
      GatehouseRoutes: { Function: Validator, EventPrefix: Key }
    Properties:
      StageName: v1
      ApiKeySourceType: AUTHORIZER
      Auth: { DefaultAuthorizer: KeyAuthorizer }
  Unserved:
    Type: AWS::Serverless::Api
    Properties: { StageName: v1 }
`;

describe('servedApis and routingContext', () => {
  it('reads the APIs marked GatehouseRoutes, with Globals, and what their function already holds', () => {
    // Arrange
    const template = parseTemplate(TEMPLATE);
    // Act
    const apis = servedApis(template);
    const context = routingContext(template, apis);
    // Assert
    expect(apis).toEqual([
      {
        logicalId: 'Served',
        kind: 'rest',
        functionId: 'Validator',
        eventPrefix: 'Key',
        defaultAuthorizer: 'KeyAuthorizer',
        apiKeyRequired: true,
        apiKeySource: 'AUTHORIZER',
        iamAuthorizer: false,
        awsIamRoutes: true,
      },
    ]);
    expect(
      servedApis(
        parseTemplate(TEMPLATE.replace('EventPrefix: Key }', 'EventPrefix: Key, AwsIamRoutes: false }')),
      ),
    ).toEqual([expect.objectContaining({ logicalId: 'Served', awsIamRoutes: false })]);
    expect(context.otherEventNames).toEqual({ Validator: ['Other'] });
    expect(context.otherPermissionBytes.Validator).toBe(
      permissionStatementBytes('POST', '/other/{id}') + permissionStatementBytes('ANY', `/${'p'.repeat(63)}`),
    );
    expect(context.parameters.has('WriteThrottlingRateLimit')).toBe(true);
  });

  it.each([
    [
      TEMPLATE.replace('Function: Validator,', 'Function: Nope,'),
      /Function must name an AWS::Serverless::Function/,
    ],
    [TEMPLATE.replace('EventPrefix: Key', 'EventPrefix: Key-'), /EventPrefix must be letters and digits/],
    [TEMPLATE.replace('EventPrefix: Key }', 'EventPrefix: Key, Mode: proxy }'), /Mode is not a setting/],
    [
      TEMPLATE.replace('EventPrefix: Key }', "EventPrefix: Key, AwsIamRoutes: 'no' }"),
      /AwsIamRoutes must be true or false/,
    ],
    [
      TEMPLATE.replace(
        'StageName: v1\n      ApiKey',
        'StageName: v1\n      DefinitionUri: api.yaml\n      ApiKey',
      ),
      /no DefinitionBody\/DefinitionUri/,
    ],
  ])('refuses a marker that cannot work (%#)', (text, message) => {
    expect(() => servedApis(parseTemplate(text))).toThrow(message);
  });

  it('refuses an event that routes to a served API from another function', () => {
    const text = TEMPLATE.replace(
      '  Extra:',
      `  Stray:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Sneaky: { Type: Api, Properties: { RestApiId: !Ref Served, Path: /x, Method: GET } }
  Extra:`,
    );
    const template = parseTemplate(text);
    expect(() => routingContext(template, servedApis(template))).toThrow(
      /Stray.Events.Sneaky routes to Served, whose routes are generated onto Validator/,
    );
  });
});
