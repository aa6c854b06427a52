import { describe, expect, it } from 'vitest';
import type { LoggedDecision } from '../../../tools/gateway/access-log.ts';
import {
  type HandlerDeps,
  invokeNoting,
  newAccessEntry,
  writeAccessLog,
} from '../../../tools/gateway/request-io.ts';
import type { InvocationResult } from '../../../tools/lambda/runtime.ts';

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    invoke: async () => ({ ok: true, result: null, coldStart: false, durationMs: 1 }),
    clock: () => 0,
    region: 'us-east-1',
    accountId: '123456789012',
    accessLog: () => undefined,
    accessLogFormat: 'json',
    info: () => undefined,
    maxBodyBytes: 1024,
    caches: [],
    iamCredential: () => undefined,
    port: () => 3000,
    ...overrides,
  };
}

describe('writeAccessLog', () => {
  it.each([
    ['json', /^\{"time":"[^"]+","type":"access",.*"path":"\/orders\/ord_1"/],
    ['text', /^\d\d:\d\d:\d\d OrdersApi DELETE \/orders\/ord_1 -> 0 in 0\.0 ms$/],
  ] as const)('writes one %s line for the configured format', (format, shape) => {
    // Arrange
    const lines: string[] = [];
    const entry = newAccessEntry('req-1', 'OrdersApi', 'DELETE', '/orders/ord_1');

    // Act
    writeAccessLog(deps({ accessLog: (line) => lines.push(line), accessLogFormat: format }), entry);

    // Assert
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(shape);
  });
});

describe('invokeNoting', () => {
  it('hands over the decision the function logged in this invocation, failed invocations included', async () => {
    // Arrange
    const tail = `${JSON.stringify({ message: 'decision', decision: { effect: 'unauthorized', reason: 'token_expired' } })}\n`;
    const failed: InvocationResult = {
      ok: false,
      error: { errorType: 'Error', errorMessage: 'Unauthorized' },
      coldStart: false,
      durationMs: 2,
      logTail: tail,
    };
    const noted: (LoggedDecision | undefined)[] = [];

    // Act
    const result = await invokeNoting(
      deps({ invoke: async () => failed }),
      'JwtAuthorizerFunction',
      (decision) => noted.push(decision),
    )({});

    // Assert
    expect(result).toBe(failed);
    expect(noted).toEqual([{ effect: 'unauthorized', reason: 'token_expired' }]);
  });

  it('notes nothing when the function logged no decision', async () => {
    // Arrange
    const noted: (LoggedDecision | undefined)[] = [];

    // Act
    await invokeNoting(deps(), 'ProbeFunction', (decision) => noted.push(decision))({});

    // Assert
    expect(noted).toEqual([undefined]);
  });
});
