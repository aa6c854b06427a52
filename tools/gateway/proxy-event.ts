/**
 * The REST API Lambda proxy integration (payload 1.0): the event API Gateway builds from an HTTP
 * request, and the mapping of the function's result back to HTTP (a result API Gateway would not
 * accept is `undefined` → 502). Pure.
 * Formats: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 */
import { randomBytes } from 'node:crypto';
import type { ClientCertificate } from './client-certificate.ts';
import type { ApiModel, RouteModel } from './model.ts';
import { type RouteMatch as GenericRouteMatch, restRouteMatcher } from './route-matcher.ts';
import type { IamPrincipal } from './sigv4.ts';

/** An HTTP request as received, before API Gateway turns it into an event. */
export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, as sent (percent-encoded), e.g. `/orders/ord_1`. */
  readonly path: string;
  /** Raw query string without `?` ('' when none). */
  readonly query: string;
  /**
   * Header names with the caller's case, in order (Node's `rawHeaders` pairs), plus the headers
   * API Gateway adds (`X-Forwarded-*`, `X-Amzn-Trace-Id`: see {@link withGatewayHeaders}).
   */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

/** A route matched for a request, with its path parameters. */
export type RouteMatch = GenericRouteMatch<RouteModel>;

/** Facts about the request API Gateway puts into `requestContext`. */
export interface RequestFacts {
  readonly requestId: string;
  readonly api: ApiModel;
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
  readonly nowMs: number;
  readonly domainName: string;
  /** The signed principal of an `AWS_IAM` route. */
  readonly iam?: { readonly principal: IamPrincipal; readonly accessKeyId: string } | undefined;
  /** The client certificate of a mutual-TLS request (`npm start -- --mtls`). */
  readonly clientCert?: ClientCertificate | undefined;
}

/**
 * The route a request goes to; `undefined` when no resource and method match (API Gateway answers
 * 403 Missing Authentication Token for both an unknown path and an unknown method).
 */
export function matchRoute(
  routes: readonly RouteModel[],
  method: string,
  path: string,
): RouteMatch | undefined {
  return restRouteMatcher(routes)(method, path);
}

/** The method ARN API Gateway passes to authorizers and evaluates policies against. */
export function methodArn(facts: RequestFacts, method: string, path: string): string {
  return `arn:aws:execute-api:${facts.region}:${facts.accountId}:${facts.apiId}/${facts.api.stageName}/${method}${path}`;
}

/** A header value by case-insensitive name (last one wins). */
export function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  const lower = name.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    if ((rawHeaders[i] as string).toLowerCase() === lower) found = rawHeaders[i + 1];
  return found;
}

/** A new X-Ray trace header value (`Root=1-{epoch hex}-{96 random bits}`). */
export function newTraceId(nowMs: number): string {
  return `Root=1-${Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

/**
 * The headers API Gateway adds before anything sees the request (authorizers included):
 * `X-Forwarded-For` (the caller's value with the source IP appended), `X-Forwarded-Proto` and
 * `X-Forwarded-Port` (how the client reached the gateway: locally `http` and the port it listens
 * on), and `X-Amzn-Trace-Id` (the caller's, else a new one). Examples of the headers in
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-create-api-as-simple-proxy-for-lambda.html.
 */
export function withGatewayHeaders(
  rawHeaders: readonly string[],
  sourceIp: string,
  proto: string,
  port: number,
  traceId: string,
): string[] {
  const replaced = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port']);
  const out: string[] = [];
  const forwardedFor: string[] = [];
  let trace: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') forwardedFor.push(value);
    if (lower === 'x-amzn-trace-id') trace = value;
    if (replaced.has(lower) || lower === 'x-amzn-trace-id') continue;
    out.push(name, value);
  }
  out.push(
    'X-Amzn-Trace-Id',
    trace !== undefined && /Root=1-[0-9a-f]{8}-[0-9a-f]{24}/.test(trace) ? trace : traceId,
    'X-Forwarded-For',
    [...forwardedFor, sourceIp].join(', '),
    'X-Forwarded-Port',
    String(port),
    'X-Forwarded-Proto',
    proto,
  );
  return out;
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

/** The media type of a header value (`image/png; q=1` → `image/png`), lower case. */
function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** True when a media type is one of the API's binary media types (`*` wildcards allowed). */
export function isBinaryMediaType(binaryMediaTypes: readonly string[], type: string): boolean {
  if (type === '') return false;
  const [x, y] = type.split('/');
  return binaryMediaTypes.some((t) => {
    const [a, b] = t.toLowerCase().split('/');
    return (a === '*' || a === x) && (b === '*' || b === y);
  });
}

/** The request's first `Accept` media type, which decides whether a response is binary. */
export function firstAcceptType(rawHeaders: readonly string[]): string {
  return mediaType(headerValue(rawHeaders, 'accept')?.split(',')[0]);
}

/** `requestContext.identity` fields of a signed IAM caller (null otherwise), as API Gateway fills them. */
function iamIdentity(facts: RequestFacts): Record<string, string | null> {
  const iam = facts.iam;
  return {
    accessKey: iam?.accessKeyId ?? null,
    accountId: iam?.principal.accountId ?? null,
    caller: iam?.principal.userId ?? null,
    user: iam?.principal.userId ?? null,
    userArn: iam?.principal.arn ?? null,
    principalOrgId: null,
  };
}

/** A time in API Gateway's CLF format (`15/Jan/2026:12:00:00 +0000`). */
export function clfTime(nowMs: number): string {
  return new Date(nowMs).toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1/$2/$3:$4 +0000');
}

/** `requestContext` without the authorizer (also sent to REQUEST authorizers). */
export function requestContext(
  req: HttpRequest,
  match: RouteMatch,
  facts: RequestFacts,
): Record<string, unknown> {
  return {
    resourceId: match.route.eventName.toLowerCase().slice(0, 10),
    resourcePath: match.route.path,
    httpMethod: req.method,
    extendedRequestId: facts.requestId,
    requestTime: clfTime(facts.nowMs),
    path: `/${facts.api.stageName}${req.path}`,
    accountId: facts.accountId,
    protocol: 'HTTP/1.1',
    stage: facts.api.stageName,
    domainPrefix: facts.domainName.split('.')[0] ?? facts.domainName,
    requestTimeEpoch: facts.nowMs,
    requestId: facts.requestId,
    identity: {
      cognitoIdentityPoolId: null,
      cognitoIdentityId: null,
      sourceIp: req.sourceIp,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userAgent: headerValue(req.rawHeaders, 'user-agent') ?? null,
      ...iamIdentity(facts),
      ...(facts.clientCert === undefined ? {} : { clientCert: facts.clientCert }),
    },
    domainName: facts.domainName,
    apiId: facts.apiId,
  };
}

/** The stage variables as events carry them: `null` when the stage has none. */
export function stageVariablesOf(api: ApiModel): Record<string, string> | null {
  const vars = api.stageVariables ?? {};
  return Object.keys(vars).length === 0 ? null : { ...vars };
}

/**
 * The REST proxy event (payload 1.0) for the integration. The body is base64 when its
 * `Content-Type` is a binary media type of the API; otherwise it is text, and bytes that are not
 * UTF-8 become U+FFFD, as API Gateway hands text payloads on as UTF-8 strings
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html).
 */
export function proxyEvent(
  req: HttpRequest,
  match: RouteMatch,
  facts: RequestFacts,
  authorizer: Readonly<Record<string, string>> | undefined,
  apiKey: { readonly id: string; readonly value: string } | undefined,
): Record<string, unknown> {
  const binary =
    req.body.length > 0 &&
    isBinaryMediaType(facts.api.binaryMediaTypes, mediaType(headerValue(req.rawHeaders, 'content-type')));
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
    stageVariables: stageVariablesOf(facts.api),
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
 * The status of a proxy result whose `statusCode`, `body` and `isBase64Encoded` are well-formed
 * (a status of 100–599, a string body, a boolean flag); undefined otherwise.
 */
export function resultStatus(r: Readonly<Record<string, unknown>>): number | undefined {
  const status = typeof r.statusCode === 'string' ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return undefined;
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return undefined;
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean') return undefined;
  return status;
}

/** How a proxy result's base64 body is delivered. */
export interface ResultOptions {
  /**
   * Whether a base64 body (`isBase64Encoded: true`) is decoded: API Gateway decodes it only when the
   * request's first `Accept` type is a binary media type, and otherwise sends the base64 text.
   */
  readonly decodeBase64: boolean;
}

/**
 * Maps a proxy result to HTTP; `undefined` when API Gateway would call it a malformed Lambda proxy
 * response (502): not an object, unknown members, a status that is not a number, a body that is not
 * a string, headers that are not string maps. Without a `Content-Type` the response is
 * `application/json`, as API Gateway sends it.
 */
export function proxyResult(
  result: unknown,
  options: ResultOptions = { decodeBase64: true },
): HttpReply | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const r = result as Record<string, unknown>;
  if (Object.keys(r).some((k) => !RESULT_KEYS.has(k))) return undefined;
  const status = resultStatus(r);
  if (status === undefined) return undefined;
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
  if (!headers.has('content-type')) headers.set('content-type', ['application/json']);
  const text = typeof r.body === 'string' ? r.body : '';
  const body =
    r.isBase64Encoded === true && options.decodeBase64
      ? Buffer.from(text, 'base64')
      : Buffer.from(text, 'utf8');
  return { status, headers, body };
}
