// `npm run keys` / `npm run users` against a deployed stack, as a deployer runs them
// (`--stack <name>`): CloudFormation, API Gateway and Secrets Manager are loopback fakes speaking
// their real wire protocols (signed requests, XML / REST-JSON / JSON 1.1), the table is dynalite,
// and the authorizer reads it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyResponse } from '../../shared/authz/answer.ts';
import { dynamoCredentialStore } from '../../shared/credentials/dynamo-store.ts';
import { createKeyAuthorizer } from '../../shared/credentials/key-authorizer.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { memoryObserver } from '../../shared/observability/observer.ts';
import { type CliIo, keysCli } from '../../tools/keys.ts';
import { usersCli } from '../../tools/users.ts';
import { policyAllows } from '../hostile/support/method-arns.ts';
import {
  type ApiGatewayFake,
  type CloudFormationFake,
  startApiGatewayFake,
  startCloudFormationFake,
} from '../support/aws-fakes.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/secrets-manager-server.ts';

const PEPPER = 'stack-test-pepper-0123456789';
const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });
const STACK = 'gatehouse';
/** A stack as the current template makes it: its outputs name the pepper's secret. */
const PEPPERED = 'gatehouse-peppered';
const PEPPER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ApiKeyPepperSecret-AbCdEf';
const SHORT_PEPPER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ShortPepper-AbCdEf';
const OUTPUTS = {
  CredentialsTableName: TABLE,
  BasicUsagePlanId: 'b4s1cpl4n0',
  PremiumUsagePlanId: 'pr3m1umpl4',
  OrdersKeyApiUrl: 'https://api1.execute-api.us-east-1.amazonaws.com/v1',
};

let dynamo: TestDynamo;
let apiGateway: ApiGatewayFake;
let cloudFormation: CloudFormationFake;
let secretsManager: FakeSecretsManager;
let env: Record<string, string | undefined>;
let target: string[];
const observer = memoryObserver();
let authorize: ReturnType<typeof createKeyAuthorizer>;

async function run(
  cli: 'keys' | 'users',
  args: string[],
): Promise<{ code: number; out: string; err: string; json: () => Record<string, unknown> }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (line) => {
      out += `${line}\n`;
    },
    err: (line) => {
      err += `${line}\n`;
    },
    env,
    now: Date.now,
  };
  const code = cli === 'keys' ? await keysCli(args, io) : await usersCli(args, io, hasher);
  return { code, out, err, json: () => JSON.parse(out) as Record<string, unknown> };
}

const event = (headers: Record<string, string>) => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api1/v1/GET/orders',
  resource: '/orders',
  path: '/orders',
  httpMethod: 'GET',
  headers,
  requestContext: { requestId: 'r', identity: { sourceIp: '203.0.113.10' } },
});
const outcome = (headers: Record<string, string>) =>
  authorize(event(headers)).then(
    (r) => r as PolicyResponse,
    (e: Error) => e.message,
  );

beforeAll(async () => {
  dynamo = await startTestDynamo();
  apiGateway = await startApiGatewayFake(
    [
      { id: 'unrelated01', name: 'someone-else', stages: ['other/prod'] },
      { id: OUTPUTS.BasicUsagePlanId, name: 'gatehouse-basic', stages: ['api1/v1'] },
      { id: OUTPUTS.PremiumUsagePlanId, name: 'gatehouse-premium', stages: ['api1/v1'] },
    ],
    { pageSize: 1 }, // GetUsagePlans must follow `position` over three pages
  );
  secretsManager = await startFakeSecretsManager();
  secretsManager.put(PEPPER_ARN, PEPPER);
  secretsManager.put(SHORT_PEPPER_ARN, 'too-short');
  cloudFormation = await startCloudFormationFake({
    [STACK]: OUTPUTS,
    [PEPPERED]: { ...OUTPUTS, ApiKeyPepperSecretArn: PEPPER_ARN },
    'short-pepper': { ...OUTPUTS, ApiKeyPepperSecretArn: SHORT_PEPPER_ARN },
    'stale-stack': { CredentialsTableName: TABLE },
    'missing-plan': { ...OUTPUTS, BasicUsagePlanId: 'n0suchpl4n' },
    'missing-table': { ...OUTPUTS, CredentialsTableName: 'NoSuchTable' },
  });
  env = {
    API_KEY_PEPPER: PEPPER,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_API_GATEWAY: apiGateway.endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
  };
  // The stack names the table; --endpoint points at the DynamoDB that holds it (dynalite).
  target = ['--stack', STACK, '--endpoint', dynamo.endpoint];
  authorize = createKeyAuthorizer({
    store: dynamoCredentialStore(dynamo.functionClient, TABLE, 2000),
    passwords: hasher,
    routes: ROUTES,
    clock: Date.now,
    observer,
    keyEnvironment: 'live',
    pepper: PEPPER,
    usageKeyRequired: true,
    simpleResponses: true,
    lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 },
    cache: { ttlMs: 0, negativeTtlMs: 0, size: 0 },
  });
});
afterAll(async () => {
  await dynamo.close();
  await apiGateway.close();
  await cloudFormation.close();
  await secretsManager.close();
});
beforeEach(() => {
  apiGateway.calls.length = 0;
});

describe('keys create --stack', () => {
  it('gives each client its own API Gateway API key in its tier’s plan, returned by the authorizer', async () => {
    // Act
    const a = await run('keys', ['create', '--client', 'a', '--scopes', 'orders:read', '--json', ...target]);
    const b = await run('keys', ['create', '--client', 'b', '--scopes', 'orders:read', '--json', ...target]);
    const p = await run('keys', [
      'create',
      '--client',
      'p',
      '--scopes',
      'orders:read',
      '--tier',
      'premium',
      '--json',
      ...target,
    ]);

    // Assert
    expect([a.code, b.code, p.code]).toEqual([0, 0, 0]);
    expect(cloudFormation.asked).toContain(STACK);
    const ids = [a, b, p].map((r) => r.json().usageKeyId as string);
    expect(new Set(ids).size).toBe(3);
    expect(ids.map((id) => apiGateway.plansOf(id))).toEqual([
      [OUTPUTS.BasicUsagePlanId],
      [OUTPUTS.BasicUsagePlanId],
      [OUTPUTS.PremiumUsagePlanId],
    ]);
    for (const [i, r] of [a, b, p].entries()) {
      const key = r.json().key as string;
      const apiKey = apiGateway.keys.get(ids[i] as string);
      const answer = (await outcome({ 'x-api-key': key })) as PolicyResponse;
      // The usage key is not the Gatehouse secret, nor derived from it.
      expect(apiKey?.enabled).toBe(true);
      expect(apiKey?.value).toMatch(/^[0-9a-f]{40}$/);
      expect(key).not.toContain(apiKey?.value);
      expect(answer.usageIdentifierKey).toBe(apiKey?.value);
      expect(policyAllows(answer, event({}).methodArn)).toBe(true);
      // Printed: the key once, the usage key's id; never its value.
      expect(r.out).not.toContain(apiKey?.value);
    }
    expect(apiGateway.calls.filter((c) => c === 'GetUsagePlans').length).toBe(9); // 3 pages, 3 runs
  });

  it.each([
    [
      ['--scopes', 'orders:read', '--tier', 'gold'],
      'tier "gold" is not defined by stack gatehouse (valid: basic, premium)',
    ],
    [
      ['--scopes', 'orders:read orders:delete'],
      'scope "orders:delete" is not defined by openapi.yaml (valid: orders:admin orders:read orders:write)',
    ],
    [
      [],
      'at least one scope is required (--scopes), from those openapi.yaml defines: orders:admin orders:read orders:write',
    ],
  ])(
    'refuses %j with exit 2 and one line naming what is valid, before touching API Gateway',
    async (flags, message) => {
      // Act
      const r = await run('keys', ['create', '--client', 'x', ...flags, ...target]);

      // Assert
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toEqual([`keys: ${message}; see npm run keys -- --help`]);
      expect(apiGateway.calls).toEqual([]);
    },
  );

  it('leaves no API key behind when the key cannot join its plan, and writes no record', async () => {
    // Arrange
    const keysBefore = apiGateway.keys.size;
    const recordsBefore = (await dynamo.store.listKeys()).length;
    apiGateway.failNext('CreateUsagePlanKey', 409, 'ConflictException');

    // Act
    const r = await run('keys', ['create', '--client', 'c', '--scopes', 'orders:read', ...target]);

    // Assert
    expect(r.code).toBe(1);
    expect(r.err).toContain('CreateUsagePlanKey failed (ConflictException)');
    expect(apiGateway.calls).toEqual([
      'GetUsagePlans',
      'GetUsagePlans',
      'GetUsagePlans',
      'CreateApiKey',
      'CreateUsagePlanKey',
      'DeleteApiKey',
    ]);
    expect(apiGateway.keys.size).toBe(keysBefore);
    expect((await dynamo.store.listKeys()).length).toBe(recordsBefore);
  });

  it('takes the new API key away again when the record cannot be written', async () => {
    // Arrange
    const keysBefore = apiGateway.keys.size;

    // Act: the stack names a table that does not exist.
    const r = await run('keys', [
      'create',
      '--client',
      'c',
      '--scopes',
      'orders:read',
      '--stack',
      'missing-table',
      '--endpoint',
      dynamo.endpoint,
    ]);

    // Assert
    expect(r.code).toBe(1);
    expect(r.err).toContain('the credentials table does not exist');
    expect(apiGateway.calls.slice(-1)).toEqual(['DeleteApiKey']);
    expect(apiGateway.keys.size).toBe(keysBefore);
  });

  it.each([
    ['no-such-stack', 1, 'stack no-such-stack does not exist in us-east-1; check --stack and --region'],
    ['stale-stack', 1, 'stack stale-stack has no <Tier>UsagePlanId outputs'],
    ['missing-plan', 1, 'usage plan n0suchpl4n (tier basic) does not exist in API Gateway at'],
  ])('says what is wrong with stack %s (exit %i) and creates nothing', async (stack, code, message) => {
    // Act
    const r = await run('keys', [
      'create',
      '--client',
      'x',
      '--scopes',
      'orders:read',
      '--stack',
      stack,
      '--endpoint',
      dynamo.endpoint,
    ]);

    // Assert
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
    expect(apiGateway.calls).not.toContain('CreateApiKey');
  });

  it('refuses to create a key with --table alone (usage plans unknown) unless --no-usage-key', async () => {
    // Act
    const refused = await run('keys', [
      'create',
      '--client',
      'x',
      '--scopes',
      'orders:read',
      '--endpoint',
      dynamo.endpoint,
    ]);
    const bare = await run('keys', [
      'create',
      '--client',
      'x',
      '--scopes',
      'orders:read',
      '--no-usage-key',
      '--json',
      '--endpoint',
      dynamo.endpoint,
    ]);
    const answer = (await outcome({ 'x-api-key': bare.json().key as string })) as PolicyResponse;

    // Assert
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      'the usage plans must be known: pass --stack <name>, or --usage-plan <tier>=<id>',
    );
    expect(bare.code).toBe(0);
    expect(bare.json().usageKeyId).toBeNull();
    // A REST API that requires API keys refuses it by name.
    expect(answer.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Deny']);
    expect(observer.decisions.at(-1)?.reason).toBe('usage_key_missing');
  });
});

describe('keys rotate / revoke / delete --stack keep the usage key in step', () => {
  it('rotates under the same usage key, disables it on revoke, deletes it on delete', async () => {
    // Arrange
    const created = await run('keys', [
      'create',
      '--client',
      'r',
      '--scopes',
      'orders:read',
      '--json',
      ...target,
    ]);
    const { keyId, usageKeyId, key } = created.json() as { keyId: string; usageKeyId: string; key: string };
    const value = apiGateway.keys.get(usageKeyId)?.value;

    // Act + Assert: rotate
    const rotated = await run('keys', ['rotate', keyId, '--grace', '0s', '--json', ...target]);
    const afterRotate = (await outcome({ 'x-api-key': rotated.json().key as string })) as PolicyResponse;
    expect(rotated.code).toBe(0);
    expect(rotated.json().usageKeyId).toBe(usageKeyId);
    expect(afterRotate.usageIdentifierKey).toBe(value);
    expect(await outcome({ 'x-api-key': key })).toBe('Unauthorized');
    expect(apiGateway.calls.filter((c) => c !== 'GetUsagePlans')).toEqual([
      'CreateApiKey',
      'CreateUsagePlanKey',
    ]);

    // revoke
    const revoked = await run('keys', ['revoke', keyId, ...target]);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain(`its usage key ${usageKeyId} is disabled`);
    expect(apiGateway.keys.get(usageKeyId)?.enabled).toBe(false);
    expect(apiGateway.plansOf(usageKeyId)).toEqual([OUTPUTS.BasicUsagePlanId]); // kept for usage reports
    expect(await outcome({ 'x-api-key': rotated.json().key as string })).toBe('Unauthorized');

    // delete
    const deleted = await run('keys', ['delete', keyId, ...target]);
    expect(deleted.code).toBe(0);
    expect(apiGateway.keys.has(usageKeyId)).toBe(false);
    expect(apiGateway.plansOf(usageKeyId)).toEqual([]);
    expect(await dynamo.store.findKey(keyId)).toBeUndefined();
  });

  it('keeps the record revoked and says so when API Gateway cannot disable the usage key; a second run finishes', async () => {
    // Arrange
    const created = await run('keys', [
      'create',
      '--client',
      'f',
      '--scopes',
      'orders:read',
      '--json',
      ...target,
    ]);
    const { keyId, usageKeyId } = created.json() as { keyId: string; usageKeyId: string };
    apiGateway.failNext('UpdateApiKey', 403, 'AccessDeniedException');

    // Act
    const first = await run('keys', ['revoke', keyId, ...target]);
    const stillEnabled = apiGateway.keys.get(usageKeyId)?.enabled;
    const second = await run('keys', ['revoke', keyId, ...target]);

    // Assert
    expect(first.code).toBe(1);
    expect(first.err).toContain(
      `key ${keyId} is revoked, but its usage key ${usageKeyId} could not be disabled`,
    );
    expect((await dynamo.store.findKey(keyId))?.status).toBe('revoked');
    expect(stillEnabled).toBe(true);
    expect(second.code).toBe(0);
    expect(apiGateway.keys.get(usageKeyId)?.enabled).toBe(false);
  });

  it('deletes a key whose usage key is already gone', async () => {
    // Arrange
    const created = await run('keys', [
      'create',
      '--client',
      'g',
      '--scopes',
      'orders:read',
      '--json',
      ...target,
    ]);
    const { keyId, usageKeyId } = created.json() as { keyId: string; usageKeyId: string };
    apiGateway.keys.delete(usageKeyId);

    // Act
    const deleted = await run('keys', ['delete', keyId, ...target]);

    // Assert
    expect(deleted.code).toBe(0);
    expect(await dynamo.store.findKey(keyId)).toBeUndefined();
  });
});

describe('migrate --stack', () => {
  it('gives keys and users without a usage key their own, skipping revoked ones', async () => {
    // Arrange: records made without usage keys (as before per-client quotas).
    const bare = await run('keys', [
      'create',
      '--client',
      'old',
      '--scopes',
      'orders:read',
      '--no-usage-key',
      '--json',
      ...target,
    ]);
    const gone = await run('keys', [
      'create',
      '--client',
      'old2',
      '--scopes',
      'orders:read',
      '--no-usage-key',
      '--json',
      ...target,
    ]);
    await run('keys', ['revoke', gone.json().keyId as string, ...target]);
    const user = await run('users', [
      'create',
      'olduser',
      '--scopes',
      'orders:read',
      '--tier',
      'premium',
      '--no-usage-key',
      '--json',
      ...target,
    ]);

    // Act
    const keys = await run('keys', ['migrate', '--json', ...target]);
    const users = await run('users', ['migrate', '--json', ...target]);
    const again = await run('keys', ['migrate', '--json', ...target]);

    // Assert
    expect([keys.code, users.code, again.code]).toEqual([0, 0, 0]);
    const attached = (keys.json().attached as { id: string; usageKeyId: string }[]).find(
      (a) => a.id === bare.json().keyId,
    );
    expect(attached).toBeDefined();
    expect(apiGateway.plansOf(attached?.usageKeyId as string)).toEqual([OUTPUTS.BasicUsagePlanId]);
    expect(keys.json().skipped).toContainEqual({ id: gone.json().keyId, reason: 'revoked' });
    const userAttached = users.json().attached as { id: string; usageKeyId: string }[];
    expect(userAttached.map((a) => a.id)).toContain('olduser');
    const olduser = userAttached.find((a) => a.id === 'olduser');
    expect(apiGateway.plansOf(olduser?.usageKeyId as string)).toEqual([OUTPUTS.PremiumUsagePlanId]);
    expect(again.json().attached).toEqual([]);
    const answer = (await outcome({ 'x-api-key': bare.json().key as string })) as PolicyResponse;
    expect(answer.usageIdentifierKey).toBe(apiGateway.keys.get(attached?.usageKeyId as string)?.value);
    expect(user.json().usageKeyId).toBeNull();
  });
});

describe('users --stack', () => {
  it('gives a user its own usage key; revoke disables it, unlock enables it, delete deletes it', async () => {
    // Act
    const created = await run('users', ['create', 'ulla', '--scopes', 'orders:read', '--json', ...target]);
    const { usageKeyId, password } = created.json() as { usageKeyId: string; password: string };
    const basic = { Authorization: `Basic ${Buffer.from(`ulla:${password}`).toString('base64')}` };
    const allowed = (await outcome(basic)) as PolicyResponse;
    const revoke = await run('users', ['revoke', 'ulla', ...target]);
    const disabled = apiGateway.keys.get(usageKeyId)?.enabled;
    const unlock = await run('users', ['unlock', 'ulla', ...target]);
    const enabled = apiGateway.keys.get(usageKeyId)?.enabled;
    const deleted = await run('users', ['delete', 'ulla', ...target]);

    // Assert
    expect([created.code, revoke.code, unlock.code, deleted.code]).toEqual([0, 0, 0, 0]);
    expect(apiGateway.plansOf(usageKeyId)).toEqual([]);
    expect(allowed.usageIdentifierKey).toMatch(/^[0-9a-f]{40}$/);
    expect([disabled, enabled]).toEqual([false, true]);
    expect(apiGateway.keys.has(usageKeyId)).toBe(false);
    expect(await dynamo.store.findUser('ulla')).toBeUndefined();
  });

  it('refuses an undefined tier for a user (exit 2, valid tiers named)', async () => {
    const r = await run('users', ['create', 'zed', '--scopes', 'orders:read', '--tier', 'gold', ...target]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('tier "gold" is not defined by stack gatehouse (valid: basic, premium)');
  });

  it('refuses --usage-plan together with --stack', async () => {
    const r = await run('users', ['list', '--usage-plan', 'basic=abc', ...target]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--usage-plan and --stack both name the usage plans');
  });
});

describe('keys with --stack read the pepper from the stack', () => {
  const peppered = () => ['--stack', PEPPERED, '--endpoint', dynamo.endpoint];
  /** Runs without API_KEY_PEPPER in the environment (as a deployer now does), or with `pepper`. */
  async function withPepper<T>(pepper: string | undefined, body: () => Promise<T>): Promise<T> {
    const before = env.API_KEY_PEPPER;
    env.API_KEY_PEPPER = pepper;
    try {
      return await body();
    } finally {
      env.API_KEY_PEPPER = before;
    }
  }

  it('hashes a new and a rotated key with the secret ApiKeyPepperSecretArn names, read with one signed GetSecretValue', async () => {
    // Arrange
    const reads = secretsManager.reads(PEPPER_ARN);
    const signed = secretsManager.authorizations.length;

    // Act
    const created = await withPepper(undefined, () =>
      run('keys', ['create', '--client', 'pep', '--scopes', 'orders:read', '--json', ...peppered()]),
    );
    const keyId = String(created.json().keyId);
    const rotated = await withPepper(undefined, () =>
      run('keys', ['rotate', keyId, '--grace', '0s', '--json', ...peppered()]),
    );

    // Assert: peppered hashes the authorizer (same pepper) accepts; one read per command, signed.
    expect([created.code, rotated.code]).toEqual([0, 0]);
    expect(secretsManager.reads(PEPPER_ARN) - reads).toBe(2);
    expect(secretsManager.authorizations.slice(signed)).toEqual([
      expect.stringMatching(
        /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/us-east-1\/secretsmanager\/aws4_request/,
      ),
      expect.stringMatching(
        /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/us-east-1\/secretsmanager\/aws4_request/,
      ),
    ]);
    expect((await dynamo.store.findKey(keyId))?.hash).toMatch(/^hmac-sha256:/);
    const allowed = await outcome({ 'x-api-key': String(rotated.json().key) });
    expect(typeof allowed === 'string' ? allowed : allowed.policyDocument.Statement[0]?.Effect).toBe('Allow');
    expect(created.out + created.err).not.toContain(PEPPER);
  });

  it('reads no secret for commands that make no key', async () => {
    const reads = secretsManager.reads(PEPPER_ARN);
    const listed = await withPepper(undefined, () => run('keys', ['list', ...peppered()]));
    expect(listed.code).toBe(0);
    expect(secretsManager.reads(PEPPER_ARN)).toBe(reads);
  });

  it('refuses an API_KEY_PEPPER that differs from the stack’s, before any usage key is made', async () => {
    // Act
    const r = await withPepper('another-pepper-0123456789', () =>
      run('keys', ['create', '--client', 'pep2', '--scopes', 'orders:read', ...peppered()]),
    );

    // Assert
    expect(r.code).toBe(1);
    expect(r.err).toContain(`API_KEY_PEPPER differs from the pepper of stack ${PEPPERED}`);
    expect(r.err).not.toContain(PEPPER);
    expect(apiGateway.calls).not.toContain('CreateApiKey');
  });

  it.each([
    ['access is denied', 'denied', PEPPERED, 'secretsmanager:GetSecretValue'],
    ['the value is too short to be a pepper', 'ok', 'short-pepper', 'is shorter than 16 characters'],
  ] as const)('fails (exit 1) when %s, making nothing', async (_case, mode, stack, message) => {
    // Arrange
    secretsManager.mode(mode);

    // Act
    const r = await withPepper(undefined, () =>
      run('keys', [
        'create',
        '--client',
        'pep3',
        '--scopes',
        'orders:read',
        '--stack',
        stack,
        '--endpoint',
        dynamo.endpoint,
      ]),
    );
    secretsManager.mode('ok');

    // Assert
    expect(r.code).toBe(1);
    expect(r.err).toContain(message);
    expect(apiGateway.calls).not.toContain('CreateApiKey');
  });
});
