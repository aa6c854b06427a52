// One rule set for the keys Gatehouse verifies with: the JWKS filter and the DPoP proof key reader
// both take their strength, type and curve rules from shared/jwt/key-strength.ts, so a key one of
// them trusts the other trusts too.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DpopAlgorithm, importProofKey } from '../../../shared/dpop/jwk.ts';
import { filterJwks } from '../../../shared/jwt/jwks.ts';
import { keyStrengthProblem } from '../../../shared/jwt/key-strength.ts';

function publicJwk(pair: { privateKey: Parameters<typeof createPublicKey>[0] }): Record<string, unknown> {
  return createPublicKey(pair.privateKey).export({ format: 'jwk' }) as Record<string, unknown>;
}

const rsa = publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const p256 = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const p384 = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }));
const ed25519 = publicJwk(generateKeyPairSync('ed25519'));

const CASES: readonly (readonly [string, Record<string, unknown>, DpopAlgorithm, string | undefined])[] = [
  ['an RSA 2048-bit key', rsa, 'RS256', undefined],
  ['a P-256 key', p256, 'ES256', undefined],
  ['a P-384 key', p384, 'ES384', undefined],
  ['an Ed25519 key', ed25519, 'EdDSA', undefined],
  [
    'a 1024-bit RSA key',
    publicJwk(generateKeyPairSync('rsa', { modulusLength: 1024 })),
    'RS256',
    'rsa_modulus_too_small',
  ],
  [
    'an RSA key with e = 3',
    publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })),
    'RS256',
    'rsa_exponent_not_65537',
  ],
  ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0' }, 'ES256', 'symmetric_key'],
  ['an EC key with its private member', { ...p256, d: 'AAAA' }, 'ES256', 'private_key_material'],
  ['an RSA key with a multi-prime member', { ...rsa, oth: [] }, 'RS256', 'private_key_material'],
  ['a secp256k1 key', { ...p256, crv: 'secp256k1' }, 'ES256', 'curve_unsupported'],
  ['an Ed448 key', publicJwk(generateKeyPairSync('ed448')), 'EdDSA', 'curve_unsupported'],
  ['an unknown key type', { kty: 'XYZ', x: 'AAAA' }, 'ES256', 'kty_unsupported'],
];

describe('keyStrengthProblem', () => {
  it.each(CASES)('judges %s', (_name, jwk, _alg, problem) => {
    expect(keyStrengthProblem(jwk)).toBe(problem);
  });

  it('reads only own members (a prototype cannot make a key private or public)', () => {
    const inherited = Object.assign(Object.create({ d: 'AAAA' }) as object, p256);
    expect(keyStrengthProblem(inherited)).toBeUndefined();
  });
});

describe('the JWKS filter and the DPoP key reader agree', () => {
  it.each(CASES)('on %s', (_name, jwk, alg, problem) => {
    // Act
    const { dropped } = filterJwks({ keys: [{ ...jwk, kid: 'k' }] });
    const proofKey = importProofKey(jwk, alg);
    // Assert
    expect(dropped.map((d) => d.reason)).toEqual(problem === undefined ? [] : [problem]);
    expect(proofKey.ok).toBe(problem === undefined);
  });
});
