/**
 * Our code for bench/dpop.ts, bundled like the functions (as bench/ours.ts is for `npm run bench`),
 * so that the timed code is the shipped code.
 */

export { publicRequestUrl } from '../shared/dpop/htu.ts';
export { createDpopVerifier, DPOP_DEFAULTS } from '../shared/dpop/proof.ts';
export { memoryReplayStore } from '../shared/dpop/replay.ts';
export { ROUTES } from '../shared/generated/routes.ts';
export { readJwtAuthorizerConfig } from '../shared/jwt/config.ts';
export { createJwtAuthorizer } from '../shared/jwt/jwt-authorizer.ts';
export { createTokenVerifier } from '../shared/jwt/verifier.ts';
export { createSenderConstraintChecker, withoutDpop } from '../shared/sender-constraint/checker.ts';
