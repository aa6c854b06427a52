// Wiring only: config is read once at init (a bad config fails the cold start); the validators are
// precompiled (shared/generated/), so nothing is compiled here.

import { ConfigError } from '../../shared/config/env.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { VALIDATION } from '../../shared/generated/validation-table.ts';
import { lambdaObserver, observedHandler } from '../../shared/observability/observer.ts';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { createForwarder, unforwardableHeaderParameters } from '../../shared/upstream/forward.ts';
import { readRequestValidatorConfig } from '../../shared/validation/config.ts';
import { createRequestValidator } from '../../shared/validation/request-validator.ts';

const config = readRequestValidatorConfig(process.env);
// A declared header the forwarder can never send as validated (Host, Authorization, ...) would make
// the forwarded request differ from the validated one: refuse to start instead.
const unforwardable = unforwardableHeaderParameters(VALIDATION);
if (unforwardable.length > 0)
  throw new ConfigError(unforwardable.map((p) => `the API document ${p}, which is never forwarded`));

const observer = lambdaObserver('request-validator', 'validator');

export const handler = observedHandler(
  observer,
  createRequestValidator({
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
    observer,
  }),
);
