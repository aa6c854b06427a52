import { randomBytes } from 'node:crypto';
import { isSafeBoundValue } from '../routes/path-binding.ts';
import type { Route } from '../routes/route-table.ts';
import { hashSecret, type KeyEnvironment, mintApiKey } from './api-key.ts';
import { parseCidr } from './cidr.ts';
import { type PasswordHasher, USERNAME_PATTERN } from './password.ts';
import {
  type CredentialAdminStore,
  CredentialStoreError,
  type KeyRecord,
  type UsageKey,
  type UserRecord,
} from './store.ts';
import { newUsageKeyValue, type UsageKeyRegistry } from './usage-keys.ts';

/**
 * A request the CLI cannot carry out as asked: bad input (exit status 2), an unknown id, or a change
 * made in the table whose usage key could not follow (`usage_key_out_of_step`, exit status 1; the
 * message says what is left to do).
 */
export class CredentialAdminError extends Error {
  override readonly name = 'CredentialAdminError';
  readonly reason: 'invalid_input' | 'key_unknown' | 'user_unknown' | 'user_exists' | 'usage_key_out_of_step';

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
  /**
   * Where the credential's own usage key is made, in the usage plan of its tier (which must be one
   * of `usageKeys.plans`). Undefined: the credential gets none, and a REST API that requires API
   * keys refuses it (docs/key-authorizer.md#per-client-quotas).
   */
  readonly usageKeys?: UsageKeyRegistry | undefined;
  /**
   * The tenant the credential acts for: path parameters bound to the `tenant` attribute take only
   * this value (docs/tenant-binding.md). Undefined: none (bound routes refuse the credential).
   */
  readonly tenant?: string | undefined;
}

/** What the API and the stack define, that a new credential's grant must stay within. */
export interface GrantCatalog {
  /** Scopes the API document's routes use (see {@link documentScopes}). */
  readonly scopes: readonly string[];
  /** Where the scopes come from, for messages (`openapi.yaml`). */
  readonly scopesFrom: string;
  /** Tiers the stack defines (its usage plans); undefined: any tier name is taken as a label. */
  readonly tiers: readonly string[] | undefined;
  /** Where the tiers come from, for messages (`stack gatehouse`, `template.yaml`). */
  readonly tiersFrom: string;
}

/** Every scope some route of the document asks for, sorted: the only scopes that can grant anything. */
export function documentScopes(routes: readonly Route[]): string[] {
  const scopes = new Set<string>();
  for (const route of routes)
    for (const set of route.scopeAlternatives ?? []) for (const s of set) scopes.add(s);
  return [...scopes].sort();
}

/**
 * Refuses a grant that cannot work: no scope at all, a scope no route asks for, a tier with no
 * usage plan. Each message is one line naming what is valid.
 */
export function checkGrantAgainst(grant: Pick<GrantOptions, 'scopes' | 'tier'>, catalog: GrantCatalog): void {
  const valid = catalog.scopes.join(' ');
  if (grant.scopes.length === 0)
    throw new CredentialAdminError(
      'invalid_input',
      catalog.scopes.length === 0
        ? `${catalog.scopesFrom} defines no scopes, so no credential could be granted anything`
        : `at least one scope is required (--scopes), from those ${catalog.scopesFrom} defines: ${valid}`,
    );
  const unknown = grant.scopes.filter((s) => !catalog.scopes.includes(s));
  if (unknown.length > 0)
    throw new CredentialAdminError(
      'invalid_input',
      `${unknown.length === 1 ? 'scope' : 'scopes'} ${unknown.map((s) => JSON.stringify(s)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not defined by ${catalog.scopesFrom} (valid: ${valid})`,
    );
  if (catalog.tiers !== undefined && !catalog.tiers.includes(grant.tier))
    throw new CredentialAdminError(
      'invalid_input',
      catalog.tiers.length === 0
        ? `${catalog.tiersFrom} defines no usage plan tiers`
        : `tier ${JSON.stringify(grant.tier)} is not defined by ${catalog.tiersFrom} (valid: ${catalog.tiers.join(', ')})`,
    );
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
  // A tenant that no policy could carry would make every bound route refuse the credential.
  if (options.tenant !== undefined && !isSafeBoundValue(options.tenant))
    throw new CredentialAdminError(
      'invalid_input',
      `not a tenant: ${JSON.stringify(options.tenant)} (1-128 of A-Z a-z 0-9 . _ ~ -, not "." or "..")`,
    );
  const plans = options.usageKeys?.plans;
  if (options.usageKeys !== undefined && plans === undefined)
    throw new CredentialAdminError(
      'invalid_input',
      `the usage plans of ${options.usageKeys.where} are not known, so no usage key can be made`,
    );
  if (plans !== undefined && !Object.hasOwn(plans, options.tier))
    throw new CredentialAdminError(
      'invalid_input',
      `tier ${JSON.stringify(options.tier)} has no usage plan (valid: ${Object.keys(plans).join(', ')})`,
    );
}

/** What a usage key failure or an unknown registry leaves to do, as one message. */
function outOfStep(done: string, todo: string, err: unknown): CredentialAdminError {
  return new CredentialAdminError(
    'usage_key_out_of_step',
    `${done}, but ${todo}: ${(err as Error).message}; run the command again`,
  );
}

/**
 * Makes a new credential's usage key, then writes the record with it: a record never points to a
 * usage key that does not exist. A record that cannot be written takes its usage key away again.
 */
async function withUsageKey<R>(
  usageKeys: UsageKeyRegistry | undefined,
  tier: string,
  label: { name: string; description: string },
  write: (usageKey: UsageKey | undefined) => Promise<R>,
): Promise<R> {
  if (usageKeys === undefined) return write(undefined);
  const planId = (usageKeys.plans as Readonly<Record<string, string>>)[tier] as string;
  const usageKey = await usageKeys.create({ ...label, planId, value: newUsageKeyValue() });
  try {
    return await write(usageKey);
  } catch (err) {
    try {
      await usageKeys.remove(usageKey);
    } catch (cleanup) {
      throw new CredentialAdminError(
        'usage_key_out_of_step',
        `the record could not be written (${(err as Error).message}), and its usage key ${usageKey.id} could not be deleted (${(cleanup as Error).message}): delete it in ${usageKeys.where}`,
      );
    }
    throw err;
  }
}

/** Fails when a record has a usage key and nothing can reach it: the two must change together. */
function registryFor(
  usageKey: UsageKey | undefined,
  usageKeys: UsageKeyRegistry | undefined,
  what: string,
): UsageKeyRegistry | undefined {
  if (usageKey !== undefined && usageKeys === undefined)
    throw new CredentialAdminError(
      'invalid_input',
      `${what} has the usage key ${usageKey.id}, and no usage key target was given to change it with`,
    );
  return usageKey === undefined ? undefined : usageKeys;
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
  const label = {
    name: `gatehouse-key-${minted.keyId}`,
    description: `Usage key of Gatehouse API key ${minted.keyId} (client ${options.clientId}, tier ${options.tier})`,
  };
  return withUsageKey(options.usageKeys, options.tier, label, async (usageKey) => {
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
      ...(usageKey === undefined ? {} : { usageKey }),
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    };
    await store.putKey(record, 'create');
    return { record, secret: minted.key };
  });
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
 * so clients can switch without an outage. The usage key stays: a rotation never resets a quota.
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

/**
 * Revokes a key (kept for the record; `delete` removes it), then disables its usage key (kept, with
 * its usage history, for reports). The table goes first: the authorizer refuses the key from then
 * on, whatever happens to the usage key. Running it again on a revoked key disables again.
 */
export async function revokeKey(
  store: CredentialAdminStore,
  keyId: string,
  usageKeys?: UsageKeyRegistry,
): Promise<KeyRecord> {
  const current = await existingKey(store, keyId);
  const registry = registryFor(current.usageKey, usageKeys, `key ${keyId}`);
  const record: KeyRecord = { ...current, status: 'revoked' };
  await store.putKey(record, 'replace');
  if (registry !== undefined && record.usageKey !== undefined) {
    const usageKey = record.usageKey;
    await registry.setEnabled(usageKey, false).catch((err: unknown) => {
      throw outOfStep(`key ${keyId} is revoked`, `its usage key ${usageKey.id} could not be disabled`, err);
    });
  }
  return record;
}

/**
 * Deletes a key for good: its usage key first (already gone is fine), then the record, so a failure
 * leaves the record (refused: its usage key no longer exists) for a second run to finish.
 */
export async function deleteKey(
  store: CredentialAdminStore,
  keyId: string,
  usageKeys?: UsageKeyRegistry,
): Promise<void> {
  const current = await existingKey(store, keyId);
  const registry = registryFor(current.usageKey, usageKeys, `key ${keyId}`);
  if (registry !== undefined && current.usageKey !== undefined) await registry.remove(current.usageKey);
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
  // Checked before a usage key is made for it (the write below checks again, atomically).
  if ((await store.findUser(options.username)) !== undefined)
    throw new CredentialAdminError('user_exists', `user ${options.username} already exists`);
  const hash = await hasher.hash(password);
  const clientId = options.clientId ?? options.username;
  const label = {
    name: `gatehouse-user-${options.username}`,
    description: `Usage key of Gatehouse Basic user ${options.username} (client ${clientId}, tier ${options.tier})`,
  };
  return withUsageKey(options.usageKeys, options.tier, label, async (usageKey) => {
    const record: UserRecord = {
      username: options.username,
      hash,
      clientId,
      scopes: [...options.scopes],
      status: 'active',
      createdAt: now,
      allowedCidrs: [...options.allowedCidrs],
      tier: options.tier,
      failures: 0,
      failureWindowStart: undefined,
      lockedUntil: undefined,
      ...(usageKey === undefined ? {} : { usageKey }),
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    };
    try {
      await store.putUser(record, 'create');
    } catch (err) {
      if (err instanceof CredentialStoreError && err.reason === 'record_exists')
        throw new CredentialAdminError('user_exists', `user ${options.username} already exists`);
      throw err;
    }
    return { record, secret: password };
  });
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

/**
 * Changes a user's status: `lock` (until unlocked), `unlock` (also clears failures), `revoke`. A
 * revoke disables the user's usage key and an unlock enables it (a lock leaves it: the authorizer
 * refuses a locked user, and the quota carries on after the unlock).
 */
export async function setUserStatus(
  store: CredentialAdminStore,
  username: string,
  action: 'lock' | 'unlock' | 'revoke',
  usageKeys?: UsageKeyRegistry,
): Promise<UserRecord> {
  const current = await existingUser(store, username);
  const registry =
    action === 'lock' ? undefined : registryFor(current.usageKey, usageKeys, `user ${username}`);
  const record: UserRecord =
    action === 'unlock'
      ? { ...current, status: 'active', failures: 0, failureWindowStart: undefined, lockedUntil: undefined }
      : { ...current, status: action === 'lock' ? 'locked' : 'revoked' };
  await store.putUser(record, 'replace');
  if (registry !== undefined && record.usageKey !== undefined) {
    const usageKey = record.usageKey;
    const enabled = action === 'unlock';
    await registry.setEnabled(usageKey, enabled).catch((err: unknown) => {
      throw outOfStep(
        `user ${username} is ${enabled ? 'unlocked' : 'revoked'}`,
        `its usage key ${usageKey.id} could not be ${enabled ? 'enabled' : 'disabled'}`,
        err,
      );
    });
  }
  return record;
}

/** Deletes a user for good: its usage key first (already gone is fine), then the record. */
export async function deleteUser(
  store: CredentialAdminStore,
  username: string,
  usageKeys?: UsageKeyRegistry,
): Promise<void> {
  const current = await existingUser(store, username);
  const registry = registryFor(current.usageKey, usageKeys, `user ${username}`);
  if (registry !== undefined && current.usageKey !== undefined) await registry.remove(current.usageKey);
  if (!(await store.deleteUser(username)))
    throw new CredentialAdminError('user_unknown', `no user named ${username}`);
}

/** What {@link attachMissingUsageKeys} did, record by record. */
export interface AttachReport {
  /** Key ids or usernames that got a usage key now, with its id. */
  readonly attached: readonly { readonly id: string; readonly usageKeyId: string }[];
  /** Records left without one, and why (a revoked record needs none; a tier with no plan). */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
}

/**
 * Gives every key (or user) that has no usage key one of its own, in its tier's plan: for records
 * made before per-client quotas, or with `--no-usage-key`. Revoked records are skipped. A record
 * that changed meanwhile (deleted, or given a usage key by a concurrent run) gets its new usage key
 * taken away again.
 */
export async function attachMissingUsageKeys(
  store: CredentialAdminStore,
  kind: 'key' | 'user',
  usageKeys: UsageKeyRegistry,
): Promise<AttachReport> {
  const plans = usageKeys.plans;
  if (plans === undefined)
    throw new CredentialAdminError(
      'invalid_input',
      `the usage plans of ${usageKeys.where} are not known, so no usage key can be made`,
    );
  const records =
    kind === 'key'
      ? (await store.listKeys()).map((k) => ({ id: k.keyId, record: k as KeyRecord | UserRecord }))
      : (await store.listUsers()).map((u) => ({ id: u.username, record: u as KeyRecord | UserRecord }));
  const attached: { id: string; usageKeyId: string }[] = [];
  const skipped: { id: string; reason: string }[] = [];
  for (const { id, record } of records) {
    if (record.usageKey !== undefined) continue;
    if (record.status === 'revoked') {
      skipped.push({ id, reason: 'revoked' });
      continue;
    }
    const planId = plans[record.tier];
    if (planId === undefined) {
      skipped.push({ id, reason: `tier ${JSON.stringify(record.tier)} has no usage plan` });
      continue;
    }
    const usageKey = await usageKeys.create({
      name: `gatehouse-${kind}-${id}`,
      description: `Usage key of Gatehouse ${kind === 'key' ? 'API key' : 'Basic user'} ${id} (client ${record.clientId}, tier ${record.tier})`,
      planId,
      value: newUsageKeyValue(),
    });
    try {
      await store.attachUsageKey(kind, id, usageKey);
    } catch (err) {
      await usageKeys.remove(usageKey);
      if (
        err instanceof CredentialStoreError &&
        (err.reason === 'record_missing' || err.reason === 'record_exists')
      ) {
        skipped.push({
          id,
          reason: err.reason === 'record_missing' ? 'deleted meanwhile' : 'given one meanwhile',
        });
        continue;
      }
      throw err;
    }
    attached.push({ id, usageKeyId: usageKey.id });
  }
  return { attached, skipped };
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
  options: {
    environment: KeyEnvironment;
    pepper: string | undefined;
    now: number;
    /** Where the demo credentials' usage keys are made (the local gateway's); none when undefined. */
    usageKeys?: UsageKeyRegistry | undefined;
  },
): Promise<DemoCredentials | undefined> {
  if ((await store.findUser('demo')) !== undefined) return undefined;
  const grant = {
    scopes: ['orders:read', 'orders:write'],
    tier: 'basic',
    allowedCidrs: [],
    usageKeys: options.usageKeys,
  };
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
    // The id only: with it, `aws apigateway get-usage --key-id` reports the client's usage.
    usageKeyId: record.usageKey?.id ?? null,
    tenant: record.tenant ?? null,
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
    usageKeyId: record.usageKey?.id ?? null,
    tenant: record.tenant ?? null,
  };
}
