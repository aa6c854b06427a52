import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../shared/credentials/admin.ts';
import {
  dynamoCredentialStore,
  loginPk,
  MAX_RECORD_RESPONSE_BYTES,
  userPk,
} from '../../shared/credentials/dynamo-store.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import type { AttemptReservation } from '../../shared/credentials/store.ts';
import { startDynamoProxy } from '../hostile/support/dynamo-proxy.ts';
import { functionDynamo, startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';

const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });
const policy = { maxFailures: 5, windowMs: 60_000, lockMs: 120_000 };

describe('DynamoDB credential store on dynalite', () => {
  let dynamo: TestDynamo;
  const now = Date.parse('2026-06-01T12:00:00Z');

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  const store = () => dynamoCredentialStore(dynamo.functionClient, TABLE, 5000);
  const granted = (all: AttemptReservation[]) => all.filter((r) => r.granted);
  async function newUser(username: string) {
    await createUser(
      dynamo.store,
      hasher,
      {
        username,
        password: 'a-password-for-tests',
        clientId: undefined,
        scopes: [],
        tier: 'basic',
        allowedCidrs: [],
      },
      now,
    );
    return (await store().findUser(username))?.hash as string;
  }
  async function rawItem(pk: string) {
    return (await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } } }))).Item;
  }

  it.each([
    ['a user', true],
    ['a name with no user', false],
  ])(
    'grants exactly maxFailures of 30 concurrent attempts for %s (atomic conditional updates)',
    async (_name, known) => {
      // Arrange
      const username = known ? 'concurrent' : 'concurrent-ghost';
      if (known) await newUser(username);

      // Act
      const all = await Promise.all(
        Array.from({ length: 30 }, () => store().reserveAttempt(username, known, now, policy)),
      );

      // Assert: attempts 1..5, each once.
      const numbers = granted(all).map((r) => (r.granted ? r.attempt : 0));
      expect(numbers.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    },
  );

  it('returns the user as stored when the attempt is counted', async () => {
    const hash = await newUser('fresh');
    const reservation = await store().reserveAttempt('fresh', true, now, policy);
    expect(reservation).toMatchObject({
      granted: true,
      attempt: 1,
      windowStart: now,
      user: { hash, failures: 1 },
    });
  });

  it('starts a new window once the old one ran out', async () => {
    await newUser('window');
    for (let n = 0; n < 5; n++) await store().reserveAttempt('window', true, now, policy);
    const refused = await store().reserveAttempt('window', true, now + 1000, policy);
    const next = await store().reserveAttempt('window', true, now + 60_001, policy);
    expect(refused).toEqual({ granted: false });
    expect(next).toMatchObject({ granted: true, attempt: 1, windowStart: now + 60_001 });
  });

  it('locks the window it was counted in: refused until the lock ends, then a fresh window', async () => {
    await newUser('limit');
    let last: AttemptReservation = { granted: false };
    for (let n = 0; n < 5; n++) last = await store().reserveAttempt('limit', true, now, policy);
    await store().lock('limit', true, last.granted ? last.windowStart : 0, now, policy);
    const during = await store().reserveAttempt('limit', true, now + 119_000, policy);
    const after = await store().reserveAttempt('limit', true, now + 120_000, policy);
    expect((await rawItem(userPk('limit')))?.ttl).toBeUndefined();
    expect(during).toEqual({ granted: false });
    expect(after).toMatchObject({ granted: true, attempt: 1 });
  });

  it('ignores a lock for a window that is no longer the current one', async () => {
    await newUser('stale-lock');
    await store().reserveAttempt('stale-lock', true, now, policy);
    await store().lock('stale-lock', true, now - 1, now, policy);
    expect((await store().findUser('stale-lock'))?.lockedUntil).toBeUndefined();
  });

  it('releases an attempt only in its window, for the same hash, with no lock in force', async () => {
    // Arrange
    const hash = await newUser('release');
    const a = await store().reserveAttempt('release', true, now, policy);
    const b = await store().reserveAttempt('release', true, now, policy);
    const window = a.granted ? a.windowStart : 0;

    // Act
    const sameWindow = await store().releaseAttempt('release', window, hash, now);
    const otherHash = await store().releaseAttempt('release', window, 'scrypt$other', now);
    const otherWindow = await store().releaseAttempt('release', window + 1, hash, now);
    await store().lock('release', true, window, now, policy);
    const underLock = await store().releaseAttempt('release', window, hash, now);

    // Assert
    expect(b).toMatchObject({ granted: true, attempt: 2 });
    expect([sameWindow, otherHash, otherWindow, underLock]).toEqual([true, false, false, false]);
    expect((await store().findUser('release'))?.lockedUntil).toBe(now + 120_000);
  });

  it('counts a name with no user in a login item that expires, and never creates a user item', async () => {
    // Act
    let last: AttemptReservation = { granted: false };
    for (let n = 0; n < 5; n++) last = await store().reserveAttempt('ghost', false, now, policy);
    await store().lock('ghost', false, last.granted ? last.windowStart : 0, now, policy);
    const locked = await store().reserveAttempt('ghost', false, now + 1000, policy);
    const item = await rawItem(loginPk('ghost'));

    // Assert
    expect(await store().findUser('ghost')).toBeUndefined();
    expect(locked).toEqual({ granted: false });
    expect(item?.kind).toEqual({ S: 'login' });
    expect(Number(item?.ttl?.N)).toBeGreaterThanOrEqual((now + 120_000) / 1000);
    expect(Number(item?.ttl?.N)).toBeLessThanOrEqual((now + 120_000) / 1000 + 120);
  });

  it('refuses to count for a user record that was deleted (a cached "known" never creates one)', async () => {
    expect(await store().reserveAttempt('deleted-user', true, now, policy)).toEqual({ granted: false });
    expect(await rawItem(userPk('deleted-user'))).toBeUndefined();
  });

  it('reports a missing table as table_missing', async () => {
    const missing = dynamoCredentialStore(dynamo.functionClient, 'NoSuchTable', 5000);
    await expect(missing.findKey('AAAAAAAAAAAA')).rejects.toMatchObject({
      name: 'CredentialStoreError',
      reason: 'table_missing',
    });
  });

  it('cuts off a 200 MB answer after the size cap, well within the budget, and retries nothing', async () => {
    // Arrange: a proxy that answers every GetItem with 200 MB; the client as the function builds it
    // (its answer cap, two attempts).
    const proxy = await startDynamoProxy(dynamo.endpoint);
    proxy.setMode('huge', 'GetItem');
    const client = functionDynamo(proxy.endpoint, {
      requestTimeoutMs: 2000,
      maxResponseBytes: MAX_RECORD_RESPONSE_BYTES,
    });
    try {
      // Act
      const started = performance.now();
      const read = dynamoCredentialStore(client, TABLE, 2000).findKey('AAAAAAAAAAAA');
      await expect(read).rejects.toMatchObject({ reason: 'store_response_too_large' });
      const ms = performance.now() - started;

      // Assert
      expect(ms).toBeLessThan(1000);
      expect(proxy.requestsOf('GetItem')).toBe(1);
      expect(proxy.hugeBytesSent()).toBeLessThan(16 * 1024 * 1024);
    } finally {
      client.close();
      await proxy.close();
    }
  });
});
