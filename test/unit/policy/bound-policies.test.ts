// Policies of routes with bound path parameters (docs/tenant-binding.md): the caller's own value is
// written where the parameter is, never a wildcard, and the plan keeps every answer exact on every
// method ARN, in every cache mode. What the build refuses to bind, and why.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeAuthorizerEvent } from '../../../shared/apigw/authorizer-request.ts';
import { answerFor, type Identity, type PolicyResponse } from '../../../shared/authz/answer.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { PolicyCache, type PolicyDocument } from '../../../shared/policy/policy-compiler.ts';
import { bindingProblems, PolicyCompiler, planned } from '../../../shared/policy/policy-planner.ts';
import {
  type BoundValues,
  checkBoundValue,
  type PathBinding,
  resolveBoundValues,
} from '../../../shared/routes/path-binding.ts';
import {
  apiGatewayPath,
  type Route,
  RouteMatcher,
  type RouteTable,
  RouteTemplateError,
} from '../../../shared/routes/route-table.ts';
import { evaluatePolicy } from '../../../tools/gateway/policy-evaluation.ts';
import { documentPermits, methodArnArb, splitMethodArn } from '../../hostile/support/method-arns.ts';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
const TENANT: PathBinding = {
  param: 'tenantId',
  claim: 'custom:tenant_id',
  credential: 'tenant',
  pattern: '^[a-z0-9][a-z0-9-]{2,31}$',
  maxLength: 32,
};

function allows(policy: PolicyDocument, arn: string): boolean {
  const statements = policy.Statement.map((s) => ({
    effect: s.Effect,
    actions: [s.Action],
    resources: s.Resource,
  }));
  return evaluatePolicy(statements, arn) === 'allow';
}

const bound = (value: unknown, binding: PathBinding = TENANT): BoundValues => ({
  [binding.param]: checkBoundValue(binding, value),
});

const r = (
  method: Route['method'],
  path: string,
  scopes: string[] | null,
  extra: Partial<Pick<Route, 'bindings' | 'greedy' | 'iam'>> = {},
): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  scopeAlternatives: scopes === null ? null : [scopes],
  ...extra,
});

describe('the demo API’s tenant routes (mode api)', () => {
  const cache = new PolicyCache(ROUTES);

  it('writes the caller’s own tenant where {tenantId} is, with the Denies of the other parameters', () => {
    // Act
    const { document } = cache.get(new Set(['orders:read']), PREFIX, bound('acme'));

    // Assert
    expect(document.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [
          `${PREFIX}/GET/health`,
          `${PREFIX}/GET/orders`,
          `${PREFIX}/GET/orders/?*`,
          `${PREFIX}/GET/tenants/acme/orders`,
          `${PREFIX}/GET/tenants/acme/orders/?*`,
        ],
      },
      {
        Action: 'execute-api:Invoke',
        Effect: 'Deny',
        Resource: [`${PREFIX}/GET/orders/*/*`, `${PREFIX}/GET/tenants/acme/orders/*/*`],
      },
    ]);
  });

  it.each(['GET/tenants/acme/orders', 'GET/tenants/acme/orders/ord_acme0001'])(
    'allows the caller’s own path %s',
    (request) => {
      const { document } = cache.get(new Set(['orders:read']), PREFIX, bound('acme'));
      expect(allows(document, `${PREFIX}/${request}`)).toBe(true);
    },
  );

  it.each([
    'GET/tenants/globex/orders',
    'GET/tenants/globex/orders/ord_globex01',
    'GET/tenants/acmes/orders',
    'GET/tenants/acm/orders',
    'GET/tenants/ACME/orders',
    'GET/tenants/%61cme/orders',
    'GET/tenants/acme/x/orders',
    'GET/tenants/x/acme/orders',
    'GET/tenants/acme/orders/a/b',
    'GET/tenants/acme/orders/',
    'GET/tenants//orders',
    'GET/tenants/*/orders',
    'POST/internal/fulfilment/ord_demo0001/callback',
  ])('refuses %s to a caller of tenant acme', (request) => {
    const { document } = cache.get(
      new Set(['orders:read', 'orders:write', 'orders:admin']),
      PREFIX,
      bound('acme'),
    );
    expect(allows(document, `${PREFIX}/${request}`)).toBe(false);
  });

  it.each([undefined, '*', 'acme/orders', 'ACME'])(
    'allows no tenant path at all when the caller’s value is %j (not usable)',
    (value) => {
      const { document } = cache.get(new Set(['orders:read']), PREFIX, bound(value));
      expect(JSON.stringify(document)).not.toContain('tenants');
      expect(allows(document, `${PREFIX}/GET/orders`)).toBe(true);
    },
  );

  it('never mixes up two tenants with the same scopes in its memo', () => {
    const scopes = new Set(['orders:read']);
    const acme = cache.get(scopes, PREFIX, bound('acme'));
    const globex = cache.get(scopes, PREFIX, bound('globex'));
    expect(cache.get(scopes, PREFIX, bound('acme'))).toBe(acme);
    expect(allows(globex.document, `${PREFIX}/GET/tenants/acme/orders`)).toBe(false);
    expect(allows(globex.document, `${PREFIX}/GET/tenants/globex/orders`)).toBe(true);
  });

  it('never allows the AWS_IAM route, whatever the scopes', () => {
    const { document } = cache.get(
      new Set(['orders:read', 'orders:write', 'orders:admin']),
      PREFIX,
      bound('acme'),
    );
    expect(JSON.stringify(document)).not.toContain('internal');
  });
});

describe('answerFor on bound routes', () => {
  const matcher = new RouteMatcher(ROUTES);
  const cache = new PolicyCache(ROUTES);
  const identity = (value: unknown): Identity => ({
    principalId: 'alice',
    scopes: ['orders:read'],
    context: {},
    bound: resolveBoundValues([TENANT], 'claim', () => value),
  });
  const token = (path: string, method = 'GET') =>
    normalizeAuthorizerEvent(
      { type: 'TOKEN', authorizationToken: 'Bearer x', methodArn: `${PREFIX}/${method}${path}` },
      false,
    );

  it.each([
    ['acme', '/tenants/acme/orders', 'allowed'],
    ['acme', '/tenants/globex/orders', 'tenant_mismatch'],
    [undefined, '/tenants/acme/orders', 'tenant_claim_missing'],
    ['*', '/tenants/acme/orders', 'tenant_claim_unsafe'],
    ['acme/orders', '/tenants/acme/orders', 'tenant_claim_unsafe'],
    ['ACME', '/tenants/ACME/orders', 'tenant_claim_invalid'],
    [42, '/tenants/acme/orders', 'tenant_claim_invalid'],
  ])('answers a caller of tenant %j on %s: %s', (value, path, reason) => {
    const a = answerFor(token(path), identity(value), matcher, cache);
    expect({ effect: a.effect, reason: a.reason }).toEqual({
      effect: reason === 'allowed' ? 'allow' : 'deny',
      reason,
    });
    expect(allows((a.response as PolicyResponse).policyDocument, `${PREFIX}/GET${path}`)).toBe(
      reason === 'allowed',
    );
  });

  it('refuses the AWS_IAM route with its own reason', () => {
    const a = answerFor(
      token('/internal/fulfilment/ord_demo0001/callback', 'POST'),
      identity('acme'),
      matcher,
      cache,
    );
    expect({ effect: a.effect, reason: a.reason }).toEqual({ effect: 'deny', reason: 'route_aws_iam' });
  });

  it('decides an HTTP API simple response by the route ARN’s path (the stage left out), not the route key', () => {
    // A named stage: rawPath keeps `/v1`, the route ARN does not. The route key is the same for
    // every tenant, so the key must hold the path (routeKeysExact is false for this table).
    const simple = (path: string) =>
      normalizeAuthorizerEvent(
        {
          type: 'REQUEST',
          version: '2.0',
          routeArn: `${PREFIX}/GET${path}`,
          routeKey: 'GET /tenants/{tenantId}/orders',
          rawPath: `/v1${path}`,
          headers: {},
          requestContext: {
            http: { method: 'GET', path: `/v1${path}` },
            routeKey: 'GET /tenants/{tenantId}/orders',
          },
        },
        true,
      );
    expect(cache.plan.routeKeysExact).toBe(false);
    expect(answerFor(simple('/tenants/acme/orders'), identity('acme'), matcher, cache).response).toEqual({
      isAuthorized: true,
      context: {},
    });
    expect(answerFor(simple('/tenants/globex/orders'), identity('acme'), matcher, cache).reason).toBe(
      'tenant_mismatch',
    );
  });
});

describe('what the build binds', () => {
  const bind = (param = 'tenantId', extra: Partial<PathBinding> = {}): { bindings: PathBinding[] } => ({
    bindings: [{ ...TENANT, param, ...extra }],
  });

  it('accepts whole segments, also beside a greedy parameter when only bound ones come before', () => {
    const table = [
      r('GET', '/tenants/{tenantId}/orders/{id}', ['read'], bind()),
      r('GET', '/tenants/{tenantId}/files/{path}', ['read'], { ...bind(), greedy: true }),
    ];
    expect(bindingProblems(table)).toEqual([]);
  });

  it.each([
    [r('GET', '/t/{tenantId}.json', ['r'], bind()), 'must be a whole path segment'],
    [r('GET', '/t/{tenantId}', ['r'], { ...bind(), greedy: true }), 'must be a whole path segment'],
    [r('GET', '/t/{other}', ['r'], bind()), 'the path has no such parameter'],
    [
      r('GET', '/{org}/t/{tenantId}/{path}', ['r'], { ...bind(), greedy: true }),
      'parameter "org" comes before it',
    ],
    [r('GET', '/t/{tenantId}', null, bind()), 'a public route has no bound parameters'],
    [r('POST', '/t/{tenantId}', [], { ...bind(), iam: true }), 'an AWS_IAM route has no bound parameters'],
    [r('GET', '/t/{tenantId}', ['r'], bind('tenantId', { maxLength: 129 })), 'at most 128 characters'],
    [r('GET', '/t/{tenantId}', ['r'], bind('tenantId', { enum: ['a*'] })), 'not unreserved characters'],
    [r('GET', '/t/{tenantId}', ['r'], bind('tenantId', { pattern: '(' })), 'not a valid regular expression'],
    [r('GET', '/t/{tenant-id}', ['r'], bind('tenant-id')), 'its name must be a letter'],
  ])('refuses %j: %s', (route, why) => {
    expect(bindingProblems([route]).join('\n')).toContain(why);
    expect(() => new PolicyCompiler([route])).toThrow(RouteTemplateError);
  });

  it('refuses one parameter name bound two ways', () => {
    const table = [
      r('GET', '/a/{tenantId}', ['r'], bind()),
      r('GET', '/b/{tenantId}', ['r'], bind('tenantId', { claim: 'org' })),
    ];
    expect(bindingProblems(table)).toEqual([
      'GET /b/{tenantId}: path parameter "tenantId" cannot be bound: it is bound another way (claim, credential or schema) on another route',
    ]);
  });

  it('answers per resource when a less specific route also takes a bound route’s requests', () => {
    // GET /{a}/{b}/orders takes /tenants/<any>/orders too: its Allow would reach other tenants'
    // paths, and no Deny can spare the caller's own (IAM has no negation).
    const table = [
      r('GET', '/tenants/{tenantId}/orders', ['read'], bind()),
      r('GET', '/{a}/{b}/orders', ['read']),
    ];
    const plan = new PolicyCompiler(table).plan;
    expect(plan.mode).not.toBe('api');
    expect(plan.reasons).toContain(
      'GET /{a}/{b}/orders takes requests of GET /tenants/{tenantId}/orders, whose parameters are bound',
    );
  });

  it('sizes answers with the longest value a binding takes', () => {
    const short = new PolicyCompiler([r('GET', '/t/{tenantId}', ['r'], bind('tenantId', { maxLength: 3 }))])
      .plan;
    const long = new PolicyCompiler([r('GET', '/t/{tenantId}', ['r'], bind('tenantId', { maxLength: 128 }))])
      .plan;
    expect(long.largestPolicyBytes - short.largestPolicyBytes).toBe(125);
  });
});

// --- Property: over generated tables with bound parameters, every cached answer stays exact ---

const SCOPES = ['s1', 's2'];
const X: PathBinding = { param: 'x', claim: 't', pattern: '^[a-z]+$', maxLength: 8 };
const segmentChoice = fc.constantFrom('a', 'b', 'wa', '{x}', '{y}', '{x}:v', 'w{y}');
const tableArb: fc.Arbitrary<RouteTable> = fc
  .array(
    fc.record({
      method: fc.constantFrom('GET', 'GET', 'POST'),
      segments: fc.array(segmentChoice, { minLength: 1, maxLength: 3 }),
      greedy: fc.boolean(),
      scopes: fc.subarray(SCOPES, { minLength: 1 }),
      bound: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((raw) => {
    const seen = new Set<string>();
    const routes: Route[] = [];
    for (const x of raw) {
      const last = x.segments.at(-1) ?? '';
      const greedy = x.greedy && /^\{[a-z]\}$/.test(last);
      const path = `/${x.segments.join('/')}`;
      const shape = `${x.method} ${path.replace(/\{[a-z]\}/g, '{}')} ${greedy}`;
      if (seen.has(shape)) continue;
      seen.add(shape);
      const route = r(x.method as Route['method'], path, x.scopes, greedy ? { greedy: true } : {});
      const withBinding = { ...route, bindings: [X] };
      // Bound where the build would bind it (a whole `{x}` segment, ...), else left unbound.
      routes.push(x.bound && bindingProblems([withBinding]).length === 0 ? withBinding : route);
    }
    return routes;
  })
  .filter((routes) => routes.some((route) => route.bindings !== undefined));

/** Callers' values for `x`: usable ones that are also literal segments of the tables, and hostile ones. */
const VALUES: readonly unknown[] = ['a', 'b', 'q', 'wa', undefined, '*', 'a/b', 'A', ''];

function aimedArns(table: RouteTable): string[] {
  const literals = [
    ...new Set(table.flatMap((x) => x.path.split('/').filter((p) => p !== '' && !p.includes('{')))),
  ];
  const values = [...new Set([...literals, 'q', 'a:v', 'wa', 'a/b', '*', ''])];
  const arns = new Set<string>();
  for (const route of table)
    for (const value of values)
      for (const other of ['a', 'q'])
        for (const suffix of ['', '/', '/a/b']) {
          let k = 0;
          const path = route.path.replace(/\{[^{}]+\}/g, () => (k++ % 2 === 0 ? value : other));
          arns.add(`${PREFIX}/${route.method}${path}${suffix}`);
        }
  for (const arn of fc.sample(methodArnArb(table, PREFIX), 30)) arns.add(arn);
  return [...arns];
}

describe('cache properties over generated tables with bound parameters', () => {
  it('gives every request of a cache key the verdict of a fresh decision, and never another value’s path', () => {
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
          const request = normalizeAuthorizerEvent(
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
          return { arn, key, request };
        });
        for (const scopes of [['s1'], ['s1', 's2']])
          for (const value of VALUES) {
            const identity: Identity = {
              principalId: 'p',
              scopes,
              context: {},
              bound: resolveBoundValues([X], 'claim', () => value),
            };
            const cached = new Map<string, PolicyDocument>();
            for (const { arn, key, request } of requests) {
              const own = (answerFor(request, identity, matcher, policies).response as PolicyResponse)
                .policyDocument;
              if (!cached.has(key)) cached.set(key, own);
              const expected = documentPermits(table, new Set(scopes), arn, PREFIX, { x: value });
              const fresh = allows(own, arn);
              const reused = allows(cached.get(key) as PolicyDocument, arn);
              if (fresh !== expected || reused !== expected)
                expect(JSON.stringify({ mode, scopes, value, arn, fresh, reused, table })).toBe(
                  JSON.stringify({ mode, scopes, value, arn, fresh: expected, reused: expected, table }),
                );
            }
          }
      }),
      { numRuns: Number(process.env.POLICY_RUNS ?? 200) },
    );
    expect(modes.api).toBeGreaterThan(0);
    expect(modes.route + modes.path).toBeGreaterThan(0);
  }, 180_000);
});
