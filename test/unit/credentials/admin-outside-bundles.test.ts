// The credentials admin side (API Gateway and CloudFormation clients, the admin store) is for the
// CLIs only: no function bundle may contain it, and no function may call API Gateway's control plane.
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { templateFunctions } from '../../../tools/template/functions.ts';
import { loadTemplate } from '../../../tools/template/template.ts';

const template = loadTemplate(resolve(PROJECT_ROOT, 'template.yaml'));
const ADMIN_ONLY =
  /client-api-gateway|client-cloudformation|apigateway-usage-keys|dynamo-admin|credentials\/admin\.ts/;

describe('the credentials admin side stays out of the functions', () => {
  it.each(templateFunctions(template).map((f) => [f.logicalId, f] as const))(
    '%s bundles no admin module and no API Gateway or CloudFormation client',
    async (_id, fn) => {
      // Act
      const result = await build({
        absWorkingDir: resolve(PROJECT_ROOT, fn.codeUri),
        entryPoints: [...fn.build.EntryPoints],
        bundle: true,
        platform: 'node',
        format: fn.build.Format ?? 'cjs',
        external: [...(fn.build.External ?? [])],
        write: false,
        outdir: join(PROJECT_ROOT, '.gatehouse', 'admin-outside-bundles-test'),
        metafile: true,
        logLevel: 'silent',
      });

      // Assert
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.length).toBeGreaterThan(10);
      expect(inputs.filter((i) => ADMIN_ONLY.test(i))).toEqual([]);
    },
  );

  it('grants KeyAuthorizerFunction no API Gateway action', () => {
    const policies = JSON.stringify(template.Resources.KeyAuthorizerFunction?.Properties?.Policies ?? []);
    expect(policies).toContain('dynamodb:GetItem');
    expect(policies).not.toMatch(/apigateway:/i);
  });
});
