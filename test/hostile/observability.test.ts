// The decision log and EMF metrics (docs/hardening.md), read back from the REAL bundles' log streams.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../support/jwks-server.ts';
import { testKey } from '../support/keys.ts';
import { startBundle } from './support/bundle.ts';
import { claims, issuersEnv, restEvent, sign } from './support/jwt-harness.ts';
import { createOrderEvent } from './support/validator-harness.ts';

/** Every JSON line of a log stream. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const metricNames = (lines: Record<string, unknown>[]) =>
  lines.flatMap((l) =>
    (
      (
        l._aws as
          | { CloudWatchMetrics?: { Metrics: { Name: string }[]; Dimensions: string[][] }[] }
          | undefined
      )?.CloudWatchMetrics ?? []
    ).flatMap((m) => m.Metrics.map((x) => `${x.Name}[${m.Dimensions.flat().join(',')}]`)),
  );

const key = testKey('RS256', 'rsa-observe');
let jwks: JwksServer;
beforeAll(async () => {
  jwks = await startJwksServer([key.jwk]);
});
afterAll(async () => {
  await jwks.close();
});

describe('decision log and metrics', () => {
  it('logs one decision per invocation with the documented fields, cold start first', async () => {
    const bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(jwks.jwksUri),
      HTTP_API_SIMPLE_RESPONSES: 'false',
    });
    const token = sign(
      { alg: 'RS256', kid: key.kid },
      claims({ sub: 'observed-user' }),
      key.privateKey,
      'RS256',
    );

    await bundle.runtime.invoke(restEvent(`Bearer ${token}`));
    await bundle.runtime.invoke(restEvent(`Bearer ${token}`));
    await bundle.runtime.invoke(restEvent('Bearer not.a.token'));
    const lines = jsonLines(bundle.logs());
    await bundle.close();

    const decisions = lines.filter((l) => l.message === 'decision');
    expect(decisions.map((d) => d.coldStart)).toEqual([true, false, false]);
    expect(decisions[0]?.decision).toMatchObject({
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      route: 'GET /orders/{id}',
      effect: 'allow',
      reason: expect.any(String),
      principal: 'observed-user',
      latencyMs: expect.any(Number),
      cacheHit: false,
    });
    expect(decisions[1]?.decision).toMatchObject({ effect: 'allow', cacheHit: true });
    expect(decisions[2]?.decision).toMatchObject({ effect: 'unauthorized', reason: 'token_malformed' });
    const metrics = metricNames(lines);
    expect(metrics).toContain('Decisions[service,effect,reason]');
    expect(metrics).toEqual(
      expect.arrayContaining(['CacheHits[service]', 'CacheMisses[service]', 'ColdStarts[service]']),
    );
  });

  it('counts validation failures by route in the request validator', async () => {
    const bundle = await startBundle('RequestValidatorFunction', {
      UPSTREAM_URL: 'http://127.0.0.1:9',
      UPSTREAM_SIGNING_SECRET: 'hostile-suite-signing-secret-0123456789',
    });

    await bundle.runtime.invoke(createOrderEvent('{"not":"an order"}'));
    const lines = jsonLines(bundle.logs());
    await bundle.close();

    expect(metricNames(lines)).toContain('ValidationFailures[service,route]');
    expect(lines.find((l) => l.message === 'decision')?.decision).toMatchObject({
      effect: 'invalid',
      reason: 'body_invalid',
    });
  });
});
