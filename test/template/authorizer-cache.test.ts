// API Gateway keys each Gatehouse authorizer's cache as the route table's cache mode needs
// (docs/policies.md#cache-modes): on template.yaml, on templates made for the other modes, and on
// what the SAM translator expands them to (what CloudFormation deploys).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE_MODE, ROUTES } from '../../shared/generated/routes.ts';
import { planRoutes } from '../../tools/generate.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { checkAuthorizerCache, requiredContext } from '../../tools/template/authorizer-cache.ts';
import { loadTemplate, type Template } from '../../tools/template/template.ts';

const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));

/** template.yaml with one more API. */
function withApi(id: string, api: Record<string, unknown>): Template {
  return { ...template, Resources: { ...template.Resources, [id]: api as Template['Resources'][string] } };
}

/** A template with this one API. */
function only(id: string, api: Record<string, unknown>): Template {
  return { Resources: { [id]: api as Template['Resources'][string] } };
}

const jwtArn = { 'Fn::GetAtt': ['JwtAuthorizerFunction', 'Arn'] };

const restApi = (authorizer: Record<string, unknown>) => ({
  Type: 'AWS::Serverless::Api',
  Properties: {
    StageName: 'v1',
    Auth: {
      DefaultAuthorizer: 'JwtAuthorizer',
      Authorizers: { JwtAuthorizer: { FunctionArn: jwtArn, ...authorizer } },
    },
  },
});

const httpApi = (authorizer: Record<string, unknown>) => ({
  Type: 'AWS::Serverless::HttpApi',
  Properties: {
    Auth: {
      DefaultAuthorizer: 'JwtAuthorizer',
      Authorizers: {
        JwtAuthorizer: {
          FunctionArn: jwtArn,
          AuthorizerPayloadFormatVersion: '2.0',
          ...authorizer,
        },
      },
    },
  },
});

describe('the authorizer cache keys of template.yaml', () => {
  it('match the cache mode of the generated route table', () => {
    // Planned for the template's layout (one {proxy+} route per API makes resources name no operation).
    const proxy = Object.values(template.Resources).some((r) =>
      Object.values((r.Properties?.Events ?? {}) as Record<string, { Properties?: { Path?: unknown } }>).some(
        (e) => e.Properties?.Path === '/{proxy+}',
      ),
    );
    const plan = planRoutes(ROUTES, { resources: proxy ? 'proxy' : 'document' });
    expect(plan.mode).toBe(CACHE_MODE);
    expect(checkAuthorizerCache(template, plan)).toEqual([]);
  });
});

describe('checkAuthorizerCache', () => {
  const api = { mode: 'api', routeKeysExact: true } as const;
  const route = { mode: 'route', routeKeysExact: true } as const;
  const path = { mode: 'path', routeKeysExact: false } as const;
  const tokenCached = restApi({
    FunctionPayloadType: 'TOKEN',
    Identity: { Header: 'Authorization', ReauthorizeEvery: 300 },
  });
  const perRoute = restApi({
    FunctionPayloadType: 'REQUEST',
    Identity: { Headers: ['Authorization'], Context: ['httpMethod', 'resourcePath'], ReauthorizeEvery: 300 },
  });

  it('accepts a token-keyed cache for whole-API policies', () => {
    expect(checkAuthorizerCache(only('Extra', tokenCached), api)).toEqual([]);
  });

  it('refuses a token-keyed cache where each answer covers one route', () => {
    expect(checkAuthorizerCache(only('Extra', tokenCached), route)).toEqual([
      "Extra authorizer JwtAuthorizer (JwtAuthorizerFunction): cache mode route needs a REQUEST authorizer whose identity sources include context.httpMethod and context.resourcePath (a TOKEN authorizer's cache is keyed by the token alone), or ReauthorizeEvery: 0",
    ]);
  });

  it('accepts method and resource path in the key for per-route answers, and an uncached authorizer', () => {
    expect(checkAuthorizerCache(only('Extra', perRoute), route)).toEqual([]);
    const uncached = restApi({
      FunctionPayloadType: 'TOKEN',
      Identity: { Header: 'Authorization', ReauthorizeEvery: 0 },
    });
    expect(checkAuthorizerCache(only('Extra', uncached), path)).toEqual([]);
  });

  it('needs the concrete path in the key in mode path', () => {
    expect(checkAuthorizerCache(only('Extra', perRoute), path)).toEqual([
      'Extra authorizer JwtAuthorizer (JwtAuthorizerFunction): cache mode path needs context.path among the identity sources (Identity: Context: [httpMethod, path]), or ReauthorizeEvery: 0',
    ]);
  });

  it('refuses HTTP API simple responses cached without the route key, whatever the mode', () => {
    // A cached `isAuthorized: true` would answer every route of the API for that token.
    const simple = httpApi({
      EnableSimpleResponses: true,
      Identity: { Headers: ['Authorization'], ReauthorizeEvery: 300 },
    });
    expect(checkAuthorizerCache(only('Http', simple), api)).toEqual([
      'Http authorizer JwtAuthorizer (JwtAuthorizerFunction): simple responses need $context.routeKey among the identity sources (Identity: Context: [routeKey]), or ReauthorizeEvery: 0',
    ]);
    const keyed = httpApi({
      EnableSimpleResponses: true,
      Identity: { Headers: ['Authorization'], Context: ['routeKey'], ReauthorizeEvery: 300 },
    });
    expect(checkAuthorizerCache(only('Http', keyed), api)).toEqual([]);
  });

  it.each([
    ['api', 'rest', false, true, []],
    ['route', 'rest', false, true, ['httpMethod', 'resourcePath']],
    ['path', 'rest', false, false, ['httpMethod', 'path']],
    ['api', 'http', false, true, []],
    ['route', 'http', false, true, ['routeKey']],
    ['api', 'http', true, true, ['routeKey']],
    ['api', 'http', true, false, ['httpMethod', 'path']],
  ] as const)(
    'mode %s on a %s API (simple: %s, route keys exact: %s) needs %j',
    (mode, apiType, simple, exact, needed) => {
      expect(requiredContext(mode, apiType, simple, exact)).toEqual(needed);
    },
  );
});

const hasTranslator = spawnSync('python3', ['-c', 'import samtranslator'], { encoding: 'utf8' }).status === 0;

describe('what CloudFormation deploys (SAM translator expansion)', () => {
  it.skipIf(!hasTranslator)(
    'keys per-route REST and HTTP API authorizers by method and resource, as the docs configure them',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cache-'));
      const input = join(dir, 'template.json');
      const output = join(dir, 'expanded.json');
      const variant = withApi(
        'PerRouteApi',
        restApi({
          FunctionPayloadType: 'REQUEST',
          Identity: {
            Headers: ['Authorization'],
            Context: ['httpMethod', 'resourcePath'],
            ReauthorizeEvery: 300,
          },
        }),
      );
      const both = {
        ...variant,
        Resources: {
          ...variant.Resources,
          PerRouteHttpApi: httpApi({
            EnableSimpleResponses: true,
            Identity: { Headers: ['Authorization'], Context: ['routeKey'], ReauthorizeEvery: 300 },
          }),
        },
      };
      writeFileSync(input, JSON.stringify(both));

      const run = spawnSync('python3', [join(PROJECT_ROOT, '.ci/sam-translate.py'), input, output], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      });

      expect(run.stderr).toBe('');
      const expanded = JSON.parse(readFileSync(output, 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      // OpenAPI 3 (the template's Globals set OpenApiVersion): security schemes in `components`.
      const rest = expanded.Resources.PerRouteApi?.Properties.Body as {
        components: { securitySchemes: Record<string, Record<string, Record<string, unknown>>> };
      };
      expect(rest.components.securitySchemes.JwtAuthorizer?.['x-amazon-apigateway-authorizer']).toMatchObject(
        {
          type: 'request',
          identitySource: 'method.request.header.Authorization, context.httpMethod, context.resourcePath',
          authorizerResultTtlInSeconds: 300,
        },
      );
      const http = expanded.Resources.PerRouteHttpApi?.Properties.Body as {
        components: { securitySchemes: Record<string, Record<string, Record<string, unknown>>> };
      };
      expect(http.components.securitySchemes.JwtAuthorizer?.['x-amazon-apigateway-authorizer']).toMatchObject(
        {
          type: 'request',
          enableSimpleResponses: true,
          identitySource: ['$request.header.Authorization', '$context.routeKey'],
        },
      );
    },
    120_000,
  );
});
