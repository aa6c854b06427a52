// Size budgets of the function bundles (docs/performance.md). Minified sizes are exact for given sources and
// esbuild version, so unlike times they can be asserted: a budget is the objective where the bundle
// meets it, else the measured size rounded up to the next KB.
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from '../tools/build.ts';
import { PROJECT_ROOT } from '../tools/paths.ts';
import { type FunctionDefinition, templateFunctions } from '../tools/template/functions.ts';
import { loadTemplate } from '../tools/template/template.ts';

const KB = 1024;

/** Minified-byte budget per function; `excludingSchemas` leaves the generated validators out. */
const BUDGETS: Record<string, { readonly bytes: number; readonly excludingSchemas?: true }> = {
  // handler.mjs, what every cold start reads: our code (42,758 B, of which routing and answers exact
  // on every method ARN in three cache modes 8,435 B, docs/policies.md, and the sender-constraint
  // step every verified token with a `cnf` goes through, certificate bindings included, ~5 KB) and
  // aws-jwt-verify (8,502 B). Objective 45 KB, missed by 5 KB: 51,283 B. The DPoP wiring is not
  // in it (dpop.mjs, below). Budget = that size rounded up to the next KB.
  JwtAuthorizerFunction: { bytes: 51 * KB },
  // The bundle without the generated validation modules (shared/generated/validators/, 108,370 B
  // today, which grow with the API document): our code, the signing secret's read from Secrets
  // Manager, ajv-formats and ajv's runtime helpers. Objective 40 KB, missed by 29.3 KB: 70,929 B, of
  // which the secret's read 19,865 B (@smithy/signature-v4 9,554 B and the @smithy/core it uses
  // 4,644 B, our reader 5,667 B; docs/deploy.md#secrets), ajv-formats 7,726 B (the document's
  // `format` keywords), the strict readers of forms, multipart bodies and parameter styles ~13 KB
  // (docs/performance.md#bundles), and the route trie shared with the authorizers 3,386 B (greedy
  // and `:verb` segments, API Gateway's precedence; the scan of every route it replaced was 981 B:
  // docs/policies.md#routing). Budget = that size rounded up to the next KB.
  RequestValidatorFunction: { bytes: 70 * KB, excludingSchemas: true },
  // The whole bundle: the AWS SDK's DynamoDB client with its runtime, and the pepper's read from
  // Secrets Manager (its signer is the SDK's, already there; our reader 5,679 B). Objective 250 KB,
  // met: 241,504 B (the SDK's HTTP and IMDS credential providers are External: reached only after the
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

describe('the DPoP bundle of JwtAuthorizerFunction (dpop.mjs)', () => {
  // Read only when an issuer enables DPoP (docs/performance.md#dpop): the proof checks, the replay
  // store and its DynamoDB client. 239,093 B: @smithy/core 113,534 B, @aws-sdk/client-dynamodb
  // 28,676 B, @aws-sdk/core 22,193 B, ours 22,003 B, fast-uri 17,821 B (the htu normalisation),
  // @smithy/signature-v4 9,550 B. Budget = that size rounded up to the next KB.
  const DPOP_BUDGET = 234 * KB;

  it('keeps dpop.mjs within its minified budget, beside handler.mjs', async () => {
    // Arrange
    const fn = functions().find((f) => f.logicalId === 'JwtAuthorizerFunction') as FunctionDefinition;

    // Act
    const built = await ensureBuilt(fn);
    const bytes = statSync(join(dirname(built.bundle), 'dpop.mjs')).size;

    // Assert
    expect(bytes).toBeLessThanOrEqual(DPOP_BUDGET);
  });
});
