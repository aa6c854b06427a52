import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { compilePolicy, PolicyCache, type PolicyDocument } from '../../../shared/policy/policy-compiler.ts';
import { patternMatches, patternReachesRoute } from '../../../shared/policy/resource-pattern.ts';
import {
  type Route,
  RouteMatcher,
  type RouteTable,
  scopesPermit,
} from '../../../shared/routes/route-table.ts';
import { checkPolicies } from '../../../tools/generate.ts';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';

/** API Gateway's evaluation: an explicit Deny wins, then any Allow, else denied. */
function evaluate(policy: PolicyDocument, arn: string): boolean {
  const matches = (effect: string) =>
    policy.Statement.some((s) => s.Effect === effect && s.Resource.some((r) => patternMatches(r, arn)));
  return !matches('Deny') && matches('Allow');
}

const r = (method: Route['method'], path: string, scopes: string[] | null): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  scopeAlternatives: scopes === null ? null : [scopes],
});

/** A table where a wildcard Allow reaches a forbidden route: GET /orders/* covers GET /orders/{id}/notes. */
const NESTED: RouteTable = [
  r('GET', '/orders', ['orders:read']),
  r('GET', '/orders/{id}', ['orders:read']),
  r('GET', '/orders/{id}/notes', ['orders:admin']),
  r('DELETE', '/orders/{id}', ['orders:admin']),
];

describe('resource patterns', () => {
  it.each([
    ['GET/orders/*', 'GET/orders/1', true],
    ['GET/orders/*', 'GET/orders/1/notes', true],
    ['GET/orders/*', 'GET/orders', false],
    ['GET/orders/?', 'GET/orders/1', true],
    ['GET/orders/?', 'GET/orders/12', false],
    ['*/orders', 'DELETE/orders', true],
    ['GET/orders', 'GET/ordersX', false],
  ])('%s matches %s: %s', (pattern, value, expected) => {
    expect(patternMatches(pattern, value)).toBe(expected);
  });

  it.each([
    ['GET/orders/*', 'GET/orders/{id}/notes', true],
    ['GET/orders/*/notes', 'GET/orders/{id}', false],
    ['GET/orders/*', 'DELETE/orders/{id}', false],
    ['GET/*', 'GET/orders/{id}', true],
    ['GET/orders/x*', 'GET/orders/{id}', true],
    ['GET/orders/*/x', 'GET/orders/{id}/{sub}', true],
  ])('%s reaches route %s: %s', (pattern, resource, expected) => {
    expect(patternReachesRoute(pattern, resource)).toBe(expected);
  });
});

describe('compilePolicy', () => {
  it('allows exactly the routes orders:read permits, with path parameters as wildcards', () => {
    const { document } = compilePolicy(ROUTES, new Set(['orders:read']), PREFIX);
    expect(document.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [`${PREFIX}/GET/orders`, `${PREFIX}/GET/orders/*`],
      },
    ]);
  });

  it('denies the whole stage when the scopes permit nothing', () => {
    const { document, permitted } = compilePolicy(ROUTES, new Set(['unrelated']), PREFIX);
    expect(permitted).toEqual([]);
    expect(document.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/*`] },
    ]);
  });

  it('adds an explicit Deny where an Allow wildcard would reach a forbidden route', () => {
    const { document, shadowed } = compilePolicy(NESTED, new Set(['orders:read']), PREFIX);
    expect(document.Statement[1]).toEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Deny',
      Resource: [`${PREFIX}/GET/orders/*/notes`],
    });
    expect(shadowed).toEqual([]);
    expect(evaluate(document, `${PREFIX}/GET/orders/ord_1`)).toBe(true);
    expect(evaluate(document, `${PREFIX}/GET/orders/ord_1/notes`)).toBe(false);
  });

  it('reports routes an explicit Deny would shadow, and the build refuses such a table', () => {
    const table: RouteTable = [r('GET', '/a/{x}/{y}', ['read']), r('GET', '/a/{x}/secret', ['admin'])];
    expect(compilePolicy(table, new Set(['read']), PREFIX).shadowed.map((s) => s.path)).toEqual([
      '/a/{x}/{y}',
    ]);
    expect(checkPolicies(table).join('\n')).toMatch(
      /GET \/a\/\{x\}\/\{y\} is permitted but an explicit Deny/,
    );
    expect(checkPolicies(ROUTES)).toEqual([]);
  });

  it('gives every cached policy the same verdict as the route table, for every route and scope set', () => {
    // The property that makes API Gateway's authorizer cache safe: the policy compiled for one
    // request answers every other request of the same caller exactly as a fresh decision would.
    const scopes = ['orders:read', 'orders:write', 'orders:admin'];
    const segment = fc.stringMatching(/^[a-z0-9_]{1,8}$/);
    for (const table of [ROUTES, NESTED]) {
      const matcher = new RouteMatcher(table);
      const protectedRoutes = table.filter((x) => x.scopeAlternatives !== null);
      fc.assert(
        fc.property(
          fc.subarray(scopes),
          fc.constantFrom(...protectedRoutes),
          fc.array(segment, { minLength: 3, maxLength: 3 }),
          (granted, route, values) => {
            let i = 0;
            const path = route.path.replace(/\{[^}]+\}/g, () => values[i++] ?? 'x');
            const { document } = compilePolicy(table, new Set(granted), PREFIX);
            const found = matcher.lookup(route.method, path);
            const expected = found.kind === 'found' && scopesPermit(found.match.route, new Set(granted));
            expect(evaluate(document, `${PREFIX}/${route.method}${path}`)).toBe(expected);
          },
        ),
        { numRuns: 2000 },
      );
    }
  });

  it('memoizes policies per stage and scope set, whatever the scope order', () => {
    const cache = new PolicyCache(ROUTES);
    const a = cache.get(new Set(['orders:read', 'orders:write']), PREFIX);
    expect(cache.get(new Set(['orders:write', 'orders:read']), PREFIX)).toBe(a);
    expect(cache.get(new Set(['orders:read']), PREFIX)).not.toBe(a);
  });
});
