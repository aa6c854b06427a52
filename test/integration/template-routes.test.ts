// template.yaml follows the API document (docs/deploy.md#routes-follow-the-document): `npm run generate`
// rewrites its routes, `--check` sees a stale template, and what it writes deploys as the document
// says: the SAM translator expands it, the resource policy allows exactly the public routes, cfn-lint
// accepts it and the local gateway serves it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHttpApis } from '../../tools/gateway/http-api-model.ts';
import { readApis } from '../../tools/gateway/model.ts';
import { evaluateResourcePolicy, readResourcePolicy } from '../../tools/gateway/resource-policy.ts';
import { generate } from '../../tools/generate.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { resolveParameters } from '../../tools/template/resolve.ts';
import { loadTemplate, type Template, TemplateError } from '../../tools/template/template.ts';
import {
  type Expansion,
  expandAll,
  ofType,
  PARAMETER_SETS,
  translatorAvailable,
} from '../template/expansion.ts';

const available = translatorAvailable();
if (!available && process.env.CI !== undefined)
  throw new Error('CI needs python3 with aws-sam-translator for the template expansion tests');

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/openapi/template-routes');
const TEMPLATE = readFileSync(join(PROJECT_ROOT, 'template.yaml'), 'utf8');
const OPENAPI = readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8');

/** template.yaml with every marked API taking the document's SigV4 operations (none `AwsIamRoutes: false`). */
const EVERY_API = TEMPLATE.replaceAll('\n        AwsIamRoutes: false', '');

/** The HTTP APIs of template.yaml with IAM routes enabled (the document's SigV4 operations need it). */
const WITH_IAM = EVERY_API.replaceAll(
  `      Auth:
        DefaultAuthorizer: JwtAuthorizer
        Authorizers:
          JwtAuthorizer:
            FunctionArn: !GetAtt JwtAuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: '2.0'`,
  `      Auth:
        EnableIamAuthorizer: true
        DefaultAuthorizer: JwtAuthorizer
        Authorizers:
          JwtAuthorizer:
            FunctionArn: !GetAtt JwtAuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: '2.0'`,
).replace(
  `      Auth:
        DefaultAuthorizer: KeyAuthorizer
        Authorizers:
          KeyAuthorizer:
            FunctionArn: !GetAtt KeyAuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: '2.0'`,
  `      Auth:
        EnableIamAuthorizer: true
        DefaultAuthorizer: KeyAuthorizer
        Authorizers:
          KeyAuthorizer:
            FunctionArn: !GetAtt KeyAuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: '2.0'`,
);

/** A project folder: package.json naming `openapi.yaml`, that document, and template.yaml. */
function project(document: string, template = TEMPLATE): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-template-routes-'));
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'x', gatehouse: { openapi: 'openapi.yaml' } }),
  );
  writeFileSync(join(root, 'openapi.yaml'), document);
  writeFileSync(join(root, 'template.yaml'), template);
  return root;
}

const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** The REST and HTTP API routes the local gateway reads from a template. */
function gatewayRoutes(template: Template) {
  const stack = {
    template,
    parameters: resolveParameters(template, {}),
    region: 'us-east-1',
    accountId: '123456789012',
    stackName: 'gatehouse-local',
    resourceRef: (id: string) => id,
  };
  const rest = readApis(template, stack).flatMap((a) =>
    a.routes.map(
      (r) =>
        `${a.logicalId} ${r.method} ${r.path} ${r.iam === true ? 'AWS_IAM' : (r.authorizer ?? 'NONE')}${r.apiKeyRequired ? ' key' : ''}`,
    ),
  );
  const http = readHttpApis(template, stack).flatMap((a) =>
    a.routes.map(
      (r) => `${a.logicalId} ${r.method} ${r.path} ${r.iam === true ? 'AWS_IAM' : (r.authorizer ?? 'NONE')}`,
    ),
  );
  return [...rest, ...http].sort();
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

/** `METHOD path security` of every method in a deployed API's OpenAPI body. */
function deployedMethods(e: Expansion, type: string): string[] {
  return ofType(e, type).flatMap(([id, api]) =>
    Object.entries(obj(obj(api.properties.Body).paths)).flatMap(([path, item]) =>
      Object.entries(obj(item)).map(([method, op]) => {
        // SAM writes `NONE`, or no requirement at all where neither an authorizer nor a key applies.
        const list = (obj(op).security as Json[] | undefined)?.map((s) => Object.keys(s)[0]);
        const security = list?.length === 0 ? 'NONE' : list?.join(',');
        const m = method === 'x-amazon-apigateway-any-method' ? 'ANY' : method.toUpperCase();
        return `${id} ${m} ${path} ${security ?? '-'}`;
      }),
    ),
  );
}

/** Whether each REST API's resource policy allows exactly these `METHOD/path` at the stage. */
function expectPolicyAllowsExactly(
  e: Expansion,
  allowed: readonly string[],
  probes: readonly string[],
): void {
  const stage = e.stack.parameters.StageName as string;
  for (const [id, api] of ofType(e, 'AWS::ApiGateway::RestApi')) {
    const policy = obj(obj(api.properties.Body)['x-amazon-apigateway-policy']);
    const statements = readResourcePolicy({ CustomStatements: policy.Statement }) ?? [];
    const prefix = `arn:aws:execute-api:us-east-1:123456789012:${id}`;
    for (const probe of [...allowed, ...probes]) {
      const arn = `${prefix}/${stage}/${probe}`;
      expect({
        id,
        probe,
        allowed: evaluateResourcePolicy(statements, arn, prefix, '203.0.113.9') === 'allow',
      }).toEqual({
        id,
        probe,
        allowed: allowed.includes(probe),
      });
    }
  }
}

const silent = () => {};

describe('npm run generate keeps template.yaml on the document', () => {
  it('writes for openapi.yaml exactly the committed template, and --check then finds nothing stale', async () => {
    const root = project(OPENAPI);
    await generate({ root, check: false, log: silent });
    expect(readFileSync(join(root, 'template.yaml'), 'utf8')).toBe(TEMPLATE);
    expect(await generate({ root, check: true, log: silent })).toEqual([]);
  }, 60_000);

  it('sees a stale template when an operation is added, and round-trips its removal byte for byte', async () => {
    // Arrange
    const root = project(OPENAPI);
    await generate({ root, check: false, log: silent });
    const added = OPENAPI.replace(
      '  /orders/{id}:\n',
      `  /orders/{id}/cancel:
    post:
      operationId: cancelOrder
      security:
        - oauth2: [orders:write]
      parameters:
        - $ref: '#/components/parameters/OrderId'
      responses:
        '202':
          description: Cancelling.
  /orders/{id}:
`,
    );
    writeFileSync(join(root, 'openapi.yaml'), added);
    // Act / Assert: stale, then regenerated with one event per API for the new operation.
    expect(await generate({ root, check: true, log: silent })).toContain('template.yaml');
    await generate({ root, check: false, log: silent });
    const text = readFileSync(join(root, 'template.yaml'), 'utf8');
    for (const name of ['CancelOrder', 'KeyCancelOrder', 'HttpCancelOrder', 'KeyHttpCancelOrder'])
      expect(text).toContain(`        ${name}:\n`);
    expect(gatewayRoutes(loadTemplate(join(root, 'template.yaml')))).toEqual(
      expect.arrayContaining([
        'OrdersApi POST /orders/{id}/cancel JwtAuthorizer',
        'OrdersKeyApi POST /orders/{id}/cancel KeyAuthorizer key',
        'OrdersHttpApi POST /orders/{id}/cancel JwtAuthorizer',
        'OrdersKeyHttpApi POST /orders/{id}/cancel KeyAuthorizer',
      ]),
    );
    // Removing it again gives back the template as committed.
    writeFileSync(join(root, 'openapi.yaml'), OPENAPI);
    expect(await generate({ root, check: true, log: silent })).toContain('template.yaml');
    await generate({ root, check: false, log: silent });
    expect(readFileSync(join(root, 'template.yaml'), 'utf8')).toBe(TEMPLATE);
  }, 60_000);

  it('leaves the routes as written, and says so, for a document without operations (webhooks only)', async () => {
    // Arrange
    const root = project(
      readFileSync(join(PROJECT_ROOT, 'test/fixtures/openapi/oai/v3.1/webhook-example.yaml'), 'utf8'),
    );
    const log: string[] = [];
    // Act
    await generate({ root, check: false, log: (line) => log.push(line) });
    // Assert
    expect(readFileSync(join(root, 'template.yaml'), 'utf8')).toBe(TEMPLATE);
    expect(log).toContain(
      'generate: WARNING template.yaml keeps its routes as written: openapi.yaml has no operation, and OrdersApi, OrdersHttpApi, OrdersKeyApi, OrdersKeyHttpApi, OrdersDpopApi cannot be left without routes (API Gateway deploys no REST API without methods); the request validator refuses every request',
    );
    expect(readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8')).toContain('registerPolicyPlan([]');
  }, 60_000);

  it('refuses SigV4 operations while the HTTP APIs cannot have IAM routes, writing nothing', async () => {
    expect(EVERY_API).not.toBe(TEMPLATE);
    const root = project(fixture('iam-and-tenants.yaml'), EVERY_API);
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(TemplateError);
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(
      /OrdersHttpApi needs Auth.EnableIamAuthorizer: true for the document's AWS SigV4 operations/,
    );
    expect(readFileSync(join(root, 'template.yaml'), 'utf8')).toBe(EVERY_API);
  }, 60_000);

  it('serves SigV4 operations on OrdersApi alone with the committed markers (AwsIamRoutes: false elsewhere)', async () => {
    // Arrange
    const root = project(fixture('iam-and-tenants.yaml'));
    // Act
    await generate({ root, check: false, log: silent });
    // Assert
    const routes = gatewayRoutes(loadTemplate(join(root, 'template.yaml')));
    expect(routes.filter((r) => r.includes('/internal/'))).toEqual([
      'OrdersApi POST /internal/reindex AWS_IAM',
    ]);
    // Every marked API serves the document's other operations: the four Orders APIs and OrdersDpopApi.
    expect(routes.filter((r) => r.includes(' GET /health '))).toHaveLength(5);
  }, 60_000);
});

describe.skipIf(!available)('what npm run generate writes deploys as the document says', () => {
  const sets = {
    defaults: PARAMETER_SETS.defaults ?? {},
    'locked-down': PARAMETER_SETS['locked-down'] ?? {},
  };

  it('serves SigV4 and tenant routes, one event per operation: translator, resource policy, cfn-lint, local gateway', async () => {
    // Arrange
    const root = project(fixture('iam-and-tenants.yaml'), WITH_IAM);
    // Act
    await generate({ root, check: false, log: silent });
    const file = join(root, 'template.yaml');
    const { expansions } = expandAll(sets, join(root, 'expansions'), file);
    // Assert: the local gateway's routes.
    expect(gatewayRoutes(loadTemplate(file))).toEqual(
      [
        'OrdersApi GET /health NONE',
        'OrdersApi POST /internal/reindex AWS_IAM',
        'OrdersApi GET /tenants/{tenantId}/orders JwtAuthorizer',
        'OrdersApi POST /tenants/{tenantId}/orders JwtAuthorizer',
        'OrdersApi GET /tenants/{tenantId}/orders/{orderId} JwtAuthorizer',
        // Keys come from the key authorizer (ApiKeySourceType AUTHORIZER): routes without it need none.
        'OrdersKeyApi GET /health NONE',
        'OrdersKeyApi POST /internal/reindex AWS_IAM',
        'OrdersKeyApi GET /tenants/{tenantId}/orders KeyAuthorizer key',
        'OrdersKeyApi POST /tenants/{tenantId}/orders KeyAuthorizer key',
        'OrdersKeyApi GET /tenants/{tenantId}/orders/{orderId} KeyAuthorizer key',
        'OrdersHttpApi GET /health NONE',
        'OrdersHttpApi POST /internal/reindex AWS_IAM',
        'OrdersHttpApi GET /tenants/{tenantId}/orders JwtAuthorizer',
        'OrdersHttpApi POST /tenants/{tenantId}/orders JwtAuthorizer',
        'OrdersHttpApi GET /tenants/{tenantId}/orders/{orderId} JwtAuthorizer',
        'OrdersKeyHttpApi GET /health NONE',
        'OrdersKeyHttpApi POST /internal/reindex AWS_IAM',
        'OrdersKeyHttpApi GET /tenants/{tenantId}/orders KeyAuthorizer',
        'OrdersKeyHttpApi POST /tenants/{tenantId}/orders KeyAuthorizer',
        'OrdersKeyHttpApi GET /tenants/{tenantId}/orders/{orderId} KeyAuthorizer',
        'OrdersDpopApi GET /health NONE',
        'OrdersDpopApi POST /internal/reindex AWS_IAM',
        'OrdersDpopApi GET /tenants/{tenantId}/orders JwtDpopAuthorizer',
        'OrdersDpopApi POST /tenants/{tenantId}/orders JwtDpopAuthorizer',
        'OrdersDpopApi GET /tenants/{tenantId}/orders/{orderId} JwtDpopAuthorizer',
      ].sort(),
    );
    for (const e of expansions.values()) {
      // What CloudFormation deploys: the same methods with the same authorization.
      expect(deployedMethods(e, 'AWS::ApiGateway::RestApi').sort()).toEqual(
        (
          [
            ['OrdersApi', 'JwtAuthorizer'],
            ['OrdersKeyApi', 'KeyAuthorizer,api_key'],
            ['OrdersDpopApi', 'JwtDpopAuthorizer'],
          ] as const
        )
          .flatMap(([id, auth]) => [
            `${id} GET /health NONE`,
            `${id} POST /internal/reindex AWS_IAM`,
            `${id} GET /tenants/{tenantId}/orders ${auth}`,
            `${id} POST /tenants/{tenantId}/orders ${auth}`,
            `${id} GET /tenants/{tenantId}/orders/{orderId} ${auth}`,
          ])
          .sort(),
      );
      // The SigV4 route is invoked through the function's permission, not the caller's credentials.
      const reindex = obj(
        obj(obj(obj(e.resources.OrdersApi?.properties.Body).paths)['/internal/reindex']).post,
      )['x-amazon-apigateway-integration'];
      expect(obj(reindex).credentials).toBeUndefined();
      expectPolicyAllowsExactly(
        e,
        ['GET/health'],
        [
          'POST/internal/reindex',
          'GET/tenants/t_abcd/orders',
          'GET/health/x',
          'GET/tenants/t_abcd/orders/o1',
        ],
      );
      // The throttled write, on both API styles.
      for (const [id, stage] of ofType(e, 'AWS::ApiGateway::Stage'))
        expect({ id, write: (stage.properties.MethodSettings as Json[]).map((s) => s.ResourcePath) }).toEqual(
          {
            id,
            write: ['/*', '/~1tenants~1{tenantId}~1orders'],
          },
        );
      for (const [id, stage] of ofType(e, 'AWS::ApiGatewayV2::Stage'))
        expect({ id, write: Object.keys(obj(stage.properties.RouteSettings)) }).toEqual({
          id,
          write: ['POST /tenants/{tenantId}/orders'],
        });
    }
    const lint = spawnSync('cfn-lint', ['--include-checks', 'I', '--', file], { encoding: 'utf8' });
    expect({ status: lint.status, findings: lint.stdout }).toEqual({ status: 0, findings: '' });
  }, 180_000);

  it('falls back to one {proxy+} route per API where API Gateway cannot hold the resources', async () => {
    // Arrange
    // OrdersHttpApi's cache keyed by the route key, as a template without bound paths may have it.
    const keyedByRoute = WITH_IAM.replace(
      `              Context:
                - httpMethod
                - path`,
      `              Context:
                - routeKey`,
    );
    expect(keyedByRoute).not.toBe(WITH_IAM);
    const root = project(fixture('sibling-variables.yaml'), keyedByRoute);
    const log: string[] = [];
    // Act
    await generate({ root, check: false, log: (line) => log.push(line) });
    const file = join(root, 'template.yaml');
    const { expansions } = expandAll(sets, join(root, 'expansions'), file);
    // Assert: said out loud, with what the authorizers now need (the route key names no operation).
    expect(log.join('\n')).toMatch(
      /serves openapi.yaml through one \{proxy\+\} route per API.*\/repos would have two variable children/,
    );
    expect(log.join('\n')).toMatch(
      /OrdersHttpApi authorizer JwtAuthorizer .*\$context.httpMethod and \$context.path/,
    );
    expect(readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8')).toContain(
      '"routeKeysExact": false',
    );
    // The committed template already keys OrdersHttpApi by method and path: nothing to say there.
    const keyed = project(fixture('sibling-variables.yaml'), WITH_IAM);
    const keyedLog: string[] = [];
    await generate({ root: keyed, check: false, log: (line) => keyedLog.push(line) });
    expect(keyedLog.join('\n')).toMatch(/serves openapi.yaml through one \{proxy\+\} route per API/);
    expect(keyedLog.join('\n')).not.toMatch(/OrdersHttpApi authorizer/);
    const rest = gatewayRoutes(loadTemplate(file)).filter((r) => r.startsWith('OrdersApi '));
    expect(rest).toEqual(
      [
        'OrdersApi ANY / JwtAuthorizer',
        'OrdersApi ANY /{proxy+} JwtAuthorizer',
        'OrdersApi GET /health NONE',
        'OrdersApi POST /internal/reindex AWS_IAM',
        'OrdersApi GET /repos/{owner}/{repo} JwtAuthorizer',
        'OrdersApi DELETE /repos/{owner}/{repo} JwtAuthorizer',
      ].sort(),
    );
    for (const e of expansions.values()) {
      expect(
        deployedMethods(e, 'AWS::ApiGatewayV2::Api')
          .filter((m) => m.startsWith('OrdersHttpApi '))
          .sort(),
      ).toEqual(
        [
          'OrdersHttpApi ANY / JwtAuthorizer',
          'OrdersHttpApi ANY /{proxy+} JwtAuthorizer',
          'OrdersHttpApi GET /health NONE',
          'OrdersHttpApi POST /internal/reindex AWS_IAM',
          'OrdersHttpApi GET /repos/{owner}/{repo} JwtAuthorizer',
          'OrdersHttpApi DELETE /repos/{owner}/{repo} JwtAuthorizer',
        ].sort(),
      );
      expectPolicyAllowsExactly(
        e,
        ['GET/health'],
        ['GET/', 'GET/repos/a/b', 'POST/repos/a/b/generate', 'GET/health/'],
      );
    }
  }, 180_000);
});
