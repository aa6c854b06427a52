import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/env.ts';
import {
  AUTHORIZER_METRICS,
  createObserver,
  type DecisionRecord,
  observedHandler,
  readObserverConfig,
  VALIDATOR_METRICS,
} from '../../../shared/observability/observer.ts';
import { emfProblems } from '../../support/emf.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

const METRIC_SETS = { authorizer: AUTHORIZER_METRICS, validator: VALIDATOR_METRICS };

function observed(
  env: Record<string, string> = {},
  kind: keyof typeof METRIC_SETS = 'authorizer',
  random = 0.5,
) {
  const lines: string[] = [];
  const observer = createObserver(readObserverConfig(env, 'jwt-authorizer'), METRIC_SETS[kind], {
    write: (line) => lines.push(line),
    now: () => NOW,
    traceHeader: () => TRACE,
    random: () => random,
  });
  const parsed = () =>
    lines.map((l) => {
      expect(l.endsWith('\n')).toBe(true);
      expect(l.slice(0, -1)).not.toContain('\n');
      return JSON.parse(l) as Record<string, unknown>;
    });
  return { observer, lines, parsed };
}

const record = (overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  route: 'GET /orders/{id}',
  effect: 'allow',
  reason: 'allowed',
  principal: 'user-1',
  latencyMs: 0.4,
  cacheHit: false,
  ...overrides,
});

const metricNames = (line: Record<string, unknown>) =>
  (line._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics.flatMap((d) =>
    d.Metrics.map((m) => m.Name),
  );

describe('the observer', () => {
  it('writes one line per decision with the Powertools field names and the decision', () => {
    const { observer, parsed } = observed({ POWERTOOLS_SERVICE_NAME: 'jwt-authorizer' });

    observer.begin('lambda-request-1');
    observer.decision(record());

    expect(parsed()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'decision',
        timestamp: '2026-01-01T12:00:00.250Z',
        service: 'jwt-authorizer',
        cold_start: true,
        function_request_id: 'lambda-request-1',
        xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        sampling_rate: 0,
        decision: {
          requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
          route: 'GET /orders/{id}',
          effect: 'allow',
          reason: 'allowed',
          principal: 'user-1',
          latencyMs: 0.4,
          cacheHit: false,
        },
      }),
    ]);
  });

  it.each(['authorizer', 'validator'] as const)(
    'embeds one valid EMF metric set, namespace Gatehouse, dimensions [["service"]], the same on every %s line',
    (kind) => {
      const { observer, parsed } = observed({}, kind);
      const effects: DecisionRecord['effect'][] =
        kind === 'authorizer'
          ? ['allow', 'deny', 'unauthorized', 'error']
          : ['forwarded', 'invalid', 'error'];

      for (const effect of effects) {
        observer.begin(undefined);
        observer.decision(record({ effect, cacheHit: effect === 'deny' }));
      }
      observer.warn('keys dropped from a JWKS', {
        dropped: [{ kid: 'k1', reason: 'rsa_modulus_too_small' }],
      });

      const lines = parsed();
      const withMetrics = lines.filter((l) => '_aws' in l);
      expect(withMetrics).toHaveLength(effects.length);
      for (const line of withMetrics) {
        expect(emfProblems(line)).toEqual([]);
        expect(line._aws).toMatchObject({
          Timestamp: NOW,
          CloudWatchMetrics: [{ Namespace: 'Gatehouse', Dimensions: [['service']] }],
        });
        expect(metricNames(line)).toEqual(metricNames(withMetrics[0] as Record<string, unknown>));
      }
    },
  );

  it('counts each decision by effect, cache and cold start, and every dependency failure', () => {
    const { observer, parsed } = observed();

    for (const [effect, cacheHit] of [
      ['allow', false],
      ['deny', true],
      ['unauthorized', false],
      ['error', false],
    ] as const) {
      observer.begin('id');
      observer.decision(record({ effect, cacheHit }));
    }

    const values = parsed().map((l) => Object.fromEntries(metricNames(l).map((name) => [name, l[name]])));
    expect(values).toEqual([
      {
        Decisions: 1,
        Allowed: 1,
        Denied: 0,
        Unauthorized: 0,
        DependencyFailures: 0,
        CacheHits: 0,
        CacheMisses: 1,
        ColdStarts: 1,
      },
      {
        Decisions: 1,
        Allowed: 0,
        Denied: 1,
        Unauthorized: 0,
        DependencyFailures: 0,
        CacheHits: 1,
        CacheMisses: 0,
        ColdStarts: 0,
      },
      {
        Decisions: 1,
        Allowed: 0,
        Denied: 0,
        Unauthorized: 1,
        DependencyFailures: 0,
        CacheHits: 0,
        CacheMisses: 1,
        ColdStarts: 0,
      },
      {
        Decisions: 1,
        Allowed: 0,
        Denied: 0,
        Unauthorized: 0,
        DependencyFailures: 1,
        CacheHits: 0,
        CacheMisses: 1,
        ColdStarts: 0,
      },
    ]);
    expect(parsed().map((l) => [l.level, l.cold_start])).toEqual([
      ['INFO', true],
      ['INFO', false],
      ['INFO', false],
      ['ERROR', false],
    ]);
  });

  it('marks a line written at init, before any invocation, as cold start', () => {
    const { observer, parsed } = observed();
    observer.warn('JWKS prefetch failed', { issuers: ['https://idp.example'] });
    expect(parsed()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        cold_start: true,
        function_request_id: null,
        issuers: ['https://idp.example'],
      }),
    ]);
  });

  it('keeps the metrics when the level hides the decision line, on a line Lambda keeps', () => {
    const { observer, parsed } = observed({ POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_LAMBDA_LOG_LEVEL: 'ERROR' });

    observer.begin('id');
    observer.decision(record({ effect: 'deny' }));
    observer.warn('hidden');
    observer.begin('id2');
    observer.decision(record({ effect: 'error' }));

    const [metricsOnly, failure, ...rest] = parsed();
    expect(rest).toEqual([]);
    expect(metricsOnly).toMatchObject({ level: 'ERROR', message: 'metrics', Denied: 1 });
    expect(metricsOnly).not.toHaveProperty('decision');
    expect(emfProblems(metricsOnly as Record<string, unknown>)).toEqual([]);
    expect(failure).toMatchObject({ level: 'ERROR', message: 'decision', DependencyFailures: 1 });
  });

  it('honours POWERTOOLS_LOG_LEVEL without Lambda filtering, and logs sampled invocations anyway', () => {
    const quiet = observed({ POWERTOOLS_LOG_LEVEL: 'warn' });
    quiet.observer.decision(record());
    const sampled = observed(
      { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_LOGGER_SAMPLE_RATE: '0.1' },
      'authorizer',
      0.05,
    );
    sampled.observer.begin('id');
    sampled.observer.decision(record());

    expect(quiet.parsed().map((l) => [l.level, l.message])).toEqual([['INFO', 'metrics']]);
    expect(sampled.parsed().map((l) => [l.message, l.sampling_rate])).toEqual([['decision', 0.1]]);
  });

  it.each([
    [{ POWERTOOLS_LOG_LEVEL: 'LOUD' }, 'POWERTOOLS_LOG_LEVEL must be one of'],
    [{ AWS_LAMBDA_LOG_LEVEL: 'CRITICAL' }, 'AWS_LAMBDA_LOG_LEVEL must be one of'],
    [{ POWERTOOLS_LOGGER_SAMPLE_RATE: '2' }, 'POWERTOOLS_LOGGER_SAMPLE_RATE must be a number from 0 to 1'],
  ])('refuses %j at init, naming the variable', (env, message) => {
    expect(() => readObserverConfig(env, 'x')).toThrow(ConfigError);
    expect(() => readObserverConfig(env, 'x')).toThrow(message);
  });

  it('escapes whatever the decision holds, so one line stays one JSON document', () => {
    const { observer, parsed } = observed();
    observer.decision(record({ principal: 'user"\n},{"level":"ERROR', route: 'GET /\u2028' }));
    expect(parsed()[0]).toMatchObject({ decision: { principal: 'user"\n},{"level":"ERROR' } });
  });
});

describe('observedHandler', () => {
  it("tells the observer the invocation's request id and hands the context on to the handler", async () => {
    // Arrange
    const { observer, parsed } = observed({ POWERTOOLS_SERVICE_NAME: 'key-authorizer' });
    const seen: unknown[] = [];
    const handler = observedHandler(
      observer,
      async (event: string, context?: { getRemainingTimeInMillis(): number }) => {
        seen.push(event, context?.getRemainingTimeInMillis());
        observer.decision(record({ requestId: undefined }));
        return 'done';
      },
    );

    // Act
    const result = await handler('event', {
      awsRequestId: 'lambda-request-7',
      getRemainingTimeInMillis: () => 1234,
    });

    // Assert
    expect(result).toBe('done');
    expect(seen).toEqual(['event', 1234]);
    expect(parsed()[0]).toMatchObject({ function_request_id: 'lambda-request-7' });
  });
});
