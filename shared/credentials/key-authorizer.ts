import { createHmac, randomBytes } from 'node:crypto';
import { type AuthorizerRequest, headerValues } from '../apigw/authorizer-request.ts';
import { credentialInQuery, singleHeader } from '../apigw/credentials.ts';
import { answerFor, type Identity, type PolicyResponse, type SimpleResponse } from '../authz/answer.ts';
import { AuthorizerInvocation } from '../authz/invocation.ts';
import { ExpiringLru } from '../cache/lru.ts';
import type { Observer } from '../observability/observer.ts';
import { PolicyCache } from '../policy/policy-compiler.ts';
import { RouteMatcher, type RouteTable } from '../routes/route-table.ts';
import type { SecretValue } from '../secrets/secret-value.ts';
import { type KeyEnvironment, parseApiKey, secretMatches } from './api-key.ts';
import { sourceIpAllowed } from './cidr.ts';
import { decodeBasic, type PasswordHasher } from './password.ts';
import type { CredentialStore, KeyRecord, LockoutPolicy, UserRecord } from './store.ts';

/** Why a request is refused with 401 (documented in docs/key-authorizer.md). */
export type KeyUnauthorizedReason =
  | 'event_malformed'
  | 'credential_missing'
  | 'credential_multiple'
  | 'credential_scheme'
  | 'credential_malformed'
  | 'credential_in_query'
  | 'key_malformed'
  | 'key_checksum'
  | 'key_environment'
  | 'key_unknown'
  | 'key_revoked'
  | 'key_expired'
  | 'key_mismatch'
  | 'basic_malformed'
  | 'user_unknown'
  | 'user_revoked'
  | 'user_locked'
  | 'password_mismatch';

/** What the key authorizer needs; everything that touches the outside world comes in here. */
export interface KeyAuthorizerDeps {
  readonly store: CredentialStore;
  readonly passwords: PasswordHasher;
  readonly routes: RouteTable;
  readonly clock: () => number;
  readonly observer: Observer;
  readonly keyEnvironment: KeyEnvironment;
  /**
   * HMAC pepper for key hashes: a value, or a secret read at run time (re-read, rate-limited, when
   * a peppered hash does not match); undefined = none (SHA-256 hashes only).
   */
  readonly pepper: string | SecretValue | undefined;
  /** Usage plan tier → API Gateway API key value, returned as `usageIdentifierKey`. */
  readonly usagePlanKeys: Readonly<Record<string, string>>;
  readonly simpleResponses: boolean;
  readonly lockout: LockoutPolicy;
  /** Record cache: TTL for found records, for unknown ids, and capacity. */
  readonly cache: { readonly ttlMs: number; readonly negativeTtlMs: number; readonly size: number };
}

/** A verified caller, or why not. */
type Verification =
  | {
      readonly ok: true;
      readonly identity: Identity;
      readonly cidrs: readonly string[];
      readonly cacheHit: boolean;
    }
  | { readonly ok: false; readonly reason: KeyUnauthorizedReason; readonly principal?: string };

/** Thrown by a store call; carries the log reason. */
class StoreCallError extends Error {
  override readonly name = 'StoreCallError';
}

/**
 * The credentials authorizer: event → request → API key (`x-api-key`) or HTTP Basic
 * (`Authorization`) → DynamoDB record → answer. Outcomes: no usable credential, unknown, malformed,
 * revoked, expired or locked → throws `Unauthorized` (401); valid but the scope or the source IP
 * does not permit → Deny (403); the store failing in any way → throws
 * {@link AuthorizerFailureError} (500, nothing cached). No path turns an error into Allow.
 */
export function createKeyAuthorizer(
  deps: KeyAuthorizerDeps,
): (event: unknown) => Promise<PolicyResponse | SimpleResponse> {
  const matcher = new RouteMatcher(deps.routes);
  const policies = new PolicyCache(deps.routes);
  const records = new ExpiringLru<string, KeyRecord | UserRecord | null>(deps.cache.size);
  // Verified Basic credentials, keyed by an HMAC under a per-process random key: the cache never
  // holds a password or a reusable hash of one, and a hit skips scrypt only while the stored hash
  // is unchanged (a password change or reset invalidates it).
  const verifiedBasic = new ExpiringLru<string, string>(deps.cache.size);
  const cacheKey = randomBytes(32);

  async function lookup<T extends KeyRecord | UserRecord>(
    id: string,
    find: () => Promise<T | undefined>,
  ): Promise<{ record: T | undefined; cacheHit: boolean }> {
    const now = deps.clock();
    const cached = records.get(id, now);
    if (cached !== undefined) return { record: (cached ?? undefined) as T | undefined, cacheHit: true };
    let record: T | undefined;
    try {
      record = await find();
    } catch (err) {
      throw new StoreCallError('lookup failed', { cause: err });
    }
    records.set(
      id,
      record ?? null,
      now + (record === undefined ? deps.cache.negativeTtlMs : deps.cache.ttlMs),
    );
    return { record, cacheHit: false };
  }

  async function secretPepper(pepper: SecretValue): Promise<string> {
    try {
      return await pepper.get();
    } catch (err) {
      throw new StoreCallError('reading the pepper failed', { cause: err });
    }
  }

  async function verifyKey(value: string): Promise<Verification> {
    const parsed = parseApiKey(value.trim(), deps.keyEnvironment);
    if (!parsed.ok) return parsed;
    const { record, cacheHit } = await lookup(`key#${parsed.keyId}`, () => deps.store.findKey(parsed.keyId));
    if (record === undefined) return { ok: false, reason: 'key_unknown' };
    const principal = record.clientId;
    const now = deps.clock();
    if (record.status !== 'active') return { ok: false, reason: 'key_revoked', principal };
    if (record.expiresAt !== undefined && record.expiresAt <= now)
      return { ok: false, reason: 'key_expired', principal };
    const previous =
      record.previousHash !== undefined &&
      record.previousHashExpiresAt !== undefined &&
      now < record.previousHashExpiresAt
        ? record.previousHash
        : undefined;
    const hashes = previous === undefined ? [record.hash] : [record.hash, previous];
    const peppered = hashes.some((hash) => hash.startsWith('hmac-sha256:'));
    const matchesWith = (pepper: string | undefined) =>
      hashes.some((hash) => secretMatches(parsed.secret, hash, pepper));
    const pepper = deps.pepper;
    // A pepper read at run time is read only for a hash that needs it (awaited only then).
    let matches = matchesWith(
      !peppered ? undefined : typeof pepper === 'object' ? await secretPepper(pepper) : pepper,
    );
    // The pepper may have been changed since it was read: check once more with a fresh read.
    if (!matches && peppered && typeof pepper === 'object' && (await pepper.refreshAfterMiss()))
      matches = matchesWith(await secretPepper(pepper));
    if (!matches) return { ok: false, reason: 'key_mismatch', principal };
    return {
      ok: true,
      cacheHit,
      cidrs: record.allowedCidrs,
      identity: identityFor(record.clientId, record.scopes, record.tier, {
        authType: 'api_key',
        keyId: record.keyId,
      }),
    };
  }

  async function verifyBasic(header: string): Promise<Verification> {
    const match = /^([A-Za-z]+) +(\S+)$/.exec(header.trim());
    if (match === null) return { ok: false, reason: 'credential_malformed' };
    if ((match[1] as string).toLowerCase() !== 'basic') return { ok: false, reason: 'credential_scheme' };
    const basic = decodeBasic(match[2] as string);
    if (!basic.ok) return basic;
    const { username, password } = basic;
    const { record, cacheHit } = await lookup(`user#${username}`, () => deps.store.findUser(username));
    const now = deps.clock();
    // Every refusal below still spends one scrypt, so response times do not tell which usernames
    // exist or which state they are in.
    if (record === undefined) {
      await deps.passwords.verifyDummy(password);
      return { ok: false, reason: 'user_unknown' };
    }
    if (record.status === 'revoked' || record.status === 'locked' || (record.lockedUntil ?? 0) > now) {
      await deps.passwords.verifyDummy(password);
      return {
        ok: false,
        reason: record.status === 'revoked' ? 'user_revoked' : 'user_locked',
        principal: username,
      };
    }
    const fingerprint = createHmac('sha256', cacheKey).update(header).digest('base64url');
    let verified = verifiedBasic.get(fingerprint, now) === record.hash;
    if (!verified) verified = await deps.passwords.verify(password, record.hash);
    if (!verified) {
      let state: Awaited<ReturnType<CredentialStore['recordFailure']>>;
      try {
        state = await deps.store.recordFailure(username, now, deps.lockout);
      } catch (err) {
        throw new StoreCallError('recording a failure failed', { cause: err });
      }
      records.set(
        `user#${username}`,
        { ...record, failures: state.failures, lockedUntil: state.lockedUntil },
        now + deps.cache.ttlMs,
      );
      return { ok: false, reason: 'password_mismatch', principal: username };
    }
    verifiedBasic.set(fingerprint, record.hash, now + deps.cache.ttlMs);
    if (record.failures > 0) {
      try {
        await deps.store.clearFailures(username);
      } catch (err) {
        throw new StoreCallError('clearing failures failed', { cause: err });
      }
      records.set(
        `user#${username}`,
        { ...record, failures: 0, failureWindowStart: undefined, lockedUntil: undefined },
        now + deps.cache.ttlMs,
      );
    }
    return {
      ok: true,
      cacheHit,
      cidrs: record.allowedCidrs,
      identity: identityFor(record.clientId, record.scopes, record.tier, { authType: 'basic', username }),
    };
  }

  function identityFor(
    clientId: string,
    scopes: readonly string[],
    tier: string,
    who: { authType: 'api_key'; keyId: string } | { authType: 'basic'; username: string },
  ): Identity {
    const usageKey = deps.usagePlanKeys[tier];
    if (usageKey === undefined && Object.keys(deps.usagePlanKeys).length > 0)
      deps.observer.warn('no usage plan key for the tier', { tier });
    return {
      principalId: clientId,
      scopes,
      context: { clientId, ...who, scopes: scopes.join(' '), tier },
      ...(usageKey === undefined ? {} : { usageIdentifierKey: usageKey }),
    };
  }

  function credentialOf(request: AuthorizerRequest): Promise<Verification> | Verification {
    if (credentialInQuery(request)) return { ok: false, reason: 'credential_in_query' };
    const hasKey = headerValues(request, 'x-api-key').length > 0;
    const hasAuthorization = headerValues(request, 'authorization').length > 0;
    // Two credentials are ambiguous: which one would the integration believe?
    if (hasKey && hasAuthorization) return { ok: false, reason: 'credential_multiple' };
    const header = singleHeader(request, hasKey ? 'x-api-key' : 'authorization');
    if (!header.ok) return header;
    return hasKey ? verifyKey(header.value) : verifyBasic(header.value);
  }

  return async (event) => {
    // Typed explicitly so that TypeScript sees refuse() and fail() end the path (they return never).
    const invocation: AuthorizerInvocation = new AuthorizerInvocation(deps.observer, deps.clock);
    const request = invocation.read(event, deps.simpleResponses);
    let verification: Verification;
    try {
      verification = await credentialOf(request);
    } catch (err) {
      const cause = err instanceof StoreCallError ? err.cause : err;
      invocation.fail('check the credential', cause, {
        error: (cause as Error).name,
        reason: (cause as { reason?: unknown }).reason,
        message: (cause as Error).message,
      });
    }
    if (!verification.ok) invocation.refuse(verification.reason, { principal: verification.principal });
    const { identity } = verification;
    const denyAll = sourceIpAllowed(request.sourceIp, verification.cidrs) ? undefined : 'source_ip_denied';
    const answer = answerFor(request, identity, matcher, policies, denyAll);
    invocation.log(answer.effect, answer.reason, {
      route: answer.route,
      principal: identity.principalId,
      cacheHit: verification.cacheHit,
    });
    return answer.response;
  };
}
