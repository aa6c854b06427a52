// template.yaml deploys the protections of docs/hardening.md with the right properties. Parsed with the same
// loader the local tools use (short-form tags turned into long form).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { loadTemplate, type TemplateResource } from '../../tools/template/template.ts';

const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
const resources = template.Resources;
type Props = Record<string, unknown>;
const props = (id: string): Props => (resources[id]?.Properties ?? {}) as Props;
const ofType = (type: string): [string, TemplateResource][] =>
  Object.entries(resources).filter(([, r]) => r.Type === type);
const globalApi = (template.Globals?.Api ?? {}) as Props;
/** Every API with `Globals.Api` merged in, as the SAM transform does (the API's own values win). */
const apis: [string, TemplateResource][] = ofType('AWS::Serverless::Api').map(([id, api]) => [
  id,
  {
    ...api,
    Properties: {
      ...globalApi,
      ...api.Properties,
      Auth: { ...(globalApi.Auth as Props), ...(api.Properties?.Auth as Props) },
    },
  },
]);
const ref = (name: string) => ({ Ref: name });

/** A mapping template or access log format with every `$context` variable replaced by a string. */
function asJson(text: string): unknown {
  return JSON.parse(text.replace(/"\$context\.[A-Za-z.]+"/g, '"x"').replace(/\$context\.[A-Za-z.]+/g, '"x"'));
}

describe('template.yaml protections', () => {
  it('has a customer-managed KMS key with rotation on', () => {
    expect(props('GatehouseKey').EnableKeyRotation).toBe(true);
  });

  it('encrypts every log group with the Gatehouse key and sets a retention', () => {
    const groups = ofType('AWS::Logs::LogGroup');

    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const [id, group] of groups) {
      expect({ id, kms: group.Properties?.KmsKeyId }).toEqual({
        id,
        kms: { 'Fn::GetAtt': ['GatehouseKey', 'Arn'] },
      });
      expect({ id, retention: group.Properties?.RetentionInDays }).toEqual({
        id,
        retention: ref('LogRetentionDays'),
      });
    }
  });

  it('traces every function and every API stage with X-Ray', () => {
    expect(template.Globals?.Function?.Tracing).toBe('Active');
    for (const [id, api] of apis)
      expect({ id, tracing: api.Properties?.TracingEnabled }).toEqual({ id, tracing: true });
  });

  it('throttles every API stage from parameters, never logging request data', () => {
    for (const [id, api] of apis) {
      const settings = api.Properties?.MethodSettings as Props[];
      const stageWide = settings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*');
      expect({ id, stageWide }).toMatchObject({
        id,
        stageWide: {
          ThrottlingRateLimit: ref('ThrottlingRateLimit'),
          ThrottlingBurstLimit: ref('ThrottlingBurstLimit'),
          DataTraceEnabled: false,
          MetricsEnabled: true,
        },
      });
      for (const s of settings) expect(s.DataTraceEnabled).toBe(false);
    }
    expect(globalApi.MethodSettings).toContainEqual(
      expect.objectContaining({
        ResourcePath: '/~1orders',
        HttpMethod: 'POST',
        ThrottlingRateLimit: ref('WriteThrottlingRateLimit'),
      }),
    );
  });

  it('writes JSON access logs with the authorizer fields to an encrypted log group', () => {
    for (const [id, api] of apis) {
      const setting = api.Properties?.AccessLogSetting as {
        DestinationArn: { 'Fn::GetAtt': [string, string] };
        Format: string;
      };
      const group = resources[setting.DestinationArn['Fn::GetAtt'][0]];
      const format = setting.Format;

      expect({ id, type: group?.Type }).toEqual({ id, type: 'AWS::Logs::LogGroup' });
      expect(() => asJson(format)).not.toThrow();
      for (const field of [
        '$context.requestId',
        '$context.identity.sourceIp',
        '$context.status',
        '$context.authorizer.principalId',
        '$context.authorizer.error',
        '$context.authorizer.latency',
        '$context.resourcePath',
        '$context.httpMethod',
      ])
        expect(format).toContain(field);
      // Headers and bodies would carry credentials.
      expect(format).not.toMatch(
        /\$(input|context\.(requestOverride|responseOverride))|method\.request\.header/,
      );
    }
  });

  it.each([
    ['UNAUTHORIZED', 401, undefined],
    ['ACCESS_DENIED', 403, undefined],
    ['AUTHORIZER_FAILURE', 503, '5'],
    ['AUTHORIZER_CONFIGURATION_ERROR', 503, '5'],
    ['THROTTLED', 429, '1'],
    ['QUOTA_EXCEEDED', 429, undefined],
    ['REQUEST_TOO_LARGE', 413, undefined],
    ['BAD_REQUEST_BODY', 400, undefined],
  ] as const)('answers %s with %i as application/problem+json on every API', (type, status, retryAfter) => {
    for (const [id, api] of apis) {
      const response = (api.Properties?.GatewayResponses as Record<string, Props> | undefined)?.[type] as {
        StatusCode: number;
        ResponseParameters: { Headers: Record<string, string> };
        ResponseTemplates: Record<string, string>;
      };
      const body = asJson(response.ResponseTemplates['application/json'] as string) as Props;

      expect({ id, status: response.StatusCode }).toEqual({ id, status });
      expect(response.ResponseParameters.Headers['Content-Type']).toBe("'application/problem+json'");
      if (retryAfter !== undefined)
        expect(response.ResponseParameters.Headers['Retry-After']).toBe(`'${retryAfter}'`);
      expect(body).toMatchObject({ type: 'about:blank', status });
    }
  });

  it('puts a WAF web ACL with the managed rule groups and a per-IP rate rule on every API stage', () => {
    const acl = resources.GatehouseWebAcl as TemplateResource;
    const rules = acl.Properties?.Rules as Props[];
    const managed = rules.map(
      (r) =>
        (r.Statement as { ManagedRuleGroupStatement?: { Name: string } }).ManagedRuleGroupStatement?.Name,
    );
    const rate = rules.find((r) => (r.Statement as Props).RateBasedStatement !== undefined);
    const associations = ofType('AWS::WAFv2::WebACLAssociation');

    expect(acl.Condition).toBe('WafEnabled');
    expect(acl.Properties?.Scope).toBe('REGIONAL');
    expect(managed).toEqual(
      expect.arrayContaining([
        'AWSManagedRulesCommonRuleSet',
        'AWSManagedRulesSQLiRuleSet',
        'AWSManagedRulesKnownBadInputsRuleSet',
        'AWSManagedRulesAmazonIpReputationList',
      ]),
    );
    expect(rate).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: ref('WafRateLimitPerIp'), AggregateKeyType: 'IP' } },
    });
    for (const [id] of apis) {
      const association = associations.find(([, a]) =>
        JSON.stringify(a.Properties?.ResourceArn).includes(`\${${id}}`),
      );
      expect({ api: id, associated: association?.[1].Condition }).toEqual({
        api: id,
        associated: 'WafEnabled',
      });
    }
    expect(template.Conditions?.WafEnabled).toEqual({ 'Fn::Equals': [ref('EnableWaf'), 'true'] });
  });

  it('offers a custom domain with TLS 1.2 only, behind a condition', () => {
    const domains = ofType('AWS::ApiGateway::DomainName');

    expect(domains.length).toBeGreaterThan(0);
    for (const [, domain] of domains) {
      expect(domain.Condition).toBe('HasCustomDomain');
      expect(domain.Properties?.SecurityPolicy).toBe('TLS_1_2');
    }
  });

  it('restricts source IPs with a resource policy when AllowedSourceCidrs is set', () => {
    for (const [id, api] of apis) {
      const policy = JSON.stringify((api.Properties?.Auth as Props | undefined)?.ResourcePolicy);
      expect({ id, conditional: policy?.includes('HasSourceIpRestriction') }).toEqual({
        id,
        conditional: true,
      });
      expect(policy).toContain('NotIpAddress');
    }
  });

  it('offers a CloudTrail trail with DynamoDB data events, behind a condition, validated and encrypted', () => {
    const [, trail] = ofType('AWS::CloudTrail::Trail')[0] as [string, TemplateResource];
    const selectors = JSON.stringify(trail.Properties?.AdvancedEventSelectors);

    expect(trail.Condition).toBe('AuditTrailEnabled');
    expect(trail.Properties?.EnableLogFileValidation).toBe(true);
    expect(trail.Properties?.KMSKeyId).toBeDefined();
    expect(selectors).toContain('AWS::DynamoDB::Table');
    expect(selectors).toContain('"Data"');
    // Data events of the credentials table only (the other tables are not worth the cost).
    expect(selectors).toContain('"CredentialsTable","Arn"');
  });

  it('raises the documented alarms to the AlarmTopicArn topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Props);
    const metrics = alarms.map((a) => `${a.Namespace}/${a.MetricName}`);

    expect(metrics).toEqual(
      expect.arrayContaining([
        'AWS/Lambda/Errors',
        'AWS/Lambda/Throttles',
        'AWS/ApiGateway/5XXError',
        'AWS/ApiGateway/4XXError',
        'AWS/WAFV2/BlockedRequests',
      ]),
    );
    if (ofType('AWS::DynamoDB::Table').length > 0)
      expect(metrics).toContain('AWS/DynamoDB/ThrottledRequests');
    for (const alarm of alarms)
      expect(alarm.AlarmActions).toEqual({
        'Fn::If': ['HasAlarmTopic', [ref('AlarmTopicArn')], ref('AWS::NoValue')],
      });
  });

  it('grants no function a wildcard action', () => {
    const functions = ofType('AWS::Serverless::Function');
    const text = JSON.stringify(functions.map(([, f]) => f.Properties?.Policies ?? []));

    expect(text).not.toMatch(/"Action":\s*"(\*|[a-z0-9-]+:\*)"/);
    expect(text).not.toMatch(/"(\*|[a-z0-9-]+:\*)"/);
  });
});

const hasTool = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;

describe('template.yaml checks of CI', () => {
  it.skipIf(!hasTool('cfn-lint', ['--version']))(
    'passes cfn-lint with no errors and no warnings',
    () => {
      const run = spawnSync('cfn-lint', ['template.yaml'], { cwd: PROJECT_ROOT, encoding: 'utf8' });

      expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
      expect(run.status).toBe(0);
    },
    120_000,
  );

  it.skipIf(!hasTool('python3', ['-c', 'import samtranslator']))(
    'expands with the SAM translator',
    () => {
      const run = spawnSync('python3', ['.ci/sam-translate.py', 'template.yaml'], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      });

      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
    120_000,
  );
});
