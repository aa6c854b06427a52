/** Times are epoch milliseconds throughout; DynamoDB's TTL attribute (seconds) is derived from them. */

/**
 * A credential's own API Gateway API key: the authorizer returns {@link value} as
 * `usageIdentifierKey`, and API Gateway counts the credential's requests against its tier's usage
 * plan under it (docs/key-authorizer.md#per-client-quotas). Not a secret clients hold: they never
 * send it (API key source `AUTHORIZER`); still never logged nor put in the context.
 */
export interface UsageKey {
  /** The API key's id in API Gateway (`aws apigateway get-usage --key-id`). */
  readonly id: string;
  /** The API key's value (20 to 128 characters). */
  readonly value: string;
}

/** An API key as stored: never the key or its secret, only a hash of the secret. */
export interface KeyRecord {
  /** Public key id (the lookup key). */
  readonly keyId: string;
  /** `sha256:<b64url>` or `hmac-sha256:<b64url>` of the current secret. */
  readonly hash: string;
  /** The client the key belongs to (`principalId` of the answer). */
  readonly clientId: string;
  /** Human label. */
  readonly name: string;
  readonly scopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly createdAt: number;
  /** After this instant the key is refused (`key_expired`); undefined = never. */
  readonly expiresAt: number | undefined;
  /** Source CIDRs the key may be used from; empty = anywhere. */
  readonly allowedCidrs: readonly string[];
  /** Usage plan tier (`basic`, `premium`, ...). */
  readonly tier: string;
  /** Hash of the secret before the last rotation, accepted until {@link previousHashExpiresAt}. */
  readonly previousHash: string | undefined;
  readonly previousHashExpiresAt: number | undefined;
  /** The key's own usage plan identity; absent for a key made without one (`--no-usage-key`). */
  readonly usageKey?: UsageKey | undefined;
  /**
   * The tenant the key acts for: path parameters bound to the `tenant` credential attribute take
   * only this value (docs/tenant-binding.md). Absent: bound routes are refused.
   */
  readonly tenant?: string | undefined;
}

/** A Basic user as stored. */
export interface UserRecord {
  readonly username: string;
  /** `scrypt$N=..,r=..,p=..,l=..$<salt>$<hash>`. */
  readonly hash: string;
  /** Client id reported in the context; the username when not set. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** `locked` is an administrator's lock (until unlocked); lockouts after failures use `lockedUntil`. */
  readonly status: 'active' | 'locked' | 'revoked';
  readonly createdAt: number;
  readonly allowedCidrs: readonly string[];
  readonly tier: string;
  /** Failed attempts in the current window. */
  readonly failures: number;
  /** Start of the current failure window. */
  readonly failureWindowStart: number | undefined;
  /** Locked after too many failures until this instant. */
  readonly lockedUntil: number | undefined;
  /** The user's own usage plan identity; absent for a user made without one. */
  readonly usageKey?: UsageKey | undefined;
  /** The tenant the user acts for (see {@link KeyRecord.tenant}). */
  readonly tenant?: string | undefined;
}

/** When repeated Basic failures lock a user (or a name that has no user behind it). */
export interface LockoutPolicy {
  /** Password attempts checked within the window at most; the last one, when wrong, locks. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long the lock lasts. */
  readonly lockMs: number;
}

/**
 * One password attempt, counted before the password is checked. `granted: false` means the name is
 * locked (a lock in force, or every attempt of the current window used): the password must not be
 * checked at all.
 */
export type AttemptReservation =
  | {
      readonly granted: true;
      /** This attempt's number in the window (1 = first); the one equal to the limit locks on failure. */
      readonly attempt: number;
      /** Start of the window the attempt was counted in (it identifies the window). */
      readonly windowStart: number;
      /** The user as stored at the moment of counting; undefined for a name with no user behind it. */
      readonly user: UserRecord | undefined;
    }
  | { readonly granted: false };

/**
 * What the authorizer reads and updates. Every method rejects with {@link CredentialStoreError}
 * when the store cannot answer; the authorizer turns that into a 503, never an Allow. `limitMs`
 * lowers the store's own time budget for the call (the function's remaining time).
 */
export interface CredentialStore {
  findKey(keyId: string, limitMs?: number): Promise<KeyRecord | undefined>;
  findUser(username: string, limitMs?: number): Promise<UserRecord | undefined>;
  /**
   * Atomically counts one password attempt for `username` in the current window (starting a new
   * window when the last one ran out), unless the name is locked or the window's attempts are used
   * up. `known` says whether a user record exists: unknown names are counted too (in an item of
   * their own that expires), so they cost the same and are limited the same.
   */
  reserveAttempt(
    username: string,
    known: boolean,
    now: number,
    policy: LockoutPolicy,
    limitMs?: number,
  ): Promise<AttemptReservation>;
  /**
   * After the right password: gives the attempt back, only if its window is still the current one,
   * no lock is in force and the stored hash is still `hash`. False when any of that changed while
   * the password was checked (then the login must be refused).
   */
  releaseAttempt(
    username: string,
    windowStart: number,
    hash: string,
    now: number,
    limitMs?: number,
  ): Promise<boolean>;
  /**
   * After a wrong password that used the window's last attempt: locks the name until
   * `now + policy.lockMs`, unless its window already changed (someone else locked or reset it).
   */
  lock(
    username: string,
    known: boolean,
    windowStart: number,
    now: number,
    policy: LockoutPolicy,
    limitMs?: number,
  ): Promise<void>;
}

/** What the CLI additionally needs. */
export interface CredentialAdminStore extends CredentialStore {
  /** `create` fails with `record_exists` when the id is taken; `replace` with `record_missing` when it is not. */
  putKey(record: KeyRecord, mode: 'create' | 'replace'): Promise<void>;
  deleteKey(keyId: string): Promise<boolean>;
  listKeys(): Promise<KeyRecord[]>;
  putUser(record: UserRecord, mode: 'create' | 'replace'): Promise<void>;
  deleteUser(username: string): Promise<boolean>;
  listUsers(): Promise<UserRecord[]>;
  /**
   * Gives an existing record that has none its usage key, changing nothing else (the lockout
   * counters the authorizer writes meanwhile are kept). Fails with `record_missing` when the record
   * is gone and `record_exists` when it already has a usage key.
   */
  attachUsageKey(kind: 'key' | 'user', id: string, usageKey: UsageKey): Promise<void>;
}

/** Why the store could not answer. */
export type StoreFailure =
  | 'store_unavailable'
  | 'store_timeout'
  | 'store_throttled'
  | 'store_response_too_large'
  | 'store_denied'
  | 'store_no_credentials'
  | 'table_missing'
  | 'record_exists'
  | 'record_missing'
  | 'store_error';

/** A store failure; the message names no credential, `cause` keeps the SDK error. */
export class CredentialStoreError extends Error {
  override readonly name = 'CredentialStoreError';
  readonly reason: StoreFailure;

  constructor(reason: StoreFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}
