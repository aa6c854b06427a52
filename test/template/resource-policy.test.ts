// The REST APIs' resource policies, as CloudFormation deploys them (the SAM translator's output),
// never allow a route that a Lambda authorizer guards. API Gateway evaluates the authorizer's policy
// together with the resource policy, and for a caller of the same account an Allow in either is
// enough (Table A of https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):
// an Allow here would turn every method an authorizer's policy is silent about into an Allow.
// So, on every method ARN (not only the routes of the table): the resource policy allows exactly the
// public routes of openapi.yaml, at the deployed stage, and nothing else; with AllowedSourceCidrs it
// denies every other source.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/generated/routes.ts';
import { HTTP_METHODS } from '../../shared/routes/route-table.ts';
import { evaluateResourcePolicy, readResourcePolicy } from '../../tools/gateway/resource-policy.ts';
import { type Expansion, expandAll, ofType, PARAMETER_SETS, translatorAvailable } from './expansion.ts';

const available = translatorAvailable();
if (!available && process.env.CI !== undefined)
  throw new Error('CI needs python3 with aws-sam-translator for the template expansion tests');

const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const SET_NAMES = Object.keys(PARAMETER_SETS);
const INSIDE = '203.0.113.9';
const OUTSIDE = '192.0.2.77';

let expansions: Map<string, Expansion>;
beforeAll(() => {
  if (available)
    expansions = expandAll(PARAMETER_SETS, '.gatehouse/template-expansions/resource-policy').expansions;
}, 120_000);

/** `METHOD/path` of every route the document declares without security. */
const PUBLIC = new Set(ROUTES.filter((r) => r.scopeAlternatives === null).map((r) => `${r.method}${r.path}`));

/** The resource policy statements of a deployed REST API (SAM writes them into its OpenAPI body). */
function statementsOf(api: { properties: Readonly<Record<string, unknown>> }) {
  const body = api.properties.Body as Record<string, unknown>;
  const policy = body['x-amazon-apigateway-policy'] as { Statement: unknown } | undefined;
  return readResourcePolicy({ CustomStatements: policy?.Statement ?? [] }) ?? [];
}

/** A path segment, including the characters that matter to IAM patterns and to routing. */
const segment = fc.oneof(
  fc.constantFrom('health', 'orders', 'GET', 'v1', 'prod', '*', '?', '', 'ord_1', '%2F', '..'),
  fc.stringMatching(/^[A-Za-z0-9_.~%*?-]{1,6}$/),
);

describe.skipIf(!available)('the REST APIs’ resource policies (SAM translator output)', () => {
  it('has public routes to allow (the demo document declares GET /health without security)', () => {
    expect([...PUBLIC]).toEqual(['GET/health']);
  });

  describe.each(SET_NAMES)('parameter set %s', (name) => {
    it('allows exactly the public routes at the deployed stage, on every method ARN', () => {
      const e = expansions.get(name) as Expansion;
      const stage = e.stack.parameters.StageName as string;
      const restricted = (e.stack.parameters.AllowedSourceCidrs ?? '') !== '';
      for (const [id, api] of ofType(e, 'AWS::ApiGateway::RestApi')) {
        const statements = statementsOf(api);
        const prefix = `arn:aws:execute-api:us-east-1:123456789012:${id}`;
        fc.assert(
          fc.property(
            fc.constantFrom(stage, 'Stage', 'v2', '*', `${stage}x`),
            fc.constantFrom(...HTTP_METHODS, 'ANY', 'get'),
            fc.array(segment, { maxLength: 5 }),
            fc.boolean(),
            (arnStage, method, segments, trailingSlash) => {
              const path = `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
              const arn = `${prefix}/${arnStage}/${method}${path}`;
              const expected = arnStage === stage && PUBLIC.has(`${method}${path}`);
              expect(evaluateResourcePolicy(statements, arn, prefix, INSIDE) === 'allow').toBe(expected);
              if (restricted)
                expect(evaluateResourcePolicy(statements, arn, prefix, OUTSIDE)).toBe('explicit_deny');
            },
          ),
          { numRuns: Math.max(1, Math.floor(RUNS / 10)) },
        );
        // Every route of the table, with the widening tricks that IAM's `*` would let through.
        for (const route of ROUTES) {
          const path = route.path.replace(/\{[^}]+\}/g, 'x');
          for (const arn of [
            `${prefix}/${stage}/${route.method}${path}`,
            `${prefix}/${stage}/${route.method}${path}/deeper`,
            `${prefix}/${stage}/POST/a/${route.method}${path}`,
            `${prefix}/other/${stage}/${route.method}${path}`,
          ]) {
            const expected =
              arn === `${prefix}/${stage}/${route.method}${path}` && route.scopeAlternatives === null;
            expect({
              arn,
              allowed: evaluateResourcePolicy(statements, arn, prefix, INSIDE) === 'allow',
            }).toEqual({
              arn,
              allowed: expected,
            });
          }
        }
      }
    });
  });
});
