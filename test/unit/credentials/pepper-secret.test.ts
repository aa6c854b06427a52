// The key authorizer with its pepper read at run time (a SecretValue): a changed pepper is picked up
// after one mismatch, mismatches cannot flood the secret store, and an unreadable pepper is a
// dependency failure (503, nothing cached), never an Allow.
import { describe, expect, it } from 'vitest';
import type { SimpleResponse } from '../../../shared/authz/answer.ts';
import { AuthorizerFailureError } from '../../../shared/authz/invocation.ts';
import { hashSecret, mintApiKey } from '../../../shared/credentials/api-key.ts';
import { createKeyAuthorizer } from '../../../shared/credentials/key-authorizer.ts';
import { createPasswordHasher } from '../../../shared/credentials/password.ts';
import type { CredentialStore, KeyRecord } from '../../../shared/credentials/store.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import { cachedSecret, type SecretReader } from '../../../shared/secrets/secret-value.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const OLD_PEPPER = 'old-pepper-0123456789abcdef';
const NEW_PEPPER = 'new-pepper-0123456789abcdef';

function setup() {
  const keys = new Map<string, KeyRecord>();
  const store: CredentialStore = {
    findKey: async (id) => keys.get(id),
    findUser: async () => undefined,
    // Only API keys are sent here: a Basic attempt reaching the store would be a test fault.
    reserveAttempt: async () => {
      throw new Error('no Basic attempts in these tests');
    },
    releaseAttempt: async () => false,
    lock: async () => undefined,
  };
  const secretStore = { pepper: OLD_PEPPER, reads: 0, fail: false };
  const reader: SecretReader = {
    async read() {
      secretStore.reads++;
      if (secretStore.fail) throw new Error('AccessDeniedException');
      return secretStore.pepper;
    },
  };
  let now = NOW;
  const observer = memoryObserver();
  const authorize = createKeyAuthorizer({
    store,
    passwords: createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } }),
    routes: ROUTES,
    clock: () => now,
    observer,
    keyEnvironment: 'live',
    pepper: cachedSecret(reader, {
      secretId: 'pepper',
      ttlMs: 300_000,
      missIntervalMs: 60_000,
      retryMs: 10_000,
      clock: () => now,
    }),
    usageKeyRequired: false,
    simpleResponses: true,
    lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 },
    cache: { ttlMs: 30_000, negativeTtlMs: 5_000, size: 100 },
  });
  const addKey = (pepper: string | undefined) => {
    const minted = mintApiKey('live');
    keys.set(minted.keyId, {
      keyId: minted.keyId,
      hash: hashSecret(minted.secret, pepper),
      clientId: 'client-1',
      name: '',
      scopes: ['orders:read'],
      status: 'active',
      createdAt: NOW - 1000,
      expiresAt: undefined,
      allowedCidrs: [],
      tier: 'basic',
      previousHash: undefined,
      previousHashExpiresAt: undefined,
    });
    return minted;
  };
  const call = async (key: string): Promise<string> => {
    const event = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/orders',
      routeKey: 'GET /orders',
      rawPath: '/orders',
      headers: { 'x-api-key': key },
      requestContext: { requestId: 'r', http: { method: 'GET', path: '/orders', sourceIp: '203.0.113.10' } },
    };
    try {
      return ((await authorize(event)) as SimpleResponse).isAuthorized ? 'allow' : 'deny';
    } catch (err) {
      return err instanceof AuthorizerFailureError ? 'failure' : (err as Error).message;
    }
  };
  return { secretStore, addKey, call, observer, advance: (ms: number) => (now += ms) };
}

describe('key authorizer with the pepper from Secrets Manager', () => {
  it('verifies a key hashed with the pepper it read, reading the pepper once', async () => {
    const { addKey, call, secretStore } = setup();
    const key = addKey(OLD_PEPPER);

    expect([await call(key.key), await call(key.key)]).toEqual(['allow', 'allow']);
    expect(secretStore.reads).toBe(1);
  });

  it('picks up a changed pepper on the first mismatch, without waiting for the TTL', async () => {
    const { addKey, call, secretStore } = setup();
    await call(addKey(OLD_PEPPER).key);
    secretStore.pepper = NEW_PEPPER;

    const outcome = await call(addKey(NEW_PEPPER).key);

    expect(outcome).toBe('allow');
    expect(secretStore.reads).toBe(2);
  });

  it('re-reads at most once per minute however many wrong keys arrive', async () => {
    const { addKey, call, secretStore, advance } = setup();
    const key = addKey(OLD_PEPPER);
    await call(key.key);

    const outcomes = [];
    for (let i = 0; i < 30; i++) outcomes.push(await call(mintApiKey('live', key.keyId).key));
    const readsInFirstMinute = secretStore.reads;
    advance(60_000);
    await call(mintApiKey('live', key.keyId).key);

    expect(new Set(outcomes)).toEqual(new Set(['Unauthorized']));
    expect(readsInFirstMinute).toBe(2);
    expect(secretStore.reads).toBe(3);
  });

  it('fails (503, nothing cached) when the pepper cannot be read, and logs no pepper', async () => {
    const { addKey, call, secretStore, observer } = setup();
    secretStore.fail = true;

    const outcome = await call(addKey(OLD_PEPPER).key);

    expect(outcome).toBe('failure');
    expect(observer.decisions.at(-1)).toMatchObject({ effect: 'error', reason: 'dependency_failure' });
    expect(JSON.stringify(observer)).not.toContain(OLD_PEPPER);
  });

  it('never reads the pepper for keys hashed without one', async () => {
    const { addKey, call, secretStore } = setup();
    secretStore.fail = true;

    expect(await call(addKey(undefined).key)).toBe('allow');
    expect(secretStore.reads).toBe(0);
  });
});
