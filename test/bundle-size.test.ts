// Size budgets of the function bundles (docs/performance.md). Minified sizes are exact for given sources and
// esbuild version, so unlike times they can be asserted. Budgets are the targets of docs/performance.md
// where the bundle meets them; where a required library makes a target unreachable, the budget is
// today's size rounded up to the next KB, so growth is still caught (see docs/performance.md).
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from '../tools/build.ts';
import { PROJECT_ROOT } from '../tools/paths.ts';
import { type FunctionDefinition, templateFunctions } from '../tools/template/functions.ts';
import { loadTemplate } from '../tools/template/template.ts';

const KB = 1024;

/** Minified-byte budget per function; `excludingSchemas` leaves the generated validators out. */
const BUDGETS: Record<string, { readonly bytes: number; readonly excludingSchemas?: true }> = {
  // Target 40 KB is out of reach: Powertools Logger + Metrics are ~34 KB and
  // aws-jwt-verify ~17 KB of it, over 40 KB before any code of ours. Budget = size today.
  JwtAuthorizerFunction: { bytes: 75 * KB },
  // The AWS SDK's Secrets Manager client (~170 KB) reads the signing secret at run time
  // (docs/deploy.md#secrets); Powertools Logger + Metrics are ~34 KB. Budget = size today without
  // the generated schemas.
  RequestValidatorFunction: { bytes: 231 * KB, excludingSchemas: true },
  // Target 350 KB, met.
  KeyAuthorizerFunction: { bytes: 350 * KB },
};

const SCHEMAS = 'shared/generated/validators.mjs';

function functions(): FunctionDefinition[] {
  return templateFunctions(loadTemplate(resolve(PROJECT_ROOT, 'template.yaml')));
}

/** Bytes the generated validators contribute to a function's bundle (same esbuild options). */
async function schemaBytes(fn: FunctionDefinition): Promise<number> {
  const result = await build({
    absWorkingDir: resolve(PROJECT_ROOT, fn.codeUri),
    entryPoints: [...fn.build.EntryPoints],
    bundle: true,
    platform: 'node',
    format: fn.build.Format ?? 'cjs',
    target: fn.build.Target ?? 'es2020',
    minify: fn.build.Minify ?? true,
    mainFields: ['module', 'main'],
    write: false,
    outdir: join(PROJECT_ROOT, '.gatehouse', 'bundle-size-test'),
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([input]) => input.endsWith(SCHEMAS))
    .reduce((sum, [, v]) => sum + v.bytesInOutput, 0);
}

describe('function bundle sizes', () => {
  it('has a budget for every function of the template', () => {
    // Arrange
    const names = functions().map((f) => f.logicalId);

    // Act
    const missing = names.filter((name) => BUDGETS[name] === undefined);

    // Assert
    expect(missing).toEqual([]);
  });

  it.each(Object.entries(BUDGETS))('keeps %s within its minified budget', async (name, budget) => {
    // Arrange
    const fn = functions().find((f) => f.logicalId === name) as FunctionDefinition;

    // Act
    const built = await ensureBuilt(fn);
    const bytes = statSync(built.bundle).size - (budget.excludingSchemas ? await schemaBytes(fn) : 0);

    // Assert
    expect(bytes).toBeLessThanOrEqual(budget.bytes);
  });
});
