// The authorizer's sender-constraint checker: which tokens need the step, the per-issuer DPoP
// setting, and the public URL derived only for a proof to check. Real proofs, a frozen clock.
import { describe, expect, it } from 'vitest';
import { certificateThumbprint } from '../../../shared/mtls/certificate-binding.ts';
import {
  createSenderConstraintChecker,
  type SenderRequest,
  withoutDpop,
} from '../../../shared/sender-constraint/checker.ts';
import { createCa, issueCertificate } from '../../../tools/certs/local-ca.ts';
import { keyFor, NOW_MS, proofFor, TOKEN, testVerifier, URL } from '../../support/dpop.ts';

const key = keyFor('ES256');
const request = (change: Partial<SenderRequest> = {}): SenderRequest => ({
  method: 'GET',
  domainName: 'api.example.com',
  stage: 'v1',
  path: '/orders/42',
  dpopProofs: [proofFor(key)],
  event: {},
  ...change,
});

describe('createSenderConstraintChecker', () => {
  const urls: SenderRequest[] = [];
  const checker = createSenderConstraintChecker({
    dpop: new Map([
      ['https://allowed', { dpop: 'allowed', verifier: testVerifier() }],
      ['https://required', { dpop: 'required', verifier: testVerifier() }],
    ]),
    publicUrl: (r) => {
      urls.push(r);
      return r.domainName === 'api.example.com' ? URL : undefined;
    },
  });

  it.each([
    ['Bearer', undefined, 'https://allowed', false],
    ['Bearer', undefined, 'https://unknown-issuer', false],
    ['Bearer', { jkt: key.thumbprint }, 'https://allowed', true],
    ['Bearer', { 'x5t#S256': 'x' }, 'https://unknown-issuer', true],
    ['Bearer', undefined, 'https://required', true],
    ['DPoP', undefined, 'https://unknown-issuer', true],
  ] as const)('needs the step for a %s token with cnf %j from %s: %s', (scheme, cnf, issuer, needed) => {
    expect(checker.needed({ scheme, token: TOKEN, cnf }, issuer)).toBe(needed);
  });

  it('accepts a proof for the public URL the rules give, per issuer', async () => {
    const result = await checker.check(
      { scheme: 'DPoP', token: TOKEN, cnf: { jkt: key.thumbprint } },
      request(),
      'https://allowed',
      NOW_MS,
    );

    expect(result).toEqual({
      ok: true,
      binding: { dpopJkt: key.thumbprint, certificateThumbprint: undefined },
    });
  });

  it('refuses a proof for a request no rule maps (dpop_htu_unmapped), never guessing the URL', async () => {
    const result = await checker.check(
      { scheme: 'DPoP', token: TOKEN, cnf: { jkt: key.thumbprint } },
      request({ domainName: 'other.example.com', dpopProofs: [proofFor(key, { jti: 'unmapped' })] }),
      'https://allowed',
      NOW_MS,
    );

    expect(result).toEqual({ ok: false, reason: 'dpop_htu_unmapped' });
  });

  it('treats an issuer it has no setting for as DPoP off, and derives no URL for it', async () => {
    urls.length = 0;
    const result = await checker.check(
      { scheme: 'DPoP', token: TOKEN, cnf: { jkt: key.thumbprint } },
      request(),
      'https://unknown-issuer',
      NOW_MS,
    );

    expect(result).toEqual({ ok: false, reason: 'dpop_not_enabled' });
    expect(urls).toEqual([]);
  });

  it('refuses a bearer token of an issuer requiring DPoP', async () => {
    const result = await checker.check(
      { scheme: 'Bearer', token: TOKEN, cnf: undefined },
      request({ dpopProofs: [] }),
      'https://required',
      NOW_MS,
    );

    expect(result).toEqual({ ok: false, reason: 'dpop_required' });
  });
});

describe('withoutDpop', () => {
  it('checks certificate bindings and bound-as-bearer tokens, and refuses the DPoP scheme', async () => {
    const checker = withoutDpop();
    const check = (scheme: 'Bearer' | 'DPoP', cnf: unknown) =>
      checker.check({ scheme, token: TOKEN, cnf }, request(), 'https://any', NOW_MS);

    expect(await check('DPoP', { jkt: key.thumbprint })).toEqual({ ok: false, reason: 'dpop_not_enabled' });
    expect(await check('Bearer', { jkt: key.thumbprint })).toEqual({
      ok: false,
      reason: 'token_dpop_bound_as_bearer',
    });
    expect(await check('Bearer', { 'x5t#S256': 'A'.repeat(43) })).toEqual({
      ok: false,
      reason: 'mtls_certificate_missing',
    });
  });

  it.each([
    [
      'a REST or HTTP API 1.0 event',
      (pem: string) => ({ requestContext: { identity: { clientCert: { clientCertPem: pem } } } }),
    ],
    [
      'an HTTP API 2.0 event',
      (pem: string) => ({
        version: '2.0',
        requestContext: { authentication: { clientCert: { clientCertPem: pem } } },
      }),
    ],
  ])('reads the client certificate from %s', async (_, eventWith) => {
    // Arrange
    const ca = await createCa('Checker CA');
    const cert = await issueCertificate(ca, { commonName: 'svc', kind: 'client' });
    const other = await issueCertificate(ca, { commonName: 'other', kind: 'client' });
    const checker = withoutDpop();
    const bound = { 'x5t#S256': certificateThumbprint(cert.certificatePem) };
    const check = (pem: string) =>
      checker.check(
        { scheme: 'Bearer', token: TOKEN, cnf: bound },
        request({ event: eventWith(pem) }),
        'https://any',
        NOW_MS,
      );

    // Act
    const own = await check(cert.certificatePem);
    const another = await check(other.certificatePem);

    // Assert
    expect(own).toEqual({
      ok: true,
      binding: { dpopJkt: undefined, certificateThumbprint: bound['x5t#S256'] },
    });
    expect(another).toEqual({ ok: false, reason: 'mtls_thumbprint_mismatch' });
  });
});
