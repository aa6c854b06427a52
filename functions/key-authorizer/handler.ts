// Wiring only: config and the execution role's credentials are read once at init (a bad config or
// missing credentials fail the cold start), the DynamoDB client is built once with tight timeouts,
// and the pure authorizer gets its dependencies.
import { readKeyAuthorizerConfig } from '../../shared/credentials/config.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import {
  dynamoClientFor,
  keyAuthorizerCredentials,
  keyAuthorizerFromConfig,
} from '../../shared/credentials/wiring.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { AUTHORIZER_METRICS, lambdaObserver, observedHandler } from '../../shared/observability/observer.ts';

const config = readKeyAuthorizerConfig(process.env);
const credentials = keyAuthorizerCredentials(config, process.env);
const observer = lambdaObserver('key-authorizer', AUTHORIZER_METRICS);

export const handler = observedHandler(
  observer,
  keyAuthorizerFromConfig(config, {
    dynamo: dynamoClientFor(config, credentials),
    credentials,
    passwords: createPasswordHasher(),
    routes: ROUTES,
    clock: Date.now,
    observer,
  }),
);
