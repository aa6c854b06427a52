/**
 * The Lambda authorizer step of an HTTP API
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html):
 * identity sources (one missing → 401 without invoking), the cache keyed by the identity source
 * values for `ReauthorizeEvery` seconds (a simple response allows or denies every route for that
 * identity; an IAM policy is evaluated against each request's route ARN), the payload 1.0/2.0
 * event, and the answer's checks (a malformed answer or an authorizer slower than 10 s → 500).
 */

import type { InvocationResult } from '../lambda/runtime.ts';
import { TemplateError } from '../template/template.ts';
import {
  authorizerEvent,
  commaQuery,
  type HttpApiFacts,
  type HttpApiRequest,
  lowerCaseHeaders,
  reportedPath,
} from './http-api-event.ts';
import type { HttpAuthorizerModel, HttpRouteModel } from './http-api-model.ts';
import { evaluatePolicy, type PolicyStatement, readAuthorizerAnswer } from './policy-evaluation.ts';
import type { RouteMatch } from './route-matcher.ts';

/** A cached answer. */
type Answer =
  | {
      readonly kind: 'simple';
      readonly isAuthorized: boolean;
      readonly context: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'policy';
      readonly principalId: string;
      readonly statements: readonly PolicyStatement[];
      readonly context: Readonly<Record<string, unknown>>;
    };

/** Cached answers by authorizer name and identity. */
export type HttpAuthorizerCache = Map<string, { readonly answer: Answer; readonly expiresAt: number }>;

/** What the authorizer step decided. */
export type HttpAuthorizeOutcome =
  | {
      readonly result: 'allow';
      readonly principalId: string | undefined;
      readonly context: Readonly<Record<string, unknown>>;
      readonly cacheHit: boolean | undefined;
    }
  | {
      readonly result: 'identity_missing' | 'unauthorized' | 'explicit_deny' | 'no_allow' | 'error';
      readonly principalId: string | undefined;
      readonly cacheHit: boolean | undefined;
    };

/** How long API Gateway waits for an HTTP API's Lambda authorizer (quotas: 10 000 ms). */
export const HTTP_AUTHORIZER_TIMEOUT_MS = 10_000;

// `$context.*` identity sources the gateway can fill (http-api-logging-variables.html).
const CONTEXT_SOURCES = new Set([
  'accountId',
  'apiId',
  'domainName',
  'domainPrefix',
  'httpMethod',
  'path',
  'protocol',
  'requestId',
  'routeKey',
  'stage',
  'identity.sourceIp',
  'identity.userAgent',
]);

/** Refuses identity sources the gateway cannot evaluate (at start-up). */
export function checkIdentitySources(apiId: string, authorizer: HttpAuthorizerModel): void {
  for (const s of authorizer.identitySources)
    if (s.kind === 'context' && !CONTEXT_SOURCES.has(s.name))
      throw new TemplateError(
        `${apiId}.Auth.Authorizers.${authorizer.name}.Identity.Context: $context.${s.name} is not a context variable the local gateway fills`,
      );
}

function contextValue(
  name: string,
  req: HttpApiRequest,
  route: HttpRouteModel,
  facts: HttpApiFacts,
): string | undefined {
  const headers = lowerCaseHeaders(req.rawHeaders, false);
  const values: Record<string, string | undefined> = {
    accountId: facts.accountId,
    apiId: facts.apiId,
    domainName: facts.domainName,
    domainPrefix: facts.domainName.split('.')[0],
    httpMethod: req.method,
    path: reportedPath(facts, req.path),
    protocol: 'HTTP/1.1',
    requestId: facts.requestId,
    routeKey: route.routeKey,
    stage: facts.api.stageName,
    'identity.sourceIp': req.sourceIp,
    'identity.userAgent': headers['user-agent'],
  };
  return values[name];
}

/** Inputs of {@link authorizeHttp}. */
export interface HttpAuthorizeInput {
  readonly authorizer: HttpAuthorizerModel;
  readonly request: HttpApiRequest;
  readonly match: RouteMatch<HttpRouteModel>;
  readonly facts: HttpApiFacts;
  readonly routeArn: string;
  readonly cache: HttpAuthorizerCache;
  readonly now: number;
  readonly invoke: (event: unknown) => Promise<InvocationResult>;
}

function jsonContext(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return {};
  return typeof value === 'object' && !Array.isArray(value)
    ? { ...(value as Record<string, unknown>) }
    : undefined;
}

function readAnswer(authorizer: HttpAuthorizerModel, result: unknown): Answer | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const r = result as Record<string, unknown>;
  const context = jsonContext(r.context);
  if (context === undefined) return undefined;
  if (authorizer.simpleResponses) {
    if (typeof r.isAuthorized !== 'boolean') return undefined;
    return { kind: 'simple', isAuthorized: r.isAuthorized, context };
  }
  // HTTP APIs accept any JSON in `context`; the policy is checked as for REST APIs.
  const { context: _context, ...policy } = r;
  const answer = readAuthorizerAnswer(policy);
  if (answer === undefined) return undefined;
  return { kind: 'policy', principalId: answer.principalId, statements: answer.statements, context };
}

function decide(answer: Answer, routeArn: string, cacheHit: boolean | undefined): HttpAuthorizeOutcome {
  if (answer.kind === 'simple')
    return answer.isAuthorized
      ? { result: 'allow', principalId: undefined, context: answer.context, cacheHit }
      : { result: 'no_allow', principalId: undefined, cacheHit };
  const outcome = evaluatePolicy(answer.statements, routeArn);
  return outcome === 'allow'
    ? { result: 'allow', principalId: answer.principalId, context: answer.context, cacheHit }
    : { result: outcome, principalId: answer.principalId, cacheHit };
}

const MAX_CACHE_ENTRIES = 10_000;

/** Runs the authorizer step; never throws on the authorizer's behalf. */
export async function authorizeHttp(input: HttpAuthorizeInput): Promise<HttpAuthorizeOutcome> {
  const { authorizer, request, match, facts } = input;
  const headers = lowerCaseHeaders(request.rawHeaders, false);
  const values: string[] = [];
  for (const source of authorizer.identitySources) {
    const value =
      source.kind === 'header'
        ? headers[source.name.toLowerCase()]
        : source.kind === 'query'
          ? commaQuery(request.query)?.[source.name]
          : source.kind === 'stageVariable'
            ? facts.api.stageVariables[source.name]
            : contextValue(source.name, request, match.route, facts);
    if (value === undefined || value.trim() === '')
      return { result: 'identity_missing', principalId: undefined, cacheHit: undefined };
    values.push(value);
  }
  const caching = authorizer.ttlSeconds > 0;
  // A separator that cannot occur in header values keeps identities from colliding.
  const key = `${authorizer.name}\u0000${values.join('\u0000')}`;
  const cached = caching ? input.cache.get(key) : undefined;
  if (cached !== undefined && cached.expiresAt > input.now)
    return decide(cached.answer, input.routeArn, true);
  if (cached !== undefined) input.cache.delete(key);

  const event = authorizerEvent(authorizer.payloadFormat, request, match, facts, values);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    input.invoke(event),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), HTTP_AUTHORIZER_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  const miss = caching ? false : undefined;
  if (result === 'timeout') return { result: 'error', principalId: undefined, cacheHit: miss };
  if (!result.ok) {
    // Only the exact message `Unauthorized` means 401; any other error is a 500.
    const unauthorized = result.error.errorMessage === 'Unauthorized';
    return { result: unauthorized ? 'unauthorized' : 'error', principalId: undefined, cacheHit: miss };
  }
  const answer = readAnswer(authorizer, result.result);
  if (answer === undefined) return { result: 'error', principalId: undefined, cacheHit: miss };
  if (caching) {
    if (input.cache.size >= MAX_CACHE_ENTRIES) input.cache.delete(input.cache.keys().next().value as string);
    input.cache.set(key, { answer, expiresAt: input.now + authorizer.ttlSeconds * 1000 });
  }
  return decide(answer, input.routeArn, miss);
}
