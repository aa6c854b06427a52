// What CloudFormation really deploys: template.yaml expanded by AWS's SAM translator for each
// parameter set of ./expansion.ts, with the set's conditions applied. Every protection of
// docs/hardening.md and docs/deploy.md is asserted on that output, resource by resource.
import { beforeAll, describe, expect, it } from 'vitest';
import { DPOP_REPLAY_TABLE_KEY } from '../../shared/dpop/dynamo-replay-store.ts';
import { DPOP_DEFAULTS } from '../../shared/dpop/proof.ts';
import { evaluateResourcePolicy, readResourcePolicy } from '../../tools/gateway/resource-policy.ts';
import { DOCUMENTED_METRICS, GATEHOUSE_SERVICES } from './documented-metrics.ts';
import {
  type DeployedResource,
  type Expansion,
  expandAll,
  ofType,
  PARAMETER_SETS,
  translatorAvailable,
  waitsFor,
} from './expansion.ts';

type Props = Record<string, unknown>;
const SET_NAMES = Object.keys(PARAMETER_SETS);

// CI has the translator (.ci/run checks); elsewhere the suite is skipped rather than failing.
const available = translatorAvailable();
if (!available && process.env.CI !== undefined)
  throw new Error('CI needs python3 with aws-sam-translator for the template expansion tests');

let expansions: Map<string, Expansion>;
beforeAll(() => {
  if (available) expansions = expandAll().expansions;
}, 120_000);

const get = (name: string): Expansion => expansions.get(name) as Expansion;
const obj = (v: unknown): Props => (typeof v === 'object' && v !== null ? (v as Props) : {});
const TLS_12_OR_LATER = ['SecurityPolicy_TLS13_1_2_2021_06', 'SecurityPolicy_TLS13_1_3_2025_09'];

/** API Gateway's gateway responses of a REST API (the translator writes them into its OpenAPI body). */
function gatewayResponses(api: DeployedResource): Record<string, Props> {
  return obj(obj(api.properties.Body)['x-amazon-apigateway-gateway-responses']) as Record<string, Props>;
}

/** `disableExecuteApiEndpoint` of an API's OpenAPI body (REST and HTTP alike). */
function executeApiDisabled(api: DeployedResource): boolean {
  const servers = obj(api.properties.Body).servers as Props[] | undefined;
  return obj(servers?.[0]?.['x-amazon-apigateway-endpoint-configuration']).disableExecuteApiEndpoint === true;
}

/** JSON of an access log format, each `$context` variable replaced by a string. */
function accessLogFields(format: string): Record<string, string> {
  return JSON.parse(format) as Record<string, string>;
}

describe.skipIf(!available)('the SAM translator output (what CloudFormation deploys)', () => {
  describe.each(SET_NAMES)('parameter set %s', (name) => {
    it('creates no stage but the configured ones (no implicit "Stage" stage)', () => {
      const e = get(name);
      const stages = [...ofType(e, 'AWS::ApiGateway::Stage'), ...ofType(e, 'AWS::ApiGatewayV2::Stage')].map(
        ([, s]) => s.properties.StageName,
      );
      const deploymentStages = ofType(e, 'AWS::ApiGateway::Deployment').map(
        ([, d]) => d.properties.StageName,
      );

      expect(stages).toHaveLength(5);
      expect(new Set(stages)).toEqual(new Set([e.parameters.StageName ?? 'v1']));
      // A Deployment with a StageName creates that stage outside every setting above.
      expect(deploymentStages).toEqual([undefined, undefined, undefined]);
    });

    it('protects every REST stage: WAF (when on), throttling, access logs, tracing, no data trace', () => {
      const e = get(name);
      const associations = ofType(e, 'AWS::WAFv2::WebACLAssociation').map(
        ([, a]) => a.properties.ResourceArn,
      );
      const stages = ofType(e, 'AWS::ApiGateway::Stage');

      expect(stages.length).toBe(3);
      for (const [id, stage] of stages) {
        const p = stage.properties;
        const settings = p.MethodSettings as Props[];
        const stageWide = settings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*');
        const access = obj(p.AccessLogSetting);

        expect({
          id,
          waf: associations.includes(`arn:aws:apigateway:us-east-1::/restapis/${p.RestApiId}/stages/${id}`),
        }).toEqual({ id, waf: e.parameters.EnableWaf !== 'false' });
        expect({
          id,
          rate: Number(stageWide?.ThrottlingRateLimit),
          burst: Number(stageWide?.ThrottlingBurstLimit),
        }).toEqual({ id, rate: expect.any(Number), burst: expect.any(Number) });
        expect(Number(stageWide?.ThrottlingRateLimit)).toBeGreaterThan(0);
        // openapi.yaml marks createOrder `x-gatehouse-throttle: write`.
        expect({
          id,
          write: settings.find((s) => s.ResourcePath === '/~1orders' && s.HttpMethod === 'POST'),
        }).toEqual({
          id,
          write: {
            ...stageWide,
            ResourcePath: '/~1orders',
            HttpMethod: 'POST',
            ThrottlingRateLimit: e.stack.parameters.WriteThrottlingRateLimit,
            ThrottlingBurstLimit: e.stack.parameters.WriteThrottlingBurstLimit,
          },
        });
        expect(settings.every((s) => s.DataTraceEnabled === false && s.LoggingLevel === undefined)).toBe(
          true,
        );
        expect({ id, tracing: p.TracingEnabled }).toEqual({ id, tracing: true });
        expect(e.resources[String(access.DestinationArn).replace(/\.Arn$/, '')]?.type).toBe(
          'AWS::Logs::LogGroup',
        );
        expect(Object.keys(accessLogFields(String(access.Format)))).toEqual(
          expect.arrayContaining([
            'requestId',
            'sourceIp',
            'status',
            'principalId',
            'authorizerError',
            'wafStatus',
          ]),
        );
      }
      if (e.parameters.EnableWaf === 'false') expect(associations).toEqual([]);
    });

    it('protects every HTTP API stage: throttling and access logs', () => {
      const e = get(name);
      const stages = ofType(e, 'AWS::ApiGatewayV2::Stage');

      expect(stages.length).toBe(2);
      for (const [id, stage] of stages) {
        const p = stage.properties;
        const routes = obj(p.DefaultRouteSettings);
        const access = obj(p.AccessLogSettings);

        expect({
          id,
          rate: Number(routes.ThrottlingRateLimit) > 0,
          burst: Number(routes.ThrottlingBurstLimit) > 0,
        }).toEqual({ id, rate: true, burst: true });
        expect(obj(obj(p.RouteSettings)['POST /orders']).ThrottlingRateLimit).toBe(
          e.stack.parameters.WriteThrottlingRateLimit,
        );
        expect(e.resources[String(access.DestinationArn).replace(/\.Arn$/, '')]?.type).toBe(
          'AWS::Logs::LogGroup',
        );
        expect(Object.keys(accessLogFields(String(access.Format)))).toEqual(
          expect.arrayContaining(['requestId', 'sourceIp', 'status', 'routeKey', 'authorizerError']),
        );
      }
    });

    it('writes no header, body or credential into any access log', () => {
      const e = get(name);
      for (const [, stage] of [
        ...ofType(e, 'AWS::ApiGateway::Stage'),
        ...ofType(e, 'AWS::ApiGatewayV2::Stage'),
      ]) {
        const format = String(
          obj(stage.properties.AccessLogSetting ?? stage.properties.AccessLogSettings).Format,
        );
        expect(format).not.toMatch(/\$(input|request)|requestOverride|responseOverride|header|\.claims/i);
      }
    });

    it('starts every API after the account CloudWatch role is set, when this stack sets it', () => {
      const e = get(name);
      const managed = e.parameters.ConfigureApiGatewayAccount === 'true';
      const stages = [...ofType(e, 'AWS::ApiGateway::Stage'), ...ofType(e, 'AWS::ApiGatewayV2::Stage')];

      expect(e.resources.ApiGatewayAccount === undefined).toBe(!managed);
      for (const [id] of stages)
        expect({ id, waits: waitsFor(e, id, 'ApiGatewayAccount') }).toEqual({ id, waits: managed });
      if (managed) expect(e.resources.ApiGatewayCloudWatchRole?.raw.DeletionPolicy).toBe('Retain');
    });

    it('retains every log group, and the KMS key of everything it retains', () => {
      const e = get(name);
      const retained = Object.entries(e.resources).filter(([, r]) => r.raw.DeletionPolicy === 'Retain');
      const keys = new Set(ofType(e, 'AWS::KMS::Key').map(([id]) => id));

      for (const [id, group] of ofType(e, 'AWS::Logs::LogGroup'))
        expect({ id, deletion: group.raw.DeletionPolicy, replace: group.raw.UpdateReplacePolicy }).toEqual({
          id,
          deletion: 'Retain',
          replace: 'Retain',
        });
      for (const [id, resource] of retained) {
        const used = [...keys].filter((key) => JSON.stringify(resource.properties).includes(`"${key}`));
        expect({ id, replace: resource.raw.UpdateReplacePolicy }).toEqual({ id, replace: 'Retain' });
        for (const key of used) {
          const k = e.resources[key] as DeployedResource;
          expect({ id, key, deletion: k.raw.DeletionPolicy, replace: k.raw.UpdateReplacePolicy }).toEqual({
            id,
            key,
            deletion: 'Retain',
            replace: 'Retain',
          });
        }
      }
      expect(retained.map(([id]) => id)).toEqual(
        expect.arrayContaining([
          'CredentialsTable',
          'ApiKeyPepperSecret',
          'GatehouseKey',
          'ApiAccessLogGroup',
        ]),
      );
    });

    it('encrypts every log group, table, secret and bucket with the retained customer-managed key', () => {
      const e = get(name);
      const kms = (r: DeployedResource): unknown =>
        r.properties.KmsKeyId ??
        obj(r.properties.SSESpecification).KMSMasterKeyId ??
        JSON.stringify(r.properties.BucketEncryption ?? '');

      for (const type of [
        'AWS::Logs::LogGroup',
        'AWS::DynamoDB::Table',
        'AWS::SecretsManager::Secret',
        'AWS::S3::Bucket',
      ])
        for (const [id, r] of ofType(e, type))
          expect({ id, key: String(kms(r)) }).toEqual({ id, key: expect.stringContaining('GatehouseKey') });
    });

    it('puts no secret in any function environment; secrets are read at run time, IAM scoped to each', () => {
      const e = get(name);
      const noEcho = Object.entries(e.template.Parameters ?? {})
        .filter(([, p]) => p.NoEcho === true)
        .map(([n]) => n);

      for (const [id, fn] of ofType(e, 'AWS::Lambda::Function')) {
        const raw = JSON.stringify(obj(obj(fn.raw.Properties).Environment));
        const vars = obj(obj(fn.properties.Environment).Variables);

        expect(raw).not.toContain('{{resolve:');
        for (const parameter of noEcho) expect(raw).not.toContain(`"Ref":"${parameter}"`);
        for (const [variable, value] of Object.entries(vars)) {
          // Durations are settings, not secrets.
          if (!/SECRET|PEPPER|PASSWORD|TOKEN|PRIVATE/.test(variable) || /_(SECONDS|MS)$/.test(variable))
            continue;
          // A local value's slot for `sam local invoke --env-vars`, always empty in the template.
          if (value === '' && vars[`${variable}_ARN`] !== undefined) continue;
          // Only the ARN of a secret may be there, never a value.
          expect({ id, variable, arnOf: e.resources[String(value)]?.type }).toEqual({
            id,
            variable: expect.stringMatching(/_SECRET_ARN$/),
            arnOf: 'AWS::SecretsManager::Secret',
          });
        }
      }
      const readers = ofType(e, 'AWS::IAM::Role').flatMap(([role, r]) =>
        ((r.properties.Policies ?? []) as Props[]).flatMap((p) =>
          (obj(p.PolicyDocument).Statement as Props[])
            .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:'))
            .map((s) => ({ role, action: s.Action, resource: s.Resource })),
        ),
      );
      expect(readers.sort((a, b) => a.role.localeCompare(b.role))).toEqual([
        {
          role: 'KeyAuthorizerFunctionRole',
          action: 'secretsmanager:GetSecretValue',
          resource: 'ApiKeyPepperSecret',
        },
        {
          role: 'RequestValidatorFunctionRole',
          action: 'secretsmanager:GetSecretValue',
          resource: 'UpstreamSigningSecret',
        },
      ]);
    });

    it('grants no function role a wildcard action or resource', () => {
      const e = get(name);
      for (const [role, r] of ofType(e, 'AWS::IAM::Role')) {
        const statements = ((r.properties.Policies ?? []) as Props[]).flatMap(
          (p) => obj(p.PolicyDocument).Statement as Props[],
        );
        for (const s of statements) {
          expect({ role, action: JSON.stringify(s.Action) }).not.toEqual({
            role,
            action: expect.stringMatching(/"(\*|[a-z0-9-]+:\*)"/),
          });
          expect({ role, resource: JSON.stringify(s.Resource) }).not.toEqual({
            role,
            resource: expect.stringMatching(/"\*"/),
          });
        }
      }
    });

    it('watches only documented metrics, each with a documented dimension set pointing at this stack', () => {
      const e = get(name);
      const functions = ofType(e, 'AWS::Lambda::Function');
      const serviceNames = functions.map(
        ([, f]) => obj(obj(f.properties.Environment).Variables).POWERTOOLS_SERVICE_NAME,
      );
      const namespace = obj(
        obj(functions[0]?.[1].properties.Environment).Variables,
      ).POWERTOOLS_METRICS_NAMESPACE;
      const restApis = new Map(
        ofType(e, 'AWS::ApiGateway::RestApi').map(([id, a]) => [String(a.properties.Name), id]),
      );
      const acl = e.resources.GatehouseWebAcl;

      for (const [id, alarm] of ofType(e, 'AWS::CloudWatch::Alarm')) {
        const stats =
          alarm.properties.Metrics === undefined
            ? [alarm.properties]
            : (alarm.properties.Metrics as Props[])
                .filter((m) => m.MetricStat !== undefined)
                .map((m) => obj(obj(m.MetricStat).Metric));
        expect(stats.length).toBeGreaterThan(0);
        for (const metric of stats) {
          const ns = String(metric.Namespace);
          const dims = Object.fromEntries(
            ((metric.Dimensions ?? []) as Props[]).map((d) => [String(d.Name), String(d.Value)]),
          );
          const documented = DOCUMENTED_METRICS[ns]?.[String(metric.MetricName)];

          expect({ id, metric: `${ns}/${metric.MetricName}`, documented: documented !== undefined }).toEqual({
            id,
            metric: `${ns}/${metric.MetricName}`,
            documented: true,
          });
          expect({ id, dimensions: Object.keys(dims).sort() }).toEqual({
            id,
            dimensions: expect.toSatisfy((names: string[]) =>
              (documented ?? []).some((s) => s.join() === names.join()),
            ),
          });
          // Each value names something of this stack.
          if ('FunctionName' in dims)
            expect(e.resources[dims.FunctionName as string]?.type).toBe('AWS::Lambda::Function');
          if ('ApiName' in dims) {
            const api = restApis.get(dims.ApiName as string);
            expect({ id, api }).toEqual({ id, api: expect.any(String) });
            expect(e.resources[dims.Stage as string]?.properties.RestApiId).toBe(api);
          }
          if ('ApiId' in dims) {
            expect(e.resources[dims.ApiId as string]?.type).toBe('AWS::ApiGatewayV2::Api');
            expect(e.resources[dims.Stage as string]?.properties.ApiId).toBe(dims.ApiId);
          }
          if ('TableName' in dims)
            expect(e.resources[dims.TableName as string]?.type).toBe('AWS::DynamoDB::Table');
          if ('Operation' in dims) expect(['GetItem', 'UpdateItem']).toContain(dims.Operation);
          if (ns === 'AWS/WAFV2') {
            expect(dims.WebACL).toBe(obj(acl?.properties.VisibilityConfig).MetricName);
            expect(dims.Region).toBe('us-east-1');
            expect(dims.Rule).toBe('ALL');
          }
          if (ns === 'Gatehouse') {
            expect(ns).toBe(namespace);
            expect(serviceNames).toContain(dims.service);
            expect(GATEHOUSE_SERVICES).toContain(dims.service);
          }
        }
      }
    });

    it('alarms on real failures of every function and API, never on refusals', () => {
      const e = get(name);
      const alarms = ofType(e, 'AWS::CloudWatch::Alarm').map(([, a]) => a.properties);
      const watched = (ns: string, metric: string, dim: string, value: string) =>
        alarms.some(
          (a) =>
            a.Namespace === ns &&
            a.MetricName === metric &&
            (a.Dimensions as Props[]).some((d) => d.Name === dim && d.Value === value),
        );

      for (const service of GATEHOUSE_SERVICES)
        expect({ service, alarmed: watched('Gatehouse', 'DependencyFailures', 'service', service) }).toEqual({
          service,
          alarmed: true,
        });
      for (const [fn] of ofType(e, 'AWS::Lambda::Function')) {
        expect({ fn, throttles: watched('AWS/Lambda', 'Throttles', 'FunctionName', fn) }).toEqual({
          fn,
          throttles: true,
        });
        // Lambda counts every thrown Unauthorized (401) as an error.
        expect({ fn, errors: watched('AWS/Lambda', 'Errors', 'FunctionName', fn) }).toEqual({
          fn,
          errors: false,
        });
      }
      for (const [stage, s] of ofType(e, 'AWS::ApiGateway::Stage')) {
        const api = String(e.resources[String(s.properties.RestApiId)]?.properties.Name);
        for (const metric of ['5XXError', 'Latency'])
          expect({ stage, metric, alarmed: watched('AWS/ApiGateway', metric, 'ApiName', api) }).toEqual({
            stage,
            metric,
            alarmed: true,
          });
      }
      if (e.parameters.EnableHttpApis !== 'false')
        for (const [stage, s] of ofType(e, 'AWS::ApiGatewayV2::Stage'))
          for (const metric of ['5xx', 'Latency'])
            expect({
              stage,
              metric,
              alarmed: watched('AWS/ApiGateway', metric, 'ApiId', String(s.properties.ApiId)),
            }).toEqual({ stage, metric, alarmed: true });
    });

    it('sends every alarm to AlarmTopicArn when it is set', () => {
      const e = get(name);
      for (const [id, alarm] of ofType(e, 'AWS::CloudWatch::Alarm'))
        expect({ id, actions: alarm.properties.AlarmActions }).toEqual({
          id,
          actions: e.parameters.AlarmTopicArn === undefined ? undefined : [e.parameters.AlarmTopicArn],
        });
    });

    it('accepts TLS 1.2 or later only, on every endpoint a client can reach', () => {
      const e = get(name);
      const domains = ofType(e, 'AWS::ApiGateway::DomainName');
      const mapped = new Set(
        ofType(e, 'AWS::ApiGateway::BasePathMapping').map(([, m]) => String(m.properties.RestApiId)),
      );

      for (const [id, api] of ofType(e, 'AWS::ApiGateway::RestApi')) {
        expect({
          id,
          policy: api.properties.SecurityPolicy,
          mode: api.properties.EndpointAccessMode,
        }).toEqual({
          id,
          policy: e.stack.parameters.TlsSecurityPolicy,
          mode: 'STRICT',
        });
        // Behind a custom domain, the execute-api endpoint is off: the domain is the only way in.
        expect({ id, disabled: executeApiDisabled(api) }).toEqual({ id, disabled: mapped.has(id) });
      }
      expect(TLS_12_OR_LATER).toContain(e.stack.parameters.TlsSecurityPolicy);
      for (const [id, d] of domains)
        expect({
          id,
          policy: TLS_12_OR_LATER.includes(String(d.properties.SecurityPolicy)),
          mode: d.properties.EndpointAccessMode,
        }).toEqual({ id, policy: true, mode: 'STRICT' });
      // HTTP APIs accept TLS 1.2+ only, always (docs/deploy.md#domains-and-tls); no domain of theirs could lower it.
      expect(ofType(e, 'AWS::ApiGatewayV2::DomainName')).toEqual([]);
      for (const [id, api] of ofType(e, 'AWS::ApiGatewayV2::Api'))
        expect({ id, disabled: executeApiDisabled(api) }).toEqual({
          id,
          disabled: e.parameters.EnableHttpApis === 'false',
        });
      const expectedDomains = [
        e.parameters.CustomDomainName,
        e.parameters.KeyApiCustomDomainName,
        e.parameters.MtlsDomainName,
      ].filter(Boolean);
      expect(domains.map(([, d]) => d.properties.DomainName).sort()).toEqual(expectedDomains.sort());
    });

    it('answers unknown routes, 4xx and 5xx with problem+json, and names the accepted schemes in 401s', () => {
      const e = get(name);
      for (const [id, api] of ofType(e, 'AWS::ApiGateway::RestApi')) {
        const responses = gatewayResponses(api);
        for (const type of [
          'MISSING_AUTHENTICATION_TOKEN',
          'DEFAULT_4XX',
          'DEFAULT_5XX',
          'UNAUTHORIZED',
          'ACCESS_DENIED',
          'AUTHORIZER_FAILURE',
          'THROTTLED',
          'QUOTA_EXCEEDED',
          'WAF_FILTERED',
        ]) {
          const r = obj(responses[type]);
          expect({
            id,
            type,
            contentType: obj(r.responseParameters)['gatewayresponse.header.Content-Type'],
          }).toEqual({
            id,
            type,
            contentType: "'application/problem+json'",
          });
          const body = String(obj(r.responseTemplates)['application/json']).replace(
            /\$context\.[A-Za-z.]+/g,
            '"x"',
          );
          expect(JSON.parse(body.replace(/""x""/g, '"x"'))).toMatchObject({ type: 'about:blank' });
        }
        // OrdersApi has an AWS_IAM route: API Gateway answers an unsigned request to it with this
        // response type too, so it stays 403 there (as in AWS); elsewhere it only means no route.
        expect({ id, status: obj(responses.MISSING_AUTHENTICATION_TOKEN).statusCode }).toEqual({
          id,
          status: id === 'OrdersApi' ? '403' : '404',
        });
        const challenge = String(
          obj(obj(responses.UNAUTHORIZED).responseParameters)['gatewayresponse.header.WWW-Authenticate'],
        );
        if (id === 'OrdersApi') expect(challenge).toBe("'Bearer'");
        else if (id === 'OrdersDpopApi') {
          // Static, and exactly the proof algorithms the authorizer accepts (RFC 9449 §7.1 `algs`).
          const algorithms = obj(
            obj(e.resources.JwtAuthorizerFunction?.properties.Environment).Variables,
          ).DPOP_ALGORITHMS;
          expect(challenge).toBe(`'Bearer, DPoP algs="${String(algorithms)}"'`);
          expect(String(algorithms).split(' ')).toEqual([...DPOP_DEFAULTS.algorithms]);
        } else
          expect(challenge).toMatch(
            /^'Basic realm="[^"]+", charset="UTF-8", ApiKey realm="[^"]+", header="x-api-key"'$/,
          );
      }
    });

    it('caches HTTP API authorizer answers per method and path (bound tenant paths), and the key authorizers not at all', () => {
      const e = get(name);
      expect(ofType(e, 'AWS::ApiGatewayV2::Api')).toHaveLength(2);
      for (const [id, api] of ofType(e, 'AWS::ApiGatewayV2::Api')) {
        const schemes = obj(obj(obj(api.properties.Body).components).securitySchemes);
        for (const [scheme, s] of Object.entries(schemes)) {
          const authorizer = obj(obj(s)['x-amazon-apigateway-authorizer']);
          const ttl = Number(authorizer.authorizerResultTtlInSeconds ?? 300);
          expect({
            id,
            scheme,
            simple: authorizer.enableSimpleResponses,
            payload: authorizer.authorizerPayloadFormatVersion,
          }).toEqual({ id, scheme, simple: true, payload: '2.0' });
          // A route key (GET /tenants/{tenantId}/orders) does not hold the tenant: a cached simple
          // response must be keyed by the concrete path (docs/policies.md#cache-modes).
          if (ttl > 0)
            expect(authorizer.identitySource).toEqual(
              expect.arrayContaining(['$context.httpMethod', '$context.path']),
            );
          if (scheme === 'KeyAuthorizer') expect(ttl).toBe(0);
        }
      }
    });

    it('keeps WAF, usage plans and the validator limits one coherent set (docs/hardening.md#limits)', () => {
      const e = get(name);
      const p = e.stack.parameters;
      const validator = obj(obj(e.resources.RequestValidatorFunction?.properties.Environment).Variables);
      const acl = e.resources.GatehouseWebAcl;

      // The per-IP WAF limit never blocks a single client within its tier.
      expect(Number(p.WafRateLimitPerIp)).toBeGreaterThanOrEqual(Number(p.PremiumTierRateLimit) * 300);
      // API Gateway refuses bodies over 10 MB; the validator's own limit sits below it.
      expect(Number(validator.MAX_BODY_BYTES)).toBeLessThan(10 * 1024 * 1024);
      if (acl !== undefined) {
        const rules = acl.properties.Rules as Props[];
        const common = rules.find(
          (r) => obj(obj(r.Statement).ManagedRuleGroupStatement).Name === 'AWSManagedRulesCommonRuleSet',
        );
        const overrides = obj(obj(common?.Statement).ManagedRuleGroupStatement)
          .RuleActionOverrides as Props[];
        const rate = obj(
          obj(rules.find((r) => obj(r.Statement).RateBasedStatement !== undefined)?.Statement)
            .RateBasedStatement,
        );
        // The common rule set would block every body over 8 KB with a 403.
        expect(overrides).toContainEqual({ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } });
        expect(rate).toMatchObject({
          Limit: p.WafRateLimitPerIp,
          EvaluationWindowSec: 300,
          AggregateKeyType: 'IP',
        });
        const logging = ofType(e, 'AWS::WAFv2::LoggingConfiguration')[0]?.[1].properties as Props;
        const group = e.resources.WafLogGroup?.properties as Props;
        expect(String(group.LogGroupName)).toMatch(/^aws-waf-logs-/);
        expect(logging.LogDestinationConfigs).toEqual([
          `arn:aws:logs:us-east-1:123456789012:log-group:WafLogGroup`,
        ]);
        expect(logging.RedactedFields).toEqual(
          expect.arrayContaining([
            { SingleHeader: { Name: 'authorization' } },
            { SingleHeader: { Name: 'x-api-key' } },
          ]),
        );
      } else expect(e.parameters.EnableWaf).toBe('false');
    });

    it('serves the DPoP API with the routes of OrdersApi but its AWS_IAM ones, behind the JWT authorizer as REQUEST, never cached', () => {
      const e = get(name);
      const operations = (api: DeployedResource | undefined) =>
        Object.entries(obj(obj(api?.properties.Body).paths)).flatMap(([path, methods]) =>
          Object.entries(obj(methods)).map(([method, op]) => ({
            route: `${method.toUpperCase()} ${path}`,
            security: JSON.stringify(obj(op).security),
          })),
        );
      const dpop = e.resources.OrdersDpopApi;
      const body = obj(dpop?.properties.Body);
      const scheme = obj(obj(obj(body.components).securitySchemes).JwtDpopAuthorizer);
      const authorizer = obj(scheme['x-amazon-apigateway-authorizer']);
      const bearerRoutes = operations(e.resources.OrdersApi);
      // The SigV4 service routes (the fulfilment callback) are OrdersApi's alone (AwsIamRoutes: false).
      const iamRoutes = bearerRoutes.filter((o) => o.security === '[{"AWS_IAM":[]}]').map((o) => o.route);

      expect(iamRoutes).toEqual(['POST /internal/fulfilment/{orderId}/callback']);
      expect(
        operations(dpop)
          .map((o) => o.route)
          .sort(),
      ).toEqual(
        bearerRoutes
          .map((o) => o.route)
          .filter((r) => !iamRoutes.includes(r))
          .sort(),
      );
      for (const op of operations(dpop)) {
        const publicRoute = bearerRoutes.find((b) => b.route === op.route)?.security === '[{"NONE":[]}]';
        expect({ route: op.route, security: op.security }).toEqual({
          route: op.route,
          security: publicRoute ? '[{"NONE":[]}]' : '[{"JwtDpopAuthorizer":[]}]',
        });
      }
      // TTL 0 and no identity source: every request and every proof reaches the authorizer (a
      // cached answer would let a replayed proof through unseen), and a request without some
      // header is not refused before the authorizer decides.
      expect(authorizer).toMatchObject({ type: 'request', authorizerResultTtlInSeconds: 0 });
      expect(authorizer.identitySource ?? '').toBe('');
      expect(String(authorizer.authorizerUri)).toContain('/functions/JwtAuthorizerFunction.Arn/invocations');
    });

    it('records DPoP proofs in a KMS-encrypted table with TTL that the JWT authorizer may only PutItem to', () => {
      const e = get(name);
      const table = e.resources.DpopReplayTable?.properties as Props;
      const env = obj(obj(e.resources.JwtAuthorizerFunction?.properties.Environment).Variables);
      const role = e.resources.JwtAuthorizerFunctionRole?.properties as Props;
      const statements = ((role.Policies ?? []) as Props[]).flatMap(
        (p) => obj(p.PolicyDocument).Statement as Props[],
      );

      expect(table.KeySchema).toEqual(DPOP_REPLAY_TABLE_KEY.keySchema);
      expect(table.AttributeDefinitions).toEqual(DPOP_REPLAY_TABLE_KEY.attributeDefinitions);
      expect(table.TimeToLiveSpecification).toEqual({
        AttributeName: DPOP_REPLAY_TABLE_KEY.ttlAttribute,
        Enabled: true,
      });
      expect(table.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
      expect(env).toMatchObject({
        DPOP_REPLAY_STORE: 'dynamodb',
        DPOP_REPLAY_TABLE: 'DpopReplayTable',
        DPOP_PUBLIC_URLS: e.stack.parameters.DpopPublicUrls,
      });
      expect(Number(env.DPOP_REPLAY_BUDGET_MS)).toBeLessThan(
        Number(e.resources.JwtAuthorizerFunction?.properties.Timeout) * 1000,
      );
      const dynamo = statements.filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
      expect(dynamo).toEqual([
        { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: 'DpopReplayTable.Arn' },
      ]);
      expect(statements.filter((st) => JSON.stringify(st.Action).includes('kms:'))).toEqual([
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
        }),
      ]);
    });

    it('keeps the truststore in a versioned, private, TLS-only bucket, and pins its version on the mutual-TLS domain', () => {
      const e = get(name);
      const bucket = e.resources.TruststoreBucket?.properties as Props;
      const policy = JSON.stringify(e.resources.TruststoreBucketPolicy?.properties);
      const domain = e.resources.OrdersMtlsDomain;
      const mapping = e.resources.OrdersMtlsBasePathMapping;

      expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(policy).toContain('"aws:SecureTransport":"false"');
      expect(e.resources.TruststoreBucket?.raw.DeletionPolicy).toBe('Retain');
      if (e.parameters.MtlsDomainName === undefined) {
        expect([domain, mapping]).toEqual([undefined, undefined]);
        return;
      }
      expect(domain?.properties).toMatchObject({
        DomainName: e.parameters.MtlsDomainName,
        RegionalCertificateArn: e.parameters.MtlsCertificateArn,
        EndpointConfiguration: { Types: ['REGIONAL'] },
        MutualTlsAuthentication: {
          TruststoreUri: e.parameters.MtlsTruststoreUri,
          TruststoreVersion: e.parameters.MtlsTruststoreVersion,
        },
        OwnershipVerificationCertificateArn: e.parameters.MtlsOwnershipCertificateArn,
      });
      expect(mapping?.properties).toMatchObject({
        DomainName: 'OrdersMtlsDomain',
        RestApiId: 'OrdersDpopApi',
        BasePath: 'orders',
      });
      // The execute-api endpoint would let clients skip mutual TLS.
      expect(executeApiDisabled(e.resources.OrdersDpopApi as DeployedResource)).toBe(true);
    });

    it('denies every source outside AllowedSourceCidrs on the REST APIs when it is set, and none otherwise', () => {
      const e = get(name);
      const restricted = e.parameters.AllowedSourceCidrs !== undefined;
      const stage = e.stack.parameters.StageName as string;
      for (const [id, api] of ofType(e, 'AWS::ApiGateway::RestApi')) {
        const policy = obj(obj(api.properties.Body)['x-amazon-apigateway-policy']);
        const statements = readResourcePolicy({ CustomStatements: policy.Statement }) ?? [];
        const prefix = `arn:aws:execute-api:us-east-1:123456789012:${id}`;
        for (const ip of ['192.0.2.77', '2001:db8::7', '203.0.113.9', '198.51.100.7'])
          for (const arn of [`${prefix}/${stage}/GET/health`, `${prefix}/${stage}/POST/orders`]) {
            const inside = restricted && ['203.0.113.9', '198.51.100.7'].includes(ip);
            expect({
              id,
              ip,
              arn,
              denied: evaluateResourcePolicy(statements, arn, prefix, ip) === 'explicit_deny',
            }).toEqual({
              id,
              ip,
              arn,
              denied: restricted && !inside,
            });
          }
      }
    });
  });
});
