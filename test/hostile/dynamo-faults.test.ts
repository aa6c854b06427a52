// Fault injection for the key authorizer's one dependency, DynamoDB, through the REAL built bundle:
// unreachable, slow, throttling, denying, failing, answering 200 MB. Expected: never Allow, 503
// (AuthorizerFailure, nothing cached by API Gateway) within a bounded time, and nothing remembered
// as a Deny: once the table answers again, the same key is allowed on the very next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../shared/credentials/admin.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { closedPortUrl } from '../support/jwks-server.ts';
import { type BundleUnderTest, startBundle } from './support/bundle.ts';
import { type DynamoMode, type DynamoProxy, startDynamoProxy } from './support/dynamo-proxy.ts';
import { statusOfInvocation } from './support/jwt-harness.ts';

const PEPPER = 'hostile-suite-pepper-0123456789';
/** Budget for one store call (retries included); the bound allows for a loaded 2-core box. */
const BUDGET_MS = 800;
const ANSWER_BOUND_MS = 3000;
const STORE_ENV = {
  CREDENTIALS_TABLE: TABLE,
  API_KEY_PEPPER: PEPPER,
  API_KEY_ENVIRONMENT: 'live',
  HTTP_API_SIMPLE_RESPONSES: 'false',
  DYNAMODB_TIMEOUT_MS: '300',
  DYNAMODB_BUDGET_MS: String(BUDGET_MS),
  DYNAMODB_MAX_ATTEMPTS: '2',
};

const event = (key: string) => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/orders/ord_12345678',
  resource: '/orders/{id}',
  path: '/orders/ord_12345678',
  httpMethod: 'GET',
  headers: { 'x-api-key': key },
  multiValueHeaders: { 'x-api-key': [key] },
  requestContext: { requestId: 'fault-1', identity: { sourceIp: '203.0.113.10' } },
});

let dynamo: TestDynamo;
let proxy: DynamoProxy;
let bundle: BundleUnderTest;

async function freshKey(): Promise<string> {
  const made = await createKey(
    dynamo.store,
    {
      scopes: ['orders:read'],
      tier: 'basic',
      allowedCidrs: [],
      clientId: 'fault-client',
      name: 'fault',
      environment: 'live',
      expiresAt: undefined,
      pepper: PEPPER,
      usageKeys: dynamo.usageKeys,
    },
    Date.now(),
  );
  return made.secret;
}

async function timedStatus(key: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const result = await bundle.runtime.invoke(event(key));
  return { status: statusOfInvocation(result, event(key).methodArn), ms: performance.now() - started };
}

beforeAll(async () => {
  dynamo = await startTestDynamo();
  proxy = await startDynamoProxy(dynamo.endpoint);
  bundle = await startBundle('KeyAuthorizerFunction', { ...STORE_ENV, DYNAMODB_ENDPOINT: proxy.endpoint });
  await bundle.runtime.invoke(event(await freshKey())); // cold start outside the timed calls
}, 60_000);

afterAll(async () => {
  await bundle?.close();
  await proxy?.close();
  await dynamo?.close();
});

describe('DynamoDB faults (real built bundle, switchable proxy in front of dynalite)', () => {
  const MODES: readonly DynamoMode[] = ['reset', 'hang', 'throttle', 'denied', 'error-500', 'huge'];

  it.each(MODES)(
    '%s: 503 within the bound, then the same key is allowed once the table recovers',
    async (mode) => {
      const key = await freshKey();
      proxy.setMode(mode);

      const during = await timedStatus(key);
      proxy.setMode('ok');
      const after = await timedStatus(key);

      expect(during.status).toBe(503);
      expect(during.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(after.status).toBe(200);
    },
  );

  it('keeps answering a key it already knows from its cache while the table is down', async () => {
    const key = await freshKey();
    expect((await timedStatus(key)).status).toBe(200);
    proxy.setMode('hang');

    const during = await timedStatus(key);
    proxy.setMode('ok');

    expect(during.status).toBe(200);
  });

  it('cuts off a 200 MB answer within a budget long enough to read it whole, and remembers nothing from it', async () => {
    // Arrange: a budget (4 s) long enough to stream 200 MB over loopback and parse it: only the size
    // cap keeps the function from turning that answer into a cached `key_unknown`.
    const patient = await startBundle('KeyAuthorizerFunction', {
      ...STORE_ENV,
      DYNAMODB_ENDPOINT: proxy.endpoint,
      DYNAMODB_TIMEOUT_MS: '4000',
      DYNAMODB_BUDGET_MS: '4000',
    });
    const key = await freshKey();
    const status = async () =>
      statusOfInvocation(await patient.runtime.invoke(event(key)), event(key).methodArn);
    await patient.runtime.invoke(event('junk')); // cold start outside the timed call
    proxy.setMode('huge', 'GetItem');

    // Act
    const started = performance.now();
    const during = await status();
    const ms = performance.now() - started;
    proxy.setMode('ok');
    const after = await status();
    await patient.close();

    // Assert
    expect(during).toBe(503);
    expect(ms).toBeLessThan(1000);
    expect(after).toBe(200);
  });

  it('answers 503 within the bound when nothing listens at the DynamoDB endpoint', async () => {
    const closed = new URL(await closedPortUrl()).origin;
    const isolated = await startBundle('KeyAuthorizerFunction', { ...STORE_ENV, DYNAMODB_ENDPOINT: closed });
    const key = await freshKey();
    await isolated.runtime.invoke(event(key));

    const started = performance.now();
    const result = await isolated.runtime.invoke(event(key));
    const ms = performance.now() - started;
    await isolated.close();

    expect(statusOfInvocation(result, event(key).methodArn)).toBe(503);
    expect(ms).toBeLessThan(ANSWER_BOUND_MS);
  });
});
