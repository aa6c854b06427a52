import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, importProofKey, jwkThumbprint } from '../../../shared/dpop/jwk.ts';

// RFC 7638 §3.1: the example RSA key and its thumbprint.
const RFC7638_KEY = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

describe('proof keys', () => {
  it('computes the RFC 7638 example thumbprint (members other than the required ones are ignored)', () => {
    expect(jwkThumbprint(RFC7638_KEY)).toBe(RFC7638_THUMBPRINT);
    const imported = importProofKey(RFC7638_KEY, 'RS256');
    expect(imported.ok && imported.value.thumbprint).toBe(RFC7638_THUMBPRINT);
  });

  it('gives EC and OKP keys the thumbprint of their required members only', () => {
    const ec = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey).export({
      format: 'jwk',
    });
    expect(jwkThumbprint({ ...ec, kid: 'x', use: 'sig' })).toBe(jwkThumbprint(ec));
    const ed = createPublicKey(generateKeyPairSync('ed25519').privateKey).export({ format: 'jwk' });
    const imported = importProofKey(ed, 'EdDSA');
    expect(imported.ok && imported.value.thumbprint).toBe(jwkThumbprint(ed));
  });

  it('refuses Ed448 and symmetric keys', () => {
    const ed448 = createPublicKey(generateKeyPairSync('ed448').privateKey).export({ format: 'jwk' });
    expect(importProofKey(ed448, 'EdDSA')).toEqual({ ok: false, reason: 'dpop_jwk_invalid' });
    expect(importProofKey({ kty: 'oct', k: 'c2VjcmV0' }, 'ES256')).toEqual({
      ok: false,
      reason: 'dpop_jwk_private',
    });
  });

  it('refuses an RSA modulus above 8192 bits (bounded verification cost)', () => {
    const huge = { kty: 'RSA', e: 'AQAB', n: Buffer.alloc(1100, 0xff).toString('base64url') };
    expect(importProofKey(huge, 'RS256')).toEqual({ ok: false, reason: 'dpop_jwk_invalid' });
  });

  it.each([
    ['AQAB', true],
    ['AQAB=', false],
    ['AQA+', false],
    ['', false],
    [42, false],
  ])('decodes base64url %j only when canonical', (value, ok) => {
    expect(decodeBase64Url(value) !== undefined).toBe(ok);
  });
});
