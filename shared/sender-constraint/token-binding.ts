/**
 * Whether a verified access token may be used by this sender: the token's confirmation claim
 * (`cnf`, RFC 7800) against what the request proves. `cnf.jkt` binds the token to a DPoP key
 * (RFC 9449 §6), `cnf["x5t#S256"]` to a client certificate (RFC 8705 §3). A token carrying a binding
 * is refused whenever the request does not prove it, whatever the issuer's DPoP setting; the
 * setting only decides whether unbound tokens may still come as plain `Bearer`.
 */
import { decodeBase64Url } from '../dpop/jwk.ts';
import type { DpopProofProblem, DpopVerifier } from '../dpop/proof.ts';
import { checkCertificateBinding, isCertificateThumbprint } from '../mtls/certificate-binding.ts';

/**
 * Per issuer: `required` refuses every token not presented with DPoP, `allowed` accepts DPoP and
 * (unbound) bearer tokens, `off` refuses the DPoP scheme. Bound tokens are checked in every mode.
 */
export type DpopMode = 'required' | 'allowed' | 'off';

/** Why a token was refused for this sender. Stable codes (docs/sender-constrained-tokens.md). */
export type SenderConstraintProblem =
  | DpopProofProblem
  | 'dpop_required'
  | 'dpop_not_enabled'
  | 'token_dpop_bound_as_bearer'
  | 'token_not_dpop_bound'
  | 'token_cnf_invalid'
  | 'token_cnf_unsupported'
  | 'mtls_certificate_missing'
  | 'mtls_certificate_malformed'
  | 'mtls_thumbprint_mismatch';

/** The token as verified, and how it was presented. */
export interface PresentedToken {
  /** The `Authorization` scheme it came with. */
  readonly scheme: 'Bearer' | 'DPoP';
  /** The token exactly as sent (for the proof's `ath`). */
  readonly token: string;
  /** The verified token's `cnf` claim, as found (undefined when absent). */
  readonly cnf: unknown;
}

/** What the request offers as proof of possession. */
export interface SenderEvidence {
  /** Upper-case request method. */
  readonly method: string;
  /** The request's public URL, or undefined when no rule maps it. */
  readonly publicUrl: string | undefined;
  /** Every `DPoP` header value. */
  readonly dpopProofs: readonly string[];
  /** The mutual-TLS client certificate API Gateway passed, if any. */
  readonly clientCertPem: string | undefined;
}

/** The issuer's DPoP setting, with the verifier it needs when DPoP is not off. */
export type SenderConstraintPolicy =
  | { readonly dpop: 'off' }
  | { readonly dpop: 'required' | 'allowed'; readonly verifier: DpopVerifier };

/** What the request proved, for the authorizer context (thumbprints are public values). */
export interface ProvenBinding {
  /** The DPoP key thumbprint, when the token was DPoP-bound. */
  readonly dpopJkt: string | undefined;
  /** The certificate thumbprint, when the token was certificate-bound. */
  readonly certificateThumbprint: string | undefined;
}

export type SenderConstraintResult =
  | { readonly ok: true; readonly binding: ProvenBinding }
  | { readonly ok: false; readonly reason: SenderConstraintProblem };

type Confirmation =
  | { readonly ok: true; readonly jkt: string | undefined; readonly x5t: string | undefined }
  | { readonly ok: false; readonly reason: 'token_cnf_invalid' | 'token_cnf_unsupported' };

/** The confirmation methods this resource server can check. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['jkt', 'x5t#S256']);

/** Reads `cnf`: absent is unbound; anything present must be a binding we check, well-formed. */
function readConfirmation(cnf: unknown): Confirmation {
  if (cnf === undefined) return { ok: true, jkt: undefined, x5t: undefined };
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
    return { ok: false, reason: 'token_cnf_invalid' };
  const record = cnf as Record<string, unknown>;
  // A binding we cannot check (RFC 7800 `jwk`, `kid`, `jku`, SHA-1 `x5t` ...) is refused: accepting
  // the token as a bearer token would drop the protection its issuer asked for.
  if (Object.keys(record).some((m) => !KNOWN_METHODS.has(m)))
    return { ok: false, reason: 'token_cnf_unsupported' };
  const jkt = record.jkt;
  const x5t = record['x5t#S256'];
  if (jkt !== undefined && decodeBase64Url(jkt)?.length !== 32)
    return { ok: false, reason: 'token_cnf_invalid' };
  if (x5t !== undefined && !isCertificateThumbprint(x5t)) return { ok: false, reason: 'token_cnf_invalid' };
  return { ok: true, jkt: jkt as string | undefined, x5t: x5t as string | undefined };
}

/**
 * Checks the token's bindings against the request. DPoP proofs are claimed in the replay store,
 * so call this once per request, after the token itself was verified.
 * @throws ReplayStoreUnavailableError when the replay store cannot answer (fail: 5xx)
 */
export async function checkSenderConstraint(
  token: PresentedToken,
  evidence: SenderEvidence,
  policy: SenderConstraintPolicy,
  nowMs: number,
): Promise<SenderConstraintResult> {
  const cnf = readConfirmation(token.cnf);
  if (!cnf.ok) return cnf;

  let dpopJkt: string | undefined;
  if (token.scheme === 'DPoP') {
    if (policy.dpop === 'off') return { ok: false, reason: 'dpop_not_enabled' };
    // RFC 9449 §7.1: the DPoP scheme is for DPoP-bound tokens only.
    if (cnf.jkt === undefined) return { ok: false, reason: 'token_not_dpop_bound' };
    const proof = await policy.verifier.check(
      {
        proofs: evidence.dpopProofs,
        method: evidence.method,
        publicUrl: evidence.publicUrl,
        accessToken: token.token,
        boundThumbprint: cnf.jkt,
      },
      nowMs,
    );
    if (!proof.ok) return proof;
    dpopJkt = proof.proof.thumbprint;
  } else {
    // A DPoP-bound token sent as a bearer token is a token someone may have stolen.
    if (cnf.jkt !== undefined) return { ok: false, reason: 'token_dpop_bound_as_bearer' };
    if (policy.dpop === 'required') return { ok: false, reason: 'dpop_required' };
  }

  let certificateThumbprint: string | undefined;
  if (cnf.x5t !== undefined) {
    const bound = checkCertificateBinding(evidence.clientCertPem, cnf.x5t);
    switch (bound.outcome) {
      case 'certificate_missing':
        return { ok: false, reason: 'mtls_certificate_missing' };
      case 'certificate_malformed':
        return { ok: false, reason: 'mtls_certificate_malformed' };
      case 'mismatch':
        return { ok: false, reason: 'mtls_thumbprint_mismatch' };
      case 'match':
        certificateThumbprint = bound.thumbprint;
    }
  }
  return { ok: true, binding: { dpopJkt, certificateThumbprint } };
}
