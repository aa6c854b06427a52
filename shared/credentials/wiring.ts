import type { PolicyResponse, SimpleResponse } from '../authz/answer.ts';
import { type AwsCredentials, lambdaCredentials } from '../aws/credentials.ts';
import { type AwsJsonCaller, type AwsJsonClient, awsJsonClient, DYNAMODB } from '../aws/json-call.ts';
import type { Env } from '../config/env.ts';
import type { Observer } from '../observability/observer.ts';
import type { RouteTable } from '../routes/route-table.ts';
import type { SecretValue } from '../secrets/secret-value.ts';
import { secretsManagerSecret } from '../secrets/secrets-manager.ts';
import type { KeyAuthorizerConfig } from './config.ts';
import { dynamoCredentialStore, MAX_RECORD_RESPONSE_BYTES } from './dynamo-store.ts';
import { createKeyAuthorizer, type InvocationContext } from './key-authorizer.ts';
import type { PasswordHasher } from './password.ts';

/**
 * The credentials the authorizer signs its calls with, read at init: required (the cold start
 * fails naming the variables) unless every AWS endpoint it calls is a local one.
 */
export function keyAuthorizerCredentials(config: KeyAuthorizerConfig, env: Env): AwsCredentials {
  const pepperIsLocal = config.pepperSecretId === undefined || config.secretsManager.endpoint !== undefined;
  return lambdaCredentials(env, { loopbackOnly: config.endpoint !== undefined && pepperIsLocal });
}

/** The DynamoDB client the configuration asks for: its endpoint, tight timeouts, bounded retries. */
export function dynamoClientFor(config: KeyAuthorizerConfig, credentials: AwsCredentials): AwsJsonClient {
  return awsJsonClient({
    service: DYNAMODB,
    region: config.region,
    endpoint: config.endpoint,
    credentials,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    maxAttempts: config.maxAttempts,
    maxResponseBytes: MAX_RECORD_RESPONSE_BYTES,
    // A warm container's next read reuses the connection: no TCP and TLS handshake per request.
    keepAlive: true,
  });
}

/** The edges of the credentials authorizer: everything that is not configuration. */
export interface KeyAuthorizerEdges {
  /** DynamoDB (the function's client, or a counting wrapper in the benchmark). */
  readonly dynamo: AwsJsonCaller;
  /** What the pepper is read from Secrets Manager with. */
  readonly credentials: AwsCredentials;
  readonly passwords: PasswordHasher;
  readonly routes: RouteTable;
  readonly clock: () => number;
  readonly observer: Observer;
}

/**
 * The credentials authorizer wired from its configuration, in one place for the Lambda handler and
 * the benchmark (which passes its own client and observer), so a new setting is wired once.
 */
export function keyAuthorizerFromConfig(
  config: KeyAuthorizerConfig,
  edges: KeyAuthorizerEdges,
): (event: unknown, context?: InvocationContext) => Promise<PolicyResponse | SimpleResponse> {
  return createKeyAuthorizer({
    store: dynamoCredentialStore(edges.dynamo, config.tableName, config.budgetMs),
    passwords: edges.passwords,
    routes: edges.routes,
    clock: edges.clock,
    observer: edges.observer,
    keyEnvironment: config.keyEnvironment,
    pepper: pepperFor(config, edges),
    usageKeyRequired: config.usageKeyRequired,
    simpleResponses: config.simpleResponses,
    lockout: config.lockout,
    cache: { ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs, size: config.cacheSize },
  });
}

/** The pepper: the local value, or the Secrets Manager secret (cached, re-read after a mismatch). */
function pepperFor(config: KeyAuthorizerConfig, edges: KeyAuthorizerEdges): string | SecretValue | undefined {
  if (config.pepperSecretId === undefined) return config.pepper;
  return secretsManagerSecret(config.secretsManager, config.pepperSecretId, {
    minLength: 16,
    credentials: edges.credentials,
    onStale: (err) =>
      edges.observer.warn('re-reading the pepper failed; the previous value is used', {
        error: (err as Error).name,
      }),
  });
}
