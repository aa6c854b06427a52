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

/** A token that passed the prechecks: decoded once, with what the signature check needs. */
export interface PrecheckedToken extends UnverifiedToken {
  readonly issuer: IssuerConfig;
  readonly algorithm: Algorithm;
  readonly kid: string;
  /** Length of the signing input (`header.payload`), i.e. the position of the second dot. */
  readonly signingInputLength: number;
  /** The signature's bytes. */
  readonly signature: Buffer;
}

export type Check<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: TokenProblem };

/** One strict decoder for every segment: constructing a TextDecoder per call costs more than decoding. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Header members that point at key material chosen by the token's sender. */
const KEY_REFERENCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SEXTET = new Uint8Array(128);
for (let i = 0; i < 64; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;

/**
 * The bytes of a canonical unpadded base64url segment (RFC 4648 §5), or undefined: only alphabet
 * characters, a length a decoder accepts, and zero bits where the last character holds padding
 * (§3.5), so that no two strings decode to the same bytes. Node's decoder is lenient — it skips
 * characters outside the alphabet, stops at `=`, and takes `+` and `/` too — so it decodes first
 * and the result is checked: a skipped or stopping character leaves fewer bytes than the length
 * promises, and `+` / `/` are looked for with one native search each (cheaper than a regular
 * expression over the whole segment on every token).
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  const length = segment.length;
  const rest = length & 3;
  if (length === 0 || rest === 1) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.length !== (length * 3) >> 2 || segment.includes('+') || segment.includes('/')) return undefined;
  const last = SEXTET[segment.charCodeAt(length - 1)] as number;
  return (rest === 2 ? last & 0x0f : rest === 3 ? last & 0x03 : 0) === 0 ? bytes : undefined;
}

/** True when a segment is canonical unpadded base64url (see {@link decodeBase64url}). */
export function isCanonicalBase64url(segment: string): boolean {
  return decodeBase64url(segment) !== undefined;
}

function decodeSegment(segment: string): Record<string, unknown> | 'json_duplicate_key' | undefined {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) return undefined;
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

/** What a header segment decodes to, with the checks that depend on it alone. */
type HeaderCheck =
  | { readonly ok: true; readonly header: Record<string, unknown> }
  | { readonly ok: false; readonly reason: TokenProblem | 'malformed' };

/**
 * Decoded headers by their exact segment. An issuer signs every token with a handful of headers
 * (`alg`, `kid`, `typ`), so the segment repeats and is decoded and checked once. Bounded: when
 * full it starts over (a flood of distinct headers costs time, never memory).
 */
export class HeaderCache {
  readonly #entries = new Map<string, HeaderCheck>();
  readonly #capacity: number;

  constructor(capacity = 64) {
    this.#capacity = capacity;
  }

  check(segment: string, requiredTyp: string | undefined): HeaderCheck {
    const known = this.#entries.get(segment);
    if (known !== undefined) return known;
    const checked = checkHeader(segment, requiredTyp);
    if (this.#entries.size >= this.#capacity) this.#entries.clear();
    this.#entries.set(segment, checked);
    return checked;
  }
}

function checkHeader(segment: string, requiredTyp: string | undefined): HeaderCheck {
  const header = decodeSegment(segment);
  if (header === undefined) return { ok: false, reason: 'malformed' };
  if (header === 'json_duplicate_key') return { ok: false, reason: 'json_duplicate_key' };
  if (Object.hasOwn(header, 'crit')) return { ok: false, reason: 'header_crit' };
  if (KEY_REFERENCE_HEADERS.some((name) => Object.hasOwn(header, name)))
    return { ok: false, reason: 'header_key_reference' };
  if (requiredTyp !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
    // RFC 9068 §2.1: "at+jwt", and the media type form "application/at+jwt", are the same.
    if (typ !== requiredTyp && typ !== `application/${requiredTyp}`)
      return { ok: false, reason: 'typ_invalid' };
  }
  return { ok: true, header };
}

/**
 * The registered claims' types, as aws-jwt-verify asserts them when it decodes a token (`exp`,
 * `nbf`, `iat` finite numbers; `iss`, `sub`, `scope`, `jti` strings; `aud` a string or a list of
 * strings). The token is decoded once, here, so its checks are made here.
 */
function claimTypesValid(payload: Readonly<Record<string, unknown>>): boolean {
  const { exp, nbf, iat, sub, aud, scope, jti } = payload;
  return (
    (exp === undefined || Number.isFinite(exp)) &&
    (nbf === undefined || Number.isFinite(nbf)) &&
    (iat === undefined || Number.isFinite(iat)) &&
    (sub === undefined || typeof sub === 'string') &&
    (scope === undefined || typeof scope === 'string') &&
    (jti === undefined || typeof jti === 'string') &&
    (aud === undefined ||
      typeof aud === 'string' ||
      (Array.isArray(aud) && aud.every((a) => typeof a === 'string')))
  );
}

/**
 * Checks that run before the signature is verified (so that refusing costs nothing), decoding the
 * token once: the JSON of header and payload has no duplicate members (two parsers could read two
 * different values), no `crit` (RFC 7515 §4.1.11: we understand no extension, so we must reject), no
 * sender-supplied key (`jku`, `x5u`, `jwk`, `x5c`: keys come only from the configured JWKS), the
 * required `typ`, a known issuer, an algorithm that issuer allows, a `kid`, and well-typed
 * registered claims.
 */
export function precheck(
  token: string,
  issuers: ReadonlyMap<string, IssuerConfig>,
  requiredTyp: string | undefined,
  headers: HeaderCache = new HeaderCache(),
): Check<PrecheckedToken> {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) return { ok: false, reason: 'token_malformed' };
  const header = headers.check(token.slice(0, first), requiredTyp);
  const payload = decodeSegment(token.slice(first + 1, second));
  if ((!header.ok && header.reason === 'json_duplicate_key') || payload === 'json_duplicate_key')
    return { ok: false, reason: 'json_duplicate_key' };
  if ((!header.ok && header.reason === 'malformed') || payload === undefined)
    return { ok: false, reason: 'token_malformed' };
  if (!header.ok) return header as { ok: false; reason: TokenProblem };
  const h = header.header;
  if (typeof payload.iss !== 'string') return { ok: false, reason: 'issuer_unknown' };
  const issuer = issuers.get(payload.iss);
  if (issuer === undefined) return { ok: false, reason: 'issuer_unknown' };
  const alg = h.alg;
  if (typeof alg !== 'string' || !(issuer.algorithms as readonly string[]).includes(alg))
    return { ok: false, reason: 'alg_not_allowed' };
  const kid = h.kid;
  if (typeof kid !== 'string' || kid === '') return { ok: false, reason: 'kid_missing' };
  const signature = claimTypesValid(payload) ? decodeBase64url(token.slice(second + 1)) : undefined;
  if (signature === undefined) return { ok: false, reason: 'token_malformed' };
  return {
    ok: true,
    value: {
      header: h,
      payload,
      issuer,
      algorithm: alg as Algorithm,
      kid,
      signingInputLength: second,
      signature,
    },
  };
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
