/**
 * The routes of the template's APIs, planned from the API document (docs/deploy.md#routes-follow-the-document):
 * every API whose resource `Metadata` has `GatehouseRoutes` serves every operation of the document,
 * through events of the function it names. Pure: takes the document's operations and what the
 * template says about its APIs, returns the events, the resource policy's public routes and the
 * per-route throttles to write (tools/template/route-regions.ts writes them into template.yaml).
 *
 * Two layouts:
 * - `operations`: one event per operation and API, so API Gateway itself answers 404 for anything
 *   the document does not declare, and each operation can have its own throttle;
 * - `proxy`: when the operations do not fit AWS's limits (or cannot be API Gateway resources), one
 *   `ANY /{proxy+}` event per API behind the authorizer (plus `ANY /` when the document has a root
 *   operation), with events of their own only for the operations that need another authorization or
 *   a throttle. The authorizers' policies are exact on every method ARN (docs/policies.md), and the
 *   request validator refuses what the document does not declare, so nothing more gets through; the
 *   authorizers' cache must then hold the method and path (docs/policies.md#cache-modes).
 */
import { createHash } from 'node:crypto';
import { WORST_CASE_STAGE_PREFIX } from '../../shared/policy/policy-compiler.ts';
import { globTokens, templateTokens, tokensOverlap } from '../../shared/policy/resource-pattern.ts';
import { apiGatewayPath, segmentsOf } from '../../shared/routes/route-table.ts';
import type { GatewayAuthorization, GatewayOperation } from '../openapi/gateway-operations.ts';
import { serverlessApiKind, type Template, TemplateError } from './template.ts';

/** The resource `Metadata` key that makes an API serve the document. */
export const ROUTES_METADATA = 'GatehouseRoutes';

/**
 * Limits the generated routes must fit, each a quota AWS documents:
 * - Lambda: a function's resource-based policy is at most 20 KB, not adjustable (Lambda quotas).
 *   SAM adds one permission statement per `Api`/`HttpApi` event to the integration function's policy,
 *   so this is what bounds the number of events long before CloudFormation's 500 resources;
 * - API Gateway: 300 resources per REST API and 300 routes per HTTP API (default quotas);
 * - API Gateway: a REST API's resource policy is at most 8,192 characters.
 */
export const LIMITS = {
  lambdaPolicyBytes: 20_480,
  restResources: 300,
  httpRoutes: 300,
  resourcePolicyChars: 8_192,
  /**
   * Characters of the resource policy left for the template's own statements (the source-IP Deny,
   * with up to 2,048 characters of AllowedSourceCidrs, and their JSON).
   */
  resourcePolicyReserved: 3_072,
  /** CloudFormation's largest template (uploaded to S3 by `sam deploy`), as cfn-lint checks it. */
  templateBytes: 1_000_000,
} as const;

/** An API of the template that serves the document. */
export interface ServedApi {
  readonly logicalId: string;
  readonly kind: 'rest' | 'http';
  /** The function whose events are the API's routes. */
  readonly functionId: string;
  /** Prepended to every event name (`Key` → `KeyListOrders`). */
  readonly eventPrefix: string;
  /** `Auth.DefaultAuthorizer` (with `Globals`), when set. */
  readonly defaultAuthorizer: string | undefined;
  /** REST: `Auth.ApiKeyRequired` (with `Globals`). */
  readonly apiKeyRequired: boolean;
  /** REST: `ApiKeySourceType`. */
  readonly apiKeySource: 'HEADER' | 'AUTHORIZER';
  /** HTTP: `Auth.EnableIamAuthorizer`. */
  readonly iamAuthorizer: boolean;
  /**
   * Whether the API serves the document's AWS SigV4 operations (marker setting `AwsIamRoutes`,
   * default true). With false they get no event there, and API Gateway answers them as unknown routes.
   */
  readonly awsIamRoutes: boolean;
}

/** One generated event: a route of one API. */
export interface RouteEvent {
  /** The event's logical ID under the function's `Events`. */
  readonly name: string;
  readonly api: ServedApi;
  /** Upper-case method, or `ANY`. */
  readonly method: string;
  /** The API Gateway path (`/orders/{id}`, `/{proxy+}`). */
  readonly path: string;
  readonly authorization: GatewayAuthorization;
  /** REST: `ApiKeyRequired: false` on an API that requires keys (the route cannot carry one). */
  readonly apiKeyOptional: boolean;
  /** The throttle name (`write`), when the route has one. */
  readonly throttle?: string;
  /** The document's operations this route serves (none: the proxy routes). */
  readonly operationIds: readonly string[];
}

/** What the template must say about the document's routes. */
export interface TemplateRouting {
  /** The APIs that serve the document, in template order. */
  readonly apis: readonly ServedApi[];
  readonly layout: 'operations' | 'proxy';
  /** Why the layout is `proxy` (empty for `operations`). */
  readonly reasons: readonly string[];
  /** Every generated event, API by API in template order. */
  readonly events: readonly RouteEvent[];
  /**
   * What the REST APIs' resource policy allows: the public routes as `METHOD/path` patterns
   * relative to the stage (`GET/health`), or `all` when every operation is public (no authorizer
   * runs anywhere, so no authorizer's silence can be turned into an Allow).
   */
  readonly publicResources: readonly string[] | 'all';
  /** Figures against {@link LIMITS}. */
  readonly figures: RoutingFigures;
}

/** How close the generated routes come to each limit. */
export interface RoutingFigures {
  /** Worst-case bytes of each function's resource-based policy. */
  readonly lambdaPolicyBytes: Readonly<Record<string, number>>;
  /** API Gateway resources of each REST API (the root included). */
  readonly restResources: Readonly<Record<string, number>>;
  /** Routes of each HTTP API. */
  readonly httpRoutes: Readonly<Record<string, number>>;
  /** Worst-case characters of the public routes' statement in the resource policy. */
  readonly resourcePolicyChars: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The APIs of a template that serve the document: those whose `Metadata.GatehouseRoutes` names
 * the function their routes are events of. Throws TemplateError for a marker that cannot work.
 */
export function servedApis(template: Template): ServedApi[] {
  const out: ServedApi[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const marker = resource.Metadata?.[ROUTES_METADATA];
    if (marker === undefined) continue;
    const where = `${logicalId}.Metadata.${ROUTES_METADATA}`;
    const kind = serverlessApiKind(resource);
    if (kind === undefined)
      throw new TemplateError(
        `${where}: only an AWS::Serverless::Api or AWS::Serverless::HttpApi serves the document`,
      );
    if (!isObject(marker)) throw new TemplateError(`${where} must be a map with Function (and EventPrefix)`);
    const unknown = Object.keys(marker).filter(
      (k) => k !== 'Function' && k !== 'EventPrefix' && k !== 'AwsIamRoutes',
    );
    if (unknown.length > 0)
      throw new TemplateError(
        `${where}: ${unknown.join(', ')} is not a setting (Function, EventPrefix, AwsIamRoutes)`,
      );
    const awsIamRoutes = marker.AwsIamRoutes ?? true;
    if (typeof awsIamRoutes !== 'boolean')
      throw new TemplateError(`${where}.AwsIamRoutes must be true or false`);
    const functionId = marker.Function;
    if (
      typeof functionId !== 'string' ||
      template.Resources[functionId]?.Type !== 'AWS::Serverless::Function'
    )
      throw new TemplateError(`${where}.Function must name an AWS::Serverless::Function of the template`);
    const eventPrefix = marker.EventPrefix ?? '';
    if (typeof eventPrefix !== 'string' || !/^[A-Za-z0-9]{0,40}$/.test(eventPrefix))
      throw new TemplateError(`${where}.EventPrefix must be letters and digits (a logical ID prefix)`);
    const props = resource.Properties ?? {};
    const globals = isObject(template.Globals?.[kind === 'rest' ? 'Api' : 'HttpApi'])
      ? (template.Globals?.[kind === 'rest' ? 'Api' : 'HttpApi'] as Json)
      : {};
    const auth = {
      ...(isObject(globals.Auth) ? globals.Auth : {}),
      ...(isObject(props.Auth) ? props.Auth : {}),
    };
    if (props.DefinitionBody !== undefined || props.DefinitionUri !== undefined)
      throw new TemplateError(
        `${logicalId}: an API that serves the document has no DefinitionBody/DefinitionUri (its routes are the function's events)`,
      );
    const source = props.ApiKeySourceType ?? globals.ApiKeySourceType ?? 'HEADER';
    out.push({
      logicalId,
      kind,
      functionId,
      eventPrefix,
      defaultAuthorizer:
        typeof auth.DefaultAuthorizer === 'string' && auth.DefaultAuthorizer !== 'NONE'
          ? auth.DefaultAuthorizer
          : undefined,
      apiKeyRequired: auth.ApiKeyRequired === true,
      apiKeySource: String(source).toUpperCase() === 'AUTHORIZER' ? 'AUTHORIZER' : 'HEADER',
      iamAuthorizer: auth.EnableIamAuthorizer === true,
      awsIamRoutes,
    });
  }
  return out;
}

/** The parameters a throttle name refers to: `write` → `WriteThrottlingRateLimit`, `WriteThrottlingBurstLimit`. */
export function throttleParameters(name: string): { readonly rate: string; readonly burst: string } {
  const pascal = `${name.slice(0, 1).toUpperCase()}${name.slice(1)}`;
  return { rate: `${pascal}ThrottlingRateLimit`, burst: `${pascal}ThrottlingBurstLimit` };
}

/** Methods an API Gateway route can have (REST and HTTP APIs alike; no TRACE). */
const GATEWAY_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'ANY']);

/** A literal path part API Gateway accepts (REST: letters, digits, `._-`, and `:`). */
const PATH_PART = /^[A-Za-z0-9._:-]+$/;

/** One API Gateway method: the operations it takes (several `:verb` operations may share one). */
interface GatewayRoute {
  readonly method: string;
  readonly path: string;
  readonly authorization: GatewayAuthorization;
  readonly throttle: string | undefined;
  readonly operationIds: readonly string[];
}

function gatewayRoutes(operations: readonly GatewayOperation[]): {
  routes: GatewayRoute[];
  problems: string[];
} {
  const byKey = new Map<string, { method: string; path: string; ops: GatewayOperation[] }>();
  for (const op of operations) {
    const path = apiGatewayPath(op.route);
    const key = `${op.route.method} ${path}`;
    const entry = byKey.get(key) ?? { method: op.route.method, path, ops: [] };
    entry.ops.push(op);
    byKey.set(key, entry);
  }
  const problems: string[] = [];
  const routes: GatewayRoute[] = [];
  for (const [key, { method, path, ops }] of byKey) {
    const first = ops[0] as GatewayOperation;
    const ids = ops.map((o) => o.route.operationId);
    if (ops.some((o) => o.authorization !== first.authorization))
      problems.push(
        `${ids.join(', ')} share the API Gateway method ${key} but are authorized differently (${[...new Set(ops.map((o) => o.authorization))].join(', ')})`,
      );
    if (ops.some((o) => o.throttle !== first.throttle))
      problems.push(`${ids.join(', ')} share the API Gateway method ${key} but have different throttles`);
    routes.push({
      method,
      path,
      authorization: first.authorization,
      throttle: first.throttle,
      operationIds: ids,
    });
  }
  return { routes, problems };
}

/**
 * Why API Gateway would refuse these routes on one API: methods it does not have, path parts it
 * does not accept, two different variables under one resource.
 */
function shapeProblems(routes: readonly { method: string; path: string }[]): string[] {
  const problems: string[] = [];
  const variableChild = new Map<string, string>();
  for (const { method, path } of routes) {
    if (!GATEWAY_METHODS.has(method)) problems.push(`${method} ${path}: API Gateway has no ${method} method`);
    const parts = path
      .split('/')
      .slice(1)
      .filter((p) => p !== '');
    let parent = '';
    for (const part of parts) {
      const variable = /^\{([A-Za-z0-9._-]+)\+?\}$/.exec(part);
      if (variable === null && !PATH_PART.test(part)) {
        problems.push(
          `${method} ${path}: API Gateway path parts are letters, digits and ._:- (or one {variable})`,
        );
        break;
      }
      if (variable !== null) {
        const seen = variableChild.get(parent);
        if (seen !== undefined && seen !== part)
          problems.push(
            `${parent || '/'} would have two variable children, ${seen} and ${part} (API Gateway allows one)`,
          );
        else variableChild.set(parent, part);
      }
      parent = `${parent}/${part}`;
    }
  }
  return [...new Set(problems)];
}

/** API Gateway resources of a REST API with these paths: every prefix, the root included. */
function resourceCount(paths: readonly string[]): number {
  const resources = new Set<string>(['/']);
  for (const path of paths) {
    let at = '';
    for (const part of path.split('/').filter((p) => p !== '')) {
      at = `${at}/${part}`;
      resources.add(at);
    }
  }
  return resources.size;
}

/** Whether an API gets an event for a route: every route, but SigV4 ones only where it takes them. */
const serves = (api: ServedApi, route: { readonly authorization: GatewayAuthorization }): boolean =>
  route.authorization !== 'aws_iam' || api.awsIamRoutes;

/** `{"Version":"2012-10-17","Id":"default","Statement":[]}`: what a function policy holds besides statements. */
const LAMBDA_POLICY_OVERHEAD = 60;

/**
 * Bytes one SAM event adds to its function's resource-based policy, at worst: a 100-character
 * statement id (Lambda's limit; CloudFormation derives it from the stack name and logical ID), a
 * 64-character function name, a GovCloud ARN, and the event's method and path (variables as `*`).
 */
export function permissionStatementBytes(method: string, path: string): number {
  const sourcePath = path.replace(/\{[^}]*\}/g, '*');
  const statement = {
    Sid: 's'.repeat(100),
    Effect: 'Allow',
    Principal: { Service: 'apigateway.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: `arn:aws-us-gov:lambda:ap-southeast-1:123456789012:function:${'f'.repeat(64)}`,
    Condition: {
      ArnLike: {
        'AWS:SourceArn': `arn:aws-us-gov:execute-api:ap-southeast-1:123456789012:abcdefghij/*/${method === 'ANY' ? '*' : method}${sourcePath}`,
      },
    },
  };
  return JSON.stringify(statement).length + 1;
}

/** Characters of the resource policy's Allow of these public routes, with the longest stage prefix. */
export function publicStatementChars(resources: readonly string[] | 'all'): number {
  const list = resources === 'all' ? ['*'] : resources;
  if (list.length === 0) return 0;
  const statement = {
    Effect: 'Allow',
    Principal: '*',
    Action: 'execute-api:Invoke',
    Resource: list.map((r) => `${WORST_CASE_STAGE_PREFIX}/${r}`),
  };
  return JSON.stringify(statement).length + 1;
}

/** The resource policy pattern of a public route: literal text as is, each variable as `?*`. */
function publicPattern(route: { method: string; path: string }): string {
  const parts = route.path
    .split('/')
    .slice(1)
    .map((p) => (/^\{.*\}$/.test(p) ? '?*' : p));
  return `${route.method}/${parts.join('/')}`;
}

/** A name made of the letters and digits of an operationId: `repos/get-content` → `ReposGetContent`. */
function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => `${w.slice(0, 1).toUpperCase()}${w.slice(1)}`)
    .join('');
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** The longest event name: SAM writes `<Function><Event>Permission<Stage>` logical IDs (255 at most). */
const EVENT_NAME_MAX = 120;

/** Names events: readable (from the operationId), stable, unique among `taken`. */
function namer(taken: Set<string>): (prefix: string, base: string, identity: string) => string {
  return (prefix, base, identity) => {
    let name = `${prefix}${pascalCase(base) || 'Operation'}`;
    if (name.length > EVENT_NAME_MAX) name = `${name.slice(0, EVENT_NAME_MAX - 8)}${shortHash(identity)}`;
    // A name taken by an earlier event keeps it; this one gets a suffix from its own method and path.
    if (taken.has(name)) name = `${name.slice(0, EVENT_NAME_MAX - 8)}${shortHash(identity)}`;
    if (taken.has(name)) throw new TemplateError(`two events would be named ${name}`);
    taken.add(name);
    return name;
  };
}

/** What the planner needs beside the document and the APIs. */
export interface RoutingContext {
  /** The template's parameters (a throttle needs its two, see {@link throttleParameters}). */
  readonly parameters: ReadonlySet<string>;
  /** Worst-case bytes each function's policy already holds (its other events and permissions). */
  readonly otherPermissionBytes: Readonly<Record<string, number>>;
  /** Event names each function already has besides the generated ones. */
  readonly otherEventNames: Readonly<Record<string, readonly string[]>>;
}

interface Layout {
  readonly routes: readonly GatewayRoute[];
  /** The `ANY /{proxy+}` (and `ANY /`) routes, with their authorization. */
  readonly proxy: readonly GatewayRoute[];
  readonly publicResources: readonly string[] | 'all';
}

/**
 * Plans the template's routes for the document. Throws TemplateError naming every problem when no
 * layout can serve the document within the limits.
 */
export function planTemplateRoutes(
  operations: readonly GatewayOperation[],
  apis: readonly ServedApi[],
  context: RoutingContext,
): TemplateRouting {
  const problems: string[] = [];
  if (operations.length === 0 && apis.length > 0)
    problems.push(
      `the document has no operation, so ${apis.map((a) => a.logicalId).join(', ')} would have no route (API Gateway deploys no REST API without methods); remove their ${ROUTES_METADATA} to keep their routes as written`,
    );
  for (const name of new Set(operations.flatMap((o) => (o.throttle === undefined ? [] : [o.throttle])))) {
    const p = throttleParameters(name);
    if (!context.parameters.has(p.rate) || !context.parameters.has(p.burst))
      problems.push(`x-gatehouse-throttle ${name}: the template has no parameters ${p.rate} and ${p.burst}`);
  }
  for (const api of apis) {
    if (api.defaultAuthorizer === undefined && operations.some((o) => o.authorization === 'authorizer'))
      problems.push(
        `${api.logicalId} has no Auth.DefaultAuthorizer: the document's secured operations would be public there`,
      );
    if (
      api.kind === 'http' &&
      api.awsIamRoutes &&
      !api.iamAuthorizer &&
      operations.some((o) => o.authorization === 'aws_iam')
    )
      problems.push(
        `${api.logicalId} needs Auth.EnableIamAuthorizer: true for the document's AWS SigV4 operations (or ${ROUTES_METADATA}.AwsIamRoutes: false)`,
      );
  }
  const sigv4 = operations.filter((o) => o.authorization === 'aws_iam').map((o) => o.route.operationId);
  if (sigv4.length > 0 && apis.length > 0 && !apis.some((a) => a.awsIamRoutes))
    problems.push(
      `every API has ${ROUTES_METADATA}.AwsIamRoutes: false, so the AWS SigV4 operations ${sigv4.join(', ')} would have no route`,
    );
  const grouped = gatewayRoutes(operations);
  problems.push(...grouped.problems);
  if (problems.length > 0)
    throw new TemplateError(`template.yaml cannot serve the document: ${problems.join('; ')}`);
  const routes = grouped.routes;

  const operationsLayout = (): Layout | string[] => {
    const found = shapeProblems(routes);
    const publicResources = publicRoutesOf(routes, routes, found);
    return found.length > 0 ? found : { routes, proxy: [], publicResources };
  };
  const proxyLayout = (): Layout | string[] => {
    const allPublic = routes.every((r) => r.authorization === 'public');
    const needsOwn = (r: GatewayRoute) =>
      r.throttle !== undefined || (!allPublic && r.authorization !== 'authorizer');
    // A resource with an event of its own takes every method of its path: the proxy never sees
    // them, so every operation on that path gets its own event.
    const ownPaths = new Set(routes.filter(needsOwn).map((r) => r.path));
    const own = routes.filter((r) => ownPaths.has(r.path));
    const authorization: GatewayAuthorization = allPublic ? 'public' : 'authorizer';
    const proxy: GatewayRoute[] = [];
    if (routes.some((r) => r.path === '/' && !ownPaths.has('/')))
      proxy.push({ method: 'ANY', path: '/', authorization, throttle: undefined, operationIds: [] });
    proxy.push({ method: 'ANY', path: '/{proxy+}', authorization, throttle: undefined, operationIds: [] });
    const found = shapeProblems([...own, ...proxy]);
    if (!allPublic)
      for (const r of own)
        if (r.authorization === 'public' && r.path.includes('{'))
          found.push(
            `${r.method} ${r.path} is public and has a path variable: the resource policy's Allow for it would also match requests the {proxy+} route takes to the authorizer`,
          );
    const publicResources = allPublic ? 'all' : publicRoutesOf(own, own, found);
    return found.length > 0 ? found : { routes: own, proxy, publicResources };
  };

  const attempt = (layout: Layout | string[]): { layout: Layout; figures: RoutingFigures } | string[] => {
    if (Array.isArray(layout)) return layout;
    const figures = measure(layout, apis, context);
    const over = overLimits(figures, apis);
    return over.length > 0 ? over : { layout, figures };
  };

  // One event per operation: every reason it fails, the limits first, then what API Gateway refuses.
  const operationsAttempt = (): { layout: Layout; figures: RoutingFigures } | string[] => {
    const shapes = operationsLayout();
    if (!Array.isArray(shapes)) return attempt(shapes);
    const everything: Layout = { routes, proxy: [], publicResources: [] };
    return [...overLimits(measure(everything, apis, context), apis), ...shapes];
  };
  const first = operationsAttempt();
  let chosen: { layout: Layout; figures: RoutingFigures };
  let reasons: string[] = [];
  if (!Array.isArray(first)) chosen = first;
  else {
    const second = attempt(proxyLayout());
    if (Array.isArray(second))
      throw new TemplateError(
        `template.yaml cannot serve the document: one event per operation fails (${first.slice(0, 5).join('; ')}${first.length > 5 ? `; and ${first.length - 5} more` : ''}), and so does one {proxy+} route per API (${second.slice(0, 5).join('; ')}${second.length > 5 ? `; and ${second.length - 5} more` : ''}) (docs/deploy.md#when-the-document-is-too-large)`,
      );
    chosen = second;
    reasons = first;
  }

  const taken = new Map<string, Set<string>>();
  const events: RouteEvent[] = [];
  for (const api of apis) {
    const names = taken.get(api.functionId) ?? new Set(context.otherEventNames[api.functionId] ?? []);
    taken.set(api.functionId, names);
    const name = namer(names);
    const all = [...chosen.layout.routes, ...chosen.layout.proxy].filter((r) => serves(api, r));
    for (const r of all) {
      const base = r.operationIds[0] ?? (r.path === '/' ? 'DocumentRoot' : 'DocumentProxy');
      const keyless =
        r.authorization === 'public' || (r.authorization === 'aws_iam' && api.apiKeySource === 'AUTHORIZER');
      events.push({
        name: name(api.eventPrefix, base, `${api.logicalId} ${r.method} ${r.path}`),
        api,
        method: r.method,
        path: r.path,
        authorization: r.authorization,
        apiKeyOptional: api.kind === 'rest' && api.apiKeyRequired && keyless,
        ...(r.throttle === undefined ? {} : { throttle: r.throttle }),
        operationIds: r.operationIds,
      });
    }
  }
  return {
    apis,
    layout: chosen.layout.proxy.length > 0 ? 'proxy' : 'operations',
    reasons,
    events,
    publicResources: chosen.layout.publicResources,
    figures: chosen.figures,
  };
}

/**
 * The resource policy patterns of the public routes among `routes`. A pattern with a variable
 * (`GET/items/?*`: IAM's `*` spans `/`) must not reach a route that an authorizer or IAM guards,
 * where it would turn an authorizer's silence into an Allow: such a route is a problem.
 */
function publicRoutesOf(
  routes: readonly GatewayRoute[],
  all: readonly GatewayRoute[],
  problems: string[],
): string[] {
  const out: string[] = [];
  for (const r of routes) {
    if (r.authorization !== 'public') continue;
    const pattern = publicPattern(r);
    if (/[*?]/.test(r.path.replace(/\{[^}]*\}/g, ''))) {
      problems.push(
        `${r.method} ${r.path}: "*" or "?" in a public path cannot be written in a resource policy`,
      );
      continue;
    }
    if (pattern.includes('*')) {
      const tokens = globTokens(pattern);
      for (const other of all) {
        if (other.authorization === 'public' || other.method !== r.method) continue;
        const otherTokens = templateTokens(
          other.method,
          segmentsOf({ method: other.method, path: other.path }),
        );
        if (tokensOverlap(tokens, otherTokens))
          problems.push(
            `public ${r.method} ${r.path}: the resource policy's Allow ${pattern} would also allow ${other.method} ${other.path}, which ${other.authorization === 'aws_iam' ? 'IAM' : 'an authorizer'} guards (IAM's * spans /)`,
          );
      }
    }
    out.push(pattern);
  }
  return out;
}

function measure(layout: Layout, apis: readonly ServedApi[], context: RoutingContext): RoutingFigures {
  const lambdaPolicyBytes: Record<string, number> = {};
  const restResources: Record<string, number> = {};
  const httpRoutes: Record<string, number> = {};
  for (const api of apis) {
    const all = [...layout.routes, ...layout.proxy].filter((r) => serves(api, r));
    const perApi = all.reduce((n, r) => n + permissionStatementBytes(r.method, r.path), 0);
    lambdaPolicyBytes[api.functionId] =
      (lambdaPolicyBytes[api.functionId] ??
        LAMBDA_POLICY_OVERHEAD + (context.otherPermissionBytes[api.functionId] ?? 0)) + perApi;
    if (api.kind === 'rest') restResources[api.logicalId] = resourceCount(all.map((r) => r.path));
    else httpRoutes[api.logicalId] = all.length;
  }
  const resourcePolicyChars = apis.some((a) => a.kind === 'rest')
    ? publicStatementChars(layout.publicResources)
    : 0;
  return { lambdaPolicyBytes, restResources, httpRoutes, resourcePolicyChars };
}

function overLimits(figures: RoutingFigures, apis: readonly ServedApi[]): string[] {
  const over: string[] = [];
  for (const [fn, bytes] of Object.entries(figures.lambdaPolicyBytes))
    if (bytes > LIMITS.lambdaPolicyBytes)
      over.push(
        `${fn}'s resource-based policy would reach ${bytes} bytes (Lambda's limit is ${LIMITS.lambdaPolicyBytes}; SAM adds one statement per event)`,
      );
  for (const [api, n] of Object.entries(figures.restResources))
    if (n > LIMITS.restResources)
      over.push(`${api} would have ${n} resources (API Gateway's quota is ${LIMITS.restResources})`);
  for (const [api, n] of Object.entries(figures.httpRoutes))
    if (n > LIMITS.httpRoutes)
      over.push(`${api} would have ${n} routes (API Gateway's quota is ${LIMITS.httpRoutes})`);
  const policyBudget = LIMITS.resourcePolicyChars - LIMITS.resourcePolicyReserved;
  if (apis.some((a) => a.kind === 'rest') && figures.resourcePolicyChars > policyBudget)
    over.push(
      `the public routes' Allow would take ${figures.resourcePolicyChars} characters of the resource policy (${policyBudget} of API Gateway's ${LIMITS.resourcePolicyChars} are left for it)`,
    );
  return over;
}

/** The API an event's `RestApiId` / `ApiId` names (`!Ref X`), when it names one. */
function eventTarget(event: Json): { kind: 'rest' | 'http'; api: string | undefined } | undefined {
  const props = isObject(event.Properties) ? event.Properties : {};
  if (event.Type === 'Api') return { kind: 'rest', api: refName(props.RestApiId) };
  if (event.Type === 'HttpApi') return { kind: 'http', api: refName(props.ApiId) };
  return undefined;
}

function refName(value: unknown): string | undefined {
  return isObject(value) && typeof value.Ref === 'string' ? value.Ref : undefined;
}

/** The function a permission's `FunctionName` names (`!Ref F`, `!GetAtt F.Arn`). */
function permissionFunction(props: Json): string | undefined {
  const name = props.FunctionName;
  if (!isObject(name)) return undefined;
  const getAtt = name['Fn::GetAtt'];
  return refName(name) ?? (Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined);
}

/**
 * What the template holds beside the generated routes: the throttles it has parameters for, and
 * what the functions of the served APIs already have (events of other APIs, explicit permissions).
 * Throws TemplateError for an event that routes to a served API from another function: the served
 * API's routes are all generated.
 */
export function routingContext(template: Template, apis: readonly ServedApi[]): RoutingContext {
  const served = new Map(apis.map((a) => [a.logicalId, a]));
  const functions = new Set(apis.map((a) => a.functionId));
  const otherPermissionBytes: Record<string, number> = {};
  const otherEventNames: Record<string, string[]> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::Lambda::Permission') {
      const fn = permissionFunction(resource.Properties ?? {});
      // An explicit permission's source is unknown here: counted as a 64-character path.
      if (fn !== undefined && functions.has(fn))
        otherPermissionBytes[fn] =
          (otherPermissionBytes[fn] ?? 0) + permissionStatementBytes('ANY', `/${'p'.repeat(63)}`);
      continue;
    }
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    const events = resource.Properties?.Events;
    for (const [name, raw] of Object.entries(isObject(events) ? events : {})) {
      if (!isObject(raw)) continue;
      const target = eventTarget(raw);
      const api = target?.api === undefined ? undefined : served.get(target.api);
      if (api !== undefined && api.kind === target?.kind) {
        if (api.functionId !== id)
          throw new TemplateError(
            `${id}.Events.${name} routes to ${api.logicalId}, whose routes are generated onto ${api.functionId} from the API document: remove the event (docs/deploy.md#routes-follow-the-document)`,
          );
        continue;
      }
      if (!functions.has(id)) continue;
      otherEventNames[id] = [...(otherEventNames[id] ?? []), name];
      if (target !== undefined) {
        const props = isObject(raw.Properties) ? raw.Properties : {};
        const path = typeof props.Path === 'string' ? props.Path : `/${'p'.repeat(63)}`;
        const method = typeof props.Method === 'string' ? props.Method.toUpperCase() : 'ANY';
        otherPermissionBytes[id] = (otherPermissionBytes[id] ?? 0) + permissionStatementBytes(method, path);
      }
    }
  }
  return {
    parameters: new Set(Object.keys(template.Parameters ?? {})),
    otherPermissionBytes,
    otherEventNames,
  };
}
