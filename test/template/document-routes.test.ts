// template.yaml's routes are the API document's (docs/deploy.md#routes-follow-the-document): every
// API marked GatehouseRoutes has exactly one event per operation of openapi.yaml (its SigV4 ones only
// where the marker does not say AwsIamRoutes: false), authorized as its security says, and the per-route throttles are exactly the operations marked x-gatehouse-throttle.
// The expectation is read from the document here, not from the generator.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiGatewayPath } from '../../shared/routes/route-table.ts';
import { loadOpenApi, operations } from '../../tools/openapi/document.ts';
import { routeTable } from '../../tools/openapi/routes.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { loadTemplate } from '../../tools/template/template.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
const doc = loadOpenApi(join(PROJECT_ROOT, 'openapi.yaml'));
const routes = routeTable(doc);

/** The APIs that serve the document, with their function and default authorizer. */
const served = Object.entries(template.Resources)
  .filter(([, r]) => r.Metadata?.GatehouseRoutes !== undefined)
  .map(([id, r]) => {
    const rest = r.Type === 'AWS::Serverless::Api';
    const globals = obj(obj(template.Globals?.[rest ? 'Api' : 'HttpApi']).Auth);
    const auth = { ...globals, ...obj(r.Properties?.Auth) };
    return {
      id,
      rest,
      fn: String(obj(r.Metadata?.GatehouseRoutes).Function),
      defaultAuthorizer: String(auth.DefaultAuthorizer),
      keys: auth.ApiKeyRequired === true,
      awsIamRoutes: obj(r.Metadata?.GatehouseRoutes).AwsIamRoutes !== false,
    };
  });

/** How an operation is authorized, read from its security: NONE, AWS_IAM or the API's default. */
function authorizationOf(op: Json, defaultAuthorizer: string): string {
  const schemes = obj(doc.components?.securitySchemes);
  const requirements = (op.security ?? doc.security ?? []) as Json[];
  if (requirements.length === 0 || requirements.some((r) => Object.keys(r).length === 0)) return 'NONE';
  const sigv4 = requirements.every((r) =>
    Object.keys(r).every((name) => obj(schemes[name])['x-amazon-apigateway-authtype'] === 'awsSigv4'),
  );
  return sigv4 ? 'AWS_IAM' : defaultAuthorizer;
}

describe('template.yaml routes the API document', () => {
  it('marks the five Orders APIs as serving the document, through RequestValidatorFunction', () => {
    expect(served.map((a) => `${a.id} ${a.fn}`)).toEqual([
      'OrdersApi RequestValidatorFunction',
      'OrdersHttpApi RequestValidatorFunction',
      'OrdersKeyApi RequestValidatorFunction',
      'OrdersKeyHttpApi RequestValidatorFunction',
      'OrdersDpopApi RequestValidatorFunction',
    ]);
  });

  it.each(served)('has on $id one event per operation, authorized as the document says', (api) => {
    // Arrange: what the document says.
    const expected = operations(doc).flatMap((op, i) => {
      const auth = authorizationOf(op.operation, api.defaultAuthorizer);
      if (auth === 'AWS_IAM' && !api.awsIamRoutes) return [];
      const keyless = api.keys && auth !== api.defaultAuthorizer;
      return [
        `${(routes[i] as { method: string }).method} ${apiGatewayPath(routes[i] as never)} ${auth}${keyless ? ' keyless' : ''}`,
      ];
    });
    // Act: what the template has.
    const events = Object.values(obj(obj(template.Resources[api.fn]?.Properties).Events)).map(obj);
    const actual = events
      .filter((e) => obj(obj(e.Properties)[api.rest ? 'RestApiId' : 'ApiId']).Ref === api.id)
      .map((e) => {
        const p = obj(e.Properties);
        const auth = obj(p.Auth);
        expect(e.Type).toBe(api.rest ? 'Api' : 'HttpApi');
        return `${String(p.Method)} ${String(p.Path)} ${String(auth.Authorizer ?? api.defaultAuthorizer)}${auth.ApiKeyRequired === false ? ' keyless' : ''}`;
      });
    // Assert
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('serves the fulfilment callback (AWS_IAM) on OrdersApi alone', () => {
    expect(served.filter((a) => a.awsIamRoutes).map((a) => a.id)).toEqual(['OrdersApi']);
    const callback = Object.entries(obj(obj(template.Resources.RequestValidatorFunction?.Properties).Events))
      .filter(([, e]) => obj(obj(e).Properties).Path === '/internal/fulfilment/{orderId}/callback')
      .map(([name, e]) => [name, obj(obj(obj(e).Properties).Auth)]);
    expect(callback).toEqual([['FulfilmentCallback', { Authorizer: 'AWS_IAM', InvokeRole: 'NONE' }]]);
  });

  it('throttles exactly the operations marked x-gatehouse-throttle, on every API', () => {
    const marked = operations(doc)
      .filter((op) => op.operation['x-gatehouse-throttle'] === 'write')
      .map((op) => `${op.method} ${apiGatewayPath({ method: op.method, path: op.path })}`);
    expect(marked).toEqual(['POST /orders']);
    for (const api of served) {
      if (api.rest) {
        const settings = (obj(template.Resources[api.id]?.Properties).MethodSettings ?? []) as Json[];
        expect({
          api: api.id,
          throttled: settings.map(
            (s) => `${String(s.HttpMethod)} ${String(s.ResourcePath).replaceAll('~1', '/').slice(1)}`,
          ),
          rate: settings.map((s) => obj(s.ThrottlingRateLimit).Ref),
        }).toEqual({ api: api.id, throttled: marked, rate: marked.map(() => 'WriteThrottlingRateLimit') });
      } else {
        const events = Object.values(obj(obj(template.Resources[api.fn]?.Properties).Events)).map(obj);
        const throttled = events
          .filter(
            (e) =>
              obj(obj(e.Properties).ApiId).Ref === api.id && obj(e.Properties).RouteSettings !== undefined,
          )
          .map((e) => `${String(obj(e.Properties).Method)} ${String(obj(e.Properties).Path)}`);
        expect({ api: api.id, throttled }).toEqual({ api: api.id, throttled: marked });
      }
    }
  });
});
