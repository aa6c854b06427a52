import { describe, expect, it } from 'vitest';
import {
  type AccessLogEntry,
  accessLogLine,
  accessLogText,
  loggedDecision,
} from '../../../tools/gateway/access-log.ts';

const NOW = new Date('2026-11-22T14:03:27.123Z');

function entry(overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    requestId: 'req-1',
    api: 'OrdersApi',
    method: 'GET',
    path: '/orders',
    route: 'GET /orders',
    status: 200,
    latencyMs: 3.21,
    principal: 'demo-user',
    authorizer: 'allow',
    authorizerReason: undefined,
    cacheHit: false,
    resourcePolicy: undefined,
    usage: undefined,
    integration: undefined,
    errorType: undefined,
    ...overrides,
  };
}

const decisionLine = (decision: Record<string, unknown>) =>
  JSON.stringify({ level: 'INFO', message: 'decision', service: 'jwt-authorizer', decision });

describe('loggedDecision', () => {
  it('reads the last decision line of a log tail, among metric and other lines', () => {
    // Arrange
    const tail = [
      'partial line from a previous write',
      decisionLine({ effect: 'allow', reason: 'allowed' }),
      decisionLine({ effect: 'unauthorized', reason: 'token_expired' }),
      JSON.stringify({ _aws: {}, effect: 'unauthorized', reason: 'token_expired', Decisions: 1 }),
      '',
    ].join('\n');

    // Act / Assert
    expect(loggedDecision(tail)).toEqual({ effect: 'unauthorized', reason: 'token_expired' });
  });

  it.each([
    ['no tail', undefined],
    ['no decision line', '{"level":"INFO","message":"cold start"}\n'],
    [
      'a line cut by the 4 KB tail',
      `${decisionLine({ effect: 'deny', reason: 'scope_missing' }).slice(20)}\n`,
    ],
  ])('gives nothing for %s', (_name, tail) => {
    expect(loggedDecision(tail)).toBeUndefined();
  });

  it('keeps only snake_case codes, so no free text from a log reaches the access log', () => {
    // Arrange
    const tail = decisionLine({ effect: 'deny', reason: 'Bearer eyJhbGciOi.secret' });

    // Act / Assert
    expect(loggedDecision(tail)).toEqual({ effect: 'deny', reason: undefined });
    expect(loggedDecision(decisionLine({ effect: 'Allow everything' }))).toBeUndefined();
  });
});

describe('accessLogText', () => {
  it.each([
    [entry(), '14:03:27 OrdersApi GET /orders -> 200 in 3.2 ms; authorizer: allow'],
    [
      entry({
        status: 401,
        authorizer: 'unauthorized',
        authorizerReason: 'token_expired',
        errorType: 'UNAUTHORIZED',
      }),
      '14:03:27 OrdersApi GET /orders -> 401 in 3.2 ms; authorizer: unauthorized (token_expired); gateway response: UNAUTHORIZED',
    ],
    [
      entry({ method: 'DELETE', path: '/orders/ord_1', status: 403, authorizer: 'no_allow', cacheHit: true }),
      '14:03:27 OrdersApi DELETE /orders/ord_1 -> 403 in 3.2 ms; authorizer: no_allow, cached',
    ],
    [
      entry({
        method: 'POST',
        status: 400,
        authorizerReason: 'allowed',
        integration: { effect: 'invalid', reason: 'body_invalid' },
      }),
      '14:03:27 OrdersApi POST /orders -> 400 in 3.2 ms; authorizer: allow; integration: invalid (body_invalid)',
    ],
    [
      entry({
        authorizer: 'none',
        cacheHit: undefined,
        integration: { effect: 'forwarded', reason: 'forwarded' },
      }),
      '14:03:27 OrdersApi GET /orders -> 200 in 3.2 ms; integration: forwarded',
    ],
    [
      entry({ status: 429, usage: 'throttled', errorType: 'THROTTLED' }),
      '14:03:27 OrdersApi GET /orders -> 429 in 3.2 ms; authorizer: allow; usage plan: throttled; gateway response: THROTTLED',
    ],
    [
      entry({ status: 403, authorizer: 'none', resourcePolicy: 'explicit_deny', errorType: 'ACCESS_DENIED' }),
      '14:03:27 OrdersApi GET /orders -> 403 in 3.2 ms; resource policy: explicit_deny; gateway response: ACCESS_DENIED',
    ],
  ])('writes one readable line: %#', (e, line) => {
    expect(accessLogText(e, NOW)).toBe(line);
  });
});

describe('accessLogLine', () => {
  it('is one JSON object with the entry and the reason codes', () => {
    // Act
    const line = accessLogLine(
      entry({ status: 401, authorizer: 'unauthorized', authorizerReason: 'token_expired' }),
    );

    // Assert
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({
      type: 'access',
      path: '/orders',
      authorizer: 'unauthorized',
      authorizerReason: 'token_expired',
    });
  });
});
