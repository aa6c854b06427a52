/**
 * Creates DPoP proofs (RFC 9449 §4.2) the way a client does: `typ` dpop+jwt, the public key in
 * `jwk`, `htm`, `htu` without query and fragment, `iat`, a random `jti`, and `ath` when the proof
 * goes with an access token. Used by `npm run dpop` and by the tests.
 */
import { randomUUID } from 'node:crypto';
import { accessTokenHash } from '../../shared/dpop/proof.ts';
import { signJwt } from '../issuer/sign.ts';
import type { DpopKey } from './dpop-key.ts';

/** What a proof is for. */
export interface ProofOptions {
  /** HTTP method, e.g. `GET`. */
  readonly method: string;
  /** The request URL; query and fragment are cut off. */
  readonly url: string;
  /** The access token the proof goes with (sets `ath`). */
  readonly accessToken?: string | undefined;
  /** A server nonce from a `DPoP-Nonce` header. */
  readonly nonce?: string | undefined;
  /** `iat` in epoch seconds; now by default. */
  readonly iat?: number | undefined;
  /** `jti`; a random UUID by default. */
  readonly jti?: string | undefined;
  /** Header members added or replaced (tests). */
  readonly header?: Readonly<Record<string, unknown>> | undefined;
  /** Claims added or replaced (tests); `undefined` values remove a claim. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

/** The URL as `htu`: without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/** A signed DPoP proof, ready for the `DPoP` header. */
export function createDpopProof(key: DpopKey, options: ProofOptions): string {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header };
  const claims: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.method,
    htu: htuOf(options.url),
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken === undefined ? {} : { ath: accessTokenHash(options.accessToken) }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  // Signed with the key's own algorithm even when a test overrides the header's `alg`.
  return signJwt(header, claims, key.privateKey, key.alg);
}
