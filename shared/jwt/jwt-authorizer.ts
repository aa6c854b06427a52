import { headerValues } from '../apigw/authorizer-request.ts';
import { type AccessTokenScheme, bearerCandidate, readAccessToken } from '../apigw/credentials.ts';
import { answerFor, type Identity, type PolicyResponse, type SimpleResponse } from '../authz/answer.ts';
import { AuthorizerInvocation } from '../authz/invocation.ts';
import type { Observer } from '../observability/observer.ts';
import { PolicyCache, scopeSetOf } from '../policy/policy-compiler.ts';
import { boundContext, type PathBinding, resolveBoundValues, tableBindings } from '../routes/path-binding.ts';
import { RouteMatcher, type RouteTable } from '../routes/route-table.ts';
import type { SenderConstraintChecker } from '../sender-constraint/checker.ts';
import type { ProvenBinding, SenderConstraintResult } from '../sender-constraint/token-binding.ts';
import { scopesOf } from './token-checks.ts';
import type { TokenVerifier, Verification, VerifiedClaims } from './verifier.ts';

export { AuthorizerFailureError, unauthorized } from '../authz/invocation.ts';

/** What the JWT authorizer needs; everything that touches the outside world comes in here. */
export interface JwtAuthorizerDeps {
  readonly verifier: TokenVerifier;
  readonly routes: RouteTable;
  readonly simpleResponses: boolean;
  readonly clock: () => number;
  readonly observer: Observer;
  /** The sender-constraint step (DPoP proofs, certificate-bound tokens): shared/sender-constraint/checker.ts. */
  readonly senderConstraint: SenderConstraintChecker;
}

/** A token's scopes, as the list the policy cache knows and the context's space-separated text. */
interface Scopes {
  readonly list: readonly string[];
  readonly text: string;
}

// Tokens of one issuer carry a handful of distinct scope claims: each is parsed, and its scope set
// registered with the policy cache (which then answers without sorting and joining it), once.
// Bounded: a flood of distinct claims costs parsing, never memory.
const scopesByClaim = new Map<string, Scopes>();

function scopesFor(claims: VerifiedClaims): Scopes {
  const claim = claims.scope;
  const reusable = typeof claim === 'string' && claims.scp === undefined;
  if (reusable) {
    const known = scopesByClaim.get(claim);
    if (known !== undefined) return known;
  }
  const list = scopesOf(claims);
  const scopes = { list, text: list.join(' ') };
  if (reusable && scopesByClaim.size < 256) {
    scopeSetOf(list);
    scopesByClaim.set(claim, scopes);
  }
  return scopes;
}

function clientIdOf(claims: VerifiedClaims): string {
  if (typeof claims.client_id === 'string') return claims.client_id;
  if (typeof claims.azp === 'string') return claims.azp;
  return typeof claims.cid === 'string' ? claims.cid : '';
}

/**
 * What the authorizer puts in the context: who, with which scopes, from which client and issuer,
 * and the claims bound to path parameters (`bindings` of the route table, docs/tenant-binding.md)
 * as `bind_<param>` where their value is usable.
 */
export function identityFromClaims(
  claims: VerifiedClaims,
  issuer: string,
  bindings: readonly PathBinding[] = [],
): Identity {
  const scopes = scopesFor(claims);
  const context = {
    principal: claims.sub as string,
    scopes: scopes.text,
    clientId: clientIdOf(claims),
    issuer,
  };
  if (bindings.length === 0) return { principalId: claims.sub as string, scopes: scopes.list, context };
  // Own claims only: a claim named like an Object.prototype member is absent, not inherited.
  const bound = resolveBoundValues(bindings, 'claim', (name) =>
    Object.hasOwn(claims, name) ? claims[name] : undefined,
  );
  return {
    principalId: claims.sub as string,
    scopes: scopes.list,
    context: { ...context, ...boundContext(bound) },
    bound,
  };
}

// A repeated token comes back from the verifier's cache as the same claims object: its identity,
// and the scope set the policy cache recognizes, are derived once, on the first cache hit (not for
// first-seen tokens, most of which are never seen again). Weak keys: they live as long as the claims.
const cachedIdentities = new WeakMap<
  VerifiedClaims,
  { readonly issuer: string; readonly bindings: readonly PathBinding[]; readonly identity: Identity }
>();

function identityOfCached(
  claims: VerifiedClaims,
  issuer: string,
  bindings: readonly PathBinding[],
): Identity {
  const known = cachedIdentities.get(claims);
  if (known !== undefined && known.issuer === issuer && known.bindings === bindings) return known.identity;
  const identity = identityFromClaims(claims, issuer, bindings);
  scopeSetOf(identity.scopes);
  cachedIdentities.set(claims, { issuer, bindings, identity });
  return identity;
}

/**
 * The identity with what the request proved added to its context (public thumbprints only, never
 * the token or the proof): `binding` is `dpop`, `mtls` or `dpop+mtls`; absent for a bearer token.
 */
function withBinding(identity: Identity, binding: ProvenBinding): Identity {
  const { dpopJkt, certificateThumbprint } = binding;
  if (dpopJkt === undefined && certificateThumbprint === undefined) return identity;
  const kind = dpopJkt === undefined ? 'mtls' : certificateThumbprint === undefined ? 'dpop' : 'dpop+mtls';
  return {
    ...identity,
    context: {
      ...identity.context,
      binding: kind,
      ...(dpopJkt === undefined ? {} : { dpopJkt }),
      ...(certificateThumbprint === undefined ? {} : { certificateThumbprint }),
    },
  };
}

/**
 * The JWT authorizer: event → request → token → verification → sender constraint → answer.
 * Outcomes: no usable token, an invalid one, or one the request does not prove possession of (DPoP
 * proof, client certificate) → throws `Unauthorized` (401); a valid token without the route's scope
 * → Deny policy / `isAuthorized: false` (403); keys or the DPoP replay store unavailable, or any
 * other failure → throws {@link AuthorizerFailureError} (500, nothing cached). No path turns an
 * error into Allow.
 */
export function createJwtAuthorizer(
  deps: JwtAuthorizerDeps,
): (event: unknown) => Promise<PolicyResponse | SimpleResponse> {
  const matcher = new RouteMatcher(deps.routes);
  const policies = new PolicyCache(deps.routes);
  const bindings = tableBindings(deps.routes);
  return async (event) => {
    // Typed explicitly so that TypeScript sees refuse() and fail() end the path (they return never).
    const invocation: AuthorizerInvocation = new AuthorizerInvocation(deps.observer, deps.clock);
    const request = invocation.read(event, deps.simpleResponses);
    // The token is read without scanning it (the verifier checks every character, or finds the very
    // token in its cache); only when verification fails are the credential rules applied one by
    // one, and their reason (e.g. credential_scheme) wins over the verifier's.
    let token = bearerCandidate(request);
    let scheme: AccessTokenScheme = 'Bearer';
    if (token === undefined) {
      const read = readAccessToken(request);
      if (!read.ok) invocation.refuse(read.reason);
      token = read.value.token;
      scheme = read.value.scheme;
      // A TOKEN authorizer receives the Authorization header alone: no proof could ever be checked.
      if (scheme === 'DPoP' && request.kind === 'rest-token') invocation.refuse('dpop_token_authorizer');
    }
    let verification: Verification;
    try {
      const pending = deps.verifier.verify(token, deps.clock());
      // A cached token is answered synchronously: no await, no extra turn of the event loop.
      verification = pending instanceof Promise ? await pending : pending;
    } catch (err) {
      invocation.fail('verify the token', err, {
        error: (err as Error).name,
        message: (err as Error).message,
      });
    }
    if (!verification.ok) {
      const read = readAccessToken(request);
      invocation.refuse(read.ok ? verification.reason : read.reason);
    }
    const issuer = verification.issuer.issuer;
    let identity = verification.cached
      ? identityOfCached(verification.claims, issuer, bindings)
      : identityFromClaims(verification.claims, issuer, bindings);
    // A plain bearer token (no `cnf`, issuer not requiring DPoP) skips this step: nothing to prove.
    const presented = { scheme, token, cnf: verification.claims.cnf };
    if (deps.senderConstraint.needed(presented, issuer)) {
      let bound: SenderConstraintResult;
      try {
        bound = await deps.senderConstraint.check(
          presented,
          {
            method: request.method,
            domainName: request.domainName,
            stage: request.stage,
            path: request.path,
            dpopProofs: headerValues(request, 'dpop'),
            // The client certificate is read from the event by the checks (dpop.mjs), not here
            // nor by the shared event reader: a bearer token never needs it.
            event,
          },
          issuer,
          deps.clock(),
        );
      } catch (err) {
        invocation.fail('check the DPoP proof against the replay store', err, {
          error: (err as Error).name,
          reason: (err as { reason?: unknown }).reason,
        });
      }
      if (!bound.ok) invocation.refuse(bound.reason, { principal: identity.principalId });
      identity = withBinding(identity, bound.binding);
    }
    const answer = answerFor(request, identity, matcher, policies);
    invocation.log(answer.effect, answer.reason, {
      route: answer.route,
      principal: identity.principalId,
      cacheHit: verification.cached,
    });
    return answer.response;
  };
}
