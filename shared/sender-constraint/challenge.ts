/**
 * How a sender-constraint refusal is told to the client (RFC 9449 §7.1, §9; RFC 6750 §3): 401 with
 * a `WWW-Authenticate: DPoP` challenge carrying the error code and the accepted `algs`, plus a fresh
 * `DPoP-Nonce` when the proof lacked a current nonce. Which of these API Gateway can actually send
 * depends on the API type: docs/sender-constrained-tokens.md, "What the client is told".
 */
import type { DpopAlgorithm } from '../dpop/jwk.ts';
import type { SenderConstraintProblem } from './token-binding.ts';

/** The RFC 9449 / RFC 6750 error codes used in challenges. */
export type ChallengeError = 'invalid_dpop_proof' | 'invalid_token' | 'use_dpop_nonce';

/** A 401 answer's headers. */
export interface Challenge {
  readonly status: 401;
  /** The error code; undefined when the request carried no credential at all (RFC 6750 §3.1). */
  readonly error: ChallengeError | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** The challenge error for a refusal reason. */
export function challengeErrorFor(reason: SenderConstraintProblem): ChallengeError {
  switch (reason) {
    case 'dpop_nonce_required':
    case 'dpop_nonce_invalid':
      return 'use_dpop_nonce';
    // The token itself cannot be used this way (wrong key, wrong scheme, not bound, bound to a
    // certificate that was not presented): RFC 9449 §7.1 and RFC 8705 §3 call this invalid_token.
    case 'dpop_jkt_mismatch':
    case 'dpop_required':
    case 'dpop_not_enabled':
    case 'token_dpop_bound_as_bearer':
    case 'token_not_dpop_bound':
    case 'token_cnf_invalid':
    case 'token_cnf_unsupported':
    case 'mtls_certificate_missing':
    case 'mtls_certificate_malformed':
    case 'mtls_thumbprint_mismatch':
      return 'invalid_token';
    default:
      return 'invalid_dpop_proof';
  }
}

/**
 * The challenge for a refusal (or, with `reason` undefined, for a request without credentials).
 * `error_description` is the reason code: stable, documented, and never derived from client input.
 */
export function dpopChallenge(
  reason: SenderConstraintProblem | undefined,
  algorithms: readonly DpopAlgorithm[],
  nonce?: string,
): Challenge {
  const algs = `algs="${algorithms.join(' ')}"`;
  if (reason === undefined)
    return { status: 401, error: undefined, headers: { 'WWW-Authenticate': `DPoP ${algs}` } };
  const error = challengeErrorFor(reason);
  const headers: Record<string, string> = {
    'WWW-Authenticate': `DPoP error="${error}", error_description="${reason}", ${algs}`,
  };
  if (error === 'use_dpop_nonce' && nonce !== undefined) headers['DPoP-Nonce'] = nonce;
  return { status: 401, error, headers };
}
