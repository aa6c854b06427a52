/**
 * Our code as the benchmark measures it. bench/run.ts bundles this entry with esbuild exactly as
 * the functions are bundled (ESM, minified, es2023) and imports the bundle, so the timed code is
 * the shipped code, not tsx's on-the-fly transpilation (which adds a `__name` call to every
 * closure it creates and would make our side look slower than it is).
 */

export { readKeyAuthorizerConfig } from '../shared/credentials/config.ts';
export { createPasswordHasher } from '../shared/credentials/password.ts';
export { dynamoClientFor, keyAuthorizerFromConfig } from '../shared/credentials/wiring.ts';
export { ROUTES } from '../shared/generated/routes.ts';
export { VALIDATION } from '../shared/generated/validation-table.ts';
export { PROTOTYPE_KEYS, parseStrictJson } from '../shared/json/strict-json.ts';
export { readJwtAuthorizerConfig } from '../shared/jwt/config.ts';
export { createJwtAuthorizer } from '../shared/jwt/jwt-authorizer.ts';
export { HeaderCache, precheck } from '../shared/jwt/token-checks.ts';
export { createTokenVerifier } from '../shared/jwt/verifier.ts';
export {
  AUTHORIZER_METRICS,
  createObserver,
  lambdaObserver,
  readObserverConfig,
} from '../shared/observability/observer.ts';
export { withoutDpop } from '../shared/sender-constraint/checker.ts';
export { bodyValidator, validateBody } from '../shared/validation/validate-body.ts';
