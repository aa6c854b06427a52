import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyResponse } from '../../shared/authz/answer.ts';
import { createKey, createUser, rotateKey, setUserStatus } from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import type { UsageKeyRegistry } from '../../shared/credentials/usage-keys.ts';
import { localApiKeyLookup, localUsageKeys } from '../../tools/local/api-keys.ts';
import { fillCredentialPlaceholders } from '../../tools/local/dynamo.ts';
import { startLocalServices } from '../../tools/local/services.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { readEvent } from '../support/events.ts';
import { outcomeOf } from '../support/outcome.ts';

const PEPPER = 'integration-pepper-0123456789';
/** The template's tiers, as the local gateway's API keys know them. */
const PLANS = { basic: 'BasicUsagePlan', premium: 'PremiumUsagePlan' };
// Cheap scrypt for users created by the tests; the parameters are stored with each hash.
const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });

const restEvent = (
  headers: Record<string, string>,
  method = 'GET',
  path = '/orders/ord_1',
  resource = '/orders/{id}',
) => ({
  type: 'REQUEST',
  methodArn: `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/${method}${path}`,
  resource,
  path,
  httpMethod: method,
  headers,
  multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
  requestContext: { requestId: 'r-1', identity: { sourceIp: '203.0.113.10' } },
});
const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('KeyAuthorizerFunction bundle against dynalite', () => {
  let dynamo: TestDynamo;
  let authorizer: ReturnType<typeof bundleEnvironment>;
  let usageKeys: UsageKeyRegistry;
  const secrets: string[] = [];

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    usageKeys = localUsageKeys(dynamo.client, PLANS);
    authorizer = bundleEnvironment('KeyAuthorizerFunction', {
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      API_KEY_PEPPER: PEPPER,
      USAGE_KEY_REQUIRED: 'true',
      // No record cache: each invocation sees the table as it is now (lockouts, revocations).
      CREDENTIAL_CACHE_TTL_SECONDS: '0',
      CREDENTIAL_NEGATIVE_CACHE_TTL_SECONDS: '0',
      BASIC_MAX_FAILURES: '3',
      POWERTOOLS_SERVICE_NAME: 'key-authorizer',
    });
  });
  afterAll(async () => {
    await authorizer.lambda.close();
    await dynamo.close();
  });

  const files = readdirSync('events/key-authorizer').sort();

  it('names the outcome in every sample event file', () => {
    for (const file of files) expect(file).toMatch(/-(allow|deny|unauthorized)\.json$/);
  });

  it.each(files)('gives events/key-authorizer/%s the outcome its name says', async (file) => {
    // Arrange: placeholders become credentials in this dynalite.
    const raw = readEvent(`events/key-authorizer/${file}`);
    const event = (await fillCredentialPlaceholders(raw, {
      store: dynamo.store,
      environment: 'live',
      pepper: PEPPER,
      now: Date.now(),
      hasher,
      usageKeys,
    })) as Record<string, unknown>;
    const expected = /-(allow|deny|unauthorized)\.json$/.exec(file)?.[1];

    // Act
    const result = await authorizer.lambda.invoke(event);

    // Assert
    expect(outcomeOf(result, event)).toBe(expected);
  });

  it('returns the key’s own usage key (in its tier’s plan), and a context without either key', async () => {
    const issued = await createKey(
      dynamo.store,
      {
        clientId: 'acme',
        name: 'acme prod',
        scopes: ['orders:read', 'orders:write'],
        tier: 'premium',
        allowedCidrs: [],
        environment: 'live',
        expiresAt: undefined,
        pepper: PEPPER,
        usageKeys,
      },
      Date.now(),
    );
    secrets.push(issued.secret);
    const result = await authorizer.lambda.invoke(
      restEvent({ 'x-api-key': issued.secret }, 'GET', '/orders', '/orders'),
    );
    expect(result.ok).toBe(true);
    const response = (result as { result: PolicyResponse }).result;
    expect(response.usageIdentifierKey).toBe(issued.record.usageKey?.value);
    expect(await localApiKeyLookup(dynamo.client)(response.usageIdentifierKey as string)).toMatchObject({
      enabled: true,
      planIds: ['PremiumUsagePlan'],
    });
    expect(JSON.stringify(response.context)).not.toContain(response.usageIdentifierKey);
    expect(response.context).toEqual({
      clientId: 'acme',
      authType: 'api_key',
      keyId: issued.record.keyId,
      scopes: 'orders:read orders:write',
      tier: 'premium',
    });
  });

  it('denies (403) a key that has no usage key of its own, with USAGE_KEY_REQUIRED as the template sets it', async () => {
    // Arrange: a key made without a usage key (as before per-client quotas, or --no-usage-key).
    const issued = await createKey(
      dynamo.store,
      {
        clientId: 'legacy',
        name: '',
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        environment: 'live',
        expiresAt: undefined,
        pepper: PEPPER,
      },
      Date.now(),
    );
    secrets.push(issued.secret);
    const event = restEvent({ 'x-api-key': issued.secret }, 'GET', '/orders', '/orders');

    // Act
    const result = await authorizer.lambda.invoke(event);

    // Assert
    expect(outcomeOf(result, event)).toBe('deny');
    expect((result as { result: PolicyResponse }).result.usageIdentifierKey).toBeUndefined();
    expect(authorizer.logs()).toContain('"reason":"usage_key_missing"');
  });

  it('accepts the old key inside the rotation grace period and refuses it after', async () => {
    // Arrange
    const now = Date.now();
    const grant = {
      clientId: 'rot',
      name: '',
      scopes: ['orders:read'],
      tier: 'basic',
      allowedCidrs: [],
      usageKeys,
    };
    const first = await createKey(
      dynamo.store,
      { ...grant, environment: 'live', expiresAt: undefined, pepper: PEPPER },
      now,
    );
    const second = await rotateKey(
      dynamo.store,
      first.record.keyId,
      { environment: 'live', pepper: PEPPER, graceMs: 60_000 },
      now,
    );
    secrets.push(first.secret, second.secret);

    // Act
    const oldInGrace = await authorizer.lambda.invoke(restEvent({ 'x-api-key': first.secret }));
    const newInGrace = await authorizer.lambda.invoke(restEvent({ 'x-api-key': second.secret }));
    await dynamo.store.putKey({ ...second.record, previousHashExpiresAt: Date.now() - 1 }, 'replace');
    const oldAfter = await authorizer.lambda.invoke(restEvent({ 'x-api-key': first.secret }));
    const newAfter = await authorizer.lambda.invoke(restEvent({ 'x-api-key': second.secret }));

    // Assert
    expect([oldInGrace.ok, newInGrace.ok, oldAfter.ok, newAfter.ok]).toEqual([true, true, false, true]);
  });

  it('locks a Basic user after repeated failures (counted in DynamoDB) and lets them in after unlock', async () => {
    // Arrange
    const user = await createUser(
      dynamo.store,
      hasher,
      {
        username: 'carol',
        password: 'carol-password-123',
        clientId: undefined,
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        usageKeys,
      },
      Date.now(),
    );
    secrets.push(user.secret);
    const right = restEvent(basic('carol', 'carol-password-123'));

    // Act
    const failures = [];
    for (let i = 0; i < 3; i++)
      failures.push(await authorizer.lambda.invoke(restEvent(basic('carol', `wrong-password-${i}`))));
    const lockedWithRightPassword = await authorizer.lambda.invoke(right);
    const stored = await dynamo.store.findUser('carol');
    await setUserStatus(dynamo.store, 'carol', 'unlock', usageKeys);
    const afterUnlock = await authorizer.lambda.invoke(right);

    // Assert
    expect(failures.map((f) => outcomeOf(f, right))).toEqual([
      'unauthorized',
      'unauthorized',
      'unauthorized',
    ]);
    expect(outcomeOf(lockedWithRightPassword, right)).toBe('unauthorized');
    expect(stored?.lockedUntil).toBeGreaterThan(Date.now());
    expect(outcomeOf(afterUnlock, right)).toBe('allow');
  });

  it('refuses a key as soon as it is revoked when the cache is off', async () => {
    const issued = await createKey(
      dynamo.store,
      {
        clientId: 'rev',
        name: '',
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        environment: 'live',
        expiresAt: undefined,
        pepper: PEPPER,
        usageKeys,
      },
      Date.now(),
    );
    secrets.push(issued.secret);
    const event = restEvent({ 'x-api-key': issued.secret });
    const before = await authorizer.lambda.invoke(event);
    await dynamo.store.putKey({ ...issued.record, status: 'revoked' }, 'replace');
    const after = await authorizer.lambda.invoke(event);
    expect([outcomeOf(before, event), outcomeOf(after, event)]).toEqual(['allow', 'unauthorized']);
  });

  it('logs no key, password, hash or Authorization value', async () => {
    const logs = authorizer.logs();
    expect(logs).toContain('"decision"');
    const records = [
      ...(await dynamo.store.listKeys()).map((k) => k.hash),
      ...(await dynamo.store.listUsers()).map((u) => u.hash),
    ];
    const passwords = ['carol-password-123', 'wrong-password-0'];
    const authorizations = passwords.map((p) => basic('carol', p).Authorization.slice(6));
    for (const forbidden of [
      ...secrets,
      ...secrets.map((s) => s.split('_')[3] as string),
      ...records,
      ...passwords,
      ...authorizations,
    ])
      expect(logs).not.toContain(forbidden);
  });
});

describe('local services for KeyAuthorizerFunction (invoke / gateway)', () => {
  it('points the function at the embedded DynamoDB and fills credential placeholders, deleting them on close', async () => {
    // Arrange
    const services = await startLocalServices(
      [{ CREDENTIALS_TABLE: TABLE, API_KEY_ENVIRONMENT: 'live', API_KEY_PEPPER: '' }],
      {
        inMemory: true,
      },
    );
    const env = services.environmentFor({
      CREDENTIALS_TABLE: TABLE,
      API_KEY_ENVIRONMENT: 'live',
      API_KEY_PEPPER: '',
    });
    const authorizer = bundleEnvironment('KeyAuthorizerFunction', env);
    try {
      // Act
      const event = (await services.prepareEvent(
        readEvent('events/key-authorizer/rest-apikey-allow.json'),
      )) as Record<string, unknown>;
      const result = await authorizer.lambda.invoke(event);
      const keysBeforeClose = await services.credentialStore?.listKeys();

      // Assert
      expect(env.DYNAMODB_ENDPOINT).toBe(services.dynamo?.endpoint);
      expect(outcomeOf(result, event)).toBe('allow');
      expect(keysBeforeClose).toHaveLength(1);
    } finally {
      await authorizer.lambda.close();
      await services.close();
    }
  });
});
