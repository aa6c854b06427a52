// The JWT authorizer as the hostile suite drives it: the pure factory with the REAL verifier
// (aws-jwt-verify, our prechecks and key filter) against a JWKS served on loopback, and one
// classifier that turns any outcome into the status API Gateway would answer.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { readJwtAuthorizerConfig } from '../../../shared/jwt/config.ts';
import { AuthorizerFailureError, createJwtAuthorizer } from '../../../shared/jwt/jwt-authorizer.ts';
import { createTokenVerifier, type TokenVerifier } from '../../../shared/jwt/verifier.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import { patternMatches } from '../../../shared/policy/resource-pattern.ts';
import type { RouteTable } from '../../../shared/routes/route-table.ts';
import { withoutDpop } from '../../../shared/sender-constraint/checker.ts';
import { signJwt } from '../../../tools/issuer/sign.ts';
import type { InvocationResult } from '../../../tools/lambda/runtime.ts';

/** The issuer every hostile token claims. */
export const HOSTILE_ISSUER = 'https://issuer.hostile.test';
export const HOSTILE_AUDIENCE = 'orders-api';

/**
 * What API Gateway would answer: 200 (Allow), 403 (Deny), 401 (`Unauthorized`), 503 (the
 * authorizer failed on purpose; AUTHORIZER_FAILURE in template.yaml), 500 (anything else: a crash).
 */
export type Status = 200 | 401 | 403 | 503 | 500;

/** JWT_ISSUERS for one issuer whose keys are at `jwksUri`. */
export function issuersEnv(jwksUri: string, algorithms = ['RS256', 'ES256', 'EdDSA']): string {
  return JSON.stringify([{ issuer: HOSTILE_ISSUER, audience: HOSTILE_AUDIENCE, jwksUri, algorithms }]);
}

/**
 * The status of an authorizer response for the request's method ARN: HTTP API simple responses say
 * it outright; a REST policy is evaluated as IAM does (an explicit Deny wins, then any Allow whose
 * resource pattern matches the ARN). The policies are cache-correct, so they allow other routes too.
 */
export function statusOfResponse(response: unknown, methodArn: string): Status {
  const r = response as {
    isAuthorized?: unknown;
    policyDocument?: { Statement?: { Effect?: unknown; Resource?: unknown }[] };
  };
  if (typeof r?.isAuthorized === 'boolean') return r.isAuthorized ? 200 : 403;
  const statements = r?.policyDocument?.Statement;
  if (!Array.isArray(statements) || statements.length === 0) return 500;
  const matches = (s: { Resource?: unknown }) =>
    (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some(
      (pattern) => typeof pattern === 'string' && patternMatches(pattern, methodArn),
    );
  if (statements.some((s) => s.Effect === 'Deny' && matches(s))) return 403;
  return statements.some((s) => s.Effect === 'Allow' && matches(s)) ? 200 : 403;
}

/** Status of a pure-factory call. */
export async function statusOf(call: Promise<unknown>, methodArn: string): Promise<Status> {
  let response: unknown;
  try {
    response = await call;
  } catch (err) {
    if (err instanceof Error && err.message === 'Unauthorized') return 401;
    if (err instanceof AuthorizerFailureError) return 503;
    return 500;
  }
  return statusOfResponse(response, methodArn);
}

/** Status of a bundle invocation (the error name crosses the process boundary as errorType). */
export function statusOfInvocation(result: InvocationResult, methodArn: string): Status {
  if (result.ok) return statusOfResponse(result.result, methodArn);
  if (result.error.errorMessage === 'Unauthorized') return 401;
  if (result.error.errorType === 'AuthorizerFailureError') return 503;
  return 500;
}

/** A JWT authorizer built from the pure factory around the real verifier. */
export function hostileAuthorizer(
  jwksUri: string,
  env: Readonly<Record<string, string>> = {},
  routes: RouteTable = ROUTES,
): {
  authorize(event: unknown): Promise<Status>;
  /** The authorizer's raw answer (a policy or a simple response); throws as the authorizer does. */
  respond(event: unknown): Promise<unknown>;
  readonly verifier: TokenVerifier;
  readonly observer: ReturnType<typeof memoryObserver>;
} {
  const config = readJwtAuthorizerConfig({
    JWT_ISSUERS: issuersEnv(jwksUri),
    HTTP_API_SIMPLE_RESPONSES: 'false',
    ...env,
  });
  const observer = memoryObserver();
  const verifier = createTokenVerifier(config, {
    events: { onKeysDropped: (dropped) => observer.warn('keys dropped', { dropped }) },
  });
  const authorizer = createJwtAuthorizer({
    verifier,
    routes,
    simpleResponses: config.simpleResponses,
    clock: Date.now,
    observer,
    senderConstraint: withoutDpop(),
  });
  return {
    authorize: (event) => statusOf(authorizer(event), String((event as { methodArn?: unknown }).methodArn)),
    respond: (event) => authorizer(event),
    verifier,
    observer,
  };
}

/** The REST REQUEST authorizer envelope (as in events/jwt-authorizer/), without credentials. */
const SAMPLE_EVENT: Record<string, unknown> = {
  type: 'REQUEST',
  pathParameters: { id: 'ord_12345678' },
  stageVariables: {},
  requestContext: {
    path: '/v1/orders/ord_12345678',
    accountId: '123456789012',
    apiId: 'abcdef1234',
    stage: 'v1',
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    identity: { sourceIp: '203.0.113.10' },
  },
};

/** A REST REQUEST authorizer event for `GET /orders/{id}` (scope orders:read) with these headers. */
export function restEvent(
  authorization: string | readonly string[] | undefined,
  options: { method?: string; path?: string; resource?: string; query?: Record<string, string> } = {},
): Record<string, unknown> {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/orders/ord_12345678';
  const values =
    authorization === undefined ? [] : typeof authorization === 'string' ? [authorization] : authorization;
  const host = 'abcdef1234.execute-api.us-east-1.amazonaws.com';
  const headers: Record<string, string> = { Host: host };
  if (values.length > 0) headers.Authorization = values[values.length - 1] as string;
  const context = SAMPLE_EVENT.requestContext as Record<string, unknown>;
  return {
    ...SAMPLE_EVENT,
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/${method}${path}`,
    resource: options.resource ?? '/orders/{id}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: { Host: [host], ...(values.length > 0 ? { Authorization: [...values] } : {}) },
    queryStringParameters: options.query ?? {},
    multiValueQueryStringParameters: Object.fromEntries(
      Object.entries(options.query ?? {}).map(([k, v]) => [k, [v]]),
    ),
    requestContext: { ...context, httpMethod: method, resourcePath: options.resource ?? '/orders/{id}' },
  };
}

/** Standard claims of a token that passes every check (override any of them). */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: HOSTILE_ISSUER,
    sub: 'user-1',
    aud: HOSTILE_AUDIENCE,
    iat: now,
    exp: now + 600,
    scope: 'orders:read',
    ...overrides,
  };
}

/** Signs header and payload (objects or raw JSON text) with `key` for `alg`. */
export function sign(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  key: KeyObject,
  alg?: string,
): string {
  return signJwt(header, payload, key, alg);
}

/** An HMAC key made of the PEM text of a public key: the classic RS256 → HS256 confusion secret. */
export function publicKeyAsHmacSecret(publicKey: KeyObject): KeyObject {
  return createSecretKey(Buffer.from(publicKey.export({ format: 'pem', type: 'spki' })));
}
