// Wiring only, in a bundle of its own (dpop.mjs next to handler.mjs): the handler imports it at
// init only when an issuer enables DPoP, so neither this code nor its DynamoDB client is read on a
// plain-bearer cold start (docs/performance.md#dpop). Without DPoP, the handler imports it on the
// first token that needs the sender-constraint step (a `cnf` claim or the DPoP scheme), for
// {@link createBindingChecker} alone.
import { lambdaCredentials } from '../../shared/aws/credentials.ts';
import type { Env } from '../../shared/config/env.ts';
import { readDpopConfig } from '../../shared/dpop/config.ts';
import { dynamoReplayStoreFor } from '../../shared/dpop/dynamo-replay-store.ts';
import { publicRequestUrl } from '../../shared/dpop/htu.ts';
import { createNonceAuthority } from '../../shared/dpop/nonce.ts';
import { createDpopVerifier, DPOP_DEFAULTS } from '../../shared/dpop/proof.ts';
import { memoryReplayStore } from '../../shared/dpop/replay.ts';
import type { IssuerConfig } from '../../shared/jwt/config.ts';
import {
  createSenderConstraintChecker,
  type SenderConstraintChecker,
  withoutDpop,
} from '../../shared/sender-constraint/checker.ts';
import type { SenderConstraintPolicy } from '../../shared/sender-constraint/token-binding.ts';

/**
 * The sender-constraint checker for these issuers, with the DPoP settings of `env` (checked once,
 * every problem named: a bad one fails the cold start).
 */
export function createDpopSenderConstraint(
  env: Env,
  issuers: readonly IssuerConfig[],
  clock: () => number,
): SenderConstraintChecker {
  const config = readDpopConfig(env);
  const replay =
    config.replay.kind === 'dynamodb'
      ? dynamoReplayStoreFor({
          ...config.replay,
          // Signed with the execution role's credentials; placeholders do for the local table only.
          credentials: lambdaCredentials(env, { loopbackOnly: config.replay.endpoint !== undefined }),
          now: clock,
        })
      : memoryReplayStore({ capacity: config.replay.capacity, now: clock });
  const verifier = createDpopVerifier({
    algorithms: config.algorithms,
    iatWindowSeconds: config.iatWindowSeconds,
    clockSkewSeconds: config.clockSkewSeconds,
    maxProofLength: DPOP_DEFAULTS.maxProofLength,
    maxJtiLength: DPOP_DEFAULTS.maxJtiLength,
    nonces: config.nonce === null ? null : createNonceAuthority(config.nonce),
    replay,
  });
  const dpop = new Map<string, SenderConstraintPolicy>();
  for (const issuer of issuers)
    if (issuer.dpop !== 'off') dpop.set(issuer.issuer, { dpop: issuer.dpop, verifier });
  return createSenderConstraintChecker({
    dpop,
    publicUrl: (request) => publicRequestUrl(config.publicUrls, request),
  });
}

/**
 * The sender-constraint checker of a function in which no issuer enables DPoP: certificate-bound
 * tokens checked, DPoP-bound tokens and the DPoP scheme refused. Reads nothing from the environment.
 */
export function createBindingChecker(): SenderConstraintChecker {
  return withoutDpop();
}
