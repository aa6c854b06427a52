/**
 * The one rule set for the public keys Gatehouse verifies signatures with: the keys the JWT
 * authorizer loads from a JWKS (shared/jwt/jwks.ts) and the key a DPoP proof carries
 * (shared/dpop/jwk.ts). Shape checks (base64url, coordinate lengths) stay with each reader; what
 * makes a well-formed key too weak or unsafe to trust is decided here only.
 */

/** Why a key is not trusted, whatever it is used for. */
export type KeyStrengthProblem =
  | 'symmetric_key'
  | 'private_key_material'
  | 'rsa_modulus_too_small'
  | 'rsa_exponent_not_65537'
  | 'curve_unsupported'
  | 'kty_unsupported';

/** Smallest RSA modulus accepted, in bits. */
export const MIN_RSA_BITS = 2048;

/** Curves accepted per key type: NIST P-256/384/521 and Ed25519 (Ed448 has no wide support). */
export const SUPPORTED_CURVES: Readonly<Record<string, readonly string[]>> = {
  EC: ['P-256', 'P-384', 'P-521'],
  OKP: ['Ed25519'],
};

/** Members only private (or symmetric) keys have (RFC 7518 §6.3.2, §6.4.1). */
export const PRIVATE_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Bit length of a big-endian unsigned integer (leading zero bytes ignored). */
export function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + Math.floor(Math.log2(bytes[i] as number)) + 1;
}

/** Why a JWK is not trusted, or undefined when its type, curve and strength are acceptable. */
export function keyStrengthProblem(jwk: Readonly<Record<string, unknown>>): KeyStrengthProblem | undefined {
  if (jwk.kty === 'oct') return 'symmetric_key';
  // A published private key is a leaked key: do not trust anything signed with it.
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) return 'private_key_material';
  if (jwk.kty === 'RSA') {
    if (typeof jwk.n !== 'string' || bitLength(Buffer.from(jwk.n, 'base64url')) < MIN_RSA_BITS)
      return 'rsa_modulus_too_small';
    // e = 1 makes every "signature" verify; small odd exponents invite other attacks. 65537 is universal.
    if (jwk.e !== 'AQAB') return 'rsa_exponent_not_65537';
    return undefined;
  }
  const curves = Object.hasOwn(SUPPORTED_CURVES, String(jwk.kty))
    ? SUPPORTED_CURVES[String(jwk.kty)]
    : undefined;
  if (curves === undefined) return 'kty_unsupported';
  if (!curves.includes(String(jwk.crv))) return 'curve_unsupported';
  return undefined;
}
