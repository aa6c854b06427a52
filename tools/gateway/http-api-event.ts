/**
 * HTTP API events and results (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * and https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html):
 * the payload 2.0 (and 1.0) proxy event for the integration, the Lambda authorizer events, and the
 * mapping of a function's result back to HTTP, including 2.0's inferred responses. Pure.
 */
import type { ClientCertificate } from './client-certificate.ts';
import type { HttpApiModel, HttpRouteModel } from './http-api-model.ts';
import { clfTime, type HttpReply, type HttpRequest, resultStatus } from './proxy-event.ts';
import type { RouteMatch } from './route-matcher.ts';
import type { IamPrincipal } from './sigv4.ts';

/** An HTTP request as the HTTP API pipeline sees it (the same facts as a REST request). */
export type HttpApiRequest = HttpRequest;

/** Facts about the request for `requestContext`. */
export interface HttpApiFacts {
  readonly api: HttpApiModel;
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
  readonly requestId: string;
  readonly nowMs: number;
  readonly domainName: string;
  /** The client certificate of a mutual-TLS request (`npm start -- --mtls`). */
  readonly clientCert?: ClientCertificate | undefined;
}

/** What the authorizer step handed on to the integration. */
export type HttpAuthorization =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'lambda';
      readonly principalId: string | undefined;
      readonly context: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'iam'; readonly principal: IamPrincipal; readonly accessKeyId: string };

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The route ARN of a request: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{path}`. */
export function routeArn(facts: HttpApiFacts, method: string, path: string): string {
  return `arn:aws:execute-api:${facts.region}:${facts.accountId}:${facts.apiId}/${facts.api.stageName}/${method}${path}`;
}

/**
 * The path as HTTP APIs report it: decoded, with the stage in front for a named stage (served at
 * `/{stage}/...` in AWS; the local gateway serves every API at its root).
 */
export function reportedPath(facts: HttpApiFacts, path: string): string {
  const decoded = decode(path);
  return facts.api.stageName === '$default' ? decoded : `/${facts.api.stageName}${decoded}`;
}

/** Headers as payload 2.0 carries them: lower-case names, repeated values joined with commas. */
export function lowerCaseHeaders(rawHeaders: readonly string[], omitCookie: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (omitCookie && name === 'cookie') continue;
    const value = rawHeaders[i + 1] as string;
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

function cookies(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    if ((rawHeaders[i] as string).toLowerCase() === 'cookie')
      out.push(
        ...(rawHeaders[i + 1] as string)
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
  return out;
}

/** Query parameters as payload 2.0 carries them: repeated values joined with commas. */
export function commaQuery(query: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return Object.keys(out).length === 0 ? undefined : out;
}

// Media types HTTP APIs hand on as text; any other body arrives base64-encoded.
function isTextType(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    t.startsWith('text/') ||
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/javascript'
  );
}

function bodyOf(req: HttpApiRequest): { body?: string; isBase64Encoded: boolean } {
  if (req.body.length === 0) return { isBase64Encoded: false };
  const contentType = lowerCaseHeaders(req.rawHeaders, false)['content-type'];
  return isTextType(contentType)
    ? { body: req.body.toString('utf8'), isBase64Encoded: false }
    : { body: req.body.toString('base64'), isBase64Encoded: true };
}

/** `requestContext` of payload 2.0 (authorizer added by the caller). */
function requestContextV2(
  req: HttpApiRequest,
  route: HttpRouteModel,
  facts: HttpApiFacts,
): Record<string, unknown> {
  return {
    accountId: facts.accountId,
    apiId: facts.apiId,
    domainName: facts.domainName,
    domainPrefix: facts.domainName.split('.')[0] ?? facts.domainName,
    http: {
      method: req.method,
      path: reportedPath(facts, req.path),
      protocol: 'HTTP/1.1',
      sourceIp: req.sourceIp,
      userAgent: lowerCaseHeaders(req.rawHeaders, false)['user-agent'] ?? '',
    },
    requestId: facts.requestId,
    routeKey: route.routeKey,
    stage: facts.api.stageName,
    time: clfTime(facts.nowMs),
    timeEpoch: facts.nowMs,
    ...(facts.clientCert === undefined ? {} : { authentication: { clientCert: facts.clientCert } }),
  };
}

function stageVariables(facts: HttpApiFacts): Record<string, string> | undefined {
  return Object.keys(facts.api.stageVariables).length === 0 ? undefined : { ...facts.api.stageVariables };
}

function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** The payload 2.0 part every event shares (integration and authorizer). */
function commonV2(
  req: HttpApiRequest,
  match: RouteMatch<HttpRouteModel>,
  facts: HttpApiFacts,
): Record<string, unknown> {
  const c = cookies(req.rawHeaders);
  return {
    routeKey: match.route.routeKey,
    rawPath: reportedPath(facts, req.path),
    rawQueryString: req.query,
    cookies: c.length === 0 ? undefined : c,
    headers: lowerCaseHeaders(req.rawHeaders, true),
    queryStringParameters: commaQuery(req.query),
    pathParameters: match.pathParameters ?? undefined,
    stageVariables: stageVariables(facts),
  };
}

function authorizerV2(auth: HttpAuthorization): Record<string, unknown> | undefined {
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'lambda':
      return { lambda: { ...auth.context } };
    case 'iam':
      return {
        iam: {
          accessKey: auth.accessKeyId,
          accountId: auth.principal.accountId,
          callerId: auth.principal.userId,
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: auth.principal.arn,
          userId: auth.principal.userId,
        },
      };
  }
}

/** The payload 2.0 proxy event for the integration. */
export function proxyEventV2(
  req: HttpApiRequest,
  match: RouteMatch<HttpRouteModel>,
  facts: HttpApiFacts,
  auth: HttpAuthorization,
): Record<string, unknown> {
  const context = requestContextV2(req, match.route, facts);
  const authorizer = authorizerV2(auth);
  if (authorizer !== undefined) context.authorizer = authorizer;
  return defined({
    version: '2.0',
    ...commonV2(req, match, facts),
    requestContext: context,
    ...bodyOf(req),
  });
}

/** Single- and multi-value maps of payload 1.0 (caller's header case; single = last value). */
function multiMaps(pairs: readonly (readonly [string, string])[]): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of pairs) {
    single[k] = v;
    multi[k] = [...(multi[k] ?? []), v];
  }
  const empty = pairs.length === 0;
  return { single: empty ? null : single, multi: empty ? null : multi };
}

function headerPairs(rawHeaders: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    out.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  return out;
}

/** `requestContext` of payload 1.0 on an HTTP API. */
function requestContextV1(
  req: HttpApiRequest,
  route: HttpRouteModel,
  facts: HttpApiFacts,
  auth: HttpAuthorization,
) {
  const iam = auth.kind === 'iam' ? auth : undefined;
  return {
    accountId: facts.accountId,
    apiId: facts.apiId,
    domainName: facts.domainName,
    domainPrefix: facts.domainName.split('.')[0] ?? facts.domainName,
    extendedRequestId: facts.requestId,
    httpMethod: req.method,
    identity: {
      accessKey: iam?.accessKeyId ?? null,
      accountId: iam?.principal.accountId ?? null,
      caller: iam?.principal.userId ?? null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: req.sourceIp,
      user: iam?.principal.userId ?? null,
      userAgent: lowerCaseHeaders(req.rawHeaders, false)['user-agent'] ?? null,
      userArn: iam?.principal.arn ?? null,
      ...(facts.clientCert === undefined ? {} : { clientCert: facts.clientCert }),
    },
    path: reportedPath(facts, req.path),
    protocol: 'HTTP/1.1',
    requestId: facts.requestId,
    requestTime: clfTime(facts.nowMs),
    requestTimeEpoch: facts.nowMs,
    resourceId: route.routeKey,
    resourcePath: route.path,
    stage: facts.api.stageName,
    ...(auth.kind === 'lambda'
      ? { authorizer: { ...auth.context, principalId: auth.principalId, integrationLatency: 0 } }
      : {}),
  };
}

/** The payload 1.0 proxy event for an HTTP API integration. */
export function proxyEventV1(
  req: HttpApiRequest,
  match: RouteMatch<HttpRouteModel>,
  facts: HttpApiFacts,
  auth: HttpAuthorization,
): Record<string, unknown> {
  const headers = multiMaps(headerPairs(req.rawHeaders));
  const query = multiMaps([...new URLSearchParams(req.query)]);
  const body = bodyOf(req);
  return {
    version: '1.0',
    resource: match.route.path,
    path: reportedPath(facts, req.path),
    httpMethod: req.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    requestContext: requestContextV1(req, match.route, facts, auth),
    pathParameters: match.pathParameters,
    stageVariables: stageVariables(facts) ?? null,
    body: body.body ?? null,
    isBase64Encoded: body.isBase64Encoded,
  };
}

/** The Lambda authorizer event, payload 2.0 or 1.0. */
export function authorizerEvent(
  format: '1.0' | '2.0',
  req: HttpApiRequest,
  match: RouteMatch<HttpRouteModel>,
  facts: HttpApiFacts,
  identity: readonly string[],
): Record<string, unknown> {
  const arn = routeArn(facts, req.method, req.path);
  if (format === '2.0')
    return defined({
      version: '2.0',
      type: 'REQUEST',
      routeArn: arn,
      identitySource: [...identity],
      ...commonV2(req, match, facts),
      requestContext: requestContextV2(req, match.route, facts),
    });
  const headers = multiMaps(headerPairs(req.rawHeaders));
  return {
    version: '1.0',
    type: 'REQUEST',
    methodArn: arn,
    identitySource: identity.join(','),
    authorizationToken: identity.join(','),
    resource: match.route.path,
    path: reportedPath(facts, req.path),
    httpMethod: req.method,
    headers: headers.single,
    queryStringParameters: multiMaps([...new URLSearchParams(req.query)]).single,
    pathParameters: match.pathParameters ?? {},
    stageVariables: { ...facts.api.stageVariables },
    requestContext: requestContextV1(req, match.route, facts, { kind: 'none' }),
  };
}

/** An HTTP reply from a function's result. */
export type HttpApiReply = HttpReply;

function scalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * Maps a payload 2.0 result: with a `statusCode` it is the response (`headers`, `cookies`, `body`,
 * `isBase64Encoded`); without one, API Gateway infers 200, `application/json`, and the result (a
 * string as it is, anything else as JSON) as the body. `undefined`: malformed (500).
 */
export function resultV2(result: unknown): HttpApiReply | undefined {
  const isObject = typeof result === 'object' && result !== null && !Array.isArray(result);
  if (!isObject || !Object.hasOwn(result as object, 'statusCode')) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return {
      status: 200,
      headers: new Map([['content-type', ['application/json']]]),
      body: Buffer.from(body, 'utf8'),
    };
  }
  const r = result as Record<string, unknown>;
  const status = resultStatus(r);
  if (status === undefined) return undefined;
  const headers = new Map<string, string[]>();
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return undefined;
    for (const [name, value] of Object.entries(r.headers)) {
      if (!scalar(value)) return undefined;
      headers.set(name.toLowerCase(), [String(value)]);
    }
  }
  if (r.cookies !== undefined && r.cookies !== null) {
    if (!Array.isArray(r.cookies) || !r.cookies.every((c) => typeof c === 'string')) return undefined;
    if (r.cookies.length > 0) headers.set('set-cookie', [...(headers.get('set-cookie') ?? []), ...r.cookies]);
  }
  if (!headers.has('content-type')) headers.set('content-type', ['application/json']);
  const text = typeof r.body === 'string' ? r.body : '';
  return {
    status,
    headers,
    body: r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}
