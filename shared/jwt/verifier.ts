import { hash } from 'node:crypto';
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { SimpleJwksCache, SimplePenaltyBox } from 'aws-jwt-verify/jwk';
import { ExpiringLru } from '../cache/lru.ts';
import type { IssuerConfig, JwtAuthorizerConfig } from './config.ts';
import { type DroppedKey, JwksFetcher, JwksUnavailableError, parseJwksDocument } from './jwks.ts';
import { postcheck, precheck, type TokenProblem } from './token-checks.ts';

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
  /** @throws JwksUnavailableError when keys cannot be had: the caller must fail, not deny. */
  verify(token: string, nowMs: number): Promise<Verification>;
  /** Downloads every issuer's keys; resolves to the issuers whose keys could not be loaded. */
  prefetch(): Promise<string[]>;
}

/** Hooks for the verifier's observable events (logged by the handler, never with a token). */
export interface VerifierEvents {
  onKeysDropped?(dropped: readonly DroppedKey[]): void;
}

type LibraryVerifier = { verify(token: string): Promise<Record<string, unknown>>; hydrate(): Promise<void> };

function libraryVerifier(issuer: IssuerConfig, skew: number, jwksCache: SimpleJwksCache): LibraryVerifier {
  if (issuer.cognito !== undefined) {
    return CognitoJwtVerifier.create(
      {
        userPoolId: issuer.cognito.userPoolId,
        tokenUse: issuer.cognito.tokenUse,
        clientId: issuer.cognito.clientId === null ? null : [...issuer.cognito.clientId],
        graceSeconds: skew,
      },
      { jwksCache },
    ) as unknown as LibraryVerifier;
  }
  return JwtVerifier.create(
    {
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      audience: issuer.audience === null ? null : [...issuer.audience],
      graceSeconds: skew,
    },
    { jwksCache },
  ) as unknown as LibraryVerifier;
}

/** Maps aws-jwt-verify's error classes to our reason codes; anything else is a failure to rethrow. */
function reasonFor(err: unknown): TokenProblem | undefined {
  if (err instanceof JwtExpiredError) return 'token_expired';
  if (err instanceof JwtNotBeforeError) return 'token_not_yet_valid';
  if (err instanceof JwtInvalidIssuerError) return 'issuer_unknown';
  if (err instanceof JwtInvalidAudienceError) return 'audience_invalid';
  if (err instanceof CognitoJwtInvalidClientIdError) return 'client_id_invalid';
  if (err instanceof CognitoJwtInvalidTokenUseError) return 'token_use_invalid';
  if (err instanceof JwtInvalidSignatureAlgorithmError) return 'alg_not_allowed';
  if (err instanceof JwtInvalidClaimError) return 'claim_invalid';
  if (err instanceof JwtInvalidSignatureError) return 'signature_invalid';
  if (err instanceof KidNotFoundInJwksError || err instanceof WaitPeriodNotYetEndedJwkError)
    return 'kid_unknown';
  if (err instanceof JwtWithoutValidKidError) return 'kid_missing';
  if (err instanceof JwtParseError) return 'token_malformed';
  return undefined;
}

/**
 * The production verifier: our prechecks, aws-jwt-verify for signature and standard claims (with
 * the keys filtered on load), our postchecks, and a cache of verified tokens keyed by the token's
 * SHA-256 until its `exp`, so a repeated token skips the signature check.
 */
export function createTokenVerifier(
  config: JwtAuthorizerConfig,
  options: { readonly fetchImpl?: typeof fetch; readonly events?: VerifierEvents } = {},
): TokenVerifier {
  const issuers = new Map(config.issuers.map((i) => [i.issuer, i]));
  const download = new JwksFetcher(config.jwksTimeoutMs, options.fetchImpl);
  // aws-jwt-verify's cache with our fetcher (https, time and size bounds) and our parser (weak keys
  // dropped). Its penalty box limits the downloads that unknown `kid`s cause to one per 10 s per
  // JWKS; a failed download also opens a wait period, so a flood of junk `kid`s cannot turn into a
  // flood of requests to a struggling key server (known keys keep working from the cache).
  const penaltyBox = new SimplePenaltyBox({ waitSeconds: 10 });
  const fetcher = {
    async fetch(uri: string): Promise<ArrayBuffer> {
      try {
        return await download.fetch(uri);
      } catch (err) {
        penaltyBox.registerFailedAttempt(uri);
        throw err;
      }
    },
  };
  const jwksCache = new SimpleJwksCache({
    fetcher,
    penaltyBox,
    jwksParser: (body) => parseJwksDocument(body, (dropped) => options.events?.onKeysDropped?.(dropped)),
  });
  const loaded = new Set<string>();
  const verifiers = new Map(
    config.issuers.map((i) => [i.issuer, libraryVerifier(i, config.clockSkewSeconds, jwksCache)]),
  );
  const verified = new ExpiringLru<string, { claims: VerifiedClaims; issuer: IssuerConfig }>(
    config.tokenCacheSize,
  );
  const limits = { clockSkewSeconds: config.clockSkewSeconds, maxLifetimeSeconds: config.maxLifetimeSeconds };

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

  return {
    async prefetch() {
      const failed: string[] = [];
      await Promise.all(
        config.issuers.map(async (issuer) => {
          try {
            await loadKeys(issuer);
          } catch {
            failed.push(issuer.issuer);
          }
        }),
      );
      return failed;
    },

    async verify(token, nowMs) {
      const nowSeconds = nowMs / 1000;
      // One-shot hash: no Hash object per call, on the path every repeated token takes.
      const key = hash('sha256', token, 'base64');
      const hit = verified.get(key, nowMs);
      if (hit !== undefined) return { ok: true, claims: hit.claims, issuer: hit.issuer, cached: true };

      const pre = precheck(token, issuers, config.requiredTyp);
      if (!pre.ok) return pre;
      const issuer = pre.value.issuer;
      // Keys that failed to load at init (or since) are retried now; if they still cannot be had
      // the invocation fails (API Gateway answers 500 and caches nothing): never Allow, never Deny.
      if (!loaded.has(issuer.jwksUri)) await loadKeys(issuer);
      const verifier = verifiers.get(issuer.issuer) as LibraryVerifier;
      let claims: Record<string, unknown>;
      try {
        claims = await verifier.verify(token);
      } catch (err) {
        const reason = reasonFor(err);
        if (reason !== undefined) return { ok: false, reason };
        if (err instanceof JwksUnavailableError) throw err;
        if (err instanceof JwtBaseError && err.name.includes('Fetch'))
          throw new JwksUnavailableError('JWKS download failed', { cause: err });
        // Anything unexpected: refuse the token rather than guess (a bad key shape, say).
        if (err instanceof JwtBaseError) return { ok: false, reason: 'signature_invalid' };
        // node:crypto refuses to even check some forged signatures (an ES256 signature of the wrong
        // length, or DER instead of IEEE P1363): the token is bad, not the dependency, so 401.
        if ((err as { code?: unknown }).code === 'ERR_CRYPTO_OPERATION_FAILED')
          return { ok: false, reason: 'signature_invalid' };
        throw err;
      }
      const post = postcheck(claims, nowSeconds, limits);
      if (post !== undefined) return { ok: false, reason: post };
      verified.set(key, { claims, issuer }, (claims.exp as number) * 1000);
      return { ok: true, claims, issuer, cached: false };
    },
  };
}
