// The local Lambda environment reports a failed cold start before any event (warm), and returns
// the invocation's log tail with its result (as Lambda's `LogType: Tail`).
import { describe, expect, it } from 'vitest';
import { bundleEnvironment } from '../support/bundles.ts';
import { readEvent } from '../support/events.ts';

describe('LambdaEnvironment', () => {
  it('warm() gives the init error of a function that refuses its configuration', async () => {
    // Arrange
    const fn = bundleEnvironment('JwtAuthorizerFunction', { JWT_ISSUERS: 'not json' });

    // Act
    const error = await fn.lambda.warm();
    await fn.lambda.close();

    // Assert
    expect(error?.errorType).toBe('Runtime.InitError');
    expect(error?.errorMessage).toMatch(/^ConfigError: .*JWT_ISSUERS is not valid JSON/);
  });

  it('warm() gives nothing for a function that starts, and its first invocation is then warm', async () => {
    // Arrange
    const fn = bundleEnvironment('RequestValidatorFunction', {
      UPSTREAM_URL: 'http://127.0.0.1:9',
      UPSTREAM_SIGNING_SECRET: 'a-local-signing-secret-of-32-chars-at-least',
      POWERTOOLS_SERVICE_NAME: 'request-validator',
    });

    // Act
    const error = await fn.lambda.warm();
    const result = await fn.lambda.invoke(
      readEvent('events/request-validator/rest-list-orders-bad-limit-400.json'),
    );
    await fn.lambda.close();

    // Assert
    expect(error).toBeUndefined();
    expect(result.coldStart).toBe(false);
    expect(result.ok).toBe(true);
    expect(result.logTail).toContain('"message":"decision"');
    expect(result.logTail).toContain('"reason":"parameter_invalid"');
  });
});
