import { parseStrictJson } from '../json/strict-json.ts';
import type { Algorithm, IssuerConfig } from './config.ts';

/** Why a token is refused (401). Stable, documented reason codes. */
export type TokenProblem =
  | 'token_malformed'
  | 'json_duplicate_key'
  | 'header_crit'
  | 'header_key_reference'
  | 'typ_invalid'
  | 'alg_not_allowed'
  | 'kid_missing'
  | 'kid_unknown'
  | 'issuer_unknown'
  | 'signature_invalid'
  | 'audience_invalid'
  | 'client_id_invalid'
  | 'token_use_invalid'
  | 'exp_missing'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'iat_in_future'
  | 'lifetime_too_long'
  | 'sub_missing'
  | 'claim_invalid';

/** The header and payload of a token whose signature is not yet checked. Trust nothing here. */
export interface UnverifiedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

export type Check<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: TokenProblem };

/** One strict decoder for every segment: constructing a TextDecoder per call costs more than decoding. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Header members that point at key material chosen by the token's sender. */
const KEY_REFERENCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

function decodeSegment(segment: string): Record<string, unknown> | 'json_duplicate_key' | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  // Buffer.from skips characters outside the alphabet; re-encoding catches such leniency.
  if (bytes.toString('base64url') !== segment) return undefined;
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  const parsed = parseStrictJson(text, { maxDepth: 16 });
  if (!parsed.ok) return parsed.reason === 'json_duplicate_key' ? 'json_duplicate_key' : undefined;
  const value = parsed.value;
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Checks that run before the signature is verified (so that refusing costs nothing):
 * the JSON of header and payload has no duplicate members (two parsers could read two different
 * values), no `crit` (RFC 7515 §4.1.11: we understand no extension, so we must reject), no
 * sender-supplied key (`jku`, `x5u`, `jwk`, `x5c`: keys come only from the configured JWKS), the
 * required `typ`, a known issuer, and an algorithm that issuer allows.
 */
export function precheck(
  token: string,
  issuers: ReadonlyMap<string, IssuerConfig>,
  requiredTyp: string | undefined,
): Check<UnverifiedToken & { readonly issuer: IssuerConfig; readonly algorithm: Algorithm }> {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'token_malformed' };
  const header = decodeSegment(parts[0] as string);
  const payload = decodeSegment(parts[1] as string);
  if (header === 'json_duplicate_key' || payload === 'json_duplicate_key')
    return { ok: false, reason: 'json_duplicate_key' };
  if (header === undefined || payload === undefined) return { ok: false, reason: 'token_malformed' };
  if (Object.hasOwn(header, 'crit')) return { ok: false, reason: 'header_crit' };
  if (KEY_REFERENCE_HEADERS.some((name) => Object.hasOwn(header, name)))
    return { ok: false, reason: 'header_key_reference' };
  if (requiredTyp !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
    // RFC 9068 §2.1: "at+jwt", and the media type form "application/at+jwt", are the same.
    if (typ !== requiredTyp && typ !== `application/${requiredTyp}`)
      return { ok: false, reason: 'typ_invalid' };
  }
  if (typeof payload.iss !== 'string') return { ok: false, reason: 'issuer_unknown' };
  const issuer = issuers.get(payload.iss);
  if (issuer === undefined) return { ok: false, reason: 'issuer_unknown' };
  const alg = header.alg;
  if (typeof alg !== 'string' || !(issuer.algorithms as readonly string[]).includes(alg))
    return { ok: false, reason: 'alg_not_allowed' };
  if (typeof header.kid !== 'string' || header.kid === '') return { ok: false, reason: 'kid_missing' };
  return { ok: true, value: { header, payload, issuer, algorithm: alg as Algorithm } };
}

/**
 * Checks that run on the verified payload, beyond aws-jwt-verify's: `exp` is required, the lifetime
 * is bounded (`exp - iat`, or `exp - now` when there is no `iat`), `iat` is not in the future.
 */
export function postcheck(
  payload: Readonly<Record<string, unknown>>,
  nowSeconds: number,
  limits: { readonly clockSkewSeconds: number; readonly maxLifetimeSeconds: number },
): TokenProblem | undefined {
  const { exp, iat, nbf } = payload;
  if (exp === undefined) return 'exp_missing';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'claim_invalid';
  if (exp + limits.clockSkewSeconds <= nowSeconds) return 'token_expired';
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) return 'claim_invalid';
  if (typeof nbf === 'number' && nbf - limits.clockSkewSeconds > nowSeconds) return 'token_not_yet_valid';
  if (iat !== undefined) {
    if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'claim_invalid';
    if (iat - limits.clockSkewSeconds > nowSeconds) return 'iat_in_future';
    if (exp - iat > limits.maxLifetimeSeconds) return 'lifetime_too_long';
  } else if (exp - nowSeconds > limits.maxLifetimeSeconds) {
    return 'lifetime_too_long';
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') return 'sub_missing';
  return undefined;
}

/** Scopes from `scope` (space-separated string) or `scp` (array, or space-separated string). */
export function scopesOf(payload: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  addScopes(out, payload.scope);
  addScopes(out, payload.scp);
  return [...out];
}

// A module-level function rather than a closure made per call: this runs for every first-seen token.
function addScopes(out: Set<string>, value: unknown): void {
  if (typeof value === 'string') {
    for (const s of value.split(' ')) if (s !== '') out.add(s);
  } else if (Array.isArray(value)) {
    for (const s of value) if (typeof s === 'string' && s !== '' && !s.includes(' ')) out.add(s);
  }
}
