import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/env.ts';
import { readKeyAuthorizerConfig } from '../../../shared/credentials/config.ts';

describe('readKeyAuthorizerConfig', () => {
  it('reads the table and applies the documented defaults', () => {
    const config = readKeyAuthorizerConfig({
      CREDENTIALS_TABLE: 'CredentialsTable',
      AWS_REGION: 'eu-west-1',
    });
    expect(config).toMatchObject({
      tableName: 'CredentialsTable',
      region: 'eu-west-1',
      endpoint: undefined,
      keyEnvironment: 'live',
      pepper: undefined,
      usagePlanKeys: {},
      simpleResponses: true,
      cacheTtlMs: 30_000,
      negativeCacheTtlMs: 5_000,
      requestTimeoutMs: 800,
      budgetMs: 2000,
      maxAttempts: 2,
      lockout: { maxFailures: 5, windowMs: 900_000, lockMs: 900_000 },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty pepper as no pepper (the template default)', () => {
    expect(readKeyAuthorizerConfig({ CREDENTIALS_TABLE: 'T01', API_KEY_PEPPER: '' }).pepper).toBeUndefined();
  });

  it('reads the usage plan keys per tier', () => {
    const config = readKeyAuthorizerConfig({
      CREDENTIALS_TABLE: 'T01',
      USAGE_PLAN_KEYS: '{"basic":"basic-usage-key-0123456789","premium":"premium-usage-key-0123456789"}',
    });
    expect(config.usagePlanKeys).toEqual({
      basic: 'basic-usage-key-0123456789',
      premium: 'premium-usage-key-0123456789',
    });
  });

  it.each([
    [{}, 'CREDENTIALS_TABLE is required'],
    [{ CREDENTIALS_TABLE: 'T01', API_KEY_ENVIRONMENT: 'prod' }, 'API_KEY_ENVIRONMENT'],
    [{ CREDENTIALS_TABLE: 'T01', API_KEY_PEPPER: 'short' }, 'API_KEY_PEPPER'],
    [{ CREDENTIALS_TABLE: 'T01', USAGE_PLAN_KEYS: '[1]' }, 'USAGE_PLAN_KEYS'],
    [{ CREDENTIALS_TABLE: 'T01', USAGE_PLAN_KEYS: '{"basic":"short"}' }, 'USAGE_PLAN_KEYS'],
    [{ CREDENTIALS_TABLE: 'T01', DYNAMODB_ENDPOINT: 'https://dynamodb.example.com' }, 'DYNAMODB_ENDPOINT'],
    [{ CREDENTIALS_TABLE: 'T01', DYNAMODB_TIMEOUT_MS: 'soon' }, 'DYNAMODB_TIMEOUT_MS'],
    [{ CREDENTIALS_TABLE: 'T01', BASIC_MAX_FAILURES: '0' }, 'BASIC_MAX_FAILURES'],
  ])('throws a ConfigError naming the variable for %j', (env, name) => {
    expect(() => readKeyAuthorizerConfig(env)).toThrow(ConfigError);
    expect(() => readKeyAuthorizerConfig(env)).toThrow(name);
  });

  it('accepts a loopback DYNAMODB_ENDPOINT (local runs)', () => {
    expect(
      readKeyAuthorizerConfig({ CREDENTIALS_TABLE: 'T01', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })
        .endpoint,
    ).toBe('http://127.0.0.1:8000');
  });
});
