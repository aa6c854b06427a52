// The local gateway in front of OrdersKeyApi: the real KeyAuthorizerFunction bundle on the embedded
// DynamoDB (in memory), API key source AUTHORIZER, and the template's usage plans.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  type DemoCredentials,
  rotateKey,
  seedDemoCredentials,
} from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import type { UsageKey } from '../../shared/credentials/store.ts';
import { seedDemo } from '../../tools/gateway/demo-seed.ts';
import { startGateway } from '../../tools/gateway/gateway.ts';
import { accessEntries, bothRenderings } from '../support/access-log.ts';

const KEY = 'KeyAuthorizerFunction';

async function start(parameterOverrides: Record<string, string> = {}) {
  const access: string[] = [];
  const gateway = await startGateway({
    port: 0,
    issuerPort: 0,
    inMemory: true,
    parameterOverrides,
    accessLog: (line) => access.push(line),
    functionLog: () => undefined,
    info: () => undefined,
  });
  const store = gateway.services.credentialStore;
  if (store === undefined) throw new Error('the gateway started no credentials table');
  const demo = (await seedDemoCredentials(store, createPasswordHasher(), {
    environment: 'live',
    pepper: undefined,
    now: Date.now(),
    usageKeys: gateway.services.usageKeys,
  })) as DemoCredentials;
  return { gateway, access, demo, base: gateway.urls.OrdersKeyApi as string };
}

describe('local gateway: OrdersKeyApi with API keys and Basic users', () => {
  let run: Awaited<ReturnType<typeof start>>;
  const basic = () => `Basic ${Buffer.from(`${run.demo.username}:${run.demo.password}`).toString('base64')}`;

  beforeAll(async () => {
    run = await start();
  });
  afterAll(async () => {
    await run.gateway.close();
  });

  it('lets the seeded API key list orders', async () => {
    // Act
    const res = await fetch(`${run.base}/orders`, { headers: { 'x-api-key': run.demo.apiKey } });

    // Assert
    expect(res.status).toBe(200);
    expect(run.gateway.demoBackend?.received().at(-1)).toMatchObject({
      path: '/orders',
      principal: 'demo-client',
    });
  });

  it('lets the seeded Basic user list orders', async () => {
    // Act
    const res = await fetch(`${run.base}/orders`, { headers: { authorization: basic() } });

    // Assert
    expect(res.status).toBe(200);
    expect(run.gateway.demoBackend?.received().at(-1)).toMatchObject({ principal: 'demo-basic' });
  });

  it('answers 401 for an unknown key and for a wrong password', async () => {
    // Arrange
    const wrong = `Basic ${Buffer.from(`${run.demo.username}:not-the-password`).toString('base64')}`;

    // Act
    const unknownKey = await fetch(`${run.base}/orders`, {
      headers: { 'x-api-key': `${run.demo.apiKey.slice(0, -4)}AAAA` },
    });
    const badPassword = await fetch(`${run.base}/orders`, { headers: { authorization: wrong } });

    // Assert
    expect(unknownKey.status).toBe(401);
    expect(await unknownKey.json()).toMatchObject({ status: 401, detail: 'Unauthorized' });
    expect(badPassword.status).toBe(401);
  });

  // The resource policy allows only the public routes, so the key's policy alone decides
  // (docs/hardening.md#resource-policy).
  it('denies DELETE to a key without orders:admin with 403, invoking the authorizer each time (TTL 0)', async () => {
    // Arrange
    const before = run.gateway.invocations(KEY);

    // Act
    const res = await fetch(`${run.base}/orders/ord_demo0001`, {
      method: 'DELETE',
      headers: { 'x-api-key': run.demo.apiKey },
    });
    await fetch(`${run.base}/orders`, { headers: { 'x-api-key': run.demo.apiKey } });

    // Assert
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      status: 403,
      detail: 'User is not authorized to access this resource',
    });
    expect(run.gateway.invocations(KEY)).toBe(before + 2);
  });

  it('answers 403 with an explicit deny for a key used from outside its allowed CIDR ranges', async () => {
    // Arrange
    const store = run.gateway.services.credentialStore as NonNullable<
      typeof run.gateway.services.credentialStore
    >;
    const fenced = await createKey(
      store,
      {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: ['10.0.0.0/8'],
        clientId: 'fenced-client',
        name: 'only from 10/8',
        environment: 'live',
        expiresAt: undefined,
        pepper: undefined,
        usageKeys: run.gateway.services.usageKeys,
      },
      Date.now(),
    );

    // Act
    const res = await fetch(`${run.base}/orders`, { headers: { 'x-api-key': fenced.secret } });

    // Assert
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      detail: 'User is not authorized to access this resource with an explicit deny',
    });
    expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({
      authorizer: 'explicit_deny',
      principal: 'fenced-client',
    });
  });

  it('never writes the key or the password into the access log', async () => {
    // Arrange
    const from = run.access.length;

    const wrongPassword = 'not-the-password-but-close';
    const wrong = `Basic ${Buffer.from(`${run.demo.username}:${wrongPassword}`).toString('base64')}`;

    // Act
    await fetch(`${run.base}/orders`, { headers: { 'x-api-key': run.demo.apiKey } });
    await fetch(`${run.base}/orders`, { headers: { authorization: basic() } });
    await fetch(`${run.base}/orders`, { headers: { authorization: wrong } });
    await fetch(`${run.base}/orders?api_key=${run.demo.apiKey}`);

    // Assert
    expect(run.access.length - from).toBe(4);
    const entries = accessEntries(run.access.slice(from));
    expect(entries[2]).toMatchObject({
      path: '/orders',
      authorizer: 'unauthorized',
      authorizerReason: 'password_mismatch',
    });
    expect(entries[3]).toMatchObject({ path: '/orders', authorizer: 'unauthorized' });
    const lines = bothRenderings(run.access.slice(from));
    expect(lines).toContain('"principal":"demo-client"');
    expect(lines).not.toContain(run.demo.apiKey);
    expect(lines).not.toContain(run.demo.password);
    expect(lines).not.toContain(basic().slice(6));
    expect(lines).not.toContain(wrongPassword);
    expect(lines).not.toContain(wrong.slice(6));
  });

  it('reports nothing to seed on a second seeding of the same store', async () => {
    // Act
    const again = await seedDemo(run.gateway);

    // Assert
    expect(again.lines.join('\n')).not.toContain('x-api-key:');
  });
});

describe('local gateway: usage plan throttling', () => {
  let run: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    run = await start({ BasicTierRateLimit: '1', BasicTierBurstLimit: '1' });
  });
  afterAll(async () => {
    await run.gateway.close();
  });

  it('answers 429 Too Many Requests once the tier’s bucket is empty', async () => {
    // Arrange
    const call = () => fetch(`${run.base}/orders`, { headers: { 'x-api-key': run.demo.apiKey } });
    await call(); // warms the environments so that the burst below arrives within a second

    // Act
    const statuses = await Promise.all([call(), call(), call(), call()]).then((all) =>
      all.map((r) => r.status),
    );

    // Assert
    expect(statuses).toContain(429);
    const throttled = run.access
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.status === 429);
    expect(throttled[0]).toMatchObject({ usage: 'throttled', errorType: 'THROTTLED' });
  });
});

describe('local gateway: persisted data', () => {
  it('reuses the embedded DynamoDB of a previous start: the first start’s key still works', async () => {
    // Arrange
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-gateway-'));
    const options = {
      port: 0,
      issuerPort: 0,
      dataDir,
      accessLog: () => undefined,
      functionLog: () => undefined,
      info: () => undefined,
    };
    const first = await startGateway(options);
    const seeded = await seedDemo(first);
    await first.close();
    const key = /x-api-key: (\S+)"/.exec(seeded.lines.join('\n'))?.[1] as string;

    // Act
    const second = await startGateway(options);
    try {
      const again = await seedDemo(second);
      const res = await fetch(`${second.urls.OrdersKeyApi}/orders`, { headers: { 'x-api-key': key } });

      // Assert
      expect(key).toMatch(/^gatehouse_live_/);
      expect(again.lines.join('\n')).not.toContain('x-api-key:');
      expect(res.status).toBe(200);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('local gateway: usage plan quota', () => {
  it('answers 429 Limit Exceeded once the tier’s daily quota is used up', async () => {
    // Arrange
    const run = await start({ BasicTierQuotaPerDay: '2' });
    try {
      const call = () => fetch(`${run.base}/orders`, { headers: { 'x-api-key': run.demo.apiKey } });

      // Act
      const statuses = [(await call()).status, (await call()).status, (await call()).status];

      // Assert
      expect(statuses).toEqual([200, 200, 429]);
      expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({
        usage: 'quota_exceeded',
        errorType: 'QUOTA_EXCEEDED',
      });
    } finally {
      await run.gateway.close();
    }
  });
});

describe('local gateway: per-client quotas (each credential its own usage key in its tier’s plan)', () => {
  let run: Awaited<ReturnType<typeof start>>;
  /** A key as `npm run keys -- create` makes it locally: its own usage key in the local API keys. */
  const newKey = async (clientId: string, tier: string) =>
    await createKey(
      run.gateway.services.credentialStore as NonNullable<typeof run.gateway.services.credentialStore>,
      {
        scopes: ['orders:read'],
        tier,
        allowedCidrs: [],
        clientId,
        name: '',
        environment: 'live',
        expiresAt: undefined,
        pepper: undefined,
        usageKeys: run.gateway.services.usageKeys,
      },
      Date.now(),
    );
  const call = (key: string) =>
    fetch(`${run.base}/orders`, { headers: { 'x-api-key': key } }).then((r) => r.status);

  beforeAll(async () => {
    run = await start({ BasicTierQuotaPerDay: '2', PremiumTierQuotaPerDay: '1' });
  });
  afterAll(async () => {
    await run.gateway.close();
  });

  it('gives two basic clients a daily quota each: one spending its own leaves the other’s whole', async () => {
    // Arrange
    const a = await newKey('client-a', 'basic');
    const b = await newKey('client-b', 'basic');

    // Act
    const first = [await call(a.secret), await call(a.secret), await call(a.secret)];
    const second = [await call(b.secret), await call(b.secret), await call(b.secret)];

    // Assert
    expect(a.record.usageKey?.value).not.toBe(b.record.usageKey?.value);
    expect(first).toEqual([200, 200, 429]);
    expect(second).toEqual([200, 200, 429]);
    expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({
      principal: 'client-b',
      usage: 'quota_exceeded',
      errorType: 'QUOTA_EXCEEDED',
    });
  });

  it('meters a premium client under the premium plan', async () => {
    // Arrange
    const p = await newKey('client-p', 'premium');

    // Act
    const statuses = [await call(p.secret), await call(p.secret)];

    // Assert: the premium plan's quota (1 here), not the basic one (2).
    expect(statuses).toEqual([200, 429]);
  });

  it('keeps the quota across a rotation (the usage key stays)', async () => {
    // Arrange
    const store = run.gateway.services.credentialStore as NonNullable<
      typeof run.gateway.services.credentialStore
    >;
    const k = await newKey('client-r', 'basic');
    await call(k.secret);
    await call(k.secret);

    // Act
    const rotated = await rotateKey(
      store,
      k.record.keyId,
      { environment: 'live', pepper: undefined, graceMs: 0 },
      Date.now(),
    );
    const status = await call(rotated.secret);

    // Assert
    expect(rotated.record.usageKey).toEqual(k.record.usageKey);
    expect(status).toBe(429);
  });

  it('refuses (403 INVALID_API_KEY) a client whose usage key is disabled, as API Gateway does', async () => {
    // Arrange
    const k = await newKey('client-d', 'basic');
    await run.gateway.services.usageKeys?.setEnabled(k.record.usageKey as UsageKey, false);

    // Act
    const res = await fetch(`${run.base}/orders`, { headers: { 'x-api-key': k.secret } });

    // Assert
    expect(res.status).toBe(403);
    expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({
      authorizer: 'allow',
      errorType: 'INVALID_API_KEY',
    });
  });

  it('refuses (403 usage_key_missing) a key made without a usage key', async () => {
    // Arrange
    const store = run.gateway.services.credentialStore as NonNullable<
      typeof run.gateway.services.credentialStore
    >;
    const bare = await createKey(
      store,
      {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        clientId: 'client-bare',
        name: '',
        environment: 'live',
        expiresAt: undefined,
        pepper: undefined,
      },
      Date.now(),
    );

    // Act
    const res = await fetch(`${run.base}/orders`, { headers: { 'x-api-key': bare.secret } });

    // Assert
    expect(res.status).toBe(403);
    expect(JSON.parse(run.access.at(-1) as string)).toMatchObject({
      authorizer: 'explicit_deny',
      principal: 'client-bare',
    });
  });
});
