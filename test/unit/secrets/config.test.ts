import { describe, expect, it } from 'vitest';
import { type Env, EnvReader } from '../../../shared/config/env.ts';
import { readSecretSetting, readSecretsManagerSettings } from '../../../shared/secrets/config.ts';

const NAMES = { plain: 'API_KEY_PEPPER', arn: 'API_KEY_PEPPER_SECRET_ARN' };
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ApiKeyPepperSecret-AbCdEf';

function read(env: Env) {
  const r = new EnvReader(env);
  const setting = readSecretSetting(r, env, NAMES, 16);
  const settings = readSecretsManagerSettings(r);
  return { setting, settings, done: () => r.done() };
}

describe('readSecretSetting', () => {
  it.each([
    [{ API_KEY_PEPPER_SECRET_ARN: ARN }, { source: 'secrets-manager', secretId: ARN }],
    [
      { API_KEY_PEPPER_SECRET_ARN: 'gatehouse/pepper' },
      { source: 'secrets-manager', secretId: 'gatehouse/pepper' },
    ],
    [{ API_KEY_PEPPER: 'local-pepper-0123456789' }, { source: 'plain', value: 'local-pepper-0123456789' }],
    // A local value wins: template.yaml never gives it a value, so only local runs and tests do.
    [
      { API_KEY_PEPPER: 'local-pepper-0123456789', API_KEY_PEPPER_SECRET_ARN: ARN },
      { source: 'plain', value: 'local-pepper-0123456789' },
    ],
    // Present but empty: no pepper, on purpose (the Secrets Manager setting is not consulted).
    [{ API_KEY_PEPPER: '', API_KEY_PEPPER_SECRET_ARN: ARN }, undefined],
    [{}, undefined],
  ])('reads %j as %j', (env, expected) => {
    const { setting, done } = read(env);

    done();
    expect(setting).toEqual(expected);
  });

  it('with emptyIsUnset, reads an empty plain variable as absent: the ARN is used', () => {
    // Arrange: the template declares the plain variable empty, so that the SAM CLI may set it.
    const env = { API_KEY_PEPPER: '', API_KEY_PEPPER_SECRET_ARN: ARN };
    const r = new EnvReader(env);

    // Act
    const setting = readSecretSetting(r, env, NAMES, 16, { emptyIsUnset: true });

    // Assert
    r.done();
    expect(setting).toEqual({ source: 'secrets-manager', secretId: ARN });
  });

  it.each([
    [{ API_KEY_PEPPER: 'short' }, 'API_KEY_PEPPER must be at least 16 characters'],
    [{ API_KEY_PEPPER: '{{resolve:secretsmanager:x}}' }, 'API_KEY_PEPPER is an unresolved dynamic reference'],
    [
      { API_KEY_PEPPER_SECRET_ARN: 'arn:aws:s3:::bucket/x y' },
      'API_KEY_PEPPER_SECRET_ARN must be a Secrets Manager',
    ],
    [
      { SECRETS_MANAGER_ENDPOINT: 'https://secretsmanager.eu-west-1.amazonaws.com' },
      'SECRETS_MANAGER_ENDPOINT must be',
    ],
    [{ SECRET_CACHE_TTL_SECONDS: '0' }, 'SECRET_CACHE_TTL_SECONDS must be between 1 and 3600'],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => read(env).done()).toThrow(message);
  });
});

describe('readSecretsManagerSettings', () => {
  it('applies the documented defaults', () => {
    expect(read({ AWS_REGION: 'eu-west-1' }).settings).toEqual({
      region: 'eu-west-1',
      endpoint: undefined,
      ttlMs: 300_000,
      missIntervalMs: 60_000,
      retryMs: 10_000,
      connectTimeoutMs: 500,
      requestTimeoutMs: 1000,
      maxAttempts: 2,
      budgetMs: 2000,
    });
  });

  it('accepts a loopback endpoint and never re-reads after a miss more often than the TTL', () => {
    const { settings } = read({
      SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:4566',
      SECRET_CACHE_TTL_SECONDS: '5',
    });

    expect(settings).toMatchObject({ endpoint: 'http://127.0.0.1:4566', ttlMs: 5000, missIntervalMs: 5000 });
  });
});
