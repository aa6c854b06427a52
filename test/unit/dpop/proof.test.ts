// Hostile unit tests for DPoP proof verification: every refusal has its own reason code. Keys are
// generated here, the clock is frozen, and proofs are signed for real.
import { createHmac, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createNonceAuthority } from '../../../shared/dpop/nonce.ts';
import {
  createDpopVerifier,
  DPOP_DEFAULTS,
  DpopConfigError,
  type DpopRequest,
} from '../../../shared/dpop/proof.ts';
import { memoryReplayStore, ReplayStoreUnavailableError } from '../../../shared/dpop/replay.ts';
import { encodeSegment, signJwt } from '../../../tools/issuer/sign.ts';
import { keyFor, NOW_MS, NOW_S, proofFor, TOKEN, testVerifier, URL } from '../../support/dpop.ts';

const es256 = keyFor('ES256');

function request(proof: string | readonly string[], overrides: Partial<DpopRequest> = {}): DpopRequest {
  return {
    proofs: typeof proof === 'string' ? [proof] : proof,
    method: 'GET',
    publicUrl: URL,
    accessToken: TOKEN,
    boundThumbprint: es256.thumbprint,
    ...overrides,
  };
}

/** Signs raw header and payload JSON text with the ES256 test key. */
function rawProof(header: string, payload: string): string {
  return signJwt(header, payload, es256.privateKey, 'ES256');
}

const goodClaims = () => ({ jti: 'jti-1', htm: 'GET', htu: URL, iat: NOW_S, ath: proofClaims().ath });
function proofClaims(): Record<string, unknown> {
  const [, payload] = proofFor().split('.');
  return JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<string, unknown>;
}
const goodHeader = () => ({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256.publicJwk });

describe('DPoP proof verification: accepted proofs', () => {
  it.each(['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'] as const)(
    'accepts a proof signed with %s and reports its thumbprint, jti and normalised htu',
    (alg) => {
      // Arrange
      const key = keyFor(alg);
      const proof = proofFor(key, { jti: `jti-${alg}` });

      // Act
      const result = testVerifier().verify(request(proof, { boundThumbprint: key.thumbprint }), NOW_MS);

      // Assert
      expect(result).toEqual({
        ok: true,
        proof: {
          thumbprint: key.thumbprint,
          jti: `jti-${alg}`,
          htu: URL,
          iat: NOW_S,
          expiresAt: NOW_MS + DPOP_DEFAULTS.iatWindowSeconds * 1000,
        },
      });
    },
  );

  it.each(['PS384', 'PS512', 'RS384', 'RS512'] as const)('accepts %s with an RSA key', (alg) => {
    // The algorithm is the header's; the key only has to be RSA.
    const key = { ...keyFor('PS256'), alg };
    const result = testVerifier().verify(request(proofFor(key), { boundThumbprint: key.thumbprint }), NOW_MS);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['iat at the oldest edge of the window', NOW_S - DPOP_DEFAULTS.iatWindowSeconds],
    ['iat at the newest edge of the clock skew', NOW_S + DPOP_DEFAULTS.clockSkewSeconds],
  ])('accepts %s', (_case, iat) => {
    expect(testVerifier().verify(request(proofFor(es256, { iat })), NOW_MS).ok).toBe(true);
  });

  it.each([
    ['upper-case scheme and host, explicit default port', 'HTTPS://API.EXAMPLE.COM:443/orders/42'],
    ['percent-encoded unreserved characters', 'https://api.example.com/%6Frders/42'],
    ['a query and a fragment (ignored)', 'https://api.example.com/orders/42?expand=items#top'],
    ['a dot segment', 'https://api.example.com/orders/./42'],
  ])('accepts an htu with %s', (_case, htu) => {
    expect(testVerifier().verify(request(proofFor(es256, { url: htu })), NOW_MS).ok).toBe(true);
  });

  it('tolerates surrounding whitespace in the header value', () => {
    expect(testVerifier().verify(request(`  ${proofFor()} `), NOW_MS).ok).toBe(true);
  });
});

describe('DPoP proof verification: refusals', () => {
  const verifier = testVerifier();
  const refuse = (req: DpopRequest) => {
    const result = verifier.verify(req, NOW_MS);
    return result.ok ? 'accepted' : result.reason;
  };

  it('refuses a request without a proof, with an empty one, and with two', () => {
    expect(refuse(request([]))).toBe('dpop_proof_missing');
    expect(refuse(request(['  ']))).toBe('dpop_proof_missing');
    expect(refuse(request([proofFor(), proofFor()]))).toBe('dpop_proof_multiple');
  });

  it('refuses a proof longer than the limit before parsing it', () => {
    const big = proofFor(es256, { claims: { pad: 'x'.repeat(DPOP_DEFAULTS.maxProofLength) } });
    expect(refuse(request(big))).toBe('dpop_proof_too_large');
  });

  it.each([
    ['two segments', 'aGVhZGVy.cGF5bG9hZA'],
    ['an empty signature', `${encodeSegment(goodHeader())}.${encodeSegment(goodClaims())}.`],
    ['non-base64url characters', 'a+b.c/d.e=f'],
    ['a header that is not JSON', `${Buffer.from('not json').toString('base64url')}.e30.AAAA`],
    ['a header that is a JSON array', `${encodeSegment('[1]')}.e30.AAAA`],
    ['a header that is not UTF-8', `${Buffer.from([0xff, 0xfe]).toString('base64url')}.e30.AAAA`],
    ['non-canonical base64url', `${encodeSegment(goodHeader())}x.e30.AAAA`],
  ])('refuses a proof with %s as dpop_proof_malformed', (_case, proof) => {
    expect(refuse(request(proof))).toBe('dpop_proof_malformed');
  });

  it('refuses duplicate members in the header and in the payload', () => {
    const header = `{"typ":"dpop+jwt","alg":"ES256","jwk":${JSON.stringify(es256.publicJwk)},"typ":"JWT"}`;
    expect(refuse(request(rawProof(header, JSON.stringify(goodClaims()))))).toBe('dpop_proof_duplicate_key');
    const payload = `{"jti":"a","htm":"GET","htu":"${URL}","iat":${NOW_S},"htm":"POST"}`;
    expect(refuse(request(rawProof(JSON.stringify(goodHeader()), payload)))).toBe('dpop_proof_duplicate_key');
  });

  it('refuses a __proto__ member in the payload', () => {
    const payload = `{"jti":"a","htm":"GET","htu":"${URL}","iat":${NOW_S},"__proto__":{"x":1}}`;
    expect(refuse(request(rawProof(JSON.stringify(goodHeader()), payload)))).toBe('dpop_proof_malformed');
  });

  it.each([
    ['missing', undefined],
    ['JWT', 'JWT'],
    ['the media type form', 'application/dpop+jwt'],
    ['upper case', 'DPOP+JWT'],
  ])('refuses typ %s', (_case, typ) => {
    expect(refuse(request(proofFor(es256, { header: { typ } })))).toBe('dpop_typ_invalid');
  });

  it.each(['none', 'HS256', 'ES256K', 'RSA-OAEP', ''])('refuses alg %j', (alg) => {
    expect(refuse(request(proofFor(es256, { header: { alg } })))).toBe('dpop_alg_not_allowed');
  });

  it('refuses an HS256 proof keyed with the public key (algorithm confusion)', () => {
    const header = { typ: 'dpop+jwt', alg: 'HS256', jwk: es256.publicJwk };
    const input = `${encodeSegment(header)}.${encodeSegment(goodClaims())}`;
    const mac = createHmac('sha256', JSON.stringify(es256.publicJwk)).update(input).digest('base64url');
    expect(refuse(request(`${input}.${mac}`))).toBe('dpop_alg_not_allowed');
  });

  it('refuses an algorithm that is valid but not configured', () => {
    const onlyEs = testVerifier({ algorithms: ['ES256'] });
    const key = keyFor('EdDSA');
    const result = onlyEs.verify(request(proofFor(key), { boundThumbprint: key.thumbprint }), NOW_MS);
    expect(result).toEqual({ ok: false, reason: 'dpop_alg_not_allowed' });
  });

  it('refuses a crit header', () => {
    expect(refuse(request(proofFor(es256, { header: { crit: ['exp'], exp: 1 } })))).toBe('dpop_crit_present');
  });

  it('refuses a proof without a jwk header', () => {
    expect(refuse(request(proofFor(es256, { header: { jwk: undefined } })))).toBe('dpop_jwk_missing');
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])('refuses a jwk with the private member %s', (member) => {
    const jwk = { ...es256.publicJwk, [member]: 'AAAA' };
    expect(refuse(request(proofFor(es256, { header: { jwk } })))).toBe('dpop_jwk_private');
  });

  it('refuses the full private JWK of the signing key', () => {
    const jwk = es256.privateKey.export({ format: 'jwk' });
    expect(refuse(request(proofFor(es256, { header: { jwk } })))).toBe('dpop_jwk_private');
  });

  it('refuses a 1024-bit RSA key and an RSA key with e = 3', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const weakJwk = createPublicKey(weak).export({ format: 'jwk' });
    const weakProof = signJwt({ typ: 'dpop+jwt', alg: 'RS256', jwk: weakJwk }, goodClaims(), weak, 'RS256');
    expect(refuse(request(weakProof))).toBe('dpop_jwk_weak');
    const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).privateKey;
    const e3Jwk = createPublicKey(e3).export({ format: 'jwk' });
    const e3Proof = signJwt({ typ: 'dpop+jwt', alg: 'RS256', jwk: e3Jwk }, goodClaims(), e3, 'RS256');
    expect(refuse(request(e3Proof))).toBe('dpop_jwk_weak');
  });

  it.each([
    ['an EC key under RS256', { alg: 'RS256' }, undefined],
    ['a P-256 key under ES384', { alg: 'ES384' }, undefined],
    ['a jwk whose own alg differs', {}, { alg: 'ES384' }],
  ])('refuses %s as dpop_jwk_alg_mismatch', (_case, header, jwkExtra) => {
    const jwk = { ...es256.publicJwk, ...jwkExtra };
    expect(refuse(request(proofFor(es256, { header: { ...header, jwk } })))).toBe('dpop_jwk_alg_mismatch');
  });

  it.each([
    ['an unknown kty', { kty: 'XYZ' }],
    ['an unsupported curve', { crv: 'secp256k1' }],
    ['a coordinate of the wrong length', { x: 'AAAA' }],
    ['a point that is not on the curve', { x: 'A'.repeat(43), y: 'A'.repeat(43) }],
    ['a non-base64url coordinate', { y: '!'.repeat(43) }],
  ])('refuses a jwk with %s as dpop_jwk_invalid', (_case, change) => {
    const jwk = { ...es256.publicJwk, ...change };
    expect(refuse(request(proofFor(es256, { header: { jwk } })))).toBe('dpop_jwk_invalid');
  });

  it('refuses a jwk that is not an object', () => {
    expect(refuse(request(proofFor(es256, { header: { jwk: 'key' } })))).toBe('dpop_jwk_invalid');
  });

  it('refuses a proof signed by another key than the one in its header', () => {
    // The header names the genuine key; the signature comes from an attacker's key of the same type.
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = proofFor({ ...es256, privateKey: attacker });
    expect(refuse(request(forged))).toBe('dpop_signature_invalid');
  });

  it('refuses a proof whose payload was changed after signing', () => {
    const [h, , s] = proofFor().split('.');
    const changed = encodeSegment({ ...proofClaims(), htm: 'DELETE' });
    expect(refuse(request(`${h}.${changed}.${s}`, { method: 'DELETE' }))).toBe('dpop_signature_invalid');
  });

  it('refuses a DER-encoded ECDSA signature (JWS uses fixed-length r || s)', () => {
    const input = `${encodeSegment(goodHeader())}.${encodeSegment(goodClaims())}`;
    const der = sign('sha256', Buffer.from(input), es256.privateKey).toString('base64url');
    expect(refuse(request(`${input}.${der}`))).toBe('dpop_signature_invalid');
  });

  it('refuses an RSA signature of the wrong length', () => {
    const rsa = keyFor('RS256');
    const [h, p, s] = proofFor(rsa).split('.');
    const short = Buffer.from(s as string, 'base64url')
      .subarray(1)
      .toString('base64url');
    expect(refuse(request(`${h}.${p}.${short}`, { boundThumbprint: rsa.thumbprint }))).toBe(
      'dpop_signature_invalid',
    );
  });

  it.each([
    ['another method', { method: 'POST' }],
    ['a lower-case method', { method: 'get' }],
    ['no htm', { claims: { htm: undefined } }],
  ])('refuses a proof for %s', (_case, change) => {
    expect(refuse(request(proofFor(es256, change)))).toBe('dpop_htm_mismatch');
  });

  it.each([
    ['another path', 'https://api.example.com/orders/43'],
    ['a path prefix', 'https://api.example.com/orders'],
    ['another host', 'https://evil.example.com/orders/42'],
    ['plain http', 'http://api.example.com/orders/42'],
    ['another port', 'https://api.example.com:8443/orders/42'],
    ['an encoded slash', 'https://api.example.com/orders%2F42'],
    ['a trailing slash', 'https://api.example.com/orders/42/'],
  ])('refuses an htu with %s', (_case, url) => {
    expect(refuse(request(proofFor(es256, { url })))).toBe('dpop_htu_mismatch');
  });

  it.each([
    ['a relative reference', '/orders/42'],
    ['no scheme', 'api.example.com/orders/42'],
    ['another scheme', 'ftp://api.example.com/orders/42'],
    ['userinfo', 'https://alice@api.example.com/orders/42'],
    ['a space', 'https://api.example.com/orders 42'],
    ['a number', 42],
    ['nothing', undefined],
  ])('refuses an htu that is %s', (_case, htu) => {
    expect(refuse(request(proofFor(es256, { claims: { htu } })))).toBe('dpop_htu_invalid');
  });

  it('refuses when no public URL rule covers the request', () => {
    expect(refuse(request(proofFor(), { publicUrl: undefined }))).toBe('dpop_htu_unmapped');
  });

  it('refuses a stale iat, a future iat beyond the skew, and a non-numeric iat', () => {
    expect(refuse(request(proofFor(es256, { iat: NOW_S - DPOP_DEFAULTS.iatWindowSeconds - 1 })))).toBe(
      'dpop_iat_stale',
    );
    expect(refuse(request(proofFor(es256, { iat: NOW_S + DPOP_DEFAULTS.clockSkewSeconds + 1 })))).toBe(
      'dpop_iat_future',
    );
    expect(refuse(request(proofFor(es256, { claims: { iat: String(NOW_S) } })))).toBe('dpop_iat_invalid');
    expect(refuse(request(proofFor(es256, { claims: { iat: undefined } })))).toBe('dpop_iat_invalid');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 7],
    ['longer than the limit', 'j'.repeat(DPOP_DEFAULTS.maxJtiLength + 1)],
  ])('refuses a jti that is %s', (_case, jti) => {
    expect(refuse(request(proofFor(es256, { claims: { jti } })))).toBe('dpop_jti_invalid');
  });

  it('refuses a proof without ath, with the ath of another token, and with a non-string ath', () => {
    expect(refuse(request(proofFor(es256, { accessToken: undefined })))).toBe('dpop_ath_missing');
    expect(refuse(request(proofFor(es256, { accessToken: `${TOKEN}x` })))).toBe('dpop_ath_mismatch');
    expect(refuse(request(proofFor(es256, { claims: { ath: 42 } })))).toBe('dpop_ath_mismatch');
  });

  it('refuses a valid proof whose key is not the one the token is bound to', () => {
    const other = keyFor('EdDSA');
    expect(refuse(request(proofFor(other)))).toBe('dpop_jkt_mismatch');
  });
});

describe('DPoP server nonces', () => {
  const nonces = createNonceAuthority({ secrets: [Buffer.alloc(32, 7)], windowSeconds: 60 });
  const verifier = testVerifier({ nonces });

  it('accepts a proof with a current nonce and one from the previous window', () => {
    expect(verifier.verify(request(proofFor(es256, { nonce: nonces.issue(NOW_MS) })), NOW_MS).ok).toBe(true);
    const previous = nonces.issue(NOW_MS - 60_000);
    expect(verifier.verify(request(proofFor(es256, { nonce: previous })), NOW_MS).ok).toBe(true);
  });

  it('asks for a nonce when the proof has none, and refuses old or forged ones', () => {
    expect(verifier.verify(request(proofFor()), NOW_MS)).toEqual({
      ok: false,
      reason: 'dpop_nonce_required',
    });
    const old = nonces.issue(NOW_MS - 120_000);
    expect(verifier.verify(request(proofFor(es256, { nonce: old })), NOW_MS)).toEqual({
      ok: false,
      reason: 'dpop_nonce_invalid',
    });
    const forged = createNonceAuthority({ secrets: [Buffer.alloc(32, 8)], windowSeconds: 60 }).issue(NOW_MS);
    expect(verifier.verify(request(proofFor(es256, { nonce: forged })), NOW_MS)).toEqual({
      ok: false,
      reason: 'dpop_nonce_invalid',
    });
  });
});

describe('DPoP replay', () => {
  it('accepts a proof once and refuses it the second time as dpop_replayed', async () => {
    const verifier = testVerifier();
    const proof = proofFor();
    expect((await verifier.check(request(proof), NOW_MS)).ok).toBe(true);
    expect(await verifier.check(request(proof), NOW_MS)).toEqual({ ok: false, reason: 'dpop_replayed' });
  });

  it('does not record proofs that fail a check (they cannot block the genuine one)', async () => {
    const verifier = testVerifier();
    const proof = proofFor();
    expect(await verifier.check(request(proof, { method: 'POST' }), NOW_MS)).toEqual({
      ok: false,
      reason: 'dpop_htm_mismatch',
    });
    expect((await verifier.check(request(proof), NOW_MS)).ok).toBe(true);
  });

  it('fails closed when the replay store cannot answer', async () => {
    const verifier = testVerifier({
      replay: {
        claim: () => Promise.reject(new ReplayStoreUnavailableError('replay_store_timeout', 'no answer')),
      },
    });
    await expect(verifier.check(request(proofFor()), NOW_MS)).rejects.toThrow(ReplayStoreUnavailableError);
  });
});

describe('DPoP verifier options', () => {
  const replay = memoryReplayStore({ capacity: 1, now: () => NOW_MS });
  it.each([
    ['alg none', { algorithms: ['none'] }],
    ['HS256', { algorithms: ['HS256'] }],
    ['no algorithm', { algorithms: [] }],
    ['a zero iat window', { iatWindowSeconds: 0 }],
    ['a huge clock skew', { clockSkewSeconds: 3600 }],
    ['an unbounded proof length', { maxProofLength: 1_000_000 }],
  ])('refuses to start with %s', (_case, change) => {
    expect(() =>
      createDpopVerifier({ ...DPOP_DEFAULTS, nonces: null, replay, ...(change as object) }),
    ).toThrow(DpopConfigError);
  });
});

describe('DPoP proof verification: the header cache', () => {
  it('still checks each proof’s signature and claims when its header was seen before', () => {
    // Arrange: one verifier, so the second proof's header comes from its cache.
    const verifier = testVerifier();
    const good = proofFor(es256, { jti: 'cached-1' });
    const [h, p] = proofFor(es256, { jti: 'cached-2' }).split('.') as [string, string];
    const forged = `${h}.${p}.${good.split('.')[2]}`;
    const otherUrl = proofFor(es256, { jti: 'cached-3', url: `${URL}/other` });

    // Act / Assert
    expect(verifier.verify(request(good), NOW_MS).ok).toBe(true);
    expect(verifier.verify(request(forged), NOW_MS)).toEqual({ ok: false, reason: 'dpop_signature_invalid' });
    expect(verifier.verify(request(otherUrl), NOW_MS)).toEqual({ ok: false, reason: 'dpop_htu_mismatch' });
  });

  it('refuses a bad header every time (only headers that passed are remembered)', () => {
    const verifier = testVerifier({ algorithms: ['ES256'] });
    const rsa = proofFor(keyFor('RS256'), { jti: 'rsa' });

    expect(verifier.verify(request(rsa), NOW_MS)).toEqual({ ok: false, reason: 'dpop_alg_not_allowed' });
    expect(verifier.verify(request(rsa), NOW_MS)).toEqual({ ok: false, reason: 'dpop_alg_not_allowed' });
  });

  it('keeps answering once more distinct headers were seen than it remembers', () => {
    const verifier = testVerifier();
    // 1100 distinct headers (a `kid` member changes the header text) from one key.
    for (let i = 0; i < 1100; i++)
      expect(
        verifier.verify(request(proofFor(es256, { jti: `h-${i}`, header: { kid: `k${i}` } })), NOW_MS).ok,
      ).toBe(true);
    expect(
      verifier.verify(request(proofFor(es256, { jti: 'again', header: { kid: 'k0' } })), NOW_MS).ok,
    ).toBe(true);
  });
});
