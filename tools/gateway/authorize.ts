/**
 * API Gateway's Lambda authorizer step for one request: identity sources (missing → 401 without
 * invoking), the TOKEN validation expression (no match → 401 without invoking), the result cache
 * keyed by the identity source values for `ReauthorizeEvery` seconds, the invocation, and the
 * evaluation of the returned policy against this request's method ARN (also on cache hits, so a
 * cached answer still denies routes it does not allow).
 */
import type { InvocationResult } from '../lambda/runtime.ts';
import type { AuthorizerModel, IdentitySource } from './model.ts';
import { type AuthorizerAnswer, evaluatePolicy, readAuthorizerAnswer } from './policy-evaluation.ts';
import {
  type HttpRequest,
  headerMaps,
  headerValue,
  queryMaps,
  type RequestFacts,
  type RouteMatch,
  requestContext,
} from './proxy-event.ts';

/** Cached answers by authorizer name and identity; entries carry their expiry. */
export type AuthorizerCache = Map<string, { readonly answer: AuthorizerAnswer; readonly expiresAt: number }>;

/** Authorizer results as the access log names them. */
export type AuthorizerResult =
  | 'allow'
  | 'explicit_deny'
  | 'no_allow'
  | 'unauthorized'
  | 'identity_missing'
  | 'identity_invalid'
  | 'error';

/** What the authorizer step decided. */
export type AuthorizeOutcome =
  | { readonly result: 'allow'; readonly answer: AuthorizerAnswer; readonly cacheHit: boolean | undefined }
  | {
      readonly result: Exclude<AuthorizerResult, 'allow'>;
      readonly answer: AuthorizerAnswer | undefined;
      /** undefined when the cache was not consulted (no identity, no caching). */
      readonly cacheHit: boolean | undefined;
    };

/** Inputs of {@link authorize}. */
export interface AuthorizeInput {
  readonly authorizer: AuthorizerModel;
  readonly request: HttpRequest;
  readonly match: RouteMatch;
  readonly facts: RequestFacts;
  readonly methodArn: string;
  readonly cache: AuthorizerCache;
  readonly now: number;
  readonly invoke: (event: unknown) => Promise<InvocationResult>;
}

const MAX_CACHE_ENTRIES = 10_000;

function identityValue(
  source: IdentitySource,
  request: HttpRequest,
  context: Record<string, unknown>,
  stageVariables: Readonly<Record<string, string>>,
): string | undefined {
  switch (source.kind) {
    case 'header':
      return headerValue(request.rawHeaders, source.name);
    case 'query':
      return new URLSearchParams(request.query).getAll(source.name).at(-1);
    case 'stageVariable':
      return stageVariables[source.name];
    case 'context': {
      let node: unknown = context;
      for (const part of source.name.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
      return node === undefined || node === null ? undefined : String(node);
    }
  }
}

/** Runs the authorizer step. Never throws on the authorizer's behalf: failures are `error`. */
export async function authorize(input: AuthorizeInput): Promise<AuthorizeOutcome> {
  const { authorizer, request } = input;
  const context = requestContext(request, input.match, input.facts);
  const values: string[] = [];
  for (const source of authorizer.identitySources) {
    const value = identityValue(source, request, context, input.facts.api.stageVariables ?? {});
    if (value === undefined || value.trim() === '')
      return { result: 'identity_missing', answer: undefined, cacheHit: undefined };
    values.push(value);
  }
  const token = values[0] ?? '';
  if (authorizer.validationExpression !== undefined && !authorizer.validationExpression.test(token))
    return { result: 'identity_invalid', answer: undefined, cacheHit: undefined };

  const caching = authorizer.ttlSeconds > 0;
  // A separator that cannot occur in header values keeps identities from colliding.
  const key = `${authorizer.name}\u0000${values.join('\u0000')}`;
  const cached = caching ? input.cache.get(key) : undefined;
  if (cached !== undefined && cached.expiresAt > input.now) {
    return decide(cached.answer, input.methodArn, true);
  }
  if (cached !== undefined) input.cache.delete(key);

  const event =
    authorizer.type === 'TOKEN'
      ? { type: 'TOKEN', authorizationToken: token, methodArn: input.methodArn }
      : {
          type: 'REQUEST',
          methodArn: input.methodArn,
          resource: input.match.route.path,
          path: request.path,
          httpMethod: request.method,
          ...headerMaps(request.rawHeaders),
          ...queryMaps(request.query),
          pathParameters: input.match.pathParameters ?? {},
          stageVariables: { ...(input.facts.api.stageVariables ?? {}) },
          requestContext: context,
        };
  const result = await input.invoke(event);
  if (!result.ok) {
    // Only the exact message `Unauthorized` means 401; any other error or a timeout is a 500.
    const unauthorized = result.error.errorMessage === 'Unauthorized';
    return {
      result: unauthorized ? 'unauthorized' : 'error',
      answer: undefined,
      cacheHit: caching ? false : undefined,
    };
  }
  const answer = readAuthorizerAnswer(result.result);
  if (answer === undefined)
    return { result: 'error', answer: undefined, cacheHit: caching ? false : undefined };
  if (caching) {
    if (input.cache.size >= MAX_CACHE_ENTRIES) input.cache.delete(input.cache.keys().next().value as string);
    input.cache.set(key, { answer, expiresAt: input.now + authorizer.ttlSeconds * 1000 });
  }
  return decide(answer, input.methodArn, caching ? false : undefined);
}

function decide(
  answer: AuthorizerAnswer,
  methodArn: string,
  cacheHit: boolean | undefined,
): AuthorizeOutcome {
  const outcome = evaluatePolicy(answer.statements, methodArn);
  return { result: outcome, answer, cacheHit };
}
