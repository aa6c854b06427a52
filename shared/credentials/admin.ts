import { randomBytes } from 'node:crypto';
import { hashSecret, type KeyEnvironment, mintApiKey } from './api-key.ts';
import { parseCidr } from './cidr.ts';
import { type PasswordHasher, USERNAME_PATTERN } from './password.ts';
import { type CredentialAdminStore, CredentialStoreError, type KeyRecord, type UserRecord } from './store.ts';

/** A request the CLI cannot carry out as asked (bad input, unknown id): exit status 2 / 1. */
export class CredentialAdminError extends Error {
  override readonly name = 'CredentialAdminError';
  readonly reason: 'invalid_input' | 'key_unknown' | 'user_unknown' | 'user_exists';

  constructor(reason: CredentialAdminError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** What a new key or user is created with. */
export interface GrantOptions {
  readonly scopes: readonly string[];
  /** Usage plan tier. */
  readonly tier: string;
  /** Source CIDRs; empty = anywhere. */
  readonly allowedCidrs: readonly string[];
}

/** Options for a new key. */
export interface NewKeyOptions extends GrantOptions {
  readonly clientId: string;
  readonly name: string;
  readonly environment: KeyEnvironment;
  /** Epoch ms, or undefined for a key that does not expire. */
  readonly expiresAt: number | undefined;
  /** HMAC pepper (must equal the function's API_KEY_PEPPER), or undefined for SHA-256. */
  readonly pepper: string | undefined;
}

/** The record plus the one-time secret, which the caller prints once and forgets. */
export interface Issued<R> {
  readonly record: R;
  readonly secret: string;
}

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token

function checkGrant(options: GrantOptions): void {
  for (const scope of options.scopes)
    if (!SCOPE.test(scope))
      throw new CredentialAdminError('invalid_input', `not a scope: ${JSON.stringify(scope)}`);
  for (const cidr of options.allowedCidrs)
    if (parseCidr(cidr) === undefined)
      throw new CredentialAdminError('invalid_input', `not a CIDR range: ${JSON.stringify(cidr)}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.tier))
    throw new CredentialAdminError('invalid_input', `not a tier name: ${JSON.stringify(options.tier)}`);
}

/** Creates a key; the full key is returned once and never stored. */
export async function createKey(
  store: CredentialAdminStore,
  options: NewKeyOptions,
  now: number,
): Promise<Issued<KeyRecord>> {
  checkGrant(options);
  if (options.clientId === '') throw new CredentialAdminError('invalid_input', 'the client id is required');
  if (options.expiresAt !== undefined && options.expiresAt <= now)
    throw new CredentialAdminError('invalid_input', 'the expiry must be in the future');
  const minted = mintApiKey(options.environment);
  const record: KeyRecord = {
    keyId: minted.keyId,
    hash: hashSecret(minted.secret, options.pepper),
    clientId: options.clientId,
    name: options.name,
    scopes: [...options.scopes],
    status: 'active',
    createdAt: now,
    expiresAt: options.expiresAt,
    allowedCidrs: [...options.allowedCidrs],
    tier: options.tier,
    previousHash: undefined,
    previousHashExpiresAt: undefined,
  };
  await store.putKey(record, 'create');
  return { record, secret: minted.key };
}

async function existingKey(store: CredentialAdminStore, keyId: string): Promise<KeyRecord> {
  const record = await store.findKey(keyId);
  if (record === undefined) throw new CredentialAdminError('key_unknown', `no key with id ${keyId}`);
  return record;
}

/** A key's record (never its secret). */
export const showKey = existingKey;

/**
 * Rotates a key: a new secret under the same key id; the old one keeps working until `now + graceMs`
 * so clients can switch without an outage.
 */
export async function rotateKey(
  store: CredentialAdminStore,
  keyId: string,
  options: { environment: KeyEnvironment; pepper: string | undefined; graceMs: number },
  now: number,
): Promise<Issued<KeyRecord>> {
  const current = await existingKey(store, keyId);
  if (current.status !== 'active') throw new CredentialAdminError('invalid_input', `key ${keyId} is revoked`);
  const minted = mintApiKey(options.environment, keyId);
  const record: KeyRecord = {
    ...current,
    hash: hashSecret(minted.secret, options.pepper),
    previousHash: options.graceMs > 0 ? current.hash : undefined,
    previousHashExpiresAt: options.graceMs > 0 ? now + options.graceMs : undefined,
  };
  await store.putKey(record, 'replace');
  return { record, secret: minted.key };
}

/** Revokes a key (kept for the record; `delete` removes it). */
export async function revokeKey(store: CredentialAdminStore, keyId: string): Promise<KeyRecord> {
  const record: KeyRecord = { ...(await existingKey(store, keyId)), status: 'revoked' };
  await store.putKey(record, 'replace');
  return record;
}

/** Deletes a key for good. */
export async function deleteKey(store: CredentialAdminStore, keyId: string): Promise<void> {
  if (!(await store.deleteKey(keyId)))
    throw new CredentialAdminError('key_unknown', `no key with id ${keyId}`);
}

/** A random password: 18 bytes (144 bits) as 24 base64url characters. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Creates a Basic user; the generated password (when none was given) is returned once. */
export async function createUser(
  store: CredentialAdminStore,
  hasher: PasswordHasher,
  options: GrantOptions & { username: string; password: string | undefined; clientId: string | undefined },
  now: number,
): Promise<Issued<UserRecord>> {
  checkGrant(options);
  if (!USERNAME_PATTERN.test(options.username))
    throw new CredentialAdminError(
      'invalid_input',
      'usernames are 1-128 characters of letters, digits and . _ @ + - (starting with a letter or digit)',
    );
  const password = options.password ?? generatePassword();
  checkPassword(password);
  const record: UserRecord = {
    username: options.username,
    hash: await hasher.hash(password),
    clientId: options.clientId ?? options.username,
    scopes: [...options.scopes],
    status: 'active',
    createdAt: now,
    allowedCidrs: [...options.allowedCidrs],
    tier: options.tier,
    failures: 0,
    failureWindowStart: undefined,
    lockedUntil: undefined,
  };
  try {
    await store.putUser(record, 'create');
  } catch (err) {
    if (err instanceof CredentialStoreError && err.reason === 'record_exists')
      throw new CredentialAdminError('user_exists', `user ${options.username} already exists`);
    throw err;
  }
  return { record, secret: password };
}

function checkPassword(password: string): void {
  if (password.length < 12 || password.length > 1024)
    throw new CredentialAdminError('invalid_input', 'passwords are 12 to 1024 characters');
}

async function existingUser(store: CredentialAdminStore, username: string): Promise<UserRecord> {
  const record = await store.findUser(username);
  if (record === undefined) throw new CredentialAdminError('user_unknown', `no user named ${username}`);
  return record;
}

/** Sets a new password (generated when none is given) and clears failures and lockouts. */
export async function setPassword(
  store: CredentialAdminStore,
  hasher: PasswordHasher,
  username: string,
  password: string | undefined,
): Promise<Issued<UserRecord>> {
  const current = await existingUser(store, username);
  const secret = password ?? generatePassword();
  checkPassword(secret);
  const record: UserRecord = {
    ...current,
    hash: await hasher.hash(secret),
    failures: 0,
    failureWindowStart: undefined,
    lockedUntil: undefined,
  };
  await store.putUser(record, 'replace');
  return { record, secret };
}

/** Changes a user's status: `lock` (until unlocked), `unlock` (also clears failures), `revoke`. */
export async function setUserStatus(
  store: CredentialAdminStore,
  username: string,
  action: 'lock' | 'unlock' | 'revoke',
): Promise<UserRecord> {
  const current = await existingUser(store, username);
  const record: UserRecord =
    action === 'unlock'
      ? { ...current, status: 'active', failures: 0, failureWindowStart: undefined, lockedUntil: undefined }
      : { ...current, status: action === 'lock' ? 'locked' : 'revoked' };
  await store.putUser(record, 'replace');
  return record;
}

/** What {@link seedDemoCredentials} created; the secrets are shown once by the caller. */
export interface DemoCredentials {
  /** The demo API key (scopes orders:read orders:write, tier basic). */
  readonly apiKey: string;
  readonly keyId: string;
  readonly username: string;
  readonly password: string;
}

/**
 * Seeds a demo API key and a demo Basic user (`demo`) for the local gateway's first start. Returns
 * undefined when a user `demo` already exists (the seed ran before; its secrets were shown then).
 */
export async function seedDemoCredentials(
  store: CredentialAdminStore,
  hasher: PasswordHasher,
  options: { environment: KeyEnvironment; pepper: string | undefined; now: number },
): Promise<DemoCredentials | undefined> {
  if ((await store.findUser('demo')) !== undefined) return undefined;
  const grant = { scopes: ['orders:read', 'orders:write'], tier: 'basic', allowedCidrs: [] };
  const user = await createUser(
    store,
    hasher,
    { ...grant, username: 'demo', password: undefined, clientId: 'demo-basic' },
    options.now,
  );
  const key = await createKey(
    store,
    {
      ...grant,
      clientId: 'demo-client',
      name: 'demo key (seeded by the local gateway)',
      environment: options.environment,
      expiresAt: undefined,
      pepper: options.pepper,
    },
    options.now,
  );
  return { apiKey: key.secret, keyId: key.record.keyId, username: 'demo', password: user.secret };
}

/** A record as the CLI shows it: never a hash. */
export function describeKey(record: KeyRecord, now: number): Record<string, unknown> {
  return {
    keyId: record.keyId,
    clientId: record.clientId,
    name: record.name,
    scopes: record.scopes,
    status:
      record.expiresAt !== undefined && record.expiresAt <= now && record.status === 'active'
        ? 'expired'
        : record.status,
    tier: record.tier,
    allowedCidrs: record.allowedCidrs,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: record.expiresAt === undefined ? null : new Date(record.expiresAt).toISOString(),
    previousSecretValidUntil:
      record.previousHashExpiresAt !== undefined && record.previousHashExpiresAt > now
        ? new Date(record.previousHashExpiresAt).toISOString()
        : null,
  };
}

/** A user as the CLI shows it: never a hash. */
export function describeUser(record: UserRecord, now: number): Record<string, unknown> {
  const lockedOut = (record.lockedUntil ?? 0) > now;
  return {
    username: record.username,
    clientId: record.clientId,
    scopes: record.scopes,
    status: record.status === 'active' && lockedOut ? 'locked_out' : record.status,
    tier: record.tier,
    allowedCidrs: record.allowedCidrs,
    failures: record.failures,
    lockedUntil: lockedOut ? new Date(record.lockedUntil as number).toISOString() : null,
    createdAt: new Date(record.createdAt).toISOString(),
  };
}
