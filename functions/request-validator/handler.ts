// Wiring only: config is read once at init (a bad config fails the cold start); the validators are
// precompiled (shared/generated/) and loaded per route on first use, so nothing is compiled here.

import { ROUTES } from '../../shared/generated/routes.ts';
import { VALIDATION } from '../../shared/generated/validation-table.ts';
import { powertoolsObserver } from '../../shared/observability/observer.ts';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { createForwarder } from '../../shared/upstream/forward.ts';
import { checkResponseValidators, readRequestValidatorConfig } from '../../shared/validation/config.ts';
import { createRequestValidator } from '../../shared/validation/request-validator.ts';

const config = readRequestValidatorConfig(process.env);
checkResponseValidators(config, VALIDATION.responseValidators);

export const handler = createRequestValidator({
  matcher: new RouteMatcher(ROUTES),
  table: VALIDATION,
  limits: { maxBytes: config.maxBodyBytes, maxDepth: config.maxJsonDepth },
  forward: createForwarder({
    baseUrl: config.upstreamUrl,
    signingSecret: config.signingSecret,
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
  }),
  responseValidation: config.responseValidation,
  observer: powertoolsObserver('request-validator'),
});
