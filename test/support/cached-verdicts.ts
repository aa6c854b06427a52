// The cache property for any planned route table: for a caller holding some scopes, the answer
// cached for one request gives every later request with the same cache key (in the table's cache
// mode) the verdict a fresh decision gives it. Requests are REST REQUEST events, routed to an API
// Gateway resource as the matcher routes them (a catch-all resource when no route takes them, as in
// an existing API the authorizer is attached to).
import fc from 'fast-check';
import { normalizeAuthorizerEvent } from '../../shared/apigw/authorizer-request.ts';
import { answerFor } from '../../shared/authz/answer.ts';
import { PolicyCache } from '../../shared/policy/policy-compiler.ts';
import { RouteMatcher, type RouteTable } from '../../shared/routes/route-table.ts';
import {
  expectCacheExact,
  methodArnArb,
  resourceOf,
  sameRouteArnsArb,
  splitMethodArn,
} from '../hostile/support/method-arns.ts';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';

/**
 * Scope sets worth trying for a table: none, each alternative a route names, and all of them
 * (at most `limit` sets, spread over the table).
 */
export function scopeSetsOf(routes: RouteTable, limit = 12): string[][] {
  const alternatives = [
    ...new Map(
      routes.flatMap((r) => r.scopeAlternatives ?? []).map((a) => [[...a].sort().join(' '), [...a]]),
    ).values(),
  ];
  const step = Math.max(1, Math.ceil(alternatives.length / (limit - 2)));
  const all = [...new Set(alternatives.flat())];
  return [[], ...alternatives.filter((_, i) => i % step === 0), all];
}

/**
 * The routes with scopes made up where the document declares none: `<first segment>:read` for GET,
 * `:write` otherwise, so that a document without security also exercises policies that allow some
 * routes and refuse others.
 */
export function withMadeUpScopes(routes: RouteTable): RouteTable {
  return routes.map((r) => {
    if (r.scopeAlternatives !== null) return r;
    const first = r.path.split('/')[1] || 'root';
    return { ...r, scopeAlternatives: [[`${first}:${r.method === 'GET' ? 'read' : 'write'}`]] };
  });
}

/** Checks the cache property over `runs` sampled pairs of method ARNs; the table must be planned. */
export function expectCachedVerdicts(routes: RouteTable, scopeSets: readonly string[][], runs: number): void {
  const matcher = new RouteMatcher(routes);
  const policies = new PolicyCache(routes);
  const keyOf = (arn: string) => {
    const { method, path } = splitMethodArn(arn, STAGE);
    const resource = resourceOf(routes, arn, STAGE);
    const key =
      policies.mode === 'api'
        ? ''
        : policies.mode === 'route'
          ? `${method} ${resource}`
          : `${method} ${path}`;
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
    return { key, request };
  };
  const pairs = fc.oneof(
    { weight: 2, arbitrary: sameRouteArnsArb(routes, STAGE) },
    { weight: 1, arbitrary: fc.tuple(methodArnArb(routes, STAGE), methodArnArb(routes, STAGE)) },
  );
  fc.assert(
    fc.property(fc.constantFrom(...scopeSets), pairs, (scopes, [first, later]) => {
      const identity = { principalId: 'p', scopes, context: {} };
      const a = keyOf(first);
      const b = keyOf(later);
      expectCacheExact({
        routes,
        granted: new Set(scopes),
        stagePrefix: STAGE,
        first,
        later,
        firstAnswer: answerFor(a.request, identity, matcher, policies).response,
        laterAnswer: answerFor(b.request, identity, matcher, policies).response,
        sameKey: a.key === b.key,
      });
    }),
    { numRuns: runs },
  );
}
