/**
 * What the local gateway serves of a REST API, read from the template: every `AWS::Serverless::Api`
 * (and SAM's implicit `ServerlessRestApi`) with its routes (the `Type: Api` events of functions),
 * Lambda authorizers, IAM routes, usage plans, API keys, CORS, request validation, stage variables
 * and gateway responses. Pure: takes the parsed template and parameters, returns data.
 *
 * A property the gateway cannot emulate is refused here (a TemplateError naming the resource and
 * the property) or, when it changes nothing a caller can observe locally, reported as a note that
 * the gateway prints at start-up. Nothing is ignored silently (docs/local-gateway.md lists both).
 */
import { conditionHolds, type LocalStack, resolveValue } from '../template/resolve.ts';
import { type Template, TemplateError } from '../template/template.ts';
import { type GatewayResponseModel, readGatewayResponse } from './gateway-responses.ts';
import { type ResourceStatement, readResourcePolicy } from './resource-policy.ts';

export type { GatewayResponseModel } from './gateway-responses.ts';

/** Where an authorizer reads one identity value from. */
export type IdentitySource =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'stageVariable'; readonly name: string }
  | { readonly kind: 'context'; readonly name: string };

/** One Lambda authorizer of an API. */
export interface AuthorizerModel {
  /** Name under `Auth.Authorizers`. */
  readonly name: string;
  readonly type: 'TOKEN' | 'REQUEST';
  /** Logical ID of the authorizer function. */
  readonly functionLogicalId: string;
  /** Identity sources; a missing one is a 401 without invoking the authorizer. */
  readonly identitySources: readonly IdentitySource[];
  /** TOKEN only: the header value must match, else 401 without invoking. */
  readonly validationExpression: RegExp | undefined;
  /** `ReauthorizeEvery`: how long a result is cached per identity (0 = not cached). */
  readonly ttlSeconds: number;
}

/** A method request parameter of a route (`RequestParameters`). */
export interface RequestParameterModel {
  readonly location: 'header' | 'querystring' | 'path';
  readonly name: string;
  readonly required: boolean;
}

/** One route (`Type: Api` event) of an API. */
export interface RouteModel {
  /** Event name in the template (e.g. `ListOrders`). */
  readonly eventName: string;
  /** HTTP method in upper case, or `ANY`. */
  readonly method: string;
  /** Resource path, e.g. `/orders/{id}` or `/{proxy+}`. */
  readonly path: string;
  /** Logical ID of the integration function (undefined for the CORS preflight mock). */
  readonly functionLogicalId: string;
  /** Authorizer name, or undefined for `Authorizer: NONE` / `AWS_IAM` / no default. */
  readonly authorizer: string | undefined;
  /** `Authorizer: AWS_IAM`: the request must be signed with SigV4 by an allowed principal. */
  readonly iam?: boolean;
  /** `ApiKeyRequired`: the request must carry a key of a usage plan of this stage. */
  readonly apiKeyRequired: boolean;
  /** `RequestParameters` (checked when `validateParameters`). */
  readonly requestParameters?: readonly RequestParameterModel[];
  /** `RequestModel.Model`: name of a model of the API's `Models`. */
  readonly requestModel?: string;
  /** `RequestModel.Required`: a body is required. */
  readonly requestModelRequired?: boolean;
  /** `RequestModel.ValidateBody`. */
  readonly validateBody?: boolean;
  /** `RequestModel.ValidateParameters`. */
  readonly validateParameters?: boolean;
  /** Integration timeout (`TimeoutInMillis`, default and maximum 29 000 ms). */
  readonly timeoutMs?: number;
  /**
   * The OPTIONS method SAM's `Cors` adds to a resource: a mock integration answering 200 with the
   * CORS headers (`allowMethods` computed for this resource), no function invoked.
   */
  readonly preflight?: { readonly allowMethods: string };
}

/** Token bucket settings (requests per second and burst). */
export interface ThrottleModel {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** A quota over a period. */
export interface QuotaModel {
  readonly limit: number;
  readonly period: 'DAY' | 'WEEK' | 'MONTH';
  readonly offset: number;
}

/** A usage plan attached to this API's stage. */
export interface UsagePlanModel {
  readonly id: string;
  readonly throttle: ThrottleModel | undefined;
  readonly quota: QuotaModel | undefined;
  /** Values of the API keys in the plan (a key's `Value`, or its logical ID when it has none). */
  readonly keyValues: readonly string[];
  /**
   * Per-method throttles of this stage in the plan (`ApiStages[].Throttle`), keyed `/path/METHOD`
   * as API Gateway writes them (`//GET` for the root).
   */
  readonly methodThrottles?: Readonly<Record<string, ThrottleModel>>;
}

/** Stage throttling of some methods (`MethodSettings`), shared by every caller. */
export interface MethodThrottleModel {
  /** Resource path (`/*` for all), decoded: `/~1orders` → `/orders`. */
  readonly resourcePath: string;
  /** HTTP method, or `*`. */
  readonly httpMethod: string;
  readonly throttle: ThrottleModel;
}

/** SAM's `Cors` of a REST API: the preflight answer (header values unquoted). */
export interface CorsModel {
  readonly allowOrigin: string;
  readonly allowHeaders: string | undefined;
  /** undefined: every method of the resource plus OPTIONS, as SAM computes it. */
  readonly allowMethods: string | undefined;
  readonly maxAge: string | undefined;
  readonly allowCredentials: boolean;
}

/** One REST API served by the gateway. */
export interface ApiModel {
  readonly logicalId: string;
  readonly stageName: string;
  /** `HEADER` (x-api-key) or `AUTHORIZER` (usageIdentifierKey). */
  readonly apiKeySource: 'HEADER' | 'AUTHORIZER';
  readonly routes: readonly RouteModel[];
  readonly authorizers: Readonly<Record<string, AuthorizerModel>>;
  readonly usagePlans: readonly UsagePlanModel[];
  readonly gatewayResponses: Readonly<Record<string, GatewayResponseModel>>;
  readonly binaryMediaTypes: readonly string[];
  readonly methodThrottles: readonly MethodThrottleModel[];
  /** `Auth.ResourcePolicy` statements, evaluated before any authorizer (undefined: none). */
  readonly resourcePolicy: readonly ResourceStatement[] | undefined;
  /** Stage `Variables`. */
  readonly stageVariables?: Readonly<Record<string, string>>;
  /** SAM `Cors`: an OPTIONS mock method on every resource that has no OPTIONS route. */
  readonly cors?: CorsModel | undefined;
  /** `Auth.AddDefaultAuthorizerToCorsPreflight` (SAM default true). */
  readonly corsPreflightAuthorized?: boolean;
  /** `Auth.AddApiKeyRequiredToCorsPreflight` (SAM default true). */
  readonly corsPreflightApiKeyRequired?: boolean;
  /** `Models`: JSON schemas by name. */
  readonly models?: Readonly<Record<string, unknown>>;
  /** Start-up notes: what the template asks for that changes nothing locally, said out loud. */
  readonly notes?: readonly string[];
}

type Props = Record<string, unknown>;

/** SAM's implicit REST API, created for `Type: Api` events without `RestApiId`. */
export const IMPLICIT_REST_API = 'ServerlessRestApi';

/** The default and largest REST integration timeout (API Gateway quotas: 50 ms – 29 s). */
export const REST_MAX_INTEGRATION_TIMEOUT_MS = 29_000;

export function obj(value: unknown): Props {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Props) : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** `'value'` (API Gateway's static mapping syntax) → `value`. */
export function unquote(value: unknown): string {
  const s = String(value);
  return /^'.*'$/s.test(s) ? s.slice(1, -1) : s;
}

/** Refuses properties the gateway does not know, naming each one. */
export function refuseUnknown(where: string, props: Props, known: readonly string[], hint = ''): void {
  const unknown = Object.keys(props).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw new TemplateError(
      `${where}: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not emulated by the local gateway${hint} (docs/local-gateway.md#not-emulated)`,
    );
}

/** True when a resource's `Condition` (if any) holds for this local stack. */
export function deployed(stack: LocalStack, resource: { readonly Condition?: string }): boolean {
  return resource.Condition === undefined || conditionHolds(stack, resource.Condition);
}

/** True when a resolved `!Ref` names the resource `logicalId` (its local id is its lower-case form). */
export function refersTo(value: unknown, logicalId: string): boolean {
  return value === logicalId || value === localApiId(logicalId);
}

/** The id an API has locally (in ARNs, `requestContext.apiId`): its logical ID in lower case. */
export function localApiId(logicalId: string): string {
  return logicalId.toLowerCase();
}

const AUTHORIZER_KEYS = [
  'FunctionArn',
  'FunctionPayloadType',
  'FunctionInvokeRole',
  'Identity',
  'DisableFunctionDefaultPermissions',
];

function identitySources(name: string, type: 'TOKEN' | 'REQUEST', identity: Props): IdentitySource[] {
  if (type === 'TOKEN') return [{ kind: 'header', name: String(identity.Header ?? 'Authorization') }];
  const out: IdentitySource[] = [];
  for (const h of list(identity.Headers)) out.push({ kind: 'header', name: String(h) });
  for (const q of list(identity.QueryStrings)) out.push({ kind: 'query', name: String(q) });
  for (const s of list(identity.StageVariables)) out.push({ kind: 'stageVariable', name: String(s) });
  for (const c of list(identity.Context)) out.push({ kind: 'context', name: String(c) });
  const ttl = Number(identity.ReauthorizeEvery ?? 300);
  if (out.length === 0 && ttl !== 0)
    throw new TemplateError(`authorizer ${name}: a cached REQUEST authorizer needs identity sources`);
  return out;
}

function authorizersOf(apiId: string, props: Props): Record<string, AuthorizerModel> {
  const out: Record<string, AuthorizerModel> = {};
  for (const [name, raw] of Object.entries(obj(obj(props.Auth).Authorizers))) {
    const def = obj(raw);
    const where = `${apiId}.Auth.Authorizers.${name}`;
    if (def.UserPoolArn !== undefined)
      throw new TemplateError(
        `${where}: Amazon Cognito authorizers are not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
      );
    refuseUnknown(where, def, AUTHORIZER_KEYS);
    const type = String(def.FunctionPayloadType ?? 'TOKEN').toUpperCase();
    if (type !== 'TOKEN' && type !== 'REQUEST')
      throw new TemplateError(`authorizer ${name}: FunctionPayloadType must be TOKEN or REQUEST`);
    const identity = obj(def.Identity);
    refuseUnknown(
      `${where}.Identity`,
      identity,
      type === 'TOKEN'
        ? ['Header', 'ValidationExpression', 'ReauthorizeEvery']
        : ['Headers', 'QueryStrings', 'StageVariables', 'Context', 'ReauthorizeEvery'],
    );
    const expression = identity.ValidationExpression;
    out[name] = {
      name,
      type,
      functionLogicalId: String(def.FunctionArn),
      identitySources: identitySources(name, type, identity),
      validationExpression:
        type === 'TOKEN' && typeof expression === 'string' && expression !== ''
          ? new RegExp(expression)
          : undefined,
      ttlSeconds: Number(identity.ReauthorizeEvery ?? 300),
    };
  }
  return out;
}

export function throttleOf(raw: unknown): ThrottleModel | undefined {
  const t = obj(raw);
  if (t.RateLimit === undefined && t.BurstLimit === undefined) return undefined;
  const rateLimit = Number(t.RateLimit ?? 10_000);
  return { rateLimit, burstLimit: Number(t.BurstLimit ?? Math.max(1, Math.ceil(rateLimit))) };
}

function quotaOf(raw: unknown): QuotaModel | undefined {
  const q = obj(raw);
  if (q.Limit === undefined) return undefined;
  const period = String(q.Period ?? 'DAY').toUpperCase();
  if (period !== 'DAY' && period !== 'WEEK' && period !== 'MONTH')
    throw new TemplateError(`usage plan quota period ${period} must be DAY, WEEK or MONTH`);
  return { limit: Number(q.Limit), period, offset: Number(q.Offset ?? 0) };
}

/**
 * SAM's `Globals` merge: the resource's scalars win, maps merge key by key, lists are appended to
 * the global list.
 */
export function mergeGlobals(globals: unknown, own: unknown): unknown {
  if (own === undefined) return globals;
  if (Array.isArray(globals) && Array.isArray(own)) return [...globals, ...own];
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  // An intrinsic (`{ Ref: ... }`, `{ 'Fn::If': ... }`) is a value, not a map to merge into.
  const intrinsic = (v: unknown) =>
    isMap(v) && Object.keys(v as object).some((k) => k === 'Ref' || k.startsWith('Fn::'));
  if (!isMap(globals) || !isMap(own) || intrinsic(globals) || intrinsic(own)) return own;
  const out: Record<string, unknown> = { ...(globals as Props) };
  for (const [k, v] of Object.entries(own as Props)) out[k] = mergeGlobals(out[k], v);
  return out;
}

// Properties of AWS::Serverless::Api: emulated, or without any effect a local caller could see.
const API_PROPERTIES = [
  'StageName',
  'Variables',
  'MethodSettings',
  'BinaryMediaTypes',
  'Cors',
  'Auth',
  'GatewayResponses',
  'Models',
  'ApiKeySourceType',
  'TracingEnabled',
  // No effect on a request (names, tags, deployment, logging destinations):
  'Name',
  'Description',
  'Tags',
  'PropagateTags',
  'AccessLogSetting',
  'EndpointConfiguration',
  'OpenApiVersion',
  'FailOnWarnings',
  'AlwaysDeploy',
  'Mode',
  'SecurityPolicy',
  'EndpointAccess',
  'CacheClusterSize',
  'CacheClusterEnabled',
  'Domain',
  'DisableExecuteApiEndpoint',
  // Checks of the TLS connection (SNI against Host, the endpoint type): noted, plain HTTP locally.
  'EndpointAccessMode',
];
const AUTH_PROPERTIES = [
  'DefaultAuthorizer',
  'Authorizers',
  'ApiKeyRequired',
  'ResourcePolicy',
  'UsagePlan',
  'AddDefaultAuthorizerToCorsPreflight',
  'AddApiKeyRequiredToCorsPreflight',
  'InvokeRole',
];
const EVENT_PROPERTIES = [
  'RestApiId',
  'Path',
  'Method',
  'Auth',
  'RequestModel',
  'RequestParameters',
  'TimeoutInMillis',
];
const EVENT_AUTH_PROPERTIES = ['Authorizer', 'ApiKeyRequired', 'InvokeRole', 'OverrideApiAuth'];
const METHOD_SETTING_KEYS = [
  'ResourcePath',
  'HttpMethod',
  'ThrottlingRateLimit',
  'ThrottlingBurstLimit',
  'MetricsEnabled',
  'DataTraceEnabled',
  'LoggingLevel',
  'CachingEnabled',
  'CacheTtlInSeconds',
  'CacheDataEncrypted',
];

function corsOf(where: string, raw: unknown): CorsModel | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  // `Cors: "'https://example.com'"` is the origin alone.
  const c = typeof raw === 'string' ? { AllowOrigin: raw } : obj(raw);
  refuseUnknown(`${where}.Cors`, c, [
    'AllowOrigin',
    'AllowHeaders',
    'AllowMethods',
    'MaxAge',
    'AllowCredentials',
  ]);
  const value = (v: unknown) => (v === undefined ? undefined : unquote(v));
  return {
    allowOrigin: value(c.AllowOrigin) ?? '*',
    allowHeaders: value(c.AllowHeaders),
    allowMethods: value(c.AllowMethods),
    maxAge: c.MaxAge === undefined ? undefined : unquote(c.MaxAge),
    allowCredentials: c.AllowCredentials === true,
  };
}

function requestParametersOf(where: string, raw: unknown): RequestParameterModel[] {
  const out: RequestParameterModel[] = [];
  for (const p of list(raw)) {
    const [name, settings] = typeof p === 'string' ? [p, {}] : (Object.entries(obj(p))[0] ?? ['', {}]);
    const m = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(name);
    if (m?.[1] === undefined || m[2] === undefined)
      throw new TemplateError(
        `${where}.RequestParameters: ${name} must be method.request.header|querystring|path.<name>`,
      );
    const s = obj(settings);
    refuseUnknown(`${where}.RequestParameters.${name}`, s, ['Required', 'Caching']);
    if (s.Caching === true)
      throw new TemplateError(
        `${where}.RequestParameters.${name}: Caching (API cache keys) is not emulated by the local gateway, which has no API cache (docs/local-gateway.md#not-emulated)`,
      );
    out.push({
      location: m[1] as RequestParameterModel['location'],
      name: m[2],
      required: s.Required === true,
    });
  }
  return out;
}

function eventRoute(
  fnId: string,
  eventName: string,
  ep: Props,
  apiId: string,
  auth: Props,
  authorizers: Readonly<Record<string, AuthorizerModel>>,
  models: Readonly<Record<string, unknown>>,
): RouteModel {
  const where = `${fnId}.Events.${eventName}`;
  refuseUnknown(where, ep, EVENT_PROPERTIES);
  const eventAuth = obj(ep.Auth);
  if (eventAuth.ResourcePolicy !== undefined)
    throw new TemplateError(
      `${where}.Auth.ResourcePolicy: per-route resource policies are not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
    );
  if (eventAuth.AuthorizationScopes !== undefined)
    throw new TemplateError(
      `${where}.Auth.AuthorizationScopes: scopes of Amazon Cognito authorizers are not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
    );
  refuseUnknown(`${where}.Auth`, eventAuth, EVENT_AUTH_PROPERTIES);
  const defaultAuthorizer = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
  const named = typeof eventAuth.Authorizer === 'string' ? eventAuth.Authorizer : defaultAuthorizer;
  const iam = named === 'AWS_IAM';
  const authorizer = named === 'NONE' || iam ? undefined : named;
  if (authorizer !== undefined && authorizers[authorizer] === undefined)
    throw new TemplateError(`${fnId}.${eventName}: authorizer ${authorizer} is not defined on ${apiId}`);
  const method = String(ep.Method ?? 'ANY').toUpperCase();
  const path = String(ep.Path ?? '/');
  const model = obj(ep.RequestModel);
  refuseUnknown(`${where}.RequestModel`, model, ['Model', 'Required', 'ValidateBody', 'ValidateParameters']);
  const requestModel = typeof model.Model === 'string' ? model.Model : undefined;
  if (requestModel !== undefined && models[requestModel] === undefined)
    throw new TemplateError(`${where}.RequestModel: model ${requestModel} is not in ${apiId}.Models`);
  const timeout =
    ep.TimeoutInMillis === undefined ? REST_MAX_INTEGRATION_TIMEOUT_MS : Number(ep.TimeoutInMillis);
  if (!Number.isInteger(timeout) || timeout < 50 || timeout > REST_MAX_INTEGRATION_TIMEOUT_MS)
    throw new TemplateError(
      `${where}.TimeoutInMillis must be 50 to ${REST_MAX_INTEGRATION_TIMEOUT_MS} (API Gateway's integration timeout)`,
    );
  return {
    eventName,
    method,
    path,
    functionLogicalId: fnId,
    authorizer,
    iam,
    apiKeyRequired: Boolean(eventAuth.ApiKeyRequired ?? auth.ApiKeyRequired ?? false),
    requestParameters: requestParametersOf(where, ep.RequestParameters),
    ...(requestModel === undefined ? {} : { requestModel }),
    requestModelRequired: model.Required === true,
    // SAM adds a request validator only when one of these is set (the other then defaults to false).
    validateBody: model.ValidateBody === true,
    validateParameters: model.ValidateParameters === true,
    timeoutMs: timeout,
  };
}

/** True when a resource's properties mention the resource `logicalId` (`!Ref`, `!GetAtt`, `!Sub`). */
export function mentions(properties: unknown, logicalId: string): boolean {
  const text = JSON.stringify(properties ?? {});
  return (
    text.includes(`"Ref":"${logicalId}"`) ||
    text.includes(`"Fn::GetAtt":["${logicalId}"`) ||
    new RegExp(`\\$\\{${logicalId}[.}]`).test(text)
  );
}

// API Gateway resources next to a SAM API that the gateway reads, or that change nothing locally.
const READ_RESOURCES = new Set([
  'AWS::ApiGateway::GatewayResponse',
  'AWS::ApiGateway::UsagePlan',
  'AWS::ApiGateway::UsagePlanKey',
  'AWS::ApiGateway::ApiKey',
  'AWS::ApiGateway::Account',
]);
const NOTED_RESOURCES = new Set([
  'AWS::ApiGateway::DomainName',
  'AWS::ApiGateway::DomainNameV2',
  'AWS::ApiGateway::BasePathMapping',
  'AWS::ApiGateway::BasePathMappingV2',
]);

/**
 * Refuses explicit `AWS::ApiGateway::*` resources attached to a served API that the gateway does not
 * read (methods, models, validators, authorizers, stages ...): they would change API Gateway's
 * answers without changing the local ones. Custom domains are noted (served at the root locally).
 */
function attachedResources(template: Template, stack: LocalStack, apiId: string, notes: string[]): void {
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!resource.Type.startsWith('AWS::ApiGateway::') || READ_RESOURCES.has(resource.Type)) continue;
    if (!deployed(stack, resource) || !mentions(resource.Properties, apiId)) continue;
    if (NOTED_RESOURCES.has(resource.Type)) {
      notes.push(
        `${id}: ${apiId} is served on loopback at the root; custom domains and base path mappings are not emulated`,
      );
      const domain = template.Resources[String(obj(obj(resource.Properties).DomainName).Ref ?? '')];
      if (domain !== undefined && obj(domain.Properties).MutualTlsAuthentication !== undefined)
        notes.push(
          `${id}: its domain has mutual TLS; npm start -- --mtls serves every API over HTTPS, asks for a client certificate of the local CA (npm run certs) and passes it on as clientCert (docs/local-gateway.md#mutual-tls)`,
        );
      continue;
    }
    throw new TemplateError(
      `${id}: ${resource.Type} attached to ${apiId} is not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
    );
  }
}

/** Reads every REST API of the template. `stack.resourceRef` must map `!Ref X` / `!GetAtt X.Arn` to `X` (or `X` in lower case for APIs). */
export function readApis(template: Template, stack: LocalStack): ApiModel[] {
  const resources = template.Resources;
  const resolved = (value: unknown): unknown => resolveValue(stack, value);
  const globals = obj(template.Globals?.Api);
  const apiIds = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Api' && deployed(stack, r))
    .map(([id]) => id);
  // Events without RestApiId go to SAM's implicit API (StageName Prod).
  const implicitEvents = Object.values(resources).some(
    (r) =>
      r.Type === 'AWS::Serverless::Function' &&
      deployed(stack, r) &&
      Object.values(obj(obj(r.Properties).Events)).some(
        (e) => obj(e).Type === 'Api' && obj(obj(e).Properties).RestApiId === undefined,
      ),
  );
  if (implicitEvents && !apiIds.includes(IMPLICIT_REST_API)) apiIds.unshift(IMPLICIT_REST_API);

  const apis: ApiModel[] = [];
  for (const logicalId of apiIds) {
    const resource = resources[logicalId];
    const own = resource === undefined ? { StageName: 'Prod' } : obj(resource.Properties);
    if (own.DefinitionBody !== undefined || own.DefinitionUri !== undefined)
      throw new TemplateError(
        `${logicalId}: DefinitionBody/DefinitionUri are not served by the local gateway, which builds routes from the functions' Api events (docs/local-gateway.md#not-emulated)`,
      );
    const props = obj(resolved(mergeGlobals(globals, own)));
    const notes: string[] = [];
    refuseUnknown(logicalId, props, API_PROPERTIES);
    if (props.CacheClusterEnabled === true || props.CacheClusterEnabled === 'true')
      throw new TemplateError(
        `${logicalId}.CacheClusterEnabled: the API cache is not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
      );
    if (props.Domain !== undefined)
      notes.push(
        `${logicalId}.Domain: served on loopback at the root; custom domains and base path mappings are not emulated`,
      );
    if (props.DisableExecuteApiEndpoint === true || props.DisableExecuteApiEndpoint === 'true')
      notes.push(
        `${logicalId}.DisableExecuteApiEndpoint: in AWS the API answers only through a custom domain (none: not at all); served on loopback anyway`,
      );
    if (props.EndpointAccessMode !== undefined)
      notes.push(
        `${logicalId}.EndpointAccessMode ${String(props.EndpointAccessMode)}: its TLS checks (SNI matching the Host header, the endpoint type) are not emulated; the local gateway serves plain HTTP`,
      );
    attachedResources(template, stack, logicalId, notes);
    const auth = obj(props.Auth);
    refuseUnknown(`${logicalId}.Auth`, auth, AUTH_PROPERTIES);
    const authorizers = authorizersOf(logicalId, props);
    const defaultAuthorizer = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
    if (
      defaultAuthorizer !== undefined &&
      defaultAuthorizer !== 'AWS_IAM' &&
      authorizers[defaultAuthorizer] === undefined
    )
      throw new TemplateError(
        `${logicalId}: DefaultAuthorizer ${defaultAuthorizer} is not a Lambda authorizer`,
      );
    const models = obj(props.Models);

    const routes: RouteModel[] = [];
    for (const [fnId, fnResource] of Object.entries(resources)) {
      if (fnResource.Type !== 'AWS::Serverless::Function' || !deployed(stack, fnResource)) continue;
      for (const [eventName, rawEvent] of Object.entries(obj(obj(fnResource.Properties).Events))) {
        const event = obj(rawEvent);
        if (event.Type !== 'Api') continue;
        const ep = obj(resolved(event.Properties ?? {}));
        const target = ep.RestApiId === undefined ? IMPLICIT_REST_API : ep.RestApiId;
        if (!refersTo(target, logicalId)) continue;
        routes.push(eventRoute(fnId, eventName, ep, logicalId, auth, authorizers, models));
      }
    }

    const cors = corsOf(logicalId, props.Cors);
    if (cors !== undefined) routes.push(...preflightRoutes(routes, cors, auth));

    const gatewayResponses: Record<string, GatewayResponseModel> = {};
    for (const [type, raw] of Object.entries(obj(props.GatewayResponses)))
      gatewayResponses[type] = readGatewayResponse(`${logicalId}.GatewayResponses.${type}`, obj(raw));
    for (const [id, other] of Object.entries(resources)) {
      if (other.Type !== 'AWS::ApiGateway::GatewayResponse' || !deployed(stack, other)) continue;
      const p = obj(resolved(other.Properties ?? {}));
      if (refersTo(p.RestApiId, logicalId) && typeof p.ResponseType === 'string')
        gatewayResponses[p.ResponseType] = readGatewayResponse(id, p);
    }

    const variables: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(props.Variables))) variables[k] = String(v);
    const resourcePolicy = readResourcePolicy(auth.ResourcePolicy, `${logicalId}.Auth.ResourcePolicy`);
    if (resourcePolicy?.some((st) => st.effect === 'Allow') && Object.keys(authorizers).length > 0)
      notes.push(
        `${logicalId}: its resource policy allows requests; a Lambda authorizer's policy that neither allows nor denies a method is then an Allow (API Gateway's same-account evaluation): authorizers must Deny explicitly what they do not allow (docs/local-gateway.md#resource-policies-and-authorizers)`,
      );
    if (resourcePolicy?.some((st) => st.unsupportedCondition))
      notes.push(
        `${logicalId}.Auth.ResourcePolicy: conditions other than aws:SourceIp are not evaluated locally; such a Deny always applies and such an Allow never does`,
      );

    apis.push({
      logicalId,
      stageName: String(props.StageName ?? 'Prod'),
      apiKeySource:
        String(props.ApiKeySourceType ?? 'HEADER').toUpperCase() === 'AUTHORIZER' ? 'AUTHORIZER' : 'HEADER',
      routes,
      authorizers,
      usagePlans: usagePlansOf(template, stack, logicalId, props),
      gatewayResponses,
      binaryMediaTypes: list(props.BinaryMediaTypes).map((t) => String(t).replaceAll('~1', '/')),
      methodThrottles: methodThrottlesOf(logicalId, props),
      resourcePolicy,
      stageVariables: variables,
      cors,
      corsPreflightAuthorized: auth.AddDefaultAuthorizerToCorsPreflight !== false,
      corsPreflightApiKeyRequired: auth.AddApiKeyRequiredToCorsPreflight !== false,
      models,
      notes,
    });
  }
  return apis;
}

// SAM's list for a resource with an ANY method (samtranslator/open_api/base_editor.py).
const ALL_METHODS = 'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT';

/**
 * The OPTIONS methods SAM's `Cors` adds: one per resource that has no OPTIONS method of its own,
 * answering the preflight with a mock integration
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html). They carry the
 * default authorizer and the API key requirement unless `AddDefaultAuthorizerToCorsPreflight` /
 * `AddApiKeyRequiredToCorsPreflight` are false, as SAM sets them.
 */
function preflightRoutes(routes: readonly RouteModel[], cors: CorsModel, auth: Props): RouteModel[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) byPath.set(r.path, (byPath.get(r.path) ?? new Set()).add(r.method));
  const defaultAuthorizer = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
  const authorized = auth.AddDefaultAuthorizerToCorsPreflight !== false && defaultAuthorizer !== undefined;
  const out: RouteModel[] = [];
  for (const [path, methods] of byPath) {
    if (methods.has('OPTIONS')) continue;
    const allowMethods =
      cors.allowMethods ?? (methods.has('ANY') ? ALL_METHODS : [...methods, 'OPTIONS'].sort().join(','));
    out.push({
      eventName: 'CorsPreflight',
      method: 'OPTIONS',
      path,
      functionLogicalId: '',
      authorizer: authorized && defaultAuthorizer !== 'AWS_IAM' ? defaultAuthorizer : undefined,
      iam: authorized && defaultAuthorizer === 'AWS_IAM',
      apiKeyRequired: auth.AddApiKeyRequiredToCorsPreflight !== false && auth.ApiKeyRequired === true,
      timeoutMs: REST_MAX_INTEGRATION_TIMEOUT_MS,
      preflight: { allowMethods },
    });
  }
  return out;
}

function usagePlansOf(
  template: Template,
  stack: LocalStack,
  apiId: string,
  apiProps: Props,
): UsagePlanModel[] {
  const resources = template.Resources;
  const resolved = (value: unknown): Props => obj(resolveValue(stack, value));
  const keyValue = (keyId: string): string | undefined => {
    const key = resources[keyId];
    if (key?.Type !== 'AWS::ApiGateway::ApiKey' || !deployed(stack, key)) return undefined;
    const p = resolved(key.Properties ?? {});
    if (p.Enabled === false) return undefined;
    return typeof p.Value === 'string' ? p.Value : keyId;
  };
  const plans: UsagePlanModel[] = [];
  for (const [planId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::UsagePlan' || !deployed(stack, resource)) continue;
    // Resolved member by member: `Stage: !Ref Api.Stage` (SAM's stage reference) has no local value.
    const raw = obj(resource.Properties);
    const stages = list(raw.ApiStages)
      .map(obj)
      .filter((s) => refersTo(resolveValue(stack, s.ApiId), apiId));
    if (stages.length === 0) continue;
    const methodThrottles: Record<string, ThrottleModel> = {};
    for (const stage of stages) {
      for (const [key, value] of Object.entries(obj(resolveValue(stack, stage.Throttle)))) {
        // `/orders/GET`: the resource path, then the method (API Gateway's usage plan syntax).
        if (!/^\/.*\/[A-Z*]+$/.test(key))
          throw new TemplateError(`${planId}.ApiStages[].Throttle: key ${key} must be /resource/path/METHOD`);
        const t = throttleOf(value);
        if (t !== undefined) methodThrottles[key] = t;
      }
    }
    const p = { Throttle: resolveValue(stack, raw.Throttle), Quota: resolveValue(stack, raw.Quota) };
    const keyValues: string[] = [];
    for (const other of Object.values(resources)) {
      if (other.Type !== 'AWS::ApiGateway::UsagePlanKey' || !deployed(stack, other)) continue;
      const k = resolved(other.Properties ?? {});
      if (k.UsagePlanId !== planId) continue;
      const value = keyValue(String(k.KeyId));
      if (value !== undefined) keyValues.push(value);
    }
    plans.push({
      id: planId,
      throttle: throttleOf(p.Throttle),
      quota: quotaOf(p.Quota),
      keyValues,
      ...(Object.keys(methodThrottles).length > 0 ? { methodThrottles } : {}),
    });
  }
  // SAM's `Auth.UsagePlan` creates a plan (and, for PER_API, no keys: keys are added out of band).
  const samPlan = obj(obj(apiProps.Auth).UsagePlan);
  const create = String(samPlan.CreateUsagePlan ?? 'NONE').toUpperCase();
  if (create === 'PER_API' || create === 'SHARED') {
    plans.push({
      id: `${apiId}UsagePlan`,
      throttle: throttleOf(samPlan.Throttle),
      quota: quotaOf(samPlan.Quota),
      keyValues: [],
    });
  }
  return plans;
}

function methodThrottlesOf(apiId: string, props: Props): MethodThrottleModel[] {
  const out: MethodThrottleModel[] = [];
  for (const raw of list(props.MethodSettings)) {
    const m = obj(raw);
    refuseUnknown(`${apiId}.MethodSettings`, m, METHOD_SETTING_KEYS);
    if (m.CachingEnabled === true || m.CachingEnabled === 'true')
      throw new TemplateError(
        `${apiId}.MethodSettings.CachingEnabled: the API cache is not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
      );
    if (m.ThrottlingRateLimit === undefined && m.ThrottlingBurstLimit === undefined) continue;
    const throttle = throttleOf({ RateLimit: m.ThrottlingRateLimit, BurstLimit: m.ThrottlingBurstLimit });
    if (throttle === undefined) continue;
    out.push({
      // `/~1orders~1{id}` names the resource `/orders/{id}` (JSON-pointer escaping after a leading `/`).
      resourcePath: ((p) => (p === '/*' ? p : p.replace(/^\//, '').replaceAll('~1', '/')))(
        String(m.ResourcePath ?? '/*'),
      ),
      httpMethod: String(m.HttpMethod ?? '*').toUpperCase(),
      throttle,
    });
  }
  return out;
}

/**
 * The stage throttle that applies to a route: the most specific `MethodSettings` entry. The bucket
 * is the route's own: `/*` + `*` is a setting copied to every method, not one shared bucket
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html:
 * "Per-API, per-stage throttling limits are applied at the API method level").
 */
export function methodThrottleFor(api: ApiModel, route: RouteModel): MethodThrottleModel | undefined {
  const score = (t: MethodThrottleModel) =>
    (t.resourcePath === route.path ? 2 : t.resourcePath === '/*' ? 0 : -10) +
    (t.httpMethod === route.method ? 1 : t.httpMethod === '*' ? 0 : -10);
  let best: MethodThrottleModel | undefined;
  for (const t of api.methodThrottles)
    if (score(t) >= 0 && (best === undefined || score(t) > score(best))) best = t;
  return best;
}

/** A usage plan's per-method throttle for a route (`/path/METHOD`, root `//METHOD`). */
export function planMethodThrottleFor(plan: UsagePlanModel, route: RouteModel): ThrottleModel | undefined {
  return plan.methodThrottles?.[`${route.path}/${route.method}`];
}
