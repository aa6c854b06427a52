import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PolicyResponse, SimpleResponse } from '../authz/answer.ts';
import type { Observer } from '../observability/observer.ts';
import type { RouteTable } from '../routes/route-table.ts';
import type { SecretValue } from '../secrets/secret-value.ts';
import { secretsManagerSecret } from '../secrets/secrets-manager.ts';
import type { KeyAuthorizerConfig } from './config.ts';
import { createDynamoClient, dynamoCredentialStore, MAX_RECORD_RESPONSE_BYTES } from './dynamo-store.ts';
import { createKeyAuthorizer, type InvocationContext } from './key-authorizer.ts';
import type { PasswordHasher } from './password.ts';

/** The DynamoDB client the configuration asks for: its endpoint, tight timeouts, bounded retries. */
export function dynamoClientFor(config: KeyAuthorizerConfig): DynamoDBClient {
  return createDynamoClient({
    region: config.region,
    endpoint: config.endpoint,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    maxAttempts: config.maxAttempts,
    maxResponseBytes: MAX_RECORD_RESPONSE_BYTES,
  });
}

/** The edges of the credentials authorizer: everything that is not configuration. */
export interface KeyAuthorizerEdges {
  readonly client: DynamoDBClient;
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
    store: dynamoCredentialStore(edges.client, config.tableName, config.budgetMs),
    passwords: edges.passwords,
    routes: edges.routes,
    clock: edges.clock,
    observer: edges.observer,
    keyEnvironment: config.keyEnvironment,
    pepper: pepperFor(config, edges.observer),
    usageKeyRequired: config.usageKeyRequired,
    simpleResponses: config.simpleResponses,
    lockout: config.lockout,
    cache: { ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs, size: config.cacheSize },
  });
}

/** The pepper: the local value, or the Secrets Manager secret (cached, re-read after a mismatch). */
function pepperFor(config: KeyAuthorizerConfig, observer: Observer): string | SecretValue | undefined {
  if (config.pepperSecretId === undefined) return config.pepper;
  return secretsManagerSecret(config.secretsManager, config.pepperSecretId, {
    minLength: 16,
    onStale: (err) =>
      observer.warn('re-reading the pepper failed; the previous value is used', {
        error: (err as Error).name,
      }),
  });
}
