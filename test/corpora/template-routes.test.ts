/**
 * A large third-party document through the template generator: GitHub's REST description
 * (1,223 operations) cannot be one event per operation (Lambda's 20 KB function policy, API
 * Gateway's resource shapes), so template.yaml serves it through one {proxy+} route per API; the
 * SAM translator expands the result within CloudFormation's limits, and the authorizers' answers
 * stay exact on every path with the cache keyed by method and path.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planned } from '../../shared/policy/policy-planner.ts';
import { templateRoutes } from '../../tools/generate.ts';
import { loadOpenApi, type OpenApiDocument } from '../../tools/openapi/document.ts';
import { routeTable } from '../../tools/openapi/routes.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { LIMITS } from '../../tools/template/template-routes.ts';
import { expectCachedVerdicts, scopeSetsOf, withMadeUpScopes } from '../support/cached-verdicts.ts';
import {
  EXPANSIONS_DIR,
  expandAll,
  ofType,
  PARAMETER_SETS,
  translatorAvailable,
} from '../template/expansion.ts';

const available = translatorAvailable();
if (!available && process.env.CI !== undefined)
  throw new Error('CI needs python3 with aws-sam-translator for the template expansion tests');

const GITHUB = join(PROJECT_ROOT, 'node_modules/@octokit/openapi/generated/api.github.com.json');
const TEMPLATE = { path: 'template.yaml', text: readFileSync(join(PROJECT_ROOT, 'template.yaml'), 'utf8') };

/** GitHub's description with a required OAuth scope, and two operations left public. */
function withSecurity(doc: OpenApiDocument): OpenApiDocument {
  const paths = structuredClone(doc.paths) as Record<string, Record<string, Record<string, unknown>>>;
  for (const path of ['/zen', '/octocat']) {
    const get = paths[path]?.get;
    if (get === undefined) throw new Error(`GitHub's description has no GET ${path}`);
    get.security = [];
  }
  return {
    ...doc,
    paths,
    security: [{ oauth2: ['repo'] }],
    components: {
      ...doc.components,
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: 'https://github.com/login/oauth/access_token',
              scopes: { repo: 'r' },
            },
          },
        },
      },
    },
  };
}

describe("GitHub's REST description as template routes", () => {
  const source = loadOpenApi(GITHUB);

  it.skipIf(!available)(
    'is served through one {proxy+} route per API, which the SAM translator expands',
    () => {
      // Arrange
      const scoped = withSecurity(source);
      const cases = [
        { name: 'public', doc: source },
        { name: 'scoped', doc: scoped },
      ];
      for (const { name, doc } of cases) {
        // Act
        const started = performance.now();
        const result = templateRoutes(doc, routeTable(doc), TEMPLATE, 'api.github.com.json');
        const seconds = (performance.now() - started) / 1000;
        // Assert
        if (result === undefined || !('routing' in result)) throw new Error('no routing');
        const { routing } = result;
        expect(routing.layout).toBe('proxy');
        expect(seconds).toBeLessThan(30);
        // One event per operation: 4,892 statements in the validator's policy, far over Lambda's 20 KB.
        expect(routing.reasons[0]).toMatch(
          /^RequestValidatorFunction's resource-based policy would reach \d+ bytes/,
        );
        expect(routing.reasons).toContain(
          '/repos would have two variable children, {owner} and {template_owner} (API Gateway allows one)',
        );
        expect(routing.figures.lambdaPolicyBytes.RequestValidatorFunction).toBeLessThanOrEqual(
          LIMITS.lambdaPolicyBytes,
        );
        const byApi = (api: string) =>
          routing.events
            .filter((e) => e.api.logicalId === api)
            .map((e) => `${e.method} ${e.path} ${e.authorization}`);
        expect(byApi('OrdersApi')).toEqual(
          name === 'public'
            ? ['ANY / public', 'ANY /{proxy+} public']
            : ['GET /octocat public', 'GET /zen public', 'ANY / authorizer', 'ANY /{proxy+} authorizer'],
        );
        expect(routing.publicResources).toEqual(name === 'public' ? 'all' : ['GET/octocat', 'GET/zen']);
        const dir = join(EXPANSIONS_DIR, `github-${name}`);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, 'template.yaml');
        writeFileSync(file, result.file.content);
        const { expansions, resourceCounts } = expandAll(
          { defaults: PARAMETER_SETS.defaults ?? {} },
          dir,
          file,
        );
        expect(resourceCounts.defaults).toBeLessThan(500);
        const e = expansions.get('defaults');
        const body = (e?.resources.OrdersHttpApi?.properties.Body ?? {}) as {
          paths: Record<string, unknown>;
        };
        expect(Object.keys(body.paths).sort()).toEqual(
          name === 'public' ? ['/', '/{proxy+}'] : ['/', '/octocat', '/zen', '/{proxy+}'],
        );
        expect(e === undefined ? [] : ofType(e, 'AWS::ApiGateway::RestApi').length).toBe(2);
      }
    },
    180_000,
  );

  it('keeps every cached answer exact when the cache key holds the method and path (the proxy’s plan)', () => {
    const scoped = planned(withMadeUpScopes(routeTable(source)), { resources: 'proxy' });
    expectCachedVerdicts(scoped, scopeSetsOf(scoped), 1000);
  }, 120_000);
});
