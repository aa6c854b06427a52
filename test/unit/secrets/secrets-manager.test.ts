// GetSecretValue as the functions send it, against a loopback server speaking Secrets Manager's
// JSON protocol: what is sent and signed, which failures are tried once more, and that a read
// never outlives its budget. (The client itself: test/unit/aws/json-call.test.ts.)
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsCallError } from '../../../shared/aws/json-call.ts';
import type { SecretsManagerSettings } from '../../../shared/secrets/config.ts';
import { SecretUnavailableError } from '../../../shared/secrets/secret-value.ts';
import { secretsManagerReader } from '../../../shared/secrets/secrets-manager.ts';

const CREDENTIALS = {
  accessKeyId: 'AKIDLOCALTEST',
  secretAccessKey: 'local-secret',
  sessionToken: 'session',
};

/** What the next requests get: one answer per request, the last one repeated. */
let answers: ((res: ServerResponse) => void)[] = [];
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let server: Server;
let endpoint: string;

const json = (status: number, body: unknown) => (res: ServerResponse) =>
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      answer?.(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  answers = [];
});

function settings(overrides: Partial<SecretsManagerSettings> = {}): SecretsManagerSettings {
  return {
    region: 'eu-west-1',
    endpoint,
    ttlMs: 300_000,
    missIntervalMs: 60_000,
    retryMs: 10_000,
    connectTimeoutMs: 500,
    requestTimeoutMs: 1000,
    maxAttempts: 2,
    budgetMs: 2000,
    ...overrides,
  };
}

const reader = (overrides: Partial<SecretsManagerSettings> = {}) =>
  secretsManagerReader(settings(overrides), CREDENTIALS);

describe('secretsManagerReader', () => {
  it('sends one SigV4-signed GetSecretValue and answers the SecretString', async () => {
    // Arrange
    answers = [
      json(200, { ARN: 'arn', Name: 'pepper', SecretString: 'the-value', VersionStages: ['AWSCURRENT'] }),
    ];

    // Act
    const value = await reader().read('gatehouse/pepper');

    // Assert
    expect(value).toBe('the-value');
    expect(received).toHaveLength(1);
    const { headers, body } = received[0] as (typeof received)[number];
    expect(JSON.parse(body)).toEqual({ SecretId: 'gatehouse/pepper' });
    expect(headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(headers['x-amz-security-token']).toBe('session');
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('tries a server error once more, and answers the second reply', async () => {
    // Arrange
    answers = [json(500, { __type: 'InternalServiceError' }), json(200, { SecretString: 'after-retry' })];

    // Act
    const value = await reader().read('s');

    // Assert
    expect(value).toBe('after-retry');
    expect(received).toHaveLength(2);
  });

  it.each([
    ['access_denied', 400, { __type: 'AccessDeniedException' }, 1],
    ['not_found', 400, { __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException' }, 1],
    ['access_denied', 400, { __type: 'DecryptionFailure' }, 1],
    ['throttled', 400, { __type: 'ThrottlingException' }, 2],
  ])('fails with %s (HTTP %i) after %i request(s)', async (code, status, body, requests) => {
    // Arrange
    answers = [json(status, body)];

    // Act
    const read = reader().read('s');

    // Assert
    await expect(read).rejects.toThrow(AwsCallError);
    await expect(read).rejects.toMatchObject({ code });
    expect(received).toHaveLength(requests as number);
  });

  it('refuses a secret without a string value (binary), after one request', async () => {
    // Arrange
    answers = [json(200, { SecretBinary: 'AAEC' })];

    // Act
    const read = reader().read('s');

    // Assert
    await expect(read).rejects.toThrow(SecretUnavailableError);
    await expect(read).rejects.toThrow(/no string value/);
    expect(received).toHaveLength(1);
  });

  it('gives up at its budget when the server never answers', async () => {
    // Arrange: accepted, never answered; each attempt's request timeout is longer than the budget.
    answers = [() => undefined];
    const started = Date.now();

    // Act
    const read = reader({ budgetMs: 300, requestTimeoutMs: 10_000 }).read('s');

    // Assert
    await expect(read).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses an answer larger than a secret can be', async () => {
    // Arrange
    answers = [json(200, { SecretString: 'x'.repeat(300 * 1024) })];

    // Act / Assert
    await expect(reader().read('s')).rejects.toMatchObject({ code: 'response_too_large' });
  });
});
