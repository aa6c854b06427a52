// answerFor, the one module that builds authorizer responses: what each cache mode answers, and how
// the request's route is found (method ARN, API Gateway resource, HTTP API route key).
import { describe, expect, it } from 'vitest';
import { normalizeAuthorizerEvent } from '../../../shared/apigw/authorizer-request.ts';
import { answerFor, type PolicyResponse, type SimpleResponse } from '../../../shared/authz/answer.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { PolicyCache } from '../../../shared/policy/policy-compiler.ts';
import { planned } from '../../../shared/policy/policy-planner.ts';
import { type Route, RouteMatcher, type RouteTable } from '../../../shared/routes/route-table.ts';
import { readEvent } from '../../support/events.ts';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
const identity = (scopes: string[]) => ({ principalId: 'p', scopes, context: { principal: 'p' } });

const r = (method: Route['method'], path: string, scopes: string[]): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  scopeAlternatives: [scopes],
});

/** Two routes glob cannot separate when both are permitted: answered per route. */
const NESTED: RouteTable = planned([
  r('GET', '/items/{id}', ['read']),
  r('GET', '/items/{id}/notes', ['notes']),
]);

function rest(method: string, path: string, resource?: string) {
  return normalizeAuthorizerEvent(
    {
      type: 'REQUEST',
      methodArn: `${STAGE}/${method}${path}`,
      ...(resource === undefined ? {} : { resource }),
      path,
      httpMethod: method,
      headers: {},
      requestContext: {},
    },
    false,
  );
}

function answer(table: RouteTable, request: ReturnType<typeof rest>, scopes: string[]) {
  return answerFor(request, identity(scopes), new RouteMatcher(table), new PolicyCache(table));
}

const resources = (a: ReturnType<typeof answer>) =>
  (a.response as PolicyResponse).policyDocument.Statement.map((s) => [s.Effect, s.Resource]);

describe('answerFor in mode route (the cache key holds the method and the resource)', () => {
  it('allows the route of the resource API Gateway names, with the policy of that resource only', () => {
    expect(new PolicyCache(NESTED).mode).toBe('route');
    const a = answer(NESTED, rest('GET', '/items/1/notes', '/items/{id}/notes'), ['read', 'notes']);
    expect({ effect: a.effect, reason: a.reason, route: a.route }).toEqual({
      effect: 'allow',
      reason: 'allowed',
      route: 'GET /items/{id}/notes',
    });
    expect(resources(a)).toEqual([
      ['Allow', [`${STAGE}/GET/items/?*/notes`]],
      ['Deny', [`${STAGE}/GET/items/*/*/notes`]],
    ]);
  });

  it('refuses a request whose ARN reaches another route than the resource the key holds', () => {
    // The answer is about the key's resource: it must not allow what a fresh decision would refuse.
    const a = answer(NESTED, rest('GET', '/items/1/other', '/items/{id}/notes'), ['read', 'notes']);
    expect({ effect: a.effect, reason: a.reason }).toEqual({ effect: 'deny', reason: 'route_unknown' });
    expect(resources(a)).toEqual([
      ['Allow', [`${STAGE}/GET/items/?*/notes`]],
      ['Deny', [`${STAGE}/GET/items/*/*/notes`]],
    ]);
  });

  it('denies the stage for a resource the scopes do not permit, or that no route has', () => {
    const missing = answer(NESTED, rest('GET', '/items/1', '/items/{id}'), ['notes']);
    expect({ effect: missing.effect, reason: missing.reason }).toEqual({
      effect: 'deny',
      reason: 'scope_missing',
    });
    expect(resources(missing)).toEqual([['Deny', [`${STAGE}/*`]]]);
    const unknown = answer(NESTED, rest('GET', '/other', '/{proxy+}'), ['read', 'notes']);
    expect({ effect: unknown.effect, reason: unknown.reason }).toEqual({
      effect: 'deny',
      reason: 'route_unknown',
    });
    expect(resources(unknown)).toEqual([['Deny', [`${STAGE}/*`]]]);
  });

  it('takes the route from the method ARN for events that name no resource (TOKEN)', () => {
    const token = normalizeAuthorizerEvent(
      { type: 'TOKEN', authorizationToken: 'Bearer x', methodArn: `${STAGE}/GET/items/1` },
      false,
    );
    const a = answer(NESTED, token, ['read']);
    expect({ effect: a.effect, route: a.route }).toEqual({ effect: 'allow', route: 'GET /items/{id}' });
    expect(resources(a)).toEqual([
      ['Allow', [`${STAGE}/GET/items/?*`]],
      ['Deny', [`${STAGE}/GET/items/*/*`]],
    ]);
  });
});

describe('answerFor in mode api (the demo API)', () => {
  it('decides by the method ARN, with its exact method name', () => {
    const a = answer(ROUTES, rest('GET', '/orders'), ['orders:read']);
    expect(a.effect).toBe('allow');
    const lower = answer(ROUTES, rest('get', '/orders'), ['orders:read']);
    // API Gateway evaluates the policy against `…/get/orders`, which `GET/orders` does not match.
    expect({ effect: lower.effect, reason: lower.reason }).toEqual({
      effect: 'deny',
      reason: 'route_unknown',
    });
  });

  it('answers WebSocket $connect with exactly the $connect route, and any other $ method as unknown', () => {
    const connect = normalizeAuthorizerEvent(readEvent('events/jwt-authorizer/websocket-allow.json'), false);
    const a = answerFor(connect, identity([]), new RouteMatcher(ROUTES), new PolicyCache(ROUTES));
    expect(a.effect).toBe('allow');
    expect(resources(a)).toEqual([['Allow', [`${connect.arn.stagePrefix}/$connect`]]]);
    const wildcard = answer(ROUTES, rest('$*', '/orders'), ['orders:read']);
    expect({ effect: wildcard.effect, reason: wildcard.reason }).toEqual({
      effect: 'deny',
      reason: 'route_unknown',
    });
    // Never a pattern made of a route key: `$*` would match every `$` route of the stage.
    expect(JSON.stringify(resources(wildcard))).not.toContain('$*');
  });
});

describe('answerFor with HTTP API simple responses (decided by the route key)', () => {
  const event = readEvent('events/jwt-authorizer/http-v2-allow.json');
  // The demo's routes without the bound ones: every route key names operations permitted alike.
  const UNBOUND = planned(ROUTES.filter((route) => route.bindings === undefined));

  it('allows the route API Gateway matched when the scopes permit it', () => {
    const request = normalizeAuthorizerEvent(event, true);
    const a = answerFor(
      request,
      identity(['orders:write']),
      new RouteMatcher(UNBOUND),
      new PolicyCache(UNBOUND),
    );
    expect({ effect: a.effect, route: a.route }).toEqual({ effect: 'allow', route: 'POST /orders' });
    expect((a.response as SimpleResponse).isAuthorized).toBe(true);
  });

  it('refuses the $default route key, which names no operation of the document', () => {
    const request = normalizeAuthorizerEvent(
      {
        ...event,
        routeKey: '$default',
        requestContext: { ...(event.requestContext as object), routeKey: '$default' },
      },
      true,
    );
    const a = answerFor(
      request,
      identity(['orders:write']),
      new RouteMatcher(UNBOUND),
      new PolicyCache(UNBOUND),
    );
    expect({ effect: a.effect, reason: a.reason }).toEqual({ effect: 'deny', reason: 'route_unknown' });
    expect((a.response as SimpleResponse).isAuthorized).toBe(false);
  });
});
