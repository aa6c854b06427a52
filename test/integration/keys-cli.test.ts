import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyResponse } from '../../shared/authz/answer.ts';
import { seedDemoCredentials } from '../../shared/credentials/admin.ts';
import { API_KEY_PATTERN } from '../../shared/credentials/api-key.ts';
import { dynamoCredentialStore } from '../../shared/credentials/dynamo-store.ts';
import { createKeyAuthorizer } from '../../shared/credentials/key-authorizer.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { memoryObserver } from '../../shared/observability/observer.ts';
import { type CliIo, keysCli } from '../../tools/keys.ts';
import { localUsageKeys } from '../../tools/local/api-keys.ts';
import { usersCli } from '../../tools/users.ts';
import { policyAllows } from '../hostile/support/method-arns.ts';
import { type ApiGatewayFake, startApiGatewayFake } from '../support/aws-fakes.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';

const PEPPER = 'cli-test-pepper-0123456789';
const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });

/** What the CLIs see of the environment: the pepper, and where API Gateway is (the fake). */
const env: Record<string, string | undefined> = { API_KEY_PEPPER: PEPPER };

/** Runs a CLI in-process, capturing what it prints. */
async function run(
  cli: 'keys' | 'users',
  args: string[],
  options: { stdin?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo & { stdin?: () => string } = {
    out: (line) => {
      out += `${line}\n`;
    },
    err: (line) => {
      err += `${line}\n`;
    },
    env,
    now: Date.now,
    ...(options.stdin === undefined ? {} : { stdin: () => options.stdin as string }),
  };
  const code = cli === 'keys' ? await keysCli(args, io) : await usersCli(args, io, hasher);
  return { code, out, err };
}

const event = (headers: Record<string, string>, method = 'GET') => ({
  type: 'REQUEST',
  methodArn: `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/${method}/orders`,
  resource: '/orders',
  path: '/orders',
  httpMethod: method,
  headers,
  requestContext: { requestId: 'r', identity: { sourceIp: '203.0.113.10' } },
});

describe('keys and users CLIs against dynalite (--endpoint) and API Gateway (--usage-plan)', () => {
  let dynamo: TestDynamo;
  let apiGateway: ApiGatewayFake;
  let target: string[];
  let authorize: ReturnType<typeof createKeyAuthorizer>;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    apiGateway = await startApiGatewayFake([
      { id: 'basicplan1', name: 'basic', stages: ['api1/v1'] },
      { id: 'premplan2', name: 'premium', stages: ['api1/v1'] },
    ]);
    env.AWS_ENDPOINT_URL_API_GATEWAY = apiGateway.endpoint;
    target = [
      '--endpoint',
      dynamo.endpoint,
      '--usage-plan',
      'basic=basicplan1',
      '--usage-plan',
      'premium=premplan2',
    ];
    authorize = createKeyAuthorizer({
      store: dynamoCredentialStore(dynamo.functionClient, TABLE, 2000),
      passwords: hasher,
      routes: ROUTES,
      clock: Date.now,
      observer: memoryObserver(),
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
    delete env.AWS_ENDPOINT_URL_API_GATEWAY;
  });

  it('creates a key, prints it exactly once, and the authorizer accepts it; list/show never print secrets', async () => {
    // Act
    const created = await run('keys', [
      'create',
      '--client',
      'acme',
      '--scopes',
      'orders:read orders:write',
      '--tier',
      'premium',
      ...target,
    ]);
    const key = /(gatehouse_live_\S+)/.exec(created.out)?.[1] as string;
    const keyId = key.split('_')[2] as string;
    const listed = await run('keys', ['list', ...target]);
    const shown = await run('keys', ['show', keyId, '--json', ...target]);

    // Assert
    expect(created.code).toBe(0);
    expect(key).toMatch(API_KEY_PATTERN);
    expect(created.out.split(key).length - 1).toBe(1);
    await expect(authorize(event({ 'x-api-key': key }))).resolves.toBeDefined();
    expect(listed.out).toContain(keyId);
    expect(JSON.parse(shown.out)).toMatchObject({
      keyId,
      clientId: 'acme',
      status: 'active',
      tier: 'premium',
    });
    for (const output of [listed.out, shown.out]) {
      expect(output).not.toContain(key.split('_')[3]);
      expect(output).not.toMatch(/sha256:|hmac-sha256:/);
    }
  });

  it('rotates a key (old and new both work during the grace period), revokes and deletes it', async () => {
    // Arrange
    const created = JSON.parse(
      (await run('keys', ['create', '--client', 'rot', '--scopes', 'orders:read', '--json', ...target])).out,
    );

    // Act
    const rotated = await run('keys', ['rotate', created.keyId, '--grace', '1h', '--json', ...target]);
    const next = JSON.parse(rotated.out);
    const oldWorks = await authorize(event({ 'x-api-key': created.key })).then(
      () => true,
      () => false,
    );
    const newWorks = await authorize(event({ 'x-api-key': next.key })).then(
      () => true,
      () => false,
    );
    const revoked = await run('keys', ['revoke', created.keyId, ...target]);
    const afterRevoke = await authorize(event({ 'x-api-key': next.key })).then(
      () => true,
      () => false,
    );
    const deleted = await run('keys', ['delete', created.keyId, ...target]);
    const showDeleted = await run('keys', ['show', created.keyId, ...target]);

    // Assert
    expect(rotated.code).toBe(0);
    expect(next.key).not.toBe(created.key);
    expect(next.previousSecretValidUntil).not.toBeNull();
    expect([oldWorks, newWorks]).toEqual([true, true]);
    expect(revoked.code).toBe(0);
    expect(afterRevoke).toBe(false);
    expect(deleted.code).toBe(0);
    expect(showDeleted.code).toBe(1);
    expect(showDeleted.err).toContain(`no key with id ${created.keyId}`);
  });

  it.each([
    [['show', 'AAAAAAAAAAAA'], 1, 'no key with id AAAAAAAAAAAA'],
    [['revoke', 'AAAAAAAAAAAA'], 1, 'no key with id AAAAAAAAAAAA'],
    [['show', 'not-an-id'], 2, 'not a key id'],
    [['create'], 2, 'create needs --client'],
    [['create', '--client', 'x', '--scopes', 'orders:read', '--cidr', '10.0.0.0/99'], 2, 'not a CIDR range'],
    [['create', '--client', 'x', '--scopes', 'orders:read', '--expires', 'tomorrow-ish'], 2, '--expires'],
    [['create', '--client', 'x', '--scopes', 'orders:read', '--tenant', 'acme*'], 2, 'not a tenant: "acme*"'],
    [['create', '--client', 'x', '--scopes', 'orders:read', '--tenant', 'a/b'], 2, 'not a tenant: "a/b"'],
    [['frobnicate'], 2, 'unknown command frobnicate'],
    [['list', '--bogus'], 2, "unknown option '--bogus'"],
  ])('keys %j exits %i with a clear message', async (args, code, message) => {
    const result = await run('keys', [...args, ...target]);
    expect(result.code).toBe(code);
    expect(result.err).toContain(message);
  });

  it('creates a key for a tenant: shown by show, and the authorizer binds it to that tenant’s paths', async () => {
    // Act
    const created = await run('keys', [
      'create',
      '--client',
      'acme-app',
      '--scopes',
      'orders:read',
      '--tenant',
      'acme',
      '--json',
      ...target,
    ]);
    const { key, keyId, tenant } = JSON.parse(created.out) as { key: string; keyId: string; tenant: string };
    const shown = JSON.parse((await run('keys', ['show', keyId, '--json', ...target])).out) as {
      tenant: string;
    };
    const event = (path: string) => ({
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:us-east-1:123456789012:api1/v1/GET${path}`,
      routeKey: 'GET /tenants/{tenantId}/orders',
      rawPath: path,
      headers: { 'x-api-key': key },
      requestContext: { http: { method: 'GET', path, sourceIp: '203.0.113.1' } },
    });
    const own = (await authorize(event('/tenants/acme/orders'))) as { isAuthorized: boolean };
    const other = (await authorize(event('/tenants/globex/orders'))) as { isAuthorized: boolean };

    // Assert
    expect(created.code).toBe(0);
    expect([tenant, shown.tenant]).toEqual(['acme', 'acme']);
    expect([own.isAuthorized, other.isAuthorized]).toEqual([true, false]);
  });

  it('says the table is missing', async () => {
    const result = await run('keys', ['list', '--table', 'NoSuchTable', ...target]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('the credentials table does not exist');
  });

  it('manages Basic users: create from stdin, generated passwords shown once, lock, unlock, revoke, passwd', async () => {
    // Arrange / Act
    const alice = await run(
      'users',
      ['create', 'alice', '--scopes', 'orders:read', '--password-stdin', ...target],
      {
        stdin: 'alice-password-123\n',
      },
    );
    const bob = await run('users', ['create', 'bob', '--scopes', 'orders:read', '--json', ...target]);
    const bobPassword = JSON.parse(bob.out).password as string;
    const basic = (user: string, password: string) => ({
      Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const allowed = async (user: string, password: string) =>
      authorize(event(basic(user, password))).then(
        () => true,
        () => false,
      );

    const aliceOk = await allowed('alice', 'alice-password-123');
    const bobOk = await allowed('bob', bobPassword);
    const lock = await run('users', ['lock', 'alice', ...target]);
    const whileLocked = await allowed('alice', 'alice-password-123');
    const unlock = await run('users', ['unlock', 'alice', ...target]);
    const afterUnlock = await allowed('alice', 'alice-password-123');
    const passwd = await run('users', ['passwd', 'alice', '--json', ...target]);
    const newPassword = JSON.parse(passwd.out).password as string;
    const oldAfterPasswd = await allowed('alice', 'alice-password-123');
    const newAfterPasswd = await allowed('alice', newPassword);
    const revoke = await run('users', ['revoke', 'bob', ...target]);
    const bobAfterRevoke = await allowed('bob', bobPassword);
    const listed = await run('users', ['list', '--json', ...target]);

    // Assert
    expect([alice.code, bob.code, lock.code, unlock.code, passwd.code, revoke.code]).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    expect(alice.out).not.toContain('alice-password-123');
    expect(bob.out.split(bobPassword).length - 1).toBe(1);
    expect([aliceOk, bobOk, whileLocked, afterUnlock]).toEqual([true, true, false, true]);
    expect([oldAfterPasswd, newAfterPasswd, bobAfterRevoke]).toEqual([false, true, false]);
    const users = JSON.parse(listed.out) as { username: string; status: string }[];
    expect(users.map((u) => [u.username, u.status])).toEqual([
      ['alice', 'active'],
      ['bob', 'revoked'],
    ]);
    expect(listed.out).not.toContain('scrypt$');
    expect(listed.out).not.toContain(newPassword);
  });

  it.each([
    [
      ['create', 'alice', '--scopes', 'orders:read', '--password-stdin'],
      'short',
      2,
      'passwords are 12 to 1024 characters',
    ],
    [['create', 'bad name', '--scopes', 'orders:read'], undefined, 2, 'usernames are'],
    [['lock', 'nobody'], undefined, 1, 'no user named nobody'],
    [['create', 'alice', '--scopes', 'orders:read'], undefined, 1, 'user alice already exists'],
    [
      ['create', 'carol', '--tier', 'gold', '--scopes', 'orders:read'],
      undefined,
      2,
      'tier "gold" is not defined by --usage-plan (valid: basic, premium)',
    ],
    [['create', 'carol'], undefined, 2, 'at least one scope is required'],
  ])('users %j with stdin %j exits %i with a clear message', async (args, stdin, code, message) => {
    const result = await run('users', [...args, ...target], stdin === undefined ? {} : { stdin });
    expect(result.code).toBe(code);
    expect(result.err).toContain(message);
  });

  it('seeds a demo key and a demo Basic user once (for the local gateway first start), each with its own usage key', async () => {
    // Arrange
    const usageKeys = localUsageKeys(dynamo.client, { basic: 'BasicUsagePlan' });
    const seed = () =>
      seedDemoCredentials(dynamo.store, hasher, {
        environment: 'live',
        pepper: PEPPER,
        now: Date.now(),
        usageKeys,
      });

    // Act
    const first = await seed();
    const second = await seed();

    // Assert
    expect(first?.apiKey).toMatch(API_KEY_PATTERN);
    expect(second).toBeUndefined();
    const byKey = (await authorize(event({ 'x-api-key': first?.apiKey as string }))) as PolicyResponse;
    const demo = { Authorization: `Basic ${Buffer.from(`demo:${first?.password}`).toString('base64')}` };
    const byUser = (await authorize(event(demo))) as PolicyResponse;
    // API Gateway's verdict on the answers for the request (GET /orders, which the demo scopes permit).
    const arn = event({}).methodArn;
    expect([policyAllows(byKey, arn), policyAllows(byUser, arn)]).toEqual([true, true]);
    expect(byKey.usageIdentifierKey).toMatch(/^[0-9a-f]{40}$/);
    expect(byUser.usageIdentifierKey).toMatch(/^[0-9a-f]{40}$/);
    expect(byKey.usageIdentifierKey).not.toBe(byUser.usageIdentifierKey);
  });

  it('runs as `npm run keys` does (a real process): exit status and output', async () => {
    // Asynchronous: dynalite answers from this process's event loop.
    const failure = await promisify(execFile)(
      'npx',
      ['tsx', 'tools/keys.ts', 'show', 'AAAAAAAAAAAA', ...target],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('error: no key with id AAAAAAAAAAAA');
  });
});
