import { describe, expect, it } from 'vitest';
import { challengeErrorFor, dpopChallenge } from '../../../shared/sender-constraint/challenge.ts';

describe('DPoP challenges', () => {
  it('answers a request without credentials with the accepted algorithms only', () => {
    expect(dpopChallenge(undefined, ['ES256', 'EdDSA'])).toEqual({
      status: 401,
      error: undefined,
      headers: { 'WWW-Authenticate': 'DPoP algs="ES256 EdDSA"' },
    });
  });

  it('names the error and the reason for an invalid proof', () => {
    expect(dpopChallenge('dpop_htu_mismatch', ['ES256']).headers).toEqual({
      'WWW-Authenticate':
        'DPoP error="invalid_dpop_proof", error_description="dpop_htu_mismatch", algs="ES256"',
    });
  });

  it('sends a fresh nonce with use_dpop_nonce, and only then', () => {
    expect(dpopChallenge('dpop_nonce_required', ['ES256'], 'n0nce').headers).toEqual({
      'WWW-Authenticate':
        'DPoP error="use_dpop_nonce", error_description="dpop_nonce_required", algs="ES256"',
      'DPoP-Nonce': 'n0nce',
    });
    expect(dpopChallenge('dpop_replayed', ['ES256'], 'n0nce').headers['DPoP-Nonce']).toBeUndefined();
  });

  it.each([
    ['dpop_signature_invalid', 'invalid_dpop_proof'],
    ['dpop_replayed', 'invalid_dpop_proof'],
    ['dpop_iat_stale', 'invalid_dpop_proof'],
    ['dpop_nonce_invalid', 'use_dpop_nonce'],
    ['dpop_jkt_mismatch', 'invalid_token'],
    ['token_dpop_bound_as_bearer', 'invalid_token'],
    ['dpop_required', 'invalid_token'],
    ['mtls_thumbprint_mismatch', 'invalid_token'],
    ['mtls_certificate_missing', 'invalid_token'],
  ] as const)('maps %s to %s', (reason, error) => {
    expect(challengeErrorFor(reason)).toBe(error);
  });
});
