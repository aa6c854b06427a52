// Wiring only: config is read once at init (a bad config fails the cold start); the validators are
// precompiled (shared/generated/) and loaded per route on first use, so nothing is compiled here.
// A declared header parameter the forwarder never sends (Host, Authorization, ...) is refused by
// `npm run generate` (docs/request-validator.md#forwarding), so every module loaded here can be
// forwarded exactly as validated.

import { lambdaCredentials } from '../../shared/aws/credentials.ts';
import { VALIDATOR_ROUTES } from '../../shared/generated/routes.ts';
import { VALIDATION } from '../../shared/generated/validation-table.ts';
import { lambdaObserver, observedHandler, VALIDATOR_METRICS } from '../../shared/observability/observer.ts';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { secretsManagerSecret } from '../../shared/secrets/secrets-manager.ts';
import { createForwarder } from '../../shared/upstream/forward.ts';
import {
  checkResponseValidators,
  MIN_SECRET_LENGTH,
  readRequestValidatorConfig,
} from '../../shared/validation/config.ts';
import { createRequestValidator } from '../../shared/validation/request-validator.ts';

const config = readRequestValidatorConfig(process.env);
checkResponseValidators(config, VALIDATION.responseValidators);
const observer = lambdaObserver('request-validator', VALIDATOR_METRICS);

// Read at run time, cached (docs/deploy.md#secrets); prefetched during init, retried on use. The
// execution role's credentials are read at init too: without them the cold start fails.
const signingSecret =
  config.signingSecretId === undefined
    ? (config.signingSecret as string)
    : secretsManagerSecret(config.secretsManager, config.signingSecretId, {
        minLength: MIN_SECRET_LENGTH,
        credentials: lambdaCredentials(process.env, {
          loopbackOnly: config.secretsManager.endpoint !== undefined,
        }),
        onStale: (err) =>
          observer.warn('re-reading the signing secret failed; the previous value is used', {
            error: (err as Error).name,
          }),
      });
if (typeof signingSecret !== 'string') await signingSecret.get().catch(() => undefined);

export const handler = observedHandler(
  observer,
  createRequestValidator({
    matcher: new RouteMatcher(VALIDATOR_ROUTES),
    table: VALIDATION,
    limits: { maxBytes: config.maxBodyBytes, maxDepth: config.maxJsonDepth },
    forward: createForwarder({
      baseUrl: config.upstreamUrl,
      signingSecret,
      timeoutMs: config.timeoutMs,
      maxResponseBytes: config.maxResponseBytes,
    }),
    responseValidation: config.responseValidation,
    observer,
  }),
);
