// How long an administrator's action takes to bite in a warm KeyAuthorizerFunction (the real
// bundle, against dynalite): every credential state a warm environment keeps is bounded by
// CREDENTIAL_CACHE_TTL_SECONDS. Each action is taken the way the keys/users CLIs take it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  createUser,
  revokeKey,
  rotateKey,
  setPassword,
  setUserStatus,
} from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { apiKeyEvent, basicEvent, type CredentialEvent } from '../hostile/support/credential-events.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { outcomeOf } from '../support/outcome.ts';

const TTL_SECONDS = 2;
const PEPPER = 'cache-ttl-pepper-0123456789';
const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });
const grant = { scopes: ['orders:read'], tier: 'basic', allowedCidrs: [] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

async function newKey(): Promise<{ keyId: string; key: string }> {
  const issued = await createKey(
    dynamo.store,
    { ...grant, clientId: 'ttl', name: 'ttl', environment: 'live', expiresAt: undefined, pepper: PEPPER },
    Date.now(),
  );
  return { keyId: issued.record.keyId, key: issued.secret };
}

async function newUser(username: string): Promise<string> {
  const made = await createUser(
    dynamo.store,
    hasher,
    { ...grant, username, password: undefined, clientId: undefined },
    Date.now(),
  );
  return made.secret;
}

describe.each([
  [TTL_SECONDS, 'a warm environment'],
  [0, 'a warm environment with the cache off'],
])('CREDENTIAL_CACHE_TTL_SECONDS=%i: admin actions in %s', (ttl) => {
  let authorizer: ReturnType<typeof bundleEnvironment>;
  const outcome = async (event: CredentialEvent) => outcomeOf(await authorizer.lambda.invoke(event), event);
  /** Waits out the TTL: what the table says now must be what the function answers. */
  const afterTtl = () => sleep(ttl * 1000 + 100);

  beforeAll(async () => {
    authorizer = bundleEnvironment('KeyAuthorizerFunction', {
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      API_KEY_PEPPER: PEPPER,
      HTTP_API_SIMPLE_RESPONSES: 'false',
      CREDENTIAL_CACHE_TTL_SECONDS: String(ttl),
    });
  });
  afterAll(async () => {
    await authorizer.lambda.close();
  });

  it('keys revoke: the key is refused within the TTL', async () => {
    const { keyId, key } = await newKey();
    expect(await outcome(apiKeyEvent(key))).toBe('allow');

    await revokeKey(dynamo.store, keyId);
    await afterTtl();

    expect(await outcome(apiKeyEvent(key))).toBe('unauthorized');
  });

  it('keys rotate --grace 0: the new key works at once, the old one is refused within the TTL', async () => {
    const { keyId, key } = await newKey();
    expect(await outcome(apiKeyEvent(key))).toBe('allow');

    const rotated = await rotateKey(
      dynamo.store,
      keyId,
      { environment: 'live', pepper: PEPPER, graceMs: 0 },
      Date.now(),
    );
    const newAtOnce = await outcome(apiKeyEvent(rotated.secret));
    await afterTtl();

    expect(newAtOnce).toBe('allow');
    expect(await outcome(apiKeyEvent(key))).toBe('unauthorized');
    expect(await outcome(apiKeyEvent(rotated.secret))).toBe('allow');
  });

  it('users passwd: the new password works at once, the old one is refused within the TTL', async () => {
    const username = `passwd-${ttl}`;
    const old = await newUser(username);
    expect(await outcome(basicEvent(username, old))).toBe('allow');

    const changed = await setPassword(dynamo.store, hasher, username, undefined);
    const newAtOnce = await outcome(basicEvent(username, changed.secret));
    await afterTtl();

    expect(newAtOnce).toBe('allow');
    expect(await outcome(basicEvent(username, old))).toBe('unauthorized');
  });

  it('users passwd: an old password verified before is refused within the TTL even with no other request', async () => {
    const username = `passwd-quiet-${ttl}`;
    const old = await newUser(username);
    expect(await outcome(basicEvent(username, old))).toBe('allow');

    await setPassword(dynamo.store, hasher, username, undefined);
    await afterTtl();

    expect(await outcome(basicEvent(username, old))).toBe('unauthorized');
  });

  it('users lock: any password not verified before is refused at once, a verified one within the TTL', async () => {
    const username = `lock-${ttl}`;
    const password = await newUser(username);
    expect(await outcome(basicEvent(username, password))).toBe('allow');

    await setUserStatus(dynamo.store, username, 'lock');
    const guess = await outcome(basicEvent(username, 'a-guess-never-verified'));
    await afterTtl();

    expect(guess).toBe('unauthorized');
    expect(await outcome(basicEvent(username, password))).toBe('unauthorized');
  });

  it('users unlock: the user gets in at once', async () => {
    const username = `unlock-${ttl}`;
    const password = await newUser(username);
    await setUserStatus(dynamo.store, username, 'lock');
    expect(await outcome(basicEvent(username, password))).toBe('unauthorized');

    await setUserStatus(dynamo.store, username, 'unlock');

    expect(await outcome(basicEvent(username, password))).toBe('allow');
  });
});
