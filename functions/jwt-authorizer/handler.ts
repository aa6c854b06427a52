// Wiring only: config is read once at init (a bad config fails the cold start), keys are
// prefetched, and the pure authorizer gets its dependencies.
import { JWKS_FILES } from '../../shared/generated/jwks-files.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { readJwtAuthorizerConfig } from '../../shared/jwt/config.ts';
import { createJwtAuthorizer } from '../../shared/jwt/jwt-authorizer.ts';
import { createTokenVerifier } from '../../shared/jwt/verifier.ts';
import { AUTHORIZER_METRICS, lambdaObserver, observedHandler } from '../../shared/observability/observer.ts';
import { lazySenderConstraint } from '../../shared/sender-constraint/lazy-checker.ts';

const config = readJwtAuthorizerConfig(process.env, JWKS_FILES);
const observer = lambdaObserver('jwt-authorizer', AUTHORIZER_METRICS);
const verifier = createTokenVerifier(config, {
  events: { onKeysDropped: (dropped) => observer.warn('keys dropped from a JWKS', { dropped }) },
});

// DPoP lives in its own bundle (dpop.mjs beside this one), read at init only when an issuer enables
// it: a plain-bearer cold start neither parses it nor its DynamoDB client (docs/performance.md#dpop).
// Without DPoP, the checks of certificate-bound tokens (and the refusal of the DPoP scheme) are read
// from it on the first token with a `cnf` claim or the DPoP scheme; a bearer token never needs them.
// The specifier is a variable so that esbuild leaves the import to run time instead of inlining it.
const DPOP_BUNDLE = './dpop.mjs';
const loadDpop = async () => (await import(DPOP_BUNDLE)) as typeof import('./dpop.ts');
const senderConstraint = config.issuers.some((issuer) => issuer.dpop !== 'off')
  ? (await loadDpop()).createDpopSenderConstraint(process.env, config.issuers, Date.now)
  : lazySenderConstraint(async () => (await loadDpop()).createBindingChecker());

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
    senderConstraint,
  }),
);
