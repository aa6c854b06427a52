import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../shared/credentials/admin.ts';
import { dynamoCredentialStore } from '../../shared/credentials/dynamo-store.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';

const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });
const policy = { maxFailures: 1000, windowMs: 60_000, lockMs: 60_000 };

describe('DynamoDB credential store on dynalite', () => {
  let dynamo: TestDynamo;
  const now = Date.parse('2026-06-01T12:00:00Z');

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });

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
  }

  it('counts concurrent failures exactly once each (atomic conditional updates)', async () => {
    // Arrange
    await newUser('concurrent');
    const store = dynamoCredentialStore(dynamo.client, TABLE, 5000);

    // Act
    await Promise.all(Array.from({ length: 20 }, () => store.recordFailure('concurrent', now, policy)));

    // Assert
    expect((await store.findUser('concurrent'))?.failures).toBe(20);
  });

  it('starts a new window once the old one ran out', async () => {
    await newUser('window');
    const store = dynamoCredentialStore(dynamo.client, TABLE, 5000);
    await store.recordFailure('window', now, policy);
    await store.recordFailure('window', now + 1000, policy);
    const next = await store.recordFailure('window', now + 61_001, policy);
    expect(next).toEqual({ failures: 1, lockedUntil: undefined });
    expect((await store.findUser('window'))?.failureWindowStart).toBe(now + 61_001);
  });

  it('locks at the limit and starts a fresh count; clearFailures removes the lock', async () => {
    await newUser('limit');
    const store = dynamoCredentialStore(dynamo.client, TABLE, 5000);
    const tight = { maxFailures: 2, windowMs: 60_000, lockMs: 120_000 };
    await store.recordFailure('limit', now, tight);
    const locking = await store.recordFailure('limit', now, tight);
    const locked = await store.findUser('limit');
    await store.clearFailures('limit');
    const cleared = await store.findUser('limit');
    expect(locking).toEqual({ failures: 2, lockedUntil: now + 120_000 });
    expect(locked).toMatchObject({ failures: 0, lockedUntil: now + 120_000 });
    expect(cleared).toMatchObject({ failures: 0, lockedUntil: undefined, failureWindowStart: undefined });
  });

  it('does not create a record when counting a failure for a user that does not exist', async () => {
    const store = dynamoCredentialStore(dynamo.client, TABLE, 5000);
    expect(await store.recordFailure('ghost', now, policy)).toEqual({ failures: 0, lockedUntil: undefined });
    expect(await store.findUser('ghost')).toBeUndefined();
  });

  it('reports a missing table as table_missing', async () => {
    const store = dynamoCredentialStore(dynamo.client, 'NoSuchTable', 5000);
    await expect(store.findKey('AAAAAAAAAAAA')).rejects.toMatchObject({
      name: 'CredentialStoreError',
      reason: 'table_missing',
    });
  });
});
