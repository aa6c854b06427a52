import type { AuthorizerRequest } from '../apigw/authorizer-request.ts';
import { knownScopeSet, type PolicyCache, type PolicyDocument } from '../policy/policy-compiler.ts';
import { type Route, type RouteMatcher, scopesPermit } from '../routes/route-table.ts';

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
}

/** Why a verified caller is refused for this request (403). */
export type DenyReason = 'scope_missing' | 'route_unknown' | 'source_ip_denied' | 'usage_key_missing';

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

/** The route this request is for, from the template API Gateway names or from the concrete path. */
export function currentRoute(request: AuthorizerRequest, matcher: RouteMatcher): Route | undefined {
  if (request.routeTemplate !== undefined) {
    const byTemplate = matcher.byTemplate(request.method, request.routeTemplate);
    if (byTemplate !== undefined) return byTemplate;
  }
  const found = matcher.lookup(request.method, request.path);
  return found.kind === 'found' ? found.match.route : undefined;
}

/**
 * Turns a verified identity into API Gateway's answer. This is the only module that builds
 * authorizer responses. `denyAll` forces a Deny whatever the scopes (e.g. a source IP outside the
 * caller's allowed ranges): the identity is known, but nothing may be used from where it calls.
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
  const route = currentRoute(request, matcher);
  const routeName = route === undefined ? undefined : `${route.method} ${route.path}`;
  let effect: Answer['effect'];
  let reason: Answer['reason'];
  if (denyAll !== undefined) {
    effect = 'deny';
    reason = denyAll;
  } else if (request.kind === 'websocket') {
    // WebSocket APIs are not part of the API document: a verified caller may connect.
    effect = 'allow';
    reason = 'allowed';
  } else if (route === undefined) {
    effect = 'deny';
    reason = 'route_unknown';
  } else {
    effect = scopesPermit(route, granted) ? 'allow' : 'deny';
    reason = effect === 'allow' ? 'allowed' : 'scope_missing';
  }

  if (request.format === 'simple') {
    return {
      effect,
      reason,
      route: routeName,
      response: { isAuthorized: effect === 'allow', context: identity.context },
    };
  }
  let policyDocument: PolicyDocument;
  if (denyAll !== undefined) {
    policyDocument = singleStatement('Deny', `${request.arn.stagePrefix}/*`);
  } else if (request.kind === 'websocket') {
    policyDocument = singleStatement('Allow', `${request.arn.stagePrefix}/${request.arn.method}`);
  } else {
    policyDocument = policies.get(granted, request.arn.stagePrefix).document;
  }
  const response: PolicyResponse = {
    principalId: identity.principalId,
    policyDocument,
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
