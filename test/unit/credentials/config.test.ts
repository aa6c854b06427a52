import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/env.ts';
import { readKeyAuthorizerConfig } from '../../../shared/credentials/config.ts';
import { findFunction, templateEnvironment } from '../../../tools/template/functions.ts';
import { loadTemplate } from '../../../tools/template/template.ts';

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
      usageKeyRequired: false,
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

  it('reads USAGE_KEY_REQUIRED', () => {
    expect(
      readKeyAuthorizerConfig({ CREDENTIALS_TABLE: 'T01', USAGE_KEY_REQUIRED: 'true' }).usageKeyRequired,
    ).toBe(true);
  });

  it('refuses the per-tier USAGE_PLAN_KEYS, which would share one quota among the clients of a tier', () => {
    const env = { CREDENTIALS_TABLE: 'T01', USAGE_PLAN_KEYS: '{"basic":"basic-usage-key-0123456789"}' };
    expect(() => readKeyAuthorizerConfig(env)).toThrow(ConfigError);
    expect(() => readKeyAuthorizerConfig(env)).toThrow(/USAGE_PLAN_KEYS is no longer read/);
  });

  it.each([
    [{}, 'CREDENTIALS_TABLE is required'],
    [{ CREDENTIALS_TABLE: 'T01', API_KEY_ENVIRONMENT: 'prod' }, 'API_KEY_ENVIRONMENT'],
    [{ CREDENTIALS_TABLE: 'T01', API_KEY_PEPPER: 'short' }, 'API_KEY_PEPPER'],
    [{ CREDENTIALS_TABLE: 'T01', USAGE_KEY_REQUIRED: 'yes' }, 'USAGE_KEY_REQUIRED'],
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

  it('accepts the environment template.yaml gives KeyAuthorizerFunction, with its timeout known', () => {
    // Arrange: what Lambda (and a local emulator) would set.
    const fn = findFunction(loadTemplate('template.yaml'), 'KeyAuthorizerFunction');
    const env = {
      ...templateEnvironment('KeyAuthorizerFunction'),
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
    };

    // Act
    const config = readKeyAuthorizerConfig(env);

    // Assert
    expect(config.budgetMs).toBeLessThan(fn.timeoutSeconds * 1000);
    expect(config.cacheTtlMs).toBeLessThanOrEqual(30_000);
    expect(config.negativeCacheTtlMs).toBeLessThanOrEqual(config.cacheTtlMs);
    // OrdersKeyApi requires API keys: a credential without its own usage key is refused by name.
    expect(config.usageKeyRequired).toBe(true);
  });

  it.each([
    [{ DYNAMODB_BUDGET_MS: '5000' }, 'DYNAMODB_BUDGET_MS'],
    [{ DYNAMODB_BUDGET_MS: '20000' }, 'DYNAMODB_BUDGET_MS'],
    [{ DYNAMODB_TIMEOUT_MS: '6000' }, 'DYNAMODB_TIMEOUT_MS'],
  ])('refuses %j when the function times out after 5 s', (env, name) => {
    const read = () =>
      readKeyAuthorizerConfig({ CREDENTIALS_TABLE: 'T01', AWS_LAMBDA_FUNCTION_TIMEOUT: '5', ...env });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`${name} must be below the function timeout (5000 ms`);
  });

  it.each([
    ['30', undefined, 30_000, 5_000],
    ['2', undefined, 2_000, 2_000],
    ['0', undefined, 0, 0],
    ['60', '60', 60_000, 60_000],
  ])(
    'with CREDENTIAL_CACHE_TTL_SECONDS=%s and a negative TTL of %s remembers state %i ms, unknown ids %i ms',
    (ttl, negative, ttlMs, negativeMs) => {
      const config = readKeyAuthorizerConfig({
        CREDENTIALS_TABLE: 'T01',
        CREDENTIAL_CACHE_TTL_SECONDS: ttl,
        ...(negative === undefined ? {} : { CREDENTIAL_NEGATIVE_CACHE_TTL_SECONDS: negative }),
      });
      expect([config.cacheTtlMs, config.negativeCacheTtlMs]).toEqual([ttlMs, negativeMs]);
    },
  );

  it('refuses a negative TTL longer than the credential TTL, which bounds all credential state', () => {
    const read = () =>
      readKeyAuthorizerConfig({
        CREDENTIALS_TABLE: 'T01',
        CREDENTIAL_CACHE_TTL_SECONDS: '3',
        CREDENTIAL_NEGATIVE_CACHE_TTL_SECONDS: '5',
      });
    expect(read).toThrow(
      'CREDENTIAL_NEGATIVE_CACHE_TTL_SECONDS must not exceed CREDENTIAL_CACHE_TTL_SECONDS',
    );
  });
});
