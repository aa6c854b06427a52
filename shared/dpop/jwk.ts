/**
 * The public key a DPoP proof carries in its `jwk` header (RFC 9449 §4.2): checked by the rule set
 * the JWT authorizer holds JWKS keys to (shared/jwt/key-strength.ts: RSA ≥ 2048 bits with
 * e = 65537, P-256/P-384/P-521, Ed25519, no private or symmetric key), imported with node:crypto,
 * and identified by its RFC 7638 thumbprint.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bitLength, keyStrengthProblem } from '../jwt/key-strength.ts';

/** Signature algorithms a DPoP proof may use: asymmetric only (`none` and HS* never). */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** Why a proof's `jwk` was refused. */
export type JwkProblem =
  | 'dpop_jwk_missing'
  | 'dpop_jwk_invalid'
  | 'dpop_jwk_private'
  | 'dpop_jwk_weak'
  | 'dpop_jwk_alg_mismatch';

/** A proof key that passed every check. */
export interface ProofKey {
  readonly key: KeyObject;
  /** RFC 7638 SHA-256 thumbprint, base64url (what a bound token's `cnf.jkt` holds). */
  readonly thumbprint: string;
}

// A bound on verification cost: a 16k-bit key would make every refusal expensive for nothing.
const MAX_RSA_BITS = 8192;
/** Coordinate length in bytes per curve (which curves are accepted is key-strength.ts's rule). */
const COORDINATE_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const CURVE_FOR_ALG: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes canonical unpadded base64url; undefined for anything else (Buffer alone is lenient). */
export function decodeBase64Url(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !B64URL.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.toString('base64url') === value ? bytes : undefined;
}

type Checked =
  | { readonly ok: true; readonly members: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly reason: JwkProblem };

/** The key's required public members (RFC 7638 §3.2), after every shape and strength check. */
function checkMembers(jwk: Record<string, unknown>, alg: DpopAlgorithm): Checked {
  const strength = keyStrengthProblem(jwk);
  // A proof must never carry secret material (RFC 9449 §4.3): private members, or a symmetric key.
  if (strength === 'private_key_material' || strength === 'symmetric_key')
    return { ok: false, reason: 'dpop_jwk_private' };
  if (jwk.alg !== undefined && jwk.alg !== alg) return { ok: false, reason: 'dpop_jwk_alg_mismatch' };
  switch (jwk.kty) {
    case 'RSA': {
      if (!alg.startsWith('RS') && !alg.startsWith('PS'))
        return { ok: false, reason: 'dpop_jwk_alg_mismatch' };
      const n = decodeBase64Url(jwk.n);
      if (n === undefined || decodeBase64Url(jwk.e) === undefined)
        return { ok: false, reason: 'dpop_jwk_invalid' };
      if (bitLength(n) > MAX_RSA_BITS) return { ok: false, reason: 'dpop_jwk_invalid' };
      if (strength !== undefined) return { ok: false, reason: 'dpop_jwk_weak' };
      return { ok: true, members: { e: jwk.e as string, kty: 'RSA', n: jwk.n as string } };
    }
    case 'EC': {
      const size = COORDINATE_BYTES[String(jwk.crv)];
      if (strength !== undefined || size === undefined) return { ok: false, reason: 'dpop_jwk_invalid' };
      if (CURVE_FOR_ALG[alg] !== jwk.crv) return { ok: false, reason: 'dpop_jwk_alg_mismatch' };
      if (decodeBase64Url(jwk.x)?.length !== size || decodeBase64Url(jwk.y)?.length !== size)
        return { ok: false, reason: 'dpop_jwk_invalid' };
      return {
        ok: true,
        members: { crv: jwk.crv as string, kty: 'EC', x: jwk.x as string, y: jwk.y as string },
      };
    }
    case 'OKP': {
      if (strength !== undefined) return { ok: false, reason: 'dpop_jwk_invalid' };
      if (alg !== 'EdDSA') return { ok: false, reason: 'dpop_jwk_alg_mismatch' };
      if (decodeBase64Url(jwk.x)?.length !== 32) return { ok: false, reason: 'dpop_jwk_invalid' };
      return { ok: true, members: { crv: 'Ed25519', kty: 'OKP', x: jwk.x as string } };
    }
    default:
      return { ok: false, reason: 'dpop_jwk_invalid' };
  }
}

/**
 * The RFC 7638 thumbprint of public key members: the required members in lexicographic order,
 * serialised without whitespace, hashed with SHA-256, base64url-encoded.
 */
export function thumbprintOf(members: Readonly<Record<string, string>>): string {
  const ordered = Object.keys(members)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${JSON.stringify(members[name])}`)
    .join(',');
  return createHash('sha256').update(`{${ordered}}`).digest('base64url');
}

/**
 * The RFC 7638 thumbprint of a public JWK (RSA, EC or OKP), or undefined when the key lacks its
 * required members. Used by the tools to bind tokens to a key; proofs go through {@link importProofKey}.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const required: Readonly<Record<string, readonly string[]>> = {
    RSA: ['e', 'kty', 'n'],
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
  };
  const names = required[String(jwk.kty)];
  if (names === undefined || names.some((n) => typeof jwk[n] !== 'string')) return undefined;
  return thumbprintOf(Object.fromEntries(names.map((n) => [n, jwk[n] as string])));
}

/**
 * Checks the `jwk` header of a proof signed with `alg` and imports it. Only the required public
 * members reach node:crypto, so nothing else in the header can influence the key.
 */
export function importProofKey(
  jwk: unknown,
  alg: DpopAlgorithm,
): { readonly ok: true; readonly value: ProofKey } | { readonly ok: false; readonly reason: JwkProblem } {
  if (jwk === undefined) return { ok: false, reason: 'dpop_jwk_missing' };
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    return { ok: false, reason: 'dpop_jwk_invalid' };
  const checked = checkMembers(jwk as Record<string, unknown>, alg);
  if (!checked.ok) return checked;
  let key: KeyObject;
  try {
    // node:crypto refuses EC points that are not on the curve, so a valid-looking junk point fails here.
    key = createPublicKey({ key: { ...checked.members }, format: 'jwk' });
  } catch {
    return { ok: false, reason: 'dpop_jwk_invalid' };
  }
  return { ok: true, value: { key, thumbprint: thumbprintOf(checked.members) } };
}
