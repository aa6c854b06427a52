import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { assertStringArrayContainsString, assertStringEquals } from 'aws-jwt-verify/assert';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtNotBeforeError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import {
  assertIsSignatureJwk,
  type Jwk,
  type JwkWithKid,
  type SignatureJwk,
  SimpleJwksCache,
  SimplePenaltyBox,
} from 'aws-jwt-verify/jwk';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import { validateJwtFields } from 'aws-jwt-verify/jwt';
import { KeyObjectCache } from 'aws-jwt-verify/jwt-verifier';
import type { Algorithm, IssuerConfig, JwtAuthorizerConfig } from './config.ts';
import {
  type DroppedKey,
  JwksFetcher,
  JwksUnavailableError,
  parseJwksDocument,
  RefusedJwksError,
} from './jwks.ts';
import { tokenKey, VerifiedTokenCache } from './token-cache.ts';
import { HeaderCache, type PrecheckedToken, postcheck, precheck, type TokenProblem } from './token-checks.ts';

/** Claims of a token whose signature and claims were verified. */
export type VerifiedClaims = Readonly<Record<string, unknown>>;

/** The outcome of verifying a token; dependency failures are thrown, never returned. */
export type Verification =
  | {
      readonly ok: true;
      readonly claims: VerifiedClaims;
      readonly issuer: IssuerConfig;
      readonly cached: boolean;
    }
  | { readonly ok: false; readonly reason: TokenProblem };

/** Verifies bearer tokens. The seam that tests fake and the benchmark measures. */
export interface TokenVerifier {
  /**
   * A repeated token is answered synchronously from the cache; any other returns a promise.
   * @throws JwksUnavailableError (or rejects with it) when keys cannot be had: fail, never deny.
   */
  verify(token: string, nowMs: number): Verification | Promise<Verification>;
  /**
   * Loads every issuer's keys: seeded ones (`jwks`, `jwksFile`) at once, the others by download.
   * Resolves to the issuers whose keys could not be loaded; rejects with {@link RefusedJwksError}
   * when a downloaded JWKS holds a refused key id (the cold start must fail, not retry later).
   */
  prefetch(): Promise<string[]>;
}

/** Hooks for the verifier's observable events (logged by the handler, never with a token). */
export interface VerifierEvents {
  onKeysDropped?(dropped: readonly DroppedKey[]): void;
}

/** How each algorithm's signature is checked: digest, key type, and signature length in bytes. */
const SIGNATURE: Readonly<
  Record<
    Algorithm,
    { readonly hash: string | null; readonly kty: string; readonly crv?: string; readonly bytes?: number }
  >
> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  // JWS ECDSA signatures are r || s (IEEE P1363), each the curve's size (RFC 7518 §3.4).
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256', bytes: 64 },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384', bytes: 96 },
  ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521', bytes: 132 },
  EdDSA: { hash: null, kty: 'OKP', crv: 'Ed25519', bytes: 64 },
};

/** Maps aws-jwt-verify's claim and key errors to our reason codes; anything else is rethrown. */
function reasonFor(err: unknown): TokenProblem | undefined {
  if (err instanceof JwtExpiredError) return 'token_expired';
  if (err instanceof JwtNotBeforeError) return 'token_not_yet_valid';
  if (err instanceof JwtInvalidIssuerError) return 'issuer_unknown';
  if (err instanceof JwtInvalidAudienceError) return 'audience_invalid';
  if (err instanceof CognitoJwtInvalidClientIdError) return 'client_id_invalid';
  if (err instanceof CognitoJwtInvalidTokenUseError) return 'token_use_invalid';
  if (err instanceof JwtInvalidClaimError) return 'claim_invalid';
  if (err instanceof KidNotFoundInJwksError || err instanceof WaitPeriodNotYetEndedJwkError)
    return 'kid_unknown';
  return undefined;
}

/**
 * Amazon Cognito's claim checks, as aws-jwt-verify's `validateCognitoJwtFields` makes them and with
 * its assertions and error classes: `token_use` is `id` or `access` (and the configured one), and
 * the app client is `client_id` for access tokens, `aud` for id tokens. Composed here rather than
 * imported because `aws-jwt-verify/cognito-verifier` brings the whole `CognitoJwtVerifier` and
 * `JwtVerifierBase` classes into the bundle (~6 KB of the JWT authorizer's 45 KB budget) for these
 * few lines; test/unit/jwt/cognito-checks.test.ts holds them to the library's function.
 */
export function validateCognitoFields(
  payload: Readonly<Record<string, unknown>>,
  cognito: NonNullable<IssuerConfig['cognito']>,
): void {
  assertStringArrayContainsString(
    'Token use',
    payload.token_use,
    ['id', 'access'],
    CognitoJwtInvalidTokenUseError,
  );
  if (cognito.tokenUse !== null)
    assertStringEquals('Token use', payload.token_use, cognito.tokenUse, CognitoJwtInvalidTokenUseError);
  if (cognito.clientId !== null) {
    const client = payload.token_use === 'id' ? payload.aud : payload.client_id;
    assertStringArrayContainsString('Client ID', client, cognito.clientId, CognitoJwtInvalidClientIdError);
  }
}

/**
 * The production verifier. Each token is decoded once, by our strict prechecks; aws-jwt-verify then
 * does what it is good at: the JWKS download, cache and penalty box (`SimpleJwksCache`, with our
 * fetcher and our key filter), the JWK checks, the `KeyObject` cache, and the claim checks
 * (`validateJwtFields`, and the Cognito ones). The signature check itself is ours, one
 * `crypto.verify` over bytes we already hold: the library's `verify()` would decode and parse the
 * token a second time (with a more lenient base64 and JSON than ours) and check RSA and ECDSA
 * through a `createVerify` object fed base64 text: on a first-seen RS256 token that cost about a
 * third of a `crypto.verify` more (docs/performance.md). Our postchecks follow, and a
 * verified token is remembered until its `exp`, so a repeated token skips all of it.
 */
export function createTokenVerifier(
  config: JwtAuthorizerConfig,
  options: { readonly events?: VerifierEvents } = {},
): TokenVerifier {
  const issuers = new Map(config.issuers.map((i) => [i.issuer, i]));
  const byJwksUri = new Map<string, IssuerConfig[]>();
  for (const i of config.issuers) byJwksUri.set(i.jwksUri, [...(byJwksUri.get(i.jwksUri) ?? []), i]);
  const download = new JwksFetcher(config.jwksTimeoutMs);
  const keyObjects = new KeyObjectCache();
  // aws-jwt-verify's cache with our fetcher (https, time and size bounds) and our parser (weak keys
  // dropped). Its penalty box limits the downloads that unknown `kid`s cause to one per 10 s per
  // JWKS; a failed download also opens a wait period, so a flood of junk `kid`s cannot turn into a
  // flood of requests to a struggling key server (known keys keep working from the cache).
  const penaltyBox = new SimplePenaltyBox({ waitSeconds: 10 });
  const fetcher = {
    async fetch(uri: string): Promise<ArrayBuffer> {
      let body: ArrayBuffer;
      try {
        body = await download.fetch(uri);
      } catch (err) {
        penaltyBox.registerFailedAttempt(uri);
        throw err;
      }
      // A new key set may reuse a kid for a new key: forget the KeyObjects made from the old one.
      for (const i of byJwksUri.get(uri) ?? []) keyObjects.clearCache(i.issuer);
      return body;
    },
  };
  const jwksCache = new SimpleJwksCache({
    fetcher,
    penaltyBox,
    jwksParser: (body) =>
      parseJwksDocument(body, (dropped) => options.events?.onKeysDropped?.(dropped), config.refusedKeyIds),
  });
  const loaded = new Set<string>();
  const headers = new HeaderCache();
  const verified = new VerifiedTokenCache<{ readonly claims: VerifiedClaims; readonly issuer: IssuerConfig }>(
    config.tokenCacheSize,
  );
  const limits = { clockSkewSeconds: config.clockSkewSeconds, maxLifetimeSeconds: config.maxLifetimeSeconds };
  const grace = { graceSeconds: config.clockSkewSeconds };

  async function loadKeys(issuer: IssuerConfig): Promise<void> {
    try {
      await jwksCache.getJwks(issuer.jwksUri);
      loaded.add(issuer.jwksUri);
    } catch (err) {
      throw err instanceof JwksUnavailableError
        ? err
        : new JwksUnavailableError(`JWKS for ${issuer.issuer} could not be loaded`, { cause: err });
    }
  }

  /** The JWK for the token's kid: from the cache (synchronously), else one download (penalty box permitting). */
  function keyFor(token: PrecheckedToken): JwkWithKid | Promise<JwkWithKid | TokenProblem> {
    const decomposed = { header: { kid: token.kid, alg: token.algorithm } } as unknown as DecomposedJwt;
    try {
      return jwksCache.getCachedJwk(token.issuer.jwksUri, decomposed);
    } catch {
      // Not in the cached set (a rotated key, or a junk kid): the library's download path.
      return downloadKeyFor(token, decomposed);
    }
  }

  async function downloadKeyFor(
    token: PrecheckedToken,
    decomposed: DecomposedJwt,
  ): Promise<JwkWithKid | TokenProblem> {
    const uri = token.issuer.jwksUri;
    try {
      return await jwksCache.getJwk(uri, decomposed);
    } catch (err) {
      const reason = reasonFor(err);
      if (reason !== undefined) return reason;
      throw err instanceof JwksUnavailableError
        ? err
        : new JwksUnavailableError(`JWKS for ${token.issuer.issuer} could not be loaded`, { cause: err });
    }
  }

  /** The signature check: the JWK must suit the algorithm; then one `crypto.verify`. */
  function signatureValid(token: string, checked: PrecheckedToken, jwk: Jwk): TokenProblem | undefined {
    const alg = checked.algorithm;
    const rule = SIGNATURE[alg];
    try {
      assertIsSignatureJwk(jwk);
    } catch {
      return 'signature_invalid';
    }
    // The key decides the algorithm as much as the header does: a key published for another
    // algorithm, or of another type or curve, never verifies this token (no algorithm confusion).
    if (jwk.alg !== undefined && jwk.alg !== alg) return 'alg_not_allowed';
    if (jwk.kty !== rule.kty || (rule.crv !== undefined && jwk.crv !== rule.crv)) return 'alg_not_allowed';
    const signature = checked.signature;
    // A wrong-length ECDSA/EdDSA signature is refused here; node:crypto would throw on some.
    if (rule.bytes !== undefined && signature.length !== rule.bytes) return 'signature_invalid';
    let key: KeyObject;
    try {
      key = keyObjects.transformJwkToKeyObjectSync(
        jwk as SignatureJwk,
        alg,
        checked.issuer.issuer,
      ) as KeyObject;
    } catch {
      // Key material node:crypto cannot import: nothing can be verified with it.
      return 'signature_invalid';
    }
    const input = Buffer.from(token.slice(0, checked.signingInputLength), 'latin1');
    try {
      const ok =
        rule.kty === 'EC'
          ? cryptoVerify(rule.hash, input, { key, dsaEncoding: 'ieee-p1363' }, signature)
          : cryptoVerify(rule.hash, input, key, signature);
      return ok ? undefined : 'signature_invalid';
    } catch {
      // node:crypto refuses to even check some forged signatures: the token is bad, not a dependency.
      return 'signature_invalid';
    }
  }

  /** aws-jwt-verify's claim checks: issuer, audience, exp/nbf with the skew; Cognito's token_use, client_id. */
  function claimsValid(
    payload: Readonly<Record<string, unknown>>,
    issuer: IssuerConfig,
  ): TokenProblem | undefined {
    try {
      validateJwtFields(payload as never, {
        issuer: issuer.issuer,
        audience: issuer.audience === null ? null : (issuer.audience as string[]),
        ...grace,
      });
      if (issuer.cognito !== undefined) validateCognitoFields(payload, issuer.cognito);
    } catch (err) {
      const reason = reasonFor(err);
      if (reason !== undefined) return reason;
      if (err instanceof JwtBaseError) return 'claim_invalid';
      throw err;
    }
    return undefined;
  }

  return {
    async prefetch() {
      const failed: string[] = [];
      await Promise.all(
        config.issuers.map(async (issuer) => {
          if (issuer.seed !== undefined) {
            if (issuer.seed.dropped.length > 0) options.events?.onKeysDropped?.(issuer.seed.dropped);
            // Seeded keys: no download at init; an unknown kid still refetches (penalty box).
            jwksCache.addJwks(issuer.jwksUri, issuer.seed.jwks);
            loaded.add(issuer.jwksUri);
            return;
          }
          try {
            await loadKeys(issuer);
          } catch (err) {
            if (err instanceof RefusedJwksError || (err as Error).cause instanceof RefusedJwksError)
              throw err;
            failed.push(issuer.issuer);
          }
        }),
      );
      return failed;
    },

    verify(token, nowMs) {
      // Keyed by the signature's tail; a hit counts only for the whole token verified (token-cache.ts).
      const key = tokenKey(token);
      const hit = verified.get(key, token, nowMs);
      if (hit !== undefined) return { ok: true, claims: hit.claims, issuer: hit.issuer, cached: true };
      return verifyUncached(token, key, nowMs);
    },
  };

  async function verifyUncached(token: string, key: number, nowMs: number): Promise<Verification> {
    const pre = precheck(token, issuers, config.requiredTyp, headers);
    if (!pre.ok) return pre;
    const checked = pre.value;
    const issuer = checked.issuer;
    // Keys that failed to load at init (or since) are retried now; if they still cannot be had
    // the invocation fails (API Gateway answers 500 and caches nothing): never Allow, never Deny.
    if (!loaded.has(issuer.jwksUri)) await loadKeys(issuer);
    const found = keyFor(checked);
    const jwk = found instanceof Promise ? await found : found;
    if (typeof jwk === 'string') return { ok: false, reason: jwk };
    const problem =
      signatureValid(token, checked, jwk) ??
      claimsValid(checked.payload, issuer) ??
      postcheck(checked.payload, nowMs / 1000, limits);
    if (problem !== undefined) return { ok: false, reason: problem };
    const claims = checked.payload;
    verified.set(key, token, { claims, issuer }, (claims.exp as number) * 1000);
    return { ok: true, claims, issuer, cached: false };
  }
}
