import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../shared/credentials/api-key.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { closedPortEndpoint, type Fault, startFaultyDynamo } from '../support/dynalite.ts';

// Generous for a loaded 2-core CI box; the configured budget below is 1 s per store call.
const ANSWER_BOUND_MS = 4000;

const event = (headers: Record<string, string>) => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/orders',
  resource: '/orders',
  path: '/orders',
  httpMethod: 'GET',
  headers,
  requestContext: { requestId: 'r-1', identity: { sourceIp: '203.0.113.10' } },
});
const keyEvent = () => event({ 'x-api-key': mintApiKey('live').key });
const basicEvent = () =>
  event({ Authorization: `Basic ${Buffer.from('dave:some-password-1').toString('base64')}` });

function authorizerAt(endpoint: string) {
  return bundleEnvironment('KeyAuthorizerFunction', {
    CREDENTIALS_TABLE: 'CredentialsTable',
    DYNAMODB_ENDPOINT: endpoint,
    DYNAMODB_TIMEOUT_MS: '300',
    DYNAMODB_BUDGET_MS: '1000',
    POWERTOOLS_SERVICE_NAME: 'key-authorizer',
  });
}

const REASONS: Record<Fault | 'down', string> = {
  down: 'store_unavailable',
  hang: 'store_timeout',
  throttle: 'store_throttled',
  denied: 'store_denied',
  internal: 'store_error',
};

describe.each<Fault | 'down'>(['down', 'hang', 'throttle', 'denied', 'internal'])(
  'KeyAuthorizerFunction when DynamoDB is %s',
  (fault) => {
    let server: Awaited<ReturnType<typeof startFaultyDynamo>> | undefined;
    let authorizer: ReturnType<typeof authorizerAt>;

    beforeAll(async () => {
      server = fault === 'down' ? undefined : await startFaultyDynamo(fault);
      authorizer = authorizerAt(server?.endpoint ?? (await closedPortEndpoint()));
      // Warm up (cold start) with a request refused before any store call.
      await authorizer.lambda.invoke(event({ 'x-api-key': 'junk' }));
    });
    afterAll(async () => {
      await authorizer.lambda.close();
      await server?.close();
    });

    it.each([
      ['an API key', keyEvent],
      ['a Basic credential', basicEvent],
    ])('fails with an error (500), not Allow and not 401, for %s, within the bound', async (_name, make) => {
      // Act
      const started = performance.now();
      const result = await authorizer.lambda.invoke(make());
      const elapsed = performance.now() - started;

      // Assert
      expect(result.ok).toBe(false);
      expect(result.ok ? undefined : result.error.errorType).toBe('AuthorizerFailureError');
      expect(elapsed).toBeLessThan(ANSWER_BOUND_MS);
      expect(authorizer.logs()).toContain('"reason":"dependency_failure"');
      expect(authorizer.logs()).toContain(`"reason":"${REASONS[fault]}"`);
    });

    it('retries at most once per call (bounded retries)', () => {
      // Two requests so far, each one GetItem with maxAttempts 2.
      if (server !== undefined) expect(server.requests()).toBeLessThanOrEqual(4);
    });
  },
);
