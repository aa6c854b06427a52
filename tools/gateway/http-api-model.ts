/**
 * What the local gateway serves of an HTTP API, read from the template: every
 * `AWS::Serverless::HttpApi` (and SAM's implicit `ServerlessHttpApi`) with its routes (the
 * `Type: HttpApi` events of functions, route keys `METHOD /path` and `$default`), Lambda
 * authorizers (payload 1.0/2.0, simple responses, identity sources and caching), IAM routes,
 * stage variables, CORS and route throttling. Pure.
 *
 * HTTP APIs have no usage plans, API keys, resource policies or WAF: a template that attaches any of
 * them to an HTTP API is refused, as are JWT authorizers (not emulated) and every property the
 * gateway does not know (docs/local-gateway.md#http-apis).
 */
import { type LocalStack, resolveValue } from '../template/resolve.ts';
import { type Template, TemplateError } from '../template/template.ts';
import {
  deployed,
  type IdentitySource,
  list,
  mentions,
  mergeGlobals,
  obj,
  refersTo,
  refuseUnknown,
  type ThrottleModel,
} from './model.ts';

/** A Lambda authorizer of an HTTP API. */
export interface HttpAuthorizerModel {
  readonly name: string;
  readonly functionLogicalId: string;
  /** `AuthorizerPayloadFormatVersion`. */
  readonly payloadFormat: '1.0' | '2.0';
  /** `EnableSimpleResponses` (2.0 only): `{ isAuthorized, context }` instead of an IAM policy. */
  readonly simpleResponses: boolean;
  /** Identity sources; one missing is a 401 without invoking the authorizer. */
  readonly identitySources: readonly IdentitySource[];
  /** `Identity.ReauthorizeEvery`: cache TTL keyed by the identity source values (0: no cache). */
  readonly ttlSeconds: number;
}

/** One route of an HTTP API (a `Type: HttpApi` event). */
export interface HttpRouteModel {
  readonly eventName: string;
  /** Upper-case method or `ANY` (`ANY` for `$default`). */
  readonly method: string;
  /** `/path` with `{param}` / `{proxy+}`, or `$default`. */
  readonly path: string;
  /** `GET /orders/{id}`, `ANY /{proxy+}` or `$default`. */
  readonly routeKey: string;
  readonly functionLogicalId: string;
  /** Lambda authorizer name (undefined: none, or IAM). */
  readonly authorizer: string | undefined;
  /** `Authorizer: AWS_IAM`. */
  readonly iam: boolean;
  /** `PayloadFormatVersion` of the integration (SAM default 2.0). */
  readonly payloadFormat: '1.0' | '2.0';
  /** Integration timeout (`TimeoutInMillis`; HTTP APIs: at most and by default 30 000 ms). */
  readonly timeoutMs: number;
  /** Route throttling (`RouteSettings` over `DefaultRouteSettings`); undefined: none. */
  readonly throttle: ThrottleModel | undefined;
}

/** `CorsConfiguration` of an HTTP API. */
export interface HttpCorsModel {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAge: number | undefined;
  readonly allowCredentials: boolean;
}

/** One HTTP API served by the gateway. */
export interface HttpApiModel {
  readonly kind: 'http';
  readonly logicalId: string;
  /** `StageName` (SAM default `$default`). */
  readonly stageName: string;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly routes: readonly HttpRouteModel[];
  readonly authorizers: Readonly<Record<string, HttpAuthorizerModel>>;
  readonly cors: HttpCorsModel | undefined;
  /** Start-up notes (what changes nothing locally, said out loud). */
  readonly notes: readonly string[];
}

/** SAM's implicit HTTP API, created for `Type: HttpApi` events without `ApiId`. */
export const IMPLICIT_HTTP_API = 'ServerlessHttpApi';

/** HTTP APIs' integration timeout, default and maximum (API Gateway quotas). */
export const HTTP_MAX_INTEGRATION_TIMEOUT_MS = 30_000;

type Props = Record<string, unknown>;

const HTTP_API_PROPERTIES = [
  'StageName',
  'StageVariables',
  'Auth',
  'CorsConfiguration',
  'DefaultRouteSettings',
  'RouteSettings',
  // No effect on a request (names, tags, logging destinations, deployment):
  'AccessLogSettings',
  'Description',
  'Name',
  'Tags',
  'PropagateTags',
  'FailOnWarnings',
  'DisableExecuteApiEndpoint',
  'Domain',
];
const ROUTE_SETTING_KEYS = [
  'ThrottlingBurstLimit',
  'ThrottlingRateLimit',
  'DetailedMetricsEnabled',
  'DataTraceEnabled',
  'LoggingLevel',
];
const EVENT_PROPERTIES = [
  'ApiId',
  'Method',
  'Path',
  'Auth',
  'PayloadFormatVersion',
  'RouteSettings',
  'TimeoutInMillis',
];
// Account-level limits apply where a route sets only one of the two values.
const ACCOUNT_RATE = 10_000;
const ACCOUNT_BURST = 5_000;

function authorizersOf(apiId: string, auth: Props): Record<string, HttpAuthorizerModel> {
  const out: Record<string, HttpAuthorizerModel> = {};
  for (const [name, raw] of Object.entries(obj(auth.Authorizers))) {
    const def = obj(raw);
    const where = `${apiId}.Auth.Authorizers.${name}`;
    if (def.JwtConfiguration !== undefined || def.IdentitySource !== undefined)
      throw new TemplateError(
        `${where}: JWT (OAuth2) authorizers of HTTP APIs are not emulated by the local gateway; use a Lambda authorizer (docs/local-gateway.md#http-apis)`,
      );
    refuseUnknown(where, def, [
      'FunctionArn',
      'AuthorizerPayloadFormatVersion',
      'EnableSimpleResponses',
      'Identity',
      'FunctionInvokeRole',
      'EnableFunctionDefaultPermissions',
    ]);
    const format = String(def.AuthorizerPayloadFormatVersion ?? '');
    if (format !== '1.0' && format !== '2.0')
      throw new TemplateError(`${where}.AuthorizerPayloadFormatVersion must be 1.0 or 2.0 (SAM requires it)`);
    const simple = def.EnableSimpleResponses === true;
    if (simple && format !== '2.0')
      throw new TemplateError(`${where}.EnableSimpleResponses needs AuthorizerPayloadFormatVersion 2.0`);
    const identity = obj(def.Identity);
    refuseUnknown(`${where}.Identity`, identity, [
      'Headers',
      'QueryStrings',
      'Context',
      'StageVariables',
      'ReauthorizeEvery',
    ]);
    const sources: IdentitySource[] = [
      ...list(identity.Headers).map((h) => ({ kind: 'header' as const, name: String(h) })),
      ...list(identity.QueryStrings).map((q) => ({ kind: 'query' as const, name: String(q) })),
      ...list(identity.StageVariables).map((s) => ({ kind: 'stageVariable' as const, name: String(s) })),
      ...list(identity.Context).map((c) => ({ kind: 'context' as const, name: String(c) })),
    ];
    // The default TTL of an HTTP API authorizer is not documented consistently; the local gateway
    // will not guess a value that decides whether answers are reused across requests.
    if (sources.length > 0 && identity.ReauthorizeEvery === undefined)
      throw new TemplateError(
        `${where}.Identity.ReauthorizeEvery must be set (0 disables caching): the local gateway does not guess API Gateway's default (docs/local-gateway.md#http-apis)`,
      );
    const ttl = Number(identity.ReauthorizeEvery ?? 0);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600)
      throw new TemplateError(`${where}.Identity.ReauthorizeEvery must be 0 to 3600`);
    if (ttl > 0 && sources.length === 0)
      throw new TemplateError(`${where}: caching (ReauthorizeEvery > 0) needs at least one identity source`);
    out[name] = {
      name,
      functionLogicalId: String(def.FunctionArn),
      payloadFormat: format,
      simpleResponses: simple,
      identitySources: sources,
      ttlSeconds: ttl,
    };
  }
  return out;
}

function routeThrottle(where: string, defaults: Props, own: Props): ThrottleModel | undefined {
  refuseUnknown(where, own, ROUTE_SETTING_KEYS);
  const rate = own.ThrottlingRateLimit ?? defaults.ThrottlingRateLimit;
  const burst = own.ThrottlingBurstLimit ?? defaults.ThrottlingBurstLimit;
  if (rate === undefined && burst === undefined) return undefined;
  return { rateLimit: Number(rate ?? ACCOUNT_RATE), burstLimit: Number(burst ?? ACCOUNT_BURST) };
}

function corsOf(where: string, raw: unknown): HttpCorsModel | undefined {
  if (raw === undefined || raw === false) return undefined;
  // `CorsConfiguration: true` allows every origin (SAM).
  const c = raw === true ? { AllowOrigins: ['*'] } : obj(raw);
  refuseUnknown(`${where}.CorsConfiguration`, c, [
    'AllowOrigins',
    'AllowMethods',
    'AllowHeaders',
    'ExposeHeaders',
    'MaxAge',
    'AllowCredentials',
  ]);
  const strings = (v: unknown) => list(v).map((s) => String(s).replace(/^'(.*)'$/, '$1'));
  return {
    allowOrigins: strings(c.AllowOrigins),
    allowMethods: strings(c.AllowMethods).map((m) => m.toUpperCase()),
    allowHeaders: strings(c.AllowHeaders).map((h) => h.toLowerCase()),
    exposeHeaders: strings(c.ExposeHeaders),
    maxAge: c.MaxAge === undefined ? undefined : Number(c.MaxAge),
    allowCredentials: c.AllowCredentials === true,
  };
}

/** Refuses what HTTP APIs cannot have: usage plans, API keys and WAF attached to an HTTP API. */
function refuseRestOnlyFeatures(template: Template, stack: LocalStack, httpApiIds: readonly string[]): void {
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!deployed(stack, resource)) continue;
    if (resource.Type === 'AWS::ApiGateway::UsagePlan') {
      for (const stage of list(obj(resource.Properties).ApiStages)) {
        const target = resolveValue(stack, obj(stage).ApiId);
        const http = httpApiIds.find((h) => refersTo(target, h));
        if (http !== undefined)
          throw new TemplateError(
            `${id}: usage plans (and API keys) exist only for REST APIs; ${http} is an HTTP API (docs/local-gateway.md#http-apis)`,
          );
      }
    }
    const http = httpApiIds.find((h) => mentions(resource.Properties, h));
    if (http === undefined) continue;
    if (resource.Type === 'AWS::WAFv2::WebACLAssociation')
      throw new TemplateError(
        `${id}: AWS WAF cannot be associated with an HTTP API (${http}) (docs/local-gateway.md#http-apis)`,
      );
    // Explicit API Gateway v2 resources would change the API's answers without changing the local
    // ones; custom domains and API mappings change only the address.
    if (resource.Type.startsWith('AWS::ApiGatewayV2::') && !/::(DomainName|ApiMapping)$/.test(resource.Type))
      throw new TemplateError(
        `${id}: ${resource.Type} attached to ${http} is not emulated by the local gateway (docs/local-gateway.md#http-apis)`,
      );
  }
}

/** Reads every HTTP API of the template. */
export function readHttpApis(template: Template, stack: LocalStack): HttpApiModel[] {
  const resources = template.Resources;
  const resolved = (value: unknown): unknown => resolveValue(stack, value);
  const globals = obj(template.Globals?.HttpApi);
  const ids = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::HttpApi' && deployed(stack, r))
    .map(([id]) => id);
  const implicit = Object.values(resources).some(
    (r) =>
      r.Type === 'AWS::Serverless::Function' &&
      deployed(stack, r) &&
      Object.values(obj(obj(r.Properties).Events)).some(
        (e) => obj(e).Type === 'HttpApi' && obj(obj(e).Properties).ApiId === undefined,
      ),
  );
  if (implicit && !ids.includes(IMPLICIT_HTTP_API)) ids.unshift(IMPLICIT_HTTP_API);
  refuseRestOnlyFeatures(template, stack, ids);

  const apis: HttpApiModel[] = [];
  for (const logicalId of ids) {
    const own = obj(resources[logicalId]?.Properties);
    if (own.DefinitionBody !== undefined || own.DefinitionUri !== undefined)
      throw new TemplateError(
        `${logicalId}: DefinitionBody/DefinitionUri are not served by the local gateway, which builds routes from the functions' HttpApi events (docs/local-gateway.md#not-emulated)`,
      );
    const props = obj(resolved(mergeGlobals(globals, own)));
    refuseUnknown(logicalId, props, HTTP_API_PROPERTIES);
    const notes: string[] = [];
    if (props.Domain !== undefined)
      notes.push(
        `${logicalId}.Domain: served on loopback at the root; custom domains and API mappings are not emulated`,
      );
    if (props.DisableExecuteApiEndpoint === true || props.DisableExecuteApiEndpoint === 'true')
      notes.push(
        `${logicalId}.DisableExecuteApiEndpoint: in AWS the API answers only through a custom domain (none: not at all); served on loopback anyway`,
      );
    const auth = obj(props.Auth);
    refuseUnknown(`${logicalId}.Auth`, auth, ['Authorizers', 'DefaultAuthorizer', 'EnableIamAuthorizer']);
    const authorizers = authorizersOf(logicalId, auth);
    const iamEnabled = auth.EnableIamAuthorizer === true;
    const defaultAuthorizer = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
    if (defaultAuthorizer === 'AWS_IAM' && !iamEnabled)
      throw new TemplateError(`${logicalId}.Auth.DefaultAuthorizer AWS_IAM needs EnableIamAuthorizer: true`);
    if (
      defaultAuthorizer !== undefined &&
      defaultAuthorizer !== 'AWS_IAM' &&
      authorizers[defaultAuthorizer] === undefined
    )
      throw new TemplateError(
        `${logicalId}.Auth.DefaultAuthorizer ${defaultAuthorizer} is not an authorizer of the API`,
      );
    const defaults = obj(props.DefaultRouteSettings);
    refuseUnknown(`${logicalId}.DefaultRouteSettings`, defaults, ROUTE_SETTING_KEYS);
    const apiRouteSettings = obj(props.RouteSettings);

    const routes: HttpRouteModel[] = [];
    for (const [fnId, fn] of Object.entries(resources)) {
      if (fn.Type !== 'AWS::Serverless::Function' || !deployed(stack, fn)) continue;
      for (const [eventName, rawEvent] of Object.entries(obj(obj(fn.Properties).Events))) {
        if (obj(rawEvent).Type !== 'HttpApi') continue;
        const ep = obj(resolved(obj(rawEvent).Properties ?? {}));
        const target = ep.ApiId === undefined ? IMPLICIT_HTTP_API : ep.ApiId;
        if (!refersTo(target, logicalId)) continue;
        const where = `${fnId}.Events.${eventName}`;
        refuseUnknown(where, ep, EVENT_PROPERTIES);
        const eventAuth = obj(ep.Auth);
        refuseUnknown(`${where}.Auth`, eventAuth, ['Authorizer', 'AuthorizationScopes']);
        if (eventAuth.AuthorizationScopes !== undefined)
          throw new TemplateError(
            `${where}.Auth.AuthorizationScopes apply to JWT authorizers, which the local gateway does not emulate (docs/local-gateway.md#http-apis)`,
          );
        const named = typeof eventAuth.Authorizer === 'string' ? eventAuth.Authorizer : defaultAuthorizer;
        const iam = named === 'AWS_IAM';
        if (iam && !iamEnabled)
          throw new TemplateError(
            `${where}: Authorizer AWS_IAM needs ${logicalId}.Auth.EnableIamAuthorizer: true`,
          );
        const authorizer = named === undefined || named === 'NONE' || iam ? undefined : named;
        if (authorizer !== undefined && authorizers[authorizer] === undefined)
          throw new TemplateError(`${where}: authorizer ${authorizer} is not defined on ${logicalId}`);
        if (ep.Path === undefined && ep.Method !== undefined)
          throw new TemplateError(
            `${where}: a Method needs a Path (only both absent make the $default route)`,
          );
        const isDefault = ep.Path === undefined && ep.Method === undefined;
        const method = isDefault ? 'ANY' : String(ep.Method ?? 'ANY').toUpperCase();
        const path = isDefault ? '$default' : String(ep.Path);
        const routeKey = isDefault ? '$default' : `${method} ${path}`;
        const format = String(ep.PayloadFormatVersion ?? '2.0');
        if (format !== '1.0' && format !== '2.0')
          throw new TemplateError(`${where}.PayloadFormatVersion must be 1.0 or 2.0`);
        const timeout =
          ep.TimeoutInMillis === undefined ? HTTP_MAX_INTEGRATION_TIMEOUT_MS : Number(ep.TimeoutInMillis);
        if (!Number.isInteger(timeout) || timeout < 50 || timeout > HTTP_MAX_INTEGRATION_TIMEOUT_MS)
          throw new TemplateError(
            `${where}.TimeoutInMillis must be 50 to ${HTTP_MAX_INTEGRATION_TIMEOUT_MS}`,
          );
        // Event RouteSettings merge over the API's for this route key, the event winning (SAM).
        const settings = { ...obj(apiRouteSettings[routeKey]), ...obj(ep.RouteSettings) };
        routes.push({
          eventName,
          method,
          path,
          routeKey,
          functionLogicalId: fnId,
          authorizer,
          iam,
          payloadFormat: format,
          timeoutMs: timeout,
          throttle: routeThrottle(`${where}.RouteSettings`, defaults, settings),
        });
      }
    }
    const keys = new Set<string>();
    for (const r of routes) {
      if (keys.has(r.routeKey)) throw new TemplateError(`${logicalId}: route ${r.routeKey} is defined twice`);
      keys.add(r.routeKey);
    }
    const variables: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(props.StageVariables))) variables[k] = String(v);
    apis.push({
      kind: 'http',
      logicalId,
      stageName: String(props.StageName ?? '$default'),
      stageVariables: variables,
      routes,
      authorizers,
      cors: corsOf(logicalId, props.CorsConfiguration),
      notes,
    });
  }
  return apis;
}
