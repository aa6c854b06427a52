import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/env.ts';
import { readJwtAuthorizerConfig } from '../../../shared/jwt/config.ts';

const issuer = (entry: Record<string, unknown>) =>
  JSON.stringify([{ issuer: 'https://idp.example.com', audience: 'orders', ...entry }]);

function problems(env: Record<string, string>): string[] {
  try {
    readJwtAuthorizerConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('readJwtAuthorizerConfig', () => {
  it('reads a minimal issuer with defaults', () => {
    const config = readJwtAuthorizerConfig({ JWT_ISSUERS: issuer({}) });
    expect(config.issuers).toEqual([
      {
        issuer: 'https://idp.example.com',
        audience: ['orders'],
        jwksUri: 'https://idp.example.com/.well-known/jwks.json',
        algorithms: ['RS256', 'ES256', 'EdDSA'],
      },
    ]);
    expect(config.clockSkewSeconds).toBe(30);
    expect(config.maxLifetimeSeconds).toBe(86400);
    expect(config.requiredTyp).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('accepts an explicit null audience, a list, algorithms and a loopback http JWKS', () => {
    const config = readJwtAuthorizerConfig({
      JWT_ISSUERS: JSON.stringify([
        { issuer: 'a', audience: null, jwksUri: 'http://127.0.0.1:9/jwks', algorithms: ['ES256'] },
        { issuer: 'b', audience: ['x', 'y'], jwksUri: 'http://localhost:9/jwks' },
      ]),
      JWT_REQUIRED_TYP: 'AT+JWT',
    });
    expect(config.issuers.map((i) => [i.audience, i.algorithms])).toEqual([
      [null, ['ES256']],
      [
        ['x', 'y'],
        ['RS256', 'ES256', 'EdDSA'],
      ],
    ]);
    expect(config.requiredTyp).toBe('at+jwt');
  });

  it('derives issuer and JWKS of a Cognito user pool', () => {
    const [entry] = readJwtAuthorizerConfig({
      JWT_ISSUERS: JSON.stringify([{ userPoolId: 'eu-west-1_AbC123', tokenUse: 'access', clientId: 'app1' }]),
    }).issuers;
    expect(entry).toEqual({
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
      audience: null,
      jwksUri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json',
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      cognito: { userPoolId: 'eu-west-1_AbC123', tokenUse: 'access', clientId: ['app1'] },
    });
  });

  it.each([
    [{}, 'JWT_ISSUERS is required'],
    [{ JWT_ISSUERS: 'nope' }, 'JWT_ISSUERS is not valid JSON'],
    [{ JWT_ISSUERS: '[]' }, 'JWT_ISSUERS must be a non-empty JSON array'],
    [{ JWT_ISSUERS: JSON.stringify([{ issuer: 'x' }]) }, 'JWT_ISSUERS [0].audience is required'],
    [{ JWT_ISSUERS: issuer({ audience: 7 }) }, 'JWT_ISSUERS [0].audience must be'],
    [
      { JWT_ISSUERS: issuer({ jwksUri: 'http://idp.example.com/jwks' }) },
      'JWT_ISSUERS [0].jwksUri must use https',
    ],
    [{ JWT_ISSUERS: issuer({ algorithms: ['HS256'] }) }, 'JWT_ISSUERS [0].algorithms must be'],
    [{ JWT_ISSUERS: issuer({ algorithms: ['none'] }) }, 'JWT_ISSUERS [0].algorithms must be'],
    [{ JWT_ISSUERS: issuer({ audiance: 'typo' }) }, 'unknown field "audiance"'],
    [{ JWT_ISSUERS: JSON.stringify([{ userPoolId: 'bad' }]) }, 'userPoolId must look like'],
    [{ JWT_ISSUERS: issuer({}), JWT_CLOCK_SKEW_SECONDS: 'ten' }, 'JWT_CLOCK_SKEW_SECONDS must be an integer'],
    [
      { JWT_ISSUERS: issuer({}), JWT_CLOCK_SKEW_SECONDS: '3600' },
      'JWT_CLOCK_SKEW_SECONDS must be between 0 and 300',
    ],
    [{ JWT_ISSUERS: issuer({}), JWT_MAX_LIFETIME_SECONDS: '-1' }, 'JWT_MAX_LIFETIME_SECONDS must be between'],
    [
      { JWT_ISSUERS: issuer({}), HTTP_API_SIMPLE_RESPONSES: 'yes' },
      'HTTP_API_SIMPLE_RESPONSES must be true or false',
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(problems(env as Record<string, string>).join('; ')).toContain(message);
  });

  it('reports every problem at once', () => {
    const found = problems({
      JWT_ISSUERS: issuer({ jwksUri: 'ftp://x' }),
      JWT_CLOCK_SKEW_SECONDS: 'x',
      JWT_MAX_LIFETIME_SECONDS: '1',
    });
    expect(found).toHaveLength(3);
  });
});
