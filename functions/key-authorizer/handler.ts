// Wiring only: config is read once at init (a bad config fails the cold start), the DynamoDB client
// is built once with tight timeouts, and the pure authorizer gets its dependencies.
import { readKeyAuthorizerConfig } from '../../shared/credentials/config.ts';
import { createDynamoClient, dynamoCredentialStore } from '../../shared/credentials/dynamo-store.ts';
import { createKeyAuthorizer } from '../../shared/credentials/key-authorizer.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { powertoolsObserver } from '../../shared/observability/observer.ts';

const config = readKeyAuthorizerConfig(process.env);
const observer = powertoolsObserver('key-authorizer');
const client = createDynamoClient({
  region: config.region,
  endpoint: config.endpoint,
  connectTimeoutMs: config.connectTimeoutMs,
  requestTimeoutMs: config.requestTimeoutMs,
  maxAttempts: config.maxAttempts,
});

export const handler = createKeyAuthorizer({
  store: dynamoCredentialStore(client, config.tableName, config.budgetMs),
  passwords: createPasswordHasher(),
  routes: ROUTES,
  clock: Date.now,
  observer,
  keyEnvironment: config.keyEnvironment,
  pepper: config.pepper,
  usagePlanKeys: config.usagePlanKeys,
  simpleResponses: config.simpleResponses,
  lockout: config.lockout,
  cache: { ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs, size: config.cacheSize },
});
