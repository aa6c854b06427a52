import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/env.ts';
import { readDpopConfig } from '../../../shared/dpop/config.ts';

const RULES = JSON.stringify([{ domainName: 'api.example.com', publicBaseUrl: 'https://api.example.com' }]);
const SECRET = Buffer.alloc(32, 3).toString('base64url');

describe('DPoP configuration', () => {
  it('reads a minimal configuration with safe defaults', () => {
    expect(readDpopConfig({ DPOP_PUBLIC_URLS: RULES, DPOP_REPLAY_TABLE: 'DpopReplayTable' })).toEqual({
      publicUrls: [
        { domainName: 'api.example.com', eventPathPrefix: '', publicBaseUrl: 'https://api.example.com' },
      ],
      algorithms: ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'],
      iatWindowSeconds: 60,
      clockSkewSeconds: 5,
      nonce: null,
      replay: {
        kind: 'dynamodb',
        tableName: 'DpopReplayTable',
        budgetMs: 1000,
        region: 'us-east-1',
        endpoint: undefined,
      },
    });
  });

  it("reads the table's region, and a loopback endpoint for local runs", () => {
    const config = readDpopConfig({
      DPOP_PUBLIC_URLS: RULES,
      DPOP_REPLAY_TABLE: 'DpopReplayTable',
      AWS_REGION: 'eu-west-1',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
    });

    expect(config.replay).toMatchObject({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000' });
  });

  it.each([
    [
      { DYNAMODB_ENDPOINT: 'https://dynamodb.evil.example' },
      'DYNAMODB_ENDPOINT must be an http(s) URL of a loopback host',
    ],
    [{ DPOP_REPLAY_TABLE: 'no spaces allowed' }, 'DPOP_REPLAY_TABLE is not a DynamoDB table name'],
    [
      { DPOP_REPLAY_BUDGET_MS: '5000', AWS_LAMBDA_FUNCTION_TIMEOUT: '5' },
      'DPOP_REPLAY_BUDGET_MS must be below the function timeout (5000 ms, AWS_LAMBDA_FUNCTION_TIMEOUT)',
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() =>
      readDpopConfig({ DPOP_PUBLIC_URLS: RULES, DPOP_REPLAY_TABLE: 'DpopReplayTable', ...env }),
    ).toThrow(message);
  });

  it('reads nonces, algorithms and the in-memory store when asked for', () => {
    const config = readDpopConfig({
      DPOP_PUBLIC_URLS: RULES,
      DPOP_ALGORITHMS: 'ES256 EdDSA',
      DPOP_NONCE_SECRETS: `${SECRET}, ${SECRET}`,
      DPOP_NONCE_WINDOW_SECONDS: '120',
      DPOP_REPLAY_STORE: 'memory',
    });
    expect(config.algorithms).toEqual(['ES256', 'EdDSA']);
    expect(config.nonce?.secrets).toHaveLength(2);
    expect(config.nonce?.windowSeconds).toBe(120);
    expect(config.replay).toEqual({ kind: 'memory', capacity: 100_000 });
  });

  it('reports every problem at once, each naming its variable', () => {
    let error: unknown;
    try {
      readDpopConfig({
        DPOP_PUBLIC_URLS: JSON.stringify([{ domainName: 'a.example', publicBaseUrl: 'ftp://x', extra: 1 }]),
        DPOP_ALGORITHMS: 'ES256 HS256 none',
        DPOP_IAT_WINDOW_SECONDS: '0',
        DPOP_NONCE_SECRETS: 'c2hvcnQ',
        DPOP_REPLAY_STORE: 'dynamodb',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'DPOP_PUBLIC_URLS',
      'DPOP_ALGORITHMS',
      'DPOP_IAT_WINDOW_SECONDS',
      'DPOP_NONCE_SECRETS',
      'DPOP_REPLAY_TABLE',
    ])
      expect(problems).toContain(name);
    expect(problems).toContain('unknown field "extra"');
    expect(problems).toContain('refused: HS256 none');
  });

  it('requires the public URL rules', () => {
    expect(() => readDpopConfig({ DPOP_REPLAY_STORE: 'memory' })).toThrow(/DPOP_PUBLIC_URLS is required/);
  });
});
