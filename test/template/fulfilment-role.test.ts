// The service-to-service route, as CloudFormation deploys it (the SAM translator's output):
// POST /internal/fulfilment/{orderId}/callback on OrdersApi is authorized by API Gateway with
// AWS_IAM (no Lambda authorizer on it), invoked with the API's own permission (InvokeRole NONE),
// and FulfilmentCallbackRole may call exactly that route: its policy, evaluated as IAM does
// (`*` spans `/`), allows every request of the route and no other method ARN, of the route table
// or generated. docs/deploy.md#service-to-service-routes-aws_iam.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/generated/routes.ts';
import { routePatterns } from '../../shared/policy/policy-compiler.ts';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { evaluatePolicy, type PolicyStatement } from '../../tools/gateway/policy-evaluation.ts';
import { methodArnArb, splitMethodArn } from '../hostile/support/method-arns.ts';
import { type Expansion, expandAll, REQUIRED_PARAMETERS, translatorAvailable } from './expansion.ts';

const available = translatorAvailable();
if (!available && process.env.CI !== undefined)
  throw new Error('CI needs python3 with aws-sam-translator for the template expansion tests');

const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const CALLER = 'arn:aws:iam::210987654321:role/fulfilment-service';
const SETS = {
  defaults: { ...REQUIRED_PARAMETERS },
  caller: { ...REQUIRED_PARAMETERS, FulfilmentCallerPrincipalArn: CALLER, StageName: 'prod' },
};
const CALLBACK = ROUTES.find((r) => r.operationId === 'fulfilmentCallback');
const matcher = new RouteMatcher(ROUTES);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

let expansions: Map<string, Expansion>;
beforeAll(() => {
  if (available) expansions = expandAll(SETS, '.gatehouse/template-expansions/fulfilment-role').expansions;
}, 120_000);

/** The role's identity policy, as the local gateway's IAM matcher reads statements. */
function roleStatements(e: Expansion): PolicyStatement[] {
  const role = e.resources.FulfilmentCallbackRole;
  return list(role?.properties.Policies)
    .flatMap((p) => list(obj(obj(p).PolicyDocument).Statement))
    .map((raw) => {
      const s = obj(raw);
      return {
        effect: s.Effect as 'Allow' | 'Deny',
        actions: list(s.Action) as string[],
        resources: list(s.Resource) as string[],
      };
    });
}

describe.skipIf(!available)('the AWS_IAM fulfilment callback route (SAM translator output)', () => {
  it('is in the route table as an AWS_IAM route (no scope permits it)', () => {
    expect(CALLBACK).toMatchObject({
      method: 'POST',
      path: '/internal/fulfilment/{orderId}/callback',
      iam: true,
      scopeAlternatives: [],
    });
  });

  describe.each(Object.keys(SETS))('parameter set %s', (name) => {
    it('deploys the method with AWS_IAM alone, invoked without the caller’s credentials', () => {
      const e = expansions.get(name) as Expansion;
      const body = obj(e.resources.OrdersApi?.properties.Body);
      const schemes = obj(obj(body.components).securitySchemes);
      const post = obj(obj(obj(body.paths)['/internal/fulfilment/{orderId}/callback']).post);
      // Only the IAM scheme: the JWT authorizer (the API's default) is not on this method.
      expect(post.security).toEqual([{ AWS_IAM: [] }]);
      expect(obj(schemes.AWS_IAM)['x-amazon-apigateway-authtype']).toBe('awsSigv4');
      // InvokeRole NONE: without it SAM writes `credentials: arn:aws:iam::*:user/*` (the caller's).
      expect(Object.keys(obj(post['x-amazon-apigateway-integration']))).not.toContain('credentials');
      // And no other method of any API is AWS_IAM.
      for (const [id, api] of Object.entries(e.resources).filter(([, r]) => r.type.endsWith('::Api'))) {
        const paths = obj(obj(api.properties.Body).paths);
        for (const [path, item] of Object.entries(paths))
          for (const [method, op] of Object.entries(obj(item))) {
            const iam = JSON.stringify(obj(op).security ?? []).includes('AWS_IAM');
            expect({ id, path, method, iam }).toEqual({
              id,
              path,
              method,
              iam:
                id === 'OrdersApi' && path === '/internal/fulfilment/{orderId}/callback' && method === 'post',
            });
          }
      }
    });

    it('trusts FulfilmentCallerPrincipalArn, else the stack’s account, for one-hour sessions', () => {
      const e = expansions.get(name) as Expansion;
      const role = obj(e.resources.FulfilmentCallbackRole?.properties);
      const trust = list(obj(role.AssumeRolePolicyDocument).Statement).map(obj);
      expect(trust).toEqual([
        {
          Effect: 'Allow',
          Principal: { AWS: name === 'caller' ? CALLER : 'arn:aws:iam::123456789012:root' },
          Action: 'sts:AssumeRole',
        },
      ]);
      expect(role.MaxSessionDuration).toBe(3600);
      expect(role.ManagedPolicyArns).toBeUndefined();
    });

    it('allows exactly the callback route on every method ARN: the route table’s and generated ones', () => {
      const e = expansions.get(name) as Expansion;
      const stage = e.stack.parameters.StageName as string;
      const statements = roleStatements(e);
      // The resolver writes `!Ref OrdersApi` (the API id) as the logical ID.
      const apiId = e.stack.resourceRef?.('OrdersApi') ?? 'OrdersApi';
      const prefix = `arn:aws:execute-api:us-east-1:123456789012:${apiId}/${stage}`;
      // The role's patterns are the route's own exact patterns (docs/policies.md#how-policies-are-compiled).
      const own = routePatterns(CALLBACK as (typeof ROUTES)[number]);
      expect(statements).toEqual([
        { effect: 'Allow', actions: ['execute-api:Invoke'], resources: [`${prefix}/${own.allow}`] },
        { effect: 'Deny', actions: ['execute-api:Invoke'], resources: own.deny.map((d) => `${prefix}/${d}`) },
      ]);
      const expected = (arn: string) => {
        if (!arn.startsWith(`${prefix}/`)) return false;
        const { method, path } = splitMethodArn(arn, prefix);
        const found = matcher.lookup(method, path);
        return found.kind === 'found' && found.match.route === CALLBACK && method === 'POST';
      };
      const check = (arn: string) =>
        expect({ arn, allowed: evaluatePolicy(statements, arn) === 'allow' }).toEqual({
          arn,
          allowed: expected(arn),
        });
      // Every route of the table, with values and the widening tricks IAM's `*` would let through.
      for (const route of ROUTES)
        for (const value of ['ord_demo0001', 'x', 'a/b', '*', 'callback', 'internal'])
          for (const suffix of ['', '/', '/callback', '/x'])
            for (const other of [
              prefix,
              prefix.replace(`/${stage}`, '/other'),
              prefix.replace(apiId, 'otherapi1'),
            ])
              check(`${other}/${route.method}${route.path.replace(/\{[^{}]+\}/g, value)}${suffix}`);
      fc.assert(
        fc.property(methodArnArb(ROUTES, prefix), (arn) => {
          check(arn);
        }),
        { numRuns: Math.max(1, Math.floor(RUNS / 5)) },
      );
      // The route itself is reachable (the property is not vacuous).
      expect(evaluatePolicy(statements, `${prefix}/POST/internal/fulfilment/ord_demo0001/callback`)).toBe(
        'allow',
      );
    });
  });
});
