// The decision log and its embedded metrics (docs/observability.md), read back from the REAL bundles'
// log streams: every line is one JSON document, every metric line is valid EMF with the one metric
// set the alarms rely on, and no credential appears anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emfProblems } from '../support/emf.ts';
import { closedPortUrl, type JwksServer, startJwksServer } from '../support/jwks-server.ts';
import { testKey } from '../support/keys.ts';
import { startBundle } from './support/bundle.ts';
import { claims, issuersEnv, restEvent, sign } from './support/jwt-harness.ts';
import { createOrderEvent, VALID_ORDER } from './support/validator-harness.ts';

/** Every line of a log stream, each of which must be a JSON document. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The log stream once it holds `count` lines with metrics: a function's stdout reaches the test
 * through a pipe of its own, possibly after the invocation's answer (which comes through IPC).
 */
async function settledLines(logs: () => string, count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5000;
  let lines = jsonLines(logs());
  while (lines.filter((l) => '_aws' in l).length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    lines = jsonLines(logs());
  }
  return lines;
}

/** Asserts the metric contract on every line that carries metrics; returns those lines. */
function metricLines(lines: Record<string, unknown>[], service: string): Record<string, unknown>[] {
  const withMetrics = lines.filter((l) => '_aws' in l);
  for (const line of withMetrics) {
    expect(emfProblems(line)).toEqual([]);
    expect(line.service).toBe(service);
    expect(line._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: 'Gatehouse', Dimensions: [['service']] }],
    });
    expect((line._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics).toHaveLength(1);
  }
  return withMetrics;
}

const key = testKey('RS256', 'rsa-observe');
let jwks: JwksServer;
beforeAll(async () => {
  jwks = await startJwksServer([key.jwk]);
});
afterAll(async () => {
  await jwks.close();
});

describe('decision log and metrics', () => {
  it('logs one decision per invocation with the documented fields, cold start first, and no token', async () => {
    const bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(jwks.jwksUri),
      HTTP_API_SIMPLE_RESPONSES: 'false',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    });
    const token = sign(
      { alg: 'RS256', kid: key.kid },
      claims({ sub: 'observed-user' }),
      key.privateKey,
      'RS256',
    );

    await bundle.runtime.invoke(restEvent(`Bearer ${token}`));
    await bundle.runtime.invoke(restEvent(`Bearer ${token}`));
    await bundle.runtime.invoke(restEvent(`Bearer ${token.slice(0, -8)}AAAAAAAA`));
    const lines = await settledLines(bundle.logs, 3);
    const text = bundle.logs();
    await bundle.close();

    const decisions = lines.filter((l) => l.message === 'decision');
    expect(decisions.map((d) => d.cold_start)).toEqual([true, false, false]);
    expect(decisions[0]).toMatchObject({
      level: 'INFO',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'jwt-authorizer',
      function_request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      sampling_rate: 0,
      decision: {
        requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
        route: 'GET /orders/{id}',
        effect: 'allow',
        reason: 'allowed',
        principal: 'observed-user',
        latencyMs: expect.any(Number),
        cacheHit: false,
      },
      Decisions: 1,
      Allowed: 1,
      ColdStarts: 1,
      CacheMisses: 1,
    });
    expect(decisions[1]).toMatchObject({
      decision: { effect: 'allow', cacheHit: true },
      CacheHits: 1,
      ColdStarts: 0,
    });
    expect(decisions[2]).toMatchObject({
      decision: { effect: 'unauthorized', reason: 'signature_invalid' },
      Unauthorized: 1,
    });
    expect(metricLines(lines, 'jwt-authorizer')).toHaveLength(3);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    for (const secret of [token, payload, signature.slice(0, 40), `${header}.${payload}`])
      expect(text).not.toContain(secret);
  });

  it('counts a dependency failure in DependencyFailures (JWKS unreachable)', async () => {
    const bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(await closedPortUrl()),
      HTTP_API_SIMPLE_RESPONSES: 'false',
      JWT_JWKS_TIMEOUT_MS: '500',
    });
    const token = sign({ alg: 'RS256', kid: key.kid }, claims(), key.privateKey, 'RS256');

    await bundle.runtime.invoke(restEvent(`Bearer ${token}`));
    const lines = await settledLines(bundle.logs, 1);
    await bundle.close();

    const [decision] = metricLines(lines, 'jwt-authorizer');
    expect(decision).toMatchObject({
      level: 'ERROR',
      decision: { effect: 'error', reason: 'dependency_failure' },
      DependencyFailures: 1,
    });
    expect(lines.filter((l) => l.level === 'WARN').map((l) => l.message)).toContain('JWKS prefetch failed');
  });

  it('counts refusals and upstream failures in the request validator', async () => {
    const bundle = await startBundle('RequestValidatorFunction', {
      UPSTREAM_URL: 'http://127.0.0.1:9',
      UPSTREAM_SIGNING_SECRET: 'hostile-suite-signing-secret-0123456789',
    });

    await bundle.runtime.invoke(createOrderEvent('{"not":"an order"}'));
    await bundle.runtime.invoke(createOrderEvent(JSON.stringify(VALID_ORDER)));
    const lines = await settledLines(bundle.logs, 2);
    await bundle.close();

    const [invalid, unreachable] = metricLines(lines, 'request-validator');
    expect(invalid).toMatchObject({
      decision: { effect: 'invalid', reason: 'body_invalid', route: 'POST /orders' },
      Invalid: 1,
      DependencyFailures: 0,
    });
    expect(unreachable).toMatchObject({
      decision: { effect: 'error', reason: 'upstream_unreachable' },
      DependencyFailures: 1,
    });
  });

  it('still sends the metrics when Lambda filters the logs at WARN', async () => {
    const bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(jwks.jwksUri),
      HTTP_API_SIMPLE_RESPONSES: 'false',
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'WARN',
    });
    const token = sign({ alg: 'RS256', kid: key.kid }, claims(), key.privateKey, 'RS256');

    await bundle.runtime.invoke(restEvent(`Bearer ${token}`));
    const lines = await settledLines(bundle.logs, 1);
    await bundle.close();

    expect(lines.filter((l) => l.message === 'decision')).toEqual([]);
    expect(metricLines(lines, 'jwt-authorizer')).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'metrics', Allowed: 1 }),
    ]);
  });
});
