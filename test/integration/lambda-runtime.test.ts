// The local Lambda environment reports a failed cold start before any event (warm), returns the
// invocation's log tail with its result (as Lambda's `LogType: Tail`), and has delivered every line
// an invocation logged to its log sink when the invocation resolves.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LambdaEnvironment, MARK_START } from '../../tools/lambda/runtime.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { readEvent } from '../support/events.ts';

describe('LambdaEnvironment', () => {
  it('warm() gives the init error of a function that refuses its configuration', async () => {
    // Arrange
    const fn = bundleEnvironment('JwtAuthorizerFunction', { JWT_ISSUERS: 'not json' });

    // Act
    const error = await fn.lambda.warm();
    await fn.lambda.close();

    // Assert
    expect(error?.errorType).toBe('Runtime.InitError');
    expect(error?.errorMessage).toMatch(/^ConfigError: .*JWT_ISSUERS is not valid JSON/);
  });

  it('warm() gives nothing for a function that starts, and its first invocation is then warm', async () => {
    // Arrange
    const fn = bundleEnvironment('RequestValidatorFunction', {
      UPSTREAM_URL: 'http://127.0.0.1:9',
      UPSTREAM_SIGNING_SECRET: 'a-local-signing-secret-of-32-chars-at-least',
      POWERTOOLS_SERVICE_NAME: 'request-validator',
    });

    // Act
    const error = await fn.lambda.warm();
    const result = await fn.lambda.invoke(
      readEvent('events/request-validator/rest-list-orders-bad-limit-400.json'),
    );
    await fn.lambda.close();

    // Assert
    expect(error).toBeUndefined();
    expect(result.coldStart).toBe(false);
    expect(result.ok).toBe(true);
    expect(result.logTail).toContain('"message":"decision"');
    expect(result.logTail).toContain('"reason":"parameter_invalid"');
  });
});

describe('LambdaEnvironment logs', () => {
  it('delivers everything an invocation wrote, by stream or straight to the descriptor, before its result', async () => {
    // Arrange: a function that writes more than a pipe holds (64 KiB), on both pipes, its stdout
    // lines as the functions' observer writes them (one system call to the descriptor, then the
    // stream once the pipe is full: writeToStdout in shared/observability/observer.ts), and returns
    // at once.
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-runtime-'));
    const bundle = join(dir, 'handler.mjs');
    writeFileSync(
      bundle,
      `import { writeSync } from 'node:fs';
let throughStream = false;
function line(text) {
  if (!throughStream) {
    let written = 0;
    try { written = writeSync(1, text); } catch {}
    if (written === Buffer.byteLength(text)) return;
    throughStream = true;
    text = written === 0 ? text : Buffer.from(text).subarray(written);
  }
  process.stdout.write(text);
}
export const handler = async (event) => {
  for (let i = 0; i < 400; i++) line('{"fd":' + i + ',"pad":"' + 'x'.repeat(300) + '"}\\n');
  for (let i = 0; i < 200; i++) process.stderr.write('stderr line ' + i + ' ' + 'y'.repeat(300) + '\\n');
  line('{"message":"decision","decision":{"effect":"allow","reason":"' + event.n + '"}}\\n');
  return { n: event.n };
};
`,
    );
    let logs = '';
    const lambda = new LambdaEnvironment(
      {
        logicalId: 'LogsFunction',
        bundle,
        exportName: 'handler',
        env: {},
        timeoutSeconds: 10,
        memoryMb: 128,
        region: 'us-east-1',
        accountId: '123456789012',
      },
      (chunk) => {
        logs += chunk;
      },
    );

    for (let n = 0; n < 5; n++) {
      // Act
      const before = logs.length;
      const result = await lambda.invoke({ n: `r${n}` });
      const written = logs.slice(before);

      // Assert: all of it is in the sink when the result resolves, marks taken out.
      expect(result).toMatchObject({ ok: true, result: { n: `r${n}` } });
      expect(written.match(/"fd":\d+/g)).toHaveLength(400);
      expect(written.match(/^stderr line \d+ /gm)).toHaveLength(200);
      expect(written).toContain(`"reason":"r${n}"`);
      expect(written).not.toContain(MARK_START);
      // The tail is the last 4 KB the sink got (stdout and stderr as they arrived).
      expect(result.logTail).toBe(written.slice(-4096));
    }
    await lambda.close();
  });
});
