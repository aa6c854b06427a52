/**
 * Compact JWS signing for local development and tests. aws-jwt-verify only verifies; node:crypto
 * signs every algorithm we need in a few lines, so no signing library is added. This code never
 * runs in a Lambda bundle.
 */
import { createHmac, createPrivateKey, type KeyObject, sign } from 'node:crypto';

const HASH: Record<string, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
};

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Encodes a header or payload exactly as given (a string is used verbatim, e.g. for duplicate keys). */
export function encodeSegment(value: string | Readonly<Record<string, unknown>>): string {
  return b64url(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Signs `header.payload` with the key for `header.alg`. Header and payload may be raw JSON text. */
export function signJwt(
  header: Readonly<Record<string, unknown>> | string,
  payload: Readonly<Record<string, unknown>> | string,
  key: KeyObject,
  alg = typeof header === 'string' ? 'RS256' : String(header.alg),
): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  if (alg.startsWith('HS')) {
    // Only hostile-input tests sign with HMAC (e.g. HS256 keyed with an RSA public key).
    return `${input}.${b64url(
      createHmac(`sha${alg.slice(2)}`, key)
        .update(input)
        .digest(),
    )}`;
  }
  const hash = HASH[alg];
  if (hash === undefined) throw new Error(`signJwt: unsupported alg ${alg}`);
  const signature = sign(hash, Buffer.from(input), {
    key,
    ...(alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    // RFC 7518 §3.5: the PSS salt is as long as the hash output.
    ...(alg.startsWith('PS') ? { padding: 6, saltLength: Number(alg.slice(2)) / 8 } : {}),
  });
  return `${input}.${b64url(signature)}`;
}

/** Imports a private JWK. */
export function privateKeyFromJwk(jwk: Readonly<Record<string, unknown>>): KeyObject {
  return createPrivateKey({ key: jwk as never, format: 'jwk' });
}
