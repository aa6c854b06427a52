// Wiring only: config is read once at init (a bad config fails the cold start), the DynamoDB client
// is built once with tight timeouts, and the pure authorizer gets its dependencies.
import { readKeyAuthorizerConfig } from '../../shared/credentials/config.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { dynamoClientFor, keyAuthorizerFromConfig } from '../../shared/credentials/wiring.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { lambdaObserver, observedHandler } from '../../shared/observability/observer.ts';

const config = readKeyAuthorizerConfig(process.env);
const observer = lambdaObserver('key-authorizer', 'authorizer');

export const handler = observedHandler(
  observer,
  keyAuthorizerFromConfig(config, {
    client: dynamoClientFor(config),
    passwords: createPasswordHasher(),
    routes: ROUTES,
    clock: Date.now,
    observer,
  }),
);
