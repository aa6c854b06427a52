import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/env.ts';
import { PUBLISHED_DEVELOPMENT_KEY_ID, readJwtAuthorizerConfig } from '../../../shared/jwt/config.ts';
import { testKey } from '../../support/keys.ts';

const issuer = (entry: Record<string, unknown>) =>
  JSON.stringify([{ issuer: 'https://idp.example.com', audience: 'orders', ...entry }]);

const rsa = testKey('RS256', 'seeded-rsa');
const weak = testKey('RS256-1024', 'seeded-weak');

function problems(env: Record<string, string>, bundled: Record<string, unknown> = {}): string[] {
  try {
    readJwtAuthorizerConfig(env, bundled);
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
        dpop: 'off',
      },
    ]);
    expect(config.refusedKeyIds).toEqual([PUBLISHED_DEVELOPMENT_KEY_ID]);
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
      dpop: 'off',
      cognito: { userPoolId: 'eu-west-1_AbC123', tokenUse: 'access', clientId: ['app1'] },
    });
  });

  it("takes a Cognito pool's jwksUri and an emulator's issuer, and keeps the Cognito checks", () => {
    const [moto, local] = readJwtAuthorizerConfig({
      JWT_ISSUERS: JSON.stringify([
        {
          userPoolId: 'us-east-1_Moto123',
          tokenUse: 'access',
          clientId: 'app1',
          jwksUri: 'http://127.0.0.1:5000/us-east-1_Moto123/.well-known/jwks.json',
        },
        {
          userPoolId: 'local_AbC123',
          issuer: 'http://localhost:9229/local_AbC123',
          tokenUse: 'id',
          clientId: null,
        },
      ]),
    }).issuers;
    expect(moto).toMatchObject({
      issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Moto123',
      jwksUri: 'http://127.0.0.1:5000/us-east-1_Moto123/.well-known/jwks.json',
      cognito: { tokenUse: 'access', clientId: ['app1'] },
    });
    expect(local).toMatchObject({
      issuer: 'http://localhost:9229/local_AbC123',
      jwksUri: 'http://localhost:9229/local_AbC123/.well-known/jwks.json',
      cognito: { userPoolId: 'local_AbC123', tokenUse: 'id', clientId: null },
    });
  });

  it("seeds an issuer's keys from an inline jwks or a bundled jwksFile, weak keys left out", () => {
    const [inline, file] = readJwtAuthorizerConfig(
      {
        JWT_ISSUERS: JSON.stringify([
          { issuer: 'https://a.example', audience: 'x', jwks: { keys: [rsa.jwk, weak.jwk] } },
          { issuer: 'https://b.example', audience: 'x', jwksFile: 'jwks/b.json' },
        ]),
      },
      { 'jwks/b.json': { keys: [rsa.jwk] } },
    ).issuers;
    expect(inline?.seed?.jwks.keys.map((k) => k.kid)).toEqual(['seeded-rsa']);
    expect(inline?.seed?.dropped).toEqual([{ kid: 'seeded-weak', reason: 'rsa_modulus_too_small' }]);
    expect(inline?.jwksUri).toBe('https://a.example/.well-known/jwks.json');
    expect(file?.seed).toMatchObject({ source: 'jwks/b.json', jwks: { keys: [{ kid: 'seeded-rsa' }] } });
  });

  it.each([
    [
      { jwks: { keys: [weak.jwk] } },
      'JWT_ISSUERS [0].jwks has no usable key (seeded-weak: rsa_modulus_too_small)',
    ],
    [{ jwks: [rsa.jwk] }, 'JWT_ISSUERS [0].jwks must be a JWKS'],
    [{ jwksFile: 'jwks/missing.json' }, 'JWT_ISSUERS [0].jwksFile "jwks/missing.json" is not bundled'],
    [{ jwks: { keys: [rsa.jwk] }, jwksFile: 'jwks/b.json' }, 'JWT_ISSUERS [0] has both jwks and jwksFile'],
    [{ tokenUse: 'access' }, 'JWT_ISSUERS [0].tokenUse applies to Cognito user pools only'],
    [{ clientId: 'app1' }, 'JWT_ISSUERS [0].clientId applies to Cognito user pools only'],
  ])('refuses the issuer field %j naming the variable', (fields, message) => {
    expect(problems({ JWT_ISSUERS: issuer(fields) }).join('; ')).toContain(message);
  });

  it.each([
    [{ audience: 'app1' }, 'JWT_ISSUERS [0].audience does not apply to a Cognito user pool (use clientId)'],
    [{ jwksUri: 'http://cognito.example/jwks' }, 'JWT_ISSUERS [0].jwksUri must use https'],
    [{ userPoolId: 'local_AbC123' }, 'an emulator\'s pool needs its "issuer"'],
    [{ issuer: '' }, 'JWT_ISSUERS [0].issuer must be a non-empty string'],
    [{ groups: ['admin'] }, 'unknown field "groups"'],
  ])('refuses the Cognito field %j naming the variable', (fields, message) => {
    const entry = { userPoolId: 'eu-west-1_AbC123', tokenUse: 'access', clientId: 'app1', ...fields };
    expect(problems({ JWT_ISSUERS: JSON.stringify([entry]) }).join('; ')).toContain(message);
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

  it.each(['required', 'allowed', 'off'] as const)(
    'reads "dpop": "%s" per issuer, Cognito pools included',
    (mode) => {
      const config = readJwtAuthorizerConfig({
        JWT_ISSUERS: JSON.stringify([
          { issuer: 'https://a.example', audience: 'x', dpop: mode },
          { userPoolId: 'eu-west-1_AbC123', tokenUse: 'access', clientId: 'app1', dpop: mode },
          { issuer: 'https://b.example', audience: 'x' },
        ]),
      });

      expect(config.issuers.map((i) => i.dpop)).toEqual([mode, mode, 'off']);
    },
  );

  it.each([['Required'], ['on'], [true], [null], ['']])(
    'refuses "dpop": %j naming the variable and the field',
    (value) => {
      expect(problems({ JWT_ISSUERS: issuer({ dpop: value }) })).toEqual([
        `JWT_ISSUERS [0].dpop must be "required", "allowed" or "off", got ${JSON.stringify(value)}`,
      ]);
    },
  );

  describe('the published development key (its private half is in the repository)', () => {
    const published = testKey('RS256', PUBLISHED_DEVELOPMENT_KEY_ID);
    const withPublished = issuer({ jwks: { keys: [rsa.jwk, published.jwk] } });

    it.each([
      ['an inline jwks', { JWT_ISSUERS: withPublished }, {}],
      [
        'a bundled jwksFile',
        { JWT_ISSUERS: issuer({ jwksFile: 'jwks/dev.json' }) },
        { 'jwks/dev.json': { keys: [published.jwk] } },
      ],
      [
        'a jwks where it would be dropped anyway',
        {
          JWT_ISSUERS: issuer({
            jwks: { keys: [rsa.jwk, { ...weak.jwk, kid: PUBLISHED_DEVELOPMENT_KEY_ID }] },
          }),
        },
        {},
      ],
      ['AWS_SAM_LOCAL other than true', { JWT_ISSUERS: withPublished, AWS_SAM_LOCAL: '1' }, {}],
    ])('is refused in %s outside local runs, naming the variable', (_case, env, bundled) => {
      const found = problems(env, bundled);

      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        new RegExp(
          `^JWT_ISSUERS \\[0\\]\\.jwks(File)? holds the published development key \\(kid ${PUBLISHED_DEVELOPMENT_KEY_ID}\\).*trusted only in local runs \\(AWS_SAM_LOCAL=true\\)`,
        ),
      );
    });

    it('is trusted where the function runs locally (sam local, the local runtime, npm start)', () => {
      const config = readJwtAuthorizerConfig({ JWT_ISSUERS: withPublished, AWS_SAM_LOCAL: 'true' });

      expect(config.issuers[0]?.seed?.jwks.keys.map((k) => k.kid)).toEqual([
        'seeded-rsa',
        PUBLISHED_DEVELOPMENT_KEY_ID,
      ]);
      expect(config.refusedKeyIds).toEqual([]);
    });
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
