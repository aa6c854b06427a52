/** Times are epoch milliseconds throughout; DynamoDB's TTL attribute (seconds) is derived from them. */

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
}

/** When repeated Basic failures lock a user. */
export interface LockoutPolicy {
  /** Failures within the window that lock the user. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long the lock lasts. */
  readonly lockMs: number;
}

/** A user's failure state after recording one more failure. */
export interface FailureState {
  readonly failures: number;
  readonly lockedUntil: number | undefined;
}

/**
 * What the authorizer reads and updates. Every method rejects with {@link CredentialStoreError}
 * when the store cannot answer; the authorizer turns that into a 500, never an Allow.
 */
export interface CredentialStore {
  findKey(keyId: string): Promise<KeyRecord | undefined>;
  findUser(username: string): Promise<UserRecord | undefined>;
  /** Atomically counts a failure in the current window (starting a new one when it ran out), locking at the limit. */
  recordFailure(username: string, now: number, policy: LockoutPolicy): Promise<FailureState>;
  /** Forgets failures and any lockout after a successful login. */
  clearFailures(username: string): Promise<void>;
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
}

/** Why the store could not answer. */
export type StoreFailure =
  | 'store_unavailable'
  | 'store_timeout'
  | 'store_throttled'
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
