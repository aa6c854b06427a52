/**
 * What the local gateway serves, read from template.yaml: every `AWS::Serverless::Api` with its
 * routes (the `Type: Api` events of functions), Lambda authorizers, usage plans, API keys and
 * gateway responses. Pure: takes the parsed template and parameters, returns data.
 */
import { type LocalStack, resolveValue } from '../template/resolve.ts';
import { type Template, TemplateError } from '../template/template.ts';
import { type ResourceStatement, readResourcePolicy } from './resource-policy.ts';

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

/** One route (`Type: Api` event) of an API. */
export interface RouteModel {
  /** Event name in the template (e.g. `ListOrders`). */
  readonly eventName: string;
  /** HTTP method in upper case, or `ANY`. */
  readonly method: string;
  /** Resource path, e.g. `/orders/{id}` or `/{proxy+}`. */
  readonly path: string;
  /** Logical ID of the integration function. */
  readonly functionLogicalId: string;
  /** Authorizer name, or undefined for `Authorizer: NONE` / no default. */
  readonly authorizer: string | undefined;
  /** `ApiKeyRequired`: the request must carry a key of a usage plan of this stage. */
  readonly apiKeyRequired: boolean;
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
}

/** A gateway response override (`AWS::ApiGateway::GatewayResponse` or `GatewayResponses`). */
export interface GatewayResponseModel {
  readonly statusCode: number | undefined;
  /** Response header values (already unquoted). */
  readonly headers: Readonly<Record<string, string>>;
  /** Body templates by content type. */
  readonly templates: Readonly<Record<string, string>>;
}

/** Stage throttling of some methods (`MethodSettings`), shared by every caller. */
export interface MethodThrottleModel {
  /** Resource path (`/*` for all), decoded: `/~1orders` → `/orders`. */
  readonly resourcePath: string;
  /** HTTP method, or `*`. */
  readonly httpMethod: string;
  readonly throttle: ThrottleModel;
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
}

type Props = Record<string, unknown>;

function obj(value: unknown): Props {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Props) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** `'value'` (API Gateway's static mapping syntax) → `value`. */
function unquote(value: unknown): string {
  const s = String(value);
  return /^'.*'$/s.test(s) ? s.slice(1, -1) : s;
}

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

function authorizersOf(props: Props): Record<string, AuthorizerModel> {
  const out: Record<string, AuthorizerModel> = {};
  for (const [name, raw] of Object.entries(obj(obj(props.Auth).Authorizers))) {
    const def = obj(raw);
    if (def.FunctionArn === undefined) continue; // Cognito authorizers are not run locally.
    const type = String(def.FunctionPayloadType ?? 'TOKEN').toUpperCase();
    if (type !== 'TOKEN' && type !== 'REQUEST')
      throw new TemplateError(`authorizer ${name}: FunctionPayloadType must be TOKEN or REQUEST`);
    const identity = obj(def.Identity);
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

function throttleOf(raw: unknown): ThrottleModel | undefined {
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

function gatewayResponseOf(raw: Props): GatewayResponseModel {
  const headers: Record<string, string> = {};
  const params = obj(raw.ResponseParameters);
  // SAM's `GatewayResponses` nests headers; CloudFormation names them `gatewayresponse.header.X`.
  for (const [name, value] of Object.entries(obj(params.Headers))) headers[name] = unquote(value);
  for (const [key, value] of Object.entries(params)) {
    const m = /^gatewayresponse\.header\.(.+)$/i.exec(key);
    if (m?.[1] !== undefined) headers[m[1]] = unquote(value);
  }
  const templates: Record<string, string> = {};
  for (const [type, body] of Object.entries(obj(raw.ResponseTemplates))) templates[type] = String(body);
  return {
    statusCode: raw.StatusCode === undefined ? undefined : Number(raw.StatusCode),
    headers,
    templates,
  };
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

/** Reads every API of the template. `resolve` must map `!Ref X` / `!GetAtt X.Arn` to `X`. */
export function readApis(template: Template, stack: LocalStack): ApiModel[] {
  const resources = template.Resources;
  const resolved = (value: unknown): unknown => resolveValue(stack, value);
  const apis: ApiModel[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Serverless::Api') continue;
    const props = obj(resolved(mergeGlobals(obj(template.Globals?.Api), obj(resource.Properties))));
    const auth = obj(props.Auth);
    const authorizers = authorizersOf(props);
    const defaultAuthorizer = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
    if (defaultAuthorizer !== undefined && authorizers[defaultAuthorizer] === undefined)
      throw new TemplateError(
        `${logicalId}: DefaultAuthorizer ${defaultAuthorizer} is not a Lambda authorizer`,
      );

    const routes: RouteModel[] = [];
    for (const [fnId, fnResource] of Object.entries(resources)) {
      if (fnResource.Type !== 'AWS::Serverless::Function') continue;
      for (const [eventName, rawEvent] of Object.entries(obj(obj(fnResource.Properties).Events))) {
        const event = obj(rawEvent);
        if (event.Type !== 'Api') continue;
        const ep = obj(resolved(event.Properties ?? {}));
        if (ep.RestApiId !== logicalId) continue;
        const eventAuth = obj(ep.Auth);
        const named = typeof eventAuth.Authorizer === 'string' ? eventAuth.Authorizer : defaultAuthorizer;
        const authorizer = named === 'NONE' || named === 'AWS_IAM' ? undefined : named;
        if (authorizer !== undefined && authorizers[authorizer] === undefined)
          throw new TemplateError(
            `${fnId}.${eventName}: authorizer ${authorizer} is not defined on ${logicalId}`,
          );
        routes.push({
          eventName,
          method: String(ep.Method ?? 'ANY').toUpperCase(),
          path: String(ep.Path ?? '/'),
          functionLogicalId: fnId,
          authorizer,
          apiKeyRequired: Boolean(eventAuth.ApiKeyRequired ?? auth.ApiKeyRequired ?? false),
        });
      }
    }

    const gatewayResponses: Record<string, GatewayResponseModel> = {};
    for (const [type, raw] of Object.entries(obj(props.GatewayResponses)))
      gatewayResponses[type] = gatewayResponseOf(obj(raw));
    for (const other of Object.values(resources)) {
      if (other.Type !== 'AWS::ApiGateway::GatewayResponse') continue;
      const p = obj(resolved(other.Properties ?? {}));
      if (p.RestApiId === logicalId && typeof p.ResponseType === 'string')
        gatewayResponses[p.ResponseType] = gatewayResponseOf(p);
    }

    apis.push({
      logicalId,
      stageName: String(props.StageName ?? 'Prod'),
      apiKeySource:
        String(props.ApiKeySourceType ?? 'HEADER').toUpperCase() === 'AUTHORIZER' ? 'AUTHORIZER' : 'HEADER',
      routes,
      authorizers,
      usagePlans: usagePlansOf(template, stack, logicalId, props),
      gatewayResponses,
      binaryMediaTypes: list(props.BinaryMediaTypes).map((t) => String(t).replace('~1', '/')),
      methodThrottles: methodThrottlesOf(props),
      resourcePolicy: readResourcePolicy(auth.ResourcePolicy),
    });
  }
  return apis;
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
    if (key?.Type !== 'AWS::ApiGateway::ApiKey') return undefined;
    const p = resolved(key.Properties ?? {});
    if (p.Enabled === false) return undefined;
    return typeof p.Value === 'string' ? p.Value : keyId;
  };
  const plans: UsagePlanModel[] = [];
  for (const [planId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::UsagePlan') continue;
    // Resolved member by member: `Stage: !Ref Api.Stage` (SAM's stage reference) has no local value.
    const raw = obj(resource.Properties);
    const onThisApi = list(raw.ApiStages).some((s) => resolveValue(stack, obj(s).ApiId) === apiId);
    if (!onThisApi) continue;
    const p = { Throttle: resolveValue(stack, raw.Throttle), Quota: resolveValue(stack, raw.Quota) };
    const keyValues: string[] = [];
    for (const other of Object.values(resources)) {
      if (other.Type !== 'AWS::ApiGateway::UsagePlanKey') continue;
      const k = resolved(other.Properties ?? {});
      if (k.UsagePlanId !== planId) continue;
      const value = keyValue(String(k.KeyId));
      if (value !== undefined) keyValues.push(value);
    }
    plans.push({ id: planId, throttle: throttleOf(p.Throttle), quota: quotaOf(p.Quota), keyValues });
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

function methodThrottlesOf(props: Props): MethodThrottleModel[] {
  const out: MethodThrottleModel[] = [];
  for (const raw of list(props.MethodSettings)) {
    const m = obj(raw);
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

/** The stage throttle that applies to a route: the most specific `MethodSettings` entry. */
export function methodThrottleFor(api: ApiModel, route: RouteModel): MethodThrottleModel | undefined {
  const score = (t: MethodThrottleModel) =>
    (t.resourcePath === route.path ? 2 : t.resourcePath === '/*' ? 0 : -10) +
    (t.httpMethod === route.method ? 1 : t.httpMethod === '*' ? 0 : -10);
  let best: MethodThrottleModel | undefined;
  for (const t of api.methodThrottles)
    if (score(t) >= 0 && (best === undefined || score(t) > score(best))) best = t;
  return best;
}
