import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A test signing key with its public JWK. */
export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Readonly<Record<string, unknown>>;
}

/** Generates a signing key for an algorithm (RS256 2048-bit by default). */
export function testKey(
  alg: 'RS256' | 'ES256' | 'EdDSA' | 'RS256-1024' = 'RS256',
  kid = `kid-${alg}-${Math.random().toString(36).slice(2, 8)}`,
): TestKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: alg === 'RS256-1024' ? 1024 : 2048 });
  const jwtAlg = alg === 'RS256-1024' ? 'RS256' : alg;
  const jwk = { ...createPublicKey(pair.privateKey).export({ format: 'jwk' }), kid, use: 'sig', alg: jwtAlg };
  return { kid, alg: jwtAlg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}
