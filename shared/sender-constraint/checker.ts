/**
 * The sender-constraint step of the JWT authorizer: per issuer, the token's `cnf` and the scheme it
 * came with against what the request proves (a DPoP proof, a client certificate). The DPoP parts
 * (proof verifier, replay store, public URL rules) come in from outside, built only when an issuer
 * enables DPoP; without them every issuer is `off`, and only certificate bindings and DPoP-bound
 * tokens sent as bearer tokens are checked (docs/sender-constrained-tokens.md).
 */
import { clientCertificatePem } from '../mtls/certificate-binding.ts';
import {
  checkSenderConstraint,
  type PresentedToken,
  type SenderConstraintPolicy,
  type SenderConstraintResult,
} from './token-binding.ts';

/** Where the request was received and what it carried, as the authorizer event reports it. */
export interface SenderRequest {
  /** Upper-case request method. */
  readonly method: string;
  /** `requestContext.domainName`. */
  readonly domainName: string | undefined;
  /** `requestContext.stage`. */
  readonly stage: string | undefined;
  /** REST `path`, HTTP API payload 2.0 `rawPath`. */
  readonly path: string;
  /** Every `DPoP` header value. */
  readonly dpopProofs: readonly string[];
  /**
   * The authorizer event itself, for the mutual-TLS client certificate: read only by the checks
   * (`clientCertificatePem`), which a bearer token never loads (docs/performance.md#dpop).
   */
  readonly event: unknown;
}

/** Checks one verified token against one request. */
export interface SenderConstraintChecker {
  /**
   * Whether the check can change the outcome for a token of this issuer presented this way; when
   * false the token is a plain bearer token and {@link check} would answer `ok` with no binding.
   */
  needed(token: PresentedToken, issuer: string): boolean;
  /**
   * The check. Claims the DPoP proof in the replay store, so call it once per request.
   * @throws when the replay store cannot answer: a dependency failure (5xx), never an Allow
   */
  check(
    token: PresentedToken,
    request: SenderRequest,
    issuer: string,
    nowMs: number,
  ): Promise<SenderConstraintResult>;
}

/** Options of {@link createSenderConstraintChecker}. */
export interface SenderConstraintOptions {
  /** Issuers with DPoP `required` or `allowed`, with their verifier; every other issuer is `off`. */
  readonly dpop: ReadonlyMap<string, SenderConstraintPolicy>;
  /** The public URL of a request (DPOP_PUBLIC_URLS), undefined when no rule covers it. */
  readonly publicUrl: (request: SenderRequest) => string | undefined;
}

const OFF: SenderConstraintPolicy = { dpop: 'off' };

/** The checker for these issuers. */
export function createSenderConstraintChecker(options: SenderConstraintOptions): SenderConstraintChecker {
  const policyOf = (issuer: string) => options.dpop.get(issuer) ?? OFF;
  return {
    needed(token, issuer) {
      return token.scheme === 'DPoP' || token.cnf !== undefined || policyOf(issuer).dpop === 'required';
    },
    check(token, request, issuer, nowMs) {
      const policy = policyOf(issuer);
      return checkSenderConstraint(
        token,
        {
          method: request.method,
          // Derived only for a proof to check: it is the proof's `htu` that must equal it.
          publicUrl:
            token.scheme === 'DPoP' && policy.dpop !== 'off' ? options.publicUrl(request) : undefined,
          dpopProofs: request.dpopProofs,
          clientCertPem: clientCertificatePem(request.event),
        },
        policy,
        nowMs,
      );
    },
  };
}

/** The checker of a function in which no issuer enables DPoP (nothing of DPoP is loaded). */
export function withoutDpop(): SenderConstraintChecker {
  return createSenderConstraintChecker({ dpop: new Map(), publicUrl: () => undefined });
}
