// Wiring only: config is read once at init (a bad config fails the cold start), keys are
// prefetched, and the pure authorizer gets its dependencies.
import { JWKS_FILES } from '../../shared/generated/jwks-files.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { readJwtAuthorizerConfig } from '../../shared/jwt/config.ts';
import { createJwtAuthorizer } from '../../shared/jwt/jwt-authorizer.ts';
import { createTokenVerifier } from '../../shared/jwt/verifier.ts';
import { lambdaObserver, observedHandler } from '../../shared/observability/observer.ts';

const config = readJwtAuthorizerConfig(process.env, JWKS_FILES);
const observer = lambdaObserver('jwt-authorizer', 'authorizer');
const verifier = createTokenVerifier(config, {
  events: { onKeysDropped: (dropped) => observer.warn('keys dropped from a JWKS', { dropped }) },
});

// Keys at init: seeded ones at once, the others downloaded; a failed download is retried by the
// next invocation that needs those keys.
const failed = await verifier.prefetch();
if (failed.length > 0) observer.warn('JWKS prefetch failed', { issuers: failed });

export const handler = observedHandler(
  observer,
  createJwtAuthorizer({
    verifier,
    routes: ROUTES,
    simpleResponses: config.simpleResponses,
    clock: Date.now,
    observer,
  }),
);
