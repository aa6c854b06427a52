// Starts a function's REAL built bundle (as deployed: template environment, esbuild output) in a
// local Lambda environment, with its log stream captured for the assertions.

import { join } from 'node:path';
import { ensureBuilt } from '../../../tools/build.ts';
import { LambdaEnvironment } from '../../../tools/lambda/runtime.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { findFunction, templateEnvironment } from '../../../tools/template/functions.ts';
import { loadTemplate } from '../../../tools/template/template.ts';

/** A running bundle and everything it logged so far. */
export interface BundleUnderTest {
  readonly runtime: LambdaEnvironment;
  /** The captured stdout/stderr of the function process. */
  logs(): string;
  close(): Promise<void>;
}

/** Starts the bundle of `logicalId` with the template's environment plus `overrides`. */
export async function startBundle(
  logicalId: string,
  overrides: Readonly<Record<string, string>>,
  timeoutSeconds?: number,
): Promise<BundleUnderTest> {
  const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  const fn = findFunction(template, logicalId);
  const built = await ensureBuilt(fn);
  let captured = '';
  const runtime = new LambdaEnvironment(
    {
      logicalId,
      bundle: built.bundle,
      exportName: built.exportName,
      env: { ...templateEnvironment(logicalId), ...overrides },
      timeoutSeconds: timeoutSeconds ?? fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      region: 'us-east-1',
      accountId: '123456789012',
    },
    (chunk) => {
      captured += chunk;
    },
  );
  return { runtime, logs: () => captured, close: () => runtime.close() };
}

export { templateEnvironment };
