// The deploy prompts: every parameter grouped, every free-text value checked, and the values that
// would deploy a stack answering 503 everywhere refused by the Rules before anything is created.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKeyAuthorizerConfig } from '../../shared/credentials/config.ts';
import { readDpopConfig } from '../../shared/dpop/config.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { findFunction, templateEnvironment } from '../../tools/template/functions.ts';
import { resolveParameters } from '../../tools/template/resolve.ts';
import { loadTemplate, TemplateError } from '../../tools/template/template.ts';
import { PARAMETER_SETS, REQUIRED_PARAMETERS, refusingRules } from './expansion.ts';

const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
const parameters = template.Parameters ?? {};
const groups = (
  (
    template.Metadata as { 'AWS::CloudFormation::Interface': { ParameterGroups: { Parameters: string[] }[] } }
  )['AWS::CloudFormation::Interface'].ParameterGroups ?? []
).map((g) => g.Parameters);

describe('template parameters', () => {
  it('puts every parameter in exactly one group of the deploy prompts', () => {
    const grouped = groups.flat();

    expect([...grouped].sort()).toEqual(Object.keys(parameters).sort());
    expect(new Set(grouped).size).toBe(grouped.length);
  });

  it('bounds every free-text parameter with a pattern and a length', () => {
    const freeText = Object.entries(parameters).filter(
      ([, p]) => p.Type === 'String' && p.AllowedValues === undefined,
    );

    expect(freeText.length).toBeGreaterThan(5);
    for (const [name, p] of freeText)
      expect({
        name,
        pattern: typeof p.AllowedPattern,
        max: typeof (p as { MaxLength?: unknown }).MaxLength,
      }).toEqual({
        name,
        pattern: 'string',
        max: 'number',
      });
  });

  it.each([
    ['UpstreamUrl', 'http://backend.example.com'],
    ['UpstreamUrl', 'https://backend.example.com/?q=1'],
    ['UpstreamUrl', 'https://user:pw@backend.example.com'],
    ['JwtIssuers', '{"issuer":"x"}'],
    ['StageName', 'v1/x'],
    ['CustomDomainName', 'Orders.Example.com'],
    ['CustomDomainName', 'https://orders.example.com'],
    ['AllowedSourceCidrs', '203.0.113.0/24, 198.51.100.0/24'],
    ['AllowedSourceCidrs', '203.0.113.1'],
    ['CustomDomainCertificateArn', 'arn:aws:iam::123456789012:role/x'],
    ['AlarmTopicArn', 'arn:aws:sqs:us-east-1:123456789012:q'],
    ['JwtRequiredTyp', 'at jwt'],
    ['DpopPublicUrls', '{"domainName":"x"}'],
    ['MtlsTruststoreUri', 'https://bucket.s3.amazonaws.com/truststore.pem'],
    ['MtlsTruststoreVersion', 'v 1'],
  ])('refuses %s=%s before deploying', (name, value) => {
    expect(() => resolveParameters(template, { [name]: value })).toThrow(TemplateError);
  });

  // Every value the prompts accept must start the function it feeds: a bound wider than the
  // function's own range would deploy a stack whose cold starts fail.
  it.each([
    'CredentialCacheTtlSeconds',
    'BasicMaxFailures',
    'BasicFailureWindowSeconds',
    'BasicLockoutSeconds',
  ])('bounds %s on both sides, and the key authorizer starts at either bound', (name) => {
    const p = parameters[name] as { MinValue?: number; MaxValue?: number };
    const fn = findFunction(template, 'KeyAuthorizerFunction');

    const starts = [p.MinValue, p.MaxValue].map((value) => {
      const env = templateEnvironment('KeyAuthorizerFunction', { [name]: String(value) });
      return readKeyAuthorizerConfig({ ...env, AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds) });
    });

    expect([typeof p.MinValue, typeof p.MaxValue]).toEqual(['number', 'number']);
    expect(starts).toHaveLength(2);
  });

  it.each(['DpopIatWindowSeconds', 'DpopClockSkewSeconds'])(
    'bounds %s on both sides, and the DPoP settings of the JWT authorizer start at either bound',
    (name) => {
      const p = parameters[name] as { MinValue?: number; MaxValue?: number };
      const rules =
        '[{"domainName":"api.example.com","eventPathPrefix":"","publicBaseUrl":"https://api.example.com"}]';

      const starts = [p.MinValue, p.MaxValue].map((value) =>
        readDpopConfig({
          ...templateEnvironment('JwtAuthorizerFunction', { [name]: String(value), DpopPublicUrls: rules }),
          AWS_LAMBDA_FUNCTION_TIMEOUT: String(findFunction(template, 'JwtAuthorizerFunction').timeoutSeconds),
        }),
      );

      expect([typeof p.MinValue, typeof p.MaxValue]).toEqual(['number', 'number']);
      expect(starts).toHaveLength(2);
    },
  );

  it.each([
    ['UpstreamUrl', 'https://backend.example.com:8443/api/v1'],
    ['JwtIssuers', '[{"issuer":"https://idp.example.com/","audience":"orders-api"}]'],
    ['CustomDomainName', 'orders.api.example.com'],
    ['AllowedSourceCidrs', '203.0.113.0/24,198.51.100.7/32,2001:db8::/32'],
    ['CustomDomainCertificateArn', 'arn:aws-cn:acm:cn-north-1:123456789012:certificate/abc-123'],
    ['JwtRequiredTyp', 'at+jwt'],
    ['MtlsTruststoreUri', 's3://truststore-bucket/certs/truststore.pem'],
    [
      'DpopPublicUrls',
      '[{"domainName":"api.example.com","eventPathPrefix":"/orders","publicBaseUrl":"https://api.example.com/orders"}]',
    ],
  ])('accepts %s=%s', (name, value) => {
    expect(resolveParameters(template, { [name]: value })[name]).toBe(value);
  });
});

describe('template Rules', () => {
  it('refuse the defaults: no trusted issuer and no backend would answer 503 everywhere', () => {
    expect(refusingRules(template, {}).sort()).toEqual(['JwtIssuersConfigured', 'UpstreamUrlConfigured']);
  });

  it.each([
    [{ JwtIssuers: '[ ]' }, 'JwtIssuersConfigured'],
    [{ StageName: 'Stage' }, 'StageNameNotReserved'],
    [{ CustomDomainName: 'orders.example.com' }, 'CustomDomainNeedsCertificate'],
    [{ KeyApiCustomDomainName: 'keys.example.com' }, 'CustomDomainNeedsCertificate'],
    [{ AllowedSourceCidrs: '203.0.113.0/24' }, 'SourceIpRestrictionNeedsRestApisOnly'],
    [{ MtlsDomainName: 'mtls.example.com' }, 'MtlsDomainNeedsCertificateAndTruststore'],
    [
      {
        MtlsDomainName: 'mtls.example.com',
        MtlsCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123',
        MtlsTruststoreUri: 's3://truststore-bucket/truststore.pem',
      },
      'MtlsDomainNeedsCertificateAndTruststore',
    ],
  ])('refuse %j (%s)', (overrides, rule) => {
    expect(refusingRules(template, { ...REQUIRED_PARAMETERS, ...overrides })).toEqual([rule]);
  });

  it.each(Object.entries(PARAMETER_SETS))('accept the parameter set %s', (_name, set) => {
    expect(refusingRules(template, set)).toEqual([]);
  });
});
