// Size budgets of the function bundles (docs/performance.md). Minified sizes are exact for given sources and
// esbuild version, so unlike times they can be asserted: a budget is the objective where the bundle
// meets it, else the measured size rounded up to the next KB.
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
  // The whole bundle: our code (40,623 B, of which routing and answers exact on every method ARN in
  // three cache modes 8,435 B, docs/policies.md; tenant-bound paths 2,477 B, docs/tenant-binding.md:
  // the binding checks 1,252 B, bound patterns in the policy compiler 868 B) and aws-jwt-verify
  // (8,494 B). Objective 45 KB, missed by 3 KB: 49,117 B, of which the demo document's route table
  // 1,171 B (it grows with the document; its bindings 607 B of that). Budget = that size rounded up
  // to the next KB.
  JwtAuthorizerFunction: { bytes: 48 * KB },
  // The bundle without the generated validation modules (shared/generated/validators/, 175,819 B
  // today, which grow with the API document): our code, the signing secret's read from Secrets
  // Manager, ajv-formats and ajv's runtime helpers. Objective 40 KB, missed by 30.4 KB: 72,046 B, of
  // which the secret's read 19,865 B (@smithy/signature-v4 9,554 B and the @smithy/core it uses
  // 4,644 B, our reader 5,667 B; docs/deploy.md#secrets), ajv-formats 7,726 B (the document's
  // `format` keywords), the strict readers of forms, multipart bodies and parameter styles ~13 KB
  // (docs/performance.md#bundles), and the route trie shared with the authorizers 3,386 B (greedy
  // and `:verb` segments, API Gateway's precedence; the scan of every route it replaced was 981 B:
  // docs/policies.md#routing), the route table 1,171 B (it grows with the document) and the check of
  // bound path parameters 324 B (docs/tenant-binding.md). Budget = that size rounded up to the next
  // KB.
  RequestValidatorFunction: { bytes: 71 * KB, excludingSchemas: true },
  // The whole bundle: the AWS SDK's DynamoDB client with its runtime, and the pepper's read from
  // Secrets Manager (its signer is the SDK's, already there; our reader 5,679 B). Objective 250 KB,
  // met: 244,646 B (the SDK's HTTP and IMDS credential providers are External: reached only after the
  // environment's credentials, which Lambda always sets).
  KeyAuthorizerFunction: { bytes: 250 * KB },
};

const SCHEMAS = 'shared/generated/validators/';

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
    .filter(([input]) => input.includes(SCHEMAS))
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
