import { hash, randomBytes } from 'node:crypto';
import { type AuthorizerRequest, headerValues } from '../apigw/authorizer-request.ts';
import { credentialInQuery, singleHeader } from '../apigw/credentials.ts';
import { answerFor, type Identity, type PolicyResponse, type SimpleResponse } from '../authz/answer.ts';
import { AuthorizerInvocation } from '../authz/invocation.ts';
import { ExpiringLru } from '../cache/lru.ts';
import type { Observer } from '../observability/observer.ts';
import { PolicyCache, scopeSetOf } from '../policy/policy-compiler.ts';
import { boundContext, resolveBoundValues, tableBindings } from '../routes/path-binding.ts';
import { RouteMatcher, type RouteTable } from '../routes/route-table.ts';
import type { SecretValue } from '../secrets/secret-value.ts';
import {
  compileSecretHash,
  constantTimeEqual,
  type KeyEnvironment,
  parseApiKey,
  type SecretHash,
  secretDigest,
} from './api-key.ts';
import { sourceIpAllowed } from './cidr.ts';
import { decodeBasic, type PasswordHasher } from './password.ts';
import {
  type CredentialStore,
  CredentialStoreError,
  type KeyRecord,
  type LockoutPolicy,
  type UserRecord,
} from './store.ts';

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

/** How long credential state may be reused in one execution environment, and how much of it. */
export interface CredentialCachePolicy {
  /**
   * The longest time any credential state read from the table (a key, a user, a verified Basic
   * credential, an unknown username) is used before it is read again; 0 = never reused.
   */
  readonly ttlMs: number;
  /** How long an unknown key id is remembered (at most {@link ttlMs}); 0 = not remembered. */
  readonly negativeTtlMs: number;
  /** Entries per cache (keys, unknown key ids, users, verified Basic credentials). */
  readonly size: number;
}

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
  /**
   * Refuse (403 `usage_key_missing`) a REST request whose credential has no usage key of its own:
   * the API requires API keys, and the quota is per credential (docs/key-authorizer.md#per-client-quotas).
   */
  readonly usageKeyRequired: boolean;
  readonly simpleResponses: boolean;
  readonly lockout: LockoutPolicy;
  readonly cache: CredentialCachePolicy;
}

/** The part of Lambda's invocation context the authorizer uses. */
export interface InvocationContext {
  /** Milliseconds until Lambda stops the invocation. */
  getRemainingTimeInMillis?(): number;
}

/**
 * Time kept, after any store call, to answer before the function times out: store calls get the
 * remaining time minus this, so a slow table ends in our 503 rather than in Lambda's timeout.
 */
export const ANSWER_MARGIN_MS = 100;

/** A verified caller, or why not. */
type Verification =
  | {
      readonly ok: true;
      readonly identity: Identity;
      readonly cidrs: readonly string[];
      readonly cacheHit: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: KeyUnauthorizedReason;
      readonly principal?: string | undefined;
      readonly cacheHit?: boolean;
    };

/** Thrown by a store call; carries the log reason. */
class StoreCallError extends Error {
  override readonly name = 'StoreCallError';
}

/** Milliseconds a store call may still take in this invocation. */
type Limit = () => number;

/** A key record with what every request for it needs, computed once per read. */
interface KeyEntry {
  readonly record: KeyRecord;
  /** Whether a hash of the record needs the pepper (`hmac-sha256:`). */
  readonly peppered: boolean;
  readonly current: SecretHash;
  readonly previous: SecretHash | undefined;
  readonly identity: Identity;
  /**
   * SHA-256 of the secret last verified against {@link current}. With a peppered record, a repeated
   * key then costs one unkeyed one-shot SHA-256 instead of an HMAC (which OpenSSL 3 sets up anew
   * for every call). Only in memory, for the entry's TTL; a SHA-256 of a 256-bit random secret
   * reveals nothing usable.
   */
  verifiedDigest: string | undefined;
}

/** The Basic credential syntax: scheme, spaces, one token (RFC 7235 §2.1). */
const AUTHORIZATION = /^([A-Za-z]+) +(\S+)$/;

/** Whether a key record has a hash that needs the pepper. */
function needsPepper(record: KeyRecord): boolean {
  return record.hash.startsWith('hmac-sha256:') || (record.previousHash?.startsWith('hmac-sha256:') ?? false);
}

/**
 * The credentials authorizer: event → request → API key (`x-api-key`) or HTTP Basic
 * (`Authorization`) → DynamoDB record → answer. Outcomes: no usable credential, unknown, malformed,
 * revoked, expired or locked → throws `Unauthorized` (401); valid but the scope or the source IP
 * does not permit → Deny (403); the store failing in any way → throws
 * {@link AuthorizerFailureError} (503, nothing cached). No path turns an error into Allow.
 */
export function createKeyAuthorizer(
  deps: KeyAuthorizerDeps,
): (event: unknown, context?: InvocationContext) => Promise<PolicyResponse | SimpleResponse> {
  const matcher = new RouteMatcher(deps.routes);
  const policies = new PolicyCache(deps.routes);
  const bindings = tableBindings(deps.routes);
  const { ttlMs } = deps.cache;
  const negativeTtlMs = Math.min(deps.cache.negativeTtlMs, ttlMs);
  const capacity = ttlMs > 0 ? deps.cache.size : 0;
  const keys = new ExpiringLru<string, KeyEntry>(capacity);
  // Unknown key ids in a cache of their own: ids anyone can forge (the checksum is public) cannot
  // push known keys out, and a repeated forged id costs one read per TTL.
  const unknownKeys = new ExpiringLru<string, true>(negativeTtlMs > 0 ? capacity : 0);
  // Users, found or not, for the same TTL: an unknown name costs the same reads as a known one.
  const users = new ExpiringLru<string, UserRecord | null>(capacity);
  // Verified Basic credentials, keyed by a SHA-256 of the header under a per-process random salt:
  // the cache never holds a password, its keys are useless outside this process, and a hit counts
  // only while the stored hash is unchanged (a password change or reset invalidates it).
  const verifiedBasic = new ExpiringLru<string, string>(capacity);
  const fingerprintSalt = randomBytes(32).toString('base64');

  async function storeCall<T>(what: string, limit: Limit, run: (limitMs: number) => Promise<T>): Promise<T> {
    try {
      const limitMs = limit();
      if (!(limitMs > 0))
        throw new CredentialStoreError(
          'store_timeout',
          `no time left for ${what} before the function times out`,
        );
      return await run(limitMs);
    } catch (err) {
      throw new StoreCallError(what, { cause: err });
    }
  }

  function identityFor(
    record: KeyRecord | UserRecord,
    who: { authType: 'api_key'; keyId: string } | { authType: 'basic'; username: string },
  ): Identity {
    const { clientId, scopes, tier, usageKey } = record;
    const context = { clientId, ...who, scopes: scopes.join(' '), tier };
    // The credential's own API Gateway API key: its quota and throttle are this client's alone.
    const usage = usageKey === undefined ? {} : { usageIdentifierKey: usageKey.value };
    if (bindings.length === 0) return { principalId: clientId, scopes, context, ...usage };
    // Path parameters bound to a credential attribute (docs/tenant-binding.md): `tenant` only.
    const bound = resolveBoundValues(bindings, 'credential', (name) =>
      name === 'tenant' ? record.tenant : undefined,
    );
    return {
      principalId: clientId,
      scopes,
      context: { ...context, ...boundContext(bound) },
      ...usage,
      bound,
    };
  }

  /**
   * The pepper a record's hashes are compiled with. A pepper read at run time is read only for a
   * record that needs it, and awaited only then; an unreadable one is a dependency failure (503).
   * An entry keeps the value it was compiled with for its TTL; a mismatch re-checks with a fresh
   * read (see verifyKey).
   */
  async function pepperFor(record: KeyRecord): Promise<string | undefined> {
    const pepper = deps.pepper;
    if (typeof pepper !== 'object') return pepper;
    if (!needsPepper(record)) return undefined;
    try {
      return await pepper.get();
    } catch (err) {
      throw new StoreCallError('read the pepper', { cause: err });
    }
  }

  /** Compiles a record's hashes with `pepper` and remembers the entry for the TTL. */
  function remember(
    keyId: string,
    record: KeyRecord,
    identity: Identity,
    pepper: string | undefined,
  ): KeyEntry {
    const entry: KeyEntry = {
      record,
      peppered: needsPepper(record),
      current: compileSecretHash(record.hash, pepper),
      previous:
        record.previousHash === undefined ? undefined : compileSecretHash(record.previousHash, pepper),
      identity,
      verifiedDigest: undefined,
    };
    keys.set(keyId, entry, deps.clock() + ttlMs);
    return entry;
  }

  /** Reads a key; only a successful read is remembered (found or not). */
  async function readKey(keyId: string, limit: Limit): Promise<KeyEntry | undefined> {
    const record = await storeCall('read the key', limit, (ms) => deps.store.findKey(keyId, ms));
    if (record === undefined) {
      unknownKeys.set(keyId, true, deps.clock() + negativeTtlMs);
      return undefined;
    }
    const identity = identityFor(record, { authType: 'api_key', keyId: record.keyId });
    // The identity is reused for every hit: its scope set is remembered once (see scopeSetOf).
    scopeSetOf(identity.scopes);
    // A string pepper is passed as it is (no await on that path).
    const pepper = typeof deps.pepper === 'object' ? await pepperFor(record) : deps.pepper;
    return remember(keyId, record, identity, pepper);
  }

  function checkKey(entry: KeyEntry, secret: string, now: number, cacheHit: boolean): Verification {
    const { record } = entry;
    const principal = record.clientId;
    if (record.status !== 'active') return { ok: false, reason: 'key_revoked', principal, cacheHit };
    if (record.expiresAt !== undefined && record.expiresAt <= now)
      return { ok: false, reason: 'key_expired', principal, cacheHit };
    const digest = secretDigest(secret);
    let matches =
      (entry.verifiedDigest !== undefined && constantTimeEqual(digest, entry.verifiedDigest)) ||
      entry.current.matches(secret, digest);
    if (matches) entry.verifiedDigest = digest;
    else
      matches =
        entry.previous !== undefined &&
        record.previousHashExpiresAt !== undefined &&
        now < record.previousHashExpiresAt &&
        entry.previous.matches(secret, digest);
    if (!matches) return { ok: false, reason: 'key_mismatch', principal, cacheHit };
    return { ok: true, cacheHit, cidrs: record.allowedCidrs, identity: entry.identity };
  }

  async function verifyKey(value: string, limit: Limit): Promise<Verification> {
    const parsed = parseApiKey(value.trim(), deps.keyEnvironment);
    if (!parsed.ok) return parsed;
    const now = deps.clock();
    const cached = keys.get(parsed.keyId, now);
    if (cached === undefined && unknownKeys.get(parsed.keyId, now) !== undefined)
      return { ok: false, reason: 'key_unknown', cacheHit: true };
    if (cached !== undefined) {
      const verdict = checkKey(cached, parsed.secret, now, true);
      // A remembered record may predate a rotation: a secret it does not match is checked once
      // more against the record as stored now, so a new secret works at once.
      if (verdict.ok || verdict.reason !== 'key_mismatch') return verdict;
    }
    const entry = await readKey(parsed.keyId, limit);
    if (entry === undefined) return { ok: false, reason: 'key_unknown' };
    const verdict = checkKey(entry, parsed.secret, deps.clock(), false);
    // The pepper may have been changed since it was read: a peppered record that does not match is
    // checked once more with a fresh read. Anyone can send a wrong key, so the re-read is
    // rate-limited (SecretValue.refreshAfterMiss) and resolves false when the value did not change.
    const pepper = deps.pepper;
    if (verdict.ok || verdict.reason !== 'key_mismatch' || !entry.peppered || typeof pepper !== 'object')
      return verdict;
    if (!(await pepper.refreshAfterMiss())) return verdict;
    const renewed = remember(parsed.keyId, entry.record, entry.identity, await pepperFor(entry.record));
    return checkKey(renewed, parsed.secret, deps.clock(), false);
  }

  async function verifyBasic(header: string, limit: Limit): Promise<Verification> {
    const match = AUTHORIZATION.exec(header.trim());
    if (match === null) return { ok: false, reason: 'credential_malformed' };
    if ((match[1] as string).toLowerCase() !== 'basic') return { ok: false, reason: 'credential_scheme' };
    const basic = decodeBasic(match[2] as string);
    if (!basic.ok) return basic;
    const { username, password } = basic;
    const now = deps.clock();
    let user = users.get(username, now);
    if (user === undefined) {
      user = (await storeCall('read the user', limit, (ms) => deps.store.findUser(username, ms))) ?? null;
      users.set(username, user, now + ttlMs);
    }
    const known = user !== null;
    const fingerprint = hash('sha256', fingerprintSalt + header, 'base64url');
    // A credential verified here within the TTL, against the same hash, for a user the record
    // (read within the TTL) shows active and not locked: no attempt is counted, no password checked.
    if (
      user !== null &&
      user.status === 'active' &&
      !((user.lockedUntil ?? 0) > now) &&
      verifiedBasic.get(fingerprint, now) === user.hash
    )
      return ok(user, true);

    // Every password check is counted first, atomically, in the table: what decides whether the
    // password may be checked at all is the table, never this container's cache. If the count
    // cannot be written, nothing is checked (503).
    const reservation = await storeCall('count the attempt', limit, (ms) =>
      deps.store.reserveAttempt(username, known, now, deps.lockout, ms),
    );
    if (!reservation.granted) {
      users.delete(username);
      return { ok: false, reason: 'user_locked', principal: known ? username : undefined };
    }
    // The record as stored when the attempt was counted (status and hash are checked against it).
    const fresh = reservation.user;
    if (known) {
      if (fresh === undefined) users.delete(username);
      else users.set(username, fresh, now + ttlMs);
    }
    // Every outcome spends one derivation: unknown, revoked and locked users against a dummy hash
    // with the current parameters, so response times do not tell which names exist.
    const refuse = async (reason: KeyUnauthorizedReason): Promise<Verification> => {
      if (reservation.attempt >= deps.lockout.maxFailures)
        await storeCall('lock the user', limit, (ms) =>
          deps.store.lock(username, known, reservation.windowStart, deps.clock(), deps.lockout, ms),
        );
      return { ok: false, reason, principal: fresh === undefined ? undefined : username };
    };
    if (fresh === undefined) {
      await deps.passwords.verifyDummy(password);
      return refuse('user_unknown');
    }
    if (fresh.status !== 'active') {
      await deps.passwords.verifyDummy(password);
      return refuse(fresh.status === 'revoked' ? 'user_revoked' : 'user_locked');
    }
    if (!(await deps.passwords.verify(password, fresh.hash))) return refuse('password_mismatch');
    // The right password gives its attempt back, but only while nothing changed meanwhile: a lock
    // taken (or a password reset) during the check wins, and a success never lifts a lock.
    const released = await storeCall('release the attempt', limit, (ms) =>
      deps.store.releaseAttempt(username, reservation.windowStart, fresh.hash, deps.clock(), ms),
    );
    if (!released) {
      users.delete(username);
      return { ok: false, reason: 'user_locked', principal: username };
    }
    verifiedBasic.set(fingerprint, fresh.hash, now + ttlMs);
    return ok(fresh, false);
  }

  // One identity per user record read, reused by every hit while the record is cached.
  const userIdentities = new WeakMap<UserRecord, Identity>();

  function ok(user: UserRecord, cacheHit: boolean): Verification {
    let identity = userIdentities.get(user);
    if (identity === undefined) {
      identity = identityFor(user, { authType: 'basic', username: user.username });
      scopeSetOf(identity.scopes);
      userIdentities.set(user, identity);
    }
    return { ok: true, cacheHit, cidrs: user.allowedCidrs, identity };
  }

  function credentialOf(request: AuthorizerRequest, limit: Limit): Promise<Verification> | Verification {
    if (credentialInQuery(request)) return { ok: false, reason: 'credential_in_query' };
    const hasKey = headerValues(request, 'x-api-key').length > 0;
    const hasAuthorization = headerValues(request, 'authorization').length > 0;
    // Two credentials are ambiguous: which one would the integration believe?
    if (hasKey && hasAuthorization) return { ok: false, reason: 'credential_multiple' };
    const header = singleHeader(request, hasKey ? 'x-api-key' : 'authorization');
    if (!header.ok) return header;
    return hasKey ? verifyKey(header.value, limit) : verifyBasic(header.value, limit);
  }

  return async (event, context) => {
    // Typed explicitly so that TypeScript sees refuse() and fail() end the path (they return never).
    const invocation: AuthorizerInvocation = new AuthorizerInvocation(deps.observer, deps.clock);
    const request = invocation.read(event, deps.simpleResponses);
    // Every store call is bounded by the time Lambda leaves this invocation (and by its own budget).
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline =
      remaining === undefined ? Number.POSITIVE_INFINITY : deps.clock() + remaining - ANSWER_MARGIN_MS;
    const limit: Limit = () => deadline - deps.clock();
    let verification: Verification;
    try {
      verification = await credentialOf(request, limit);
    } catch (err) {
      const cause = err instanceof StoreCallError ? err.cause : err;
      invocation.fail('check the credential', cause, {
        error: (cause as Error).name,
        reason: (cause as { reason?: unknown }).reason,
        message: (cause as Error).message,
      });
    }
    if (!verification.ok)
      invocation.refuse(verification.reason, {
        principal: verification.principal,
        cacheHit: verification.cacheHit ?? false,
      });
    const { identity } = verification;
    const denyAll = !sourceIpAllowed(request.sourceIp, verification.cidrs)
      ? 'source_ip_denied'
      : // Only REST APIs have usage plans: HTTP APIs (payload 1.0 and 2.0) never ask for the key.
        deps.usageKeyRequired &&
          identity.usageIdentifierKey === undefined &&
          (request.kind === 'rest-request' || request.kind === 'rest-token')
        ? 'usage_key_missing'
        : undefined;
    const answer = answerFor(request, identity, matcher, policies, denyAll);
    invocation.log(answer.effect, answer.reason, {
      route: answer.route,
      principal: identity.principalId,
      cacheHit: verification.cacheHit,
    });
    return answer.response;
  };
}
