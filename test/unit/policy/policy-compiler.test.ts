import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeAuthorizerEvent } from '../../../shared/apigw/authorizer-request.ts';
import { answerFor, type PolicyResponse } from '../../../shared/authz/answer.ts';
import { CACHE_MODE, ROUTES } from '../../../shared/generated/routes.ts';
import {
  POLICY_DOCUMENT_MAX_BYTES,
  PolicyCache,
  type PolicyDocument,
  PolicyPlanMissingError,
  policyBytes,
  WORST_CASE_STAGE_PREFIX,
} from '../../../shared/policy/policy-compiler.ts';
import { PolicyCompiler, planned } from '../../../shared/policy/policy-planner.ts';
import {
  globTokens,
  patternCovers,
  patternMatches,
  templateTokens,
  tokensOverlap,
} from '../../../shared/policy/resource-pattern.ts';
import {
  apiGatewayPath,
  parseTemplate,
  type Route,
  RouteMatcher,
  type RouteTable,
  RouteTemplateError,
} from '../../../shared/routes/route-table.ts';
import { evaluatePolicy } from '../../../tools/gateway/policy-evaluation.ts';
import { checkPolicies } from '../../../tools/generate.ts';
import { documentPermits, methodArnArb, splitMethodArn } from '../../hostile/support/method-arns.ts';
import { syntheticRoutes } from '../../support/synthetic-routes.ts';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';

/** API Gateway's evaluation of a policy for one method ARN. */
function allows(policy: PolicyDocument, arn: string): boolean {
  const statements = policy.Statement.map((s) => ({
    effect: s.Effect,
    actions: [s.Action],
    resources: s.Resource,
  }));
  return evaluatePolicy(statements, arn) === 'allow';
}

const r = (method: Route['method'], path: string, scopes: string[] | null, greedy = false): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  scopeAlternatives: scopes === null ? null : [scopes],
  ...(greedy ? { greedy: true as const } : {}),
});

describe('resource patterns', () => {
  it.each([
    ['GET/orders/*', 'GET/orders/1', true],
    ['GET/orders/*', 'GET/orders/1/notes', true],
    ['GET/orders/*', 'GET/orders', false],
    ['GET/orders/?*', 'GET/orders/', false],
    ['GET/orders/?*', 'GET/orders/1', true],
    ['GET/orders/?', 'GET/orders/1', true],
    ['GET/orders/?', 'GET/orders/12', false],
    ['*/orders', 'DELETE/orders', true],
    ['GET/orders', 'GET/ordersX', false],
    ['GET/*/*', 'GET/a/', true],
    ['GET/a*b*c', 'GET/aXbYbZc', true],
    ['GET/a*b*c', 'GET/aXbYbZ', false],
  ])('%s matches %s: %s', (pattern, value, expected) => {
    expect(patternMatches(pattern, value)).toBe(expected);
  });

  it('matches as the product search does, for generated patterns and values', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '*', '?');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 8 }),
        (p, v) => {
          const pattern = p.join('');
          const value = v.join('');
          const literal = [...value].map((c) => ({
            kind: 'one' as const,
            cls: { kind: 'char' as const, c },
          }));
          expect(patternMatches(pattern, value)).toBe(tokensOverlap(globTokens(pattern), literal));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['GET/orders/*', '/orders/{id}/notes', true],
    ['GET/orders/*/notes', '/orders/{id}', false],
    ['GET/orders/*/*', '/orders/{id}', false],
    ['GET/orders/*/*', '/orders/{id}/notes', true],
    ['GET/files/*/*', '/files/{path+}', true],
    ['GET/v1/*:predict', '/v1/{name}:predict', true],
    ['GET/v1/*:explain', '/v1/{name}:predict', false],
  ])('%s reaches requests to GET %s: %s', (pattern, template, expected) => {
    expect(tokensOverlap(globTokens(pattern), templateTokens('GET', parseTemplate(template)))).toBe(expected);
  });

  it.each([
    ['GET/orders/?*', 'GET/orders/search', true],
    ['GET/orders/*/*', 'GET/orders/*/*/*', true],
    ['GET/*', 'GET/a?', true],
    ['GET/?*', 'GET/*', false],
    ['GET/a/?*', 'GET/b/x', false],
  ])('%s covers %s: %s', (general, specific, expected) => {
    expect(patternCovers(general, specific)).toBe(expected);
  });

  it('never claims a cover that a string refutes', () => {
    const alphabet = fc.constantFrom('a', '/', '*', '?');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 6 }),
        fc.array(alphabet, { maxLength: 6 }),
        fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 7 }),
        (g, s, v) => {
          const value = v.join('');
          if (patternCovers(g.join(''), s.join('')) && patternMatches(s.join(''), value))
            expect(patternMatches(g.join(''), value)).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('whole-API policies (cache mode api)', () => {
  const compiler = new PolicyCompiler(ROUTES);

  it('answers the demo API in mode api, as the generated module says', () => {
    expect(compiler.plan.mode).toBe('api');
    expect(CACHE_MODE).toBe('api');
    expect(compiler.plan.largestPolicyBytes).toBeLessThanOrEqual(POLICY_DOCUMENT_MAX_BYTES);
  });

  it('allows exactly what orders:read permits: non-empty parameters, no deeper paths', () => {
    const { document } = compiler.compile(new Set(['orders:read']), PREFIX);
    expect(document.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [`${PREFIX}/GET/health`, `${PREFIX}/GET/orders`, `${PREFIX}/GET/orders/?*`],
      },
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/GET/orders/*/*`] },
    ]);
    expect(allows(document, `${PREFIX}/GET/orders/ord_1`)).toBe(true);
    expect(allows(document, `${PREFIX}/GET/orders`)).toBe(true);
    // The refusals docs/policies.md#example lists, and more.
    for (const request of [
      'GET/orders/',
      'GET/orders/a/b',
      'GET/orders/a/',
      'GET/orders//',
      'GET/health/x',
      'GET/nope',
      'DELETE/orders/ord_1',
      'get/orders',
      'POST/orders',
    ])
      expect({ request, allowed: allows(document, `${PREFIX}/${request}`) }).toEqual({
        request,
        allowed: false,
      });
  });

  it('allows only the public routes to scopes that permit nothing else', () => {
    const { document } = compiler.compile(new Set(['unrelated']), PREFIX);
    expect(document.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${PREFIX}/GET/health`] },
    ]);
  });

  it('denies the whole stage when nothing at all is permitted', () => {
    const { document } = new PolicyCompiler([r('GET', '/a', ['x'])]).compile(new Set(), PREFIX);
    expect(document.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/*`] },
    ]);
  });

  it('denies a more specific route the caller may not use where its Allow would reach it', () => {
    const table = [r('GET', '/items/{id}', ['read']), r('GET', '/items/search', ['search'])];
    const c = new PolicyCompiler(table);
    expect(c.plan.mode).toBe('api');
    const { document } = c.compile(new Set(['read']), PREFIX);
    expect(document.Statement[1]?.Resource).toContain(`${PREFIX}/GET/items/search`);
    expect(allows(document, `${PREFIX}/GET/items/1`)).toBe(true);
    expect(allows(document, `${PREFIX}/GET/items/search`)).toBe(false);
    // With both permitted, the literal route's Allow is covered by the parameter's and left out.
    const both = c.compile(new Set(['read', 'search']), PREFIX).document;
    expect(both.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${PREFIX}/GET/items/?*`] },
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/GET/items/*/*`] },
    ]);
  });

  it('refuses at construction a route table the build did not plan (a configuration error)', () => {
    expect(() => new PolicyCache([r('GET', '/a', ['x'])])).toThrow(PolicyPlanMissingError);
    expect(() => new PolicyCache([r('GET', '/a', ['x'])])).toThrow(/npm run generate/);
  });

  it('memoizes policies per stage and scope set, whatever the scope order', () => {
    const cache = new PolicyCache(ROUTES);
    const a = cache.get(new Set(['orders:read', 'orders:write']), PREFIX);
    expect(cache.get(new Set(['orders:write', 'orders:read']), PREFIX)).toBe(a);
    expect(cache.get(new Set(['orders:read']), PREFIX)).not.toBe(a);
  });
});

describe('choosing the cache mode', () => {
  it('answers per route where glob cannot separate a permitted /a/{x} from /a/{x}/b (no renaming)', () => {
    const table = [
      r('GET', '/orders/{id}', ['orders:read']),
      r('GET', '/orders/{id}/notes', ['orders:admin']),
      r('GET', '/a/{x}/{y}', ['read']),
      r('GET', '/a/{x}/secret', ['admin']),
    ];
    expect(checkPolicies(table)).toEqual([]);
    const plan = new PolicyCompiler(table).plan;
    expect(plan.mode).toBe('route');
    expect(plan.reasons.join('\n')).toMatch(
      /Deny GET\/orders\/\*\/\* \(for GET \/orders\/\{id\}\) would refuse GET \/orders\/\{id\}\/notes/,
    );
  });

  it('answers per route where the Deny of a route the caller may not use would refuse a third route it may use', () => {
    // `/a:v` beats `{x}:v`, which beats `{x}`: with read only, Deny GET/?*:v (for `{x}:v`) would refuse `/a:v`.
    const table = [r('GET', '/{x}', ['read']), r('GET', '/{x}:v', ['admin']), r('GET', '/a:v', ['read'])];
    const plan = new PolicyCompiler(table).plan;
    expect(plan.mode).toBe('route');
    expect(plan.reasons).toEqual(['Deny GET/?*:v (GET /{x}:v over GET /{x}) would refuse GET /a:v']);
    // Whoever holds admin also holds read here: then no caller can be refused that way.
    const implied = [r('GET', '/{x}', ['read']), r('GET', '/{x}:v', ['read']), r('GET', '/a:v', ['read'])];
    expect(new PolicyCompiler(implied).plan.mode).toBe('api');
  });

  it('answers per route when a whole-API policy would not fit, sized with the longest stage prefix', () => {
    const table = syntheticRoutes(60);
    const plan = new PolicyCompiler(table).plan;
    expect(plan.mode).toBe('route');
    expect(plan.reasons).toEqual([`a whole-API policy would exceed ${POLICY_DOCUMENT_MAX_BYTES} bytes`]);
    expect(plan.largestPolicyBytes).toBeLessThanOrEqual(POLICY_DOCUMENT_MAX_BYTES);
    expect(WORST_CASE_STAGE_PREFIX.length).toBeGreaterThanOrEqual(128 + 60);
  });

  it('answers per resource the routes that share one, and per path where glob cannot separate them', () => {
    const shared = [
      r('POST', '/v1/{name}:predict', ['predict']),
      r('POST', '/v1/{name}:explain', ['explain']),
    ];
    const plan = new PolicyCompiler(shared).plan;
    expect(apiGatewayPath(shared[0] as Route)).toBe('/v1/{name}');
    // Small and exact: one whole-API policy; an HTTP API route key would not name one operation.
    expect(plan.mode).toBe('api');
    expect(plan.routeKeysExact).toBe(false);
    const nested = [...shared, r('POST', '/v1/{name}', ['y']), r('POST', '/v1/{name}/{x}', ['x'])];
    expect(new PolicyCompiler(nested).plan.mode).toBe('route');
    // A Deny for `{name}:x` (when not permitted) would refuse the more specific `{name}.y:x`.
    const tangled = [
      r('POST', '/v1/{name}', ['y']),
      r('POST', '/v1/{name}:x', ['x']),
      r('POST', '/v1/{name}.y:x', ['z']),
    ];
    const path = new PolicyCompiler([...tangled, ...nested.slice(3)]).plan;
    expect(path.mode).toBe('path');
    expect(path.reasons.join('\n')).toMatch(/would refuse POST \/v1\/\{name\}\.y:x/);
  });

  it('answers per path, never per resource, when the template serves the document through {proxy+}', () => {
    // The resource and route key in a cache key are then `/{proxy+}`, which names no operation.
    const table = syntheticRoutes(60);
    const proxy = new PolicyCompiler(table, { resources: 'proxy' }).plan;
    expect(new PolicyCompiler(table).plan.mode).toBe('route');
    expect(proxy.mode).toBe('path');
    expect(proxy.routeKeysExact).toBe(false);
    expect(proxy.reasons).toContain(
      'the template serves the document through one {proxy+} route per API, whose resource names no operation',
    );
    expect(proxy.largestPolicyBytes).toBeLessThanOrEqual(POLICY_DOCUMENT_MAX_BYTES);
    // A table whose whole-API policy is exact keeps it: the credential alone keys it on any route.
    const small = [r('GET', '/orders', ['read']), r('GET', '/orders/{id}', ['read'])];
    expect(new PolicyCompiler(small, { resources: 'proxy' }).plan).toMatchObject({
      mode: 'api',
      routeKeysExact: false,
    });
  });

  it('refuses at build time only a route whose own Allow cannot fit, and answers a long one without its Denies', () => {
    const long = r('GET', `/${'a'.repeat(1400)}/{x}/{y}/{z}/{w}`, ['read']);
    const plan = new PolicyCompiler([long]).plan;
    expect(plan.largestPolicyBytes).toBeLessThanOrEqual(POLICY_DOCUMENT_MAX_BYTES);
    expect(checkPolicies([long])).toEqual([]);
    const huge = r('GET', `/${'a'.repeat(7000)}`, ['read']);
    expect(checkPolicies([huge])[0]).toMatch(
      /an authorizer answer would be \d+ bytes \(max 6144, with the longest stage prefix\)/,
    );
  });

  it('refuses a template that cannot be routed (the functions read the generated ones unchecked)', () => {
    expect(() => new PolicyCompiler([r('GET', '/a/{x}{y}', ['read'])])).toThrow(RouteTemplateError);
    expect(checkPolicies([r('GET', '/a/{x+}/b', ['read'])])).toEqual([
      '/a/{x+}/b: a greedy parameter must be the last segment',
    ]);
  });

  it('plans a 1,200-route table without a whole-API proof (the size bound rules it out first)', () => {
    const table = syntheticRoutes(1200);
    const compiler = new PolicyCompiler(table);
    expect(compiler.plan.mode).toBe('route');
    const all = new Set(table.flatMap((x) => (x.scopeAlternatives ?? []).flat()));
    expect(policyBytes(compiler.routePolicy(table[7] as Route, all, WORST_CASE_STAGE_PREFIX))).toBeLessThan(
      POLICY_DOCUMENT_MAX_BYTES,
    );
  });
});

// --- Properties: the answer reused from API Gateway's cache gives a fresh decision's verdict ---

const SCOPES = ['s1', 's2', 's3'];
const segmentChoice = fc.constantFrom('a', 'b', 'c', 'a:v', 'wa', '{x}', '{y}', '{x}:v', 'w{x}', '{x}.y:v');
const alternatives = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 5, arbitrary: fc.array(fc.subarray(SCOPES, { minLength: 1 }), { minLength: 1, maxLength: 2 }) },
);
const tableArb: fc.Arbitrary<RouteTable> = fc
  .array(
    fc.record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'DELETE'),
      segments: fc.array(segmentChoice, { minLength: 1, maxLength: 3 }),
      greedy: fc.boolean(),
      scopes: alternatives,
    }),
    { minLength: 1, maxLength: 7 },
  )
  .map((raw) => {
    const seen = new Set<string>();
    const routes: Route[] = [];
    for (const x of raw) {
      const last = x.segments.at(-1) ?? '';
      const greedy = x.greedy && /^\{[a-z]\}$/.test(last);
      const path = `/${x.segments.join('/')}`;
      // One route per method and API Gateway-level shape (as OpenAPI allows one per path template).
      const shape = `${x.method} ${path.replace(/\{[a-z]\}/g, '{}')} ${greedy}`;
      if (seen.has(shape)) continue;
      seen.add(shape);
      routes.push({
        method: x.method as Route['method'],
        path,
        operationId: `${x.method} ${path}`,
        scopeAlternatives: x.scopes,
        ...(greedy ? { greedy: true as const } : {}),
      });
    }
    return routes;
  });

/**
 * Method ARNs aimed at where policies go wrong, for one table: every template with each of the
 * table's literal segments (and a few others) as parameter values (a parameter route called with a
 * more specific route's literal), followed by nothing, a slash or deeper segments, under its own
 * method and another one; then hostile ARNs of every other kind.
 */
function aimedArns(table: RouteTable): string[] {
  const literals = [
    ...new Set(table.flatMap((x) => x.path.split('/').filter((p) => p !== '' && !p.includes('{')))),
  ];
  const values = [...new Set([...literals, 'q', 'a:v', 'wa', 'q.y:x', ''])];
  const methods = [...new Set(table.map((x) => x.method))];
  const arns = new Set<string>();
  for (const route of table)
    for (const value of values)
      for (const suffix of ['', '/', '/a', '/a/b'])
        for (const method of [route.method, ...methods.filter((m) => m !== route.method).slice(0, 1)])
          arns.add(`${PREFIX}/${method}${route.path.replace(/\{[^{}]+\}/g, value)}${suffix}`);
  for (const arn of fc.sample(methodArnArb(table, PREFIX), 40)) arns.add(arn);
  return [...arns];
}

/** Route tables per property; `POLICY_RUNS` raises it for a deeper local search. */
const TABLES = Number(process.env.POLICY_RUNS ?? 300);

/** Every subset of the scopes. */
const SCOPE_SETS = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) => SCOPES.filter((_, i) => (bits >> i) & 1));

/** The REST REQUEST event API Gateway sends for an ARN: `resource` is the resource it routed to. */
function restRequest(arn: string, resource: string) {
  const { method, path } = splitMethodArn(arn, PREFIX);
  return normalizeAuthorizerEvent(
    {
      type: 'REQUEST',
      methodArn: arn,
      resource,
      path,
      httpMethod: method,
      headers: {},
      requestContext: { resourcePath: resource, httpMethod: method },
    },
    false,
  );
}

describe('cache properties over generated route tables', () => {
  it('the answer cached under one request gives every request with the same cache key a fresh verdict', () => {
    // For each table: every scope set, and method ARNs aimed at each template; API Gateway routes a
    // request to a resource as the matcher does (a request no route takes goes to a catch-all
    // resource, as in an existing API the authorizer is attached to), and reuses the answer cached
    // for the first request of a cache key for every later request of that key.
    const modes = { api: 0, route: 0, path: 0 };
    fc.assert(
      fc.property(tableArb, (table) => {
        const matcher = new RouteMatcher(table);
        const policies = new PolicyCache(planned(table));
        const mode = policies.mode;
        modes[mode]++;
        const requests = aimedArns(table).map((arn) => {
          const { method, path } = splitMethodArn(arn, PREFIX);
          const found = matcher.lookup(method, path);
          const resource = found.kind === 'found' ? apiGatewayPath(found.match.route) : '/{proxy+}';
          const key = mode === 'api' ? '' : mode === 'route' ? `${method} ${resource}` : `${method} ${path}`;
          return { arn, key, request: restRequest(arn, resource) };
        });
        for (const scopes of SCOPE_SETS) {
          const granted = new Set(scopes);
          const identity = { principalId: 'p', scopes, context: {} };
          const cached = new Map<string, PolicyDocument>();
          for (const { arn, key, request } of requests) {
            const own = (answerFor(request, identity, matcher, policies).response as PolicyResponse)
              .policyDocument;
            if (!cached.has(key)) cached.set(key, own);
            const expected = documentPermits(table, granted, arn, PREFIX);
            const fresh = allows(own, arn);
            const reused = allows(cached.get(key) as PolicyDocument, arn);
            if (fresh !== expected || reused !== expected)
              // One line with the whole counterexample (the table included), to replay it.
              expect(JSON.stringify({ mode, scopes, arn, fresh, reused, table })).toBe(
                JSON.stringify({ mode, scopes, arn, fresh: expected, reused: expected, table }),
              );
          }
        }
      }),
      { numRuns: TABLES },
    );
    // The generator reaches every mode (a property that never left `api` would prove little).
    expect(modes.api).toBeGreaterThan(TABLES / 10);
    expect(modes.route).toBeGreaterThan(TABLES / 10);
    expect(modes.path).toBeGreaterThan(TABLES / 100);
  }, 180_000);
});
