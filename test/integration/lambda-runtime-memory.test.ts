// The local Lambda runtime (tools/lambda/runtime.ts) serves the local gateway for hours: whatever it
// keeps per invocation must be released when the invocation ends, or the gateway's heap grows with
// every request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../tools/lambda/runtime.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let n = 0; n < 3; n++) gc();
  return process.memoryUsage().heapUsed;
}

const INVOCATIONS = 20_000;
// What is legitimately retained after the run is independent of the number of invocations; one
// kilobyte per invocation would already be 20 MB.
const HEAP_GROWTH_BOUND = 4 * 1024 * 1024;

describe('LambdaEnvironment over many invocations', () => {
  let dir: string;
  let lambda: LambdaEnvironment;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-runtime-'));
    const bundle = join(dir, 'echo.mjs');
    writeFileSync(bundle, 'export const handler = async (event) => ({ n: event.n });\n');
    lambda = new LambdaEnvironment(
      {
        logicalId: 'EchoFunction',
        bundle,
        exportName: 'handler',
        env: {},
        timeoutSeconds: 10,
        memoryMb: 128,
        region: 'us-east-1',
        accountId: '123456789012',
      },
      () => {},
    );
  });
  afterAll(async () => {
    await lambda.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps the parent's heap bounded over ${INVOCATIONS.toLocaleString('en')} invocations`, async () => {
    // Arrange: warm up (cold start, JIT) before the baseline.
    for (let n = 0; n < 500; n++) await lambda.invoke({ n });
    const before = settledHeap();

    // Act
    let answered = 0;
    for (let n = 0; n < INVOCATIONS; n++) {
      const result = await lambda.invoke({ n });
      if (result.ok && (result.result as { n: number }).n === n) answered++;
    }
    const growth = settledHeap() - before;

    // Assert
    expect(answered).toBe(INVOCATIONS);
    expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);
  }, 120_000);
});
