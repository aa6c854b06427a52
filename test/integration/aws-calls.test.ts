// How the functions call AWS (docs/deploy.md#how-the-functions-call-aws), through the real bundles:
// no AWS SDK client nor its runtime in any of them; every DynamoDB request signed with the
// execution role's credentials from the environment; a key lookup that misses the cache is one
// GetItem and nothing else; a function that calls AWS itself without credentials fails its cold
// start naming the variables.
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signV4 } from '../../shared/aws/sigv4.ts';
import { createKey } from '../../shared/credentials/admin.ts';
import { mintApiKey } from '../../shared/credentials/api-key.ts';
import { esbuildOptions } from '../../tools/build.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { templateFunctions } from '../../tools/template/functions.ts';
import { loadTemplate } from '../../tools/template/template.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';

const PEPPER = 'aws-calls-pepper-0123456789';
const ROLE = {
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEROLE',
  AWS_SECRET_ACCESS_KEY: 'role-secret',
  AWS_SESSION_TOKEN: 'role-session',
};

/** A DynamoDB in front of dynalite that records every request's operation and headers. */
async function startRecordingDynamo(target: string): Promise<{
  endpoint: string;
  seen: { operation: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}> {
  const seen: { operation: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target_ = String(req.headers['x-amz-target'] ?? '');
      seen.push({
        operation: target_.slice(target_.indexOf('.') + 1),
        headers: req.headers,
        body: body.toString(),
      });
      const upstream = request(`${target}/`, { method: 'POST', headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const keyEvent = (key: string) => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/orders/ord_1',
  resource: '/orders/{id}',
  path: '/orders/ord_1',
  httpMethod: 'GET',
  headers: { 'x-api-key': key },
  requestContext: { requestId: 'aws-calls', identity: { sourceIp: '203.0.113.10' } },
});

describe('no function bundle contains the AWS SDK', () => {
  const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  it.each(templateFunctions(template).map((f) => [f.logicalId, f] as const))(
    '%s: no @aws-sdk/* nor @smithy/* module in its bundle',
    async (_id, fn) => {
      // Act: the function's own build options, as `npm run build` and `sam build` use them.
      const result = await build({
        ...esbuildOptions(fn, PROJECT_ROOT, join(PROJECT_ROOT, '.gatehouse', 'aws-calls-test')),
        write: false,
      });

      // Assert
      const inputs = Object.keys(result.metafile?.inputs ?? {});
      expect(inputs.length).toBeGreaterThan(10);
      expect(inputs.filter((i) => /node_modules\/@(aws-sdk|smithy)\//.test(i))).toEqual([]);
    },
  );
});

describe('KeyAuthorizerFunction calling DynamoDB', () => {
  let dynamo: TestDynamo;
  let recorder: Awaited<ReturnType<typeof startRecordingDynamo>>;
  let fn: ReturnType<typeof bundleEnvironment>;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    recorder = await startRecordingDynamo(dynamo.endpoint);
    fn = bundleEnvironment('KeyAuthorizerFunction', {
      ...ROLE,
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: recorder.endpoint,
      API_KEY_PEPPER: PEPPER,
      POWERTOOLS_SERVICE_NAME: 'key-authorizer',
    });
  });
  afterAll(async () => {
    await fn?.lambda.close();
    await recorder?.close();
    await dynamo?.close();
  });

  it('reads a key it has not cached with exactly one GetItem, signed with the execution role credentials', async () => {
    // Arrange
    const made = await createKey(
      dynamo.store,
      {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        clientId: 'aws-calls',
        name: 'aws-calls',
        environment: 'live',
        expiresAt: undefined,
        pepper: PEPPER,
      },
      Date.now(),
    );
    recorder.seen.length = 0;

    // Act
    const result = await fn.lambda.invoke(keyEvent(made.secret));

    // Assert: allowed, after one GetItem of that key and nothing else.
    expect(result.ok && JSON.stringify(result.result)).toContain('"Effect":"Allow"');
    expect(recorder.seen.map((r) => r.operation)).toEqual(['GetItem']);
    const { headers, body } = recorder.seen[0] as (typeof recorder.seen)[number];
    expect(JSON.parse(body)).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: `key#${made.record.keyId}` } },
    });
    expect(headers['x-amz-security-token']).toBe(ROLE.AWS_SESSION_TOKEN);
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
        region: 'us-east-1',
        credentials: {
          accessKeyId: ROLE.AWS_ACCESS_KEY_ID,
          secretAccessKey: ROLE.AWS_SECRET_ACCESS_KEY,
          sessionToken: ROLE.AWS_SESSION_TOKEN,
        },
        date: new Date(
          `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13)}`,
        ),
      },
    );
    expect(headers.authorization).toBe(expected.headers.authorization);
  });
});

describe('a function that calls AWS itself, without credentials', () => {
  const NO_CREDENTIALS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };

  it.each([
    ['KeyAuthorizerFunction', { CREDENTIALS_TABLE: TABLE, API_KEY_PEPPER: PEPPER }],
    [
      'KeyAuthorizerFunction',
      {
        CREDENTIALS_TABLE: TABLE,
        DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
        API_KEY_PEPPER_SECRET_ARN:
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:ApiKeyPepperSecret-AbCdEf',
      },
    ],
    [
      'RequestValidatorFunction',
      {
        UPSTREAM_URL: 'https://backend.example.com',
        UPSTREAM_SIGNING_SECRET_ARN:
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:UpstreamSigningSecret-AbCdEf',
      },
    ],
  ])('%s fails its cold start naming AWS_ACCESS_KEY_ID (%j)', async (logicalId, env) => {
    // Arrange
    const broken = bundleEnvironment(logicalId, { ...NO_CREDENTIALS, ...env });

    // Act
    const result = await broken.lambda.invoke({});
    await broken.lambda.close();

    // Assert
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.errorType).toBe('Runtime.InitError');
    expect(!result.ok && result.error.errorMessage).toMatch(
      /ConfigError: .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required/,
    );
  });

  it('starts with every endpoint a local one, signing with placeholder credentials', async () => {
    // Arrange
    const dynamo = await startTestDynamo();
    const fn = bundleEnvironment('KeyAuthorizerFunction', {
      ...NO_CREDENTIALS,
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      API_KEY_PEPPER: PEPPER,
    });

    // Act: a well-formed key that is not in the table, so the function reads the table.
    const result = await fn.lambda.invoke(keyEvent(mintApiKey('live').key));
    await fn.lambda.close();
    await dynamo.close();

    // Assert: 401 (key_unknown), the table's answer: not an init error, not a failed read (503).
    expect(!result.ok && result.error.errorMessage).toBe('Unauthorized');
    expect(fn.logs()).toContain('"reason":"key_unknown"');
  });
});
