/**
 * The REST API Lambda proxy integration (payload 1.0): the event API Gateway builds from an HTTP
 * request, the route matching that picks the resource, and the mapping of the function's result
 * back to HTTP (a result API Gateway would not accept is `undefined` → 502). Pure.
 */
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import type { ApiModel, RouteModel } from './model.ts';

/** An HTTP request as received, before API Gateway turns it into an event. */
export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/orders/ord_1`. */
  readonly path: string;
  /** Raw query string without `?` ('' when none). */
  readonly query: string;
  /** Header names with the caller's case, in order (Node's `rawHeaders` pairs). */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

/** A route matched for a request, with its path parameters. */
export interface RouteMatch {
  readonly route: RouteModel;
  readonly pathParameters: Readonly<Record<string, string>> | null;
}

/** Facts about the request API Gateway puts into `requestContext`. */
export interface RequestFacts {
  readonly requestId: string;
  readonly api: ApiModel;
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
  readonly nowMs: number;
  readonly domainName: string;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// One trie per route list: the model's routes are built once per template load.
const matchers = new WeakMap<readonly RouteModel[], RouteMatcher<RouteModel>>();

/**
 * The route a request goes to; `undefined` when no resource and method match (API Gateway answers
 * 403 Missing Authentication Token for both an unknown path and an unknown method). The same
 * matcher as the functions' (shared/routes), so the gateway routes as the authorizers decide.
 */
export function matchRoute(
  routes: readonly RouteModel[],
  method: string,
  path: string,
): RouteMatch | undefined {
  let matcher = matchers.get(routes);
  if (matcher === undefined) {
    matcher = new RouteMatcher(routes);
    matchers.set(routes, matcher);
  }
  const found = matcher.lookup(method, path);
  if (found.kind !== 'found') return undefined;
  const params = Object.entries(found.match.params);
  return {
    route: found.match.route,
    pathParameters:
      params.length === 0 ? null : Object.fromEntries(params.map(([k, v]) => [k, safeDecode(v)])),
  };
}

/** The method ARN API Gateway passes to authorizers and evaluates policies against. */
export function methodArn(facts: RequestFacts, method: string, path: string): string {
  return `arn:aws:execute-api:${facts.region}:${facts.accountId}:${facts.apiId}/${facts.api.stageName}/${method}${path}`;
}

/** Single- and multi-value header maps (API Gateway keeps the caller's case; single = last value). */
export function headerMaps(rawHeaders: readonly string[]): {
  headers: Record<string, string> | null;
  multiValueHeaders: Record<string, string[]> | null;
} {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const caseOf = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const name = caseOf.get(raw.toLowerCase()) ?? raw;
    caseOf.set(raw.toLowerCase(), name);
    headers[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  const empty = Object.keys(headers).length === 0;
  return { headers: empty ? null : headers, multiValueHeaders: empty ? null : multi };
}

/** Query maps (single = last value), `null` when there is no query, as API Gateway sends them. */
export function queryMaps(query: string): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    single[k] = v;
    multi[k] = [...(multi[k] ?? []), v];
  }
  const empty = Object.keys(single).length === 0;
  return {
    queryStringParameters: empty ? null : single,
    multiValueQueryStringParameters: empty ? null : multi,
  };
}

/** A header value by case-insensitive name (last one wins). */
export function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  const lower = name.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    if ((rawHeaders[i] as string).toLowerCase() === lower) found = rawHeaders[i + 1];
  return found;
}

function isBinary(api: ApiModel, contentType: string | undefined, body: Buffer): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const listed = api.binaryMediaTypes.some((t) => {
    const [a, b] = t.toLowerCase().split('/');
    const [x, y] = type.split('/');
    return (a === '*' || a === x) && (b === '*' || b === y);
  });
  // Beyond API Gateway: a body that is not UTF-8 is sent base64 rather than silently mangled.
  return listed || !isUtf8(body);
}

function isUtf8(body: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** `requestContext` without the authorizer (also sent to REQUEST authorizers). */
export function requestContext(
  req: HttpRequest,
  match: RouteMatch,
  facts: RequestFacts,
): Record<string, unknown> {
  const now = new Date(facts.nowMs);
  return {
    resourceId: match.route.eventName.toLowerCase().slice(0, 10),
    resourcePath: match.route.path,
    httpMethod: req.method,
    extendedRequestId: facts.requestId,
    requestTime: now.toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1/$2/$3:$4 +0000'),
    path: `/${facts.api.stageName}${req.path}`,
    accountId: facts.accountId,
    protocol: 'HTTP/1.1',
    stage: facts.api.stageName,
    domainPrefix: facts.domainName.split('.')[0] ?? facts.domainName,
    requestTimeEpoch: facts.nowMs,
    requestId: facts.requestId,
    identity: {
      cognitoIdentityPoolId: null,
      accountId: null,
      cognitoIdentityId: null,
      caller: null,
      sourceIp: req.sourceIp,
      principalOrgId: null,
      accessKey: null,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userArn: null,
      userAgent: headerValue(req.rawHeaders, 'user-agent') ?? null,
      user: null,
    },
    domainName: facts.domainName,
    apiId: facts.apiId,
  };
}

/** The REST proxy event (payload 1.0) for the integration. */
export function proxyEvent(
  req: HttpRequest,
  match: RouteMatch,
  facts: RequestFacts,
  authorizer: Readonly<Record<string, string>> | undefined,
  apiKey: { readonly id: string; readonly value: string } | undefined,
): Record<string, unknown> {
  const binary =
    req.body.length > 0 && isBinary(facts.api, headerValue(req.rawHeaders, 'content-type'), req.body);
  const context = requestContext(req, match, facts);
  if (authorizer !== undefined) context.authorizer = { ...authorizer, integrationLatency: 0 };
  if (apiKey !== undefined)
    context.identity = { ...(context.identity as object), apiKey: apiKey.value, apiKeyId: apiKey.id };
  return {
    resource: match.route.path,
    path: req.path,
    httpMethod: req.method,
    ...headerMaps(req.rawHeaders),
    ...queryMaps(req.query),
    pathParameters: match.pathParameters,
    stageVariables: null,
    requestContext: context,
    body: req.body.length === 0 ? null : binary ? req.body.toString('base64') : req.body.toString('utf8'),
    isBase64Encoded: binary,
  };
}

/** What goes back to the caller. */
export interface HttpReply {
  readonly status: number;
  /** Header name → values (a name may repeat, e.g. Set-Cookie). */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: Buffer;
}

const RESULT_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

function scalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * Maps a proxy result to HTTP; `undefined` when API Gateway would call it a malformed Lambda proxy
 * response (502): not an object, unknown members, a status that is not a number, a body that is not
 * a string, headers that are not string maps.
 */
export function proxyResult(result: unknown): HttpReply | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const r = result as Record<string, unknown>;
  if (Object.keys(r).some((k) => !RESULT_KEYS.has(k))) return undefined;
  const status = typeof r.statusCode === 'string' ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return undefined;
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return undefined;
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean') return undefined;
  const headers = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  };
  if (r.multiValueHeaders !== undefined && r.multiValueHeaders !== null) {
    if (typeof r.multiValueHeaders !== 'object' || Array.isArray(r.multiValueHeaders)) return undefined;
    for (const [name, values] of Object.entries(r.multiValueHeaders)) {
      if (!Array.isArray(values) || !values.every(scalar)) return undefined;
      for (const v of values) add(name, String(v));
    }
  }
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return undefined;
    for (const [name, value] of Object.entries(r.headers)) {
      if (!scalar(value)) return undefined;
      // `headers` and `multiValueHeaders` are merged; a name in both keeps the multi values.
      const key = name.toLowerCase();
      const inMulti = Object.keys((r.multiValueHeaders as object | null) ?? {}).some(
        (n) => n.toLowerCase() === key,
      );
      if (!inMulti) add(name, String(value));
    }
  }
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { status, headers, body };
}
