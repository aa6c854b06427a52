/**
 * The request pipeline of one REST API, step by step as API Gateway takes it
 * (docs/local-gateway.md#api-gateway-behaviour): size limit, route, stage throttling (per method),
 * IAM (SigV4 + policies) or resource policy, Lambda authorizer, API key and usage plan (per-method
 * throttles included), request validation, then the Lambda proxy integration (or SAM's CORS
 * preflight mock) within the Lambda payload limits and the integration timeout.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthorizeOutcome, type AuthorizerCache, authorize } from './authorize.ts';
import { clientCertificateOf, protocolOf } from './client-certificate.ts';
import {
  EXPLICIT_DENY_MESSAGE,
  type GatewayReply,
  type GatewayResponseType,
  gatewayResponse,
  type ResponseContext,
} from './gateway-responses.ts';
import { authorizeIam } from './iam-authorize.ts';
import { failureNote, invokeIntegration } from './integration.ts';
import {
  type ApiModel,
  localApiId,
  methodThrottleFor,
  planMethodThrottleFor,
  type RouteModel,
} from './model.ts';
import {
  clfTime,
  firstAcceptType,
  type HttpRequest,
  headerValue,
  isBinaryMediaType,
  methodArn,
  newTraceId,
  proxyEvent,
  proxyResult,
  type RequestFacts,
  type RouteMatch,
  withGatewayHeaders,
} from './proxy-event.ts';
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
import { createRequestValidator } from './request-validation.ts';
import { evaluateResourcePolicy } from './resource-policy.ts';
import { restRouteMatcher } from './route-matcher.ts';
import { findPlan, ThrottleBuckets, UsageMeter } from './usage-plans.ts';

/** The `$context` variables of a request, for gateway responses. */
function contextVariables(
  facts: RequestFacts,
  req: { method: string; path: string; rawHeaders: readonly string[]; sourceIp: string },
  route: RouteModel | undefined,
  traceId: string,
): Record<string, string | null> {
  const iam = facts.iam;
  return {
    accountId: facts.accountId,
    apiId: facts.apiId,
    awsEndpointRequestId: facts.requestId,
    domainName: facts.domainName,
    domainPrefix: facts.domainName.split('.')[0] ?? facts.domainName,
    extendedRequestId: facts.requestId,
    httpMethod: req.method,
    path: `/${facts.api.stageName}${req.path}`,
    protocol: 'HTTP/1.1',
    requestId: facts.requestId,
    requestTime: clfTime(facts.nowMs),
    requestTimeEpoch: String(facts.nowMs),
    resourceId: route?.eventName.toLowerCase().slice(0, 10) ?? null,
    resourcePath: route?.path ?? null,
    stage: facts.api.stageName,
    xrayTraceId: traceId.replace(/^Root=/, '').split(';')[0] ?? null,
    'identity.sourceIp': req.sourceIp,
    'identity.userAgent': headerValue(req.rawHeaders, 'user-agent') ?? null,
    'identity.accountId': iam?.principal.accountId ?? null,
    'identity.caller': iam?.principal.userId ?? null,
    'identity.user': iam?.principal.userId ?? null,
    'identity.userArn': iam?.principal.arn ?? null,
    'identity.accessKey': iam?.accessKeyId ?? null,
  };
}

/** The request handler of one REST API. */
export function restApiHandler(
  api: ApiModel,
  deps: HandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const cache: AuthorizerCache = new Map();
  deps.caches.push(cache);
  const usage = new UsageMeter(deps.clock);
  const stageBuckets = new ThrottleBuckets(deps.clock);
  const apiId = localApiId(api.logicalId);
  const match = restRouteMatcher(api.routes);
  const validator = createRequestValidator(api);

  return async (req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    const target = splitTarget(req.url ?? '/');
    const method = (req.method ?? 'GET').toUpperCase();
    const sourceIp = sourceIpOf(req);
    const nowMs = Date.now();
    const traceId = newTraceId(nowMs);
    const entry = newAccessEntry(requestId, api.logicalId, method, target.path);
    let facts: RequestFacts = {
      requestId,
      api,
      apiId,
      accountId: deps.accountId,
      region: deps.region,
      nowMs,
      domainName: req.headers.host ?? 'localhost',
      clientCert: clientCertificateOf(req),
    };
    let matched: RouteMatch | undefined;
    let authorizerContext: Record<string, string> = {};
    let validationDetails = '';
    const finish = (reply: GatewayReply | undefined, errorType: GatewayResponseType | undefined) => {
      entry.errorType = errorType;
      if (reply !== undefined)
        writeResponse(res, reply.status, { ...reply.headers, 'x-amzn-requestid': requestId }, reply.body);
      entry.status = res.statusCode;
      entry.latencyMs = Math.round((performance.now() - started) * 100) / 100;
      writeAccessLog(deps, entry);
    };
    const fail = (type: GatewayResponseType, message?: string, amznErrorType?: string) => {
      const ctx: ResponseContext = {
        variables: {
          ...contextVariables(
            facts,
            { method, path: target.path, rawHeaders: req.rawHeaders, sourceIp },
            matched?.route,
            traceId,
          ),
          ...Object.fromEntries(Object.entries(authorizerContext).map(([k, v]) => [`authorizer.${k}`, v])),
          'error.validationErrorString': validationDetails,
        },
        stageVariables: api.stageVariables ?? {},
        requestParameter: (location, name) =>
          location === 'header'
            ? headerValue(req.rawHeaders, name)
            : location === 'querystring'
              ? (new URLSearchParams(target.query).getAll(name).at(-1) ?? undefined)
              : matched?.pathParameters?.[name],
      };
      finish(gatewayResponse(type, api.gatewayResponses, ctx, message, amznErrorType), type);
    };

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > deps.maxBodyBytes) {
      fail('REQUEST_TOO_LARGE');
      req.resume();
      return;
    }
    const body = await readBody(req, deps.maxBodyBytes);
    if (body === 'too_large') return fail('REQUEST_TOO_LARGE');

    matched = match(method, target.path);
    if (matched === undefined) return fail('MISSING_AUTHENTICATION_TOKEN');
    const route = matched.route;
    entry.route = `${route.method} ${route.path}`;
    // Stage throttling (MethodSettings) holds for every caller, before any authorizer runs; each
    // method has its own bucket.
    const stageThrottle = methodThrottleFor(api, route);
    if (
      stageThrottle !== undefined &&
      !stageBuckets.take(`${route.method} ${route.path}`, stageThrottle.throttle)
    )
      return fail('THROTTLED');

    const httpRequest: HttpRequest = {
      method,
      path: target.path,
      query: target.query,
      rawHeaders: withGatewayHeaders(req.rawHeaders, sourceIp, protocolOf(req), deps.port(), traceId),
      body,
      sourceIp,
    };
    const arn = methodArn(facts, method, target.path);
    const apiArnPrefix = `arn:aws:execute-api:${deps.region}:${deps.accountId}:${apiId}`;

    let resourceVerdict: 'allow' | 'explicit_deny' | 'no_allow' | undefined;
    if (route.iam === true) {
      // Signature first, then the caller's identity policy with the resource policy.
      const outcome = await authorizeIam({
        request: { method, rawPath: target.path, rawQuery: target.query, rawHeaders: req.rawHeaders, body },
        methodArn: arn,
        region: deps.region,
        accountId: deps.accountId,
        nowMs,
        credential: deps.iamCredential,
        ...(api.resourcePolicy === undefined
          ? {}
          : { resourcePolicy: { statements: api.resourcePolicy, apiArnPrefix, sourceIp } }),
      });
      // The caller is the IAM principal: its ARN, never the access key id or anything signed.
      entry.principal = outcome.principal?.arn;
      if (!outcome.ok) {
        entry.authorizer = outcome.result;
        entry.authorizerReason = outcome.reason;
        return fail(outcome.responseType, outcome.message, outcome.errorType);
      }
      entry.authorizer = 'allow';
      facts = { ...facts, iam: { principal: outcome.principal, accessKeyId: outcome.accessKeyId } };
    } else if (api.resourcePolicy !== undefined) {
      // The resource policy is evaluated first: its explicit Deny stops the request before any
      // authorizer; without an authorizer, the policy must also allow.
      const verdict = evaluateResourcePolicy(api.resourcePolicy, arn, apiArnPrefix, sourceIp);
      entry.resourcePolicy = verdict;
      resourceVerdict = verdict;
      if (verdict === 'explicit_deny' || (verdict === 'no_allow' && route.authorizer === undefined)) {
        const suffix = verdict === 'explicit_deny' ? ' with an explicit deny' : '';
        return fail(
          'ACCESS_DENIED',
          `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arn}${suffix}`,
        );
      }
    }

    let usageKey: string | undefined;
    const authorizer = route.authorizer === undefined ? undefined : api.authorizers[route.authorizer];
    if (authorizer !== undefined) {
      const outcome: AuthorizeOutcome = await authorize({
        authorizer,
        request: httpRequest,
        match: matched,
        facts,
        methodArn: arn,
        cache,
        now: deps.clock(),
        invoke: invokeNoting(deps, authorizer.functionLogicalId, (decision) => {
          entry.authorizerReason = decision?.reason;
        }),
      });
      entry.authorizer = outcome.result;
      entry.cacheHit = outcome.cacheHit;
      entry.principal = outcome.answer?.principalId;
      if (outcome.answer !== undefined)
        authorizerContext = { ...outcome.answer.context, principalId: outcome.answer.principalId };
      // The authorizer's policy and the resource policy decide together, same account (Table A of
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):
      // a policy that neither allows nor denies the method is an Allow when the resource policy
      // allows it.
      const allowedByResourcePolicy = outcome.result === 'no_allow' && resourceVerdict === 'allow';
      if (outcome.result !== 'allow' && !allowedByResourcePolicy) {
        const type: GatewayResponseType =
          outcome.result === 'explicit_deny' || outcome.result === 'no_allow'
            ? 'ACCESS_DENIED'
            : outcome.result === 'error'
              ? 'AUTHORIZER_CONFIGURATION_ERROR'
              : 'UNAUTHORIZED';
        return fail(type, outcome.result === 'explicit_deny' ? EXPLICIT_DENY_MESSAGE : undefined);
      }
      usageKey = outcome.answer?.usageIdentifierKey;
    }

    let apiKey: { id: string; value: string } | undefined;
    if (route.apiKeyRequired) {
      const key = api.apiKeySource === 'AUTHORIZER' ? usageKey : headerValue(req.rawHeaders, 'x-api-key');
      const plan = await findPlan(api, key, deps.apiKeys);
      if (plan === undefined || key === undefined) return fail('INVALID_API_KEY');
      const methodThrottle = planMethodThrottleFor(plan, route);
      const outcome = usage.take(
        plan,
        key,
        methodThrottle === undefined
          ? undefined
          : { id: `${route.path}/${route.method}`, throttle: methodThrottle },
      );
      entry.usage = outcome;
      if (outcome === 'throttled') return fail('THROTTLED');
      if (outcome === 'quota_exceeded') return fail('QUOTA_EXCEEDED');
      apiKey = { id: plan.id, value: key };
    }

    const invalid = validator.validate(route, {
      rawHeaders: req.rawHeaders,
      query: target.query,
      pathParameters: matched.pathParameters,
      body,
    });
    if (invalid !== undefined) {
      if (invalid.type === 'BAD_REQUEST_BODY') validationDetails = invalid.details;
      return fail(invalid.type, invalid.message);
    }

    if (route.preflight !== undefined) {
      // SAM's CORS mock integration: 200 with the configured headers, whatever the Origin.
      const cors = api.cors;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'access-control-allow-origin': cors?.allowOrigin ?? '*',
        'access-control-allow-methods': route.preflight.allowMethods,
      };
      if (cors?.allowHeaders !== undefined) headers['access-control-allow-headers'] = cors.allowHeaders;
      if (cors?.maxAge !== undefined) headers['access-control-max-age'] = cors.maxAge;
      if (cors?.allowCredentials === true) headers['access-control-allow-credentials'] = 'true';
      return finish({ status: 200, headers, body: '{}' }, undefined);
    }

    const event = proxyEvent(
      httpRequest,
      matched,
      facts,
      authorizer === undefined ? undefined : authorizerContext,
      apiKey,
    );
    const outcome = await invokeIntegration(
      invokeNoting(deps, route.functionLogicalId, (decision) => {
        entry.integration = decision;
      }),
      event,
      route.timeoutMs ?? 29_000,
    );
    if (outcome.kind !== 'ok') {
      deps.info(failureNote(route.functionLogicalId, outcome));
      const answers = {
        request_too_large: () => fail('REQUEST_TOO_LARGE'),
        integration_timeout: () => fail('INTEGRATION_TIMEOUT'),
        response_too_large: () => fail('DEFAULT_5XX'),
        function_error: () => fail('DEFAULT_5XX'),
      };
      return answers[outcome.kind]();
    }
    const reply = proxyResult(outcome.result, {
      decodeBase64: isBinaryMediaType(api.binaryMediaTypes, firstAcceptType(req.rawHeaders)),
    });
    if (reply === undefined) return fail('DEFAULT_5XX');
    const headers: Record<string, string | string[]> = {};
    for (const [name, values] of reply.headers)
      headers[name] = values.length === 1 ? (values[0] as string) : [...values];
    writeResponse(res, reply.status, { ...headers, 'x-amzn-requestid': requestId }, reply.body);
    finish(undefined, undefined);
  };
}
