/**
 * DPoP proof verification at a resource server (RFC 9449 §4.3 and §7.1), as a pure core: the
 * proof header values, the request's method and public URL, the access token and the thumbprint
 * the token is bound to go in; a verified proof or one specific refusal comes out. The replay check
 * is the one step with I/O, behind {@link ProofReplayStore}.
 *
 * Written on node:crypto rather than a JOSE library: the key comes from the proof itself (no JWKS),
 * the header must be parsed with our strict JSON (duplicate members, `__proto__`) before anything
 * reads it, and each check needs its own refusal code, which generic JWT verifiers do not give.
 */
import { constants, createHash, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { PROTOTYPE_KEYS, parseStrictJson } from '../json/strict-json.ts';
import { normalizeHttpUri } from './htu.ts';
import {
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  decodeBase64Url,
  importProofKey,
  type JwkProblem,
} from './jwk.ts';
import type { NonceAuthority } from './nonce.ts';
import type { ProofReplayStore } from './replay.ts';

/** Why a DPoP proof was refused. Stable codes, documented in docs/sender-constrained-tokens.md. */
export type DpopProofProblem =
  | 'dpop_proof_missing'
  | 'dpop_proof_multiple'
  | 'dpop_proof_too_large'
  | 'dpop_proof_malformed'
  | 'dpop_proof_duplicate_key'
  | 'dpop_typ_invalid'
  | 'dpop_alg_not_allowed'
  | 'dpop_crit_present'
  | JwkProblem
  | 'dpop_signature_invalid'
  | 'dpop_htm_mismatch'
  | 'dpop_htu_invalid'
  | 'dpop_htu_unmapped'
  | 'dpop_htu_mismatch'
  | 'dpop_iat_invalid'
  | 'dpop_iat_stale'
  | 'dpop_iat_future'
  | 'dpop_jti_invalid'
  | 'dpop_nonce_required'
  | 'dpop_nonce_invalid'
  | 'dpop_ath_missing'
  | 'dpop_ath_mismatch'
  | 'dpop_jkt_mismatch'
  | 'dpop_replayed';

/** What the verifier needs to know about one request. */
export interface DpopRequest {
  /** Every `DPoP` header value received (more than one is refused). */
  readonly proofs: readonly string[];
  /** The request method, upper-case as API Gateway reports it. */
  readonly method: string;
  /** The public URL of the request (see `publicRequestUrl`); undefined when no rule covers it. */
  readonly publicUrl: string | undefined;
  /** The access token from `Authorization: DPoP <token>`, exactly as sent. */
  readonly accessToken: string;
  /** The token's `cnf.jkt`: the thumbprint of the key the token is bound to. */
  readonly boundThumbprint: string;
}

/** A proof that passed every check. Carries nothing secret. */
export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key (equals the token's `cnf.jkt`). */
  readonly thumbprint: string;
  readonly jti: string;
  /** The normalised `htu`. */
  readonly htu: string;
  /** `iat`, epoch seconds. */
  readonly iat: number;
  /** Epoch milliseconds after which this proof is stale whatever happens. */
  readonly expiresAt: number;
}

export type ProofCheck =
  | { readonly ok: true; readonly proof: VerifiedProof }
  | { readonly ok: false; readonly reason: DpopProofProblem };

/** Options of {@link createDpopVerifier}; every one is required, a check is off only by an explicit `null`. */
export interface DpopVerifierOptions {
  /** Accepted `alg` values (a subset of {@link DPOP_ALGORITHMS}). */
  readonly algorithms: readonly DpopAlgorithm[];
  /** Oldest accepted `iat`, in seconds before now. */
  readonly iatWindowSeconds: number;
  /** Newest accepted `iat`, in seconds after now (clock differences with clients). */
  readonly clockSkewSeconds: number;
  /** Longest accepted proof (the whole compact JWS), in characters. */
  readonly maxProofLength: number;
  /** Longest accepted `jti`, in characters. */
  readonly maxJtiLength: number;
  /** Server nonces: proofs must carry a current one. `null` when nonces are not used. */
  readonly nonces: NonceAuthority | null;
  /** Where proofs are recorded so that each is accepted once. */
  readonly replay: ProofReplayStore;
}

/** Sensible defaults for the numeric options. */
export const DPOP_DEFAULTS = {
  algorithms: ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'],
  iatWindowSeconds: 60,
  clockSkewSeconds: 5,
  maxProofLength: 8192,
  maxJtiLength: 128,
} as const satisfies Partial<DpopVerifierOptions>;

/** Thrown at init for options that would weaken the checks. */
export class DpopConfigError extends Error {
  override readonly name = 'DpopConfigError';
}

/** Verifies DPoP proofs. */
export interface DpopVerifier {
  /** The accepted algorithms, for the `algs` challenge parameter. */
  readonly algorithms: readonly DpopAlgorithm[];
  /** Every check except replay: pure and synchronous. */
  verify(request: DpopRequest, nowMs: number): ProofCheck;
  /**
   * Every check, then the replay claim.
   * @throws ReplayStoreUnavailableError when the store cannot answer (fail: 5xx, never accept)
   */
  check(request: DpopRequest, nowMs: number): Promise<ProofCheck>;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const EC_SIGNATURE_BYTES: Readonly<Record<string, number>> = { ES256: 64, ES384: 96, ES512: 132 };

type Json = Record<string, unknown>;
type Decoded =
  | { readonly ok: true; readonly value: Json }
  | { readonly ok: false; readonly reason: DpopProofProblem };

function decodeSegment(segment: string, maxDepth: number): Decoded {
  const bytes = decodeBase64Url(segment);
  if (bytes === undefined) return { ok: false, reason: 'dpop_proof_malformed' };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, reason: 'dpop_proof_malformed' };
  }
  const parsed = parseStrictJson(text, { maxDepth, forbiddenKeys: PROTOTYPE_KEYS });
  if (!parsed.ok)
    return {
      ok: false,
      reason: parsed.reason === 'json_duplicate_key' ? 'dpop_proof_duplicate_key' : 'dpop_proof_malformed',
    };
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'dpop_proof_malformed' };
  return { ok: true, value: value as Json };
}

function signatureValid(alg: DpopAlgorithm, key: KeyObject, input: string, signature: Buffer): boolean {
  const data = Buffer.from(input, 'ascii');
  try {
    if (alg === 'EdDSA') return verify(null, data, key, signature);
    const hash = `sha${alg.slice(2)}`;
    if (alg.startsWith('ES')) {
      // JWS ECDSA signatures are fixed-length r || s (RFC 7518 §3.4), never DER.
      if (signature.length !== EC_SIGNATURE_BYTES[alg]) return false;
      return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (signature.length !== modulusBytes) return false;
    return verify(
      hash,
      data,
      alg.startsWith('PS')
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : { key, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    return false;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** base64url(SHA-256(token)): the `ath` a proof must carry (RFC 9449 §4.2; a token is ASCII, and UTF-8 keeps any other text collision-free). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

function checkOptions(options: DpopVerifierOptions): void {
  const problems: string[] = [];
  const bad = options.algorithms.filter((a) => !(DPOP_ALGORITHMS as readonly string[]).includes(a));
  // `none` and HS* are never accepted: a proof's key is public, so an HMAC "signature" proves nothing.
  if (options.algorithms.length === 0 || bad.length > 0)
    problems.push(`algorithms must be a non-empty subset of ${DPOP_ALGORITHMS.join(', ')}`);
  const int = (name: keyof DpopVerifierOptions, min: number, max: number) => {
    const v = options[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer between ${min} and ${max}`);
  };
  int('iatWindowSeconds', 1, 600);
  int('clockSkewSeconds', 0, 60);
  int('maxProofLength', 512, 16384);
  int('maxJtiLength', 16, 1024);
  if (problems.length > 0) throw new DpopConfigError(`invalid DPoP options: ${problems.join('; ')}`);
}

/** A proof header that passed every header check, with its imported key. */
interface CheckedHeader {
  readonly alg: DpopAlgorithm;
  readonly key: KeyObject;
  readonly thumbprint: string;
}

/** Distinct proof headers remembered per verifier (a client sends the same header on every proof). */
const HEADER_CACHE_SIZE = 1024;

/** A DPoP verifier. Throws {@link DpopConfigError} for options that would weaken it. */
export function createDpopVerifier(options: DpopVerifierOptions): DpopVerifier {
  checkOptions(options);
  const algorithms: readonly DpopAlgorithm[] = Object.freeze([...options.algorithms]);
  // A client signs every proof with one key, so its proofs share one header segment (typ, alg,
  // jwk): the checks and the key import (most of a proof's cost besides the signature) are done
  // once per distinct segment. Keyed by the exact base64url text, only headers that passed are
  // kept: the same text can only ever give the same answer. Bounded: a flood of distinct headers
  // costs the checks, never memory.
  const headers = new Map<string, CheckedHeader>();

  function checkHeader(
    segment: string,
  ): CheckedHeader | { readonly ok: false; readonly reason: DpopProofProblem } {
    const known = headers.get(segment);
    if (known !== undefined) return known;
    const header = decodeSegment(segment, 4);
    if (!header.ok) return header;
    const { typ, alg, crit, jwk } = header.value;
    if (typ !== 'dpop+jwt') return { ok: false, reason: 'dpop_typ_invalid' };
    if (typeof alg !== 'string' || !(algorithms as readonly string[]).includes(alg))
      return { ok: false, reason: 'dpop_alg_not_allowed' };
    // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand; we understand none.
    if (crit !== undefined) return { ok: false, reason: 'dpop_crit_present' };
    const key = importProofKey(jwk, alg as DpopAlgorithm);
    if (!key.ok) return key;
    const checked = { alg: alg as DpopAlgorithm, key: key.value.key, thumbprint: key.value.thumbprint };
    if (headers.size >= HEADER_CACHE_SIZE) headers.delete(headers.keys().next().value as string);
    headers.set(segment, checked);
    return checked;
  }

  function verifyProof(request: DpopRequest, nowMs: number): ProofCheck {
    if (request.proofs.length === 0) return { ok: false, reason: 'dpop_proof_missing' };
    if (request.proofs.length > 1) return { ok: false, reason: 'dpop_proof_multiple' };
    const proof = (request.proofs[0] as string).trim();
    if (proof === '') return { ok: false, reason: 'dpop_proof_missing' };
    if (proof.length > options.maxProofLength) return { ok: false, reason: 'dpop_proof_too_large' };
    if (!COMPACT_JWS.test(proof)) return { ok: false, reason: 'dpop_proof_malformed' };
    const [h, p, s] = proof.split('.') as [string, string, string];

    const header = checkHeader(h);
    if ('ok' in header) return header;
    const signature = decodeBase64Url(s);
    if (signature === undefined || !signatureValid(header.alg, header.key, `${h}.${p}`, signature))
      return { ok: false, reason: 'dpop_signature_invalid' };

    // Only now, with the signature checked, are the claims the key holder's.
    const payload = decodeSegment(p, 8);
    if (!payload.ok) return payload;
    const claims = payload.value;
    if (claims.htm !== request.method) return { ok: false, reason: 'dpop_htm_mismatch' };
    const htu = typeof claims.htu === 'string' ? normalizeHttpUri(claims.htu) : undefined;
    if (htu === undefined) return { ok: false, reason: 'dpop_htu_invalid' };
    if (request.publicUrl === undefined) return { ok: false, reason: 'dpop_htu_unmapped' };
    if (htu !== normalizeHttpUri(request.publicUrl)) return { ok: false, reason: 'dpop_htu_mismatch' };
    const iat = claims.iat;
    if (typeof iat !== 'number' || !Number.isFinite(iat) || iat < 0)
      return { ok: false, reason: 'dpop_iat_invalid' };
    const now = nowMs / 1000;
    if (iat < now - options.iatWindowSeconds) return { ok: false, reason: 'dpop_iat_stale' };
    if (iat > now + options.clockSkewSeconds) return { ok: false, reason: 'dpop_iat_future' };
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > options.maxJtiLength)
      return { ok: false, reason: 'dpop_jti_invalid' };
    if (options.nonces !== null) {
      if (typeof claims.nonce !== 'string' || claims.nonce === '')
        return { ok: false, reason: 'dpop_nonce_required' };
      if (!options.nonces.accepts(claims.nonce, nowMs)) return { ok: false, reason: 'dpop_nonce_invalid' };
    }
    if (claims.ath === undefined) return { ok: false, reason: 'dpop_ath_missing' };
    if (typeof claims.ath !== 'string' || !sameText(claims.ath, accessTokenHash(request.accessToken)))
      return { ok: false, reason: 'dpop_ath_mismatch' };
    if (!sameText(header.thumbprint, request.boundThumbprint))
      return { ok: false, reason: 'dpop_jkt_mismatch' };
    return {
      ok: true,
      proof: {
        thumbprint: header.thumbprint,
        jti,
        htu,
        iat,
        expiresAt: Math.ceil((iat + options.iatWindowSeconds) * 1000),
      },
    };
  }

  return {
    algorithms,
    verify: verifyProof,
    async check(request, nowMs) {
      const result = verifyProof(request, nowMs);
      if (!result.ok) return result;
      const claimed = await options.replay.claim(result.proof.jti, result.proof.htu, result.proof.expiresAt);
      return claimed === 'fresh' ? result : { ok: false, reason: 'dpop_replayed' };
    },
  };
}
