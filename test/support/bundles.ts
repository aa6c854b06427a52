import { join } from 'node:path';
import { LambdaEnvironment, type LocalFunction } from '../../tools/lambda/runtime.ts';
import { BUILD_DIR } from '../../tools/paths.ts';

/** A warm local Lambda running a function's real bundle (built by the global setup), with its logs captured. */
export function bundleEnvironment(
  logicalId: string,
  env: Readonly<Record<string, string>>,
  options: { timeoutSeconds?: number } = {},
): { lambda: LambdaEnvironment; logs: () => string } {
  let logs = '';
  const fn: LocalFunction = {
    logicalId,
    bundle: join(BUILD_DIR, logicalId, 'handler.mjs'),
    exportName: 'handler',
    env,
    timeoutSeconds: options.timeoutSeconds ?? 10,
    memoryMb: 512,
    region: 'us-east-1',
    accountId: '123456789012',
  };
  return {
    lambda: new LambdaEnvironment(fn, (chunk) => {
      logs += chunk;
    }),
    logs: () => logs,
  };
}
