/**
 * The functions' real bundles read their secrets at run time from a loopback Secrets Manager (its
 * JSON API, through their real signed GetSecretValue): cached, re-read after the TTL or a pepper mismatch, so a
 * rotated value is used without a deploy; an unreadable secret is a 503, never an unsigned
 * request or an Allow; no secret value reaches a log.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../shared/credentials/admin.ts';
import { mintApiKey } from '../../shared/credentials/api-key.ts';
import { verifyReceivedRequest } from '../../shared/upstream/signing.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { readEvent } from '../support/events.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/secrets-manager-server.ts';

const SIGNING_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:UpstreamSigningSecret-AbCdEf';
const PEPPER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ApiKeyPepperSecret-GhIjKl';
const SIGNING_1 = 'first-signing-secret-0123456789abcdefABCDEF';
const SIGNING_2 = 'second-signing-secret-0123456789abcdefABCDE';
const PEPPER_1 = 'first-pepper-0123456789abcd';
const PEPPER_2 = 'second-pepper-0123456789abcd';

/** A backend that verifies signatures with the secrets it currently accepts and records outcomes. */
async function startVerifyingBackend(): Promise<{
  url: string;
  accept: (secrets: string[]) => void;
  verdicts: string[];
  close(): Promise<void>;
}> {
  let accepted: string[] = [];
  const verdicts: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const ok = accepted.find(
        (s) => verifyReceivedRequest(s, request, Math.floor(Date.now() / 1000)) === undefined,
      );
      verdicts.push(ok === undefined ? 'refused' : `signed with ${ok}`);
      res.writeHead(ok === undefined ? 401 : 200, { 'content-type': 'application/json' });
      res.end(ok === undefined ? '{"error":"bad signature"}' : '{"items":[],"nextCursor":null}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accept: (secrets) => {
      accepted = secrets;
    },
    verdicts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const LIST_ORDERS = readEvent('events/request-validator/rest-list-orders-forwarded.json');

describe('RequestValidatorFunction reading UPSTREAM_SIGNING_SECRET_ARN', () => {
  let secrets: FakeSecretsManager;
  let backend: Awaited<ReturnType<typeof startVerifyingBackend>>;
  const running: ReturnType<typeof bundleEnvironment>[] = [];

  const validator = (env: Record<string, string> = {}) => {
    const fn = bundleEnvironment('RequestValidatorFunction', {
      UPSTREAM_URL: backend.url,
      UPSTREAM_SIGNING_SECRET_ARN: SIGNING_ARN,
      SECRETS_MANAGER_ENDPOINT: secrets.endpoint,
      POWERTOOLS_SERVICE_NAME: 'request-validator',
      ...env,
    });
    running.push(fn);
    return fn;
  };
  const status = async (fn: ReturnType<typeof bundleEnvironment>) => {
    const result = await fn.lambda.invoke(LIST_ORDERS);
    if (!result.ok) throw new Error(result.error.errorMessage);
    return (result.result as { statusCode: number; body: string }).statusCode;
  };

  beforeAll(async () => {
    secrets = await startFakeSecretsManager();
    backend = await startVerifyingBackend();
  });
  afterEach(async () => {
    for (const fn of running.splice(0)) await fn.lambda.close();
    secrets.mode('ok');
  });
  afterAll(async () => {
    await secrets.close();
    await backend.close();
  });

  it('signs with the secret it read once, through a SigV4-signed GetSecretValue, and logs no value', async () => {
    // Arrange
    secrets.put(SIGNING_ARN, SIGNING_1);
    backend.accept([SIGNING_1]);
    const before = secrets.reads(SIGNING_ARN);
    const fn = validator();

    // Act
    const statuses = [await status(fn), await status(fn), await status(fn)];

    // Assert
    expect(statuses).toEqual([200, 200, 200]);
    expect(backend.verdicts.slice(-3)).toEqual(Array(3).fill(`signed with ${SIGNING_1}`));
    expect(secrets.reads(SIGNING_ARN) - before).toBe(1);
    expect(secrets.authorizations.at(-1)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/us-east-1\/secretsmanager\/aws4_request/,
    );
    expect(fn.logs()).not.toContain(SIGNING_1);
  });

  it('signs with a rotated secret after the cache TTL, without a redeploy (dual-secret window at the backend)', async () => {
    // Arrange: the backend accepts old and new during the rotation window.
    secrets.put(SIGNING_ARN, SIGNING_1);
    backend.accept([SIGNING_1, SIGNING_2]);
    const fn = validator({ SECRET_CACHE_TTL_SECONDS: '1' });
    expect(await status(fn)).toBe(200);

    // Act
    secrets.put(SIGNING_ARN, SIGNING_2);
    await new Promise((r) => setTimeout(r, 1100));
    const after = await status(fn);

    // Assert
    expect(after).toBe(200);
    expect(backend.verdicts.at(-1)).toBe(`signed with ${SIGNING_2}`);
    expect(fn.logs()).not.toContain(SIGNING_2);
  });

  it('answers 503 signing_secret_unavailable while the secret cannot be read, forwarding nothing, then recovers', async () => {
    // Arrange
    secrets.put(SIGNING_ARN, SIGNING_1);
    backend.accept([SIGNING_1]);
    secrets.mode('internal');
    const fn = validator();
    const forwardedBefore = backend.verdicts.length;

    // Act
    const failed = await fn.lambda.invoke(LIST_ORDERS);
    secrets.mode('ok');
    const recovered = await status(fn);

    // Assert
    const body = (failed as { result: { statusCode: number; body: string } }).result;
    expect(body.statusCode).toBe(503);
    expect(JSON.parse(body.body)).toMatchObject({
      status: 503,
      type: 'https://gatehouse.dev/problems/signing_secret_unavailable',
    });
    expect(recovered).toBe(200);
    expect(backend.verdicts.length - forwardedBefore).toBe(1);
    expect(fn.logs()).toMatch(/"DependencyFailures":1/);
  });

  it('answers 503 within seconds when Secrets Manager hangs, instead of holding the request', async () => {
    // Arrange
    secrets.mode('hang');
    const fn = validator();
    const started = Date.now();

    // Act
    const result = await fn.lambda.invoke(LIST_ORDERS);

    // Assert: cold start (one attempt) plus the request (another), each bounded by the client's timeouts.
    expect((result as { result: { statusCode: number } }).result.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it.each([
    [
      { SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.us-east-1.amazonaws.com' },
      'SECRETS_MANAGER_ENDPOINT',
    ],
    [{ UPSTREAM_SIGNING_SECRET_ARN: 'not a secret id!' }, 'UPSTREAM_SIGNING_SECRET_ARN'],
    [{ UPSTREAM_SIGNING_SECRET_ARN: '' }, 'UPSTREAM_SIGNING_SECRET_ARN is required'],
  ])('fails the cold start naming the variable for %j', async (env, message) => {
    const fn = validator(env);

    const result = await fn.lambda.invoke(LIST_ORDERS);

    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error.errorMessage).toContain(message);
  });
});

describe('KeyAuthorizerFunction reading API_KEY_PEPPER_SECRET_ARN', () => {
  let dynamo: TestDynamo;
  let secrets: FakeSecretsManager;
  let authorizer: ReturnType<typeof bundleEnvironment>;

  const keyEvent = (key: string) => ({
    ...readEvent('events/key-authorizer/rest-apikey-allow.json'),
    headers: { 'x-api-key': key },
    multiValueHeaders: { 'x-api-key': [key] },
  });
  const mint = async (pepper: string) =>
    (
      await createKey(
        dynamo.store,
        {
          clientId: 'rotating',
          name: '',
          scopes: ['orders:read'],
          tier: 'basic',
          allowedCidrs: [],
          environment: 'live',
          expiresAt: undefined,
          pepper,
        },
        Date.now(),
      )
    ).secret;
  const allowed = async (key: string) => {
    const result = await authorizer.lambda.invoke(keyEvent(key));
    return result.ok ? 'allow' : result.error.errorMessage;
  };

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    secrets = await startFakeSecretsManager();
    secrets.put(PEPPER_ARN, PEPPER_1);
    authorizer = bundleEnvironment('KeyAuthorizerFunction', {
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      API_KEY_PEPPER_SECRET_ARN: PEPPER_ARN,
      SECRETS_MANAGER_ENDPOINT: secrets.endpoint,
      POWERTOOLS_SERVICE_NAME: 'key-authorizer',
    });
  });
  afterAll(async () => {
    await authorizer.lambda.close();
    await secrets.close();
    await dynamo.close();
  });

  it('verifies peppered keys with the pepper it read, and picks up a changed pepper on the first mismatch', async () => {
    // Arrange
    const first = await mint(PEPPER_1);
    expect(await allowed(first)).toBe('allow');
    const readsBefore = secrets.reads(PEPPER_ARN);

    // Act: the pepper changes (e.g. the one a migrated table was hashed with is put back).
    secrets.put(PEPPER_ARN, PEPPER_2);
    const second = await mint(PEPPER_2);
    const outcome = await allowed(second);

    // Assert
    expect(outcome).toBe('allow');
    expect(secrets.reads(PEPPER_ARN) - readsBefore).toBe(1);
    expect(authorizer.logs()).not.toContain(PEPPER_1);
    expect(authorizer.logs()).not.toContain(PEPPER_2);
  });

  it('re-reads the pepper at most once per interval however many wrong keys arrive', async () => {
    // Arrange: a known key id with wrong secrets (key_mismatch), many times.
    const issued = await createKey(
      dynamo.store,
      {
        clientId: 'probed',
        name: '',
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        environment: 'live',
        expiresAt: undefined,
        pepper: PEPPER_2,
      },
      Date.now(),
    );
    // Same key id, another secret, a valid checksum: refused as key_mismatch after the hash check.
    const wrong = mintApiKey('live', issued.record.keyId).key;
    const before = secrets.reads(PEPPER_ARN);

    // Act
    const outcomes = [];
    for (let i = 0; i < 20; i++) outcomes.push(await allowed(wrong));

    // Assert: every one refused; at most one read (the last one was moments ago).
    expect(new Set(outcomes)).toEqual(new Set(['Unauthorized']));
    expect(secrets.reads(PEPPER_ARN) - before).toBeLessThanOrEqual(1);
  });
});
