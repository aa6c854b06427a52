// The sender-constraint decision: scheme, cnf and the issuer's DPoP mode against what the request
// proves. Real proofs, real certificates, a frozen clock.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkSenderConstraint,
  type PresentedToken,
  type SenderConstraintPolicy,
  type SenderEvidence,
} from '../../../shared/sender-constraint/token-binding.ts';
import { createCa, type IssuedCertificate, issueCertificate } from '../../../tools/certs/local-ca.ts';
import { keyFor, NOW_MS, proofFor, TOKEN, testVerifier, URL } from '../../support/dpop.ts';

const key = keyFor('ES256');
let cert: IssuedCertificate;
let otherCert: IssuedCertificate;
beforeAll(async () => {
  const ca = await createCa('Binding CA');
  cert = await issueCertificate(ca, { commonName: 'svc', kind: 'client' });
  otherCert = await issueCertificate(ca, { commonName: 'other', kind: 'client' });
});

const token = (scheme: 'Bearer' | 'DPoP', cnf?: unknown): PresentedToken => ({ scheme, token: TOKEN, cnf });
const evidence = (change: Partial<SenderEvidence> = {}): SenderEvidence => ({
  method: 'GET',
  publicUrl: URL,
  dpopProofs: [],
  clientCertPem: undefined,
  ...change,
});
const policy = (dpop: 'required' | 'allowed' | 'off'): SenderConstraintPolicy =>
  dpop === 'off' ? { dpop } : { dpop, verifier: testVerifier() };
const reasonOf = async (...args: Parameters<typeof checkSenderConstraint>) => {
  const result = await checkSenderConstraint(...args);
  return result.ok ? 'accepted' : result.reason;
};

describe('DPoP-bound tokens', () => {
  it('accepts a DPoP-bound token with a valid proof and reports the key thumbprint', async () => {
    const result = await checkSenderConstraint(
      token('DPoP', { jkt: key.thumbprint }),
      evidence({ dpopProofs: [proofFor(key)] }),
      policy('allowed'),
      NOW_MS,
    );
    expect(result).toEqual({
      ok: true,
      binding: { dpopJkt: key.thumbprint, certificateThumbprint: undefined },
    });
  });

  it.each(['required', 'allowed', 'off'] as const)(
    'refuses a DPoP-bound token sent as Bearer (mode %s)',
    async (mode) => {
      expect(await reasonOf(token('Bearer', { jkt: key.thumbprint }), evidence(), policy(mode), NOW_MS)).toBe(
        'token_dpop_bound_as_bearer',
      );
    },
  );

  it('refuses the DPoP scheme for an unbound token, and when DPoP is off', async () => {
    expect(
      await reasonOf(token('DPoP'), evidence({ dpopProofs: [proofFor(key)] }), policy('allowed'), NOW_MS),
    ).toBe('token_not_dpop_bound');
    expect(
      await reasonOf(
        token('DPoP', { jkt: key.thumbprint }),
        evidence({ dpopProofs: [proofFor(key)] }),
        policy('off'),
        NOW_MS,
      ),
    ).toBe('dpop_not_enabled');
  });

  it('refuses a plain bearer token when DPoP is required, and accepts it when allowed or off', async () => {
    expect(await reasonOf(token('Bearer'), evidence(), policy('required'), NOW_MS)).toBe('dpop_required');
    expect(await reasonOf(token('Bearer'), evidence(), policy('allowed'), NOW_MS)).toBe('accepted');
    expect(await reasonOf(token('Bearer'), evidence(), policy('off'), NOW_MS)).toBe('accepted');
  });

  it('passes the proof refusal through (missing proof, proof of another key, replay)', async () => {
    const bound = token('DPoP', { jkt: key.thumbprint });
    const p = policy('required');
    expect(await reasonOf(bound, evidence(), p, NOW_MS)).toBe('dpop_proof_missing');
    expect(await reasonOf(bound, evidence({ dpopProofs: [proofFor(keyFor('EdDSA'))] }), p, NOW_MS)).toBe(
      'dpop_jkt_mismatch',
    );
    const proof = proofFor(key);
    expect(await reasonOf(bound, evidence({ dpopProofs: [proof] }), p, NOW_MS)).toBe('accepted');
    expect(await reasonOf(bound, evidence({ dpopProofs: [proof] }), p, NOW_MS)).toBe('dpop_replayed');
  });
});

describe('certificate-bound tokens', () => {
  it('accepts the certificate the token is bound to', async () => {
    const result = await checkSenderConstraint(
      token('Bearer', { 'x5t#S256': cert.thumbprint }),
      evidence({ clientCertPem: cert.certificatePem }),
      policy('off'),
      NOW_MS,
    );
    expect(result).toEqual({
      ok: true,
      binding: { dpopJkt: undefined, certificateThumbprint: cert.thumbprint },
    });
  });

  it('refuses a missing, malformed or different certificate', async () => {
    const bound = token('Bearer', { 'x5t#S256': cert.thumbprint });
    expect(await reasonOf(bound, evidence(), policy('allowed'), NOW_MS)).toBe('mtls_certificate_missing');
    expect(
      await reasonOf(bound, evidence({ clientCertPem: 'CERT_CONTENT' }), policy('allowed'), NOW_MS),
    ).toBe('mtls_certificate_malformed');
    expect(
      await reasonOf(bound, evidence({ clientCertPem: otherCert.certificatePem }), policy('allowed'), NOW_MS),
    ).toBe('mtls_thumbprint_mismatch');
  });

  it('checks both bindings of a token bound to a DPoP key and a certificate', async () => {
    const both = token('DPoP', { jkt: key.thumbprint, 'x5t#S256': cert.thumbprint });
    const withProof = { dpopProofs: [proofFor(key)] };
    expect(
      await reasonOf(
        both,
        evidence({ ...withProof, clientCertPem: otherCert.certificatePem }),
        policy('allowed'),
        NOW_MS,
      ),
    ).toBe('mtls_thumbprint_mismatch');
    expect(
      await reasonOf(
        both,
        evidence({ dpopProofs: [proofFor(key)], clientCertPem: cert.certificatePem }),
        policy('allowed'),
        NOW_MS,
      ),
    ).toBe('accepted');
  });
});

describe('the cnf claim', () => {
  it.each([
    ['a string', 'bound'],
    ['an array', [1]],
    ['null', null],
    ['a jkt that is not a SHA-256 thumbprint', { jkt: 'abc' }],
    ['a jkt that is not a string', { jkt: 7 }],
    ['an x5t#S256 with padding', { 'x5t#S256': `${'A'.repeat(43)}=` }],
  ])('refuses a token whose cnf is %s', async (_case, cnf) => {
    expect(await reasonOf(token('Bearer', cnf), evidence(), policy('allowed'), NOW_MS)).toBe(
      'token_cnf_invalid',
    );
  });

  it.each([
    ['an RFC 7800 jwk', { jwk: { kty: 'EC' } }],
    ['a SHA-1 certificate thumbprint', { x5t: 'AAAA' }],
    ['a known and an unknown method', { jkt: key.thumbprint, kid: 'k1' }],
  ])('refuses a token bound by a method it cannot check: %s', async (_case, cnf) => {
    expect(await reasonOf(token('Bearer', cnf), evidence(), policy('allowed'), NOW_MS)).toBe(
      'token_cnf_unsupported',
    );
  });

  it('treats an empty cnf as unbound', async () => {
    expect(await reasonOf(token('Bearer', {}), evidence(), policy('allowed'), NOW_MS)).toBe('accepted');
  });
});
