// The functions' AWS client against a loopback server speaking the JSON protocol: what is sent and
// signed, connections kept alive, AWS's error types mapped, which failures are retried and how
// often, and that no call outlives its budget or reads an answer past the size cap.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsCallError,
  type AwsJsonClientOptions,
  awsJsonClient,
  DYNAMODB,
  regionalEndpoint,
  SECRETS_MANAGER,
} from '../../../shared/aws/json-call.ts';
import { signV4 } from '../../../shared/aws/sigv4.ts';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', sessionToken: 'the-session' };

/** What the next requests get: one handler per request, the last one repeated. */
let handlers: ((req: IncomingMessage, res: ServerResponse, body: string) => void)[] = [];
const received: { headers: IncomingMessage['headers']; body: string; socket: Socket }[] = [];
let connections = 0;
let server: Server;
let endpoint: string;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res
      .writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers })
      .end(JSON.stringify(body));
  };
const error = (status: number, type: string) => json(status, { __type: type, message: 'details' });
const hang = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body, socket: req.socket });
      const handler = handlers.length > 1 ? handlers.shift() : handlers[0];
      handler?.(req, res, body);
    });
  });
  server.on('connection', () => {
    connections++;
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
  handlers = [];
  connections = 0;
  server.closeAllConnections();
});

function client(overrides: Partial<AwsJsonClientOptions> = {}) {
  return awsJsonClient({
    service: DYNAMODB,
    region: 'eu-west-1',
    endpoint,
    credentials: CREDENTIALS,
    connectTimeoutMs: 500,
    requestTimeoutMs: 1000,
    maxAttempts: 2,
    maxResponseBytes: 64 * 1024,
    keepAlive: true,
    // No pause before a retry unless a test asks for one.
    random: () => 0,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<AwsCallError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(AwsCallError);
  return outcome as AwsCallError;
}

describe('awsJsonClient: the request', () => {
  it('POSTs the JSON input to / with the target and content type, signed with SigV4 over what it sends', async () => {
    // Arrange
    handlers = [json(200, { Item: { pk: { S: 'key#a' } } })];
    const dynamo = client();

    // Act
    const answer = await dynamo.call(
      'GetItem',
      { TableName: 'T', Key: { pk: { S: 'key#a' } } },
      { budgetMs: 2000 },
    );
    dynamo.close();

    // Assert: the answer, and a signature the server can recompute from the request it received.
    expect(answer).toEqual({ Item: { pk: { S: 'key#a' } } });
    const { headers, body } = received[0] as (typeof received)[number];
    expect(JSON.parse(body)).toEqual({ TableName: 'T', Key: { pk: { S: 'key#a' } } });
    expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers['x-amz-security-token']).toBe('the-session');
    const date = String(headers['x-amz-date']);
    const expected = signV4(
      {
        method: 'POST',
        path: '/',
        headers: {
          host: String(headers.host),
          'content-type': String(headers['content-type']),
          'x-amz-target': String(headers['x-amz-target']),
        },
        body,
      },
      {
        service: 'dynamodb',
        region: 'eu-west-1',
        credentials: CREDENTIALS,
        date: new Date(
          `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13)}`,
        ),
      },
    );
    expect(headers.authorization).toBe(expected.headers.authorization);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
  });

  it('speaks JSON 1.1 to Secrets Manager', async () => {
    handlers = [json(200, { SecretString: 'v' })];
    const secrets = client({ service: SECRETS_MANAGER });
    await secrets.call('GetSecretValue', { SecretId: 's' }, { budgetMs: 2000 });
    secrets.close();
    expect(received[0]?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(received[0]?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(received[0]?.headers.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
  });

  it('keeps the connection open between calls with keepAlive, and opens one per call without', async () => {
    // Arrange
    handlers = [json(200, {})];
    const kept = client({ keepAlive: true });
    const single = client({ keepAlive: false });

    // Act
    for (let n = 0; n < 3; n++) await kept.call('GetItem', {}, { budgetMs: 2000 });
    const keptConnections = connections;
    for (let n = 0; n < 3; n++) await single.call('GetItem', {}, { budgetMs: 2000 });
    kept.close();
    single.close();

    // Assert
    expect(keptConnections).toBe(1);
    expect(connections - keptConnections).toBe(3);
  });

  it.each([
    ['eu-west-1', DYNAMODB, 'https://dynamodb.eu-west-1.amazonaws.com'],
    ['us-gov-west-1', SECRETS_MANAGER, 'https://secretsmanager.us-gov-west-1.amazonaws.com'],
    ['cn-north-1', DYNAMODB, 'https://dynamodb.cn-north-1.amazonaws.com.cn'],
  ])('names the endpoint in %s', (region, service, expected) => {
    expect(regionalEndpoint(service, region)).toBe(expected);
  });
});

describe('awsJsonClient: AWS errors', () => {
  it.each([
    [400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException', 'throttled', true],
    [400, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 'throttled', true],
    [400, 'RequestLimitExceeded', 'throttled', true],
    [429, 'TooManyRequests', 'throttled', true],
    [400, 'com.amazon.coral.service#AccessDeniedException', 'access_denied', false],
    [400, 'com.amazon.coral.service#UnrecognizedClientException', 'access_denied', false],
    [403, 'InvalidSignatureException', 'access_denied', false],
    [400, 'com.amazon.coral.service#ExpiredTokenException', 'access_denied', false],
    [400, 'DecryptionFailure', 'access_denied', false],
    [400, 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'not_found', false],
    [
      400,
      'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
      'conditional_check_failed',
      false,
    ],
    [400, 'com.amazon.coral.validate#ValidationException', 'validation', false],
    [400, 'SerializationException', 'validation', false],
    [500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', 'server_error', true],
    [503, 'ServiceUnavailable', 'server_error', true],
    [501, 'NotImplemented', 'server_error', false],
    [400, 'com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException', 'error', false],
  ] as const)('HTTP %i %s is %s (retried: %s)', async (status, type, code, retried) => {
    // Arrange
    handlers = [error(status, type)];
    const dynamo = client();

    // Act
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 5000 }));
    dynamo.close();

    // Assert
    expect(err).toMatchObject({ code, type: type.split('#').pop(), status, retryable: retried });
    expect(received).toHaveLength(retried ? 2 : 1);
    expect(err.message).not.toContain('details');
  });

  it('reads the type from x-amzn-errortype when the body has none (without the URL it may carry)', async () => {
    handlers = [
      json(
        400,
        {},
        {
          'x-amzn-errortype':
            'ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/',
        },
      ),
    ];
    const dynamo = client();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 2000 }));
    dynamo.close();
    expect(err).toMatchObject({ code: 'validation', type: 'ValidationException' });
  });

  it('refuses a 200 answer that is not a JSON object', async () => {
    handlers = [(_req, res) => res.writeHead(200).end('<html>proxy</html>')];
    const dynamo = client();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 2000 }));
    dynamo.close();
    expect(err).toMatchObject({ code: 'error', retryable: false });
  });
});

describe('awsJsonClient: retries', () => {
  it('answers the retry of a server error', async () => {
    handlers = [error(500, 'InternalServerError'), json(200, { ok: 1 })];
    const dynamo = client();
    const answer = await dynamo.call('GetItem', {}, { budgetMs: 2000 });
    dynamo.close();
    expect(answer).toEqual({ ok: 1 });
    expect(received).toHaveLength(2);
  });

  it('makes at most maxAttempts attempts', async () => {
    handlers = [error(400, 'ThrottlingException')];
    const dynamo = client({ maxAttempts: 4 });
    await failure(dynamo.call('GetItem', {}, { budgetMs: 5000 }));
    dynamo.close();
    expect(received).toHaveLength(4);
  });

  it('retries a connection the server reset, on a new connection', async () => {
    // Arrange: the first request's socket is destroyed without an answer.
    handlers = [(req) => req.socket.destroy(), json(200, { ok: 1 })];
    const dynamo = client();

    // Act
    const answer = await dynamo.call('GetItem', {}, { budgetMs: 2000 });
    dynamo.close();

    // Assert
    expect(answer).toEqual({ ok: 1 });
    expect(received).toHaveLength(2);
    expect(received[0]?.socket).not.toBe(received[1]?.socket);
  });

  it('does not start a retry whose pause would not leave time for it within the budget', async () => {
    // Arrange: throttled; the pause before a retry is up to 1 s (full jitter), here its longest.
    handlers = [error(400, 'ThrottlingException')];
    const dynamo = client({ random: () => 0.999 });

    // Act
    const started = performance.now();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 400 }));
    const ms = performance.now() - started;
    dynamo.close();

    // Assert: failed at once with the throttling, not after sleeping past the budget.
    expect(err.code).toBe('throttled');
    expect(received).toHaveLength(1);
    expect(ms).toBeLessThan(300);
  });

  it('pauses before a retry with full jitter: a random share of base × 2^(attempt-1)', async () => {
    // Arrange: half of the throttling base (1 s) = 500 ms before the second attempt.
    handlers = [error(400, 'ThrottlingException'), json(200, {})];
    const dynamo = client({ random: () => 0.5 });

    // Act
    const started = performance.now();
    await dynamo.call('GetItem', {}, { budgetMs: 3000 });
    const ms = performance.now() - started;
    dynamo.close();

    // Assert
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(received).toHaveLength(2);
  });
});

describe('awsJsonClient: bounds', () => {
  it('ends an attempt that gets no answer at the request timeout, retries once, then fails', async () => {
    handlers = [hang];
    const dynamo = client({ requestTimeoutMs: 150 });
    const started = performance.now();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 5000 }));
    const ms = performance.now() - started;
    dynamo.close();
    expect(err).toMatchObject({ code: 'timeout', type: 'RequestTimeout' });
    expect(received).toHaveLength(2);
    expect(ms).toBeLessThan(2000);
  });

  it('gives up at the budget when the server never answers, whatever the request timeout', async () => {
    handlers = [hang];
    const dynamo = client({ requestTimeoutMs: 10_000 });
    const started = performance.now();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 200 }));
    const ms = performance.now() - started;
    dynamo.close();
    expect(err).toMatchObject({ code: 'timeout', type: 'TimeoutError', retryable: false });
    expect(ms).toBeLessThan(1500);
    expect(received).toHaveLength(1);
  });

  it('does not reuse a connection whose request timed out', async () => {
    handlers = [hang, json(200, { ok: 1 })];
    const dynamo = client({ maxAttempts: 1 });
    await failure(dynamo.call('GetItem', {}, { budgetMs: 200 }));
    const answer = await dynamo.call('GetItem', {}, { budgetMs: 2000 });
    dynamo.close();
    expect(answer).toEqual({ ok: 1 });
    expect(received[0]?.socket).not.toBe(received[1]?.socket);
  });

  it('stops when its caller gives up (the signal)', async () => {
    handlers = [hang];
    const dynamo = client({ requestTimeoutMs: 10_000 });
    const err = await failure(
      dynamo.call('GetItem', {}, { budgetMs: 10_000, signal: AbortSignal.timeout(100) }),
    );
    dynamo.close();
    expect(err).toMatchObject({ code: 'timeout', type: 'AbortError' });
  });

  it('starts nothing without a budget', async () => {
    const dynamo = client();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 0 }));
    dynamo.close();
    expect(err.code).toBe('timeout');
    expect(received).toEqual([]);
  });

  it('refuses an answer declared larger than the cap without reading it', async () => {
    handlers = [json(200, { pad: 'x'.repeat(70 * 1024) })];
    const dynamo = client();
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 2000 }));
    dynamo.close();
    expect(err).toMatchObject({ code: 'response_too_large', retryable: false });
    expect(received).toHaveLength(1);
  });

  it('cuts off a streamed answer at the cap, closing the connection, and retries nothing', async () => {
    // Arrange: chunked, no length declared, 16 MB unless the client hangs up.
    let sent = 0;
    handlers = [
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.write('{"Item":{"pk":{"S":"');
        const chunk = Buffer.alloc(16 * 1024, 'A');
        const pump = () => {
          while (sent < 16 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end('"}}}');
        };
        pump();
      },
    ];
    const dynamo = client();

    // Act
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 5000 }));
    dynamo.close();

    // Assert
    expect(err.code).toBe('response_too_large');
    expect(received).toHaveLength(1);
    expect(sent).toBeLessThan(4 * 1024 * 1024);
  });

  it('reports a refused connection as unavailable (ECONNREFUSED), after its retry', async () => {
    // Arrange: a port nothing listens on.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const dynamo = client({ endpoint: `http://127.0.0.1:${port}` });

    // Act
    const err = await failure(dynamo.call('GetItem', {}, { budgetMs: 2000 }));
    dynamo.close();

    // Assert
    expect(err).toMatchObject({ code: 'unavailable', type: 'ECONNREFUSED', retryable: true });
  });
});
