import type { AuthorizerRequest } from '../apigw/authorizer-request.ts';
import {
  denyStage,
  knownScopeSet,
  type PolicyCache,
  type PolicyDocument,
} from '../policy/policy-compiler.ts';
import { type BindingRefusal, type BoundValues, bindingRefusal } from '../routes/path-binding.ts';
import { type Route, type RouteMatch, type RouteMatcher, scopesPermit } from '../routes/route-table.ts';

/** Authorizer context values: API Gateway (REST) accepts strings, numbers and booleans only. */
export type ContextValue = string | number | boolean;

/** Who the caller is, once their credential has been verified. Never holds the credential itself. */
export interface Identity {
  /** `principalId` of the answer (the token's `sub`, the key's client id, the Basic username). */
  readonly principalId: string;
  readonly scopes: readonly string[];
  /** Delivered to the integration; must not contain any secret. */
  readonly context: Readonly<Record<string, ContextValue>>;
  /** Usage plan key for API Gateway's throttling and quotas (API key source `AUTHORIZER`). */
  readonly usageIdentifierKey?: string;
  /**
   * The caller's values for the table's bound path parameters (docs/tenant-binding.md); without
   * them, every bound route is refused.
   */
  readonly bound?: BoundValues;
}

/**
 * Why a verified caller is refused for this request (403). `route_aws_iam`: the route is
 * authorized by API Gateway with AWS_IAM, never by a Lambda authorizer.
 */
export type DenyReason =
  | 'scope_missing'
  | 'route_unknown'
  | 'route_aws_iam'
  | 'source_ip_denied'
  | 'usage_key_missing'
  | BindingRefusal;

/** The REST / HTTP API payload 1.0 / WebSocket answer. */
export interface PolicyResponse {
  readonly principalId: string;
  readonly policyDocument: PolicyDocument;
  readonly context: Readonly<Record<string, ContextValue>>;
  readonly usageIdentifierKey?: string;
}

/** The HTTP API payload 2.0 simple answer. */
export interface SimpleResponse {
  readonly isAuthorized: boolean;
  readonly context: Readonly<Record<string, ContextValue>>;
}

/** What an authorizer answers for a verified identity, with the facts its decision log needs. */
export interface Answer {
  readonly effect: 'allow' | 'deny';
  readonly reason: 'allowed' | DenyReason;
  /** `METHOD /template` of the route being called, when known. */
  readonly route: string | undefined;
  readonly response: PolicyResponse | SimpleResponse;
}

/**
 * The route a request reaches, from its method ARN (the string API Gateway evaluates a cached
 * policy against): the exact method name and the concrete path, as {@link RouteMatcher} routes them.
 */
export function routeOfArn(request: AuthorizerRequest, matcher: RouteMatcher): Route | undefined {
  return matchOfArn(request, matcher)?.route;
}

/** {@link routeOfArn} with the path's parameter values (percent-encoding kept, as in the ARN). */
function matchOfArn(request: AuthorizerRequest, matcher: RouteMatcher): RouteMatch | undefined {
  const found = matcher.lookup(request.arn.method, request.arn.path);
  return found.kind === 'found' ? found.match : undefined;
}

/**
 * The routes the cache key holds: those of the API Gateway resource (or HTTP API route key) the event
 * names, answered together (see PolicyCache.unitRoutes); for events that name none (TOKEN), the
 * ARN's route. Empty when the key holds no document route (an HTTP API `$default` route).
 */
function routesOfKey(
  request: AuthorizerRequest,
  matcher: RouteMatcher,
  policies: PolicyCache,
): readonly Route[] {
  const route =
    request.routeTemplate !== undefined
      ? routeOfTemplate(request.method, request.routeTemplate, matcher)
      : request.kind !== 'http-v2'
        ? routeOfArn(request, matcher)
        : undefined;
  return route === undefined ? [] : policies.unitRoutes(route);
}

/** A document route living on the API Gateway resource (or route key path) an event names. */
function routeOfTemplate(method: string, template: string, matcher: RouteMatcher): Route | undefined {
  return matcher.byTemplate(method, template) ?? matcher.onResource(method, template)[0];
}

/**
 * The route this request is for, as the answer is decided: for policies, by the method ARN; for
 * HTTP API simple responses (a boolean API Gateway reuses for the whole cache key), by the route
 * key API Gateway matched when each route key takes requests of operations permitted alike (the
 * plan checks it; the key holds the route key), else by the path of the route ARN (the key must
 * hold the path). The route ARN's path is the one API Gateway evaluates, without the stage that
 * `rawPath` keeps for a named stage.
 */
export function currentRoute(
  request: AuthorizerRequest,
  matcher: RouteMatcher,
  policies: PolicyCache,
): Route | undefined {
  return currentMatch(request, matcher, policies)?.route;
}

/** {@link currentRoute} with the path's parameter values, when the path decides. */
function currentMatch(
  request: AuthorizerRequest,
  matcher: RouteMatcher,
  policies: PolicyCache,
): { readonly route: Route; readonly params?: RouteMatch['params'] } | undefined {
  if (request.format === 'policy' || !policies.plan.routeKeysExact) return matchOfArn(request, matcher);
  // `$default` (or no route key at all) names no operation of the document.
  const route =
    request.routeTemplate === undefined
      ? undefined
      : routeOfTemplate(request.method, request.routeTemplate, matcher);
  return route === undefined ? undefined : { route };
}

/** Whether the caller may use the route for this request, or why not. */
function verdictFor(
  route: Route | undefined,
  params: RouteMatch['params'] | undefined,
  granted: ReadonlySet<string>,
  bound: BoundValues | undefined,
): 'allowed' | DenyReason {
  if (route === undefined) return 'route_unknown';
  if (route.iam === true) return 'route_aws_iam';
  if (!scopesPermit(route, granted)) return 'scope_missing';
  // A bound route is decided by the path: the plan keeps such routes out of decisions by route key.
  if (route.bindings !== undefined) return bindingRefusal(route, params ?? {}, bound) ?? 'allowed';
  return 'allowed';
}

/**
 * Turns a verified identity into API Gateway's answer. This is the only module that builds
 * authorizer responses. `denyAll` forces a Deny whatever the scopes (e.g. a source IP outside the
 * caller's allowed ranges): the identity is known, but nothing may be used from where it calls.
 *
 * The answer is exact on every request that can reuse it from API Gateway's cache (docs/policies.md):
 * - cache mode `api` (the cache key is the credential): the whole-API policy of the caller's scopes,
 *   exact on every method ARN;
 * - mode `route` (the key adds the method and the resource): the policy of the routes on that
 *   resource the scopes permit; this request is allowed when its ARN reaches one of them;
 * - mode `path` (the key adds the method and the concrete path): the policy of the ARN's route.
 */
export function answerFor(
  request: AuthorizerRequest,
  identity: Identity,
  matcher: RouteMatcher,
  policies: PolicyCache,
  denyAll?: DenyReason,
): Answer {
  // A cached identity brings its remembered set (see scopeSetOf); a fresh one gets a plain set.
  const granted = knownScopeSet(identity.scopes) ?? new Set(identity.scopes);
  const stage = request.arn.stagePrefix;
  let route: Route | undefined;
  let effect: Answer['effect'];
  let reason: Answer['reason'];
  let policyDocument: PolicyDocument | undefined;
  if (denyAll !== undefined) {
    effect = 'deny';
    reason = denyAll;
    policyDocument = denyStage(stage);
  } else if (request.kind === 'websocket' && request.arn.method === '$connect') {
    // WebSocket APIs are not part of the API document: a verified caller may connect, and the
    // policy names exactly the `$connect` route (a route key is never written as a pattern). Any
    // other `$` method names no document route and is answered like every unknown request.
    effect = 'allow';
    reason = 'allowed';
    policyDocument = singleStatement('Allow', `${stage}/$connect`);
  } else if (request.format === 'simple' || policies.mode !== 'route') {
    const found = currentMatch(request, matcher, policies);
    route = found?.route;
    reason = verdictFor(route, found?.params, granted, identity.bound);
    effect = reason === 'allowed' ? 'allow' : 'deny';
    if (request.format === 'policy')
      policyDocument =
        policies.mode === 'api'
          ? policies.get(granted, stage, identity.bound).document
          : route !== undefined
            ? policies.forRoute(route, granted, stage, identity.bound)
            : denyStage(stage);
  } else {
    // The answer depends on the routes the cache key holds only (the policy of their resource);
    // this request is allowed when its ARN reaches one of them that the caller may use.
    const held = routesOfKey(request, matcher, policies);
    const found = matchOfArn(request, matcher);
    route = found?.route;
    const inKey = route !== undefined && held.includes(route);
    policyDocument =
      held[0] === undefined ? denyStage(stage) : policies.forRoute(held[0], granted, stage, identity.bound);
    reason = inKey ? verdictFor(route, found?.params, granted, identity.bound) : 'route_unknown';
    effect = reason === 'allowed' ? 'allow' : 'deny';
  }
  const routeName = route === undefined ? undefined : `${route.method} ${route.path}`;

  if (request.format === 'simple') {
    return {
      effect,
      reason,
      route: routeName,
      response: { isAuthorized: effect === 'allow', context: identity.context },
    };
  }
  const response: PolicyResponse = {
    principalId: identity.principalId,
    policyDocument: policyDocument ?? denyStage(stage),
    context: identity.context,
    ...(identity.usageIdentifierKey === undefined ? {} : { usageIdentifierKey: identity.usageIdentifierKey }),
  };
  return { effect, reason, route: routeName, response };
}

function singleStatement(effect: 'Allow' | 'Deny', resource: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: [resource] }],
  };
}
