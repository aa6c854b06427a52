/**
 * The request pipeline of one HTTP API (docs/local-gateway.md#http-apis): size limit (10 MB), CORS
 * preflight (answered by API Gateway when `CorsConfiguration` is set), route (`$default` last),
 * route throttling, IAM or Lambda authorizer, then the Lambda proxy integration (payload 2.0 or
 * 1.0) within Lambda's payload limits and the 30 s integration timeout. Errors are HTTP APIs' own
 * bodies (`{"message":"Unauthorized"}` ...), every response carries `apigw-requestid`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientCertificateOf, protocolOf } from './client-certificate.ts';
import type { GatewayResponseType } from './gateway-responses.ts';
import { authorizeHttp, checkIdentitySources, type HttpAuthorizerCache } from './http-api-authorize.ts';
import {
  type HttpApiFacts,
  type HttpApiReply,
  type HttpApiRequest,
  type HttpAuthorization,
  lowerCaseHeaders,
  proxyEventV1,
  proxyEventV2,
  resultV2,
  routeArn,
} from './http-api-event.ts';
import type { HttpApiModel, HttpCorsModel } from './http-api-model.ts';
import { authorizeIam } from './iam-authorize.ts';
import { failureNote, invokeIntegration } from './integration.ts';
import { localApiId } from './model.ts';
import { newTraceId, proxyResult, withGatewayHeaders } from './proxy-event.ts';
import {
  type HandlerDeps,
  invokeNoting,
  newAccessEntry,
  readBody,
  sourceIpOf,
  splitTarget,
  writeAccessLog,
  writeResponse,
} from './request-io.ts';
import { httpRouteMatcher } from './route-matcher.ts';
import { ThrottleBuckets } from './usage-plans.ts';

/** HTTP APIs' own error answers: status and `{"message": ...}`. */
const ERRORS = {
  NOT_FOUND: [404, 'Not Found'],
  UNAUTHORIZED: [401, 'Unauthorized'],
  FORBIDDEN: [403, 'Forbidden'],
  TOO_MANY_REQUESTS: [429, 'Too Many Requests'],
  TOO_LARGE: [413, 'Request Entity Too Large'],
  INTERNAL: [500, 'Internal Server Error'],
  UNAVAILABLE: [503, 'Service Unavailable'],
} as const;

type HttpError = keyof typeof ERRORS;

/** The largest request body of an HTTP API (quotas: 10 MB). */
export const HTTP_API_MAX_BODY_BYTES = 10 * 1024 * 1024;

function originAllowed(cors: HttpCorsModel, origin: string): boolean {
  return cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin);
}

function allowOriginValue(cors: HttpCorsModel, origin: string): string {
  // A wildcard answers `*` unless credentials are allowed (browsers refuse `*` with credentials).
  return cors.allowOrigins.includes('*') && !cors.allowCredentials ? '*' : origin;
}

/**
 * API Gateway's answer to a CORS preflight when the API has `CorsConfiguration`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html): 204, with the
 * configured headers when the origin is allowed (and none when it is not).
 */
function preflightReply(cors: HttpCorsModel, rawHeaders: readonly string[]): HttpApiReply {
  const h = lowerCaseHeaders(rawHeaders, false);
  const origin = h.origin ?? '';
  const headers = new Map<string, string[]>();
  if (originAllowed(cors, origin)) {
    headers.set('access-control-allow-origin', [allowOriginValue(cors, origin)]);
    if (cors.allowMethods.length > 0)
      headers.set('access-control-allow-methods', [cors.allowMethods.join(',')]);
    if (cors.allowHeaders.length > 0)
      headers.set('access-control-allow-headers', [cors.allowHeaders.join(',')]);
    if (cors.maxAge !== undefined) headers.set('access-control-max-age', [String(cors.maxAge)]);
    if (cors.allowCredentials) headers.set('access-control-allow-credentials', ['true']);
  }
  return { status: 204, headers, body: Buffer.alloc(0) };
}

/** CORS headers API Gateway sets on a response to a cross-origin request (replacing the backend's). */
function withCors(cors: HttpCorsModel, rawHeaders: readonly string[], reply: HttpApiReply): HttpApiReply {
  const origin = lowerCaseHeaders(rawHeaders, false).origin;
  const headers = new Map([...reply.headers].filter(([name]) => !name.startsWith('access-control-')));
  if (origin !== undefined && originAllowed(cors, origin)) {
    headers.set('access-control-allow-origin', [allowOriginValue(cors, origin)]);
    if (cors.exposeHeaders.length > 0)
      headers.set('access-control-expose-headers', [cors.exposeHeaders.join(',')]);
    if (cors.allowCredentials) headers.set('access-control-allow-credentials', ['true']);
  }
  return { ...reply, headers };
}

/** The request handler of one HTTP API. */
export function httpApiHandler(
  api: HttpApiModel,
  deps: HandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  for (const authorizer of Object.values(api.authorizers)) checkIdentitySources(api.logicalId, authorizer);
  const cache: HttpAuthorizerCache = new Map();
  deps.caches.push(cache);
  const buckets = new ThrottleBuckets(deps.clock);
  const apiId = localApiId(api.logicalId);
  const match = httpRouteMatcher(api.routes);
  const maxBody = Math.min(deps.maxBodyBytes, HTTP_API_MAX_BODY_BYTES);

  return async (req, res) => {
    const started = performance.now();
    // HTTP APIs' request ids look like `JKJaXmPLvHcESHA=`.
    const requestId = randomBytes(10).toString('base64');
    const target = splitTarget(req.url ?? '/');
    const method = (req.method ?? 'GET').toUpperCase();
    const sourceIp = sourceIpOf(req);
    const nowMs = Date.now();
    const entry = newAccessEntry(requestId, api.logicalId, method, target.path);
    const send = (reply: HttpApiReply, errorType?: GatewayResponseType, preflight = false) => {
      const final = api.cors === undefined || preflight ? reply : withCors(api.cors, req.rawHeaders, reply);
      const headers: Record<string, string | string[]> = {};
      for (const [name, values] of final.headers)
        headers[name] = values.length === 1 ? (values[0] as string) : [...values];
      writeResponse(res, final.status, { ...headers, 'apigw-requestid': requestId }, final.body);
      entry.errorType = errorType;
      entry.status = res.statusCode;
      entry.latencyMs = Math.round((performance.now() - started) * 100) / 100;
      writeAccessLog(deps, entry);
    };
    const fail = (error: HttpError, type: GatewayResponseType, message?: string) => {
      const [status, text] = ERRORS[error];
      send(
        {
          status,
          headers: new Map([['content-type', ['application/json']]]),
          body: Buffer.from(JSON.stringify({ message: message ?? text })),
        },
        type,
      );
    };

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      fail('TOO_LARGE', 'REQUEST_TOO_LARGE');
      req.resume();
      return;
    }
    const body = await readBody(req, maxBody);
    if (body === 'too_large') return fail('TOO_LARGE', 'REQUEST_TOO_LARGE');

    const headersIn = lowerCaseHeaders(req.rawHeaders, false);
    if (
      api.cors !== undefined &&
      method === 'OPTIONS' &&
      headersIn.origin !== undefined &&
      headersIn['access-control-request-method'] !== undefined
    )
      return send(preflightReply(api.cors, req.rawHeaders), undefined, true);

    const matched = match(method, target.path);
    if (matched === undefined) return fail('NOT_FOUND', 'RESOURCE_NOT_FOUND');
    const route = matched.route;
    entry.route = route.routeKey;
    // Route throttling: each route its own bucket, for every caller, before any authorizer.
    if (route.throttle !== undefined && !buckets.take(route.routeKey, route.throttle))
      return fail('TOO_MANY_REQUESTS', 'THROTTLED');

    const facts: HttpApiFacts = {
      api,
      apiId,
      accountId: deps.accountId,
      region: deps.region,
      requestId,
      nowMs,
      domainName: req.headers.host ?? 'localhost',
      clientCert: clientCertificateOf(req),
    };
    const request: HttpApiRequest = {
      method,
      path: target.path,
      query: target.query,
      rawHeaders: withGatewayHeaders(
        req.rawHeaders,
        sourceIp,
        protocolOf(req),
        deps.port(),
        newTraceId(nowMs),
      ),
      body,
      sourceIp,
    };
    const arn = routeArn(facts, method, target.path);
    let auth: HttpAuthorization = { kind: 'none' };
    if (route.iam) {
      const outcome = await authorizeIam({
        request: { method, rawPath: target.path, rawQuery: target.query, rawHeaders: req.rawHeaders, body },
        methodArn: arn,
        region: deps.region,
        accountId: deps.accountId,
        nowMs,
        credential: deps.iamCredential,
      });
      // The caller is the IAM principal: its ARN, never the access key id or anything signed.
      entry.principal = outcome.principal?.arn;
      if (!outcome.ok) {
        entry.authorizer = outcome.result;
        entry.authorizerReason = outcome.reason;
        // An unsigned request is a bare 403 Forbidden on HTTP APIs; other refusals say why.
        return outcome.responseType === 'MISSING_AUTHENTICATION_TOKEN'
          ? fail('FORBIDDEN', 'MISSING_AUTHENTICATION_TOKEN')
          : fail('FORBIDDEN', outcome.responseType, outcome.message);
      }
      entry.authorizer = 'allow';
      auth = { kind: 'iam', principal: outcome.principal, accessKeyId: outcome.accessKeyId };
    }
    const authorizer = route.authorizer === undefined ? undefined : api.authorizers[route.authorizer];
    if (authorizer !== undefined) {
      const outcome = await authorizeHttp({
        authorizer,
        request,
        match: matched,
        facts,
        routeArn: arn,
        cache,
        now: deps.clock(),
        invoke: invokeNoting(deps, authorizer.functionLogicalId, (decision) => {
          entry.authorizerReason = decision?.reason;
        }),
      });
      entry.authorizer = outcome.result;
      entry.cacheHit = outcome.cacheHit;
      entry.principal = outcome.principalId;
      switch (outcome.result) {
        case 'allow':
          auth = { kind: 'lambda', principalId: outcome.principalId, context: outcome.context };
          break;
        case 'identity_missing':
        case 'unauthorized':
          return fail('UNAUTHORIZED', 'UNAUTHORIZED');
        case 'explicit_deny':
        case 'no_allow':
          return fail('FORBIDDEN', 'ACCESS_DENIED');
        case 'error':
          return fail('INTERNAL', 'AUTHORIZER_CONFIGURATION_ERROR');
      }
    }

    const event =
      route.payloadFormat === '2.0'
        ? proxyEventV2(request, matched, facts, auth)
        : proxyEventV1(request, matched, facts, auth);
    const outcome = await invokeIntegration(
      invokeNoting(deps, route.functionLogicalId, (decision) => {
        entry.integration = decision;
      }),
      event,
      route.timeoutMs,
    );
    if (outcome.kind !== 'ok') {
      deps.info(failureNote(route.functionLogicalId, outcome));
      const answers = {
        request_too_large: () => fail('TOO_LARGE', 'REQUEST_TOO_LARGE'),
        integration_timeout: () => fail('UNAVAILABLE', 'INTEGRATION_TIMEOUT'),
        response_too_large: () => fail('INTERNAL', 'DEFAULT_5XX'),
        function_error: () => fail('INTERNAL', 'DEFAULT_5XX'),
      };
      return answers[outcome.kind]();
    }
    const reply = route.payloadFormat === '2.0' ? resultV2(outcome.result) : proxyResult(outcome.result);
    if (reply === undefined) return fail('INTERNAL', 'DEFAULT_5XX');
    send(reply);
  };
}
