// The AWS SDK prints a 9-line notice about the Node.js version from every process that makes a
// client. On a supported Node.js, neither the CLIs nor the local Lambda environments print it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';

describe('no AWS SDK Node.js notice', () => {
  let dynamo: TestDynamo;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('from npm run keys (a process that makes a DynamoDB client)', async () => {
    // Act: asynchronous, since dynalite answers from this process's event loop.
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'tools/keys.ts', 'list', '--endpoint', dynamo.endpoint],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
    );

    // Assert
    expect(run.stdout).toContain('no keys');
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('from a local Lambda environment running the key authorizer bundle', async () => {
    // Arrange
    const fn = bundleEnvironment('KeyAuthorizerFunction', {
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      API_KEY_ENVIRONMENT: 'test',
      USAGE_KEY_REQUIRED: 'true',
      POWERTOOLS_SERVICE_NAME: 'key-authorizer',
    });

    // Act
    const result = await fn.lambda.invoke({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/orders',
      headers: { 'x-api-key': 'gatehouse_test_AAAAAAAAAAAA_wrongsecretwrongsecretwrongsecret00' },
      requestContext: { identity: { sourceIp: '203.0.113.10' } },
    });
    await fn.lambda.close();

    // Assert: the function ran (it answered), and said nothing about Node.js.
    expect(result.ok === true || result.error.errorMessage === 'Unauthorized').toBe(true);
    expect(fn.logs()).toContain('"service":"key-authorizer"');
    expect(fn.logs()).not.toContain('NodeVersionSupportWarning');
  });
});
