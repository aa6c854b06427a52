import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyResponse, SimpleResponse } from '../../../shared/authz/answer.ts';
import { AuthorizerFailureError } from '../../../shared/authz/invocation.ts';
import { hashSecret, mintApiKey } from '../../../shared/credentials/api-key.ts';
import { createKeyAuthorizer, type KeyAuthorizerDeps } from '../../../shared/credentials/key-authorizer.ts';
import {
  createPasswordHasher,
  type ScryptParams,
  scryptDerive,
} from '../../../shared/credentials/password.ts';
import {
  type CredentialStore,
  CredentialStoreError,
  type KeyRecord,
  type LockoutPolicy,
  type UserRecord,
} from '../../../shared/credentials/store.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import { patternMatches } from '../../../shared/policy/resource-pattern.ts';

const API = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
const NOW = Date.parse('2026-06-01T12:00:00Z');
const CHEAP: ScryptParams = { N: 1024, r: 8, p: 1, keylen: 32 };
const PEPPER = 'pepper-for-unit-tests-0123';

/** A REST REQUEST event for a route, with the given headers and source IP. */
function restEvent(
  method: string,
  path: string,
  resource: string,
  headers: Record<string, string>,
  options: { sourceIp?: string; query?: Record<string, string> } = {},
): Record<string, unknown> {
  return {
    type: 'REQUEST',
    methodArn: `${API}/${method}${path}`,
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: options.query ?? {},
    requestContext: { requestId: 'req-1', identity: { sourceIp: options.sourceIp ?? '203.0.113.10' } },
  };
}
const getOrder = (headers: Record<string, string>, options?: Parameters<typeof restEvent>[4]) =>
  restEvent('GET', '/orders/ord_1', '/orders/{id}', headers, options);
const deleteOrder = (headers: Record<string, string>) =>
  restEvent('DELETE', '/orders/ord_1', '/orders/{id}', headers);

function permits(response: PolicyResponse, arn: string): boolean {
  const hit = (effect: string) =>
    response.policyDocument.Statement.some(
      (s) => s.Effect === effect && s.Resource.some((r) => patternMatches(r, arn)),
    );
  return !hit('Deny') && hit('Allow');
}

/** Failure counters of a name with no user record (the login# items of the DynamoDB store). */
interface Counters {
  failures: number;
  failureWindowStart: number | undefined;
  lockedUntil: number | undefined;
}

/**
 * An in-memory store with the DynamoDB store's semantics (conditional counting per window, locks,
 * release only in the same window), that records its calls and can be told to fail.
 */
class FakeStore implements CredentialStore {
  readonly keys = new Map<string, KeyRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly logins = new Map<string, Counters>();
  readonly log: string[] = [];
  readonly limits: (number | undefined)[] = [];
  calls = 0;
  failWith: Error | undefined;
  failWrites: Error | undefined;

  #check(call: string, limitMs: number | undefined, write = false): void {
    this.calls++;
    this.log.push(call);
    this.limits.push(limitMs);
    if (this.failWith !== undefined) throw this.failWith;
    if (write && this.failWrites !== undefined) throw this.failWrites;
  }
  #counters(username: string, known: boolean): Counters | undefined {
    if (known) return this.users.get(username);
    return (
      this.logins.get(username) ?? { failures: 0, failureWindowStart: undefined, lockedUntil: undefined }
    );
  }
  #save(username: string, known: boolean, counters: Counters): void {
    if (known) this.users.set(username, { ...(this.users.get(username) as UserRecord), ...counters });
    else this.logins.set(username, counters);
  }
  async findKey(keyId: string, limitMs?: number) {
    this.#check('findKey', limitMs);
    return this.keys.get(keyId);
  }
  async findUser(username: string, limitMs?: number) {
    this.#check('findUser', limitMs);
    return this.users.get(username);
  }
  async reserveAttempt(
    username: string,
    known: boolean,
    now: number,
    policy: LockoutPolicy,
    limitMs?: number,
  ) {
    this.#check(`reserve:${known ? 'user' : 'login'}`, limitMs, true);
    const c = this.#counters(username, known);
    if (c === undefined || (c.lockedUntil ?? 0) > now) return { granted: false } as const;
    const inWindow = c.failureWindowStart !== undefined && c.failureWindowStart > now - policy.windowMs;
    if (inWindow && c.failures >= policy.maxFailures) return { granted: false } as const;
    const next = inWindow
      ? { ...c, failures: c.failures + 1 }
      : { ...c, failures: 1, failureWindowStart: now };
    this.#save(username, known, next);
    return {
      granted: true,
      attempt: next.failures,
      windowStart: next.failureWindowStart as number,
      user: known ? this.users.get(username) : undefined,
    } as const;
  }
  async releaseAttempt(username: string, windowStart: number, hash: string, now: number, limitMs?: number) {
    this.#check('release', limitMs, true);
    const user = this.users.get(username);
    if (
      user === undefined ||
      user.failureWindowStart !== windowStart ||
      user.failures <= 0 ||
      user.hash !== hash ||
      user.status !== 'active' ||
      (user.lockedUntil ?? 0) > now
    )
      return false;
    this.users.set(username, { ...user, failures: user.failures - 1 });
    return true;
  }
  async lock(
    username: string,
    known: boolean,
    windowStart: number,
    now: number,
    policy: LockoutPolicy,
    limitMs?: number,
  ) {
    this.#check(`lock:${known ? 'user' : 'login'}`, limitMs, true);
    const c = this.#counters(username, known);
    if (c === undefined || c.failureWindowStart !== windowStart) return;
    this.#save(username, known, {
      failures: 0,
      failureWindowStart: undefined,
      lockedUntil: now + policy.lockMs,
    });
  }
}

const hasher = createPasswordHasher({ params: CHEAP });

function keyRecord(secret: string, keyId: string, overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    keyId,
    hash: hashSecret(secret, PEPPER),
    clientId: 'client-1',
    name: 'test key',
    scopes: ['orders:read'],
    status: 'active',
    createdAt: NOW - 1000,
    expiresAt: undefined,
    allowedCidrs: [],
    tier: 'premium',
    previousHash: undefined,
    previousHashExpiresAt: undefined,
    usageKey: { id: 'k1usageid', value: 'client-1-usage-key-0123456789' },
    ...overrides,
  };
}

async function userRecord(
  username: string,
  password: string,
  overrides: Partial<UserRecord> = {},
): Promise<UserRecord> {
  return {
    username,
    hash: await hasher.hash(password),
    clientId: `${username}-client`,
    scopes: ['orders:read'],
    status: 'active',
    createdAt: NOW - 1000,
    allowedCidrs: [],
    tier: 'basic',
    failures: 0,
    failureWindowStart: undefined,
    lockedUntil: undefined,
    usageKey: { id: `${username}usage`, value: `${username}-usage-key-0123456789` },
    ...overrides,
  };
}

function setup(overrides: Partial<KeyAuthorizerDeps> = {}) {
  const store = new FakeStore();
  const observer = memoryObserver();
  let now = NOW;
  const authorize = createKeyAuthorizer({
    store,
    passwords: hasher,
    routes: ROUTES,
    clock: () => now,
    observer,
    keyEnvironment: 'live',
    pepper: PEPPER,
    usageKeyRequired: true,
    simpleResponses: true,
    lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 },
    cache: { ttlMs: 30_000, negativeTtlMs: 5_000, size: 100 },
    ...overrides,
  });
  const addKey = (overridesForKey: Partial<KeyRecord> = {}) => {
    const minted = mintApiKey('live');
    store.keys.set(minted.keyId, keyRecord(minted.secret, minted.keyId, overridesForKey));
    return minted;
  };
  return {
    store,
    observer,
    authorize,
    addKey,
    advance: (ms: number) => {
      now += ms;
    },
    reasons: () => observer.decisions.map((d) => d.reason),
  };
}

const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('createKeyAuthorizer — API keys', () => {
  it('allows a valid key on a route its scopes cover, with its own usage key and a secret-free context', async () => {
    // Arrange
    const { authorize, addKey, reasons } = setup();
    const { key, keyId } = addKey();
    const event = getOrder({ 'x-api-key': key });

    // Act
    const response = (await authorize(event)) as PolicyResponse;

    // Assert
    expect(permits(response, String(event.methodArn))).toBe(true);
    expect(response.principalId).toBe('client-1');
    expect(response.usageIdentifierKey).toBe('client-1-usage-key-0123456789');
    expect(response.context).toEqual({
      clientId: 'client-1',
      authType: 'api_key',
      keyId,
      scopes: 'orders:read',
      tier: 'premium',
    });
    expect(JSON.stringify(response)).not.toContain(key.split('_')[3]);
    expect(reasons()).toEqual(['allowed']);
  });

  it('denies (403) a valid key on a route its scopes do not cover', async () => {
    const { authorize, addKey, reasons } = setup();
    const event = deleteOrder({ 'x-api-key': addKey().key });
    const response = (await authorize(event)) as PolicyResponse;
    expect(permits(response, String(event.methodArn))).toBe(false);
    expect(reasons()).toEqual(['scope_missing']);
  });

  it('answers HTTP API payload 2.0 with a simple response', async () => {
    const { authorize, addKey } = setup();
    const event = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `${API}/GET/orders`,
      routeKey: 'GET /orders',
      rawPath: '/orders',
      rawQueryString: '',
      headers: { 'x-api-key': addKey().key },
      requestContext: { http: { method: 'GET', path: '/orders', sourceIp: '203.0.113.10' }, requestId: 'r' },
    };
    const response = (await authorize(event)) as SimpleResponse;
    expect(response.isAuthorized).toBe(true);
    expect(response.context.clientId).toBe('client-1');
  });

  it.each([
    ['junk', 'key_malformed'],
    ['gatehouse_live_AAAAAAAAAAAA_0123456789abcdefghijABCDEFGHIJ0123456789abc_000000', 'key_checksum'],
    [mintApiKey('test').key, 'key_environment'],
  ])('refuses %s with 401 (%s) without reading the store', async (key, reason) => {
    const { authorize, store, reasons } = setup();
    await expect(authorize(getOrder({ 'x-api-key': key }))).rejects.toThrow('Unauthorized');
    expect(store.calls).toBe(0);
    expect(reasons()).toEqual([reason]);
  });

  it.each([
    ['unknown', 'key_unknown'],
    ['revoked', 'key_revoked'],
    ['expired', 'key_expired'],
    ['wrong secret', 'key_mismatch'],
  ])('refuses a %s key with 401 (%s)', async (kind, reason) => {
    const { authorize, addKey, store, reasons } = setup();
    let key: string;
    if (kind === 'unknown') key = mintApiKey('live').key;
    else if (kind === 'revoked') key = addKey({ status: 'revoked' }).key;
    else if (kind === 'expired') key = addKey({ expiresAt: NOW }).key;
    else key = mintApiKey('live', addKey().keyId).key;
    await expect(authorize(getOrder({ 'x-api-key': key }))).rejects.toThrow('Unauthorized');
    expect(store.calls).toBe(1);
    expect(reasons()).toEqual([reason]);
  });

  it('accepts the previous secret inside the rotation grace period and refuses it after', async () => {
    // Arrange: rotate a key, the old secret is valid for one more minute.
    const { authorize, store, advance, reasons } = setup({ cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 } });
    const old = mintApiKey('live');
    const next = mintApiKey('live', old.keyId);
    store.keys.set(
      old.keyId,
      keyRecord(next.secret, old.keyId, {
        previousHash: hashSecret(old.secret, PEPPER),
        previousHashExpiresAt: NOW + 60_000,
      }),
    );

    // Act / Assert
    await expect(authorize(getOrder({ 'x-api-key': old.key }))).resolves.toBeDefined();
    await expect(authorize(getOrder({ 'x-api-key': next.key }))).resolves.toBeDefined();
    advance(60_000);
    await expect(authorize(getOrder({ 'x-api-key': old.key }))).rejects.toThrow('Unauthorized');
    await expect(authorize(getOrder({ 'x-api-key': next.key }))).resolves.toBeDefined();
    expect(reasons()).toEqual(['allowed', 'allowed', 'key_mismatch', 'allowed']);
  });

  it('denies (403, source_ip_denied) a key used from outside its CIDRs, and allows it from inside', async () => {
    const { authorize, addKey, reasons } = setup();
    const { key } = addKey({ allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] });
    const outside = getOrder({ 'x-api-key': key }, { sourceIp: '203.0.113.10' });
    const inside = getOrder({ 'x-api-key': key }, { sourceIp: '10.1.2.3' });
    const inside6 = getOrder({ 'x-api-key': key }, { sourceIp: '2001:db8::7' });
    expect(permits((await authorize(outside)) as PolicyResponse, String(outside.methodArn))).toBe(false);
    expect(permits((await authorize(inside)) as PolicyResponse, String(inside.methodArn))).toBe(true);
    expect(permits((await authorize(inside6)) as PolicyResponse, String(inside6.methodArn))).toBe(true);
    expect(reasons()).toEqual(['source_ip_denied', 'allowed', 'allowed']);
  });

  it.each([
    ['a key in the query string', {}, { api_key: 'x' }, 'credential_in_query'],
    ['no credential', {}, undefined, 'credential_missing'],
    [
      'a key and a Basic credential',
      { 'x-api-key': 'k', Authorization: 'Basic YTpi' },
      undefined,
      'credential_multiple',
    ],
    ['a Bearer token', { Authorization: 'Bearer a.b.c' }, undefined, 'credential_scheme'],
  ])('refuses %s with 401', async (_name, headers, query, reason) => {
    const { authorize, store, reasons } = setup();
    await expect(authorize(getOrder(headers, query === undefined ? {} : { query }))).rejects.toThrow(
      'Unauthorized',
    );
    expect(store.calls).toBe(0);
    expect(reasons()).toEqual([reason]);
  });

  it('caches lookups: a second request within the TTL does not read the store, a later one does', async () => {
    const { authorize, addKey, store, advance } = setup();
    const event = getOrder({ 'x-api-key': addKey().key });
    await authorize(event);
    await authorize(event);
    expect(store.calls).toBe(1);
    advance(30_000);
    await authorize(event);
    expect(store.calls).toBe(2);
  });

  it('remembers unknown key ids briefly (negative cache)', async () => {
    const { authorize, store, advance } = setup();
    const event = getOrder({ 'x-api-key': mintApiKey('live').key });
    await expect(authorize(event)).rejects.toThrow('Unauthorized');
    await expect(authorize(event)).rejects.toThrow('Unauthorized');
    expect(store.calls).toBe(1);
    advance(5_000);
    await expect(authorize(event)).rejects.toThrow('Unauthorized');
    expect(store.calls).toBe(2);
  });
});

describe('createKeyAuthorizer — per-client usage keys', () => {
  const httpV2 = (headers: Record<string, string>) => ({
    version: '2.0',
    type: 'REQUEST',
    routeArn: `${API}/GET/orders`,
    routeKey: 'GET /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers,
    requestContext: { http: { method: 'GET', path: '/orders', sourceIp: '203.0.113.10' }, requestId: 'r' },
  });

  it('returns each key its own usage key, for two clients of the same tier', async () => {
    // Arrange
    const { authorize, addKey } = setup();
    const a = addKey({
      clientId: 'a',
      tier: 'basic',
      usageKey: { id: 'ua', value: 'usage-a-0123456789abcdef' },
    });
    const b = addKey({
      clientId: 'b',
      tier: 'basic',
      usageKey: { id: 'ub', value: 'usage-b-0123456789abcdef' },
    });

    // Act
    const first = (await authorize(getOrder({ 'x-api-key': a.key }))) as PolicyResponse;
    const second = (await authorize(getOrder({ 'x-api-key': b.key }))) as PolicyResponse;

    // Assert
    expect([first.usageIdentifierKey, second.usageIdentifierKey]).toEqual([
      'usage-a-0123456789abcdef',
      'usage-b-0123456789abcdef',
    ]);
  });

  it('denies (403 usage_key_missing) a REST request from a key that has no usage key, on every route', async () => {
    // Arrange
    const { authorize, addKey, reasons } = setup();
    const { key } = addKey({ usageKey: undefined });
    const event = getOrder({ 'x-api-key': key });

    // Act
    const response = (await authorize(event)) as PolicyResponse;

    // Assert
    expect(permits(response, String(event.methodArn))).toBe(false);
    expect(permits(response, `${API}/GET/orders`)).toBe(false);
    expect(response.usageIdentifierKey).toBeUndefined();
    expect(reasons()).toEqual(['usage_key_missing']);
  });

  it('denies (403 usage_key_missing) a Basic user that has no usage key', async () => {
    // Arrange
    const { authorize, store, reasons } = setup();
    store.users.set('dora', await userRecord('dora', 'correct horse battery', { usageKey: undefined }));

    // Act
    const response = (await authorize(getOrder(basic('dora', 'correct horse battery')))) as PolicyResponse;

    // Assert
    expect(response.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Deny']);
    expect(reasons()).toEqual(['usage_key_missing']);
  });

  it('allows a key without a usage key on an HTTP API (no usage plans there)', async () => {
    // Arrange
    const { authorize, addKey, reasons } = setup();

    // Act
    const response = (await authorize(
      httpV2({ 'x-api-key': addKey({ usageKey: undefined }).key }),
    )) as SimpleResponse;

    // Assert
    expect(response.isAuthorized).toBe(true);
    expect(reasons()).toEqual(['allowed']);
  });

  it('allows a key without a usage key on REST when usage keys are not required', async () => {
    // Arrange
    const { authorize, addKey, reasons } = setup({ usageKeyRequired: false });
    const event = getOrder({ 'x-api-key': addKey({ usageKey: undefined }).key });

    // Act
    const response = (await authorize(event)) as PolicyResponse;

    // Assert
    expect(permits(response, String(event.methodArn))).toBe(true);
    expect(response.usageIdentifierKey).toBeUndefined();
    expect(reasons()).toEqual(['allowed']);
  });

  it('names the source IP first when a key without a usage key calls from outside its ranges', async () => {
    // Arrange
    const { authorize, addKey, reasons } = setup();
    const { key } = addKey({ usageKey: undefined, allowedCidrs: ['10.0.0.0/8'] });

    // Act
    await authorize(getOrder({ 'x-api-key': key }));

    // Assert
    expect(reasons()).toEqual(['source_ip_denied']);
  });

  it('never puts the usage key into the context or the logs', async () => {
    // Arrange
    const { authorize, addKey, observer } = setup();
    const { key } = addKey();

    // Act
    const response = (await authorize(getOrder({ 'x-api-key': key }))) as PolicyResponse;

    // Assert
    expect(response.usageIdentifierKey).toBe('client-1-usage-key-0123456789');
    expect(JSON.stringify(response.context)).not.toContain('client-1-usage-key');
    expect(JSON.stringify(observer)).not.toContain('client-1-usage-key');
  });
});

describe('createKeyAuthorizer — arbitrary input', () => {
  it('answers any x-api-key or Authorization value that is not a valid credential with 401, never Allow or 500', async () => {
    const { authorize, addKey } = setup();
    const valid = addKey().key;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('x-api-key', 'Authorization'),
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
          fc.constant(`${valid}x`),
        ),
        async (name, value) => {
          fc.pre(value !== valid);
          await expect(authorize(getOrder({ [name]: value }))).rejects.toThrow('Unauthorized');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('createKeyAuthorizer — HTTP Basic', () => {
  it('allows a user with the right password, with the user in the context', async () => {
    const { authorize, store } = setup();
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    const response = (await authorize(getOrder(basic('alice', 'correct horse battery')))) as PolicyResponse;
    expect(response.principalId).toBe('alice-client');
    expect(response.context).toEqual({
      clientId: 'alice-client',
      authType: 'basic',
      username: 'alice',
      scopes: 'orders:read',
      tier: 'basic',
    });
    expect(response.usageIdentifierKey).toBe('alice-usage-key-0123456789');
  });

  it.each([
    ['an unknown user', 'bob', 'whatever password', 'user_unknown'],
    ['a wrong password', 'alice', 'wrong password!', 'password_mismatch'],
  ])('refuses %s with 401 (%s)', async (_name, user, password, reason) => {
    const { authorize, store, reasons } = setup();
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    await expect(authorize(getOrder(basic(user, password)))).rejects.toThrow('Unauthorized');
    expect(reasons()).toEqual([reason]);
  });

  it('spends a scrypt derivation on unknown, revoked and locked users too', async () => {
    // Arrange: a hasher that records which path ran.
    const ran: string[] = [];
    const spy = {
      hash: hasher.hash,
      verify: async (p: string, s: string) => {
        ran.push('verify');
        return hasher.verify(p, s);
      },
      verifyDummy: async (p: string) => {
        ran.push('dummy');
        return hasher.verifyDummy(p);
      },
    };
    const { authorize, store } = setup({ passwords: spy });
    store.users.set('revoked', await userRecord('revoked', 'correct horse battery', { status: 'revoked' }));
    store.users.set('locked', await userRecord('locked', 'correct horse battery', { status: 'locked' }));

    // Act
    for (const user of ['nobody', 'revoked', 'locked'])
      await expect(authorize(getOrder(basic(user, 'correct horse battery')))).rejects.toThrow('Unauthorized');

    // Assert
    expect(ran).toEqual(['dummy', 'dummy', 'dummy']);
  });

  it('locks a user after repeated failures: 401 even with the right password, until the lock ends', async () => {
    // Arrange
    const { authorize, store, advance, reasons } = setup({ cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 } });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));

    // Act: three failures (the limit), then the right password.
    for (let i = 0; i < 3; i++)
      await expect(authorize(getOrder(basic('alice', `wrong ${i}`)))).rejects.toThrow('Unauthorized');
    await expect(authorize(getOrder(basic('alice', 'correct horse battery')))).rejects.toThrow(
      'Unauthorized',
    );
    advance(300_000);
    const after = await authorize(getOrder(basic('alice', 'correct horse battery')));

    // Assert
    expect(after).toBeDefined();
    expect(reasons()).toEqual([
      'password_mismatch',
      'password_mismatch',
      'password_mismatch',
      'user_locked',
      'allowed',
    ]);
  });

  it("gives a successful login's own attempt back, but keeps the window's earlier failures", async () => {
    // Arrange
    const { authorize, store } = setup({ cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 } });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));

    // Act
    await expect(authorize(getOrder(basic('alice', 'wrong')))).rejects.toThrow('Unauthorized');
    await authorize(getOrder(basic('alice', 'correct horse battery')));

    // Assert: a success must not hand an attacker guessing in parallel a fresh window.
    expect(store.users.get('alice')?.failures).toBe(1);
  });

  it('starts a new window when the old one ran out', async () => {
    const { authorize, store, advance } = setup({ cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 } });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    for (let i = 0; i < 2; i++) await expect(authorize(getOrder(basic('alice', 'wrong')))).rejects.toThrow();
    advance(60_001);
    await expect(authorize(getOrder(basic('alice', 'wrong')))).rejects.toThrow();
    expect(store.users.get('alice')?.failures).toBe(1);
    expect(store.users.get('alice')?.lockedUntil).toBeUndefined();
  });

  it('skips scrypt for a credential verified within the cache TTL, and verifies again after it', async () => {
    // Arrange: count derivations.
    let derivations = 0;
    const counting = createPasswordHasher({
      params: CHEAP,
      derive: (password, salt, params) => {
        derivations++;
        return scryptDerive(password, salt, params);
      },
    });
    const { authorize, store, advance } = setup({ passwords: counting });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    const event = getOrder(basic('alice', 'correct horse battery'));

    // Act
    await authorize(event);
    await authorize(event);
    const withinTtl = derivations;
    advance(30_000);
    await authorize(event);

    // Assert
    expect(withinTtl).toBe(1);
    expect(derivations).toBe(2);
  });
});

describe('createKeyAuthorizer — Basic lockout', () => {
  /** A hasher that records which path ran. */
  function spyHasher() {
    const ran: string[] = [];
    const spy = {
      hash: hasher.hash,
      verify: async (p: string, stored: string) => {
        ran.push('verify');
        return hasher.verify(p, stored);
      },
      verifyDummy: async (p: string) => {
        ran.push('dummy');
        return hasher.verifyDummy(p);
      },
    };
    return { ran, spy };
  }

  it('counts the attempt before it checks the password', async () => {
    const { ran, spy } = spyHasher();
    const { authorize, store } = setup({ passwords: spy });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    const order: string[] = [];
    const reserve = store.reserveAttempt.bind(store);
    store.reserveAttempt = async (...args) => {
      order.push(`reserve(${ran.length} checks so far)`);
      return reserve(...args);
    };

    await expect(authorize(getOrder(basic('alice', 'wrong')))).rejects.toThrow('Unauthorized');

    expect(order).toEqual(['reserve(0 checks so far)']);
    expect(ran).toEqual(['verify']);
  });

  it('does the same store calls and the same derivation for an unknown user as for a wrong password', async () => {
    // Arrange
    const { ran, spy } = spyHasher();
    const { authorize, store } = setup({ passwords: spy });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    const shape = (calls: string[]) => calls.map((c) => c.replace(/:(user|login)$/, ''));

    // Act: three attempts each (the limit: the third locks), from a cold cache.
    const runs: { calls: string[]; derivations: string[] }[] = [];
    for (const name of ['alice', 'nobody']) {
      const callsBefore = store.log.length;
      const ranBefore = ran.length;
      for (let n = 0; n < 3; n++)
        await expect(authorize(getOrder(basic(name, `wrong password ${n}`)))).rejects.toThrow('Unauthorized');
      runs.push({ calls: store.log.slice(callsBefore), derivations: ran.slice(ranBefore) });
    }

    // Assert
    const [wrong, unknown] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(shape(unknown.calls)).toEqual(shape(wrong.calls));
    expect(wrong.calls).toEqual(['findUser', 'reserve:user', 'reserve:user', 'reserve:user', 'lock:user']);
    expect(unknown.derivations).toHaveLength(wrong.derivations.length);
  });

  it('locks unknown names too, and refuses a locked name without a derivation', async () => {
    const { ran, spy } = spyHasher();
    const { authorize, reasons } = setup({ passwords: spy });
    for (let n = 0; n < 4; n++)
      await expect(authorize(getOrder(basic('nobody', `spray ${n}`)))).rejects.toThrow('Unauthorized');
    expect(reasons()).toEqual(['user_unknown', 'user_unknown', 'user_unknown', 'user_locked']);
    expect(ran).toEqual(['dummy', 'dummy', 'dummy']);
  });

  it('refuses the right password when a lock is in force, and leaves the lock in place', async () => {
    const { authorize, store, reasons } = setup();
    store.users.set(
      'alice',
      await userRecord('alice', 'correct horse battery', { lockedUntil: NOW + 60_000, failures: 0 }),
    );
    await expect(authorize(getOrder(basic('alice', 'correct horse battery')))).rejects.toThrow(
      'Unauthorized',
    );
    expect(reasons()).toEqual(['user_locked']);
    expect(store.users.get('alice')?.lockedUntil).toBe(NOW + 60_000);
  });

  it('refuses the right password when the user was locked while it was checked', async () => {
    // Arrange: the lock lands between counting and releasing.
    const { authorize, store, reasons } = setup();
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    const release = store.releaseAttempt.bind(store);
    store.releaseAttempt = async (...args) => {
      const user = store.users.get('alice') as UserRecord;
      store.users.set('alice', { ...user, lockedUntil: NOW + 60_000 });
      return release(...args);
    };

    // Act / Assert
    await expect(authorize(getOrder(basic('alice', 'correct horse battery')))).rejects.toThrow(
      'Unauthorized',
    );
    expect(reasons()).toEqual(['user_locked']);
    expect(store.users.get('alice')?.lockedUntil).toBe(NOW + 60_000);
  });

  it('checks a new password against the record as stored when the attempt was counted, not a cached one', async () => {
    // Arrange: the record is cached, then the password is changed in the table.
    const { authorize, store } = setup();
    store.users.set('alice', await userRecord('alice', 'old password here'));
    await authorize(getOrder(basic('alice', 'old password here')));
    const changed = await userRecord('alice', 'new password here');
    store.users.set('alice', { ...(store.users.get('alice') as UserRecord), hash: changed.hash });

    // Act / Assert: the new password works at once.
    await expect(authorize(getOrder(basic('alice', 'new password here')))).resolves.toBeDefined();
  });
});

describe('createKeyAuthorizer — time left and caches', () => {
  const context = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

  it('bounds every store call by the time the invocation has left', async () => {
    const { authorize, addKey, store } = setup({ cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 } });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    await authorize(getOrder({ 'x-api-key': addKey().key }), context(1500));
    await authorize(getOrder(basic('alice', 'correct horse battery')), context(1500));
    expect(store.limits).toHaveLength(4);
    for (const limit of store.limits) expect(limit).toBeLessThanOrEqual(1500 - 100);
  });

  it('fails (503) without calling the store when no time is left', async () => {
    const { authorize, addKey, store, reasons } = setup({ cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 } });
    const event = getOrder({ 'x-api-key': addKey().key });
    await expect(authorize(event, context(80))).rejects.toThrow(AuthorizerFailureError);
    expect(store.calls).toBe(0);
    expect(reasons()).toEqual(['dependency_failure']);
  });

  it('keeps no credential state at all with a TTL of 0', async () => {
    const { authorize, addKey, store } = setup({ cache: { ttlMs: 0, negativeTtlMs: 5_000, size: 100 } });
    const known = getOrder({ 'x-api-key': addKey().key });
    const unknown = getOrder({ 'x-api-key': mintApiKey('live').key });
    await authorize(known);
    await authorize(known);
    await expect(authorize(unknown)).rejects.toThrow('Unauthorized');
    await expect(authorize(unknown)).rejects.toThrow('Unauthorized');
    expect(store.calls).toBe(4);
  });

  it('keeps unknown key ids in a cache of their own: a flood of forged ids cannot push known keys out', async () => {
    // Arrange: a cache of 10 entries, one known key read once.
    const { authorize, addKey, store } = setup({ cache: { ttlMs: 30_000, negativeTtlMs: 5_000, size: 10 } });
    const known = getOrder({ 'x-api-key': addKey().key });
    await authorize(known);

    // Act: 50 forged keys with valid checksums, then the known key again.
    for (let n = 0; n < 50; n++)
      await expect(authorize(getOrder({ 'x-api-key': mintApiKey('live').key }))).rejects.toThrow(
        'Unauthorized',
      );
    const callsBefore = store.calls;
    await authorize(known);

    // Assert
    expect(store.calls).toBe(callsBefore);
  });

  it('does not remember an unknown key id for longer than the credential TTL', async () => {
    const { authorize, store, advance } = setup({ cache: { ttlMs: 2_000, negativeTtlMs: 5_000, size: 100 } });
    const event = getOrder({ 'x-api-key': mintApiKey('live').key });
    await expect(authorize(event)).rejects.toThrow('Unauthorized');
    advance(2_000);
    await expect(authorize(event)).rejects.toThrow('Unauthorized');
    expect(store.calls).toBe(2);
  });

  it('accepts a rotated key at once although the old record is cached, and refuses the old secret after the TTL', async () => {
    // Arrange: the record is cached with the old secret, then rotated in the table without grace.
    const { authorize, store, advance, reasons } = setup();
    const old = mintApiKey('live');
    store.keys.set(old.keyId, keyRecord(old.secret, old.keyId));
    await authorize(getOrder({ 'x-api-key': old.key }));
    const next = mintApiKey('live', old.keyId);
    store.keys.set(old.keyId, keyRecord(next.secret, old.keyId));

    // Act
    await authorize(getOrder({ 'x-api-key': next.key }));
    advance(30_000);
    const afterTtl = authorize(getOrder({ 'x-api-key': old.key }));

    // Assert
    await expect(afterTtl).rejects.toThrow('Unauthorized');
    expect(reasons()).toEqual(['allowed', 'allowed', 'key_mismatch']);
  });
});

describe('createKeyAuthorizer — failures', () => {
  it.each([
    [
      'throttled',
      new CredentialStoreError('store_throttled', 'DynamoDB GetItem failed (ThrottlingException)'),
    ],
    ['denied', new CredentialStoreError('store_denied', 'DynamoDB GetItem failed (AccessDeniedException)')],
    ['timeout', new CredentialStoreError('store_timeout', 'DynamoDB GetItem took longer than 2000 ms')],
    ['anything else', new TypeError('boom')],
  ])('throws AuthorizerFailureError (500) when the store is %s, never Allow', async (_name, error) => {
    const { authorize, addKey, store, reasons } = setup();
    const event = getOrder({ 'x-api-key': addKey().key });
    store.failWith = error;
    await expect(authorize(event)).rejects.toThrow(AuthorizerFailureError);
    expect(reasons()).toEqual(['dependency_failure']);
  });

  it('does not cache a failure: the next request reads the store again', async () => {
    const { authorize, addKey, store } = setup();
    const event = getOrder({ 'x-api-key': addKey().key });
    store.failWith = new CredentialStoreError('store_unavailable', 'down');
    await expect(authorize(event)).rejects.toThrow(AuthorizerFailureError);
    store.failWith = undefined;
    await expect(authorize(event)).resolves.toBeDefined();
  });

  it('fails (503) without checking the password when the attempt cannot be counted', async () => {
    // Arrange: reads work, writes are throttled; the hasher counts derivations.
    let derivations = 0;
    const counting = createPasswordHasher({
      params: CHEAP,
      derive: (password, salt, params) => {
        derivations++;
        return scryptDerive(password, salt, params);
      },
    });
    const { authorize, store, reasons } = setup({ passwords: counting });
    store.users.set('alice', await userRecord('alice', 'correct horse battery'));
    store.failWrites = new CredentialStoreError('store_throttled', 'throttled');

    // Act
    await expect(authorize(getOrder(basic('alice', 'wrong')))).rejects.toThrow(AuthorizerFailureError);
    await expect(authorize(getOrder(basic('alice', 'correct horse battery')))).rejects.toThrow(
      AuthorizerFailureError,
    );

    // Assert
    expect(derivations).toBe(0);
    expect(reasons()).toEqual(['dependency_failure', 'dependency_failure']);
  });

  it('fails (500) for a peppered key when the function has no pepper', async () => {
    const { authorize, addKey, reasons } = setup({ pepper: undefined });
    const { key } = addKey(); // hashed with PEPPER
    await expect(authorize(getOrder({ 'x-api-key': key }))).rejects.toThrow(AuthorizerFailureError);
    expect(reasons()).toEqual(['dependency_failure']);
  });
});

describe('createKeyAuthorizer — logs', () => {
  it('never logs a key, a password, a hash or the Authorization value', async () => {
    // Arrange
    const { authorize, addKey, store, observer } = setup();
    const { key, secret } = addKey();
    const user = await userRecord('alice', 'correct horse battery');
    store.users.set('alice', user);
    const header = basic('alice', 'correct horse battery').Authorization;

    // Act
    await authorize(getOrder({ 'x-api-key': key }));
    await authorize(getOrder({ Authorization: header }));
    await authorize(getOrder(basic('alice', 'wrong password'))).catch(() => undefined);
    store.failWith = new Error('down');
    await authorize(getOrder({ 'x-api-key': mintApiKey('live').key })).catch(() => undefined);

    // Assert
    const logged = JSON.stringify([observer.decisions, observer.warnings]);
    for (const forbidden of [
      key,
      secret,
      'correct horse battery',
      'wrong password',
      header.slice(6),
      user.hash,
      store.keys.values().next().value?.hash as string,
    ])
      expect(logged).not.toContain(forbidden);
  });
});
